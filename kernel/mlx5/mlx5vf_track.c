// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5 VF migration: DMA dirty-page tracking (struct vfio_log_ops).
 *
 * The PF's firmware tracks the pages the VF writes by DMA in a PAGE_TRACK
 * object and reports them as messages on a channel (the fw ops' track_*):
 *
 *   log_start           the requested ranges merged to the firmware's
 *                       maximum, the page size clamped to its range, the
 *                       address space checked against it (-EOPNOTSUPP),
 *                       the channel opened, the object created
 *   log_read_and_clear  MODIFY to REPORTING for the range, then every
 *                       message's pages into the iova bitmap until a
 *                       message says the state left REPORTING: TRACKING
 *                       ends the report, ERROR fails it (-EIO)
 *   log_stop            the object destroyed, the channel closed
 *
 * A report never hangs: a channel error, an OBJECT_CHANGE to ERROR, the
 * PF disabling the VF, or no message for MLX5VF_TRACK_MSG_TIMEOUT end it
 * with an error that stays until log_stop, so the VMM fails its migration
 * and the source runs on.  Offered only where the kernel can report
 * (vfmig_compat.h): Debian's 6.1.  On 6.12 the probe says why not.
 */
#include <linux/interval_tree.h>
#include <linux/iova_bitmap.h>
#include <linux/log2.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "mlx5vf.h"

/* The receive buffers: at least this much, at least 4 messages. */
#define MLX5VF_TRACK_RQ_BYTES		SZ_2M
/* The largest message buffer we take (a 2 MiB contiguous allocation). */
#define MLX5VF_TRACK_MAX_LOG_MSG	21
/* The longest a report may wait for its next message. */
#define MLX5VF_TRACK_MSG_TIMEOUT	(10 * HZ)

void mlx5vf_track_init(struct mlx5vf_device *mvd)
{
	struct mlx5vf_tracker *trk = &mvd->trk;

	mutex_init(&trk->lock);
	init_waitqueue_head(&trk->wq);
	atomic_set(&trk->kicks, 0);
	atomic_set(&trk->obj_changed, 0);
}

/* trk->lock held: object and channel gone, a new start possible. */
static void mlx5vf_track_teardown(struct mlx5vf_device *mvd)
{
	struct mlx5vf_tracker *trk = &mvd->trk;

	if (!trk->active)
		return;
	/* a detached VF's object went with it: no command */
	if (!READ_ONCE(mvd->mdev_detach))
		mlx5vf_cmd_track_destroy(mvd, trk->obj_id);
	mvd->fw_ops->track_close(trk->chan);
	trk->chan = NULL;
	trk->active = false;
	WRITE_ONCE(trk->obj_id, 0);
	mlx5vf_dbg(mvd, "dirty tracking stopped: %llu reports, %llu messages, %llu pages\n",
		   trk->reports, trk->msgs, trk->pages);
}

void mlx5vf_track_stop(struct mlx5vf_device *mvd)
{
	struct mlx5vf_tracker *trk = &mvd->trk;

	if (!trk->offered)
		return;
	mutex_lock(&trk->lock);
	mlx5vf_track_teardown(mvd);
	WRITE_ONCE(trk->err, 0);
	mutex_unlock(&trk->lock);
}

/*
 * Before the VF's function goes away: a report waiting for a message ends
 * with -ENOTCONN, then the object and channel are freed while the PF
 * still takes commands for it.  QEMU's log_stop finds nothing to do.
 */
void mlx5vf_track_detach(struct mlx5vf_device *mvd)
{
	struct mlx5vf_tracker *trk = &mvd->trk;

	if (!trk->offered)
		return;
	cmpxchg(&trk->err, 0, -ENOTCONN);
	wake_up(&trk->wq);
	mutex_lock(&trk->lock);
	if (trk->active)
		mlx5vf_dbg(mvd, "the PF disables the VF: dirty tracking ends\n");
	mlx5vf_track_teardown(mvd);
	mutex_unlock(&trk->lock);
}

/* Caps a tracker can be built from: at probe and at each log start. */
static bool mlx5vf_track_caps_usable(const struct mlx5vf_track_caps *c)
{
	return c->max_num_range &&
	       c->log_min_addr_space <= c->log_max_addr_space &&
	       c->log_min_page_size <= c->log_max_page_size &&
	       c->log_max_msg_size >= ilog2(MLX5VF_TRACK_ENTRY_SIZE) &&
	       c->log_max_msg_size <= MLX5VF_TRACK_MAX_LOG_MSG;
}

#if VFMIG_HAVE_DMA_LOGGING

/* Any context: the channel has news, or broke. */
static void mlx5vf_track_notify(void *priv, enum mlx5vf_track_event ev,
				u32 obj_id)
{
	struct mlx5vf_device *mvd = priv;
	struct mlx5vf_tracker *trk = &mvd->trk;

	switch (ev) {
	case MLX5VF_TRACK_EV_MSG:
		atomic_inc(&trk->kicks);
		break;
	case MLX5VF_TRACK_EV_ERROR:
		cmpxchg(&trk->err, 0, -EIO);
		break;
	case MLX5VF_TRACK_EV_OBJ_CHANGE:
		if (obj_id != READ_ONCE(trk->obj_id))
			return;
		atomic_inc(&trk->obj_changed);
		break;
	}
	wake_up(&trk->wq);
}

/* trk->lock held: the error that ends this and every later report. */
static int mlx5vf_track_fail(struct mlx5vf_device *mvd, int err,
			     const char *why)
{
	struct mlx5vf_tracker *trk = &mvd->trk;

	cmpxchg(&trk->err, 0, err);
	mlx5vf_dbg(mvd, "dirty tracking failed: %s (%d)\n", why, err);
	return READ_ONCE(trk->err);
}

/*
 * The requested ranges, in address order, merged until at most @max
 * remain: each time the two neighbours with the smallest gap between
 * them become one range (the gap is tracked too, which costs reports of
 * pages that are never written, never a missed page).  Returns the count
 * or -errno; *@out is kfree'd by the caller.
 */
static int mlx5vf_track_merge(struct rb_root_cached *root, u32 nnodes,
			      u32 max, struct mlx5vf_track_range **out)
{
	struct interval_tree_node *node;
	struct mlx5vf_track_range *r;
	u32 n = 0, i;

	r = kcalloc(nnodes, sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	for (node = interval_tree_iter_first(root, 0, ULONG_MAX);
	     node && n < nnodes;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX), n++) {
		r[n].start = node->start;
		r[n].length = (u64)node->last - node->start + 1;
	}
	while (n > max) {
		u64 best = U64_MAX;
		u32 at = 0;

		for (i = 0; i + 1 < n; i++) {
			u64 gap = r[i + 1].start - (r[i].start + r[i].length);

			if (gap < best) {
				best = gap;
				at = i;
			}
		}
		r[at].length = r[at + 1].start + r[at + 1].length - r[at].start;
		memmove(&r[at + 1], &r[at + 2], (n - at - 2) * sizeof(*r));
		n--;
	}
	*out = r;
	return n;
}

static int mlx5vf_log_start(struct vfio_device *vdev,
			    struct rb_root_cached *ranges, u32 nnodes,
			    u64 *page_size)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vfmig_from_vdev(vdev));
	struct mlx5vf_tracker *trk = &mvd->trk;
	const struct mlx5vf_track_caps *caps = &trk->caps;
	struct mlx5vf_pf_caps pf = {};
	struct mlx5vf_track_chan_cfg cfg = {};
	struct mlx5vf_track_range *r = NULL;
	struct mlx5vf_track_obj obj = {};
	u64 total = 0, rq_bytes;
	u8 log_page;
	int n, i, ret;

	if (!nnodes)
		return -EINVAL;
	mutex_lock(&trk->lock);
	if (trk->active) {
		ret = -EBUSY;
		goto out;
	}
	if (READ_ONCE(mvd->mdev_detach)) {
		ret = -ENOTCONN;
		goto out;
	}
	/* the PF's caps as they are now (firmware may have changed) */
	mvd->fw_ops->pf_caps(mvd->fw, &pf);
	if (!pf.track.supported || !mlx5vf_track_caps_usable(&pf.track)) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	trk->caps = pf.track;
	n = mlx5vf_track_merge(ranges, nnodes, caps->max_num_range, &r);
	if (n < 0) {
		ret = n;
		goto out;
	}
	for (i = 0; i < n; i++)
		total += r[i].length;
	obj.log_addr_space_size = order_base_2(total);
	if (obj.log_addr_space_size < caps->log_min_addr_space ||
	    obj.log_addr_space_size > caps->log_max_addr_space) {
		pci_info(mvd->vd.core.pdev,
			 "mlx5: cannot track %llu bytes of IOVA: the firmware tracks 2^%u to 2^%u\n",
			 total, caps->log_min_addr_space,
			 caps->log_max_addr_space);
		ret = -EOPNOTSUPP;
		goto out;
	}
	log_page = clamp_t(u8, ilog2(*page_size), caps->log_min_page_size,
			   caps->log_max_page_size);

	trk->log_msg_size = caps->log_max_msg_size;
	rq_bytes = max_t(u64, MLX5VF_TRACK_RQ_BYTES,
			 4ULL << trk->log_msg_size);
	trk->nmsgs = rounddown_pow_of_two(rq_bytes >> trk->log_msg_size);
	cfg.log_msg_size = trk->log_msg_size;
	cfg.nmsgs = trk->nmsgs;
	cfg.notify = mlx5vf_track_notify;
	cfg.priv = mvd;
	WRITE_ONCE(trk->err, 0);
	atomic_set(&trk->kicks, 0);
	atomic_set(&trk->obj_changed, 0);
	trk->chan = NULL;
	ret = mvd->fw_ops->track_open(mvd->fw, &cfg, &trk->chan, &trk->fw_qpn);
	if (ret) {
		trk->chan = NULL;
		goto out;
	}

	obj.log_page_size = log_page;
	obj.log_msg_size = trk->log_msg_size;
	obj.reporting_qpn = trk->fw_qpn;
	obj.num_ranges = n;
	obj.ranges = r;
	ret = mlx5vf_cmd_track_create(mvd, &obj, &trk->obj_id);
	if (ret) {
		mvd->fw_ops->track_close(trk->chan);
		trk->chan = NULL;
		ret = mlx5vf_errno(ret);
		goto out;
	}
	trk->log_page_size = log_page;
	trk->reports = trk->msgs = trk->pages = 0;
	trk->active = true;
	*page_size = 1ULL << log_page;
	mlx5vf_dbg(mvd, "dirty tracking started: %u ranges (%d after merging), %llu bytes, pages of %llu bytes\n",
		   nnodes, n, total, *page_size);
out:
	mutex_unlock(&trk->lock);
	kfree(r);
	return ret;
}

static int mlx5vf_log_stop(struct vfio_device *vdev)
{
	mlx5vf_track_stop(mlx5vf_from_vd(vfmig_from_vdev(vdev)));
	return 0;
}

/* One message's pages into @dirty (only those in [@iova, @last]). */
static int mlx5vf_track_take(struct mlx5vf_device *mvd,
			     const struct mlx5vf_track_msg *msg, u64 iova,
			     u64 last, struct iova_bitmap *dirty)
{
	struct mlx5vf_tracker *trk = &mvd->trk;
	const __be32 *e = msg->data;
	u64 page = 1ULL << trk->log_page_size;
	u32 n, i, stray = 0;

	if (msg->byte_cnt % MLX5VF_TRACK_ENTRY_SIZE ||
	    msg->byte_cnt > (1U << trk->log_msg_size))
		return -EPROTO;
	n = msg->byte_cnt / MLX5VF_TRACK_ENTRY_SIZE;
	for (i = 0; i < n; i++, e += 2) {
		u64 addr = (u64)be32_to_cpu(e[0]) << 32 | be32_to_cpu(e[1]);

		if (addr < iova || addr > last) {
			stray++;
			continue;
		}
		iova_bitmap_set(dirty, addr, page);
	}
	trk->msgs++;
	trk->pages += n - stray;
	if (stray)
		mlx5vf_dbg(mvd, "report: %u addresses outside the range ignored\n",
			   stray);
	return 0;
}

/* trk->lock held: wait for the next message; 0 or the error. */
static int mlx5vf_track_wait(struct mlx5vf_device *mvd)
{
	struct mlx5vf_tracker *trk = &mvd->trk;
	long left;
	u8 state;
	int ret;

	left = wait_event_timeout(trk->wq, atomic_read(&trk->kicks) ||
				  atomic_read(&trk->obj_changed) ||
				  READ_ONCE(trk->err),
				  MLX5VF_TRACK_MSG_TIMEOUT);
	if (READ_ONCE(trk->err))
		return READ_ONCE(trk->err);
	if (!left)
		return mlx5vf_track_fail(mvd, -ETIMEDOUT,
					 "no report message for 10 s");
	if (atomic_xchg(&trk->obj_changed, 0)) {
		ret = mlx5vf_cmd_track_query(mvd, trk->obj_id, &state);
		if (ret)
			return mlx5vf_track_fail(mvd, mlx5vf_errno(ret),
						 "the tracker's state unknown");
		mlx5vf_dbg(mvd, "OBJECT_CHANGE: tracker state %u\n", state);
		if (state == VFMIG_PAGE_TRACK_ERROR)
			return mlx5vf_track_fail(mvd, -EIO,
						 "the object is in ERROR");
	}
	return 0;
}

static int mlx5vf_log_read_and_clear(struct vfio_device *vdev,
				     unsigned long iova, unsigned long length,
				     struct iova_bitmap *dirty)
{
	struct mlx5vf_device *mvd = mlx5vf_from_vd(vfmig_from_vdev(vdev));
	struct mlx5vf_tracker *trk = &mvd->trk;
	u64 last = (u64)iova + length - 1;
	struct mlx5vf_track_msg msg;
	u32 state;
	int ret;

	mutex_lock(&trk->lock);
	if (!trk->active) {
		ret = READ_ONCE(trk->err) ?: -EINVAL;
		goto out;
	}
	ret = READ_ONCE(trk->err);
	if (ret)
		goto out;
	ret = mlx5vf_cmd_track_report(mvd, trk->obj_id, iova, length);
	if (ret) {
		ret = mlx5vf_track_fail(mvd, mlx5vf_errno(ret),
					"MODIFY to REPORTING refused");
		goto out;
	}
	trk->reports++;
	for (;;) {
		atomic_set(&trk->kicks, 0);
		ret = mvd->fw_ops->track_poll(trk->chan, &msg);
		if (ret < 0) {
			ret = mlx5vf_track_fail(mvd, -EIO, "channel error");
			break;
		}
		if (!ret) {
			ret = mlx5vf_track_wait(mvd);
			if (ret)
				break;
			continue;
		}
		ret = mlx5vf_track_take(mvd, &msg, iova, last, dirty);
		state = MLX5VF_TRACK_IMM_STATE(msg.imm);
		if (mvd->fw_ops->track_repost(trk->chan, &msg) && !ret)
			ret = -EIO;
		if (ret) {
			ret = mlx5vf_track_fail(mvd, ret, "bad report message");
			break;
		}
		if (state == VFMIG_PAGE_TRACK_REPORTING)
			continue;
		if (state != VFMIG_PAGE_TRACK_TRACKING)
			ret = mlx5vf_track_fail(mvd, -EIO,
						"the report ended in ERROR");
		break;
	}
out:
	mutex_unlock(&trk->lock);
	return ret;
}

static const struct vfio_log_ops mlx5vf_log_ops = {
	.log_start = mlx5vf_log_start,
	.log_stop = mlx5vf_log_stop,
	.log_read_and_clear = mlx5vf_log_read_and_clear,
};

#endif /* VFMIG_HAVE_DMA_LOGGING */

/* Probe, migration offered: is there a tracker we can use? */
void mlx5vf_track_setup(struct mlx5vf_device *mvd)
{
	const struct mlx5vf_track_caps *c = &mvd->trk.caps;
	struct pci_dev *pdev = mvd->vd.core.pdev;

	if (!c->supported) {
		pci_info(pdev, "mlx5: no DMA dirty tracking: the PF's firmware lacks adv_virtualization\n");
		return;
	}
	if (!mvd->fw_ops->track_open || !mlx5vf_track_caps_usable(c)) {
		pci_info(pdev, "mlx5: no DMA dirty tracking: the PF's tracker capabilities are not usable\n");
		return;
	}
#if VFMIG_HAVE_DMA_LOGGING
	vfmig_set_log_ops(&mvd->vd, &mlx5vf_log_ops);
	mvd->trk.offered = true;
	mlx5vf_dbg(mvd, "DMA dirty tracking offered: %u ranges, address space 2^%u..2^%u, pages 2^%u..2^%u, messages 2^%u\n",
		   c->max_num_range, c->log_min_addr_space,
		   c->log_max_addr_space, c->log_min_page_size,
		   c->log_max_page_size, c->log_max_msg_size);
#else
	pci_info(pdev, "mlx5: no DMA dirty tracking: this kernel cannot report device dirty pages (CONFIG_IOMMUFD_DRIVER unset); QEMU then counts all guest RAM dirty\n");
#endif
}
