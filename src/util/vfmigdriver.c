/*
 * vfmigdriver.c: what vfmig knows of a VFIO driver by its name
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include <glib.h>

#include "vfmigdriver.h"

static const vfmigDriverInfo vfmigDrivers[] = {
    /* upstream's (drivers/vfio/pci/mlx5) and vfmig's (kernel/mlx5, DKMS):
     * ConnectX-6 Dx/ConnectX-7 VFs */
    {
        .name = "mlx5_vfio_pci",
        .vendor = 0x15b3, .device = 0x101e,
        .migration = true,
        .stopCopyWholeState = true,
    },
    /* vfmig's software test device, on QEMU's pci-testdev */
    {
        .name = "vfmig_testdev",
        .vendor = 0x1b36, .device = 0x0005,
        .migration = true,
        .stateSizeFile = "vfmig_testdev/state_size",
        .digestFile = "vfmig_testdev/digest",
    },
    /* vfmig's mlx5 logic over its firmware model, on pci-testdev too */
    {
        .name = "vfmig_mlx5model",
        .vendor = 0x1b36, .device = 0x0005,
        .migration = true,
        .stopCopyWholeState = true,
        .stateSizeFile = "vfmig_mlx5model/state_size",
        .digestFile = "vfmig_mlx5model/digest",
    },
};


bool
vfmigDriverNameEqual(const char *a,
                     const char *b)
{
    if (!a || !b)
        return false;
    for (; *a && *b; a++, b++) {
        if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
            return false;
    }
    return *a == *b;
}


const vfmigDriverInfo *
vfmigDriverLookup(const char *name)
{
    size_t i;

    for (i = 0; name && i < G_N_ELEMENTS(vfmigDrivers); i++) {
        if (vfmigDriverNameEqual(name, vfmigDrivers[i].name))
            return &vfmigDrivers[i];
    }
    return NULL;
}


const vfmigDriverInfo *
vfmigDriverForIds(unsigned int vendor,
                  unsigned int device)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(vfmigDrivers); i++) {
        if (vfmigDrivers[i].migration &&
            vfmigDrivers[i].vendor == vendor && vfmigDrivers[i].device == device)
            return &vfmigDrivers[i];
    }
    return NULL;
}
