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

/* Machine-readable names ("incompatible", "all-dirty", "no-pre-copy"...). */
VFMIG_ENUM_DECL(vfmigNodeDevCompareVerdictType);
VFMIG_ENUM_DECL(vfmigNodeDevQEMUType);
VFMIG_ENUM_DECL(vfmigNodeDevReasonType);
VFMIG_ENUM_DECL(vfmigNodeDevSideType);
