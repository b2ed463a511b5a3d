// SPDX-License-Identifier: GPL-2.0-only
/*
 * mlx5 VF migration: the DMA dirty-page tracker's reporting channel over
 * the PF's mlx5_core, the fw ops' track_* of mlx5_vfio_pci.
 *
 * The firmware sends each report as a SEND_WITH_IMM from a QP of its own,
 * the "FW QP" (RC, zero-length RQ, no SQ), to the "host QP" (RC, an RQ of
 * cfg->nmsgs receive buffers, no SQ); open connects the two to each other
 * in loopback.  The host QP's receive completions land in one CQ on a
 * completion EQ of the PF.  The CQ's interrupt, the PF's QP and CQ error
 * events and its OBJECT_CHANGE events become cfg->notify() calls; what a
 * message means (tracker state, entries, when a report ends) is the
 * driver's business, in mlx5vf_track.c.
 *
 * Resources: a UAR page of the PF for the CQ's doorbell; the fw's PD
 * (mlx5vf_core.c) for both QPs and for the receive buffers' MTT mkey,
 * which mlx5vf_core_buf_map() makes like every other buffer's; a kernel
 * mapping of the receive buffers (vmap) so that a message of any size is
 * one contiguous range for the driver.
 *
 * Context: open and close sleep (firmware commands).  Poll and repost run
 * under the driver's lock and do not sleep.  The CQ and EQ handlers run
 * in interrupt context, touch only the error byte and read only what open
 * set before it created them.
 *
 * Verified only by compiling; exercised only on hardware (ConnectX),
 * which neither this machine nor the VM suite has.
 */
#include <linux/log2.h>
#include <linux/mlx5/cq.h>
#include <linux/mlx5/driver.h>
#include <linux/mlx5/eq.h>
#include <linux/mlx5/qp.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

#include "mlx5vf_core.h"

#define MLX5VF_TRK_CQE_SIZE	64	/* cqc.cqe_sz 0 */

struct mlx5vf_track_chan {
	struct mlx5vf_fw *fw;
	struct mlx5_core_dev *mdev;
	struct mlx5vf_track_chan_cfg cfg;
	u8 nsteps;			/* of mlx5vf_trk_steps[] done */
	u8 err;				/* any context: a whole byte */
	struct mlx5_uars_page *uar;

	/* the CQ: cfg.nmsgs CQEs, as many as receives can be posted */
	struct mlx5_core_cq mcq;
	struct mlx5_db cq_db;
	struct mlx5_frag_buf cq_buf;
	struct mlx5_frag_buf_ctrl cq_fbc;

	/* the receive buffers: slot i at byte i << cfg.log_msg_size */
	struct mlx5vf_buf rbuf;
	void *rbuf_va;

	/* the host QP's RQ: one data segment a WQE */
	u32 host_qpn;
	struct mlx5_db rq_db;
	struct mlx5_frag_buf rq_buf;
	struct mlx5_frag_buf_ctrl rq_fbc;
	u32 rq_pc;			/* receives posted */
	u32 rq_cc;			/* receives completed */

	u32 fw_qpn;
	struct mlx5_nb nb;

	u32 rq_slot[];			/* the buffer each WQE receives into */
};

static void mlx5vf_trk_error(struct mlx5vf_track_chan *chan)
{
	WRITE_ONCE(chan->err, 1);
	chan->cfg.notify(chan->cfg.priv, MLX5VF_TRACK_EV_ERROR, 0);
}

/*
 * A completion EQ of the PF: 6.1 has mlx5_vector2eqn(), 6.12 only
 * mlx5_comp_eqn_get() (the cut at 6.5 is checked against these two only).
 */
static int mlx5vf_trk_eqn(struct mlx5_core_dev *mdev, int *eqn)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return mlx5_comp_eqn_get(mdev, raw_smp_processor_id() %
				 mlx5_comp_vectors_max(mdev), eqn);
#else
	return mlx5_vector2eqn(mdev, raw_smp_processor_id() %
			       mlx5_comp_vectors_count(mdev), eqn);
#endif
}

static int mlx5vf_trk_uar_get(struct mlx5vf_track_chan *chan)
{
	chan->uar = mlx5_get_uars_page(chan->mdev);
	return PTR_ERR_OR_ZERO(chan->uar);
}

static void mlx5vf_trk_uar_put(struct mlx5vf_track_chan *chan)
{
	mlx5_put_uars_page(chan->mdev, chan->uar);
}

/* Interrupt context: the armed CQ got a completion. */
static void mlx5vf_trk_cq_comp(struct mlx5_core_cq *mcq, struct mlx5_eqe *eqe)
{
	struct mlx5vf_track_chan *chan =
		container_of(mcq, struct mlx5vf_track_chan, mcq);

	chan->cfg.notify(chan->cfg.priv, MLX5VF_TRACK_EV_MSG, 0);
}

static void mlx5vf_trk_cq_event(struct mlx5_core_cq *mcq,
				enum mlx5_event type)
{
	if (type == MLX5_EVENT_TYPE_CQ_ERROR)
		mlx5vf_trk_error(container_of(mcq, struct mlx5vf_track_chan,
					      mcq));
}

static struct mlx5_cqe64 *mlx5vf_trk_cqe(struct mlx5vf_track_chan *chan,
					 u32 ci)
{
	return mlx5_frag_buf_get_wqe(&chan->cq_fbc,
				     ci & (chan->cfg.nmsgs - 1));
}

static int mlx5vf_trk_cq_create(struct mlx5vf_track_chan *chan)
{
	struct mlx5_core_dev *mdev = chan->mdev;
	u32 out[MLX5_ST_SZ_DW(create_cq_out)] = {};
	u32 n = chan->cfg.nmsgs;
	int inlen, eqn, ret;
	void *cqc;
	u32 *in;
	u32 i;

	ret = mlx5vf_trk_eqn(mdev, &eqn);
	if (ret)
		return ret;
	ret = mlx5_db_alloc_node(mdev, &chan->cq_db, mdev->priv.numa_node);
	if (ret)
		return ret;
	ret = mlx5_frag_buf_alloc_node(mdev, n * MLX5VF_TRK_CQE_SIZE,
				       &chan->cq_buf, mdev->priv.numa_node);
	if (ret)
		goto err_db;
	mlx5_init_fbc(chan->cq_buf.frags, ilog2(MLX5VF_TRK_CQE_SIZE), ilog2(n),
		      &chan->cq_fbc);
	for (i = 0; i < n; i++)
		mlx5vf_trk_cqe(chan, i)->op_own = MLX5_CQE_INVALID << 4;

	inlen = MLX5_ST_SZ_BYTES(create_cq_in) +
		MLX5_FLD_SZ_BYTES(create_cq_in, pas[0]) * chan->cq_buf.npages;
	in = kvzalloc(inlen, GFP_KERNEL);
	if (!in) {
		ret = -ENOMEM;
		goto err_buf;
	}
	cqc = MLX5_ADDR_OF(create_cq_in, in, cq_context);
	MLX5_SET(cqc, cqc, log_cq_size, ilog2(n));
	MLX5_SET(cqc, cqc, c_eqn_or_apu_element, eqn);
	MLX5_SET(cqc, cqc, uar_page, chan->uar->index);
	MLX5_SET(cqc, cqc, log_page_size,
		 chan->cq_buf.page_shift - MLX5_ADAPTER_PAGE_SHIFT);
	MLX5_SET64(cqc, cqc, dbr_addr, chan->cq_db.dma);
	mlx5_fill_page_frag_array(&chan->cq_buf,
				  (__be64 *)MLX5_ADDR_OF(create_cq_in, in,
							 pas));
	chan->mcq.set_ci_db = chan->cq_db.db;
	chan->mcq.arm_db = chan->cq_db.db + 1;
	chan->mcq.cqe_sz = MLX5VF_TRK_CQE_SIZE;
	chan->mcq.comp = mlx5vf_trk_cq_comp;
	chan->mcq.event = mlx5vf_trk_cq_event;
	ret = mlx5_core_create_cq(mdev, &chan->mcq, in, inlen, out,
				  sizeof(out));
	kvfree(in);
	if (ret)
		goto err_buf;
	return 0;

err_buf:
	mlx5_frag_buf_free(mdev, &chan->cq_buf);
err_db:
	mlx5_db_free(mdev, &chan->cq_db);
	return ret;
}

static void mlx5vf_trk_cq_destroy(struct mlx5vf_track_chan *chan)
{
	/* waits for a completion handler that is running */
	mlx5_core_destroy_cq(chan->mdev, &chan->mcq);
	mlx5_frag_buf_free(chan->mdev, &chan->cq_buf);
	mlx5_db_free(chan->mdev, &chan->cq_db);
}

static void mlx5vf_trk_pages_free(struct mlx5vf_buf *buf)
{
	u32 i;

	for (i = 0; i < buf->npages && buf->pages[i]; i++)
		__free_page(buf->pages[i]);
	kvfree(buf->pages);
	buf->pages = NULL;
}

static int mlx5vf_trk_buf_alloc(struct mlx5vf_track_chan *chan)
{
	u64 bytes = (u64)chan->cfg.nmsgs << chan->cfg.log_msg_size;
	struct mlx5vf_buf *buf = &chan->rbuf;
	u32 i;
	int ret;

	buf->npages = DIV_ROUND_UP_ULL(bytes, PAGE_SIZE);
	buf->pages = kvcalloc(buf->npages, sizeof(*buf->pages),
			      GFP_KERNEL_ACCOUNT);
	if (!buf->pages)
		return -ENOMEM;
	for (i = 0; i < buf->npages; i++) {
		buf->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!buf->pages[i]) {
			ret = -ENOMEM;
			goto err_pages;
		}
	}
	chan->rbuf_va = vmap(buf->pages, buf->npages, VM_MAP, PAGE_KERNEL);
	if (!chan->rbuf_va) {
		ret = -ENOMEM;
		goto err_pages;
	}
	ret = mlx5vf_core_buf_map(chan->fw, buf);
	if (ret)
		goto err_vunmap;
	return 0;

err_vunmap:
	vunmap(chan->rbuf_va);
err_pages:
	mlx5vf_trk_pages_free(buf);
	return ret;
}

static void mlx5vf_trk_buf_free(struct mlx5vf_track_chan *chan)
{
	mlx5vf_core_buf_unmap(chan->fw, &chan->rbuf);
	vunmap(chan->rbuf_va);
	mlx5vf_trk_pages_free(&chan->rbuf);
}

/* An RC QP without SQ: the host QP with its RQ (@host), or the FW QP. */
static int mlx5vf_trk_qp_create(struct mlx5vf_track_chan *chan, bool host,
				u32 *qpn)
{
	struct mlx5_core_dev *mdev = chan->mdev;
	u32 out[MLX5_ST_SZ_DW(create_qp_out)] = {};
	int npas = host ? chan->rq_buf.npages : 0;
	int inlen = MLX5_ST_SZ_BYTES(create_qp_in) +
		    MLX5_FLD_SZ_BYTES(create_qp_in, pas[0]) * npas;
	void *qpc;
	u32 *in;
	int ret;

	in = kvzalloc(inlen, GFP_KERNEL);
	if (!in)
		return -ENOMEM;
	qpc = MLX5_ADDR_OF(create_qp_in, in, qpc);
	MLX5_SET(qpc, qpc, st, MLX5_QP_ST_RC);
	MLX5_SET(qpc, qpc, pm_state, MLX5_QP_PM_MIGRATED);
	MLX5_SET(qpc, qpc, pd, mlx5vf_core_pdn(chan->fw));
	MLX5_SET(qpc, qpc, uar_page, chan->uar->index);
	MLX5_SET(qpc, qpc, ts_format, mlx5_get_qp_default_ts(mdev));
	if (MLX5_CAP_GEN(mdev, cqe_version) == 1)
		MLX5_SET(qpc, qpc, user_index, 0xffffff);
	MLX5_SET(qpc, qpc, no_sq, 1);
	if (host) {
		MLX5_SET(qpc, qpc, rq_type, MLX5_NON_ZERO_RQ);
		MLX5_SET(qpc, qpc, log_rq_stride, ilog2(MLX5_SEND_WQE_DS) - 4);
		MLX5_SET(qpc, qpc, log_rq_size, ilog2(chan->cfg.nmsgs));
		MLX5_SET(qpc, qpc, cqn_rcv, chan->mcq.cqn);
		MLX5_SET(qpc, qpc, log_page_size,
			 chan->rq_buf.page_shift - MLX5_ADAPTER_PAGE_SHIFT);
		MLX5_SET64(qpc, qpc, dbr_addr, chan->rq_db.dma);
		mlx5_fill_page_frag_array(&chan->rq_buf,
					  (__be64 *)MLX5_ADDR_OF(create_qp_in,
								 in, pas));
	} else {
		MLX5_SET(qpc, qpc, rq_type, MLX5_ZERO_LEN_RQ);
	}
	MLX5_SET(create_qp_in, in, opcode, MLX5_CMD_OP_CREATE_QP);
	ret = mlx5_cmd_exec(mdev, in, inlen, out, sizeof(out));
	kvfree(in);
	if (!ret)
		*qpn = MLX5_GET(create_qp_out, out, qpn);
	return ret;
}

static void mlx5vf_trk_qp_destroy(struct mlx5vf_track_chan *chan, u32 qpn)
{
	u32 in[MLX5_ST_SZ_DW(destroy_qp_in)] = {};

	MLX5_SET(destroy_qp_in, in, opcode, MLX5_CMD_OP_DESTROY_QP);
	MLX5_SET(destroy_qp_in, in, qpn, qpn);
	mlx5_cmd_exec_in(chan->mdev, destroy_qp, in);
}

static int mlx5vf_trk_host_qp_create(struct mlx5vf_track_chan *chan)
{
	struct mlx5_core_dev *mdev = chan->mdev;
	u8 log_stride = ilog2(MLX5_SEND_WQE_DS);
	u8 log_n = ilog2(chan->cfg.nmsgs);
	int ret;

	ret = mlx5_db_alloc_node(mdev, &chan->rq_db, mdev->priv.numa_node);
	if (ret)
		return ret;
	ret = mlx5_frag_buf_alloc_node(mdev, wq_get_byte_sz(log_n, log_stride),
				       &chan->rq_buf, mdev->priv.numa_node);
	if (ret)
		goto err_db;
	mlx5_init_fbc(chan->rq_buf.frags, log_stride, log_n, &chan->rq_fbc);
	ret = mlx5vf_trk_qp_create(chan, true, &chan->host_qpn);
	if (ret)
		goto err_buf;
	return 0;

err_buf:
	mlx5_frag_buf_free(mdev, &chan->rq_buf);
err_db:
	mlx5_db_free(mdev, &chan->rq_db);
	return ret;
}

static void mlx5vf_trk_host_qp_destroy(struct mlx5vf_track_chan *chan)
{
	mlx5vf_trk_qp_destroy(chan, chan->host_qpn);
	mlx5_frag_buf_free(chan->mdev, &chan->rq_buf);
	mlx5_db_free(chan->mdev, &chan->rq_db);
}

static int mlx5vf_trk_fw_qp_create(struct mlx5vf_track_chan *chan)
{
	return mlx5vf_trk_qp_create(chan, false, &chan->fw_qpn);
}

static void mlx5vf_trk_fw_qp_destroy(struct mlx5vf_track_chan *chan)
{
	mlx5vf_trk_qp_destroy(chan, chan->fw_qpn);
}

/* Give buffer @slot to the RQ's next WQE, then tell the HCA. */
static void mlx5vf_trk_post(struct mlx5vf_track_chan *chan, u32 slot)
{
	u32 ix = chan->rq_pc & (chan->cfg.nmsgs - 1);
	struct mlx5_wqe_data_seg *seg;

	seg = mlx5_frag_buf_get_wqe(&chan->rq_fbc, ix);
	seg->byte_count = cpu_to_be32(1U << chan->cfg.log_msg_size);
	seg->lkey = cpu_to_be32(chan->rbuf.mkey);
	seg->addr = cpu_to_be64((u64)slot << chan->cfg.log_msg_size);
	chan->rq_slot[ix] = slot;
	chan->rq_pc++;
	/* the WQE is written before the doorbell record hands it over */
	dma_wmb();
	chan->rq_db.db[MLX5_RCV_DBR] = cpu_to_be32(chan->rq_pc & 0xffff);
}

static int mlx5vf_trk_qp_init(struct mlx5vf_track_chan *chan, u32 qpn)
{
	u32 in[MLX5_ST_SZ_DW(rst2init_qp_in)] = {};
	void *qpc = MLX5_ADDR_OF(rst2init_qp_in, in, qpc);

	MLX5_SET(rst2init_qp_in, in, opcode, MLX5_CMD_OP_RST2INIT_QP);
	MLX5_SET(rst2init_qp_in, in, qpn, qpn);
	MLX5_SET(qpc, qpc, primary_address_path.vhca_port_num, 1);
	MLX5_SET(qpc, qpc, pm_state, MLX5_QPC_PM_STATE_MIGRATED);
	MLX5_SET(qpc, qpc, rre, 1);
	MLX5_SET(qpc, qpc, rwe, 1);
	return mlx5_cmd_exec_in(chan->mdev, rst2init_qp, in);
}

static int mlx5vf_trk_qp_rtr(struct mlx5vf_track_chan *chan, u32 qpn,
			     u32 remote_qpn)
{
	u32 in[MLX5_ST_SZ_DW(init2rtr_qp_in)] = {};
	void *qpc = MLX5_ADDR_OF(init2rtr_qp_in, in, qpc);

	MLX5_SET(init2rtr_qp_in, in, opcode, MLX5_CMD_OP_INIT2RTR_QP);
	MLX5_SET(init2rtr_qp_in, in, qpn, qpn);
	MLX5_SET(qpc, qpc, mtu, MLX5_QPC_MTU_4K_BYTES);
	MLX5_SET(qpc, qpc, log_msg_max, MLX5_CAP_GEN(chan->mdev, log_max_msg));
	MLX5_SET(qpc, qpc, remote_qpn, remote_qpn);
	MLX5_SET(qpc, qpc, primary_address_path.vhca_port_num, 1);
	MLX5_SET(qpc, qpc, primary_address_path.fl, 1);	/* loopback */
	MLX5_SET(qpc, qpc, min_rnr_nak, 1);
	return mlx5_cmd_exec_in(chan->mdev, init2rtr_qp, in);
}

static int mlx5vf_trk_qp_rts(struct mlx5vf_track_chan *chan, u32 qpn)
{
	u32 in[MLX5_ST_SZ_DW(rtr2rts_qp_in)] = {};
	void *qpc = MLX5_ADDR_OF(rtr2rts_qp_in, in, qpc);

	MLX5_SET(rtr2rts_qp_in, in, opcode, MLX5_CMD_OP_RTR2RTS_QP);
	MLX5_SET(rtr2rts_qp_in, in, qpn, qpn);
	MLX5_SET(qpc, qpc, retry_count, 7);
	MLX5_SET(qpc, qpc, rnr_retry, 7);	/* 7: retry for ever */
	MLX5_SET(qpc, qpc, primary_address_path.ack_timeout, 8);
	return mlx5_cmd_exec_in(chan->mdev, rtr2rts_qp, in);
}

/* Every buffer posted, the host QP ready to receive, the FW QP to send. */
static int mlx5vf_trk_connect(struct mlx5vf_track_chan *chan)
{
	u32 i;
	int ret;

	ret = mlx5vf_trk_qp_init(chan, chan->host_qpn);
	if (ret)
		return ret;
	for (i = 0; i < chan->cfg.nmsgs; i++)
		mlx5vf_trk_post(chan, i);
	ret = mlx5vf_trk_qp_rtr(chan, chan->host_qpn, chan->fw_qpn);
	if (ret)
		return ret;
	ret = mlx5vf_trk_qp_init(chan, chan->fw_qpn);
	if (ret)
		return ret;
	ret = mlx5vf_trk_qp_rtr(chan, chan->fw_qpn, chan->host_qpn);
	if (ret)
		return ret;
	return mlx5vf_trk_qp_rts(chan, chan->fw_qpn);
}

/* Interrupt context: the PF's asynchronous events, every type. */
static int mlx5vf_trk_event(struct notifier_block *nb, unsigned long type,
			    void *data)
{
	struct mlx5vf_track_chan *chan =
		mlx5_nb_cof(nb, struct mlx5vf_track_chan, nb);
	struct mlx5_eqe *eqe = data;
	u32 qpn;

	switch (type) {
	case MLX5_EVENT_TYPE_WQ_CATAS_ERROR:
	case MLX5_EVENT_TYPE_WQ_ACCESS_ERROR:
	case MLX5_EVENT_TYPE_WQ_INVAL_REQ_ERROR:
		if (eqe->data.qp_srq.type != MLX5_EVENT_QUEUE_TYPE_QP)
			break;
		qpn = be32_to_cpu(eqe->data.qp_srq.qp_srq_n) & 0xffffff;
		if (qpn == chan->host_qpn || qpn == chan->fw_qpn)
			mlx5vf_trk_error(chan);
		break;
	case MLX5_EVENT_TYPE_OBJECT_CHANGE:
		if (be16_to_cpu(eqe->data.obj_change.obj_type) !=
		    VFMIG_OBJ_TYPE_PAGE_TRACK)
			break;
		chan->cfg.notify(chan->cfg.priv, MLX5VF_TRACK_EV_OBJ_CHANGE,
				 be32_to_cpu(eqe->data.obj_change.obj_id));
		break;
	}
	return NOTIFY_OK;
}

static int mlx5vf_trk_nb_register(struct mlx5vf_track_chan *chan)
{
	MLX5_NB_INIT(&chan->nb, mlx5vf_trk_event, NOTIFY_ANY);
	return mlx5_eq_notifier_register(chan->mdev, &chan->nb);
}

static void mlx5vf_trk_nb_unregister(struct mlx5vf_track_chan *chan)
{
	mlx5_eq_notifier_unregister(chan->mdev, &chan->nb);
}

/* What open does, in order; close undoes the steps done, last first. */
static const struct {
	int (*create)(struct mlx5vf_track_chan *chan);
	void (*destroy)(struct mlx5vf_track_chan *chan);
} mlx5vf_trk_steps[] = {
	{ mlx5vf_trk_uar_get, mlx5vf_trk_uar_put },
	{ mlx5vf_trk_cq_create, mlx5vf_trk_cq_destroy },
	{ mlx5vf_trk_buf_alloc, mlx5vf_trk_buf_free },
	{ mlx5vf_trk_host_qp_create, mlx5vf_trk_host_qp_destroy },
	{ mlx5vf_trk_fw_qp_create, mlx5vf_trk_fw_qp_destroy },
	{ mlx5vf_trk_connect, NULL },
	{ mlx5vf_trk_nb_register, mlx5vf_trk_nb_unregister },
};

void mlx5vf_core_track_close(struct mlx5vf_track_chan *chan)
{
	if (!chan)
		return;
	while (chan->nsteps) {
		chan->nsteps--;
		if (mlx5vf_trk_steps[chan->nsteps].destroy)
			mlx5vf_trk_steps[chan->nsteps].destroy(chan);
	}
	kvfree(chan);
}

int mlx5vf_core_track_open(struct mlx5vf_fw *fw,
			   const struct mlx5vf_track_chan_cfg *cfg,
			   struct mlx5vf_track_chan **out, u32 *fw_qpn)
{
	struct mlx5_core_dev *mdev = mlx5vf_core_mdev(fw);
	struct mlx5vf_track_chan *chan;
	int ret;

	/*
	 * A WQE's byte_count has 31 bits, qpc.log_rq_size 4; the buffers
	 * are no larger than any other buffer mlx5vf_core_buf_map() takes.
	 */
	if (!is_power_of_2(cfg->nmsgs) || cfg->log_msg_size > 30 ||
	    ((u64)cfg->nmsgs << cfg->log_msg_size) > VFMIG_MLX5_MAX_LOAD_SIZE ||
	    ilog2(cfg->nmsgs) > min_t(u32, 15,
				      MLX5_CAP_GEN(mdev, log_max_wq_sz)) ||
	    ilog2(cfg->nmsgs) > MLX5_CAP_GEN(mdev, log_max_cq_sz))
		return -EINVAL;
	chan = kvzalloc(struct_size(chan, rq_slot, cfg->nmsgs),
			GFP_KERNEL_ACCOUNT);
	if (!chan)
		return -ENOMEM;
	chan->fw = fw;
	chan->mdev = mdev;
	chan->cfg = *cfg;
	for (; chan->nsteps < ARRAY_SIZE(mlx5vf_trk_steps); chan->nsteps++) {
		ret = mlx5vf_trk_steps[chan->nsteps].create(chan);
		if (ret) {
			mlx5vf_core_track_close(chan);
			return ret;
		}
	}
	*out = chan;
	*fw_qpn = chan->fw_qpn;
	return 0;
}

/* The CQE at the consumer index if the HCA gave it to us, or NULL. */
static struct mlx5_cqe64 *mlx5vf_trk_next_cqe(struct mlx5vf_track_chan *chan)
{
	u32 ci = chan->mcq.cons_index;
	struct mlx5_cqe64 *cqe = mlx5vf_trk_cqe(chan, ci);
	u8 sw_owner = !!(ci & chan->cfg.nmsgs);	/* flips at each wrap */

	if (get_cqe_opcode(cqe) == MLX5_CQE_INVALID ||
	    (cqe->op_own & MLX5_CQE_OWNER_MASK) != sw_owner)
		return NULL;
	/* the rest of the CQE is read after its owner bit */
	dma_rmb();
	return cqe;
}

int mlx5vf_core_track_poll(struct mlx5vf_track_chan *chan,
			   struct mlx5vf_track_msg *msg)
{
	struct mlx5_cqe64 *cqe;
	u8 opcode;
	u32 ix;

	if (READ_ONCE(chan->err))
		return -EIO;
	cqe = mlx5vf_trk_next_cqe(chan);
	if (!cqe) {
		/* an event for the next CQE, or at once for one already in */
		mlx5_cq_arm(&chan->mcq, MLX5_CQ_DB_REQ_NOT, chan->uar->map,
			    chan->mcq.cons_index);
		return 0;
	}
	opcode = get_cqe_opcode(cqe);
	if (opcode != MLX5_CQE_RESP_SEND_IMM) {
		dev_warn(chan->mdev->device,
			 "vfmig: dirty-page report channel: CQE opcode %u, syndrome 0x%x\n",
			 opcode, ((struct mlx5_err_cqe *)cqe)->syndrome);
		WRITE_ONCE(chan->err, 1);
		return -EIO;
	}
	ix = be16_to_cpu(cqe->wqe_counter) & (chan->cfg.nmsgs - 1);
	msg->slot = chan->rq_slot[ix];
	msg->imm = be32_to_cpu(cqe->immediate);
	msg->byte_cnt = be32_to_cpu(cqe->byte_cnt);
	msg->data = chan->rbuf_va +
		    ((size_t)msg->slot << chan->cfg.log_msg_size);
	chan->rq_cc++;
	chan->mcq.cons_index++;
	mlx5_cq_set_ci(&chan->mcq);
	return 1;
}

int mlx5vf_core_track_repost(struct mlx5vf_track_chan *chan,
			     const struct mlx5vf_track_msg *msg)
{
	if (READ_ONCE(chan->err))
		return -EIO;
	/* a slot of ours, and a free WQE: each message comes back once */
	if (WARN_ON_ONCE(msg->slot >= chan->cfg.nmsgs ||
			 chan->rq_pc - chan->rq_cc >= chan->cfg.nmsgs))
		return -EINVAL;
	mlx5vf_trk_post(chan, msg->slot);
	return 0;
}
