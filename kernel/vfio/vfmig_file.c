// SPDX-License-Identifier: GPL-2.0-only
/*
 * The migration data fd: an anonymous-inode stream file, read while saving
 * and written while resuming.
 *
 * Saving.  The backend produces the stream synchronously into a bounce
 * buffer owned by the file (filled under state_mutex, copied to the user
 * under io_lock only), so a read never waits for the device:
 *  - in PRE_COPY and PRE_COPY_P2P, a read with nothing to send returns
 *    -ENOMSG (the temporary end of stream of the uAPI), blocking or not;
 *    poll() reports EPOLLIN again once the backend has new data and wakes
 *    the waiters through vfmig_notify();
 *  - in STOP_COPY data is always ready, and 0 is the permanent end.
 * VFIO_MIG_GET_PRECOPY_INFO is answered in the PRE_COPY states only.
 *
 * Every fd the engine returns carries a second reference held by the
 * driver.  Leaving the data state, a reset or close_device disables the
 * file (later reads, writes and ioctls fail with -ENODEV, pollers see
 * EPOLLHUP) and drops that reference; .release frees the rest.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vfmig_file.h"

#define VFMIG_BUF_SIZE	(64 * 1024)

static bool vfmig_in_precopy(struct vfmig_device *vd)
{
	return vd->mig_state == VFIO_DEVICE_STATE_PRE_COPY ||
	       vd->mig_state == VFIO_DEVICE_STATE_PRE_COPY_P2P;
}

u64 vfmig_file_unread(struct vfmig_file *migf, enum vfmig_data_kind kind)
{
	if (!migf || !migf->saving || migf->buf_kind != kind)
		return 0;
	return migf->buf_len - migf->buf_pos;
}

void vfmig_precopy_bytes(struct vfmig_device *vd, u64 *initial, u64 *dirty)
{
	struct vfmig_pending p;

	*initial = 0;
	*dirty = 0;
	if (!vd->saving || !vfmig_in_precopy(vd))
		return;
	vd->ops->save_pending(vd, &p);
	*initial = p.initial + vfmig_file_unread(vd->saving, VFMIG_DATA_INITIAL);
	*dirty = p.dirty + vfmig_file_unread(vd->saving, VFMIG_DATA_DIRTY);
}

/*
 * What a STOP_COPY would stream from now; *whole set when that is the
 * whole state and the residue is less (the device cannot say it yet).
 */
u64 vfmig_stop_copy_estimate(struct vfmig_device *vd, bool *whole)
{
	struct vfmig_pending p;
	u64 unread = 0;

	vd->ops->save_pending(vd, &p);
	if (vd->saving)
		unread = vd->saving->buf_len - vd->saving->buf_pos;
	*whole = p.stop_copy_whole;
	return p.stop_copy + unread;
}

u64 vfmig_stop_copy_bytes(struct vfmig_device *vd)
{
	bool whole;

	return vfmig_stop_copy_estimate(vd, &whole);
}

/*
 * io_lock held, file enabled.  Makes sure unread bytes are in the buffer.
 * Returns 0 when there are, 1 at the permanent end of stream, or -errno.
 */
static int vfmig_file_refill(struct vfmig_file *migf)
{
	struct vfmig_device *vd = migf->vd;
	enum vfmig_data_kind kind = VFMIG_DATA_FINAL;
	bool stopped;
	ssize_t n;
	int ret = 0;

	mutex_lock(&vd->state_mutex);
	if (migf->disabled) {
		ret = -ENODEV;
	} else if (migf->error) {
		ret = migf->error;
	} else if (migf->buf_pos < migf->buf_len) {
		ret = 0;
	} else if (migf->eof) {
		ret = 1;
	} else {
		stopped = vd->mig_state == VFIO_DEVICE_STATE_STOP_COPY;
		n = vd->ops->save_fill(vd, migf->buf, VFMIG_BUF_SIZE, stopped,
				       &kind);
		if (n < 0) {
			migf->error = n;
			ret = n;
		} else if (!n) {
			if (stopped) {
				migf->eof = true;
				ret = 1;
			} else {
				ret = -ENOMSG;
			}
		} else {
			migf->stream_pos += migf->buf_len;
			migf->buf_len = n;
			migf->buf_pos = 0;
			migf->buf_kind = kind;
			if (migf->corrupt &&
			    migf->corrupt_offset >= migf->stream_pos &&
			    migf->corrupt_offset < migf->stream_pos + n) {
				((u8 *)migf->buf)[migf->corrupt_offset -
						  migf->stream_pos] ^= 0xff;
				migf->corrupt = false;
			}
		}
	}
	mutex_unlock(&vd->state_mutex);
	return ret;
}

static ssize_t vfmig_file_read(struct file *filp, char __user *ubuf,
			       size_t len, loff_t *pos)
{
	struct vfmig_file *migf = filp->private_data;
	ssize_t done = 0;
	int ret = 0;

	if (pos)
		return -ESPIPE;
	if (!migf->saving)
		return -EINVAL;

	mutex_lock(&migf->io_lock);
	if (READ_ONCE(migf->disabled)) {
		ret = -ENODEV;
		goto out;
	}
	while (len) {
		size_t n;

		ret = vfmig_file_refill(migf);
		if (ret)
			break;
		/* buf_pos/buf_len only change under io_lock, which we hold */
		n = min(len, migf->buf_len - migf->buf_pos);
		if (copy_to_user(ubuf + done, migf->buf + migf->buf_pos, n)) {
			ret = -EFAULT;
			break;
		}
		mutex_lock(&migf->vd->state_mutex);
		migf->buf_pos += n;
		mutex_unlock(&migf->vd->state_mutex);
		done += n;
		len -= n;
	}
out:
	mutex_unlock(&migf->io_lock);
	if (done)
		return done;
	return ret == 1 ? 0 : ret;
}

static ssize_t vfmig_file_write(struct file *filp, const char __user *ubuf,
				size_t len, loff_t *pos)
{
	struct vfmig_file *migf = filp->private_data;
	struct vfmig_device *vd;
	ssize_t done = 0;
	int ret = 0;

	if (pos)
		return -ESPIPE;
	if (migf->saving)
		return -EINVAL;

	mutex_lock(&migf->io_lock);
	if (READ_ONCE(migf->disabled)) {
		ret = -ENODEV;
		goto out;
	}
	vd = migf->vd;
	while (len) {
		size_t n = min_t(size_t, len, VFMIG_BUF_SIZE);

		if (copy_from_user(migf->buf, ubuf + done, n)) {
			ret = -EFAULT;
			break;
		}
		mutex_lock(&vd->state_mutex);
		if (migf->disabled)
			ret = -ENODEV;
		else if (migf->error)
			ret = migf->error;
		else
			ret = vd->ops->load_write(vd, migf->buf, n);
		if (ret && ret != -ENODEV)
			migf->error = ret;
		mutex_unlock(&vd->state_mutex);
		if (ret)
			break;
		migf->stream_pos += n;
		done += n;
		len -= n;
	}
out:
	mutex_unlock(&migf->io_lock);
	return done ? done : ret;
}

static __poll_t vfmig_file_poll(struct file *filp, struct poll_table_struct *wait)
{
	struct vfmig_file *migf = filp->private_data;
	struct vfmig_device *vd;
	struct vfmig_pending p;
	__poll_t mask = 0;

	poll_wait(filp, &migf->poll_wq, wait);

	mutex_lock(&migf->io_lock);
	if (READ_ONCE(migf->disabled)) {
		mask = EPOLLHUP;
		goto out;
	}
	vd = migf->vd;
	mutex_lock(&vd->state_mutex);
	if (migf->disabled) {
		mask = EPOLLHUP;
	} else if (migf->error) {
		mask = EPOLLERR | EPOLLHUP;
	} else if (!migf->saving) {
		mask = EPOLLOUT | EPOLLWRNORM;
	} else if (migf->buf_pos < migf->buf_len || migf->eof ||
		   vd->mig_state == VFIO_DEVICE_STATE_STOP_COPY) {
		mask = EPOLLIN | EPOLLRDNORM;
	} else {
		vd->ops->save_pending(vd, &p);
		if (p.initial || p.dirty)
			mask = EPOLLIN | EPOLLRDNORM;
	}
	mutex_unlock(&vd->state_mutex);
out:
	mutex_unlock(&migf->io_lock);
	return mask;
}

static long vfmig_file_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long arg)
{
	struct vfmig_file *migf = filp->private_data;
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info;
	struct vfmig_device *vd;
	u64 initial, dirty;
	int ret = 0;

	/* VFIO_DEVICE_MIG_PRECOPY, the seed patch's name, is the same number */
	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&migf->io_lock);
	if (READ_ONCE(migf->disabled)) {
		ret = -ENODEV;
		goto out;
	}
	vd = migf->vd;
	mutex_lock(&vd->state_mutex);
	if (migf->disabled) {
		ret = -ENODEV;
	} else if (!migf->saving || !vfmig_in_precopy(vd)) {
		ret = -EINVAL;
	} else if (migf->error) {
		ret = migf->error;
	} else if (vd->ops->precopy_info) {
		/* the backend keeps its own error state */
		ret = vd->ops->precopy_info(vd, migf->stream_pos + migf->buf_pos,
					    &initial, &dirty);
	} else {
		vfmig_precopy_bytes(vd, &initial, &dirty);
	}
	if (!ret) {
		info.initial_bytes = initial;
		info.dirty_bytes = dirty;
	}
	mutex_unlock(&vd->state_mutex);
out:
	mutex_unlock(&migf->io_lock);
	if (ret)
		return ret;
	/* no output flags defined before VFIO_PRECOPY_INFO_REINIT (7.1) */
	info.flags = 0;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static int vfmig_file_release(struct inode *inode, struct file *filp)
{
	struct vfmig_file *migf = filp->private_data;

	/* ->vd may be gone by now: no device to name */
	pr_debug("vfmig: %s data fd released\n",
		 migf->saving ? "saving" : "resuming");
	kvfree(migf->buf);
	mutex_destroy(&migf->io_lock);
	kfree(migf);
	return 0;
}

static const struct file_operations vfmig_file_fops = {
	.owner = THIS_MODULE,
	.read = vfmig_file_read,
	.write = vfmig_file_write,
	.poll = vfmig_file_poll,
	.unlocked_ioctl = vfmig_file_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = vfmig_file_release,
};

struct vfmig_file *vfmig_file_create(struct vfmig_device *vd, bool saving)
{
	struct vfmig_file *migf;
	struct file *filp;

	migf = kzalloc(sizeof(*migf), GFP_KERNEL_ACCOUNT);
	if (!migf)
		return ERR_PTR(-ENOMEM);
	migf->buf = kvmalloc(VFMIG_BUF_SIZE, GFP_KERNEL_ACCOUNT);
	if (!migf->buf) {
		kfree(migf);
		return ERR_PTR(-ENOMEM);
	}
	migf->vd = vd;
	migf->saving = saving;
	mutex_init(&migf->io_lock);
	init_waitqueue_head(&migf->poll_wq);

	filp = anon_inode_getfile("[vfmig_mig]", &vfmig_file_fops, migf,
				  saving ? O_RDONLY : O_WRONLY);
	if (IS_ERR(filp)) {
		mutex_destroy(&migf->io_lock);
		kvfree(migf->buf);
		kfree(migf);
		return ERR_CAST(filp);
	}
	migf->filp = filp;
	stream_open(filp->f_inode, filp);
	/* the driver's own reference, dropped by vfmig_file_disable() */
	get_file(filp);
	return migf;
}

void vfmig_file_disable(struct vfmig_file *migf)
{
	WRITE_ONCE(migf->disabled, true);
	wake_up_interruptible_all(&migf->poll_wq);
}

void vfmig_file_flush(struct vfmig_file *migf)
{
	mutex_lock(&migf->io_lock);
	mutex_unlock(&migf->io_lock);
}
