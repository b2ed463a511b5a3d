// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfmig engine: the migration state machine and the vfio callbacks around
 * it.  Locking rules are in vfmig.h.
 *
 * Transitions walk our own FSM (vfio_mig_fsm.c) one arc at a time, on
 * every kernel: 6.1's vfio_mig_get_next_state() knows no PRE_COPY states
 * and both kernels' helpers WARN from ERROR.  An arc that fails leaves the
 * device in the state before it (as mlx5 and hisi_acc do), except an
 * injected "error-arc" fault, which enters ERROR.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/pci.h>
#include <linux/uaccess.h>

#include "vfio_mig_fsm.h"
#include "vfmig_file.h"

bool vfmig_state_is_running(u32 state)
{
	return state == VFIO_DEVICE_STATE_RUNNING ||
	       state == VFIO_DEVICE_STATE_RUNNING_P2P ||
	       state == VFIO_DEVICE_STATE_PRE_COPY ||
	       state == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

static bool vfmig_state_is_precopy(u32 state)
{
	return state == VFIO_DEVICE_STATE_PRE_COPY ||
	       state == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

/* state_mutex held. */
static bool vfmig_hold_active(struct vfmig_device *vd)
{
	if (vd->hold_armed && time_after_eq(jiffies, vd->hold_until)) {
		vd->hold_armed = false;
		vfmig_dbg(vd, "switchover hold: lease ended\n");
	}
	return vd->hold_armed;
}

void vfmig_hold_set(struct vfmig_device *vd, unsigned int ms)
{
	vd->hold_armed = ms > 0;
	vd->hold_until = jiffies + msecs_to_jiffies(ms);
	vfmig_dbg(vd, "switchover hold: %s%u ms in %s\n",
		  ms ? "lease of " : "released, ", ms,
		  vfmig_fsm_state_name(vd->mig_state));
}

unsigned int vfmig_hold_left_ms(struct vfmig_device *vd)
{
	if (!vfmig_hold_active(vd))
		return 0;
	/* a lease that ends within this jiffy still holds: at least 1 */
	return max(jiffies_to_msecs(vd->hold_until - jiffies), 1U);
}

static u32 vfmig_flags(struct vfmig_device *vd)
{
	u32 flags = VFIO_MIGRATION_STOP_COPY;

	if (vd->p2p)
		flags |= VFIO_MIGRATION_P2P;
	if (vd->precopy != VFMIG_PRECOPY_OFF)
		flags |= VFIO_MIGRATION_PRE_COPY;
	return flags;
}

/* Configuration changes reach the flags the core reports. */
static void vfmig_update_flags(struct vfmig_device *vd)
{
	vd->core.vdev.migration_flags = vfmig_flags(vd);
}

/* state_mutex held: detach both sessions, disabled, references kept. */
static void vfmig_take_sessions(struct vfmig_device *vd,
				struct vfmig_file **saving,
				struct vfmig_file **resuming)
{
	unsigned long flags;

	*saving = vd->saving;
	*resuming = vd->resuming;
	if (*saving) {
		vfmig_dbg(vd, "saving session closed in %s\n",
			  vfmig_fsm_state_name(vd->mig_state));
		spin_lock_irqsave(&vd->notify_lock, flags);
		vd->saving = NULL;
		spin_unlock_irqrestore(&vd->notify_lock, flags);
		vfmig_file_disable(*saving);
		vd->ops->save_close(vd);
	}
	if (*resuming) {
		vfmig_dbg(vd, "resuming session closed in %s\n",
			  vfmig_fsm_state_name(vd->mig_state));
		vd->resuming = NULL;
		vfmig_file_disable(*resuming);
		vd->ops->load_close(vd);
	}
}

static void vfmig_put_sessions(struct vfmig_file *saving,
			       struct vfmig_file *resuming)
{
	if (saving)
		fput(saving->filp);
	if (resuming)
		fput(resuming->filp);
}

/*
 * After state_mutex is dropped: wait for users still inside the fds (they
 * may touch vd until they drop io_lock), then drop the references.
 */
static void vfmig_end_sessions(struct vfmig_file *saving,
			       struct vfmig_file *resuming)
{
	if (saving)
		vfmig_file_flush(saving);
	if (resuming)
		vfmig_file_flush(resuming);
	vfmig_put_sessions(saving, resuming);
}

/* state_mutex held. */
static void vfmig_drop_sessions(struct vfmig_device *vd)
{
	struct vfmig_file *saving, *resuming;

	vfmig_take_sessions(vd, &saving, &resuming);
	vfmig_put_sessions(saving, resuming);
}

static struct file *vfmig_open_saving(struct vfmig_device *vd, u32 next)
{
	bool precopy = next != VFIO_DEVICE_STATE_STOP_COPY &&
		       vd->precopy == VFMIG_PRECOPY_ON;
	struct vfmig_file *migf;
	unsigned long flags;
	int ret;

	migf = vfmig_file_create(vd, true);
	if (IS_ERR(migf))
		return ERR_CAST(migf);
	ret = vd->ops->save_open(vd, precopy);
	if (ret) {
		vfmig_dbg(vd, "saving session for %s refused: %d\n",
			  vfmig_fsm_state_name(next), ret);
		vfmig_file_disable(migf);
		fput(migf->filp);
		fput(migf->filp);
		return ERR_PTR(ret);
	}
	migf->corrupt = vfmig_fault_take(vd, VFMIG_FAULT_CORRUPT,
					 &migf->corrupt_offset);
	spin_lock_irqsave(&vd->notify_lock, flags);
	vd->saving = migf;
	spin_unlock_irqrestore(&vd->notify_lock, flags);
	vfmig_dbg(vd, "saving session opened for %s (pre-copy images %s)\n",
		  vfmig_fsm_state_name(next), precopy ? "on" : "off");
	return migf->filp;
}

static struct file *vfmig_open_resuming(struct vfmig_device *vd)
{
	struct vfmig_file *migf;
	int ret;

	migf = vfmig_file_create(vd, false);
	if (IS_ERR(migf))
		return ERR_CAST(migf);
	ret = vd->ops->load_open(vd, vd->multi_load);
	if (ret) {
		vfmig_dbg(vd, "resuming session refused: %d\n", ret);
		vfmig_file_disable(migf);
		fput(migf->filp);
		fput(migf->filp);
		return ERR_PTR(ret);
	}
	vd->resuming = migf;
	vfmig_dbg(vd, "resuming session opened (multi-load %s)\n",
		  vd->multi_load ? "on" : "off");
	return migf->filp;
}

static u64 vfmig_us_since(ktime_t t0)
{
	return ktime_us_delta(ktime_get(), t0);
}

/* The P2P arcs: the device stops or starts initiating to its peers. */
static int vfmig_step_p2p(struct vfmig_device *vd, u32 cur, u32 next)
{
	bool to_p2p = (cur == VFIO_DEVICE_STATE_RUNNING &&
		       next == VFIO_DEVICE_STATE_RUNNING_P2P) ||
		      (cur == VFIO_DEVICE_STATE_PRE_COPY &&
		       next == VFIO_DEVICE_STATE_PRE_COPY_P2P);
	bool from_p2p = (cur == VFIO_DEVICE_STATE_RUNNING_P2P &&
			 next == VFIO_DEVICE_STATE_RUNNING) ||
			(cur == VFIO_DEVICE_STATE_PRE_COPY_P2P &&
			 next == VFIO_DEVICE_STATE_PRE_COPY);

	if (to_p2p && vd->ops->quiesce)
		return vd->ops->quiesce(vd);
	if (from_p2p && vd->ops->unquiesce)
		return vd->ops->unquiesce(vd);
	return 0;
}

/* One arc of the FSM, @cur -> @next.  state_mutex held. */
static struct file *vfmig_step(struct vfmig_device *vd, u32 cur, u32 next)
{
	ktime_t t0;
	int ret;

	switch (vfmig_fault_arc(vd, cur, next)) {
	case VFMIG_FAULT_FAIL_ARC:
		return ERR_PTR(-EIO);
	case VFMIG_FAULT_ERROR_ARC:
		vfmig_drop_sessions(vd);
		vd->mig_state = VFIO_DEVICE_STATE_ERROR;
		return ERR_PTR(-EIO);
	default:
		break;
	}

	if (cur == VFIO_DEVICE_STATE_RESUMING) {
		/* RESUMING -> STOP: the only way out of RESUMING */
		if (vfmig_fault_take(vd, VFMIG_FAULT_REFUSE_LOAD, NULL))
			return ERR_PTR(-EINVAL);
		ret = vd->ops->load_apply(vd);
		if (ret)
			return ERR_PTR(ret);
		vfmig_drop_sessions(vd);
		return NULL;
	}
	if (vfmig_fsm_state_is_saving(cur) && !vfmig_fsm_state_is_saving(next))
		vfmig_drop_sessions(vd);

	/* the VMM stops the device while held (a paused guest, or a VMM
	 * that did not ask MIG_DATA_SIZE): counted, the hold is not a lock */
	if (vfmig_state_is_precopy(cur) &&
	    next == VFIO_DEVICE_STATE_STOP_COPY && vfmig_hold_active(vd)) {
		vd->held_stops++;
		vfmig_dbg(vd, "switchover hold: %s -> STOP_COPY while held\n",
			  vfmig_fsm_state_name(cur));
	}

	if (vfmig_state_is_running(cur) && !vfmig_state_is_running(next)) {
		t0 = ktime_get();
		ret = vd->ops->stop(vd);
		if (ret)
			return ERR_PTR(ret);
		vd->stop_latency_us = vfmig_us_since(t0);
	} else if (!vfmig_state_is_running(cur) &&
		   vfmig_state_is_running(next)) {
		t0 = ktime_get();
		ret = vd->ops->start(vd);
		if (ret)
			return ERR_PTR(ret);
		vd->resume_latency_us = vfmig_us_since(t0);
	}

	ret = vfmig_step_p2p(vd, cur, next);
	if (ret)
		return ERR_PTR(ret);

	if (next == VFIO_DEVICE_STATE_RESUMING)
		return vfmig_open_resuming(vd);
	if (vfmig_fsm_state_is_saving(next) && !vfmig_fsm_state_is_saving(cur))
		return vfmig_open_saving(vd, next);
	return NULL;
}

static struct file *vfmig_set_state(struct vfio_device *vdev,
				    enum vfio_device_mig_state new_state)
{
	struct vfmig_device *vd = vfmig_from_vdev(vdev);
	enum vfmig_fsm_verdict verdict;
	struct file *res = NULL;
	u32 next;

	mutex_lock(&vd->state_mutex);
	/*
	 * Ask the FSM even when the device is in @new_state already: ERROR
	 * may never be requested, not even from ERROR.
	 */
	verdict = vfmig_fsm_next_state(vfmig_flags(vd), vd->mig_state,
				       new_state, &next);
	while (verdict == VFMIG_FSM_OK && vd->mig_state != new_state) {
		u32 cur = vd->mig_state;
		ktime_t t0 = ktime_get();

		res = vfmig_step(vd, cur, next);
		if (IS_ERR(res)) {
			vfmig_dbg(vd, "arc %s -> %s (to %s) failed after %llu us: %ld, now %s\n",
				  vfmig_fsm_state_name(cur),
				  vfmig_fsm_state_name(next),
				  vfmig_fsm_state_name(new_state),
				  vfmig_us_since(t0), PTR_ERR(res),
				  vfmig_fsm_state_name(vd->mig_state));
			break;
		}
		vfmig_dbg(vd, "arc %s -> %s (to %s) in %llu us%s\n",
			  vfmig_fsm_state_name(cur), vfmig_fsm_state_name(next),
			  vfmig_fsm_state_name(new_state), vfmig_us_since(t0),
			  res ? ", data fd session opened" : "");
		vd->mig_state = next;
		/* our FSM opens a session only on the last arc */
		if (WARN_ON(res && next != new_state)) {
			fput(res);
			res = ERR_PTR(-EINVAL);
			break;
		}
		verdict = vfmig_fsm_next_state(vfmig_flags(vd), vd->mig_state,
					       new_state, &next);
	}
	if (verdict != VFMIG_FSM_OK) {
		vfmig_dbg(vd, "%s -> %s refused: %s\n",
			  vfmig_fsm_state_name(vd->mig_state),
			  vfmig_fsm_state_name(new_state),
			  vfmig_fsm_verdict_name(verdict));
		res = ERR_PTR(vfmig_fsm_verdict_errno(verdict));
	}
	mutex_unlock(&vd->state_mutex);
	return res;
}

static int vfmig_get_state(struct vfio_device *vdev,
			   enum vfio_device_mig_state *state)
{
	struct vfmig_device *vd = vfmig_from_vdev(vdev);

	mutex_lock(&vd->state_mutex);
	*state = vd->mig_state;
	mutex_unlock(&vd->state_mutex);
	return 0;
}

int vfmig_data_size(struct vfmig_device *vd, u64 *len)
{
	if (vd->ops->data_size)
		return vd->ops->data_size(vd, len);
	*len = vfmig_stop_copy_bytes(vd);
	return 0;
}

static int vfmig_get_data_size(struct vfio_device *vdev,
			       unsigned long *stop_copy_length)
{
	struct vfmig_device *vd = vfmig_from_vdev(vdev);
	u64 len;
	int ret = 0;

	mutex_lock(&vd->state_mutex);
	ret = vfmig_data_size(vd, &len);
	/* no debug line: the VMM asks at every iteration */
	if (!ret && vfmig_state_is_precopy(vd->mig_state) &&
	    vfmig_hold_active(vd))
		len = max(len, VFMIG_HOLD_BYTES);
	mutex_unlock(&vd->state_mutex);
	if (!ret)
		*stop_copy_length = len;
	return ret;
}

static const struct vfio_migration_ops vfmig_mig_ops = {
	.migration_set_state = vfmig_set_state,
	.migration_get_state = vfmig_get_state,
#if VFMIG_HAVE_GET_DATA_SIZE_OP
	.migration_get_data_size = vfmig_get_data_size,
#endif
};

#if VFMIG_DRIVER_ANSWERS_DATA_SIZE
/* Linux 6.1: the core passes VFIO_DEVICE_FEATURE_MIG_DATA_SIZE to us. */
static int vfmig_feature_data_size(struct vfio_device *vdev, u32 flags,
				   void __user *arg, size_t argsz)
{
	struct vfio_device_feature_mig_data_size size = {};
	unsigned long len;
	int ret;

	ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET,
				 sizeof(size));
	if (ret != 1)
		return ret;
	ret = vfmig_get_data_size(vdev, &len);
	if (ret)
		return ret;
	size.stop_copy_length = len;
	return copy_to_user(arg, &size, sizeof(size)) ? -EFAULT : 0;
}
#endif

int vfmig_device_feature(struct vfio_device *vdev, u32 flags,
			 void __user *arg, size_t argsz)
{
#if VFMIG_DRIVER_ANSWERS_DATA_SIZE
	if ((flags & VFIO_DEVICE_FEATURE_MASK) ==
	    VFIO_DEVICE_FEATURE_MIG_DATA_SIZE)
		return vfmig_feature_data_size(vdev, flags, arg, argsz);
#endif
	return vfio_pci_core_ioctl_feature(vdev, flags, arg, argsz);
}

void vfmig_reset(struct vfmig_device *vd)
{
	mutex_lock(&vd->state_mutex);
	vfmig_dbg(vd, "reset in %s: sessions dropped, RUNNING\n",
		  vfmig_fsm_state_name(vd->mig_state));
	vd->resetting = true;
	vfmig_drop_sessions(vd);
	vd->resetting = false;
	vd->mig_state = VFIO_DEVICE_STATE_RUNNING;
	vd->ops->reset(vd);
	mutex_unlock(&vd->state_mutex);
}

/*
 * VFIO_DEVICE_RESET.  A function with a PCI reset method is reset by the
 * core, and reset_done (vfmig_pci_reset_done) brings the model and the
 * migration state back.  A function without one (QEMU's pci-testdev on
 * the root bus: no FLR, no PM, no bridge) makes the core fail with -EINVAL
 * and reset_done never runs, so the only way out of ERROR would be gone.
 * For those we handle the ioctl here, as the mtty sample does: the
 * device's state is software, and resetting it is resetting the model and
 * the migration state.  VFIO_DEVICE_GET_INFO then reports
 * VFIO_DEVICE_FLAGS_RESET so that users (QEMU) know it works.
 */
long vfmig_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg)
{
	struct vfmig_device *vd = vfmig_from_vdev(vdev);
	u32 __user *uflags;
	long ret;
	u32 flags;

	if (vd->core.reset_works)
		return vfio_pci_core_ioctl(vdev, cmd, arg);

	switch (cmd) {
	case VFIO_DEVICE_RESET:
		vfmig_reset(vd);
		return 0;
	case VFIO_DEVICE_GET_INFO:
		ret = vfio_pci_core_ioctl(vdev, cmd, arg);
		if (ret)
			return ret;
		uflags = (u32 __user *)(arg +
					offsetof(struct vfio_device_info, flags));
		if (get_user(flags, uflags) ||
		    put_user(flags | VFIO_DEVICE_FLAGS_RESET, uflags))
			return -EFAULT;
		return 0;
	default:
		return vfio_pci_core_ioctl(vdev, cmd, arg);
	}
}

void vfmig_pci_reset_done(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	if (core)
		vfmig_reset(container_of(core, struct vfmig_device, core));
}

void vfmig_detach(struct vfmig_device *vd,
		  void (*detach)(struct vfmig_device *vd))
{
	struct vfmig_file *saving = NULL, *resuming = NULL;

	mutex_lock(&vd->state_mutex);
	detach(vd);
	if (vd->mig_state != VFIO_DEVICE_STATE_RUNNING) {
		vfmig_dbg(vd, "detached in %s: sessions dropped, ERROR\n",
			  vfmig_fsm_state_name(vd->mig_state));
		vfmig_take_sessions(vd, &saving, &resuming);
		vd->mig_state = VFIO_DEVICE_STATE_ERROR;
	}
	mutex_unlock(&vd->state_mutex);
	vfmig_end_sessions(saving, resuming);
}

void vfmig_notify(struct vfmig_device *vd)
{
	unsigned long flags;

	spin_lock_irqsave(&vd->notify_lock, flags);
	if (vd->saving)
		wake_up_interruptible(&vd->saving->poll_wq);
	spin_unlock_irqrestore(&vd->notify_lock, flags);
}

void vfmig_open(struct vfmig_device *vd)
{
	mutex_lock(&vd->state_mutex);
	vd->mig_state = VFIO_DEVICE_STATE_RUNNING;
	vd->opened = true;
	vfmig_dbg(vd, "device opened, RUNNING\n");
	mutex_unlock(&vd->state_mutex);
}

void vfmig_close(struct vfmig_device *vd)
{
	struct vfmig_file *saving, *resuming;
	bool stopped;

	mutex_lock(&vd->state_mutex);
	vfmig_dbg(vd, "device closed in %s\n",
		  vfmig_fsm_state_name(vd->mig_state));
	vfmig_take_sessions(vd, &saving, &resuming);
	stopped = !vfmig_state_is_running(vd->mig_state);
	vd->mig_state = VFIO_DEVICE_STATE_RUNNING;
	vd->opened = false;
	/* a closed device runs; its state is kept (a loaded one included) */
	if (stopped && vd->ops->start(vd))
		pci_warn(vd->core.pdev, "vfmig: device did not restart\n");
	mutex_unlock(&vd->state_mutex);
	vfmig_end_sessions(saving, resuming);
	vfmig_log_reset(vd);
}

int vfmig_config_lock(struct vfmig_device *vd)
{
	mutex_lock(&vd->state_mutex);
	if (vd->opened) {
		mutex_unlock(&vd->state_mutex);
		return -EBUSY;
	}
	return 0;
}

void vfmig_config_unlock(struct vfmig_device *vd)
{
	vfmig_update_flags(vd);
	mutex_unlock(&vd->state_mutex);
}

void vfmig_set_p2p(struct vfmig_device *vd, bool p2p)
{
	vd->p2p = p2p;
}

void vfmig_init(struct vfmig_device *vd, const struct vfmig_backend_ops *ops,
		bool dma_logging)
{
	mutex_init(&vd->state_mutex);
	spin_lock_init(&vd->notify_lock);
	vd->ops = ops;
	vd->mig_state = VFIO_DEVICE_STATE_RUNNING;
	vd->p2p = true;
	vd->multi_load = true;
	vd->precopy = VFMIG_PRECOPY_ON;
	vfmig_log_init(vd);
	vd->core.vdev.mig_ops = &vfmig_mig_ops;
	vfmig_update_flags(vd);
#if VFMIG_HAVE_DMA_LOGGING
	vd->dma_logging = dma_logging;
	if (dma_logging)
		vd->core.vdev.log_ops = &vfmig_log_ops;
#endif
}

void vfmig_set_log_ops(struct vfmig_device *vd,
		       const struct vfio_log_ops *ops)
{
#if VFMIG_HAVE_DMA_LOGGING
	vd->dma_logging = true;
	vd->core.vdev.log_ops = ops;
#endif
}

void vfmig_release(struct vfmig_device *vd)
{
	vfmig_log_destroy(vd);
	mutex_destroy(&vd->state_mutex);
}
