/*
 * vfmignodedevqualify.h: the record of a device's last qualification
 *
 * `virt-vfmig device-qualify` keeps what it measured (stop latency, the
 * stop-copy drain, the load commit, the resume latency, the downtime, the
 * target, the verdict, when, onto what) as the capability's <qualified/>
 * element in one XML document per device beside the node-device cache,
 * <cacheDir>/<address>.qualified.xml (vfmignodedevstore.h), replaced
 * atomically.  The prober shows it as <qualified/> in the vfio-migration
 * capability, and device-save takes its latency hints from it.  No
 * qualification reads it: each measures its own figures, so a record
 * never feeds the verdict that writes the next one.  It is not a live
 * value: it stays until the next qualification.
 * It is read only from a directory nobody else can write to, and only
 * from a regular file (vfmignodedevcachedir.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "vfmignodedevconf.h"

/* The file name suffix after the device's address. */
#define VFMIG_NODEDEV_QUALIFIED_SUFFIX ".qualified.xml"

/* <cacheDir>/<address>.qualified.xml; @cacheDir NULL: the default. */
char *vfmigNodeDevQualifiedPath(const char *cacheDir,
                                const char *address);

/*
 * Replaces the record of @address, a device bound to @driver, with @q
 * (temporary file + rename(); the directory is made on first use, and
 * refused when it is not trusted).  Returns 0, or -1 with an error naming
 * the file.
 */
int vfmigNodeDevQualifiedWrite(const char *cacheDir,
                               const char *address,
                               const char *driver,
                               const vfmigNodeDevQualified *q);

/*
 * Reads the record of @address into *@q, and the driver it was written
 * for into *@driver (may be NULL).  Returns 1 when read, 0 when there is
 * no record or no cache directory (nothing reported), -1 with an error
 * naming the file or directory and what is wrong with it (an untrusted
 * directory, a file that is not a regular one, too large, corrupt, or
 * written for another device).
 */
int vfmigNodeDevQualifiedRead(const char *cacheDir,
                              const char *address,
                              vfmigNodeDevQualified **q,
                              char **driver);

/*
 * The record of @address as it applies to the device now bound to
 * @driver: like vfmigNodeDevQualifiedRead, but a record written for
 * another driver is stale: -1 with an error that says so.
 */
int vfmigNodeDevQualifiedLoad(const char *cacheDir,
                              const char *address,
                              const char *driver,
                              vfmigNodeDevQualified **q);
