// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5_vfio_pci: VFIO variant driver for NVIDIA/Mellanox ConnectX VFs
 * (ConnectX-6 Dx, ConnectX-7 and later: the mlx5Gen VF) with live
 * migration of the VF's state, PRE_COPY included, on Debian's 6.1 and
 * 6.12 kernels, whose own builds leave the upstream driver out.  The
 * stream is upstream's (Linux >= 6.3), so either host may run upstream's
 * driver.  Bound only through driver_override, like every vfio-pci
 * variant driver.  docs/kernel.rst has the details.
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "mlx5vf.h"

static int mlx5vf_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	return mlx5vf_pci_probe(pdev, &mlx5vf_core_provider);
}

static void mlx5vf_remove(struct pci_dev *pdev)
{
	mlx5vf_pci_remove(pdev);
}

static const struct pci_device_id mlx5vf_table[] = {
	/* ConnectX family mlx5Gen Virtual Function, as upstream binds */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_MELLANOX, 0x101e) },
	{}
};
MODULE_DEVICE_TABLE(pci, mlx5vf_table);

static struct pci_driver mlx5vf_driver = {
	.name = KBUILD_MODNAME,
	.id_table = mlx5vf_table,
	.probe = mlx5vf_probe,
	.remove = mlx5vf_remove,
	.err_handler = &mlx5vf_err_handlers,
	.driver_managed_dma = true,
};
module_pci_driver(mlx5vf_driver);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("vfmig developers");
MODULE_DESCRIPTION("VFIO variant driver with live migration for mlx5 VFs (vfmig)");
