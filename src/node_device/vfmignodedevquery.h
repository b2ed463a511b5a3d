/*
 * vfmignodedevquery.h: what the node-device commands decide
 *
 * For every front end (the CLI's nodedev-list and nodedev-compare, the
 * libvirt hook, the daemon): which devices a listing shows, the state a
 * capability reports, how to learn the features of a VFIO device that
 * nothing describes, and what a comparison's two sides are (a node-device
 * XML file, or a device of this host probed).  No output, no exit():
 * errors go through vfmigerror.h; the per-device problems a probe met are
 * handed back for the front end to show as warnings.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

#include "vfmignodedevcompare.h"
#include "vfmignodedevprobe.h"

/* A node-device document is a few KiB; this is far more than any. */
#define VFMIG_NODEDEV_COMPARE_FILE_MAX (1024 * 1024)

typedef enum {
    /* every PCI device, not only those bound to a VFIO driver */
    VFMIG_NODEDEV_LIST_ALL_PCI = 1 << 0,
    /* only devices whose capability offers pre-copy */
    VFMIG_NODEDEV_LIST_PRE_COPY = 1 << 1,
} vfmigNodeDevListFilter;

/*
 * Whether a listing with @filter (vfmigNodeDevListFilter) shows @dev.
 * Without VFMIG_NODEDEV_LIST_ALL_PCI every VFIO device is shown, also one
 * whose features are unknown: it may well migrate (upstream mlx5_vfio_pci
 * publishes nothing in sysfs).
 */
bool vfmigNodeDevListMatch(const vfmigNodeDevPCI *dev,
                           unsigned int filter);

/* The migration state @cap reports: the live one, else "RUNNING". */
const char *vfmigNodeDevCapState(const vfmigNodeDevCapVFIOMig *cap);

/*
 * How to learn the migration features of the VFIO device @address that
 * neither sysfs nor debugfs describes (upstream mlx5_vfio_pci on Debian,
 * vfio-pci): a translated sentence.
 */
char *vfmigNodeDevHowToLearn(const char *address);

/* Why a VFIO device has no capability, when its probe does not say. */
const char *vfmigNodeDevUnknownNote(const vfmigNodeDevPCI *dev);

/*
 * A comparison of two devices, each given as a node-device XML file (a
 * libvirt node-device document with the capability, or the bare
 * capability) or as a device of this host (a node device name or a PCI
 * address).  An argument that names an existing regular file, or has a
 * '/', is a file; the file is read only when it is a regular one (a
 * symbolic link to one is followed), up to VFMIG_NODEDEV_COMPARE_FILE_MAX
 * bytes: a FIFO or a device such as /dev/zero is refused, not waited on or
 * read without end.
 */
typedef struct _vfmigNodeDevCompareRun vfmigNodeDevCompareRun;
struct _vfmigNodeDevCompareRun {
    vfmigNodeDevCapVFIOMig *src;
    vfmigNodeDevCapVFIOMig *dst;
    vfmigNodeDevCompareResult *res;
    /* vfmigError *: the problems the probe of a device met, source's
     * first; filled also when the run fails */
    GPtrArray *warnings;
    /* the run failed because an argument is neither a file nor a device
     * name or PCI address: the caller's usage error */
    bool badArg;
};

void vfmigNodeDevCompareRunFree(vfmigNodeDevCompareRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevCompareRun, vfmigNodeDevCompareRunFree);

/*
 * Loads @srcArg, then @dstArg (probing a device with @paths, which may be
 * NULL, and @flags, vfmigNodeDevProbeFlags), and compares them.  Sets
 * *@run in every case.  Returns 0 with (*@run)->res (which may say the
 * state cannot move), or -1 with an error reported when a side cannot be
 * loaded or has no vfio-migration capability.
 */
int vfmigNodeDevCompareArgs(const vfmigNodeDevProbePaths *paths,
                            unsigned int flags,
                            const char *srcArg,
                            const char *dstArg,
                            vfmigNodeDevCompareRun **run);
