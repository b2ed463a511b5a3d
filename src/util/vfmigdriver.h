/*
 * vfmigdriver.h: what vfmig knows of a VFIO driver by its name
 *
 * One row per driver, one table (vfmigdriver.c).  Where a device is
 * bound, its driver's properties are read from sysfs (a VFIO driver is
 * one with vfio-dev/, our drivers publish vfio_migration/); the table
 * holds what sysfs cannot tell: traits of a driver's answers, where our
 * test drivers publish their extras, and which drivers can migrate a
 * device they are not bound to yet (what libvirt will bind a
 * managed='yes' hostdev to: vfmignodedevvariant.h).  A new driver is a
 * new row.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

typedef struct _vfmigDriverInfo vfmigDriverInfo;
struct _vfmigDriverInfo {
    /* The PCI driver's name, as <dev>/driver links it; also its module's
     * (KBUILD_MODNAME), as modules.alias names it. */
    const char *name;
    /* The PCI ids its vfio_pci: alias declares (an example, for advice),
     * 0 when none. */
    unsigned int vendor;
    unsigned int device;
    /* A VFIO variant driver that migrates its devices (stop-copy). */
    bool migration;
    /* VFIO_DEVICE_FEATURE_MIG_DATA_SIZE answers the size of the whole
     * device state, not what a STOP_COPY would stream now (upstream's
     * mlx5_vfio_pci: a non-incremental firmware query): see
     * vfmigDriverStopCopyIsWholeState. */
    bool stopCopyWholeState;
    /* Under the device's sysfs directory: the size of the state the
     * device loads (only a state of exactly this size), or NULL. */
    const char *stateSizeFile;
    /* Likewise: a digest of the device's state, or NULL (real hardware
     * cannot tell its internal state). */
    const char *digestFile;
};

/* Whether @a and @b name the same driver or module: equal, '-' and '_'
 * taken as the same (modprobe's rule); false when either is NULL. */
bool vfmigDriverNameEqual(const char *a,
                          const char *b);

/*
 * The row of the driver @name (NULL: none), '-' and '_' taken as the
 * same (modprobe's rule: "mlx5-vfio-pci" is mlx5_vfio_pci); NULL when
 * vfmig knows nothing of it.
 */
const vfmigDriverInfo *vfmigDriverLookup(const char *name);

/*
 * The first driver with VFIO migration whose alias declares the PCI ids
 * @vendor:@device, or NULL: the driver to advise for such a device.
 */
const vfmigDriverInfo *vfmigDriverForIds(unsigned int vendor,
                                         unsigned int device);
