// SPDX-License-Identifier: GPL-2.0-only
/*
 * The firmware MODEL's DMA dirty-page tracker, its reporting channel, and
 * the DMA the modelled function does.  A model: it knows only what the
 * driver sends and what the protocol notes say ConnectX firmware does.
 *
 *  - The PAGE_TRACK object (CREATE/MODIFY/QUERY/DESTROY_GENERAL_OBJECT):
 *    its ranges, page and message sizes are checked against the caps the
 *    model advertises; it records the pages the function writes inside
 *    its ranges.  MODIFY to REPORTING for a range takes the pages dirtied
 *    in it (and forgets them) and sends them on the channel in report
 *    messages of 8-byte {be32 high, be32 low} addresses, in address
 *    order, as many messages as the message size needs; every message
 *    but the last says REPORTING in bits 31..28 of its immediate data,
 *    the last says TRACKING (the object is TRACKING again).
 *  - The channel (the fw ops' track_*) stands in for the QP pair and CQ:
 *    a ring of the driver's receive buffers, filled in order, and a ring
 *    of completions.  A message waits while no buffer is posted.
 *  - The function's DMA: while the object exists and the function runs,
 *    it writes a counter into pages of a window of IOVA (dma_rate pages
 *    per second, dma_window), or into the pages written to dma_dirty, by
 *    vfio_dma_rw() through the IOMMU mapping of the VFIO user (QEMU's
 *    guest RAM), and marks each page dirty after the write.  Suspending
 *    the function (SUSPEND_VHCA) waits for a write in progress.
 *  - Faults (track_fault), each once: CREATE or MODIFY refused, the
 *    channel broken after a report's first message, a report that ends
 *    in ERROR, ERROR with only an OBJECT_CHANGE event; and reports that
 *    lose their pages, every report until the object goes (a negative
 *    control: the destination's RAM then differs from the source's,
 *    whichever range QEMU asks first).
 */
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/vfio.h>

#include "fwmodel.h"

#define MDL_DMA_TICK_MS		10
#define MDL_PT_QPN_BASE		0x4d00
#define MDL_PT_ID_BASE		0x7000

const char *const mlx5vf_model_pt_fault_names[MDL_PT_FAULT_NR] = {
	[MDL_PT_FAULT_NONE]		= "none",
	[MDL_PT_FAULT_CREATE]		= "create",
	[MDL_PT_FAULT_REPORT]		= "report",
	[MDL_PT_FAULT_CQE]		= "cqe",
	[MDL_PT_FAULT_ERROR]		= "error",
	[MDL_PT_FAULT_OBJ_CHANGE]	= "object-change",
	[MDL_PT_FAULT_LOSE]		= "lose",
};

struct mdl_cqe {
	u32 slot;
	u32 imm;
	u32 byte_cnt;
};

/* The channel: the driver's receive buffers and our completions */
struct mlx5vf_track_chan {
	struct mlx5vf_fw *fw;
	struct mlx5vf_track_chan_cfg cfg;
	u32 fw_qpn;
	u32 msg_bytes;
	u8 **bufs;
	spinlock_t lock;
	u32 rq_head;		/* the next buffer to fill (wqe counter) */
	u32 rq_posted;		/* posted and not filled */
	u32 rq_tail;		/* the buffer the next repost gives back */
	struct mdl_cqe *cq;	/* nmsgs entries */
	u32 cq_head, cq_tail;	/* consumer, producer */
	bool error;
};

static void mdl_notify(struct mlx5vf_track_chan *chan,
		       enum mlx5vf_track_event ev, u32 obj_id)
{
	chan->cfg.notify(chan->cfg.priv, ev, obj_id);
}

int mdl_track_open(struct mlx5vf_fw *fw,
		   const struct mlx5vf_track_chan_cfg *cfg,
		   struct mlx5vf_track_chan **out, u32 *fw_qpn)
{
	struct mlx5vf_track_chan *chan;
	u32 i;

	if (!cfg->nmsgs || !is_power_of_2(cfg->nmsgs) ||
	    cfg->log_msg_size < MDL_PT_LOG_MIN_MSG ||
	    cfg->log_msg_size > MDL_PT_LOG_MAX_MSG || !cfg->notify)
		return -EINVAL;
	chan = kzalloc(sizeof(*chan), GFP_KERNEL);
	if (!chan)
		return -ENOMEM;
	chan->fw = fw;
	chan->cfg = *cfg;
	chan->msg_bytes = 1U << cfg->log_msg_size;
	spin_lock_init(&chan->lock);
	chan->bufs = kcalloc(cfg->nmsgs, sizeof(*chan->bufs), GFP_KERNEL);
	chan->cq = kcalloc(cfg->nmsgs, sizeof(*chan->cq), GFP_KERNEL);
	if (!chan->bufs || !chan->cq)
		goto err;
	for (i = 0; i < cfg->nmsgs; i++) {
		chan->bufs[i] = kvzalloc(chan->msg_bytes, GFP_KERNEL);
		if (!chan->bufs[i])
			goto err;
	}
	/* every buffer posted, as the driver's open does */
	chan->rq_posted = cfg->nmsgs;

	mutex_lock(&fw->lock);
	if (fw->pt.chan || fw->detached || fw->dead) {
		mutex_unlock(&fw->lock);
		mdl_track_close(chan);
		return -EBUSY;
	}
	chan->fw_qpn = MDL_PT_QPN_BASE + fw->vf_id;
	fw->pt.chan = chan;
	mutex_unlock(&fw->lock);
	*out = chan;
	*fw_qpn = chan->fw_qpn;
	return 0;
err:
	mdl_track_close(chan);
	return -ENOMEM;
}

int mdl_track_poll(struct mlx5vf_track_chan *chan,
		   struct mlx5vf_track_msg *msg)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&chan->lock, flags);
	if (chan->error) {
		ret = -EIO;
	} else if (chan->cq_head != chan->cq_tail) {
		struct mdl_cqe *c = &chan->cq[chan->cq_head %
					      chan->cfg.nmsgs];

		msg->slot = c->slot;
		msg->imm = c->imm;
		msg->byte_cnt = c->byte_cnt;
		msg->data = chan->bufs[c->slot];
		chan->cq_head++;
		ret = 1;
	}
	spin_unlock_irqrestore(&chan->lock, flags);
	return ret;
}

int mdl_track_repost(struct mlx5vf_track_chan *chan,
		     const struct mlx5vf_track_msg *msg)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&chan->lock, flags);
	/* a receive queue takes buffers back in order */
	if (msg->slot != chan->rq_tail % chan->cfg.nmsgs ||
	    chan->rq_posted >= chan->cfg.nmsgs) {
		ret = -EINVAL;
	} else {
		chan->rq_tail++;
		chan->rq_posted++;
	}
	spin_unlock_irqrestore(&chan->lock, flags);
	if (!ret)
		schedule_work(&chan->fw->report_work);
	return ret;
}

void mdl_track_close(struct mlx5vf_track_chan *chan)
{
	struct mlx5vf_fw *fw = chan->fw;
	u32 i;

	mutex_lock(&fw->lock);
	if (fw->pt.chan == chan)
		fw->pt.chan = NULL;
	mutex_unlock(&fw->lock);
	/* a report still sending stops: it finds no channel */
	flush_work(&fw->report_work);
	for (i = 0; chan->bufs && i < chan->cfg.nmsgs; i++)
		kvfree(chan->bufs[i]);
	kfree(chan->bufs);
	kfree(chan->cq);
	kfree(chan);
}

/* lock held: the report being sent is dropped */
static void mdl_pt_drop_report(struct mdl_pt *pt)
{
	kvfree(pt->rep);
	pt->rep = NULL;
	pt->rep_n = pt->rep_pos = 0;
	pt->rep_cqe_fault = false;
}

/* lock and pt_lock held: the object and what it recorded go */
static void mdl_pt_destroy(struct mlx5vf_fw *fw)
{
	struct mdl_pt *pt = &fw->pt;

	pt->exists = false;
	pt->state = VFMIG_PAGE_TRACK_TRACKING;
	xa_destroy(&pt->dirty);
	pt->ndirty = 0;
	pt->overflow = false;
	mdl_pt_drop_report(pt);
	if (fw->pt_fault == MDL_PT_FAULT_LOSE)
		fw->pt_fault = MDL_PT_FAULT_NONE;
}

/* Sends the report: as many messages as buffers are posted. */
static void mdl_report_work(struct work_struct *work)
{
	struct mlx5vf_fw *fw = container_of(work, struct mlx5vf_fw,
					    report_work);
	struct mdl_pt *pt = &fw->pt;
	struct mlx5vf_track_chan *chan;
	unsigned long flags;

	mutex_lock(&fw->lock);
	chan = pt->chan;
	while (chan && pt->exists && pt->state == VFMIG_PAGE_TRACK_REPORTING) {
		u32 per = chan->msg_bytes / MLX5VF_TRACK_ENTRY_SIZE;
		unsigned long n = min_t(unsigned long, per,
					pt->rep_n - pt->rep_pos);
		bool last = pt->rep_pos + n == pt->rep_n;
		u8 state = last ? pt->rep_end : VFMIG_PAGE_TRACK_REPORTING;
		struct mdl_cqe *c;
		unsigned long i;
		u8 *b;

		spin_lock_irqsave(&chan->lock, flags);
		if (chan->error || !chan->rq_posted) {
			/* a repost schedules us again */
			spin_unlock_irqrestore(&chan->lock, flags);
			break;
		}
		c = &chan->cq[chan->cq_tail % chan->cfg.nmsgs];
		c->slot = chan->rq_head % chan->cfg.nmsgs;
		b = chan->bufs[c->slot];
		for (i = 0; i < n; i++) {
			u64 a = pt->rep[pt->rep_pos + i];
			__be32 e[2] = { cpu_to_be32(upper_32_bits(a)),
					cpu_to_be32(lower_32_bits(a)) };

			memcpy(b + MLX5VF_TRACK_ENTRY_SIZE * i, e, sizeof(e));
		}
		c->byte_cnt = n * MLX5VF_TRACK_ENTRY_SIZE;
		c->imm = (u32)state << 28;
		chan->cq_tail++;
		chan->rq_head++;
		chan->rq_posted--;
		spin_unlock_irqrestore(&chan->lock, flags);

		pt->rep_pos += n;
		fw->counts[MDL_CNT_PT_MESSAGES]++;
		fw->counts[MDL_CNT_PT_PAGES] += n;
		if (pt->rep_cqe_fault) {
			/* the QP breaks after this first message */
			spin_lock_irqsave(&chan->lock, flags);
			chan->error = true;
			spin_unlock_irqrestore(&chan->lock, flags);
			pt->state = VFMIG_PAGE_TRACK_ERROR;
			mdl_pt_drop_report(pt);
			mdl_notify(chan, MLX5VF_TRACK_EV_ERROR, 0);
			break;
		}
		mdl_notify(chan, MLX5VF_TRACK_EV_MSG, 0);
		if (last) {
			pt->state = pt->rep_end;
			mdl_pt_drop_report(pt);
			break;
		}
	}
	mutex_unlock(&fw->lock);
}

/* pt_lock held: @iova's page was written: record it */
static void mdl_pt_mark(struct mlx5vf_fw *fw, u64 iova)
{
	struct mdl_pt *pt = &fw->pt;
	unsigned long idx;
	u32 i;

	if (!pt->exists)
		return;
	for (i = 0; i < pt->nranges; i++)
		if (iova >= pt->ranges[i].start &&
		    iova - pt->ranges[i].start < pt->ranges[i].length)
			break;
	if (i == pt->nranges)
		return;
	idx = iova >> pt->log_page_size;
	if (xa_load(&pt->dirty, idx))
		return;
	if (pt->ndirty >= MDL_PT_MAX_DIRTY) {
		pt->overflow = true;
		return;
	}
	if (!xa_err(xa_store(&pt->dirty, idx, xa_mk_value(1), GFP_KERNEL)))
		pt->ndirty++;
	else
		pt->overflow = true;
}

/* One DMA write of the function: a counter into @iova's page. */
static int mdl_dma_write(struct mlx5vf_fw *fw, u64 iova)
{
	struct vfmig_device *vd = vfmig_from_pdev(fw->pdev);
	__le64 val = cpu_to_le64(++fw->dma_seq);
	int ret;

	ret = vfio_dma_rw(&vd->core.vdev, iova, &val, sizeof(val), true);
	mutex_lock(&fw->pt_lock);
	if (ret) {
		fw->counts[MDL_CNT_DMA_FAILED]++;
	} else {
		fw->counts[MDL_CNT_DMA_WRITES]++;
		mdl_pt_mark(fw, iova);
	}
	mutex_unlock(&fw->pt_lock);
	return ret;
}

/* dma_sem held: may the function write now? */
static bool mdl_dma_on(struct mlx5vf_fw *fw)
{
	return READ_ONCE(fw->run) == MDL_RUNNING && READ_ONCE(fw->pt.exists) &&
	       !READ_ONCE(fw->detached) && !READ_ONCE(fw->dead);
}

static u64 mdl_dma_rand(struct mlx5vf_fw *fw)
{
	/* xorshift64*, seeded per VF */
	u64 x = fw->dma_seq * 0x9e3779b97f4a7c15ULL ^ fw->seed;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	return x * 0x2545f4914f6cdd1dULL;
}

static void mdl_dma_work(struct work_struct *work)
{
	struct mlx5vf_fw *fw = container_of(to_delayed_work(work),
					    struct mlx5vf_fw, dma_work);
	u64 rate = READ_ONCE(fw->dma_rate), pages, npages, elapsed, due;
	ktime_t now = ktime_get();

	down_read(&fw->dma_sem);
	if (!rate || !mdl_dma_on(fw)) {
		up_read(&fw->dma_sem);
		return;
	}
	elapsed = min_t(u64, ktime_us_delta(now, fw->dma_tick), USEC_PER_SEC);
	fw->dma_tick = now;
	due = fw->dma_carry + rate * elapsed;
	pages = div_u64(due, USEC_PER_SEC);
	fw->dma_carry = due - pages * USEC_PER_SEC;
	npages = fw->dma_window_len >> PAGE_SHIFT;
	while (npages && pages-- && mdl_dma_on(fw))
		mdl_dma_write(fw, fw->dma_window_start +
			      (mdl_dma_rand(fw) % npages) * PAGE_SIZE);
	up_read(&fw->dma_sem);
	schedule_delayed_work(&fw->dma_work, msecs_to_jiffies(MDL_DMA_TICK_MS));
}

/* lock held: start the DMA writer if it may write */
static void mdl_dma_kick(struct mlx5vf_fw *fw)
{
	if (fw->dma_rate && fw->pt.exists && fw->run == MDL_RUNNING &&
	    !fw->detached && !fw->dead) {
		fw->dma_tick = ktime_get();
		fw->dma_carry = 0;
		mod_delayed_work(system_wq, &fw->dma_work,
				 msecs_to_jiffies(MDL_DMA_TICK_MS));
	}
}

void mdl_pt_run_changed(struct mlx5vf_fw *fw)
{
	if (fw->run != MDL_RUNNING) {
		/* no write lands after the function stopped initiating */
		down_write(&fw->dma_sem);
		up_write(&fw->dma_sem);
	} else {
		mdl_dma_kick(fw);
	}
}

void mlx5vf_model_set_dma_rate(struct mlx5vf_fw *fw, u64 rate)
{
	mutex_lock(&fw->lock);
	WRITE_ONCE(fw->dma_rate, rate);
	mdl_dma_kick(fw);
	mutex_unlock(&fw->lock);
}

/*
 * dma_dirty: the function writes each page of [iova, +len) now, as a
 * burst of received packets would.  Only while it may write.  The writes
 * run in a kworker, as the rate's do: vfio_dma_rw() reaches the VFIO
 * user's memory from a kernel thread (kthread_use_mm()), not from the
 * process that wrote the knob.
 */
struct mdl_dma_req {
	struct work_struct work;
	struct mlx5vf_fw *fw;
	u64 iova, len;
	int ret;
};

static void mdl_dma_req_work(struct work_struct *work)
{
	struct mdl_dma_req *r = container_of(work, struct mdl_dma_req, work);
	struct mlx5vf_fw *fw = r->fw;
	u64 off;

	down_read(&fw->dma_sem);
	r->ret = mdl_dma_on(fw) ? 0 : -EAGAIN;
	for (off = 0; !r->ret && off < r->len; off += PAGE_SIZE)
		r->ret = mdl_dma_write(fw, r->iova + off);
	up_read(&fw->dma_sem);
}

int mlx5vf_model_dma_dirty(struct mlx5vf_fw *fw, u64 iova, u64 len)
{
	struct mdl_dma_req r = { .fw = fw, .iova = iova, .len = len };

	if (!len || len > SZ_64M || !PAGE_ALIGNED(iova) || !PAGE_ALIGNED(len))
		return -EINVAL;
	INIT_WORK_ONSTACK(&r.work, mdl_dma_req_work);
	schedule_work(&r.work);
	flush_work(&r.work);
	destroy_work_on_stack(&r.work);
	return r.ret;
}

ssize_t mlx5vf_model_pt_show(struct mlx5vf_fw *fw, char *buf)
{
	static const char *const states[] = { "TRACKING", "REPORTING",
					      "ERROR" };
	struct mdl_pt *pt = &fw->pt;
	ssize_t len;
	u32 i;

	mutex_lock(&fw->lock);
	mutex_lock(&fw->pt_lock);
	if (!pt->exists) {
		len = sysfs_emit(buf, "none\n");
		goto out;
	}
	len = sysfs_emit(buf, "object 0x%x state %s pages %u messages %u dirty %lu%s ranges %u",
			 pt->obj_id, pt->state < ARRAY_SIZE(states) ?
			 states[pt->state] : "?", 1U << pt->log_page_size,
			 1U << pt->log_msg_size, pt->ndirty,
			 pt->overflow ? " overflow" : "", pt->nranges);
	for (i = 0; i < pt->nranges; i++)
		len += sysfs_emit_at(buf, len, " 0x%llx+0x%llx",
				     pt->ranges[i].start, pt->ranges[i].length);
	len += sysfs_emit_at(buf, len, "\n");
out:
	mutex_unlock(&fw->pt_lock);
	mutex_unlock(&fw->lock);
	return len;
}

/* ------------------------------------------------------------------ */
/* The commands (lock held)                                            */

static u8 mdl_pt_fault_take(struct mlx5vf_fw *fw, enum mdl_pt_fault f)
{
	if (fw->pt_fault != f)
		return 0;
	fw->pt_fault = MDL_PT_FAULT_NONE;
	return 1;
}

static u8 mdl_pt_create(struct mlx5vf_fw *fw, void *in, int inlen, void *out,
			u32 *synd)
{
	void *ctx = MLX5_ADDR_OF(create_page_track_obj_in, in, obj_context);
	struct mdl_pt *pt = &fw->pt;
	u32 n = MLX5_GET(page_track, ctx, num_ranges), i;
	u8 lspace = MLX5_GET(page_track, ctx, log_addr_space_size);
	u8 lpage = MLX5_GET(page_track, ctx, log_page_size);
	u8 lmsg = MLX5_GET(page_track, ctx, log_msg_size);
	void *range = MLX5_ADDR_OF(page_track, ctx, track_range);
	u64 total = 0, prev_end = 0;

	*synd = MDL_SYND_PT_LENGTH;
	if (inlen < MLX5_ST_SZ_BYTES(create_page_track_obj_in) +
		    n * MLX5_ST_SZ_BYTES(page_track_range))
		return VFMIG_STAT_BAD_PARAM;
	*synd = MDL_SYND_PT_PARAM;
	if (!(fw->caps & MDL_CAP_ADV_VIRT) ||
	    MLX5_GET(page_track, ctx, vhca_id) != MDL_VHCA_ID_BASE + fw->vf_id ||
	    MLX5_GET(page_track, ctx, track_type) != MLX5VF_TRACK_TYPE_DIRTY ||
	    !n || n > fw->pt_max_ranges ||
	    lspace < MDL_PT_LOG_MIN_SPACE || lspace > MDL_PT_LOG_MAX_SPACE ||
	    lpage < MDL_PT_LOG_MIN_PAGE || lpage > MDL_PT_LOG_MAX_PAGE ||
	    lmsg < MDL_PT_LOG_MIN_MSG || lmsg > fw->pt_log_msg_size)
		return VFMIG_STAT_BAD_PARAM;
	*synd = MDL_SYND_PT_QPN;
	if (!pt->chan ||
	    MLX5_GET(page_track, ctx, reporting_qpn) != pt->chan->fw_qpn ||
	    pt->chan->cfg.log_msg_size != lmsg)
		return VFMIG_STAT_BAD_PARAM;
	*synd = MDL_SYND_PT_EXISTS;
	if (pt->exists)
		return VFMIG_STAT_BAD_RES_STATE;
	for (i = 0; i < n; i++) {
		u64 start = MLX5_GET64(page_track_range, range, start_address);
		u64 length = MLX5_GET64(page_track_range, range, length);

		*synd = MDL_SYND_PT_PARAM;
		/* in address order, apart, within the address space */
		if (!length || start + length < start ||
		    (i && start < prev_end))
			return VFMIG_STAT_BAD_PARAM;
		prev_end = start + length;
		total += length;
		pt->ranges[i].start = start;
		pt->ranges[i].length = length;
		range += MLX5_ST_SZ_BYTES(page_track_range);
	}
	if (total > (1ULL << lspace))
		return VFMIG_STAT_BAD_PARAM;
	*synd = MDL_SYND_PT_FAULT;
	if (mdl_pt_fault_take(fw, MDL_PT_FAULT_CREATE))
		return VFMIG_STAT_BAD_RES_STATE;
	*synd = 0;

	mutex_lock(&fw->pt_lock);
	pt->nranges = n;
	pt->log_page_size = lpage;
	pt->log_msg_size = lmsg;
	pt->obj_id = MDL_PT_ID_BASE + fw->pt_next_id++;
	pt->state = VFMIG_PAGE_TRACK_TRACKING;
	pt->ndirty = 0;
	pt->overflow = false;
	WRITE_ONCE(pt->exists, true);
	mutex_unlock(&fw->pt_lock);
	MLX5_SET(general_obj_out_cmd_hdr, out, obj_id, pt->obj_id);
	mdl_dma_kick(fw);
	return 0;
}

/* MODIFY to REPORTING: take the range's dirty pages and send them. */
static u8 mdl_pt_report(struct mlx5vf_fw *fw, void *in, void *out, u32 *synd)
{
	void *ctx = MLX5_ADDR_OF(modify_page_track_obj_in, in, obj_context);
	u64 start = MLX5_GET64(page_track, ctx, range_start_address);
	u64 length = MLX5_GET64(page_track, ctx, length);
	struct mdl_pt *pt = &fw->pt;
	unsigned long first, last, idx, n = 0;
	bool lose;
	void *entry;

	*synd = MDL_SYND_PT_PARAM;
	if (MLX5_GET64(page_track, ctx, modify_field_select) !=
	    VFMIG_PAGE_TRACK_MODIFY_RANGE_STATE ||
	    MLX5_GET(page_track, ctx, state) != VFMIG_PAGE_TRACK_REPORTING ||
	    !length || start + length - 1 < start)
		return VFMIG_STAT_BAD_PARAM;
	*synd = MDL_SYND_PT_STATE;
	if (pt->state != VFMIG_PAGE_TRACK_TRACKING || !pt->chan)
		return VFMIG_STAT_BAD_RES_STATE;
	*synd = MDL_SYND_PT_FAULT;
	if (mdl_pt_fault_take(fw, MDL_PT_FAULT_REPORT))
		return VFMIG_STAT_BAD_RES_STATE;
	*synd = 0;
	if (mdl_pt_fault_take(fw, MDL_PT_FAULT_OBJ_CHANGE)) {
		pt->state = VFMIG_PAGE_TRACK_ERROR;
		mdl_notify(pt->chan, MLX5VF_TRACK_EV_OBJ_CHANGE, pt->obj_id);
		return 0;
	}
	/* not taken: every report loses its pages while the object lives */
	lose = fw->pt_fault == MDL_PT_FAULT_LOSE;
	pt->rep_end = mdl_pt_fault_take(fw, MDL_PT_FAULT_ERROR) ?
		VFMIG_PAGE_TRACK_ERROR : VFMIG_PAGE_TRACK_TRACKING;
	pt->rep_cqe_fault = mdl_pt_fault_take(fw, MDL_PT_FAULT_CQE);

	mutex_lock(&fw->pt_lock);
	if (pt->overflow)
		pt->rep_end = VFMIG_PAGE_TRACK_ERROR;
	first = start >> pt->log_page_size;
	last = (start + length - 1) >> pt->log_page_size;
	kvfree(pt->rep);
	pt->rep = NULL;
	if (pt->ndirty && !lose) {
		pt->rep = kvmalloc_array(pt->ndirty, sizeof(*pt->rep),
					 GFP_KERNEL);
		/* out of memory: the pages stay recorded, the report fails */
		if (!pt->rep)
			pt->rep_end = VFMIG_PAGE_TRACK_ERROR;
	}
	xa_for_each_range(&pt->dirty, idx, entry, first, last) {
		if (pt->rep)
			pt->rep[n++] = (u64)idx << pt->log_page_size;
		else if (!lose)
			break;
		xa_erase(&pt->dirty, idx);
		pt->ndirty--;
	}
	mutex_unlock(&fw->pt_lock);
	pt->rep_n = n;
	pt->rep_pos = 0;
	pt->state = VFMIG_PAGE_TRACK_REPORTING;
	schedule_work(&fw->report_work);
	return 0;
}

u8 mdl_pt_cmd(struct mlx5vf_fw *fw, void *in, int inlen, void *out,
	      u32 *synd)
{
	u16 opcode = MLX5_GET(general_obj_in_cmd_hdr, in, opcode);
	u32 id = MLX5_GET(general_obj_in_cmd_hdr, in, obj_id);
	struct mdl_pt *pt = &fw->pt;

	*synd = MDL_SYND_PT_TYPE;
	if (MLX5_GET(general_obj_in_cmd_hdr, in, obj_type) !=
	    VFMIG_OBJ_TYPE_PAGE_TRACK)
		return VFMIG_STAT_BAD_PARAM;
	if (opcode == VFMIG_CMD_CREATE_GENERAL_OBJECT)
		return mdl_pt_create(fw, in, inlen, out, synd);
	*synd = MDL_SYND_PT_ID;
	if (!pt->exists || id != pt->obj_id)
		return VFMIG_STAT_BAD_PARAM;
	*synd = 0;
	switch (opcode) {
	case VFMIG_CMD_MODIFY_GENERAL_OBJECT:
		return mdl_pt_report(fw, in, out, synd);
	case VFMIG_CMD_QUERY_GENERAL_OBJECT:
		MLX5_SET(vfmig_query_page_track_out, out, obj_context.state,
			 pt->state);
		MLX5_SET(vfmig_query_page_track_out, out, obj_context.vhca_id,
			 MDL_VHCA_ID_BASE + fw->vf_id);
		return 0;
	case VFMIG_CMD_DESTROY_GENERAL_OBJECT:
		mutex_lock(&fw->pt_lock);
		WRITE_ONCE(pt->exists, false);
		mdl_pt_destroy(fw);
		mutex_unlock(&fw->pt_lock);
		/* a DMA write in progress lands before the object is gone */
		down_write(&fw->dma_sem);
		up_write(&fw->dma_sem);
		return 0;
	}
	*synd = MDL_SYND_PT_TYPE;
	return VFMIG_STAT_BAD_PARAM;
}

void mdl_pt_detach(struct mlx5vf_fw *fw)
{
	if (!fw->pt.exists)
		return;
	mutex_lock(&fw->pt_lock);
	mdl_pt_destroy(fw);
	mutex_unlock(&fw->pt_lock);
	down_write(&fw->dma_sem);
	up_write(&fw->dma_sem);
}

void mdl_pt_init(struct mlx5vf_fw *fw)
{
	mutex_init(&fw->pt_lock);
	init_rwsem(&fw->dma_sem);
	xa_init(&fw->pt.dirty);
	INIT_DELAYED_WORK(&fw->dma_work, mdl_dma_work);
	INIT_WORK(&fw->report_work, mdl_report_work);
	fw->pt_max_ranges = MDL_PT_DEF_RANGES;
	fw->pt_log_msg_size = MDL_PT_DEF_LOG_MSG;
	fw->dma_window_start = MDL_DMA_DEF_WINDOW;
	fw->dma_window_len = MDL_DMA_DEF_WINDOW;
}

/* The function is going away: no lock held. */
void mdl_pt_fini(struct mlx5vf_fw *fw)
{
	cancel_delayed_work_sync(&fw->dma_work);
	cancel_work_sync(&fw->report_work);
	mutex_lock(&fw->lock);
	mutex_lock(&fw->pt_lock);
	mdl_pt_destroy(fw);
	mutex_unlock(&fw->pt_lock);
	mutex_unlock(&fw->lock);
}
