/*
 * vfmignodedevcache.c: the node-device capability cache
 *
 * One GKeyFile per device, <cacheDir>/<address>, so that the features of a
 * device stay known while QEMU holds it (when only a VFIO query, which
 * needs the device idle, can tell them).  Files are replaced atomically
 * (a temporary file in the same directory, then rename()) and rewritten
 * only when what they say changed.  A file that does not parse, or whose
 * values are out of range, is reported with its name and the key at fault
 * and is otherwise ignored.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "vfmignodedevkeyfile.h"
#include "vfmignodedevprobe.h"
#include "vfmigi18n.h"

#define VFMIG_NODEDEV_CACHE_GROUP "vfio-migration"
#define VFMIG_NODEDEV_CACHE_FORMAT 1

typedef struct _vfmigNodeDevWord vfmigNodeDevWord;
struct _vfmigNodeDevWord {
    const char *word;
    unsigned int value;
};

static const vfmigNodeDevWord vfmigNodeDevFeatureWords[] = {
    { "stop-copy", VFMIG_NODEDEV_FEATURE_STOP_COPY },
    { "p2p", VFMIG_NODEDEV_FEATURE_P2P },
    { "pre-copy", VFMIG_NODEDEV_FEATURE_PRE_COPY },
    { "multi-load", VFMIG_NODEDEV_FEATURE_MULTI_LOAD },
};

/* The cache's own spelling of the enums, independent of the XML's. */
static const char *const vfmigNodeDevCacheSources[] = {
    [VFMIG_NODEDEV_SOURCE_SYSFS] = "sysfs",
    [VFMIG_NODEDEV_SOURCE_DEBUGFS] = "debugfs",
    [VFMIG_NODEDEV_SOURCE_VFIO] = "vfio",
    [VFMIG_NODEDEV_SOURCE_CACHE] = "cache",
};
G_STATIC_ASSERT(G_N_ELEMENTS(vfmigNodeDevCacheSources) ==
                VFMIG_NODEDEV_SOURCE_LAST);

static const char *const vfmigNodeDevCacheDirty[] = {
    [VFMIG_NODEDEV_DIRTY_NONE] = "none",
    [VFMIG_NODEDEV_DIRTY_DEVICE] = "device",
    [VFMIG_NODEDEV_DIRTY_IOMMU] = "iommu",
};
G_STATIC_ASSERT(G_N_ELEMENTS(vfmigNodeDevCacheDirty) ==
                VFMIG_NODEDEV_DIRTY_LAST);

static const char *const vfmigNodeDevCachePrecopy[] = {
    [VFMIG_NODEDEV_PRECOPY_DEFAULT] = "default",
    [VFMIG_NODEDEV_PRECOPY_ON] = "on",
    [VFMIG_NODEDEV_PRECOPY_SINGLE] = "single",
    [VFMIG_NODEDEV_PRECOPY_OFF] = "off",
};
G_STATIC_ASSERT(G_N_ELEMENTS(vfmigNodeDevCachePrecopy) ==
                VFMIG_NODEDEV_PRECOPY_LAST);


char *
vfmigNodeDevFeaturesToString(unsigned int features)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(vfmigNodeDevFeatureWords); i++) {
        if (!(features & vfmigNodeDevFeatureWords[i].value))
            continue;
        if (buf->len)
            g_string_append_c(buf, ' ');
        g_string_append(buf, vfmigNodeDevFeatureWords[i].word);
    }
    return g_string_free(g_steal_pointer(&buf), FALSE);
}


static int
vfmigNodeDevCacheLookup(const char *const *names,
                        size_t n,
                        const char *str)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (names[i] && g_str_equal(names[i], str))
            return i;
    }
    return -1;
}


static char *
vfmigNodeDevCachePath(const char *cacheDir,
                      const char *address)
{
    return g_build_filename(cacheDir, address, NULL);
}


static char *
vfmigNodeDevCacheFormat(const char *address,
                        const vfmigNodeDevCapVFIOMig *cap)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GPtrArray) words = g_ptr_array_new();
    g_autofree char *vendor = g_strdup_printf("0x%04x", cap->vendor);
    g_autofree char *device = g_strdup_printf("0x%04x", cap->device);
    const char *g = VFMIG_NODEDEV_CACHE_GROUP;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(vfmigNodeDevFeatureWords); i++) {
        if (cap->features & vfmigNodeDevFeatureWords[i].value)
            g_ptr_array_add(words, (char *) vfmigNodeDevFeatureWords[i].word);
    }

    g_key_file_set_integer(kf, g, "format", VFMIG_NODEDEV_CACHE_FORMAT);
    g_key_file_set_string(kf, g, "address", address);
    g_key_file_set_string(kf, g, "driver", cap->driver ? cap->driver : "");
    g_key_file_set_boolean(kf, g, "variant", cap->variant);
    g_key_file_set_string_list(kf, g, "features",
                               (const char *const *) words->pdata, words->len);
    g_key_file_set_string(kf, g, "probed-from",
                          vfmigNodeDevCacheSources[cap->source]);
    g_key_file_set_string(kf, g, "pre-copy",
                          vfmigNodeDevCachePrecopy[cap->precopy]);
    g_key_file_set_string(kf, g, "dirty-tracking",
                          vfmigNodeDevCacheDirty[cap->dirty]);
    if (cap->dirtyReason)
        g_key_file_set_string(kf, g, "dirty-reason", cap->dirtyReason);
    g_key_file_set_string(kf, g, "vendor", vendor);
    g_key_file_set_string(kf, g, "device", device);
    if (cap->firmware)
        g_key_file_set_string(kf, g, "firmware", cap->firmware);
    g_key_file_set_uint64(kf, g, "stream-version", cap->streamVersion);

    g_key_file_set_comment(kf, NULL, NULL,
                           " vfmig node-device cache: the vfio-migration capability of one\n"
                           " PCI device as last probed live; rewritten by every probe",
                           NULL);
    return g_key_file_to_data(kf, NULL, NULL);
}


int
vfmigNodeDevCacheWrite(const char *cacheDir,
                       const char *address,
                       const vfmigNodeDevCapVFIOMig *cap)
{
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;
    g_autofree char *old = NULL;
    g_autoptr(GError) gerr = NULL;
    gsize oldLen;

    if (!cacheDir)
        cacheDir = VFMIG_NODEDEV_CACHE_DIR;
    if (cap->source == VFMIG_NODEDEV_SOURCE_CACHE) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("refusing to cache device '%1$s' from its own cache"),
                         address);
        return -1;
    }

    path = vfmigNodeDevCachePath(cacheDir, address);
    data = vfmigNodeDevCacheFormat(address, cap);

    /* Unchanged: leave the file (and the disk) alone. */
    if (g_file_get_contents(path, &old, &oldLen, NULL) &&
        oldLen == strlen(data) && memcmp(old, data, oldLen) == 0)
        return 0;

    if (!vfmigNodeDevKeyFileStore(cacheDir, path, data, &gerr)) {
        vfmigReportError(VFMIG_ERR_SYSTEM_ERROR,
                         _("cannot write the cache file '%1$s' of device '%2$s': %3$s"),
                         path, address, gerr->message);
        return -1;
    }
    return 0;
}


/* A cache file's string @key, required unless @optional. */
static int
vfmigNodeDevCacheGetString(GKeyFile *kf,
                           const char *path,
                           const char *key,
                           bool optional,
                           char **value)
{
    return vfmigNodeDevKeyFileGetString(_("cache file"), kf,
                                        VFMIG_NODEDEV_CACHE_GROUP, path, key,
                                        optional, false, value);
}


static int
vfmigNodeDevCacheGetEnum(GKeyFile *kf,
                         const char *path,
                         const char *key,
                         const char *const *names,
                         size_t n,
                         int *value)
{
    g_autofree char *str = NULL;

    if (vfmigNodeDevCacheGetString(kf, path, key, false, &str) < 0)
        return -1;
    if ((*value = vfmigNodeDevCacheLookup(names, n, str)) < 0) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt cache file '%1$s': key '%2$s' has unknown value '%3$s'"),
                         path, key, str);
        return -1;
    }
    return 0;
}


static int
vfmigNodeDevCacheGetId(GKeyFile *kf,
                       const char *path,
                       const char *key,
                       unsigned int *value)
{
    g_autofree char *str = NULL;
    guint64 num;

    if (vfmigNodeDevCacheGetString(kf, path, key, false, &str) < 0)
        return -1;
    if (!g_str_has_prefix(str, "0x") ||
        !g_ascii_string_to_unsigned(str + 2, 16, 0, 0xffff, &num, NULL)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt cache file '%1$s': key '%2$s' is '%3$s', not a PCI id (0x0000 to 0xffff)"),
                         path, key, str);
        return -1;
    }
    *value = num;
    return 0;
}


static int
vfmigNodeDevCacheParse(const char *path,
                       const char *address,
                       const char *data,
                       gsize len,
                       vfmigNodeDevCapVFIOMig *cap)
{
    g_autoptr(GKeyFile) kf = NULL;
    g_autoptr(GError) gerr = NULL;
    g_auto(GStrv) words = NULL;
    const char *g = VFMIG_NODEDEV_CACHE_GROUP;
    guint64 stream;
    int val;
    size_t i;

    if (!(kf = vfmigNodeDevKeyFileParse(_("cache file"), path, address, g,
                                        VFMIG_NODEDEV_CACHE_FORMAT,
                                        data, len)))
        return -1;

    if (vfmigNodeDevCacheGetString(kf, path, "driver", false, &cap->driver) < 0)
        return -1;
    if (!*cap->driver) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt cache file '%1$s': key 'driver' is empty"),
                         path);
        return -1;
    }

    cap->variant = g_key_file_get_boolean(kf, g, "variant", &gerr);
    if (gerr) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt cache file '%1$s': key 'variant': %2$s"),
                         path, gerr->message);
        return -1;
    }

    /* an empty list ("features=") is a device without migration */
    words = g_key_file_get_string_list(kf, g, "features", NULL, &gerr);
    if (gerr) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt cache file '%1$s': key 'features': %2$s"),
                         path, gerr->message);
        return -1;
    }
    for (i = 0; words && words[i]; i++) {
        size_t j;

        for (j = 0; j < G_N_ELEMENTS(vfmigNodeDevFeatureWords); j++) {
            if (g_str_equal(words[i], vfmigNodeDevFeatureWords[j].word))
                break;
        }
        if (j == G_N_ELEMENTS(vfmigNodeDevFeatureWords)) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("corrupt cache file '%1$s': key 'features' has unknown feature '%2$s'"),
                             path, words[i]);
            return -1;
        }
        cap->features |= vfmigNodeDevFeatureWords[j].value;
    }

    /* whatever it was probed from, it comes from the cache now */
    if (vfmigNodeDevCacheGetEnum(kf, path, "probed-from",
                                 vfmigNodeDevCacheSources,
                                 G_N_ELEMENTS(vfmigNodeDevCacheSources),
                                 &val) < 0)
        return -1;
    cap->source = VFMIG_NODEDEV_SOURCE_CACHE;

    if (vfmigNodeDevCacheGetEnum(kf, path, "pre-copy",
                                 vfmigNodeDevCachePrecopy,
                                 G_N_ELEMENTS(vfmigNodeDevCachePrecopy),
                                 &val) < 0)
        return -1;
    cap->precopy = val;

    if (vfmigNodeDevCacheGetEnum(kf, path, "dirty-tracking",
                                 vfmigNodeDevCacheDirty,
                                 G_N_ELEMENTS(vfmigNodeDevCacheDirty),
                                 &val) < 0)
        return -1;
    cap->dirty = val;

    if (vfmigNodeDevCacheGetString(kf, path, "dirty-reason", true,
                                   &cap->dirtyReason) < 0 ||
        vfmigNodeDevCacheGetId(kf, path, "vendor", &cap->vendor) < 0 ||
        vfmigNodeDevCacheGetId(kf, path, "device", &cap->device) < 0 ||
        vfmigNodeDevCacheGetString(kf, path, "firmware", true,
                                   &cap->firmware) < 0)
        return -1;

    stream = g_key_file_get_uint64(kf, g, "stream-version", &gerr);
    if (gerr || stream > G_MAXUINT) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("corrupt cache file '%1$s': key 'stream-version': %2$s"),
                         path, gerr ? gerr->message : _("out of range"));
        return -1;
    }
    cap->streamVersion = stream;
    return 0;
}


int
vfmigNodeDevCacheRead(const char *cacheDir,
                      const char *address,
                      vfmigNodeDevCapVFIOMig **cap)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) ret = g_new0(vfmigNodeDevCapVFIOMig, 1);
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;
    g_autoptr(GError) gerr = NULL;
    gsize len;

    *cap = NULL;
    if (!cacheDir)
        cacheDir = VFMIG_NODEDEV_CACHE_DIR;
    path = vfmigNodeDevCachePath(cacheDir, address);

    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        if (g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return 0;
        vfmigReportError(VFMIG_ERR_SYSTEM_ERROR,
                         _("cannot read the cache file '%1$s' of device '%2$s': %3$s"),
                         path, address, gerr->message);
        return -1;
    }

    if (vfmigNodeDevCacheParse(path, address, data, len, ret) < 0)
        return -1;

    *cap = g_steal_pointer(&ret);
    return 1;
}
