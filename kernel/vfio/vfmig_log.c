// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfmig engine: device DMA dirty logging (struct vfio_log_ops).
 *
 * The vfio core keeps no logging state, so this does: a second start
 * without a stop is refused with -EBUSY, stop and report while logging is
 * off succeed and do nothing.  The devices our engine serves so far do no
 * DMA of their own; a driver marks ranges dirty with vfmig_log_mark()
 * (a test knob), and a report hands them to the core's iova_bitmap and
 * clears them.  Offered only where the kernel can report (vfmig_compat.h).
 */
#include <linux/interval_tree.h>
#include <linux/iova_bitmap.h>
#include <linux/slab.h>

#include "vfmig.h"

#define VFMIG_LOG_MAX_RANGES	1024
#define VFMIG_LOG_MAX_DIRTY	256

void vfmig_log_init(struct vfmig_device *vd)
{
	mutex_init(&vd->log.lock);
}

/* log.lock held */
static void vfmig_log_clear(struct vfmig_log *log)
{
	kfree(log->ranges);
	kfree(log->dirty);
	log->ranges = NULL;
	log->dirty = NULL;
	log->nr_ranges = 0;
	log->nr_dirty = 0;
	log->started = false;
}

void vfmig_log_reset(struct vfmig_device *vd)
{
	mutex_lock(&vd->log.lock);
	vfmig_log_clear(&vd->log);
	mutex_unlock(&vd->log.lock);
}

void vfmig_log_destroy(struct vfmig_device *vd)
{
	vfmig_log_reset(vd);
	mutex_destroy(&vd->log.lock);
}

int vfmig_log_mark(struct vfmig_device *vd, u64 iova, u64 length)
{
	struct vfmig_log *log = &vd->log;
	u64 last;
	u32 i;
	int ret = -EINVAL;

	if (!vd->dma_logging)
		return -EOPNOTSUPP;
	if (!length || check_add_overflow(iova, length - 1, &last))
		return -EINVAL;

	mutex_lock(&log->lock);
	if (!log->started)
		goto out;
	for (i = 0; i < log->nr_ranges; i++) {
		if (iova >= log->ranges[i].start &&
		    last <= log->ranges[i].last)
			break;
	}
	if (i == log->nr_ranges)
		goto out;
	ret = -ENOSPC;
	if (log->nr_dirty == VFMIG_LOG_MAX_DIRTY)
		goto out;
	log->dirty[log->nr_dirty].start = iova;
	log->dirty[log->nr_dirty].last = last;
	log->nr_dirty++;
	ret = 0;
out:
	mutex_unlock(&log->lock);
	return ret;
}

#if VFMIG_HAVE_DMA_LOGGING
static int vfmig_log_start(struct vfio_device *vdev,
			   struct rb_root_cached *ranges, u32 nnodes,
			   u64 *page_size)
{
	struct vfmig_device *vd = vfmig_from_vdev(vdev);
	struct vfmig_log *log = &vd->log;
	struct interval_tree_node *node;
	u32 i = 0;
	int ret = 0;

	if (!nnodes || nnodes > VFMIG_LOG_MAX_RANGES)
		return -E2BIG;

	mutex_lock(&log->lock);
	if (log->started) {
		ret = -EBUSY;
		goto out;
	}
	log->ranges = kcalloc(nnodes, sizeof(*log->ranges), GFP_KERNEL);
	log->dirty = kcalloc(VFMIG_LOG_MAX_DIRTY, sizeof(*log->dirty),
			     GFP_KERNEL);
	if (!log->ranges || !log->dirty) {
		vfmig_log_clear(log);
		ret = -ENOMEM;
		goto out;
	}
	for (node = interval_tree_iter_first(ranges, 0, ULONG_MAX);
	     node && i < nnodes;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX), i++) {
		log->ranges[i].start = node->start;
		log->ranges[i].last = node->last;
	}
	log->nr_ranges = i;
	log->started = true;
	/* any page size the core asks for is fine: we keep byte ranges */
	(void)page_size;
out:
	mutex_unlock(&log->lock);
	return ret;
}

static int vfmig_log_stop(struct vfio_device *vdev)
{
	vfmig_log_reset(vfmig_from_vdev(vdev));
	return 0;
}

static int vfmig_log_read_and_clear(struct vfio_device *vdev,
				    unsigned long iova, unsigned long length,
				    struct iova_bitmap *dirty)
{
	struct vfmig_device *vd = vfmig_from_vdev(vdev);
	struct vfmig_log *log = &vd->log;
	u64 last = (u64)iova + length - 1;
	u32 i = 0;

	mutex_lock(&log->lock);
	while (log->started && i < log->nr_dirty) {
		struct vfmig_log_range *r = &log->dirty[i];
		u64 s = max_t(u64, r->start, iova);
		u64 e = min_t(u64, r->last, last);

		if (s > e) {
			i++;
			continue;
		}
		iova_bitmap_set(dirty, s, e - s + 1);
		/* clear the reported part: keep what lies on either side */
		if (r->start < s && r->last > e) {
			/* no room to split: keep it all, over-reporting later */
			if (log->nr_dirty < VFMIG_LOG_MAX_DIRTY) {
				log->dirty[log->nr_dirty].start = e + 1;
				log->dirty[log->nr_dirty].last = r->last;
				log->nr_dirty++;
				r->last = s - 1;
			}
		} else if (r->start < s) {
			r->last = s - 1;
		} else if (r->last > e) {
			r->start = e + 1;
		} else {
			*r = log->dirty[--log->nr_dirty];
			continue;
		}
		i++;
	}
	mutex_unlock(&log->lock);
	return 0;
}

const struct vfio_log_ops vfmig_log_ops = {
	.log_start = vfmig_log_start,
	.log_stop = vfmig_log_stop,
	.log_read_and_clear = vfmig_log_read_and_clear,
};
#endif /* VFMIG_HAVE_DMA_LOGGING */
