// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfmig_testdev: a vfio-pci variant driver for QEMU's pci-testdev
 * (1b36:0005), bound only through driver_override, whose migratable
 * device state is a software model in kernel memory.  It exists so that
 * every layer above the kernel can be tested without hardware.
 *
 * Reset.  pci-testdev has no reset method on QEMU's root bus, so
 * vfio-pci refuses VFIO_DEVICE_RESET and reset_done never runs.  The
 * engine's ioctl wrapper (vfmig_ioctl) therefore handles
 * VFIO_DEVICE_RESET itself for a function without a reset method (model
 * back to power-on, migration state RUNNING, data fds dropped), as the
 * mtty sample does, and passes it to vfio-pci for a function that has one;
 * reset_done then does the same for a real reset.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/vfio_pci_core.h>

#include "testdev.h"

static unsigned long state_size = 1 << 20;
module_param(state_size, ulong, 0444);
MODULE_PARM_DESC(state_size,
		 "Bytes of device state of a new device (4096 to 1 GiB, whole pages; default 1 MiB)");

/*
 * false: no vfio_migration/ directory, as with an upstream variant driver
 * that tells its migration features only to the VMM (through VFIO); the
 * test knobs (vfmig_testdev/) stay.
 */
static bool sysfs_abi = true;
module_param(sysfs_abi, bool, 0444);
MODULE_PARM_DESC(sysfs_abi,
		 "Publish the vfio_migration/ sysfs directory of each device (default true; false: only VFIO tells the features)");

static int tdev_init_dev(struct vfio_device *vdev)
{
	struct tdev_device *td = container_of(vdev, struct tdev_device,
					      vd.core.vdev);
	int ret;

	ret = vfio_pci_core_init_dev(vdev);
	if (ret)
		return ret;
	vfmig_init(&td->vd, &tdev_backend_ops, true);
	return 0;
}

static void tdev_release_dev(struct vfio_device *vdev)
{
	struct tdev_device *td = container_of(vdev, struct tdev_device,
					      vd.core.vdev);

	tdev_model_destroy(td);
	vfmig_release(&td->vd);
	vfio_pci_core_release_dev(vdev);
}

static int tdev_open_device(struct vfio_device *vdev)
{
	struct vfmig_device *vd = vfmig_from_vdev(vdev);
	int ret;

	ret = vfio_pci_core_enable(&vd->core);
	if (ret)
		return ret;
	vfmig_open(vd);
	vfio_pci_core_finish_enable(&vd->core);
	return 0;
}

static void tdev_close_device(struct vfio_device *vdev)
{
	vfmig_close(vfmig_from_vdev(vdev));
	vfio_pci_core_close_device(vdev);
}

static const struct vfio_device_ops tdev_ops = {
	.name = "vfmig-testdev",
	.init = tdev_init_dev,
	.release = tdev_release_dev,
	.open_device = tdev_open_device,
	.close_device = tdev_close_device,
	.ioctl = vfmig_ioctl,
	.device_feature = vfmig_device_feature,
	.read = vfio_pci_core_read,
	.write = vfio_pci_core_write,
	.mmap = vfio_pci_core_mmap,
	.request = vfio_pci_core_request,
	.match = vfio_pci_core_match,
	VFMIG_IOMMUFD_OPS
};

static int tdev_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct tdev_device *td;
	int ret;

	td = vfio_alloc_device(tdev_device, vd.core.vdev, &pdev->dev,
			       &tdev_ops);
	if (IS_ERR(td))
		return PTR_ERR(td);

	dev_set_drvdata(&pdev->dev, &td->vd.core);
	ret = tdev_model_init(td, state_size);
	if (ret)
		goto out_put;
	ret = vfio_pci_core_register_device(&td->vd.core);
	if (ret)
		goto out_put;
	if (sysfs_abi) {
		ret = vfmig_sysfs_add(&td->vd);
		if (ret)
			goto out_unregister;
	}
	ret = tdev_sysfs_add(td);
	if (ret)
		goto out_sysfs;
	return 0;

out_sysfs:
	if (sysfs_abi)
		vfmig_sysfs_remove(&td->vd);
out_unregister:
	vfio_pci_core_unregister_device(&td->vd.core);
out_put:
	vfio_put_device(&td->vd.core.vdev);
	return ret;
}

static void tdev_remove(struct pci_dev *pdev)
{
	struct tdev_device *td = tdev_from_vd(vfmig_from_pdev(pdev));

	tdev_sysfs_remove(td);
	if (sysfs_abi)
		vfmig_sysfs_remove(&td->vd);
	vfio_pci_core_unregister_device(&td->vd.core);
	vfio_put_device(&td->vd.core.vdev);
}

static const struct pci_device_id tdev_table[] = {
	/* QEMU's pci-testdev; only through driver_override */
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_REDHAT, 0x0005) },
	{}
};
MODULE_DEVICE_TABLE(pci, tdev_table);

static const struct pci_error_handlers tdev_err_handlers = {
	.reset_done = vfmig_pci_reset_done,
	.error_detected = vfio_pci_core_aer_err_detected,
};

static struct pci_driver tdev_driver = {
	.name = KBUILD_MODNAME,
	.id_table = tdev_table,
	.probe = tdev_probe,
	.remove = tdev_remove,
	.err_handler = &tdev_err_handlers,
	.driver_managed_dma = true,
};

static int __init tdev_module_init(void)
{
	if (state_size < TDEV_MIN_STATE || state_size > TDEV_MAX_STATE ||
	    state_size % TDEV_PAGE_SIZE) {
		pr_err("vfmig_testdev: state_size %lu is not 4096..1 GiB in whole pages\n",
		       state_size);
		return -EINVAL;
	}
	return pci_register_driver(&tdev_driver);
}
module_init(tdev_module_init);

static void __exit tdev_module_exit(void)
{
	pci_unregister_driver(&tdev_driver);
}
module_exit(tdev_module_exit);

VFMIG_IMPORT_IOVA_BITMAP()
MODULE_LICENSE("GPL");
MODULE_AUTHOR("vfmig developers");
MODULE_DESCRIPTION("VFIO variant driver with software migration state for QEMU's pci-testdev (vfmig)");
