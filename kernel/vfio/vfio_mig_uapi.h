/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VFIO migration uAPI as defined by Linux >= 6.2, for headers that predate it.
 *
 * Linux 6.1 (Debian 12's kernel and its linux-libc-dev) knows the v2
 * migration protocol but none of the PRE_COPY additions: no states 6 and 7,
 * no VFIO_MIGRATION_PRE_COPY, no struct vfio_precopy_info and its ioctl, and
 * no VFIO_DEVICE_FEATURE_MIG_DATA_SIZE.  The values below are the ABI of
 * Linux >= 6.2; they are only defined when the header in use lacks them, so
 * on a newer header the kernel's own definitions are used unchanged.
 *
 * The same file is included by the kernel modules (where <linux/vfio.h> is
 * the kernel header that pulls in the uAPI) and by userspace (where it is
 * the uAPI header itself).  Enum values cannot be tested with #ifdef, so the
 * PRE_COPY block is gated on the VFIO_MIGRATION_PRE_COPY macro that came
 * with them.
 */
#ifndef VFIO_MIG_UAPI_H
#define VFIO_MIG_UAPI_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/vfio.h>

#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY		(1 << 2)

/* enum vfio_device_mig_state gained these two in 6.2. */
#define VFIO_DEVICE_STATE_PRE_COPY	6
#define VFIO_DEVICE_STATE_PRE_COPY_P2P	7

struct vfio_precopy_info {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};

#define VFIO_MIG_GET_PRECOPY_INFO	_IO(VFIO_TYPE, VFIO_BASE + 21)
#endif /* VFIO_MIGRATION_PRE_COPY */

#ifndef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
struct vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};

#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9
#endif

/*
 * The seed patch of the PRE_COPY extension called the ioctl
 * VFIO_DEVICE_MIG_PRECOPY; same number, same structure.
 */
#ifndef VFIO_DEVICE_MIG_PRECOPY
#define VFIO_DEVICE_MIG_PRECOPY		VFIO_MIG_GET_PRECOPY_INFO
#endif

/* Number of states of the v2 FSM with PRE_COPY (ERROR .. PRE_COPY_P2P). */
#define VFMIG_DEVICE_STATE_NR		8

/* Every migration flag this uAPI revision defines. */
#define VFMIG_MIGRATION_FLAGS_KNOWN \
	(VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY)

#endif /* VFIO_MIG_UAPI_H */
