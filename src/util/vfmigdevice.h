/*
 * vfmigdevice.h: a device that speaks the VFIO migration protocol v2
 *
 * One interface over the real VFIO device (vfmigdevicevfio.c) and the
 * in-process emulated device used by unit tests (vfmigdeviceemu.c), so the
 * engine and the tools run unchanged on either.  The generic layer checks
 * every request against the shared FSM (kernel/vfio/vfio_mig_fsm.c) before
 * the implementation sees it, so a request the uAPI forbids gets the same
 * clear error whatever the device.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include "vfio_mig_uapi.h"
#include "vfmigenum.h"

/*
 * Migration features by their bit number in a feature mask, and their
 * words: the node-device XML's <features> elements, our drivers' sysfs
 * features file, virt-vfmig's output.  The first VFMIG_FEATURE_VFIO_LAST
 * are the VFIO uAPI's VFIO_MIGRATION_* flags, bit for bit.
 */
typedef enum {
    VFMIG_FEATURE_STOP_COPY = 0,
    VFMIG_FEATURE_P2P,
    VFMIG_FEATURE_PRE_COPY,
    VFMIG_FEATURE_MULTI_LOAD,   /* loads several images (our drivers) */

    VFMIG_FEATURE_LAST
} vfmigFeature;

#define VFMIG_FEATURE_VFIO_LAST (VFMIG_FEATURE_PRE_COPY + 1)

VFMIG_ENUM_DECL(vfmigFeature);

typedef enum {
    VFMIG_DATA_OK,      /* bytes were transferred */
    VFMIG_DATA_AGAIN,   /* temporary end of stream (PRE_COPY): wait, retry */
    VFMIG_DATA_END,     /* permanent end of stream (STOP_COPY) */
} vfmigDataStatus;

typedef struct _vfmigDevice vfmigDevice;
typedef struct _vfmigDeviceOps vfmigDeviceOps;

/*
 * Implementations report errors with vfmigReportError and return -1.  The
 * generic layer has already checked the arguments and the FSM, so
 * implementations only do the work.
 */
struct _vfmigDeviceOps {
    const char *kind;   /* "vfio", "emulated" */

    /* VFIO_DEVICE_FEATURE_MIGRATION: the device's VFIO_MIGRATION_* flags */
    int (*getFlags)(vfmigDevice *dev, uint64_t *flags);
    /* VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE GET */
    int (*getState)(vfmigDevice *dev, uint32_t *state);
    /*
     * VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE SET, possibly a combination
     * transition.  Keeps the data session a transition opens and drops it
     * when the device leaves the saving group or RESUMING.  On failure the
     * device may be in any state along the path: the generic layer reads
     * it back.
     */
    int (*setState)(vfmigDevice *dev, uint32_t state);
    /* read() of the data session; see vfmigDeviceRead */
    ssize_t (*read)(vfmigDevice *dev, void *buf, size_t len,
                    vfmigDataStatus *status);
    /* write() of the data session; may be short, never 0 */
    ssize_t (*write)(vfmigDevice *dev, const void *buf, size_t len);
    /* poll() of the data session: 1 readable, 0 timed out */
    int (*waitData)(vfmigDevice *dev, int timeoutMs);
    /* VFIO_MIG_GET_PRECOPY_INFO on the data session */
    int (*precopyInfo)(vfmigDevice *dev, uint64_t *initialBytes,
                       uint64_t *dirtyBytes);
    /* VFIO_DEVICE_FEATURE_MIG_DATA_SIZE */
    int (*stopCopySize)(vfmigDevice *dev, uint64_t *bytes);
    /* Optional: the driver's own stop-copy estimate and whether it is the
     * whole state rather than the residue (our drivers' sysfs); 1 when
     * said, 0 when the driver does not say */
    int (*stopCopyEstimate)(vfmigDevice *dev, uint64_t *bytes, bool *whole);
    /* VFIO_DEVICE_RESET: back to RUNNING, data session dropped */
    int (*reset)(vfmigDevice *dev);
    /* Optional: a digest of the device's internal state, for drivers that
     * offer one (the emulated device, vfmig_testdev); sets *digest NULL
     * when this device has none */
    int (*digest)(vfmigDevice *dev, char **digest);
    /* release everything the implementation holds */
    void (*dispose)(vfmigDevice *dev);
};

struct _vfmigDevice {
    const vfmigDeviceOps *ops;
    char *name;         /* PCI address, mdev UUID or emulated name */
    char *driver;       /* bound kernel driver; set by the implementation */
    void *priv;         /* the implementation's */
    bool haveFlags;
    uint64_t flags;     /* cached: QEMU and we read them once */
};

vfmigDevice *vfmigDeviceNew(const vfmigDeviceOps *ops,
                            const char *name,
                            void *priv);
void vfmigDeviceFree(vfmigDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDevice, vfmigDeviceFree);

const char *vfmigDeviceGetName(vfmigDevice *dev);

/* The kernel driver bound to the device ("vfio-pci", "mlx5_vfio_pci",
 * "mtty"), or NULL when the implementation does not know it. */
const char *vfmigDeviceGetDriver(vfmigDevice *dev);

/*
 * Whether the driver @driver (NULL: unknown) answers
 * VFIO_DEVICE_FEATURE_MIG_DATA_SIZE with the size of the whole device
 * state instead of what a STOP_COPY would stream now.  Upstream's
 * mlx5_vfio_pci does (a non-incremental firmware query), and so did
 * vfmig's before its drivers said what their size is
 * (vfio_migration/stop_copy_estimate, which wins where it exists).  A
 * downtime prediction must then take the device's residue from its
 * pre-copy estimates (initial plus dirty bytes), as QEMU's estimate does:
 * the whole state is not what the switchover sends.  The trait is a
 * column of the table of drivers (vfmigdriver.h).
 */
bool vfmigDriverStopCopyIsWholeState(const char *driver);

/* Migration flags; fails with VFMIG_ERR_OPERATION_UNSUPPORTED when the
 * device or its driver has no migration support at all. */
int vfmigDeviceGetFlags(vfmigDevice *dev, uint64_t *flags);
int vfmigDeviceGetState(vfmigDevice *dev, uint32_t *state);

/* Checks @state against the FSM for the device's flags and current state,
 * then moves the device there. */
int vfmigDeviceSetState(vfmigDevice *dev, uint32_t state);

/*
 * Reads at most @len bytes of the data session.  Returns the bytes read
 * and sets @status: VFMIG_DATA_OK with >0 bytes; VFMIG_DATA_AGAIN with 0
 * at the temporary end of a pre-copy stream (the driver returned ENOMSG,
 * or 0 while in PRE_COPY as drivers before the ENOMSG convention do);
 * VFMIG_DATA_END with 0 at the end of a STOP_COPY stream.  -1 on error.
 */
ssize_t vfmigDeviceRead(vfmigDevice *dev, void *buf, size_t len,
                        vfmigDataStatus *status);

/* Writes all of @buf to the RESUMING data session, or fails. */
int vfmigDeviceWriteAll(vfmigDevice *dev, const void *buf, size_t len);

/* Waits up to @timeoutMs (-1: forever) for data: 1 ready, 0 timeout. */
int vfmigDeviceWaitData(vfmigDevice *dev, int timeoutMs);

/* Only in PRE_COPY and PRE_COPY_P2P. */
int vfmigDevicePrecopyInfo(vfmigDevice *dev,
                           uint64_t *initialBytes,
                           uint64_t *dirtyBytes);

/* Bytes a STOP_COPY would stream now.  Returns 1 with *@bytes set; 0
 * when the kernel predates VFIO_DEVICE_FEATURE_MIG_DATA_SIZE (unknown,
 * nothing reported); -1 with an error. */
int vfmigDeviceStopCopySize(vfmigDevice *dev, uint64_t *bytes);

/*
 * The device's residue: what a STOP_COPY would stream now, for a downtime
 * prediction.  The driver's own estimate where it says what it is;
 * otherwise MIG_DATA_SIZE, unless the driver answers that with its whole
 * state (vfmigDriverStopCopyIsWholeState).  Returns 1 with *@bytes set;
 * 0 when the device cannot say now (a whole state, a kernel before
 * MIG_DATA_SIZE; nothing reported); -1 with an error.
 */
int vfmigDeviceStopCopyResidue(vfmigDevice *dev, uint64_t *bytes);

int vfmigDeviceReset(vfmigDevice *dev);

/* A digest (hex) of the device's internal state where the driver offers
 * one, so that a round trip can be checked; *@digest is NULL, and 0
 * returned, when it does not. */
int vfmigDeviceGetDigest(vfmigDevice *dev, char **digest);

/* "stop-copy,p2p,pre-copy" for the flags, for humans and scripts. */
char *vfmigDeviceFlagsString(uint64_t flags);
