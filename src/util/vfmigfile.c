/*
 * vfmigfile.c: reading and writing files that others could tamper with
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* renameat2() and RENAME_NOREPLACE (glibc >= 2.28) */
#define _GNU_SOURCE

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vfmigfile.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"


/* A short name of the file type in @mode, for messages. */
static const char *
vfmigFileTypeName(mode_t mode)
{
    if (S_ISDIR(mode))
        return _("a directory");
    if (S_ISFIFO(mode))
        return _("a FIFO");
    if (S_ISCHR(mode))
        return _("a character device");
    if (S_ISBLK(mode))
        return _("a block device");
    if (S_ISSOCK(mode))
        return _("a socket");
    if (S_ISLNK(mode))
        return _("a symbolic link");
    return _("not a regular file");
}


/* Reads @fd to its end into @buf, at most @maxLen bytes; the caller has
 * made sure a read never blocks for long (a regular file) or wants it to
 * (a pipe the user gave). */
static int
vfmigFileReadAll(const char *kind,
                 const char *name,
                 int fd,
                 size_t maxLen,
                 GByteArray *buf)
{
    guint8 chunk[65536];

    for (;;) {
        size_t want = MIN(sizeof(chunk), maxLen + 1 - buf->len);
        ssize_t got = read(fd, chunk, want);

        if (got < 0) {
            if (errno == EINTR)
                continue;
            vfmigReportSystemError(errno, _("cannot read %1$s '%2$s'"),
                                   kind, name);
            return -1;
        }
        if (got == 0)
            return 0;
        g_byte_array_append(buf, chunk, got);
        if (buf->len > maxLen) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("%1$s '%2$s' is larger than %3$zu bytes: refusing to read it"),
                             kind, name, maxLen);
            return -1;
        }
    }
}


static void
vfmigFileTake(GByteArray *buf,
              char **data,
              size_t *len)
{
    if (len)
        *len = buf->len;
    g_byte_array_append(buf, (const guint8 *) "", 1);
    *data = (char *) g_byte_array_free(buf, FALSE);
}


int
vfmigFileRead(const char *kind,
              const char *path,
              size_t maxLen,
              unsigned int flags,
              char **data,
              size_t *len)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    int oflags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
    struct stat sb;
    int fd;
    int rc;

    *data = NULL;
    if (len)
        *len = 0;
    if (flags & VFMIG_FILE_NOFOLLOW)
        oflags |= O_NOFOLLOW;

    /* O_NONBLOCK: opening a FIFO with no writer or a device must not hang
     * us before fstat() can refuse it */
    if ((fd = open(path, oflags)) < 0) {
        int err = errno;

        if (err == ENOENT && (flags & VFMIG_FILE_OPTIONAL))
            return 0;
        if (err == ELOOP && (flags & VFMIG_FILE_NOFOLLOW)) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("%1$s '%2$s' is a symbolic link: refusing to follow it"),
                             kind, path);
            return -1;
        }
        vfmigReportSystemError(err, _("cannot open %1$s '%2$s'"), kind, path);
        return -1;
    }

    if (fstat(fd, &sb) < 0) {
        vfmigReportSystemError(errno, _("cannot stat %1$s '%2$s'"), kind, path);
        close(fd);
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s '%2$s' is %3$s, not a regular file: refusing to read it"),
                         kind, path, vfmigFileTypeName(sb.st_mode));
        close(fd);
        return -1;
    }
    if ((guint64) sb.st_size > maxLen) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s '%2$s' is larger than %3$zu bytes: refusing to read it"),
                         kind, path, maxLen);
        close(fd);
        return -1;
    }

    rc = vfmigFileReadAll(kind, path, fd, maxLen, buf);
    close(fd);
    if (rc < 0)
        return -1;
    vfmigFileTake(g_steal_pointer(&buf), data, len);
    return 1;
}


int
vfmigFileReadFD(const char *kind,
                const char *name,
                int fd,
                size_t maxLen,
                char **data,
                size_t *len)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();

    *data = NULL;
    if (len)
        *len = 0;
    if (vfmigFileReadAll(kind, name, fd, maxLen, buf) < 0)
        return -1;
    vfmigFileTake(g_steal_pointer(&buf), data, len);
    return 0;
}


/* Checks @dir as vfmigFileCheckDir does; when @private, also that its
 * group and others have no access to it at all. */
static int
vfmigFileCheckDirFull(const char *kind,
                      const char *dir,
                      bool private)
{
    struct stat sb;

    if (lstat(dir, &sb) < 0) {
        if (errno == ENOENT)
            return 0;
        vfmigReportSystemError(errno, _("cannot stat %1$s '%2$s'"), kind, dir);
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s '%2$s' is %3$s, not a directory: refusing to use it"),
                         kind, dir, vfmigFileTypeName(sb.st_mode));
        return -1;
    }
    if (sb.st_uid != geteuid()) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s '%2$s' is owned by uid %3$u, not by uid %4$u that runs vfmig: refusing to use it (remove it, or chown it)"),
                         kind, dir, (unsigned int) sb.st_uid,
                         (unsigned int) geteuid());
        return -1;
    }
    if (private && (sb.st_mode & (S_IRWXG | S_IRWXO))) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s '%2$s' is open to its group or others (mode %3$04o), who could then open what is in it: refusing to use it (it must be mode 0700: chmod 0700 it)"),
                         kind, dir, (unsigned int) (sb.st_mode & 07777));
        return -1;
    }
    if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s '%2$s' can be written by its group or others (mode %3$04o): refusing to use it (chmod go-w it)"),
                         kind, dir, (unsigned int) (sb.st_mode & 07777));
        return -1;
    }
    return 1;
}


int
vfmigFileCheckDir(const char *kind,
                  const char *dir)
{
    return vfmigFileCheckDirFull(kind, dir, false);
}


/* mkdir -p @dir, its missing parents 0755 and itself 0700; -1 with
 * errno set. */
static int
vfmigFileMkdirPrivate(const char *dir)
{
    g_autofree char *path = g_strdup(dir);
    g_autofree char *parent = NULL;
    size_t len = strlen(path);

    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    parent = g_path_get_dirname(path);
    if (g_mkdir_with_parents(parent, 0755) < 0)
        return -1;
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -1;
    return 0;
}


/* Makes @dir when it is missing and checks it (@private: see
 * vfmigFileCheckDirFull). */
static int
vfmigFileMakeDirFull(const char *kind,
                     const char *dir,
                     bool private)
{
    int rc;

    if ((rc = vfmigFileCheckDirFull(kind, dir, private)) != 0)
        return rc < 0 ? -1 : 0;
    if ((private ? vfmigFileMkdirPrivate(dir) :
         g_mkdir_with_parents(dir, 0755)) < 0) {
        vfmigReportSystemError(errno, _("cannot create %1$s '%2$s'"), kind, dir);
        return -1;
    }
    /* an existing directory may have appeared meanwhile: check what is
     * there now */
    if ((rc = vfmigFileCheckDirFull(kind, dir, private)) <= 0) {
        if (rc == 0)
            vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                             _("%1$s '%2$s' vanished after it was made"),
                             kind, dir);
        return -1;
    }
    return 0;
}


int
vfmigFileMakeDir(const char *kind,
                 const char *dir)
{
    return vfmigFileMakeDirFull(kind, dir, false);
}


int
vfmigFileMakePrivateDir(const char *kind,
                        const char *dir)
{
    return vfmigFileMakeDirFull(kind, dir, true);
}


struct _vfmigFileAtomic {
    char *path;
    char *tmpPath;
    int fd;
    bool committed;
};


vfmigFileAtomic *
vfmigFileAtomicNew(const char *path,
                   mode_t mode)
{
    g_autoptr(vfmigFileAtomic) file = g_new0(vfmigFileAtomic, 1);
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *tmpl = g_strdup_printf(".%s" VFMIG_FILE_TEMP_TAG "XXXXXX",
                                            base);

    file->fd = -1;
    file->path = g_strdup(path);
    file->tmpPath = g_build_filename(dir, tmpl, NULL);
    if ((file->fd = g_mkstemp_full(file->tmpPath, O_RDWR | O_CLOEXEC,
                                   mode)) < 0) {
        vfmigReportSystemError(errno,
                               _("cannot create a temporary file beside '%1$s'"),
                               path);
        g_clear_pointer(&file->tmpPath, g_free);
        return NULL;
    }
    /* g_mkstemp_full applies the umask; the caller's mode is what it asked */
    if (fchmod(file->fd, mode) < 0) {
        vfmigReportSystemError(errno, _("cannot set the mode of '%1$s'"),
                               file->tmpPath);
        return NULL;
    }
    return g_steal_pointer(&file);
}


int
vfmigFileAtomicFD(const vfmigFileAtomic *file)
{
    return file->fd;
}


const char *
vfmigFileAtomicTempPath(const vfmigFileAtomic *file)
{
    return file->tmpPath;
}


/* fsync()s the directory of @path so that a rename in it is durable. */
static int
vfmigFileSyncDir(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        vfmigReportSystemError(errno, _("cannot open directory '%1$s'"), dir);
        return -1;
    }
    /* some file systems (9p) refuse fsync on a directory: nothing more
     * can be done there */
    if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS) {
        int err = errno;

        close(fd);
        vfmigReportSystemError(err, _("cannot sync directory '%1$s'"), dir);
        return -1;
    }
    close(fd);
    return 0;
}


/* fsync()s and closes the temporary file.  0 or -1. */
static int
vfmigFileAtomicSync(vfmigFileAtomic *file)
{
    int fd = file->fd;

    file->fd = -1;
    if (fsync(fd) < 0 && errno != EINVAL) {
        vfmigReportSystemError(errno, _("cannot sync '%1$s'"), file->tmpPath);
        close(fd);
        return -1;
    }
    if (close(fd) < 0) {
        vfmigReportSystemError(errno, _("cannot close '%1$s'"), file->tmpPath);
        return -1;
    }
    return 0;
}


int
vfmigFileAtomicCommit(vfmigFileAtomic *file)
{
    if (vfmigFileAtomicSync(file) < 0)
        return -1;
    if (rename(file->tmpPath, file->path) < 0) {
        vfmigReportSystemError(errno, _("cannot rename '%1$s' to '%2$s'"),
                               file->tmpPath, file->path);
        return -1;
    }
    file->committed = true;
    return vfmigFileSyncDir(file->path);
}


static int
vfmigFileReportExists(vfmigFileAtomic *file)
{
    vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                     _("'%1$s' exists (made while it was being written): it is not replaced"),
                     file->path);
    return -1;
}


int
vfmigFileAtomicCommitNew(vfmigFileAtomic *file)
{
    struct stat sb;

    if (vfmigFileAtomicSync(file) < 0)
        return -1;
    if (renameat2(AT_FDCWD, file->tmpPath, AT_FDCWD, file->path,
                  RENAME_NOREPLACE) == 0)
        goto done;
    if (errno == EEXIST)
        return vfmigFileReportExists(file);
    if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
        vfmigReportSystemError(errno, _("cannot rename '%1$s' to '%2$s'"),
                               file->tmpPath, file->path);
        return -1;
    }
    /* no RENAME_NOREPLACE here (9p, older file systems): a hard link
     * fails on an existing name just the same */
    if (link(file->tmpPath, file->path) == 0) {
        unlink(file->tmpPath);
        goto done;
    }
    if (errno == EEXIST)
        return vfmigFileReportExists(file);
    /* no hard links either: check, then rename */
    if (lstat(file->path, &sb) == 0)
        return vfmigFileReportExists(file);
    if (rename(file->tmpPath, file->path) < 0) {
        vfmigReportSystemError(errno, _("cannot rename '%1$s' to '%2$s'"),
                               file->tmpPath, file->path);
        return -1;
    }

 done:
    file->committed = true;
    return vfmigFileSyncDir(file->path);
}


void
vfmigFileAtomicFree(vfmigFileAtomic *file)
{
    if (!file)
        return;
    if (file->fd >= 0)
        close(file->fd);
    if (file->tmpPath && !file->committed)
        unlink(file->tmpPath);
    g_free(file->tmpPath);
    g_free(file->path);
    g_free(file);
}


int
vfmigFileReplace(const char *path,
                 const void *data,
                 size_t len,
                 mode_t mode)
{
    g_autoptr(vfmigFileAtomic) file = NULL;
    const char *p = data;
    size_t done = 0;

    if (!(file = vfmigFileAtomicNew(path, mode)))
        return -1;
    while (done < len) {
        ssize_t n = write(file->fd, p + done, len - done);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            vfmigReportSystemError(errno, _("cannot write '%1$s'"),
                                   file->tmpPath);
            return -1;
        }
        done += n;
    }
    return vfmigFileAtomicCommit(file);
}


int
vfmigFileRemoveStale(const char *dir,
                     unsigned int minAgeSec)
{
    g_autoptr(GDir) d = NULL;
    g_autoptr(GError) gerr = NULL;
    time_t now = time(NULL);
    const char *name;
    int dfd;
    int removed = 0;

    if (!(d = g_dir_open(dir, 0, &gerr))) {
        vfmigReportError(VFMIG_ERR_SYSTEM_ERROR,
                         _("cannot read directory '%1$s': %2$s"),
                         dir, gerr->message);
        return -1;
    }
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        vfmigReportSystemError(errno, _("cannot open directory '%1$s'"), dir);
        return -1;
    }
    while ((name = g_dir_read_name(d))) {
        const char *tag = strstr(name, VFMIG_FILE_TEMP_TAG);
        struct stat sb;

        /* ".<base>.vfmig-XXXXXX" and nothing else */
        if (name[0] != '.' || !tag ||
            strlen(tag) != strlen(VFMIG_FILE_TEMP_TAG) + 6)
            continue;
        if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(sb.st_mode) ||
            now - sb.st_mtime < (time_t) minAgeSec)
            continue;
        if (unlinkat(dfd, name, 0) == 0)
            removed++;
    }
    close(dfd);
    return removed;
}
