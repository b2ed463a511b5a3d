/*
 * vfmigsysfs.c: the one place userspace reads sysfs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "vfmigsysfs.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmigstring.h"


const char *
vfmigSysfsRoot(const char *root)
{
    return root ? root : VFMIG_SYSFS_ROOT;
}


char *
vfmigSysfsPCIDevicePath(const char *root,
                        const char *address)
{
    return g_build_filename(vfmigSysfsRoot(root), "bus", "pci", "devices",
                            address, NULL);
}


int
vfmigSysfsReadAttr(int dirfd,
                   const char *dir,
                   const char *name,
                   bool optional,
                   char *buf,
                   size_t size)
{
    g_autofree char *path = NULL;
    size_t len = 0;
    ssize_t n = 0;
    int fd;

    /* O_NONBLOCK: a fake tree (or a bad driver) must not hang us */
    if ((fd = openat(dirfd, name,
                     O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
        int err = errno;

        if (err == ENOENT && optional)
            return 0;
        path = g_build_filename(dir, name, NULL);
        if (err == ENOENT) {
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             _("'%1$s' is missing"), path);
        } else {
            vfmigReportSystemError(err, _("cannot open '%1$s'"), path);
        }
        return -1;
    }

    while (len < size - 1) {
        n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += n;
    }
    if (n >= 0 && len == size - 1) {
        char extra;

        while ((n = read(fd, &extra, 1)) < 0 && errno == EINTR)
            ;
        if (n > 0) {
            close(fd);
            path = g_build_filename(dir, name, NULL);
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("'%1$s' holds more than %2$zu bytes: not a value vfmig knows"),
                             path, size - 1);
            return -1;
        }
    }
    if (n < 0) {
        int err = errno;

        close(fd);
        path = g_build_filename(dir, name, NULL);
        vfmigReportSystemError(err, _("cannot read '%1$s'"), path);
        return -1;
    }
    close(fd);

    buf[len] = '\0';
    if (strlen(buf) != len) {
        path = g_build_filename(dir, name, NULL);
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("'%1$s' holds binary data (a NUL byte)"), path);
        return -1;
    }
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    return 1;
}


int
vfmigSysfsReadAttrPath(const char *dir,
                       const char *name,
                       bool optional,
                       char *buf,
                       size_t size)
{
    int dirfd;
    int rc;

    if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int err = errno;

        if (err == ENOENT && optional)
            return 0;
        vfmigReportSystemError(err, _("cannot open the sysfs directory '%1$s'"),
                               dir);
        return -1;
    }
    rc = vfmigSysfsReadAttr(dirfd, dir, name, optional, buf, size);
    close(dirfd);
    return rc;
}


int
vfmigSysfsWriteAttrPath(const char *dir,
                        const char *name,
                        bool optional,
                        const char *value)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    size_t len = strlen(value);
    ssize_t n;
    int fd;

    if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        int err = errno;

        if (err == ENOENT && optional)
            return 0;
        vfmigReportSystemError(err, _("cannot open the sysfs attribute '%1$s' for writing"),
                               path);
        return -1;
    }
    n = write(fd, value, len);
    if (n < 0 || (size_t) n != len) {
        int err = n < 0 ? errno : EIO;

        vfmigReportSystemError(err, _("cannot write '%1$s' to the sysfs attribute '%2$s'"),
                               value, path);
        close(fd);
        return -1;
    }
    close(fd);
    return 1;
}


int
vfmigSysfsReadU64(int dirfd,
                  const char *dir,
                  const char *name,
                  bool optional,
                  guint64 max,
                  guint64 *value)
{
    char buf[VFMIG_SYSFS_ATTR_MAX];
    int rc;

    if ((rc = vfmigSysfsReadAttr(dirfd, dir, name, optional,
                                 buf, sizeof(buf))) <= 0)
        return rc;
    if (!g_ascii_string_to_unsigned(buf, 10, 0, max, value, NULL)) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *quoted = vfmigStringEscapeText(buf);

        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("'%1$s' holds '%2$s', not a decimal number up to %3$" PRIu64),
                         path, quoted, (uint64_t) max);
        return -1;
    }
    return 1;
}


int
vfmigSysfsReadStopCopyEstimate(int dirfd,
                               const char *dir,
                               guint64 *bytes,
                               bool *whole)
{
    char buf[VFMIG_SYSFS_ATTR_MAX];
    g_auto(GStrv) words = NULL;
    int rc;

    if ((rc = vfmigSysfsReadAttr(dirfd, dir, "stop_copy_estimate", true,
                                 buf, sizeof(buf))) <= 0)
        return rc;
    words = g_strsplit(buf, " ", 0);
    if (g_strv_length(words) == 2 &&
        g_ascii_string_to_unsigned(words[0], 10, 0, G_MAXUINT64, bytes,
                                   NULL) &&
        (g_str_equal(words[1], "residue") || g_str_equal(words[1], "whole"))) {
        *whole = g_str_equal(words[1], "whole");
        return 1;
    } else {
        g_autofree char *path = g_build_filename(dir, "stop_copy_estimate",
                                                 NULL);
        g_autofree char *quoted = vfmigStringEscapeText(buf);

        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("'%1$s' holds '%2$s', not a byte count followed by 'residue' or 'whole'"),
                         path, quoted);
        return -1;
    }
}


int
vfmigSysfsReadPCIId(int dirfd,
                    const char *dir,
                    const char *name,
                    unsigned int *value)
{
    char buf[VFMIG_SYSFS_ATTR_MAX];
    guint64 num;

    if (vfmigSysfsReadAttr(dirfd, dir, name, false, buf, sizeof(buf)) < 0)
        return -1;
    if (!g_str_has_prefix(buf, "0x") || strlen(buf) > 6 ||
        !g_ascii_string_to_unsigned(buf + 2, 16, 0, 0xffff, &num, NULL)) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *quoted = vfmigStringEscapeText(buf);

        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("'%1$s' holds '%2$s', not a PCI id (0x0000 to 0xffff)"),
                         path, quoted);
        return -1;
    }
    *value = num;
    return 1;
}


int
vfmigSysfsReadLink(int dirfd,
                   const char *dir,
                   const char *name,
                   char **base)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char target[PATH_MAX];
    ssize_t n;

    *base = NULL;
    /* AT_FDCWD: @dir is a path, read the link by its whole name */
    if ((n = readlinkat(dirfd, dirfd == AT_FDCWD ? path : name,
                        target, sizeof(target) - 1)) < 0) {
        int err = errno;

        if (err == ENOENT)
            return 0;
        if (err == EINVAL) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("'%1$s' is not a symbolic link"), path);
        } else {
            vfmigReportSystemError(err, _("cannot read the link '%1$s'"), path);
        }
        return -1;
    }
    target[n] = '\0';
    *base = g_path_get_basename(target);
    return 1;
}


int
vfmigSysfsWriteHold(const char *root,
                    const char *address,
                    unsigned int ms)
{
    g_autofree char *dev = vfmigSysfsPCIDevicePath(root, address);
    g_autofree char *dir = g_build_filename(dev, "vfio_migration", NULL);
    g_autofree char *value = g_strdup_printf("%u", ms);

    return vfmigSysfsWriteAttrPath(dir, "hold_ms", true, value);
}
