/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mlx5 VF migration on the vfmig engine.
 *
 * The driver's logic (capability probe, one firmware command sequence per
 * FSM arc, the record stream, PRE_COPY estimates, the PF's SR-IOV events)
 * sits above a small firmware interface, struct mlx5vf_fw_ops: run a
 * command mailbox synchronously or with a completion, map a buffer for the
 * firmware (pages and an mkey), read the PF's capabilities, listen to the
 * PF's VF enable/disable events.  Two implementations:
 *
 *  - mlx5vf_core.c, in mlx5_vfio_pci.ko: the real one, over mlx5_core of
 *    the PF that owns the VF;
 *  - model/, in vfmig_mlx5model.ko: a software MODEL of the firmware that
 *    interprets the same mailboxes, bound to QEMU's pci-testdev, so that
 *    everything above the ops runs on a real kernel without ConnectX
 *    hardware.  It is a model: it knows only what the driver sends.
 *
 * Locking: everything here runs under the engine's state_mutex (vd), with
 * two exceptions: the command completion (mlx5vf_save_done(), any
 * context) and the SR-IOV notifier, which takes state_mutex itself.
 * Flags written outside state_mutex are whole bytes or atomics, never
 * bitfields (upstream's 2026 stable fix: a read-modify-write of a shared
 * bitfield word could lose another context's update).
 */
#ifndef MLX5VF_H
#define MLX5VF_H

#include <linux/completion.h>
#include <linux/list.h>
#include <linux/notifier.h>
#include <linux/spinlock.h>

#include "vfmig.h"
#include "mlx5vf_ifc.h"

struct mlx5vf_device;
struct mlx5vf_fw;
struct mlx5vf_provider;

/* A buffer the firmware writes (SAVE) or reads (LOAD). */
struct mlx5vf_buf {
	struct list_head link;
	struct page **pages;
	u32 npages;
	u32 mkey;		/* set by fw ops->buf_map() */
	void *fw_priv;		/* the fw implementation's mapping */
	bool mapped;
};

/* An asynchronous command: @done runs once, in any context. */
struct mlx5vf_async_cmd {
	void *out;
	int outlen;
	void (*done)(struct mlx5vf_async_cmd *cmd, int status);
	void *priv;		/* the fw implementation's */
};

/*
 * The PF's DMA dirty-page tracker, from its ADV_VIRTUALIZATION caps
 * (pg_track_*); sizes are log2 of bytes.
 */
struct mlx5vf_track_caps {
	bool supported;			/* cmd_hca_cap.adv_virtualization */
	u8 max_num_range;
	u8 log_min_addr_space;
	u8 log_max_addr_space;
	u8 log_min_msg_size;
	u8 log_max_msg_size;
	u8 log_min_page_size;
	u8 log_max_page_size;
};

/* What the PF's firmware says of migration, from its current caps. */
struct mlx5vf_pf_caps {
	bool migration;			/* cmd_hca_cap.migration */
	bool migration_multi_load;	/* cmd_hca_cap_2 */
	bool migration_tracking_state;
	bool migration_in_chunks;
	bool migration_state;
	struct mlx5vf_track_caps track;
};

/*
 * The tracker's reporting channel: the firmware sends its dirty-page
 * reports as SEND_WITH_IMM messages from a QP of its own (the "FW QP")
 * to a receive queue of ours, each into one posted receive buffer of
 * 2^log_msg_size bytes.  A message is a run of 8-byte entries, each a
 * big-endian {u32 address high, u32 address low} of one dirty page; its
 * immediate data carries the tracker's state in bits 31..28.  Only the
 * hardware implementation builds QPs, a CQ and doorbells; the driver sees
 * messages.
 */
enum mlx5vf_track_event {
	MLX5VF_TRACK_EV_MSG,		/* a completion may be waiting */
	MLX5VF_TRACK_EV_ERROR,		/* a QP or the CQ went to error */
	MLX5VF_TRACK_EV_OBJ_CHANGE,	/* OBJECT_CHANGE of general object @obj_id */
};

struct mlx5vf_track_chan;

struct mlx5vf_track_chan_cfg {
	u8 log_msg_size;		/* of each receive buffer */
	u32 nmsgs;			/* buffers posted: a power of two */
	/*
	 * Called in any context (interrupt included) with no lock of the
	 * driver's held; must not sleep.  @obj_id is meaningful for
	 * MLX5VF_TRACK_EV_OBJ_CHANGE only.
	 */
	void (*notify)(void *priv, enum mlx5vf_track_event ev, u32 obj_id);
	void *priv;
};

struct mlx5vf_track_msg {
	u32 slot;			/* the receive buffer, for repost */
	u32 imm;			/* immediate data, host order */
	u32 byte_cnt;			/* bytes of entries */
	const void *data;		/* the entries, valid until repost */
};

/* The PF's SR-IOV events (mlx5_core's MLX5_PF_NOTIFY_*). */
#define MLX5VF_PF_NOTIFY_DISABLE_VF	0
#define MLX5VF_PF_NOTIFY_ENABLE_VF	1

struct mlx5vf_fw_ops {
	/*
	 * A command, synchronously.  0: the command completed with status
	 * OK; -EREMOTEIO: it completed with another status, which is in
	 * @out (status, syndrome); other errno: it did not complete.
	 */
	int (*exec)(struct mlx5vf_fw *fw, void *in, int inlen, void *out,
		    int outlen);
	/*
	 * A command with a completion: 0 and cmd->done() called later with
	 * the status as exec() returns it, or -errno and no call.
	 */
	int (*exec_cb)(struct mlx5vf_fw *fw, void *in, int inlen,
		       struct mlx5vf_async_cmd *cmd);
	/* Wait for every command started with exec_cb() to complete. */
	void (*flush)(struct mlx5vf_fw *fw);
	/* Give the firmware access to @buf's pages: sets buf->mkey. */
	int (*buf_map)(struct mlx5vf_fw *fw, struct mlx5vf_buf *buf);
	void (*buf_unmap)(struct mlx5vf_fw *fw, struct mlx5vf_buf *buf);
	/* The PF's current capabilities. */
	void (*pf_caps)(struct mlx5vf_fw *fw, struct mlx5vf_pf_caps *caps);
	/*
	 * Optional: the maximal GENERAL_2 capabilities of function
	 * @function_id (VF index + 1) into @out (a query_hca_cap_out
	 * mailbox).  NULL: the driver sends its own QUERY_HCA_CAP.
	 */
	int (*other_func_cap_2)(struct mlx5vf_fw *fw, u16 function_id,
				void *out, int outlen);
	/* The PF's VF enable/disable events for VF @vf_id. */
	int (*notifier_register)(struct mlx5vf_fw *fw, int vf_id,
				 struct notifier_block *nb);
	void (*notifier_unregister)(struct mlx5vf_fw *fw, int vf_id,
				    struct notifier_block *nb);
	/*
	 * Optional: the function was reset in software only, no FLR reached
	 * the device (QEMU's pci-testdev has no reset method).  An FLR
	 * brings a real VHCA back to running; the model needs telling.
	 */
	void (*function_reset)(struct mlx5vf_fw *fw);

	/*
	 * Optional, all four or none: the DMA tracker's reporting channel.
	 * track_open() creates it with every buffer posted and the two QPs
	 * connected, and returns the FW QP's number for the PAGE_TRACK
	 * object's reporting_qpn.  track_poll(): 1 and the next completed
	 * message in *@msg; 0 none, and cfg->notify() will be called when
	 * one arrives; -EIO the channel is in error (it stays so).  Every
	 * message polled is given back with track_repost() before the
	 * channel is closed.  No call sleeps except open and close.
	 */
	int (*track_open)(struct mlx5vf_fw *fw,
			  const struct mlx5vf_track_chan_cfg *cfg,
			  struct mlx5vf_track_chan **chan, u32 *fw_qpn);
	int (*track_poll)(struct mlx5vf_track_chan *chan,
			  struct mlx5vf_track_msg *msg);
	int (*track_repost)(struct mlx5vf_track_chan *chan,
			    const struct mlx5vf_track_msg *msg);
	void (*track_close)(struct mlx5vf_track_chan *chan);
};

/* A FW_DATA or STOP_COPY_SIZE record waiting to be read. */
struct mlx5vf_rec {
	struct list_head link;
	struct vfmig_mlx5_rec_hdr hdr;
	__le64 value;			/* STOP_COPY_SIZE's payload */
	struct mlx5vf_buf *buf;		/* FW_DATA's payload, or NULL */
	u64 len;			/* header and payload */
	u64 pos;			/* bytes of it handed over */
	enum vfmig_data_kind kind;
	u8 chunk;			/* stop-copy buffer it uses, 1..2 */
};

enum mlx5vf_save_state {
	MLX5VF_SAVE_OK,
	MLX5VF_SAVE_PRECOPY_ERROR,	/* tracking lost: a full image follows */
	MLX5VF_SAVE_ERROR,		/* the stream is dead */
};

#define MLX5VF_MAX_CHUNKS	2

struct mlx5vf_save {
	bool active;
	bool track;			/* PRE_COPY: FW tracks changes */
	u8 state;			/* enum mlx5vf_save_state */
	struct list_head recs;		/* ready, in stream order */
	struct list_head avail;		/* buffers to reuse */
	struct mlx5vf_buf *stop_buf[MLX5VF_MAX_CHUNKS];
	u64 max_pos;			/* stream bytes queued so far */
	u64 initial_bytes;		/* of the stream, from its start */
	u64 inc_length;			/* last incremental QUERY */
	bool inc_known;			/* inc_length answers it (maybe 0) */
	u64 state_size;			/* first QUERY: required_umem_size */
	u64 full_size;			/* and remaining_total_size */
	bool final;			/* the stop-copy SAVEs were started */
	bool complete;			/* the last image is queued */
	u64 next_required;		/* chunk mode: FW has more */

	/* the one SAVE in flight */
	bool in_flight;
	struct completion done;
	struct mlx5vf_async_cmd cmd;
	u32 out[MLX5_ST_SZ_DW(vfmig_save_vhca_state_out)];
	int status;			/* set by mlx5vf_save_done() */
	struct mlx5vf_buf *buf;
	bool buf_track;
	enum vfmig_data_kind kind;
	u8 chunk;
};

enum mlx5vf_load_step {
	MLX5VF_LOAD_HEADER,
	MLX5VF_LOAD_IMAGE,
	MLX5VF_LOAD_SKIP,		/* an optional record we do not use */
	MLX5VF_LOAD_STOP_COPY_SIZE,
	MLX5VF_LOAD_ERROR,
};

struct mlx5vf_load {
	enum mlx5vf_load_step step;
	u8 hdr[sizeof(struct vfmig_mlx5_rec_hdr)];
	u8 value[8];
	u32 hdr_pos;
	u64 rec_size;
	u64 rec_pos;
	u64 prep_size;			/* STOP_COPY_SIZE, bounded */
	struct mlx5vf_buf *buf;		/* the image being read */
	u32 images;			/* LOADs done */
};

/*
 * The DMA dirty-page tracker (mlx5vf_track.c): one PAGE_TRACK object and
 * its reporting channel while QEMU logs.  lock serialises the log ops and
 * the PF's disable; it is never taken with state_mutex held, nor
 * state_mutex under it.  err and kicks are written by the channel's
 * notify() and the PF event, in any context: an int and an atomic, never
 * bitfields.
 */
struct mlx5vf_tracker {
	struct mutex lock;
	struct mlx5vf_track_caps caps;	/* the PF's, at probe */
	bool offered;			/* log_ops registered */
	bool active;			/* object and channel exist */
	struct mlx5vf_track_chan *chan;
	u32 obj_id;
	u32 fw_qpn;
	u8 log_page_size;
	u8 log_msg_size;
	u32 nmsgs;
	int err;			/* sticky until log_stop: -errno */
	atomic_t kicks;			/* notify() calls since the last poll */
	atomic_t obj_changed;
	wait_queue_head_t wq;
	/* for dev_dbg and sysfs-free accounting */
	u64 reports;
	u64 msgs;
	u64 pages;
};

/* What the driver last told the firmware about the function. */
enum mlx5vf_vhca_run {
	MLX5VF_VHCA_RUNNING,
	MLX5VF_VHCA_INITIATOR_SUSPENDED,	/* SUSPEND(INITIATOR) */
	MLX5VF_VHCA_SUSPENDED,			/* SUSPEND(RESPONDER) */
};

struct mlx5vf_device {
	struct vfmig_device vd;		/* first: vfio_alloc_device() */
	const struct mlx5vf_fw_ops *fw_ops;
	const struct mlx5vf_provider *prov;
	struct mlx5vf_fw *fw;

	int vf_id;
	u16 vhca_id;
	bool migrate_cap;		/* migration offered */
	bool chunk_mode;
	bool migration_state_cap;
	char fw_id[64];			/* firmware identity, for sysfs */
	u64 last_full_size;		/* of the last whole-image QUERY */
	u64 last_stop_copy;		/* the last MIG_DATA_SIZE answer */
	bool data_size_whole;		/* answer the whole image (upstream's) */
	u8 vhca_run;			/* enum mlx5vf_vhca_run */

	/* written by the notifier under state_mutex, read locklessly */
	u8 mdev_detach;
	struct notifier_block nb;	/* registered while migrate_cap */

	struct mlx5vf_save save;
	struct mlx5vf_load load;
	struct mlx5vf_tracker trk;
};

static inline struct mlx5vf_device *mlx5vf_from_vd(struct vfmig_device *vd)
{
	return container_of(vd, struct mlx5vf_device, vd);
}

/* A command the firmware refused (-EREMOTEIO) fails the caller with -EIO. */
static inline int mlx5vf_errno(int ret)
{
	return ret == -EREMOTEIO ? -EIO : ret;
}

#define mlx5vf_dbg(mvd, fmt, ...) \
	vfmig_dbg(&(mvd)->vd, "mlx5: " fmt, ##__VA_ARGS__)

/* mlx5vf_cmd.c: firmware commands */
int mlx5vf_cmd_probe(struct mlx5vf_device *mvd);
int mlx5vf_cmd_suspend(struct mlx5vf_device *mvd, u16 op_mod);
int mlx5vf_cmd_resume(struct mlx5vf_device *mvd, u16 op_mod);
#define MLX5VF_QUERY_INC	BIT(0)
int mlx5vf_cmd_query(struct mlx5vf_device *mvd, u32 flags, u64 *state_size,
		     u64 *total_size, u8 *mig_state);
int mlx5vf_cmd_save(struct mlx5vf_device *mvd, struct mlx5vf_buf *buf,
		    bool inc, bool track);
int mlx5vf_cmd_load(struct mlx5vf_device *mvd, struct mlx5vf_buf *buf,
		    u64 size);
u8 mlx5vf_cmd_status(const void *out);
struct mlx5vf_track_range {
	u64 start;
	u64 length;
};
struct mlx5vf_track_obj {
	u8 log_addr_space_size;
	u8 log_page_size;
	u8 log_msg_size;
	u32 reporting_qpn;
	u32 num_ranges;
	const struct mlx5vf_track_range *ranges;
};
int mlx5vf_cmd_track_create(struct mlx5vf_device *mvd,
			    const struct mlx5vf_track_obj *obj, u32 *obj_id);
int mlx5vf_cmd_track_report(struct mlx5vf_device *mvd, u32 obj_id, u64 iova,
			    u64 length);
int mlx5vf_cmd_track_query(struct mlx5vf_device *mvd, u32 obj_id, u8 *state);
int mlx5vf_cmd_track_destroy(struct mlx5vf_device *mvd, u32 obj_id);

/* mlx5vf_buf.c: buffers */
struct mlx5vf_buf *mlx5vf_buf_alloc(struct mlx5vf_device *mvd, u64 bytes);
void mlx5vf_buf_free(struct mlx5vf_device *mvd, struct mlx5vf_buf *buf);
void mlx5vf_buf_copy_from(struct mlx5vf_buf *buf, u64 off, void *to, u64 len);
void mlx5vf_buf_copy_to(struct mlx5vf_buf *buf, u64 off, const void *from,
			u64 len);

/* mlx5vf_save.c: the saving stream (backend ops, state_mutex held) */
void mlx5vf_save_init(struct mlx5vf_device *mvd);
void mlx5vf_save_done(struct mlx5vf_async_cmd *cmd, int status);
int mlx5vf_save_open(struct vfmig_device *vd, bool precopy);
ssize_t mlx5vf_save_fill(struct vfmig_device *vd, void *to, size_t len,
			 bool stopped, enum vfmig_data_kind *kind);
void mlx5vf_save_pending(struct vfmig_device *vd, struct vfmig_pending *p);
int mlx5vf_precopy_info(struct vfmig_device *vd, u64 read, u64 *initial,
			u64 *dirty);
int mlx5vf_data_size(struct vfmig_device *vd, u64 *len);
void mlx5vf_save_close(struct vfmig_device *vd);
void mlx5vf_save_wait(struct mlx5vf_device *mvd);
void mlx5vf_save_final(struct mlx5vf_device *mvd);
void mlx5vf_save_abandon(struct mlx5vf_device *mvd);

/* mlx5vf_load.c: the resuming stream (backend ops, state_mutex held) */
int mlx5vf_load_open(struct vfmig_device *vd, bool multi_load);
int mlx5vf_load_write(struct vfmig_device *vd, const void *buf, size_t len);
int mlx5vf_load_apply(struct vfmig_device *vd);
void mlx5vf_load_close(struct vfmig_device *vd);

/* mlx5vf_arcs.c: the device's side of each FSM arc, the SR-IOV events */
extern const struct vfmig_backend_ops mlx5vf_backend_ops;
int mlx5vf_pf_event(struct notifier_block *nb, unsigned long event,
		    void *data);
void mlx5vf_close_resume(struct mlx5vf_device *mvd);
void mlx5vf_detach_locked(struct vfmig_device *vd);

/* mlx5vf_track.c: DMA dirty-page tracking (the vfio_log_ops) */
void mlx5vf_track_init(struct mlx5vf_device *mvd);
/* At probe, migration offered: registers the log ops where it can. */
void mlx5vf_track_setup(struct mlx5vf_device *mvd);
/* close_device: logging ends with the user. */
void mlx5vf_track_stop(struct mlx5vf_device *mvd);
/* The PF disables the VF: a report in progress ends with an error. */
void mlx5vf_track_detach(struct mlx5vf_device *mvd);
/* Entries of a report: {be32 address high, be32 address low}. */
#define MLX5VF_TRACK_ENTRY_SIZE		8
#define MLX5VF_TRACK_IMM_STATE(imm)	((imm) >> 28)
/* PAGE_TRACK's track_type: dirty pages of DMA writes */
#define MLX5VF_TRACK_TYPE_DIRTY		1

/* mlx5vf_pci.c: the vfio device both modules register */
struct mlx5vf_provider {
	const struct mlx5vf_fw_ops *fw_ops;
	/* the firmware behind @pdev, or an ERR_PTR */
	struct mlx5vf_fw *(*attach)(struct pci_dev *pdev);
	void (*detach)(struct mlx5vf_fw *fw);
	/* the VF's index on its PF, or -errno */
	int (*vf_id)(struct mlx5vf_fw *fw, struct pci_dev *pdev);
	/* firmware identity for vfio_migration/firmware */
	void (*identity)(struct mlx5vf_fw *fw, char *buf, size_t len);
};

int mlx5vf_pci_probe(struct pci_dev *pdev, const struct mlx5vf_provider *prov);
/* The firmware behind a bound device, or NULL. */
struct mlx5vf_fw *mlx5vf_pci_fw(struct pci_dev *pdev);
/* mlx5vf_core.c: the real provider, over mlx5_core */
extern const struct mlx5vf_provider mlx5vf_core_provider;
void mlx5vf_pci_remove(struct pci_dev *pdev);
extern const struct pci_error_handlers mlx5vf_err_handlers;

#endif /* MLX5VF_H */
