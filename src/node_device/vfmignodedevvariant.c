/*
 * vfmignodedevvariant.c: the VFIO driver libvirt binds a managed hostdev to
 *
 * Our own code for libvirt's rule (vfmignodedevvariant.h): the same
 * input, the same parse of the seven fields, the same choice.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "vfmignodedevvariant.h"
#include "vfmigdriver.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmigsysfs.h"

/* A PCI modalias's fields, in order: vendor, device, subsystem vendor,
 * subsystem device, base class, subclass, programming interface. */
#define VFMIG_NODEDEV_ALIAS_NFIELDS 7
static const char *const vfmigNodeDevAliasFields[VFMIG_NODEDEV_ALIAS_NFIELDS] = {
    "v", "d", "sv", "sd", "bc", "sc", "i",
};

/* Where libvirt looks for the candidates. */
#define VFMIG_NODEDEV_ALIAS_NEEDLE "\nalias vfio_pci:"

typedef struct {
    const char *start[VFMIG_NODEDEV_ALIAS_NFIELDS];
    size_t len[VFMIG_NODEDEV_ALIAS_NFIELDS];
    const char *end;            /* after the last field */
} vfmigNodeDevAliasInfo;


void
vfmigNodeDevBindFree(vfmigNodeDevBind *bind)
{
    if (!bind)
        return;
    g_free(bind->driver);
    g_free(bind->modulesDir);
    g_free(bind->aliasFile);
    g_free(bind->modalias);
    g_free(bind->pattern);
    g_free(bind->reason);
    g_free(bind);
}


/*
 * Splits @str into the seven fields as libvirt's virPCIDeviceAliasInfoNew
 * does: each field's name, then its value up to the first occurrence of
 * the next field's name (anywhere after it), the last one's up to a blank
 * or the end.
 */
static bool
vfmigNodeDevAliasParse(const char *str,
                       vfmigNodeDevAliasInfo *info)
{
    const char *field = str;
    size_t i;

    for (i = 0; i < VFMIG_NODEDEV_ALIAS_NFIELDS; i++) {
        size_t len = strlen(vfmigNodeDevAliasFields[i]);
        const char *next;

        if (strncmp(field, vfmigNodeDevAliasFields[i], len) != 0)
            return false;
        field += len;
        if (i + 1 < VFMIG_NODEDEV_ALIAS_NFIELDS) {
            if (!(next = strstr(field, vfmigNodeDevAliasFields[i + 1])))
                return false;
        } else {
            next = field;
            while (*next && !g_ascii_isspace(*next))
                next++;
        }
        info->start[i] = field;
        info->len[i] = next - field;
        field = next;
    }
    info->end = field;
    return true;
}


/* Whether the alias @pat matches the device @dev; its wildcards. */
static bool
vfmigNodeDevAliasMatch(const vfmigNodeDevAliasInfo *dev,
                       const vfmigNodeDevAliasInfo *pat,
                       unsigned int *wildcards)
{
    size_t i;

    *wildcards = 0;
    for (i = 0; i < VFMIG_NODEDEV_ALIAS_NFIELDS; i++) {
        if (pat->len[i] == 1 && pat->start[i][0] == '*')
            (*wildcards)++;
        else if (pat->len[i] != dev->len[i] ||
                 memcmp(pat->start[i], dev->start[i], dev->len[i]) != 0)
            return false;
    }
    return true;
}


static bool
vfmigNodeDevModaliasParse(const char *modalias,
                          vfmigNodeDevAliasInfo *info)
{
    if (vfmigNodeDevAliasParse(modalias, info))
        return true;
    vfmigReportError(VFMIG_ERR_INVALID_ARG,
                     _("'%1$s' is not a PCI modalias: it does not split into the fields v, d, sv, sd, bc, sc and i"),
                     modalias);
    return false;
}


int
vfmigNodeDevBestVFIOVariant(const char *modalias,
                            const char *aliases,
                            char **module,
                            char **pattern,
                            unsigned int *wildcards)
{
    vfmigNodeDevAliasInfo dev;
    const char *line = aliases;
    unsigned int best = UINT_MAX;

    if (!vfmigNodeDevModaliasParse(modalias, &dev))
        return -1;

    while ((line = strstr(line, VFMIG_NODEDEV_ALIAS_NEEDLE))) {
        vfmigNodeDevAliasInfo pat;
        unsigned int count;
        const char *blank;
        const char *eol;

        line += strlen(VFMIG_NODEDEV_ALIAS_NEEDLE);
        if (!vfmigNodeDevAliasParse(line, &pat)) {
            VFMIG_DEBUG("skipped: a vfio_pci alias without the seven fields: '%.*s'",
                        (int) strcspn(line, "\n"), line);
            continue;
        }
        if (!vfmigNodeDevAliasMatch(&dev, &pat, &count))
            continue;
        if (!(blank = strchr(line, ' '))) {
            VFMIG_DEBUG("skipped: a vfio_pci alias without a module: '%.*s'",
                        (int) strcspn(line, "\n"), line);
            continue;
        }
        eol = blank + 1 + strcspn(blank + 1, "\n");
        VFMIG_DEBUG("'%.*s' matches with %u wildcards, module '%.*s' (best so far %u)",
                    (int) (pat.end - line), line, count,
                    (int) (eol - blank - 1), blank + 1, best);
        if (count < best) {
            best = count;
            g_free(*module);
            g_free(*pattern);
            *module = g_strndup(blank + 1, eol - blank - 1);
            *pattern = g_strndup(line, pat.end - line);
            *wildcards = count;
        }
        line = eol;
    }
    return best == UINT_MAX ? 0 : 1;
}


/* A modalias field as a number (the ids are 8 hex digits). */
static unsigned int
vfmigNodeDevAliasHex(const vfmigNodeDevAliasInfo *info,
                     size_t field)
{
    g_autofree char *text = g_strndup(info->start[field], info->len[field]);
    guint64 num = 0;

    if (!g_ascii_string_to_unsigned(text, 16, 0, G_MAXUINT, &num, NULL))
        return 0;
    return num;
}


/* The device's modalias, without "pci:", and its ids. */
static int
vfmigNodeDevBindReadModalias(const vfmigNodeDevProbePaths *paths,
                             const char *address,
                             vfmigNodeDevBind *bind)
{
    g_autofree char *dir = vfmigSysfsPCIDevicePath(paths->sysfsRoot, address);
    char text[VFMIG_SYSFS_ATTR_MAX];
    vfmigNodeDevAliasInfo info;

    if (vfmigSysfsReadAttrPath(dir, "modalias", false, text, sizeof(text)) < 0)
        return -1;
    if (!g_str_has_prefix(text, "pci:") ||
        !vfmigNodeDevAliasParse(text + strlen("pci:"), &info)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("the modalias of PCI device %1$s, '%2$s', is not a PCI modalias (pci:v...d...sv...sd...bc...sc...i...): libvirt cannot choose its VFIO driver"),
                         address, text);
        return -1;
    }
    bind->modalias = g_strdup(text + strlen("pci:"));
    bind->vendor = vfmigNodeDevAliasHex(&info, 0);
    bind->device = vfmigNodeDevAliasHex(&info, 1);
    return 0;
}


/* The best alias of <modulesDir>/modules.alias for the device, or vfio-pci. */
static int
vfmigNodeDevBindFromAliases(vfmigNodeDevBind *bind)
{
    g_autofree char *data = NULL;
    g_autofree char *module = NULL;
    size_t len = 0;
    struct stat sb;
    const char *nul;
    int rc;

    bind->aliasFile = g_build_filename(bind->modulesDir, "modules.alias", NULL);
    if (stat(bind->aliasFile, &sb) == 0 && S_ISREG(sb.st_mode) &&
        (guint64) sb.st_size > VFMIG_NODEDEV_MODULES_FILE_MAX) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("kernel module alias file '%1$s' is larger than 8 MiB (%2$llu bytes): libvirt reads at most 8 MiB of it and fails to start the domain; regenerate it with 'depmod -a'"),
                         bind->aliasFile, (unsigned long long) sb.st_size);
        return -1;
    }
    if (vfmigFileRead(_("kernel module alias file"), bind->aliasFile,
                      VFMIG_NODEDEV_MODULES_FILE_MAX, 0, &data, &len) < 0)
        return -1;
    /* libvirt would read it only up to there; depmod writes text */
    if ((nul = memchr(data, '\0', len))) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("kernel module alias file '%1$s' is not a text file (a NUL byte at offset %2$zu): regenerate it with 'depmod -a'"),
                         bind->aliasFile, (size_t) (nul - data));
        return -1;
    }

    if ((rc = vfmigNodeDevBestVFIOVariant(bind->modalias, data, &module,
                                          &bind->pattern, &bind->wildcards)) < 0)
        return -1;
    if (rc == 0) {
        bind->from = VFMIG_NODEDEV_BIND_DEFAULT;
        bind->driver = g_strdup(VFMIG_NODEDEV_VFIO_PCI);
    } else {
        bind->from = VFMIG_NODEDEV_BIND_ALIAS;
        bind->driver = g_steal_pointer(&module);
    }
    return 0;
}


/* @name with every '-' made '_' (modprobe's rule for module names). */
static char *
vfmigNodeDevModuleName(const char *name,
                       size_t len)
{
    char *ret = g_strndup(name, len);

    g_strdelimit(ret, "-", '_');
    return ret;
}


/*
 * Whether this host has the driver @bind->driver: registered in sysfs
 * (<sysfs>/bus/pci/drivers/, its name as given or with '-' and '_'
 * swapped, as libvirt looks), or its module in <modulesDir>/modules.dep,
 * which modprobe loads from.  1 yes, 0 no, -1 error.
 */
static int
vfmigNodeDevBindDriverPresent(const vfmigNodeDevProbePaths *paths,
                              const vfmigNodeDevBind *bind)
{
    g_autofree char *drivers = g_build_filename(vfmigSysfsRoot(paths->sysfsRoot),
                                                "bus", "pci", "drivers", NULL);
    g_autofree char *want = vfmigNodeDevModuleName(bind->driver, strlen(bind->driver));
    g_autofree char *dashed = g_strdelimit(g_strdup(bind->driver), "_", '-');
    const char *const names[] = { bind->driver, want, dashed };
    g_autofree char *depFile = NULL;
    g_autofree char *data = NULL;
    g_auto(GStrv) lines = NULL;
    size_t i;
    int rc;

    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *dir = g_build_filename(drivers, names[i], NULL);

        if (g_file_test(dir, G_FILE_TEST_IS_DIR)) {
            VFMIG_DEBUG("driver '%s' is registered: %s", bind->driver, dir);
            return 1;
        }
    }

    depFile = g_build_filename(bind->modulesDir, "modules.dep", NULL);
    if ((rc = vfmigFileRead(_("kernel module dependency file"), depFile,
                            VFMIG_NODEDEV_MODULES_FILE_MAX, VFMIG_FILE_OPTIONAL,
                            &data, NULL)) <= 0)
        return rc;

    /* "kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko.xz: deps..." */
    lines = g_strsplit(data, "\n", -1);
    for (i = 0; lines[i]; i++) {
        const char *colon = strchr(lines[i], ':');
        const char *base;
        const char *ko;
        g_autofree char *name = NULL;

        if (!colon)
            continue;
        base = g_strrstr_len(lines[i], colon - lines[i], "/");
        base = base ? base + 1 : lines[i];
        if (!(ko = g_strstr_len(base, colon - base, ".ko")))
            continue;
        name = vfmigNodeDevModuleName(base, ko - base);
        if (g_str_equal(name, want)) {
            VFMIG_DEBUG("module '%s' is in %s: %.*s", want, depFile,
                        (int) (colon - lines[i]), lines[i]);
            return 1;
        }
    }
    return 0;
}


char *
vfmigNodeDevBindDescribe(const vfmigNodeDevBind *bind)
{
    switch (bind->from) {
    case VFMIG_NODEDEV_BIND_MODEL:
        return g_strdup_printf(_("'%1$s' (the hostdev's <driver model='%2$s'/>)"),
                               bind->driver, bind->driver);
    case VFMIG_NODEDEV_BIND_ALIAS:
        return g_strdup_printf(_("'%1$s' (its best vfio_pci alias in '%2$s', '%3$s')"),
                               bind->driver, bind->aliasFile, bind->pattern);
    case VFMIG_NODEDEV_BIND_DEFAULT:
    case VFMIG_NODEDEV_BIND_LAST:
    default:
        break;
    }
    return g_strdup_printf(_("'%1$s' (no vfio_pci alias in '%2$s' matches it)"),
                           bind->driver, bind->aliasFile);
}


/*
 * The driver to advise for the device of @bind: the one with migration
 * vfmig knows for its ids (from its modalias), else NULL.
 */
static const vfmigDriverInfo *
vfmigNodeDevBindAdvise(const vfmigNodeDevBind *bind)
{
    if (bind->from == VFMIG_NODEDEV_BIND_MODEL)
        return NULL;
    return vfmigDriverForIds(bind->vendor, bind->device);
}


/* libvirt binds the device to a driver without migration: why, and what
 * to do. */
static char *
vfmigNodeDevBindNoMigration(const vfmigNodeDevBind *bind)
{
    const vfmigDriverInfo *advise = vfmigNodeDevBindAdvise(bind);
    g_autofree char *what = vfmigNodeDevBindDescribe(bind);
    g_autofree char *todo = NULL;

    switch (bind->from) {
    case VFMIG_NODEDEV_BIND_MODEL:
        return g_strdup_printf(_("libvirt will bind it to %1$s, a driver vfmig knows no VFIO migration of: name a VFIO variant driver with migration there, or remove <driver model> to let libvirt choose by the kernel's module aliases"),
                               what);
    case VFMIG_NODEDEV_BIND_ALIAS:
    case VFMIG_NODEDEV_BIND_DEFAULT:
    case VFMIG_NODEDEV_BIND_LAST:
    default:
        break;
    }

    if (advise && bind->from == VFMIG_NODEDEV_BIND_ALIAS)
        todo = g_strdup_printf(_("name the driver in the hostdev: <driver model='%1$s'/>"),
                               advise->name);
    else if (bind->from == VFMIG_NODEDEV_BIND_ALIAS)
        todo = g_strdup(_("name a VFIO variant driver with migration in the hostdev: <driver model='NAME'/>"));
    else if (advise)
        todo = g_strdup_printf(_("install the module '%1$s' (vfmig's kernel modules have it) and run 'depmod -a', or name the driver in the hostdev: <driver model='%2$s'/>"),
                               advise->name, advise->name);
    else
        todo = g_strdup(_("install the module of a VFIO variant driver with migration for it and run 'depmod -a', or name such a driver in the hostdev: <driver model='NAME'/>"));

    if (bind->from == VFMIG_NODEDEV_BIND_DEFAULT)
        return g_strdup_printf(_("libvirt will bind it to vfio-pci, which cannot migrate: no vfio_pci alias in '%1$s' matches the device (%2$04x:%3$04x, modalias '%4$s'); %5$s"),
                               bind->aliasFile, bind->vendor, bind->device,
                               bind->modalias, todo);
    return g_strdup_printf(_("libvirt will bind it to %1$s, a driver vfmig knows no VFIO migration of; %2$s"),
                           what, todo);
}


/* @bind->migration, or @bind->reason. */
static int
vfmigNodeDevBindJudge(const vfmigNodeDevProbePaths *paths,
                      vfmigNodeDevBind *bind)
{
    const vfmigDriverInfo *info = vfmigDriverLookup(bind->driver);
    g_autofree char *what = NULL;
    int rc;

    if (!info || !info->migration) {
        bind->reason = vfmigNodeDevBindNoMigration(bind);
        return 0;
    }

    if ((rc = vfmigNodeDevBindDriverPresent(paths, bind)) < 0)
        return -1;
    if (rc == 0) {
        what = vfmigNodeDevBindDescribe(bind);
        bind->reason = g_strdup_printf(_("libvirt will bind it to %1$s, and this host has no such driver: it is not registered in sysfs, and no module '%2$s' is in '%3$s/modules.dep', so libvirt would fail to start the domain; install the module and run 'depmod -a'"),
                                       what, bind->driver, bind->modulesDir);
        return 0;
    }
    bind->migration = true;
    return 0;
}


int
vfmigNodeDevBindPredict(const vfmigNodeDevProbePaths *paths,
                        const char *address,
                        const char *model,
                        vfmigNodeDevBind **bind)
{
    static const vfmigNodeDevProbePaths none = { 0 };
    g_autoptr(vfmigNodeDevBind) ret = g_new0(vfmigNodeDevBind, 1);

    *bind = NULL;
    if (!paths)
        paths = &none;

    if (paths->modulesDir) {
        ret->modulesDir = g_strdup(paths->modulesDir);
    } else {
        struct utsname uts;

        if (uname(&uts) < 0) {
            vfmigReportSystemError(errno, "%s",
                                   _("cannot tell the running kernel's release (uname)"));
            return -1;
        }
        ret->modulesDir = g_build_filename(VFMIG_NODEDEV_MODULES_ROOT, uts.release, NULL);
    }

    if (model) {
        ret->from = VFMIG_NODEDEV_BIND_MODEL;
        ret->driver = g_strdup(model);
    } else if (vfmigNodeDevBindReadModalias(paths, address, ret) < 0 ||
               vfmigNodeDevBindFromAliases(ret) < 0) {
        return -1;
    }
    if (vfmigNodeDevBindJudge(paths, ret) < 0)
        return -1;

    VFMIG_DEBUG("%s: libvirt binds it to '%s' (%s %s), %s",
                address, ret->driver,
                ret->from == VFMIG_NODEDEV_BIND_MODEL ? "<driver model>" :
                ret->from == VFMIG_NODEDEV_BIND_ALIAS ? "alias" : "no alias matches in",
                ret->pattern ? ret->pattern : ret->aliasFile ? ret->aliasFile : "",
                ret->migration ? "which can migrate it" : ret->reason);
    *bind = g_steal_pointer(&ret);
    return 0;
}
