/*
 * vfmignodedevqualify.c: the record of a device's last qualification
 *
 * One GKeyFile per device, <cacheDir>/<address>.qualified, beside the
 * capability cache (<cacheDir>/<address>) but apart from it: the cache is
 * rewritten by every probe, the record only by device-qualify.  Written
 * atomically (a temporary file in the same directory, then rename()), so
 * a reader sees the old record or the new one, never half of one.  A file
 * that does not parse, or whose values are out of range, is refused with
 * its name and the key at fault.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include <glib/gstdio.h>

#include "vfmignodedevkeyfile.h"
#include "vfmignodedevqualify.h"
#include "vfmignodedevprobe.h"
#include "vfmigi18n.h"

#define VFMIG_NODEDEV_QUALIFIED_GROUP "qualification"
#define VFMIG_NODEDEV_QUALIFIED_FORMAT 1

/* The measured figures: all of them, or none (a run that failed after
 * state had moved measured nothing). */
static const char *const vfmigNodeDevQualifiedFigures[] = {
    "downtime-us",
    "stop-latency-us",
    "drain-us",
    "load-commit-us",
    "resume-latency-us",
};


static unsigned long long *
vfmigNodeDevQualifiedFigure(vfmigNodeDevQualified *q,
                            size_t i)
{
    unsigned long long *figures[] = {
        &q->downtimeUs, &q->stopLatencyUs, &q->drainUs, &q->loadCommitUs,
        &q->resumeLatencyUs,
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(figures) ==
                    G_N_ELEMENTS(vfmigNodeDevQualifiedFigures));
    return figures[i];
}


char *
vfmigNodeDevQualifiedPath(const char *cacheDir,
                          const char *address)
{
    g_autofree char *name = g_strconcat(address, VFMIG_NODEDEV_QUALIFIED_SUFFIX,
                                        NULL);

    return g_build_filename(cacheDir ? cacheDir : VFMIG_NODEDEV_CACHE_DIR,
                            name, NULL);
}


static char *
vfmigNodeDevQualifiedFormat(const char *address,
                            const char *driver,
                            const vfmigNodeDevQualified *q)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *at = vfmigNodeDevQualifiedFormatTime(q->at);
    const char *g = VFMIG_NODEDEV_QUALIFIED_GROUP;
    const unsigned long long figures[] = {
        q->downtimeUs, q->stopLatencyUs, q->drainUs, q->loadCommitUs,
        q->resumeLatencyUs,
    };
    size_t i;

    G_STATIC_ASSERT(G_N_ELEMENTS(figures) ==
                    G_N_ELEMENTS(vfmigNodeDevQualifiedFigures));
    g_key_file_set_integer(kf, g, "format", VFMIG_NODEDEV_QUALIFIED_FORMAT);
    g_key_file_set_string(kf, g, "address", address);
    g_key_file_set_string(kf, g, "driver", driver ? driver : "");
    g_key_file_set_string(kf, g, "at", at ? at : "");
    g_key_file_set_string(kf, g, "verdict",
                          vfmigNodeDevVerdictTypeToString(q->verdict));
    g_key_file_set_uint64(kf, g, "target-us", q->targetUs);
    if (q->peer)
        g_key_file_set_string(kf, g, "peer", q->peer);
    if (q->measured) {
        for (i = 0; i < G_N_ELEMENTS(vfmigNodeDevQualifiedFigures); i++)
            g_key_file_set_uint64(kf, g, vfmigNodeDevQualifiedFigures[i],
                                  figures[i]);
    }

    g_key_file_set_comment(kf, NULL, NULL,
                           " vfmig: the last `virt-vfmig device-qualify` of one PCI device;\n"
                           " times in microseconds; rewritten by the next qualification",
                           NULL);
    return g_key_file_to_data(kf, NULL, NULL);
}


int
vfmigNodeDevQualifiedWrite(const char *cacheDir,
                           const char *address,
                           const char *driver,
                           const vfmigNodeDevQualified *q)
{
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;
    g_autoptr(GError) gerr = NULL;

    if (!cacheDir)
        cacheDir = VFMIG_NODEDEV_CACHE_DIR;
    if (q->verdict >= VFMIG_NODEDEV_VERDICT_LAST) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("no verdict to record for device '%1$s'"), address);
        return -1;
    }

    path = vfmigNodeDevQualifiedPath(cacheDir, address);
    data = vfmigNodeDevQualifiedFormat(address, driver, q);

    if (!vfmigNodeDevKeyFileStore(cacheDir, path, data, &gerr)) {
        vfmigReportError(VFMIG_ERR_SYSTEM_ERROR,
                         _("cannot write the qualification record '%1$s' of device '%2$s': %3$s"),
                         path, address, gerr->message);
        return -1;
    }
    return 0;
}


/* The string @key, required unless @optional (then NULL when absent). */
static int
vfmigNodeDevQualifiedGetString(GKeyFile *kf,
                               const char *path,
                               const char *key,
                               bool optional,
                               char **value)
{
    return vfmigNodeDevKeyFileGetString(_("qualification record"), kf,
                                        VFMIG_NODEDEV_QUALIFIED_GROUP, path,
                                        key, optional, true, value);
}


static int
vfmigNodeDevQualifiedGetCount(GKeyFile *kf,
                              const char *path,
                              const char *key,
                              unsigned long long *value)
{
    g_autofree char *str = NULL;
    guint64 num;
    const char *p;

    if (vfmigNodeDevQualifiedGetString(kf, path, key, false, &str) < 0)
        return -1;
    for (p = str; *p; p++) {
        if (!g_ascii_isdigit(*p))
            break;
    }
    if (*p || !g_ascii_string_to_unsigned(str, 10, 0, G_MAXUINT64, &num, NULL)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt qualification record '%1$s': key '%2$s' is '%3$s', not a number of microseconds"),
                         path, key, str);
        return -1;
    }
    *value = num;
    return 0;
}


static int
vfmigNodeDevQualifiedParse(const char *path,
                           const char *address,
                           const char *data,
                           gsize len,
                           vfmigNodeDevQualified *q,
                           char **driver)
{
    g_autoptr(GKeyFile) kf = NULL;
    g_autofree char *at = NULL;
    g_autofree char *verdict = NULL;
    const char *g = VFMIG_NODEDEV_QUALIFIED_GROUP;
    const char *present = NULL;
    const char *missing = NULL;
    int val;
    size_t i;

    if (!(kf = vfmigNodeDevKeyFileParse(_("qualification record"), path,
                                        address, g,
                                        VFMIG_NODEDEV_QUALIFIED_FORMAT,
                                        data, len)))
        return -1;

    if (vfmigNodeDevQualifiedGetString(kf, path, "driver", false, driver) < 0 ||
        vfmigNodeDevQualifiedGetString(kf, path, "at", false, &at) < 0)
        return -1;
    if (vfmigNodeDevQualifiedParseTime(at, &q->at) < 0) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt qualification record '%1$s': key 'at' is '%2$s', not a UTC time like 2026-11-24T10:00:00Z"),
                         path, at);
        return -1;
    }

    if (vfmigNodeDevQualifiedGetString(kf, path, "verdict", false, &verdict) < 0)
        return -1;
    if ((val = vfmigNodeDevVerdictTypeFromString(verdict)) < 0) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt qualification record '%1$s': key 'verdict' has unknown value '%2$s'"),
                         path, verdict);
        return -1;
    }
    q->verdict = val;

    if (vfmigNodeDevQualifiedGetCount(kf, path, "target-us", &q->targetUs) < 0 ||
        vfmigNodeDevQualifiedGetString(kf, path, "peer", true, &q->peer) < 0)
        return -1;

    for (i = 0; i < G_N_ELEMENTS(vfmigNodeDevQualifiedFigures); i++) {
        if (g_key_file_has_key(kf, g, vfmigNodeDevQualifiedFigures[i], NULL))
            present = vfmigNodeDevQualifiedFigures[i];
        else if (!missing)
            missing = vfmigNodeDevQualifiedFigures[i];
    }
    if (present && missing) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt qualification record '%1$s': it has key '%2$s' but not '%3$s'"),
                         path, present, missing);
        return -1;
    }
    if (!present)
        return 0;
    for (i = 0; i < G_N_ELEMENTS(vfmigNodeDevQualifiedFigures); i++) {
        if (vfmigNodeDevQualifiedGetCount(kf, path,
                                          vfmigNodeDevQualifiedFigures[i],
                                          vfmigNodeDevQualifiedFigure(q, i)) < 0)
            return -1;
    }
    q->measured = true;
    return 0;
}


int
vfmigNodeDevQualifiedRead(const char *cacheDir,
                          const char *address,
                          vfmigNodeDevQualified **q,
                          char **driver)
{
    g_autoptr(vfmigNodeDevQualified) ret = g_new0(vfmigNodeDevQualified, 1);
    g_autofree char *path = vfmigNodeDevQualifiedPath(cacheDir, address);
    g_autofree char *drv = NULL;
    g_autofree char *data = NULL;
    g_autoptr(GError) gerr = NULL;
    gsize len;

    *q = NULL;
    if (driver)
        *driver = NULL;

    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        /* no record, or no cache directory at all (a file where the
         * directory should be is the cache's error): never qualified */
        if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT) ||
            g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOTDIR))
            return 0;
        vfmigReportError(VFMIG_ERR_SYSTEM_ERROR,
                         _("cannot read the qualification record '%1$s' of device '%2$s': %3$s"),
                         path, address, gerr->message);
        return -1;
    }

    if (vfmigNodeDevQualifiedParse(path, address, data, len, ret, &drv) < 0)
        return -1;

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
