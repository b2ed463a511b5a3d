// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5 VF migration: the function's side of each FSM arc, and the PF's
 * SR-IOV events.  The engine (kernel/vfio) walks the FSM and calls:
 *
 *   RUNNING -> RUNNING_P2P, PRE_COPY -> PRE_COPY_P2P   quiesce:
 *	SUSPEND_VHCA(INITIATOR), after any SAVE in flight
 *   RUNNING_P2P -> RUNNING, PRE_COPY_P2P -> PRE_COPY   unquiesce:
 *	RESUME_VHCA(INITIATOR)
 *   RUNNING_P2P -> STOP, PRE_COPY_P2P -> STOP_COPY     stop:
 *	SUSPEND_VHCA(RESPONDER), then in PRE_COPY_P2P the final SAVE
 *   STOP -> RUNNING_P2P                               start:
 *	RESUME_VHCA(RESPONDER)
 *   RUNNING -> PRE_COPY, STOP -> STOP_COPY, ...        mlx5vf_save.c
 *   STOP -> RESUMING -> STOP                          mlx5vf_load.c
 *
 * A reset sends no command: an FLR resets the function in the device;
 * the driver forgets its sessions and what it told the firmware.  The
 * engine takes state_mutex in reset_done directly (it never holds it
 * across a user copy), which is what upstream's deferred reset protects.
 */
#include <linux/pci.h>

#include "mlx5vf.h"

static int mlx5vf_quiesce(struct vfmig_device *vd)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	int ret;

	/* a SAVE racing SUSPEND may fail to set tracking: wait for it */
	mlx5vf_save_wait(mvd);
	ret = mlx5vf_cmd_suspend(mvd, VFMIG_SUSPEND_OP_MOD_INITIATOR);
	if (ret)
		return mlx5vf_errno(ret);
	mvd->vhca_run = MLX5VF_VHCA_INITIATOR_SUSPENDED;
	return 0;
}

static int mlx5vf_unquiesce(struct vfmig_device *vd)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	int ret;

	ret = mlx5vf_cmd_resume(mvd, VFMIG_RESUME_OP_MOD_INITIATOR);
	if (ret)
		return mlx5vf_errno(ret);
	mvd->vhca_run = MLX5VF_VHCA_RUNNING;
	return 0;
}

static int mlx5vf_stop(struct vfmig_device *vd)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	int ret;

	mlx5vf_save_wait(mvd);
	ret = mlx5vf_cmd_suspend(mvd, VFMIG_SUSPEND_OP_MOD_RESPONDER);
	if (ret)
		return mlx5vf_errno(ret);
	mvd->vhca_run = MLX5VF_VHCA_SUSPENDED;
	mlx5vf_save_final(mvd);
	return 0;
}

/* Also called for a stopped device being closed. */
static int mlx5vf_start(struct vfmig_device *vd)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);
	int ret;

	if (mvd->vhca_run != MLX5VF_VHCA_SUSPENDED)
		return 0;
	ret = mlx5vf_cmd_resume(mvd, VFMIG_RESUME_OP_MOD_RESPONDER);
	if (ret)
		return mlx5vf_errno(ret);
	mvd->vhca_run = MLX5VF_VHCA_INITIATOR_SUSPENDED;
	return 0;
}

/* close_device: a function left suspended as an initiator runs again. */
void mlx5vf_close_resume(struct mlx5vf_device *mvd)
{
	mutex_lock(&mvd->vd.state_mutex);
	if (mvd->vhca_run == MLX5VF_VHCA_INITIATOR_SUSPENDED &&
	    !READ_ONCE(mvd->mdev_detach) &&
	    !mlx5vf_cmd_resume(mvd, VFMIG_RESUME_OP_MOD_INITIATOR))
		mvd->vhca_run = MLX5VF_VHCA_RUNNING;
	mutex_unlock(&mvd->vd.state_mutex);
}

static void mlx5vf_reset(struct vfmig_device *vd)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);

	mlx5vf_save_abandon(mvd);
	mvd->vhca_run = MLX5VF_VHCA_RUNNING;
	if (mvd->fw_ops->function_reset && !READ_ONCE(mvd->mdev_detach))
		mvd->fw_ops->function_reset(mvd->fw);
}

static ssize_t mlx5vf_firmware(struct vfmig_device *vd, char *buf)
{
	return sysfs_emit(buf, "%s\n", mlx5vf_from_vd(vd)->fw_id);
}

/*
 * The PF disables the VF (sriov_numvfs, PF unload or reload: devlink
 * reload, firmware reset, health recovery) or enables it again.  Before
 * the VF's function goes away, a migration in progress is torn down: the
 * data fds end, the device goes to ERROR (its user resets it, as QEMU
 * does after a failed transition), and every command until the enable
 * fails with -ENOTCONN without reaching the firmware.  A device that was
 * not migrating stays RUNNING.
 */
int mlx5vf_pf_event(struct notifier_block *nb, unsigned long event, void *data)
{
	struct mlx5vf_device *mvd = container_of(nb, struct mlx5vf_device, nb);

	switch (event) {
	case MLX5VF_PF_NOTIFY_DISABLE_VF:
		pci_info(mvd->vd.core.pdev,
			 "mlx5: the PF disables this VF: migration torn down\n");
		mlx5vf_track_detach(mvd);
		vfmig_detach(&mvd->vd, mlx5vf_detach_locked);
		break;
	case MLX5VF_PF_NOTIFY_ENABLE_VF:
		mutex_lock(&mvd->vd.state_mutex);
		WRITE_ONCE(mvd->mdev_detach, false);
		mvd->vhca_run = MLX5VF_VHCA_RUNNING;
		mutex_unlock(&mvd->vd.state_mutex);
		pci_info(mvd->vd.core.pdev, "mlx5: the PF enabled this VF again\n");
		break;
	default:
		break;
	}
	return NOTIFY_OK;
}

void mlx5vf_detach_locked(struct vfmig_device *vd)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vd);

	mlx5vf_save_abandon(mvd);
	WRITE_ONCE(mvd->mdev_detach, true);
}

const struct vfmig_backend_ops mlx5vf_backend_ops = {
	.stop = mlx5vf_stop,
	.start = mlx5vf_start,
	.quiesce = mlx5vf_quiesce,
	.unquiesce = mlx5vf_unquiesce,
	.save_open = mlx5vf_save_open,
	.save_fill = mlx5vf_save_fill,
	.save_pending = mlx5vf_save_pending,
	.precopy_info = mlx5vf_precopy_info,
	.data_size = mlx5vf_data_size,
	.save_close = mlx5vf_save_close,
	.load_open = mlx5vf_load_open,
	.load_write = mlx5vf_load_write,
	.load_apply = mlx5vf_load_apply,
	.load_close = mlx5vf_load_close,
	.reset = mlx5vf_reset,
	.stream_version = 1,
	.firmware = mlx5vf_firmware,
};
