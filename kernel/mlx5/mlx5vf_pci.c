// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5 VF migration: the vfio-pci variant device, shared by the real
 * driver (mlx5_vfio_pci.ko, main.c) and the firmware-model test driver
 * (vfmig_mlx5model.ko, model/model_main.c), which differ only in their
 * PCI id table and their firmware provider.
 *
 * Migration is offered only when the provider finds the firmware and the
 * capability probe (mlx5vf_cmd.c) allows it; otherwise the device is a
 * plain vfio-pci device (no migration ops, no vfio_migration/ directory),
 * as upstream's driver is then.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/vfio_pci_core.h>

#include "mlx5vf.h"

static int mlx5vf_init_dev(struct vfio_device *vdev)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vfmig_from_vdev(vdev));
	int ret;

	ret = vfio_pci_core_init_dev(vdev);
	if (ret)
		return ret;
	/* the engine's log ops are not ours: mlx5vf_track_setup() */
	vfmig_init(&mvd->vd, &mlx5vf_backend_ops, false);
	mlx5vf_save_init(mvd);
	mlx5vf_track_init(mvd);
	return 0;
}

static void mlx5vf_release_dev(struct vfio_device *vdev)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vfmig_from_vdev(vdev));

	vfmig_release(&mvd->vd);
	vfio_pci_core_release_dev(vdev);
}

static int mlx5vf_open_device(struct vfio_device *vdev)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vfmig_from_vdev(vdev));
	int ret;

	ret = vfio_pci_core_enable(&mvd->vd.core);
	if (ret)
		return ret;
	if (mvd->migrate_cap)
		vfmig_open(&mvd->vd);
	vfio_pci_core_finish_enable(&mvd->vd.core);
	return 0;
}

static void mlx5vf_close_device(struct vfio_device *vdev)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vfmig_from_vdev(vdev));

	if (mvd->migrate_cap) {
		mlx5vf_track_stop(mvd);
		vfmig_close(&mvd->vd);
		mlx5vf_close_resume(mvd);
	}
	vfio_pci_core_close_device(vdev);
}

static long mlx5vf_ioctl(struct vfio_device *vdev, unsigned int cmd,
			 unsigned long arg)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vfmig_from_vdev(vdev));

	if (mvd->migrate_cap)
		return vfmig_ioctl(vdev, cmd, arg);
	return vfio_pci_core_ioctl(vdev, cmd, arg);
}

static int mlx5vf_device_feature(struct vfio_device *vdev, u32 flags,
				 void __user *arg, size_t argsz)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vfmig_from_vdev(vdev));

	if (mvd->migrate_cap)
		return vfmig_device_feature(vdev, flags, arg, argsz);
	return vfio_pci_core_ioctl_feature(vdev, flags, arg, argsz);
}

static const struct vfio_device_ops mlx5vf_ops = {
	.name = "mlx5-vfio-pci",
	.init = mlx5vf_init_dev,
	.release = mlx5vf_release_dev,
	.open_device = mlx5vf_open_device,
	.close_device = mlx5vf_close_device,
	.ioctl = mlx5vf_ioctl,
	.device_feature = mlx5vf_device_feature,
	.read = vfio_pci_core_read,
	.write = vfio_pci_core_write,
	.mmap = vfio_pci_core_mmap,
	.request = vfio_pci_core_request,
	.match = vfio_pci_core_match,
	VFMIG_IOMMUFD_OPS
};

/* Firmware, VF index, capabilities, the PF's events: may it migrate? */
static int mlx5vf_setup_migration(struct mlx5vf_device *mvd,
				  const struct mlx5vf_provider *prov)
{
	struct pci_dev *pdev = mvd->vd.core.pdev;
	struct mlx5vf_fw *fw;
	int ret;

	fw = prov->attach(pdev);
	if (IS_ERR(fw))
		return PTR_ERR(fw);
	if (!fw) {
		pci_info(pdev, "mlx5: no migration: the PF is not bound to mlx5_core\n");
		return 0;
	}
	mvd->fw = fw;
	mvd->fw_ops = prov->fw_ops;
	mvd->prov = prov;
	ret = prov->vf_id(fw, pdev);
	if (ret < 0)
		goto err;
	mvd->vf_id = ret;
	ret = mlx5vf_cmd_probe(mvd);
	if (ret)
		goto err;
	/* a VF that may not migrate keeps its firmware for the model's knobs */
	if (!mvd->migrate_cap)
		return 0;
	mvd->nb.notifier_call = mlx5vf_pf_event;
	ret = mvd->fw_ops->notifier_register(fw, mvd->vf_id, &mvd->nb);
	if (ret) {
		mvd->migrate_cap = false;
		goto err;
	}
	if (prov->identity)
		prov->identity(fw, mvd->fw_id, sizeof(mvd->fw_id));
	return 0;

err:
	prov->detach(fw);
	mvd->fw = NULL;
	return ret;
}

static void mlx5vf_teardown_migration(struct mlx5vf_device *mvd)
{
	if (!mvd->fw)
		return;
	if (mvd->migrate_cap)
		mvd->fw_ops->notifier_unregister(mvd->fw, mvd->vf_id, &mvd->nb);
	mvd->fw_ops->flush(mvd->fw);
	mvd->prov->detach(mvd->fw);
	mvd->fw = NULL;
}

int mlx5vf_pci_probe(struct pci_dev *pdev, const struct mlx5vf_provider *prov)
{
	struct mlx5vf_device *mvd;
	int ret;

	mvd = vfio_alloc_device(mlx5vf_device, vd.core.vdev, &pdev->dev,
				&mlx5vf_ops);
	if (IS_ERR(mvd))
		return PTR_ERR(mvd);
	dev_set_drvdata(&pdev->dev, &mvd->vd.core);

	ret = mlx5vf_setup_migration(mvd, prov);
	if (ret)
		goto out_put;
	if (!mvd->migrate_cap) {
		mvd->vd.core.vdev.mig_ops = NULL;
		mvd->vd.core.vdev.migration_flags = 0;
	} else {
		mlx5vf_track_setup(mvd);
	}
	ret = vfio_pci_core_register_device(&mvd->vd.core);
	if (ret)
		goto out_teardown;
	if (mvd->migrate_cap) {
		ret = vfmig_sysfs_add(&mvd->vd);
		if (ret)
			goto out_unregister;
	}
	return 0;

out_unregister:
	vfio_pci_core_unregister_device(&mvd->vd.core);
out_teardown:
	mlx5vf_teardown_migration(mvd);
out_put:
	vfio_put_device(&mvd->vd.core.vdev);
	return ret;
}

void mlx5vf_pci_remove(struct pci_dev *pdev)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vfmig_from_pdev(pdev));

	if (mvd->migrate_cap)
		vfmig_sysfs_remove(&mvd->vd);
	vfio_pci_core_unregister_device(&mvd->vd.core);
	mlx5vf_teardown_migration(mvd);
	vfio_put_device(&mvd->vd.core.vdev);
}

struct mlx5vf_fw *mlx5vf_pci_fw(struct pci_dev *pdev)
{
	return mlx5vf_from_vd(vfmig_from_pdev(pdev))->fw;
}

static void mlx5vf_reset_done(struct pci_dev *pdev)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vfmig_from_pdev(pdev));

	if (mvd->migrate_cap)
		vfmig_pci_reset_done(pdev);
}

const struct pci_error_handlers mlx5vf_err_handlers = {
	.reset_done = mlx5vf_reset_done,
	.error_detected = vfio_pci_core_aer_err_detected,
};
