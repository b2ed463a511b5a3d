// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfmig_mlx5model: the mlx5 VF driver's logic (everything above struct
 * mlx5vf_fw_ops) bound to QEMU's pci-testdev (1b36:0005, only through
 * driver_override), with a software MODEL of the ConnectX firmware in
 * place of mlx5_core (fwmodel.c).  A test driver: it exists so that the
 * real driver's command sequences, stream, estimates and error handling
 * run on a real kernel without hardware.  It is not a device driver.
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "fwmodel.h"

static const struct mlx5vf_provider mlx5model_provider = {
	.fw_ops = &mlx5vf_model_fw_ops,
	.attach = mlx5vf_model_attach,
	.detach = mlx5vf_model_detach,
	.vf_id = mlx5vf_model_vf_id,
	.identity = mlx5vf_model_identity,
};

static int mlx5model_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct mlx5vf_fw *fw;
	int ret;

	ret = mlx5vf_pci_probe(pdev, &mlx5model_provider);
	if (ret)
		return ret;
	fw = mlx5vf_pci_fw(pdev);
	ret = fw ? mlx5vf_model_sysfs_add(fw) : -ENODEV;
	if (ret)
		mlx5vf_pci_remove(pdev);
	return ret;
}

static void mlx5model_remove(struct pci_dev *pdev)
{
	mlx5vf_model_sysfs_remove(mlx5vf_pci_fw(pdev));
	mlx5vf_pci_remove(pdev);
}

static const struct pci_device_id mlx5model_table[] = {
	/* QEMU's pci-testdev; only through driver_override */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_REDHAT, 0x0005) },
	{}
};
MODULE_DEVICE_TABLE(pci, mlx5model_table);

static struct pci_driver mlx5model_driver = {
	.name = KBUILD_MODNAME,
	.id_table = mlx5model_table,
	.probe = mlx5model_probe,
	.remove = mlx5model_remove,
	.err_handler = &mlx5vf_err_handlers,
	.driver_managed_dma = true,
};

static int __init mlx5model_init(void)
{
	return pci_register_driver(&mlx5model_driver);
}
module_init(mlx5model_init);

static void __exit mlx5model_exit(void)
{
	pci_unregister_driver(&mlx5model_driver);
	mlx5vf_model_exit();
}
module_exit(mlx5model_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("vfmig developers");
MODULE_DESCRIPTION("mlx5 VF migration driver on a software MODEL of the firmware, for tests (vfmig)");
