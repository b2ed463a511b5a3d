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
	MDL_CAP_ALL		= GENMASK(5, 0),
};
#define MDL_CAP_DEFAULT	(MDL_CAP_MIGRATION | MDL_CAP_MULTI_LOAD | \
			 MDL_CAP_TRACKING | MDL_CAP_MIG_STATE | \
			 MDL_CAP_MIGRATABLE)

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
	MDL_CNT_NR,
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

/*
 * model_sysfs.c: /sys/bus/pci/devices/<BDF>/vfmig_mlx5model/.  Add it
 * once the vfio device is registered (mlx5vf_pci_probe() succeeded: the
 * knobs that need a closed device read its drvdata), remove it before
 * mlx5vf_pci_remove().
 */
int mlx5vf_model_sysfs_add(struct mlx5vf_fw *fw);
void mlx5vf_model_sysfs_remove(struct mlx5vf_fw *fw);

#endif /* MLX5VF_FWMODEL_H */
