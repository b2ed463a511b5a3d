/*
 * vfmigdevicevfio.h: vfmigDevice over a real VFIO device
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vfmigdevice.h"
#include "vfmigvfio.h"

/*
 * Opens the VFIO device @name (a PCI address such as 0000:01:00.1, or an
 * mdev UUID) through the device cdev + iommufd where the kernel has them,
 * else through its IOMMU group and a type1 container.  @paths may be NULL
 * (the real /sys and /dev).  Refuses, without touching the device, one
 * that is not bound to a VFIO driver or that someone else (QEMU) holds.
 * Returns NULL with an error reported.
 */
vfmigDevice *vfmigDeviceVFIOOpen(const char *name,
                                 const vfmigVFIOPaths *paths);
