/*
 * vfmigfile.h: reading and writing files that others could tamper with
 *
 * Every file vfmig reads goes through vfmigFileRead: opened without
 * following a final symbolic link where asked, never blocking on a FIFO or
 * a device, refused unless it is a regular file, and never read past a
 * bound.  Every file vfmig writes under a final name goes through
 * vfmigFileAtomic: a temporary file beside it, fsync(), rename(), so that
 * a crash or SIGKILL leaves the old file or the new one, never part of
 * one.  Directories that hold records vfmig trusts are checked with
 * vfmigFileCheckDir; those whose files nobody else may even open (locks)
 * are made with vfmigFileMakePrivateDir.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <glib.h>

typedef enum {
    /* ENOENT is not an error: return 0 with nothing reported */
    VFMIG_FILE_OPTIONAL = 1 << 0,
    /* refuse a path whose last component is a symbolic link */
    VFMIG_FILE_NOFOLLOW = 1 << 1,
} vfmigFileFlags;

/*
 * Reads all of @path, at most @maxLen bytes, into a NUL-terminated
 * *@data (length in *@len, may be NULL).  @kind names the file in
 * messages (translated, e.g. "cache file").  Refuses anything but a
 * regular file (a FIFO, a device, a directory) and a file longer than
 * @maxLen.
 *
 * Returns 1 when read, 0 when the file does not exist and
 * VFMIG_FILE_OPTIONAL is set (nothing reported), -1 with an error that
 * names @kind, @path and what is wrong.
 */
int vfmigFileRead(const char *kind,
                  const char *path,
                  size_t maxLen,
                  unsigned int flags,
                  char **data,
                  size_t *len);

/*
 * Reads at most @maxLen bytes from @fd (a pipe or a file, e.g. stdin)
 * until end of file.  @name names the source in messages.  Refuses a
 * stream longer than @maxLen.  Returns 0 or -1 with an error.
 */
int vfmigFileReadFD(const char *kind,
                    const char *name,
                    int fd,
                    size_t maxLen,
                    char **data,
                    size_t *len);

/*
 * Checks that @dir is a directory (not a symbolic link) owned by the
 * effective user and that neither its group nor others can write to it,
 * so that what is in it was written by us.  @kind names the directory in
 * messages (translated, e.g. "cache directory").
 *
 * Returns 1 when it is fine, 0 when it does not exist (nothing reported),
 * -1 with an error that says what is wrong and how to fix it.
 */
int vfmigFileCheckDir(const char *kind,
                      const char *dir);

/*
 * Makes @dir (mode 0755, parents too) when it is missing, then checks it
 * as vfmigFileCheckDir does.  Returns 0 or -1 with an error.
 */
int vfmigFileMakeDir(const char *kind,
                     const char *dir);

/*
 * Makes @dir private to the effective user: when it is missing, makes it
 * mode 0700 (its missing parents 0755); then checks it as
 * vfmigFileCheckDir does and, besides, that its group and others have no
 * access to it at all (no r, w or x bit), so that nobody else can open,
 * make or replace what is in it, e.g. a lock file to hold it.  Returns 0
 * or -1 with an error that names @kind and @dir, what was found (its
 * type, owner or mode) and what is required.
 */
int vfmigFileMakePrivateDir(const char *kind,
                            const char *dir);

/* The temporary name vfmigFileAtomic uses for @path: ".<base>.vfmig-XXXXXX"
 * in the same directory.  vfmigFileRemoveStale removes such names. */
#define VFMIG_FILE_TEMP_TAG ".vfmig-"

typedef struct _vfmigFileAtomic vfmigFileAtomic;

/*
 * Starts writing @path: creates a temporary file beside it with @mode.
 * Nothing appears under @path until vfmigFileAtomicCommit.  Freeing an
 * uncommitted one removes the temporary file.  Returns NULL with an error.
 */
vfmigFileAtomic *vfmigFileAtomicNew(const char *path,
                                    mode_t mode);

/* The temporary file's descriptor, open for writing (and reading). */
int vfmigFileAtomicFD(const vfmigFileAtomic *file);

/* The temporary file's name (for messages). */
const char *vfmigFileAtomicTempPath(const vfmigFileAtomic *file);

/*
 * fsync()s the temporary file, renames it to the final name and fsync()s
 * the directory.  Returns 0, or -1 with an error (the temporary file is
 * removed).
 */
int vfmigFileAtomicCommit(vfmigFileAtomic *file);

/*
 * Like vfmigFileAtomicCommit, but never replaces an existing file: when
 * the final name exists (made meanwhile by someone else), fails with an
 * error naming it and removes the temporary file.  Atomic where the file
 * system has RENAME_NOREPLACE or hard links; elsewhere a check right
 * before the rename.
 */
int vfmigFileAtomicCommitNew(vfmigFileAtomic *file);

/* Removes the temporary file (when not committed) and frees @file. */
void vfmigFileAtomicFree(vfmigFileAtomic *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigFileAtomic, vfmigFileAtomicFree);

/* Replaces @path by @len bytes of @data atomically.  0 or -1. */
int vfmigFileReplace(const char *path,
                     const void *data,
                     size_t len,
                     mode_t mode);

/*
 * Removes the temporary files vfmigFileAtomic left in @dir (a process
 * killed while writing) that are older than @minAgeSec seconds, so that a
 * writer still at work keeps its file.  Returns the number removed, or -1
 * with an error.
 */
int vfmigFileRemoveStale(const char *dir,
                         unsigned int minAgeSec);
