/*
 * vfmignodedevnova.h: what OpenStack Nova is told about this host's VFs
 *
 * The decisions behind `virt-vfmig nodedev-nova-spec`, for every front
 * end: which devices get a [pci] device_spec (those bound to a VFIO
 * driver), whether each is live migratable and why not (what QEMU does
 * with its capability: vfmigNodeDevCapVFIOMigCompare's verdict on the
 * source), its Nova device_type, the [pci] alias entries (one per PCI id,
 * device type and migratability, with their names), and the settings of
 * nova.conf that break VF migration.  No output, no exit(): errors go
 * through vfmigerror.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

#include "vfmignodedevprobe.h"

#define VFMIG_NODEDEV_NOVA_CONF "/etc/nova/nova.conf"
/* nova.conf is a few KiB; this is far more than any. */
#define VFMIG_NODEDEV_NOVA_CONF_MAX (1024 * 1024)

/*
 * Whether Nova may live-migrate a VM with @dev.  Returns true, or false
 * with *@why (translated; it quotes the probe's note and the capability's
 * reason, so a front end escapes it before printing).  For a device
 * without DMA dirty tracking the reason gives what all guest RAM dirty
 * costs, per GiB of guest RAM at VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED
 * (vfmigNodeDevAllDirtyLeastUs), and, where the running kernel is why
 * (@dev->kernelNoDirty), recommends Linux 6.1 for ConnectX hosts.
 */
bool vfmigNodeDevNovaMigratable(const vfmigNodeDevPCI *dev,
                                char **why);

/* Nova's device_type of a PCI function: "type-VF", "type-PF" or
 * "type-PCI". */
const char *vfmigNodeDevNovaType(const vfmigNodeDevPCI *dev);

/* One [pci] alias entry. */
typedef struct _vfmigNodeDevNovaAlias vfmigNodeDevNovaAlias;
struct _vfmigNodeDevNovaAlias {
    unsigned int vendor;
    unsigned int device;
    const char *type;               /* vfmigNodeDevNovaType() */
    bool migratable;                /* its live_migratable */
    char *name;                     /* "vfmig-15b3-101e-vf", "...-nomig" */
};

/* One [pci] device_spec entry: a device bound to a VFIO driver. */
typedef struct _vfmigNodeDevNovaDevice vfmigNodeDevNovaDevice;
struct _vfmigNodeDevNovaDevice {
    const vfmigNodeDevPCI *dev;     /* in the spec's list */
    bool migratable;                /* its live_migratable */
    char *why;                      /* when not: vfmigNodeDevNovaMigratable */
    bool notQualified;              /* its last device-qualify did not
                                     * qualify it (dev->cap->qualified) */
    size_t alias;                   /* its entry in the spec's aliases */
};

typedef struct _vfmigNodeDevNovaSpec vfmigNodeDevNovaSpec;
struct _vfmigNodeDevNovaSpec {
    vfmigNodeDevList *list;         /* every PCI device probed */
    GPtrArray *devices;             /* vfmigNodeDevNovaDevice *, in the
                                     * order of @list */
    GPtrArray *aliases;             /* vfmigNodeDevNovaAlias *, in the order
                                     * their first device came */
};

void vfmigNodeDevNovaSpecFree(vfmigNodeDevNovaSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevNovaSpec, vfmigNodeDevNovaSpecFree);

/* The entries for the devices of @list, which the spec takes.  Never
 * fails. */
vfmigNodeDevNovaSpec *vfmigNodeDevNovaSpecNew(vfmigNodeDevList *list);

/*
 * Probes every PCI device (@paths may be NULL; @flags are
 * vfmigNodeDevProbeFlags) and decides the entries.  Returns 0, or -1 with
 * an error when the bus cannot be listed (vfmigNodeDevProbeAll).
 */
int vfmigNodeDevNovaSpecProbe(const vfmigNodeDevProbePaths *paths,
                              unsigned int flags,
                              vfmigNodeDevNovaSpec **spec);

/*
 * Checks Nova's configuration @path (NULL: VFMIG_NODEDEV_NOVA_CONF, which
 * need not exist) for settings that break VF migration.  The file is read
 * only when it is a regular one, up to VFMIG_NODEDEV_NOVA_CONF_MAX bytes:
 * a FIFO or a device is refused, not waited on or read without end.
 *
 * Returns 1 with *@warnings (char *, translated, possibly none), 0 when
 * @path is NULL and the default file does not exist (*@warnings NULL,
 * nothing reported), -1 with an error when the file cannot be read or
 * parsed.
 */
int vfmigNodeDevNovaConfCheck(const char *path,
                              GPtrArray **warnings);
