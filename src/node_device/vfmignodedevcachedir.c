/*
 * vfmignodedevcachedir.c: the files of the node-device cache directory
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>
#include <sys/stat.h>

#include "vfmignodedevcachedir.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigi18n.h"

#define DIR_KIND _("node-device cache directory")


int
vfmigNodeDevCacheDirRead(const char *dir,
                         const char *kind,
                         const char *path,
                         char **data)
{
    g_autofree char *buf = NULL;
    size_t len;
    int rc;

    *data = NULL;
    if ((rc = vfmigFileCheckDir(DIR_KIND, dir)) <= 0)
        return rc;
    if ((rc = vfmigFileRead(kind, path, VFMIG_NODEDEV_CACHE_FILE_MAX,
                            VFMIG_FILE_NOFOLLOW | VFMIG_FILE_OPTIONAL,
                            &buf, &len)) <= 0)
        return rc;
    if (strlen(buf) != len) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt %1$s '%2$s': it holds a NUL byte, which XML cannot"),
                         kind, path);
        return -1;
    }
    *data = g_steal_pointer(&buf);
    return 1;
}


int
vfmigNodeDevCacheDirCorrupt(const char *kind,
                            const char *path)
{
    vfmigReportError(VFMIG_ERR_DATA_CORRUPT, _("corrupt %1$s '%2$s': %3$s"),
                     kind, path, vfmigGetLastErrorMessage());
    return -1;
}


/* Whether @path is a regular file holding exactly @data (@len bytes).
 * 1 yes, 0 no, -1 error. */
static int
vfmigNodeDevCacheDirSame(const char *kind,
                         const char *path,
                         const char *data,
                         size_t len)
{
    g_autofree char *old = NULL;
    size_t oldLen;
    struct stat sb;

    /* anything but a regular file of that size is replaced unread */
    if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode) ||
        (guint64) sb.st_size != len)
        return 0;
    if (vfmigFileRead(kind, path, len, VFMIG_FILE_NOFOLLOW | VFMIG_FILE_OPTIONAL,
                      &old, &oldLen) < 0)
        return -1;
    return old && oldLen == len && memcmp(old, data, len) == 0;
}


int
vfmigNodeDevCacheDirWrite(const char *dir,
                          const char *kind,
                          const char *path,
                          const char *data,
                          bool keepSame)
{
    size_t len = strlen(data);
    int rc;

    if (vfmigFileMakeDir(DIR_KIND, dir) < 0)
        return -1;
    if (keepSame &&
        (rc = vfmigNodeDevCacheDirSame(kind, path, data, len)) != 0)
        return rc < 0 ? -1 : 0;

    /* a writer killed midway left its temporary file behind */
    if (vfmigFileRemoveStale(dir, VFMIG_NODEDEV_CACHE_STALE_SEC) < 0)
        return -1;
    return vfmigFileReplace(path, data, len, 0644);
}
