/*
 * vfmignodedevkeyfile.c: the key files kept per device beside the
 * node-device probe
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmignodedevkeyfile.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"


bool
vfmigNodeDevKeyFileStore(const char *dir,
                         const char *path,
                         const char *data,
                         GError **err)
{
    if (g_file_set_contents_full(path, data, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, err))
        return true;
    if (!g_error_matches(*err, G_FILE_ERROR, G_FILE_ERROR_NOENT) ||
        g_mkdir_with_parents(dir, 0755) < 0)
        return false;
    g_clear_error(err);
    return g_file_set_contents_full(path, data, -1,
                                    G_FILE_SET_CONTENTS_CONSISTENT, 0644, err);
}


GKeyFile *
vfmigNodeDevKeyFileParse(const char *kind,
                         const char *path,
                         const char *address,
                         const char *group,
                         gint64 format,
                         const char *data,
                         gsize len)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) gerr = NULL;
    g_autofree char *addr = NULL;
    gint64 have;

    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt %1$s '%2$s': %3$s"),
                         kind, path, gerr->message);
        return NULL;
    }

    have = g_key_file_get_int64(kf, group, "format", &gerr);
    if (gerr) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt %1$s '%2$s': key 'format': %3$s"),
                         kind, path, gerr->message);
        return NULL;
    }
    if (have != format) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("%1$s '%2$s' has format %3$lld, this vfmig reads format %4$lld only"),
                         kind, path, (long long) have, (long long) format);
        return NULL;
    }

    if (vfmigNodeDevKeyFileGetString(kind, kf, group, path, "address",
                                     false, false, &addr) < 0)
        return NULL;
    if (!g_str_equal(addr, address)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt %1$s '%2$s': it describes device '%3$s', not '%4$s'"),
                         kind, path, addr, address);
        return NULL;
    }
    return g_steal_pointer(&kf);
}


int
vfmigNodeDevKeyFileGetString(const char *kind,
                             GKeyFile *kf,
                             const char *group,
                             const char *path,
                             const char *key,
                             bool optional,
                             bool nonEmpty,
                             char **value)
{
    g_autoptr(GError) gerr = NULL;

    *value = g_key_file_get_string(kf, group, key, &gerr);
    if (*value && (**value || !nonEmpty))
        return 0;
    if (*value) {
        g_clear_pointer(value, g_free);
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt %1$s '%2$s': key '%3$s' is empty"),
                         kind, path, key);
        return -1;
    }
    if (optional &&
        g_error_matches(gerr, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
        return 0;
    vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                     _("corrupt %1$s '%2$s': key '%3$s': %4$s"),
                     kind, path, key, gerr->message);
    return -1;
}
