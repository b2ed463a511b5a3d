/*
 * vfmigvfio.h: a userspace client of the VFIO device uAPI
 *
 * Opens a VFIO device the way QEMU does (the device cdev + iommufd where
 * the kernel has them, else its IOMMU group and a type1 container), without
 * mapping any memory and without resetting it, and wraps the migration
 * ioctls of the uAPI and the read/write/poll semantics of its data fd.
 * Every error names the device, the file or ioctl and the reason.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include "vfmigdevice.h"

typedef struct _vfmigVFIOPaths vfmigVFIOPaths;
struct _vfmigVFIOPaths {
    const char *sysfsRoot;  /* NULL: "/sys" */
    const char *devRoot;    /* NULL: "/dev" */
};

typedef enum {
    VFMIG_VFIO_ACCESS_GROUP,    /* /dev/vfio/N + /dev/vfio/vfio (type1) */
    VFMIG_VFIO_ACCESS_CDEV,     /* /dev/vfio/devices/vfioN + /dev/iommu */
} vfmigVFIOAccess;

typedef struct _vfmigVFIO vfmigVFIO;

/*
 * Checks that @name is a PCI address (vfmigPCIAddressParse: DDDD:BB:SS.F or
 * BB:SS.F, domain 0000) or a mediated device UUID, and sets *@normalized
 * (the canonical address or the lower-case UUID, as sysfs and the kernel
 * spell them) and *@isMdev.  Either output may be
 * NULL.  Returns 0, or -1 with VFMIG_ERR_INVALID_ARG naming the input.
 */
int vfmigVFIOParseName(const char *name,
                       char **normalized,
                       bool *isMdev);

/*
 * Opens the VFIO device @name (see vfmigVFIOParseName); @paths may be NULL.
 * Refuses a missing device (VFMIG_ERR_NO_DEVICE), one bound to no driver or
 * to a driver that is not a VFIO driver, i.e. for which VFIO registered no
 * device (no <sysfs device>/vfio-dev/vfioN; VFMIG_ERR_OPERATION_INVALID) and
 * one that another process holds (VFMIG_ERR_DEVICE_BUSY).  Issues no
 * VFIO_DEVICE_RESET (vfio-pci itself resets a function when its first user
 * opens it, as it does for QEMU).  Returns NULL with an error reported and
 * everything released.
 */
/*
 * The test suites point the tools, the hook and the daemon at fake /sys
 * and /dev trees with VFMIG_SYSFS_ROOT and VFMIG_DEV_ROOT; unset, every
 * path is the system's.
 */
void vfmigVFIOPathsFromEnv(vfmigVFIOPaths *paths);

vfmigVFIO *vfmigVFIOOpen(const char *name,
                         const vfmigVFIOPaths *paths);

/*
 * Wraps a VFIO device fd obtained elsewhere (e.g. passed over a socket);
 * takes ownership of @deviceFd.  @driver may be NULL.
 */
vfmigVFIO *vfmigVFIOAdoptFD(const char *name,
                            const char *driver,
                            int deviceFd);

void vfmigVFIOClose(vfmigVFIO *vfio);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigVFIO, vfmigVFIOClose);

const char *vfmigVFIOGetName(vfmigVFIO *vfio);
/* The bound driver ("vfio-pci", "mlx5_vfio_pci", "mtty"), or NULL. */
const char *vfmigVFIOGetDriver(vfmigVFIO *vfio);
vfmigVFIOAccess vfmigVFIOGetAccess(vfmigVFIO *vfio);
/* The IOMMU group number, -1 on the cdev path. */
int vfmigVFIOGetGroup(vfmigVFIO *vfio);
/* The device fd; stays owned by @vfio. */
int vfmigVFIOGetDeviceFD(vfmigVFIO *vfio);

/*
 * VFIO_DEVICE_FEATURE GET of VFIO_DEVICE_FEATURE_MIGRATION.  A device
 * whose driver has no migration support fails with
 * VFMIG_ERR_OPERATION_UNSUPPORTED naming the driver.
 */
int vfmigVFIOGetMigrationFlags(vfmigVFIO *vfio, uint64_t *flags);

/* VFIO_DEVICE_FEATURE GET of VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE. */
int vfmigVFIOGetState(vfmigVFIO *vfio, uint32_t *state);

/*
 * VFIO_DEVICE_FEATURE SET of VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: moves
 * the device to @state (the kernel walks combination transitions).  Sets
 * *@dataFd to the new data fd the transition returned, which the caller
 * then owns, or to -1.  No FSM checks here: the kernel's verdict is
 * reported as is.
 */
int vfmigVFIOSetState(vfmigVFIO *vfio, uint32_t state, int *dataFd);

/*
 * VFIO_DEVICE_FEATURE GET of VFIO_DEVICE_FEATURE_MIG_DATA_SIZE.  Returns 1
 * with *@bytes set; 0 when the kernel or its driver has no such feature
 * (nothing reported: the size is unknown, not an error); -1 with an error.
 */
int vfmigVFIOGetStopCopySize(vfmigVFIO *vfio, uint64_t *bytes);

/* VFIO_DEVICE_RESET.  VFMIG_ERR_OPERATION_UNSUPPORTED without a reset
 * method (EINVAL/ENOTTY). */
int vfmigVFIOReset(vfmigVFIO *vfio);

/*
 * The data fd functions take the device's @name only for their messages
 * (NULL is allowed).
 */

/* VFIO_MIG_GET_PRECOPY_INFO on @dataFd (valid in the PRE_COPY states). */
int vfmigVFIOPrecopyInfo(const char *name,
                         int dataFd,
                         uint64_t *initialBytes,
                         uint64_t *dirtyBytes);

/*
 * What a read() of a data fd that returned @n with errno @err means, for a
 * device in a PRE_COPY state (@inPrecopy) or not.  Pure: reports nothing.
 *   n > 0                      0, VFMIG_DATA_OK
 *   n == 0, in PRE_COPY        0, VFMIG_DATA_AGAIN (mtty, hisi_acc, qat end
 *                                 a pre-copy round with 0, not ENOMSG)
 *   n == 0, otherwise          0, VFMIG_DATA_END
 *   ENOMSG, in PRE_COPY        0, VFMIG_DATA_AGAIN
 *   EAGAIN/EWOULDBLOCK         0, VFMIG_DATA_AGAIN (non-blocking fd)
 *   EINTR                      1: read again
 *   anything else              -1: an error (ENOMSG outside PRE_COPY
 *                                 too, which the uAPI forbids)
 * @status is set only when 0 is returned.
 */
int vfmigVFIODataClassify(ssize_t n,
                          int err,
                          bool inPrecopy,
                          vfmigDataStatus *status);

/*
 * Reads at most @len bytes of @dataFd, retrying on EINTR.  Returns the
 * bytes read with VFMIG_DATA_OK, 0 with VFMIG_DATA_AGAIN or VFMIG_DATA_END
 * (see vfmigVFIODataClassify), or -1 with an error reported.
 */
ssize_t vfmigVFIODataRead(const char *name,
                          int dataFd,
                          void *buf,
                          size_t len,
                          bool inPrecopy,
                          vfmigDataStatus *status);

/*
 * Writes @buf to @dataFd, retrying on EINTR.  Returns the bytes written,
 * which may be fewer than @len (the caller loops), or -1 with an error.
 */
ssize_t vfmigVFIODataWrite(const char *name,
                           int dataFd,
                           const void *buf,
                           size_t len);

/*
 * poll()s @dataFd for input for up to @timeoutMs (-1: forever), across
 * EINTR.  Returns 1 when a read() will not block (data, end of stream or
 * a pending error), 0 on timeout, -1 with an error.
 */
int vfmigVFIODataWait(const char *name,
                      int dataFd,
                      int timeoutMs);
