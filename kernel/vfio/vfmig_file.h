/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The migration data fd (engine internal).
 */
#ifndef VFMIG_FILE_H
#define VFMIG_FILE_H

#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/wait.h>

#include "vfmig.h"

struct vfmig_file {
	struct file *filp;
	struct vfmig_device *vd;	/* valid while io_lock is held */
	bool saving;

	/* io_lock: one user of the fd at a time; held across user copies */
	struct mutex io_lock;
	/*
	 * Written under state_mutex.  close_device sets it, then takes and
	 * drops io_lock before returning, so a user that found the file
	 * enabled under io_lock may still use ->vd until it drops io_lock.
	 */
	bool disabled;
	int error;			/* sticky, state_mutex */
	wait_queue_head_t poll_wq;

	/*
	 * Bytes taken from the backend and not yet read (saving) or copied
	 * from the user and not yet given to it (resuming).  buf_len and
	 * buf_pos change under io_lock and state_mutex both.
	 */
	void *buf;
	size_t buf_len;
	size_t buf_pos;
	enum vfmig_data_kind buf_kind;
	u64 stream_pos;			/* stream offset of buf[0] */
	bool eof;
	bool corrupt;			/* flip the byte at corrupt_offset */
	u64 corrupt_offset;
};

/* state_mutex held.  A new data fd with the driver's own reference. */
struct vfmig_file *vfmig_file_create(struct vfmig_device *vd, bool saving);
/*
 * state_mutex held.  End of stream for the user: later reads, writes and
 * ioctls fail with -ENODEV, pollers wake up with EPOLLHUP.  The caller
 * then drops the driver's reference with fput(migf->filp).
 */
void vfmig_file_disable(struct vfmig_file *migf);
/* After state_mutex is dropped: wait for users still inside the fd. */
void vfmig_file_flush(struct vfmig_file *migf);
/* state_mutex held.  Unread bytes already taken from the backend. */
u64 vfmig_file_unread(struct vfmig_file *migf, enum vfmig_data_kind kind);

/*
 * state_mutex held.  What VFIO_MIG_GET_PRECOPY_INFO returns now; both 0
 * outside PRE_COPY and PRE_COPY_P2P.
 */
void vfmig_precopy_bytes(struct vfmig_device *vd, u64 *initial, u64 *dirty);
/* state_mutex held.  What VFIO_DEVICE_FEATURE_MIG_DATA_SIZE returns now. */
u64 vfmig_stop_copy_bytes(struct vfmig_device *vd);
u64 vfmig_stop_copy_estimate(struct vfmig_device *vd, bool *whole);

#endif /* VFMIG_FILE_H */
