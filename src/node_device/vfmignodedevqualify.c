/*
 * vfmignodedevqualify.c: the record of a device's last qualification
 *
 * One XML document per device, <cacheDir>/<address>.qualified.xml, beside
 * the capability cache (<cacheDir>/<address>.xml) but apart from it: the
 * cache is rewritten by every probe, the record only by device-qualify,
 * so neither writer has to read and merge what the other wrote.  The
 * record is the capability's <qualified/> element with the device's
 * address and the driver it was bound to (vfmignodedevstore.h).  Written
 * atomically, so a reader sees the old record or the new one, never half
 * of one.  A file that is refused or does not parse is reported with its
 * name and what is wrong.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmignodedevcachedir.h"
#include "vfmignodedevqualify.h"
#include "vfmignodedevprobe.h"
#include "vfmignodedevstore.h"
#include "vfmigi18n.h"


char *
vfmigNodeDevQualifiedPath(const char *cacheDir,
                          const char *address)
{
    g_autofree char *name = g_strconcat(address, VFMIG_NODEDEV_QUALIFIED_SUFFIX,
                                        NULL);

    return g_build_filename(cacheDir ? cacheDir : VFMIG_NODEDEV_CACHE_DIR,
                            name, NULL);
}


int
vfmigNodeDevQualifiedWrite(const char *cacheDir,
                           const char *address,
                           const char *driver,
                           const vfmigNodeDevQualified *q)
{
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;

    if (!cacheDir)
        cacheDir = VFMIG_NODEDEV_CACHE_DIR;
    if (q->verdict >= VFMIG_NODEDEV_VERDICT_LAST) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("no verdict to record for device '%1$s'"), address);
        return -1;
    }
    if (!driver || !*driver) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("no driver to record for device '%1$s'"), address);
        return -1;
    }

    path = vfmigNodeDevQualifiedPath(cacheDir, address);
    data = vfmigNodeDevQualifiedDocFormat(address, driver, q);

    if (vfmigNodeDevCacheDirWrite(cacheDir, _("qualification record"), path,
                                  data, false) < 0) {
        vfmigReportError(vfmigGetLastErrorCode(),
                         _("cannot write the qualification record '%1$s' of device '%2$s': %3$s"),
                         path, address, vfmigGetLastErrorMessage());
        return -1;
    }
    return 0;
}


int
vfmigNodeDevQualifiedRead(const char *cacheDir,
                          const char *address,
                          vfmigNodeDevQualified **q,
                          char **driver)
{
    g_autoptr(vfmigNodeDevQualified) ret = NULL;
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;
    g_autofree char *addr = NULL;
    g_autofree char *drv = NULL;
    int rc;

    *q = NULL;
    if (driver)
        *driver = NULL;
    if (!cacheDir)
        cacheDir = VFMIG_NODEDEV_CACHE_DIR;
    path = vfmigNodeDevQualifiedPath(cacheDir, address);

    if ((rc = vfmigNodeDevCacheDirRead(cacheDir, _("qualification record"),
                                       path, &data)) <= 0)
        return rc;
    if (vfmigNodeDevQualifiedDocParse(data, &addr, &drv, &ret) < 0)
        return vfmigNodeDevCacheDirCorrupt(_("qualification record"), path);

    if (!g_str_equal(addr, address)) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("stale qualification record '%1$s': it was written for device '%2$s', not '%3$s'; ignored"),
                         path, addr, address);
        return -1;
    }

    *q = g_steal_pointer(&ret);
    if (driver)
        *driver = g_steal_pointer(&drv);
    return 1;
}


int
vfmigNodeDevQualifiedLoad(const char *cacheDir,
                          const char *address,
                          const char *driver,
                          vfmigNodeDevQualified **q)
{
    g_autoptr(vfmigNodeDevQualified) rec = NULL;
    g_autofree char *recDriver = NULL;
    int rc;

    *q = NULL;
    if ((rc = vfmigNodeDevQualifiedRead(cacheDir, address, &rec, &recDriver)) <= 0)
        return rc;

    if (driver && !g_str_equal(recDriver, driver)) {
        g_autofree char *path = vfmigNodeDevQualifiedPath(cacheDir, address);

        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("stale qualification record '%1$s': device '%2$s' was qualified with driver %3$s, it is bound to %4$s now; ignored"),
                         path, address, recDriver, driver);
        return -1;
    }
    *q = g_steal_pointer(&rec);
    return 1;
}
