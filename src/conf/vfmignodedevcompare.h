/*
 * vfmignodedevcompare.h: can a VF's migration state move to another VF?
 *
 * Compares the vfio-migration capabilities of a source and a destination
 * VF the way `virsh hypervisor-cpu-compare` compares CPUs: a verdict, how
 * the migration will run (PRE_COPY and its mode, what QEMU does on the
 * source), and every reason when it is refused or degraded.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdint.h>

#include "vfmignodedevconf.h"

typedef enum {
    VFMIG_NODEDEV_COMPARE_INCOMPATIBLE = 0, /* the state cannot move */
    VFMIG_NODEDEV_COMPARE_DEGRADED,         /* it can, with a reason below */
    VFMIG_NODEDEV_COMPARE_COMPATIBLE,       /* it can, nothing lost */

    VFMIG_NODEDEV_COMPARE_LAST
} vfmigNodeDevCompareVerdict;

/* What QEMU does with the source VF when asked to migrate the VM. */
typedef enum {
    VFMIG_NODEDEV_QEMU_BLOCKED = 0,     /* migration blocker: no support */
    VFMIG_NODEDEV_QEMU_ALL_DIRTY,       /* only with enable-migration=on;
                                         * all guest RAM counted dirty */
    VFMIG_NODEDEV_QEMU_ALLOWED,         /* device or IOMMU dirty tracking */

    VFMIG_NODEDEV_QEMU_LAST
} vfmigNodeDevQEMU;

typedef enum {
    VFMIG_NODEDEV_REASON_NO_CAPABILITY = 0, /* a side has no capability */
    VFMIG_NODEDEV_REASON_DRIVER,            /* different drivers */
    VFMIG_NODEDEV_REASON_ID,                /* different vendor/device id */
    VFMIG_NODEDEV_REASON_FIRMWARE,          /* different firmware */
    VFMIG_NODEDEV_REASON_STREAM_VERSION,    /* different stream format */
    VFMIG_NODEDEV_REASON_NO_STOP_COPY,      /* a side cannot migrate */
    VFMIG_NODEDEV_REASON_NO_PRE_COPY,       /* a side has no PRE_COPY */
    VFMIG_NODEDEV_REASON_NO_MULTI_LOAD,     /* destination loads one image */
    VFMIG_NODEDEV_REASON_NO_DIRTY_TRACKING, /* source: all RAM dirty */

    VFMIG_NODEDEV_REASON_LAST
} vfmigNodeDevReason;

/* Which device a reason is about. */
typedef enum {
    VFMIG_NODEDEV_SIDE_BOTH = 0,
    VFMIG_NODEDEV_SIDE_SOURCE,
    VFMIG_NODEDEV_SIDE_DESTINATION,

    VFMIG_NODEDEV_SIDE_LAST
} vfmigNodeDevSide;

typedef struct _vfmigNodeDevCompareReason vfmigNodeDevCompareReason;
struct _vfmigNodeDevCompareReason {
    vfmigNodeDevReason code;
    vfmigNodeDevSide side;
    bool fatal;                     /* refuses the migration */
    char *message;                  /* translated, complete */
};

typedef struct _vfmigNodeDevCompareResult vfmigNodeDevCompareResult;
struct _vfmigNodeDevCompareResult {
    vfmigNodeDevCompareVerdict verdict;
    /* The pre-copy mode the source must use: ON (pre-copy with several
     * images), SINGLE (pre-copy advertised, state sent as one image at
     * stop-copy), OFF (stop-copy only). */
    vfmigNodeDevPrecopy precopy;
    vfmigNodeDevQEMU qemu;
    GPtrArray *reasons;             /* vfmigNodeDevCompareReason *, in order */
};

void vfmigNodeDevCompareResultFree(vfmigNodeDevCompareResult *res);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevCompareResult,
                              vfmigNodeDevCompareResultFree);

/*
 * Compares @src with @dst (either may be NULL: a device without the
 * capability).  Never fails.
 */
vfmigNodeDevCompareResult *
vfmigNodeDevCapVFIOMigCompare(const vfmigNodeDevCapVFIOMig *src,
                              const vfmigNodeDevCapVFIOMig *dst);

/*
 * What ALL_DIRTY costs.  QEMU counts all guest RAM dirty at every bitmap
 * sync, so the switch-over itself sends all of it while the guest is
 * stopped, whatever the downtime target: the downtime is at least the
 * guest's RAM over the link (the devices' state, their stop and resume
 * latencies and libvirt's own work come on top).  A kernel that can
 * report device dirty pages, with a driver that offers DMA logging, is
 * the only way below it.
 */

/* The link assumed where the caller knows no better: 10 Gbit/s, in
 * bytes/s. */
#define VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED 1250000000ULL

/*
 * The least downtime of a migration whose switch-over sends all @ramBytes
 * of guest RAM over a link of @linkBps bytes/s: @ramBytes / @linkBps, in
 * us, rounded up.  0 for no RAM; UINT64_MAX when @linkBps is 0 or the
 * time does not fit.
 */
uint64_t vfmigNodeDevAllDirtyLeastUs(uint64_t ramBytes,
                                     uint64_t linkBps);

/*
 * The figures of that bound as messages give them (translated):
 * a time of two significant digits ("3.4 s", "0.86 s", "54 ms", "41 s";
 * "unknown" for UINT64_MAX), guest RAM ("4.0 GiB", "512 MiB") and a link
 * ("10 Gbit/s", "2.5 Gbit/s", "800 Mbit/s").
 */
char *vfmigNodeDevAllDirtyFormatTime(uint64_t us);
char *vfmigNodeDevAllDirtyFormatRAM(uint64_t bytes);
char *vfmigNodeDevAllDirtyFormatLink(uint64_t linkBps);

/* Machine-readable names ("incompatible", "all-dirty", "no-pre-copy"...). */
VFMIG_ENUM_DECL(vfmigNodeDevCompareVerdictType);
VFMIG_ENUM_DECL(vfmigNodeDevQEMUType);
VFMIG_ENUM_DECL(vfmigNodeDevReasonType);
VFMIG_ENUM_DECL(vfmigNodeDevSideType);
