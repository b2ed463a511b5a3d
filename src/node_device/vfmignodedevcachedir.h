/*
 * vfmignodedevcachedir.h: the files of the node-device cache directory
 *
 * The cache file (<cacheDir>/<address>.xml) and the qualification record
 * (<cacheDir>/<address>.qualified.xml) of a device are XML documents
 * (vfmignodedevstore.h) that vfmig trusts: it shows a record as
 * "qualified" and takes its latencies as hints.  So before anything is
 * read from it, the directory must be one only we can write to (owned by
 * the effective user, not writable by its group or others, not a
 * symbolic link), and every file in it is read without following a
 * symbolic link, never blocking on a FIFO or a device, refused unless it
 * is a regular file, and never past VFMIG_NODEDEV_CACHE_FILE_MAX bytes.
 * Files are replaced atomically; a writer's temporary file older than
 * VFMIG_NODEDEV_CACHE_STALE_SEC (one killed while writing) is removed by
 * the next writer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

/* Far more than the largest capability or record (about 1 KiB). */
#define VFMIG_NODEDEV_CACHE_FILE_MAX (64 * 1024)

/* Ten minutes: no writer keeps its temporary file that long. */
#define VFMIG_NODEDEV_CACHE_STALE_SEC 600

/*
 * Reads @path, a file of the cache directory @dir; @kind names it in
 * messages (translated: "cache file", "qualification record").  Returns 1 with
 * the NUL-terminated contents in *@data, 0 when @dir or the file does not
 * exist (nothing reported), -1 with an error when @dir is untrusted or the
 * file is refused or unreadable.
 */
int vfmigNodeDevCacheDirRead(const char *dir,
                             const char *kind,
                             const char *path,
                             char **data);

/*
 * Reports the error at hand (a parse error) as VFMIG_ERR_DATA_CORRUPT of
 * the @kind @path: "corrupt cache file '...': <the error>".  Returns -1.
 */
int vfmigNodeDevCacheDirCorrupt(const char *kind,
                                const char *path);

/*
 * Replaces @path, a file of the cache directory @dir, by @data: makes @dir
 * when it is missing (and refuses it as vfmigNodeDevCacheDirRead does),
 * removes stale temporary files, writes atomically.  With @keepSame, a
 * file that already holds @data is left alone (no write, same inode).
 * Returns 0, or -1 with an error.
 */
int vfmigNodeDevCacheDirWrite(const char *dir,
                              const char *kind,
                              const char *path,
                              const char *data,
                              bool keepSame);
