/*
 * vfmignodedevstore.h: what vfmig keeps of a node device, as XML
 *
 * Two documents per PCI device in the node-device cache directory
 * (schema: schemas/vfmig-nodedev-store.rng), both made of the
 * vfio-migration capability's own XML:
 *
 *   the cache file, the capability as last probed live (never with
 *   <qualified/> or <live/>):
 *
 *     <nodedev-cache address='0000:3b:00.2'>
 *       <capability type='vfio-migration'>...</capability>
 *     </nodedev-cache>
 *
 *   the qualification record, the capability's <qualified/> element of
 *   the last device-qualify, and the driver the device was bound to then:
 *
 *     <nodedev-qualification address='0000:3b:00.2' driver='mlx5_vfio_pci'>
 *       <qualified .../>
 *     </nodedev-qualification>
 *
 * Parsing and formatting only; src/node_device reads and writes the files.
 * The parsers are as strict as the capability's: an unknown, missing or
 * repeated element, a missing or empty attribute is refused with an error
 * (VFMIG_ERR_INVALID_ARG) that names it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vfmignodedevconf.h"

/* The cache file of the device @address holding @cap (whose <qualified/>
 * and <live/> are left out). */
char *vfmigNodeDevCacheDocFormat(const char *address,
                                 const vfmigNodeDevCapVFIOMig *cap);

/*
 * Parses a cache file: *@address, the device it was written for, and
 * *@cap, the capability as stored (its source as it was probed).
 * Returns 0, or -1 with an error.
 */
int vfmigNodeDevCacheDocParse(const char *xml,
                              char **address,
                              vfmigNodeDevCapVFIOMig **cap);

/* The qualification record of the device @address bound to @driver. */
char *vfmigNodeDevQualifiedDocFormat(const char *address,
                                     const char *driver,
                                     const vfmigNodeDevQualified *q);

/*
 * Parses a qualification record into *@address, *@driver and *@q.
 * Returns 0, or -1 with an error.
 */
int vfmigNodeDevQualifiedDocParse(const char *xml,
                                  char **address,
                                  char **driver,
                                  vfmigNodeDevQualified **q);
