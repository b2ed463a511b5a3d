/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A software MODEL of ConnectX firmware, for mlx5 VF migration tests.
 *
 * This is not firmware and talks to no hardware.  It implements struct
 * mlx5vf_fw_ops by interpreting the command mailboxes of mlx5vf_ifc.h the
 * way the protocol notes describe ConnectX firmware (QUERY_HCA_CAP,
 * SUSPEND_VHCA, RESUME_VHCA, QUERY_VHCA_MIGRATION_STATE, SAVE_VHCA_STATE,
 * LOAD_VHCA_STATE), so that the mlx5 driver's logic above the ops runs on
 * a real kernel with QEMU's pci-testdev standing in for each VF.
 *
 * One modelled PF holds every modelled VF: each pci-testdev function bound
 * to the model module is one VF.  A VF's "VHCA state" is a buffer of
 * kernel memory that changes by itself while the VHCA runs; its images
 * (what SAVE writes and LOAD reads) are the model's own format, opaque to
 * the driver.  Everything the model does is documented in
 * docs/abi/sysfs-bus-pci-devices-vfmig_mlx5model, with its knobs.
 *
 * Locking: fw->lock (one mutex per VF) covers the VHCA and its
 * configuration; it nests inside the driver's state_mutex (exec() is
 * called with it held) and is never held while calling the driver back
 * (command completions, SR-IOV notifiers).  fw->event_lock serialises the
 * SR-IOV events.  mdl_list_lock (fwmodel.c) covers the list of VFs.
 */
#ifndef MLX5VF_FWMODEL_H
#define MLX5VF_FWMODEL_H

#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "../mlx5vf.h"

#define MDL_PAGE_SIZE		4096U
#define MDL_MIN_STATE		((u64)MDL_PAGE_SIZE)
#define MDL_MAX_STATE		(256ULL << 20)
#define MDL_DEF_STATE		(1ULL << 20)
#define MDL_MIN_CHUNK		(8ULL << 10)
#define MDL_MAX_CHUNK		(8ULL << 20)
#define MDL_DEF_CHUNK		(1ULL << 20)
#define MDL_MAX_DELAY_US	10000000U
#define MDL_MAX_RATE		(1ULL << 32)
#define MDL_MAX_VFS		128
#define MDL_VHCA_ID_BASE	0x20
#define MDL_FW_VERSION_LEN	24
#define MDL_DEF_FW_VERSION	"22.41.1000"
#define MDL_PSID		"MDL0000000001"

/* Capabilities (the caps knob) */
enum {
	MDL_CAP_MIGRATION	= BIT(0),	/* PF cmd_hca_cap.migration */
	MDL_CAP_MULTI_LOAD	= BIT(1),	/* PF cmd_hca_cap_2 */
	MDL_CAP_TRACKING	= BIT(2),
	MDL_CAP_IN_CHUNKS	= BIT(3),
	MDL_CAP_MIG_STATE	= BIT(4),
	MDL_CAP_MIGRATABLE	= BIT(5),	/* the VF's cap_2, GET_MAX */
	MDL_CAP_ADV_VIRT	= BIT(6),	/* PF adv_virtualization */
	MDL_CAP_ALL		= GENMASK(6, 0),
};
#define MDL_CAP_DEFAULT	(MDL_CAP_MIGRATION | MDL_CAP_MULTI_LOAD | \
			 MDL_CAP_TRACKING | MDL_CAP_MIG_STATE | \
			 MDL_CAP_MIGRATABLE | MDL_CAP_ADV_VIRT)

/*
 * The page tracker's capabilities (ADV_VIRTUALIZATION pg_track_*): fixed
 * but for the range count and message size, which are knobs.
 */
#define MDL_PT_DEF_RANGES	4
#define MDL_PT_MAX_RANGES	255
#define MDL_PT_LOG_MIN_SPACE	12
#define MDL_PT_LOG_MAX_SPACE	42
#define MDL_PT_LOG_MIN_MSG	12
#define MDL_PT_DEF_LOG_MSG	12	/* 512 pages a message */
#define MDL_PT_LOG_MAX_MSG	16
#define MDL_PT_LOG_MIN_PAGE	12
#define MDL_PT_LOG_MAX_PAGE	21
/* dirty pages the model holds unreported; more puts the object in ERROR */
#define MDL_PT_MAX_DIRTY	(1UL << 20)
#define MDL_DMA_MAX_RATE	(1ULL << 20)	/* pages per second */
#define MDL_DMA_DEF_WINDOW	0x1000000ULL	/* 16 MiB at 16 MiB */

/* The VHCA's run state, ordered from running to fully suspended */
enum mdl_run {
	MDL_RUNNING,
	MDL_INITIATOR_SUSPENDED,
	MDL_SUSPENDED,
};

/* What the pending bitmap means */
enum mdl_session {
	MDL_SESSION_NONE,
	MDL_SESSION_TRACKING,	/* pre-copy: unsent and changed pages */
	MDL_SESSION_STOP_COPY,	/* suspended: pages of the image left */
};

/* The commands counter, one per opcode and op_mod (or flags) */
enum mdl_counter {
	MDL_CNT_SUSPEND_INITIATOR,
	MDL_CNT_SUSPEND_RESPONDER,
	MDL_CNT_RESUME_RESPONDER,
	MDL_CNT_RESUME_INITIATOR,
	MDL_CNT_QUERY,
	MDL_CNT_QUERY_INC,
	MDL_CNT_SAVE_FULL_TRACK,
	MDL_CNT_SAVE_INC_TRACK,
	MDL_CNT_SAVE_INC,
	MDL_CNT_SAVE_FULL,
	MDL_CNT_LOAD,
	MDL_CNT_QUERY_HCA_CAP,
	MDL_CNT_FAILED,		/* any command not completed with OK */
	MDL_CNT_PT_CREATE,	/* the page tracker's commands */
	MDL_CNT_PT_REPORT,
	MDL_CNT_PT_QUERY,
	MDL_CNT_PT_DESTROY,
	MDL_CNT_PT_MESSAGES,	/* report messages sent */
	MDL_CNT_PT_PAGES,	/* page addresses in them */
	MDL_CNT_DMA_WRITES,	/* pages the function wrote by DMA */
	MDL_CNT_DMA_FAILED,	/* DMA writes the IOMMU refused */
	MDL_CNT_NR,
};

/* Page-tracker faults (the track_fault knob): each fires once */
enum mdl_pt_fault {
	MDL_PT_FAULT_NONE,
	MDL_PT_FAULT_CREATE,	/* CREATE_GENERAL_OBJECT refused */
	MDL_PT_FAULT_REPORT,	/* MODIFY to REPORTING refused */
	MDL_PT_FAULT_CQE,	/* the channel breaks after a report's 1st message */
	MDL_PT_FAULT_ERROR,	/* the report's last message says ERROR */
	MDL_PT_FAULT_OBJ_CHANGE, /* ERROR with no message: OBJECT_CHANGE only */
	MDL_PT_FAULT_LOSE,	/* the dirty pages dropped, not reported */
	MDL_PT_FAULT_NR,
};

/* The modelled PAGE_TRACK object (one per VF) */
struct mdl_pt {
	bool exists;
	u32 obj_id;
	u8 state;			/* VFMIG_PAGE_TRACK_* */
	u8 log_page_size;
	u8 log_msg_size;
	u32 nranges;
	struct mlx5vf_track_range ranges[MDL_PT_MAX_RANGES];
	struct mlx5vf_track_chan *chan;	/* the channel it reports on */
	/* pt_lock: pages written since last reported, by page index */
	struct xarray dirty;
	unsigned long ndirty;
	bool overflow;
	/* the report being sent (report_work) */
	u64 *rep;
	unsigned long rep_n, rep_pos;
	u8 rep_end;			/* state of the last message */
	bool rep_cqe_fault;
};

/* Commands the fault knob can make fail */
enum mdl_fault_cmd {
	MDL_FAULT_NONE,
	MDL_FAULT_SUSPEND,
	MDL_FAULT_RESUME,
	MDL_FAULT_QUERY,
	MDL_FAULT_QUERY_INC,
	MDL_FAULT_SAVE,
	MDL_FAULT_SAVE_INITIAL,
	MDL_FAULT_SAVE_PRECOPY,
	MDL_FAULT_SAVE_FINAL,
	MDL_FAULT_SAVE_FULL,
	MDL_FAULT_LOAD,
	MDL_FAULT_QUERY_HCA_CAP,
	MDL_FAULT_NR,
};

/* One modelled VF (its VHCA and the PF's view of it) */
struct mlx5vf_fw {
	struct list_head link;		/* mdl_list_lock */
	struct pci_dev *pdev;
	int vf_id;			/* written under both locks */

	struct mutex lock;

	/* configuration (sysfs) */
	u32 caps;			/* MDL_CAP_* */
	u64 chunk_bytes;
	u32 cmd_delay_us;
	u64 dirty_rate;			/* bytes per second */
	char fw_version[MDL_FW_VERSION_LEN];
	u16 fw_major, fw_minor;

	/* the VHCA */
	enum mdl_run run;
	bool detached;			/* SR-IOV disabled */
	enum mdl_session session;
	bool chunk_mode;		/* the last QUERY asked for chunks */
	bool reinit;			/* next inc QUERY says INIT */
	u32 save_seq;			/* of the last image saved */
	bool load_started;		/* a base image was loaded */
	u32 load_seq;			/* of the last image loaded */
	u32 loads;			/* LOADs since suspended */

	/* the VHCA's state */
	u8 *state;
	u64 size;
	unsigned long npages;
	unsigned long *pending;		/* pages the session must send */
	unsigned long npending;
	u64 seed;
	u64 rng;
	u64 carry;			/* bytes due, not a whole page yet */
	ktime_t last_tick;
	struct delayed_work dirty_work;
	bool dead;

	struct xarray mkeys;		/* mkey index -> mlx5vf_buf */
	u32 mkey_next;
	struct workqueue_struct *wq;	/* exec_cb(), ordered */

	enum mdl_fault_cmd fault_cmd;
	int fault_status;		/* > 0: FW status; < 0: errno */
	u64 counts[MDL_CNT_NR];

	/*
	 * The page tracker and the function's DMA (model_track.c).  pt is
	 * under lock, its dirty pages under pt_lock.  dma_sem: the DMA
	 * writer holds it for reading around each write; a suspend takes it
	 * for writing, so that no write lands after the function stopped.
	 * Order: lock -> dma_sem -> pt_lock.
	 */
	struct mdl_pt pt;
	struct mutex pt_lock;
	struct rw_semaphore dma_sem;
	u32 pt_max_ranges;		/* knobs */
	u32 pt_log_msg_size;
	enum mdl_pt_fault pt_fault;
	u32 pt_next_id;
	u64 dma_rate;			/* pages per second */
	u64 dma_window_start;
	u64 dma_window_len;
	u64 dma_carry;			/* us of the rate not yet a page */
	u64 dma_seq;
	ktime_t dma_tick;
	struct delayed_work dma_work;
	struct work_struct report_work;

	struct mutex event_lock;	/* the sriov knob */
	struct blocking_notifier_head nh;
};

/*
 * fwmodel.c: the provider's callbacks (struct mlx5vf_provider) and the
 * fw ops.  mlx5vf_model_attach() creates the VF (ERR_PTR on failure),
 * mlx5vf_model_detach() destroys it after flushing its commands.
 */
extern const struct mlx5vf_fw_ops mlx5vf_model_fw_ops;
struct mlx5vf_fw *mlx5vf_model_attach(struct pci_dev *pdev);
void mlx5vf_model_detach(struct mlx5vf_fw *fw);
int mlx5vf_model_vf_id(struct mlx5vf_fw *fw, struct pci_dev *pdev);
void mlx5vf_model_identity(struct mlx5vf_fw *fw, char *buf, size_t len);
/* An FLR of the VF: the VHCA back to its power-on state. */
void mlx5vf_model_flr(struct mlx5vf_fw *fw);
/* module exit: forget the configuration kept for unbound functions */
void mlx5vf_model_exit(void);

/* fwmodel.c, for model_sysfs.c */
struct mlx5vf_fw *mlx5vf_model_find(struct pci_dev *pdev);
int mlx5vf_model_resize(struct mlx5vf_fw *fw, u64 size);
int mlx5vf_model_set_vf_id(struct mlx5vf_fw *fw, int vf_id);
void mlx5vf_model_set_rate(struct mlx5vf_fw *fw, u64 rate);
int mlx5vf_model_dirty(struct mlx5vf_fw *fw, unsigned long npages);
void mlx5vf_model_digest(struct mlx5vf_fw *fw, u8 *out);
int mlx5vf_model_sriov(struct mlx5vf_fw *fw, bool enable);
int mlx5vf_model_parse_fw_version(const char *s, u16 *major, u16 *minor);
extern const char *const mlx5vf_model_counter_names[MDL_CNT_NR];
extern const char *const mlx5vf_model_fault_names[MDL_FAULT_NR];

/* model_track.c: the page tracker, its channel and the function's DMA */
extern const char *const mlx5vf_model_pt_fault_names[MDL_PT_FAULT_NR];
void mdl_pt_init(struct mlx5vf_fw *fw);
void mdl_pt_fini(struct mlx5vf_fw *fw);	/* no lock; may sleep */
/* lock held: the commands of the PAGE_TRACK object */
u8 mdl_pt_cmd(struct mlx5vf_fw *fw, void *in, int inlen, void *out,
	      u32 *synd);
/* lock held: the function stops (or starts) initiating DMA */
void mdl_pt_run_changed(struct mlx5vf_fw *fw);
/* lock held: the VF goes away (SR-IOV disable): so does its tracker */
void mdl_pt_detach(struct mlx5vf_fw *fw);
int mdl_track_open(struct mlx5vf_fw *fw,
		   const struct mlx5vf_track_chan_cfg *cfg,
		   struct mlx5vf_track_chan **chan, u32 *fw_qpn);
int mdl_track_poll(struct mlx5vf_track_chan *chan,
		   struct mlx5vf_track_msg *msg);
int mdl_track_repost(struct mlx5vf_track_chan *chan,
		     const struct mlx5vf_track_msg *msg);
void mdl_track_close(struct mlx5vf_track_chan *chan);
/* knobs */
int mlx5vf_model_dma_dirty(struct mlx5vf_fw *fw, u64 iova, u64 len);
void mlx5vf_model_set_dma_rate(struct mlx5vf_fw *fw, u64 rate);
ssize_t mlx5vf_model_pt_show(struct mlx5vf_fw *fw, char *buf);

/* Statuses and syndromes the tracker shares with fwmodel.c */
#define MDL_STAT_BAD_OP		0x2
#define MDL_SYND_PT_TYPE	0x4d4c0050	/* not a PAGE_TRACK */
#define MDL_SYND_PT_EXISTS	0x4d4c0051	/* one per VF */
#define MDL_SYND_PT_ID		0x4d4c0052	/* no such object */
#define MDL_SYND_PT_PARAM	0x4d4c0053	/* outside the caps */
#define MDL_SYND_PT_QPN		0x4d4c0054	/* not our channel */
#define MDL_SYND_PT_STATE	0x4d4c0055	/* not TRACKING */
#define MDL_SYND_PT_LENGTH	0x4d4c0056	/* inlen vs num_ranges */
#define MDL_SYND_PT_FAULT	0x4d4c00fb	/* the track_fault knob */

/*
 * model_sysfs.c: /sys/bus/pci/devices/<BDF>/vfmig_mlx5model/.  Add it
 * once the vfio device is registered (mlx5vf_pci_probe() succeeded: the
 * knobs that need a closed device read its drvdata), remove it before
 * mlx5vf_pci_remove().
 */
int mlx5vf_model_sysfs_add(struct mlx5vf_fw *fw);
void mlx5vf_model_sysfs_remove(struct mlx5vf_fw *fw);

#endif /* MLX5VF_FWMODEL_H */
