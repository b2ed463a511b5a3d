/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vfmig migration engine: the part of a VFIO variant driver that does not
 * depend on the device.  It owns the migration state machine (our 8-state
 * FSM on every kernel), the data fds (saving and resuming), PRE_COPY
 * estimates, MIG_DATA_SIZE, reset, DMA logging and the vfio_migration/
 * sysfs group.  A backend (struct vfmig_backend_ops) only stops and starts
 * the device and produces or consumes the bytes of its state stream.
 *
 * The engine is compiled into each driver module (no exported symbols).
 *
 * Locking.  Three levels, always taken in this order:
 *   file->io_lock    one reader/writer/ioctl/poll of a data fd at a time;
 *                    the only lock held across copy_to_user/copy_from_user
 *   vd->state_mutex  the FSM state, the data sessions, the configuration
 *                    and every backend callback (the backend's own locks
 *                    nest inside it)
 *   vd->notify_lock  (spinlock) the saving file pointer, for wake-ups from
 *                    backend context (timers, work) that holds no mutex
 * We do not use the deferred-reset pattern of mlx5: the reset paths
 * (reset_done, called with vfio-pci's memory_lock held for writing, and
 * VFIO_DEVICE_RESET handled here) take state_mutex directly, which is safe
 * because nothing ever touches user memory while holding state_mutex; a
 * user copy that faults on a VFIO BAR mapping (memory_lock) can therefore
 * never wait behind a reset that waits for us.  This is what hisi_acc and
 * qat do.
 */
#ifndef VFMIG_H
#define VFMIG_H

#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/vfio_pci_core.h>

#include "vfmig_compat.h"

struct vfmig_device;
struct vfmig_file;

/* What the bytes handed over by save_fill() count as in the estimates. */
enum vfmig_data_kind {
	VFMIG_DATA_INITIAL,	/* initial_bytes */
	VFMIG_DATA_DIRTY,	/* dirty_bytes */
	VFMIG_DATA_FINAL,	/* only streamed in STOP_COPY */
};

/* Bytes the backend has not handed over yet. */
struct vfmig_pending {
	u64 initial;	/* of the initial image */
	u64 dirty;	/* what the changes since last sent would take now */
	u64 stop_copy;	/* everything a STOP_COPY would stream from now */
	/*
	 * stop_copy is the whole state, more than a STOP_COPY would stream
	 * now (an upper bound): the device cannot say the residue yet
	 */
	bool stop_copy_whole;
};

enum vfmig_precopy_mode {
	VFMIG_PRECOPY_OFF,
	VFMIG_PRECOPY_ON,
	VFMIG_PRECOPY_SINGLE,
};

/*
 * The device-specific part.  Every callback is called with state_mutex
 * held, never with user memory involved, and may sleep.
 */
struct vfmig_backend_ops {
	/*
	 * The device stops changing its state (the RUNNING_P2P -> STOP arc,
	 * PRE_COPY_P2P -> STOP_COPY, or their non-P2P twins) and starts again
	 * (STOP -> RUNNING_P2P or STOP -> RUNNING).  The engine measures
	 * both.  A failure leaves the FSM where it was.  start() is also
	 * called when a stopped device is closed, and must then be harmless
	 * for a device that runs already.
	 */
	int (*stop)(struct vfmig_device *vd);
	int (*start)(struct vfmig_device *vd);
	/*
	 * Optional.  The device stops initiating DMA and interrupts to its
	 * peers while still answering them (RUNNING -> RUNNING_P2P and
	 * PRE_COPY -> PRE_COPY_P2P), and starts again (the reverse arcs).
	 * A failure leaves the FSM where it was.  NULL: nothing to do.
	 */
	int (*quiesce)(struct vfmig_device *vd);
	int (*unquiesce)(struct vfmig_device *vd);

	/*
	 * A saving session.  @precopy: the session streams before STOP_COPY
	 * (PRE_COPY entered with precopy=on); otherwise nothing is streamed
	 * until the device is stopped, and then the whole state.
	 */
	int (*save_open)(struct vfmig_device *vd, bool precopy);
	/*
	 * Copy up to @len next bytes of the stream to @buf, all of one
	 * @kind.  @stopped: the device is in STOP_COPY.  Returns the count,
	 * 0 when nothing is to be sent now (while running) or at the end of
	 * the stream (when stopped), or a negative errno.
	 */
	ssize_t (*save_fill)(struct vfmig_device *vd, void *buf, size_t len,
			     bool stopped, enum vfmig_data_kind *kind);
	/*
	 * Estimates; valid with and without an open saving session.  Cheap
	 * and without side effects: sysfs and poll() call it.
	 */
	void (*save_pending)(struct vfmig_device *vd, struct vfmig_pending *p);
	/*
	 * Optional.  VFIO_MIG_GET_PRECOPY_INFO, in PRE_COPY or PRE_COPY_P2P
	 * with a saving session, for a device that must be asked and whose
	 * answer may start its next image (mlx5).  @read: the stream bytes
	 * the user has read so far.  NULL: the engine answers from
	 * save_pending() and the bytes it holds unread.
	 */
	int (*precopy_info)(struct vfmig_device *vd, u64 read, u64 *initial,
			    u64 *dirty);
	/*
	 * Optional.  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, if the device must
	 * be asked.  NULL: save_pending()'s stop_copy plus the unread bytes.
	 */
	int (*data_size)(struct vfmig_device *vd, u64 *len);
	void (*save_close)(struct vfmig_device *vd);

	/*
	 * A resuming session.  @multi_load: a stream of several images may
	 * be loaded.  load_write() validates as it goes (-EINVAL for a
	 * stream the device cannot load); load_apply() is the RESUMING ->
	 * STOP arc and must leave the device's state unchanged on failure.
	 */
	int (*load_open)(struct vfmig_device *vd, bool multi_load);
	int (*load_write)(struct vfmig_device *vd, const void *buf, size_t len);
	int (*load_apply)(struct vfmig_device *vd);
	void (*load_close)(struct vfmig_device *vd);

	/* The device was reset: back to its power-on state. */
	void (*reset)(struct vfmig_device *vd);

	/*
	 * Identity of the state stream, published in sysfs so a management
	 * layer can tell before a migration whether two devices can load
	 * each other's state: the stream format version, and (optional)
	 * the device firmware version emitted with sysfs_emit().
	 */
	u32 stream_version;
	ssize_t (*firmware)(struct vfmig_device *vd, char *buf);
};

enum vfmig_fault_type {
	VFMIG_FAULT_NONE,
	VFMIG_FAULT_FAIL_ARC,
	VFMIG_FAULT_ERROR_ARC,
	VFMIG_FAULT_CORRUPT,
	VFMIG_FAULT_REFUSE_LOAD,
};

struct vfmig_fault {
	enum vfmig_fault_type type;
	u32 from, to;		/* the arc, for FAIL_ARC and ERROR_ARC */
	u64 offset;		/* the stream byte, for CORRUPT */
};

struct vfmig_log_range {
	u64 start, last;	/* inclusive */
};

struct vfmig_log {
	struct mutex lock;
	bool started;
	u32 nr_ranges;
	struct vfmig_log_range *ranges;	/* what log_start was given */
	u32 nr_dirty;
	struct vfmig_log_range *dirty;	/* marked dirty, not yet reported */
};

struct vfmig_device {
	struct vfio_pci_core_device core;	/* first: vfio_alloc_device() */
	const struct vfmig_backend_ops *ops;

	struct mutex state_mutex;
	enum vfio_device_mig_state mig_state;
	bool opened;
	struct vfmig_file *saving;
	struct vfmig_file *resuming;

	/* configuration (state_mutex) */
	bool p2p;
	bool multi_load;
	enum vfmig_precopy_mode precopy;
	bool dma_logging;

	u64 stop_latency_us;
	u64 resume_latency_us;
	struct vfmig_fault fault;

	/*
	 * state_mutex: the switchover hold (vfmig_hold_*).  While it is
	 * armed and the device is in a pre-copy state, MIG_DATA_SIZE
	 * answers at least VFMIG_HOLD_BYTES, so the VMM's own switchover
	 * rule cannot fire; the lease ends it by itself if the process that
	 * armed it is gone.  held_stops counts the arcs from pre-copy to
	 * STOP_COPY taken while it was armed.
	 */
	bool hold_armed;
	unsigned long hold_until;	/* jiffies */
	u64 held_stops;

	/*
	 * state_mutex: the sessions are being dropped for a reset.  The
	 * function was (or is about to be) reset: a backend sends it
	 * nothing from save_close()/load_close() then.
	 */
	bool resetting;

	spinlock_t notify_lock;
	struct vfmig_log log;
};

/*
 * Dynamic debug on the device's PCI function (dev_dbg): every FSM arc,
 * every session (data fd) opened and closed, device open, close, reset.
 * echo 'module vfmig_testdev +p' > /sys/kernel/debug/dynamic_debug/control
 */
#define vfmig_dbg(vd, fmt, ...) \
	dev_dbg(&(vd)->core.pdev->dev, "vfmig: " fmt, ##__VA_ARGS__)

static inline struct vfmig_device *vfmig_from_vdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct vfmig_device, core.vdev);
}

static inline struct vfmig_device *vfmig_from_pdev(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *core = dev_get_drvdata(&pdev->dev);

	return container_of(core, struct vfmig_device, core);
}

/* From ops->init, after vfio_pci_core_init_dev(). */
void vfmig_init(struct vfmig_device *vd, const struct vfmig_backend_ops *ops,
		bool dma_logging);
/* From ops->release, before vfio_pci_core_release_dev(). */
void vfmig_release(struct vfmig_device *vd);

/* From open_device (between core enable and finish_enable)/close_device. */
void vfmig_open(struct vfmig_device *vd);
/* Before vfio_pci_core_close_device(); drops every data fd. */
void vfmig_close(struct vfmig_device *vd);

/* Back to RUNNING, data fds dropped, backend reset. */
void vfmig_reset(struct vfmig_device *vd);

/* VFIO_DEVICE_RESET and VFIO_DEVICE_GET_INFO for devices without a
 * PCI reset method (see vfmig_ioctl() in vfmig_core.c).
 */
long vfmig_ioctl(struct vfio_device *vdev, unsigned int cmd, unsigned long arg);
/* ops->device_feature: answers MIG_DATA_SIZE where the core does not. */
int vfmig_device_feature(struct vfio_device *vdev, u32 flags,
			 void __user *arg, size_t argsz);
/* pci_error_handlers.reset_done */
void vfmig_pci_reset_done(struct pci_dev *pdev);

/*
 * The device can no longer take part in a migration (mlx5: the PF
 * disables the VF).  Under state_mutex, @detach tells the backend first;
 * then a migration in progress ends: data fds dropped, state ERROR until
 * a reset.  A device in RUNNING stays there.
 */
void vfmig_detach(struct vfmig_device *vd,
		  void (*detach)(struct vfmig_device *vd));

/* The backend has new data to stream: wake the saving fd's pollers. */
void vfmig_notify(struct vfmig_device *vd);

/*
 * Configuration that may change only while the device is not open:
 * returns 0 with state_mutex held, or -EBUSY.  Release with
 * vfmig_config_unlock().
 */
int vfmig_config_lock(struct vfmig_device *vd);
void vfmig_config_unlock(struct vfmig_device *vd);
/* With vfmig_config_lock() held. */
void vfmig_set_p2p(struct vfmig_device *vd, bool p2p);

/* The device runs (changes its state) in @state. */
bool vfmig_state_is_running(u32 state);

/*
 * The switchover hold.  What MIG_DATA_SIZE answers at least while it
 * holds: more than any bandwidth x downtime-limit a VMM takes (QEMU:
 * up to 2000 s), and small enough that a VMM adding it for several
 * devices and its RAM cannot overflow 64 bits.
 */
#define VFMIG_HOLD_BYTES	(1ULL << 50)
/* The longest lease a write to vfio_migration/hold_ms may take, ms. */
#define VFMIG_HOLD_MAX_MS	60000
/*
 * state_mutex held: what VFIO_DEVICE_FEATURE_MIG_DATA_SIZE answers without
 * the hold (the backend's data_size, else the stop-copy estimate).
 */
int vfmig_data_size(struct vfmig_device *vd, u64 *len);
/* state_mutex held: arm the hold for @ms from now (0: disarm). */
void vfmig_hold_set(struct vfmig_device *vd, unsigned int ms);
/* state_mutex held: what is left of the lease, ms (0: not armed). */
unsigned int vfmig_hold_left_ms(struct vfmig_device *vd);

/* sysfs: vfio_migration/ on the PCI device. */
int vfmig_sysfs_add(struct vfmig_device *vd);
void vfmig_sysfs_remove(struct vfmig_device *vd);

/* Fault injection, for a driver's sysfs file ("fault"). */
ssize_t vfmig_fault_show(struct vfmig_device *vd, char *buf);
int vfmig_fault_store(struct vfmig_device *vd, const char *buf);
/*
 * Internal, state_mutex held: consume an armed fault on the arc
 * @from -> @to; returns its type (FAIL_ARC, ERROR_ARC) or NONE.
 */
enum vfmig_fault_type vfmig_fault_arc(struct vfmig_device *vd, u32 from,
				      u32 to);
bool vfmig_fault_take(struct vfmig_device *vd, enum vfmig_fault_type type,
		      u64 *offset);

/* DMA logging. */
extern const struct vfio_log_ops vfmig_log_ops;
/*
 * Before registration: the driver's own log ops in place of the engine's
 * (a device that tracks its DMA itself); sysfs then lists dma-logging.
 * Only where the kernel can report (VFMIG_HAVE_DMA_LOGGING).
 */
void vfmig_set_log_ops(struct vfmig_device *vd,
		       const struct vfio_log_ops *ops);
void vfmig_log_init(struct vfmig_device *vd);
void vfmig_log_destroy(struct vfmig_device *vd);
/* Stop logging (close_device). */
void vfmig_log_reset(struct vfmig_device *vd);
/* Mark [iova, iova + length) dirty: -EOPNOTSUPP, -EINVAL, -ENOMEM. */
int vfmig_log_mark(struct vfmig_device *vd, u64 iova, u64 length);

#endif /* VFMIG_H */
