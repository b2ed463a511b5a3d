/*
 * vfmigsysfs.h: the one place userspace reads sysfs
 *
 * Every sysfs attribute and link vfmig reads goes through these
 * functions, relative to a directory descriptor so that one name is
 * resolved at a time, and every read is bounded.  The root is
 * VFMIG_SYSFS_ROOT ("/sys", from config.h) unless a caller's path
 * structure overrides it, which is how the tests use fake trees.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

/* The longest attribute value the readers take (a features line, a
 * driver name, a state name, a number). */
#define VFMIG_SYSFS_ATTR_MAX 256

/* @root, or "/sys" when @root is NULL. */
const char *vfmigSysfsRoot(const char *root);

/* The sysfs directory of the PCI function @address ("0000:3b:00.2") under
 * @root (NULL: "/sys"): <root>/bus/pci/devices/<address>. */
char *vfmigSysfsPCIDevicePath(const char *root,
                              const char *address);

/*
 * Reads the attribute @name of the directory @dirfd (@dir names it in
 * messages) into @buf of @size bytes, without its trailing newline.
 * Refuses a value longer than @size - 1 bytes or holding a NUL byte.
 * Returns 1 when read; 0 when it does not exist and @optional (nothing
 * reported); -1 with an error that names the file.
 */
int vfmigSysfsReadAttr(int dirfd,
                       const char *dir,
                       const char *name,
                       bool optional,
                       char *buf,
                       size_t size);

/* vfmigSysfsReadAttr with the directory given by its path. */
int vfmigSysfsReadAttrPath(const char *dir,
                           const char *name,
                           bool optional,
                           char *buf,
                           size_t size);

/*
 * Writes @value to the attribute @name of the directory @dir, in one
 * write().  Returns 1 when written; 0 when the attribute does not exist
 * and @optional (nothing reported); -1 with an error that names the file
 * and what the kernel answered.
 */
int vfmigSysfsWriteAttrPath(const char *dir,
                            const char *name,
                            bool optional,
                            const char *value);

/*
 * The switchover hold of the VF @address under @root (NULL: "/sys"): a
 * lease of @ms in its vfio_migration/hold_ms (0 ends it).  Returns 1 when
 * written; 0 when the driver has no hold (nothing reported); -1 with an
 * error.
 */
int vfmigSysfsWriteHold(const char *root,
                        const char *address,
                        unsigned int ms);

/* Like vfmigSysfsReadAttr, a decimal number up to @max. */
int vfmigSysfsReadU64(int dirfd,
                      const char *dir,
                      const char *name,
                      bool optional,
                      guint64 max,
                      guint64 *value);

/* A PCI id file ("0x15b3"): 1 or -1 (never optional). */
/*
 * vfio_migration/stop_copy_estimate (@dirfd is that directory, @dir names
 * it in messages) of our drivers: "<bytes> residue|whole", the stop-copy
 * size and whether it is the whole state, more than a STOP_COPY would
 * stream now (@whole), rather than that residue.  Returns 1 when read;
 * 0 when the driver has no such file (an older one; nothing reported);
 * -1 with an error that names the file.
 */
int vfmigSysfsReadStopCopyEstimate(int dirfd,
                                   const char *dir,
                                   guint64 *bytes,
                                   bool *whole);

int vfmigSysfsReadPCIId(int dirfd,
                        const char *dir,
                        const char *name,
                        unsigned int *value);

/*
 * The basename of the target of the link @name in @dirfd (@dirfd may be
 * AT_FDCWD with @dir the directory's path).  Returns 1 when read; 0 when
 * there is no such link (nothing reported); -1 with an error.
 */
int vfmigSysfsReadLink(int dirfd,
                       const char *dir,
                       const char *name,
                       char **base);
