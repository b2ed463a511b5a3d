/*
 * vfmignodedevcache.c: the node-device capability cache
 *
 * One XML document per device, <cacheDir>/<address>.xml: the
 * vfio-migration capability as last probed live, in its own XML
 * (vfmignodedevstore.h), so that the features of a device stay known
 * while QEMU holds it (when only a VFIO query, which needs the device
 * idle, can tell them).  Files are replaced atomically and rewritten only
 * when what they say changed.  A file that is refused or does not parse
 * is reported with its name and what is wrong, and is otherwise ignored.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmignodedevcachedir.h"
#include "vfmignodedevprobe.h"
#include "vfmignodedevstore.h"
#include "vfmigi18n.h"


char *
vfmigNodeDevCachePath(const char *cacheDir,
                      const char *address)
{
    g_autofree char *name = g_strconcat(address, VFMIG_NODEDEV_CACHE_SUFFIX,
                                        NULL);

    return g_build_filename(cacheDir ? cacheDir : VFMIG_NODEDEV_CACHE_DIR,
                            name, NULL);
}


int
vfmigNodeDevCacheWrite(const char *cacheDir,
                       const char *address,
                       const vfmigNodeDevCapVFIOMig *cap)
{
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;

    if (!cacheDir)
        cacheDir = VFMIG_NODEDEV_CACHE_DIR;
    if (cap->source == VFMIG_NODEDEV_SOURCE_CACHE) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("refusing to cache device '%1$s' from its own cache"),
                         address);
        return -1;
    }

    path = vfmigNodeDevCachePath(cacheDir, address);
    data = vfmigNodeDevCacheDocFormat(address, cap);

    if (vfmigNodeDevCacheDirWrite(cacheDir, _("cache file"), path, data,
                                  true) < 0) {
        vfmigReportError(vfmigGetLastErrorCode(),
                         _("cannot write the cache file '%1$s' of device '%2$s': %3$s"),
                         path, address, vfmigGetLastErrorMessage());
        return -1;
    }
    return 0;
}


int
vfmigNodeDevCacheRead(const char *cacheDir,
                      const char *address,
                      vfmigNodeDevCapVFIOMig **cap)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) ret = NULL;
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;
    g_autofree char *addr = NULL;
    int rc;

    *cap = NULL;
    if (!cacheDir)
        cacheDir = VFMIG_NODEDEV_CACHE_DIR;
    path = vfmigNodeDevCachePath(cacheDir, address);

    if ((rc = vfmigNodeDevCacheDirRead(cacheDir, _("cache file"), path,
                                       &data)) <= 0)
        return rc;
    if (vfmigNodeDevCacheDocParse(data, &addr, &ret) < 0)
        return vfmigNodeDevCacheDirCorrupt(_("cache file"), path);

    if (!g_str_equal(addr, address)) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("stale cache file '%1$s': it was written for device '%2$s', not '%3$s'; ignored"),
                         path, addr, address);
        return -1;
    }

    /* whatever it was probed from, it comes from the cache now */
    ret->source = VFMIG_NODEDEV_SOURCE_CACHE;
    *cap = g_steal_pointer(&ret);
    return 1;
}
