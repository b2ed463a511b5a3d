/*
 * vfmignodedevnova.c: what OpenStack Nova is told about this host's VFs
 *
 * The file in four parts: the devices' entries; nova.conf's settings (one
 * row each); the device_spec values, read and matched as Nova does; the
 * warnings (one rule each).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "vfmignodedevnova.h"
#include "vfmignodedevquery.h"
#include "vfmigdomainpolicy.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigi18n.h"
#include "vfmigjson.h"

VFMIG_ENUM_IMPL(vfmigNodeDevNovaWarnType, VFMIG_NODEDEV_NOVA_WARN_LAST,
                "not-live-migratable",
                "not-qualified",
                "nova-conf-unreadable",
                "nova-conf-invalid",
                "post-copy",
                "force-complete-pause",
                "tunnelled-no-switchover-ack",
                "tunnelled-parallel",
                "downtime-below-target",
                "physical-network-unplug",
                "device-spec-not-migratable");

VFMIG_ENUM_IMPL(vfmigNodeDevNovaSettingType, VFMIG_NODEDEV_NOVA_SETTING_LAST,
                "live_migration_permit_post_copy",
                "live_migration_timeout_action",
                "live_migration_tunnelled",
                "live_migration_parallel_connections",
                "live_migration_downtime");

VFMIG_ENUM_IMPL(vfmigNodeDevNovaTimeoutActionType, VFMIG_NODEDEV_NOVA_TIMEOUT_LAST,
                "abort", "force_complete");


/*
 * Why a VF that QEMU migrates only with all guest RAM dirty is not live
 * migratable, with what that costs: no domain is at hand, so the least
 * downtime is given per GiB of guest RAM at the link assumed.
 */
static char *
vfmigNodeDevNovaAllDirty(const vfmigNodeDevPCI *dev)
{
    g_autofree char *reason = NULL;
    g_autofree char *perGiB = NULL;
    g_autofree char *link = NULL;
    g_autofree char *least = NULL;

    /* the probe's reason says what QEMU does too */
    reason = dev->cap->dirtyReason ? g_strdup(dev->cap->dirtyReason) :
        g_strdup(_("QEMU blocks the migration unless vfio-pci has enable-migration=on, and then counts all guest RAM as dirty"));
    perGiB = vfmigNodeDevAllDirtyFormatTime(
        vfmigNodeDevAllDirtyLeastUs(1024 * 1024 * 1024,
                                    VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED));
    link = vfmigNodeDevAllDirtyFormatLink(VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED);
    least = g_strdup_printf(_("the switch-over then copies all guest RAM with the guest stopped, so the downtime is at least guest RAM / link bandwidth: %1$s per GiB of guest RAM at %2$s, whatever the downtime target"),
                            perGiB, link);
    if (dev->kernelNoDirty)
        return g_strdup_printf(_("no DMA dirty tracking: %1$s; %2$s; Linux 6.1 can report device dirty pages: on ConnectX hosts run it until Debian's kernel is built with CONFIG_IOMMUFD_DRIVER"),
                               reason, least);
    return g_strdup_printf(_("no DMA dirty tracking: %1$s; %2$s"), reason, least);
}


/* What QEMU does with @dev on the source; VFMIG_NODEDEV_QEMU_LAST when
 * its features are unknown. */
static vfmigNodeDevQEMU
vfmigNodeDevNovaQEMU(const vfmigNodeDevPCI *dev)
{
    g_autoptr(vfmigNodeDevCompareResult) res = NULL;

    if (!dev->cap)
        return VFMIG_NODEDEV_QEMU_LAST;
    res = vfmigNodeDevCapVFIOMigCompare(dev->cap, dev->cap);
    return res->qemu;
}


/*
 * Live migratable is what QEMU migrates as Nova defines the domain, with
 * no <qemu:override>: ALLOWED only, the device's (on Linux 6.1 vfmig's
 * tracker) or the IOMMU's DMA dirty tracking.  ALL_DIRTY needs
 * enable-migration=on, which only domain-prepare adds and Nova's next
 * definition of the domain drops.
 */
bool
vfmigNodeDevNovaMigratable(const vfmigNodeDevPCI *dev,
                           char **why)
{
    vfmigNodeDevQEMU qemu = vfmigNodeDevNovaQEMU(dev);

    *why = NULL;
    if (qemu == VFMIG_NODEDEV_QEMU_LAST) {
        g_autofree char *how = vfmigNodeDevHowToLearn(dev->address);

        *why = g_strdup_printf(_("%1$s; to learn them, %2$s"),
                               vfmigNodeDevUnknownNote(dev), how);
        return false;
    }

    switch (qemu) {
    case VFMIG_NODEDEV_QEMU_ALLOWED:
        return true;
    case VFMIG_NODEDEV_QEMU_ALL_DIRTY:
        *why = vfmigNodeDevNovaAllDirty(dev);
        break;
    case VFMIG_NODEDEV_QEMU_BLOCKED:
    case VFMIG_NODEDEV_QEMU_LAST:
        *why = g_strdup(_("the driver offers no stop-copy migration: QEMU blocks migrating the VM"));
        break;
    }
    return false;
}


const char *
vfmigNodeDevNovaType(const vfmigNodeDevPCI *dev)
{
    if (dev->physfn)
        return "type-VF";
    if (dev->virtfns)
        return "type-PF";
    return "type-PCI";
}


static void
vfmigNodeDevNovaAliasFree(vfmigNodeDevNovaAlias *alias)
{
    if (!alias)
        return;
    g_free(alias->name);
    g_free(alias);
}


static void
vfmigNodeDevNovaDeviceFree(vfmigNodeDevNovaDevice *dev)
{
    if (!dev)
        return;
    g_free(dev->why);
    g_free(dev);
}


static void
vfmigNodeDevNovaWarningFree(vfmigNodeDevNovaWarning *warning)
{
    if (!warning)
        return;
    g_free(warning->message);
    g_free(warning);
}


/* Adds a warning @code to @warnings. */
static void G_GNUC_PRINTF(3, 4)
vfmigNodeDevNovaWarnAdd(GPtrArray *warnings,
                        vfmigNodeDevNovaWarn code,
                        const char *fmt,
                        ...)
{
    vfmigNodeDevNovaWarning *warning = g_new0(vfmigNodeDevNovaWarning, 1);
    va_list ap;

    va_start(ap, fmt);
    warning->code = code;
    warning->message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(warnings, warning);
}


void
vfmigNodeDevNovaSpecFree(vfmigNodeDevNovaSpec *spec)
{
    if (!spec)
        return;
    g_ptr_array_unref(spec->devices);
    g_ptr_array_unref(spec->aliases);
    g_ptr_array_unref(spec->warnings);
    vfmigNodeDevListFree(spec->list);
    g_free(spec);
}


/*
 * The alias of @dev in @spec, added when it is the first of its PCI id,
 * device type and migratability: Nova's PCI in Placement refuses an alias
 * name given twice.
 */
static size_t
vfmigNodeDevNovaSpecAlias(vfmigNodeDevNovaSpec *spec,
                          const vfmigNodeDevPCI *dev,
                          bool migratable)
{
    const char *type = vfmigNodeDevNovaType(dev);
    vfmigNodeDevNovaAlias *alias;
    g_autofree char *suffix = NULL;
    size_t i;

    for (i = 0; i < spec->aliases->len; i++) {
        const vfmigNodeDevNovaAlias *a = g_ptr_array_index(spec->aliases, i);

        if (a->vendor == dev->vendor && a->device == dev->device &&
            g_str_equal(a->type, type) && a->migratable == migratable)
            return i;
    }

    suffix = g_ascii_strdown(type + strlen("type-"), -1);
    alias = g_new0(vfmigNodeDevNovaAlias, 1);
    alias->vendor = dev->vendor;
    alias->device = dev->device;
    alias->type = type;
    alias->migratable = migratable;
    alias->name = g_strdup_printf("vfmig-%04x-%04x-%s%s",
                                  dev->vendor, dev->device, suffix,
                                  migratable ? "" : "-nomig");
    g_ptr_array_add(spec->aliases, alias);
    return spec->aliases->len - 1;
}


vfmigNodeDevNovaSpec *
vfmigNodeDevNovaSpecNew(vfmigNodeDevList *list)
{
    vfmigNodeDevNovaSpec *spec = g_new0(vfmigNodeDevNovaSpec, 1);
    size_t i;

    spec->list = list;
    spec->devices = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigNodeDevNovaDeviceFree);
    spec->aliases = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigNodeDevNovaAliasFree);
    spec->warnings = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigNodeDevNovaWarningFree);

    for (i = 0; i < list->devices->len; i++) {
        const vfmigNodeDevPCI *dev = g_ptr_array_index(list->devices, i);
        vfmigNodeDevNovaDevice *entry;

        /* Nova passes through what is bound to a VFIO driver already:
         * managed "no" */
        if (!dev->vfio)
            continue;

        entry = g_new0(vfmigNodeDevNovaDevice, 1);
        entry->dev = dev;
        entry->migratable = vfmigNodeDevNovaMigratable(dev, &entry->why);
        entry->qemu = vfmigNodeDevNovaQEMU(dev);
        if (entry->qemu == VFMIG_NODEDEV_QEMU_ALL_DIRTY)
            entry->allDirtyLeastUs =
                vfmigNodeDevAllDirtyLeastUs(1024 * 1024 * 1024,
                                            VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED);
        entry->notQualified = dev->cap && dev->cap->qualified &&
            dev->cap->qualified->verdict == VFMIG_NODEDEV_VERDICT_NOT_QUALIFIED;
        entry->alias = vfmigNodeDevNovaSpecAlias(spec, dev, entry->migratable);
        g_ptr_array_add(spec->devices, entry);
    }
    return spec;
}


int
vfmigNodeDevNovaSpecProbe(const vfmigNodeDevProbePaths *paths,
                          unsigned int flags,
                          vfmigNodeDevNovaSpec **spec)
{
    vfmigNodeDevList *list = NULL;

    *spec = NULL;
    if (vfmigNodeDevProbeAll(paths, flags, &list) < 0)
        return -1;
    *spec = vfmigNodeDevNovaSpecNew(list);
    return 0;
}


/* ---- nova.conf's [libvirt] settings: one row each */

typedef enum {
    VFMIG_NODEDEV_NOVA_KIND_BOOL,   /* oslo.config's Boolean */
    VFMIG_NODEDEV_NOVA_KIND_CHOICE, /* a vfmigNodeDevNovaTimeoutAction */
    VFMIG_NODEDEV_NOVA_KIND_INT,    /* oslo.config's Integer, from @min */
} vfmigNodeDevNovaKind;

typedef struct _vfmigNodeDevNovaSettingInfo vfmigNodeDevNovaSettingInfo;
struct _vfmigNodeDevNovaSettingInfo {
    vfmigNodeDevNovaKind kind;
    long long min;              /* INT */
    long long def;              /* Nova's default */
    const char *defText;        /* the same as Nova spells it */
};

/* nova/conf/libvirt.py, Nova 33.0 */
static const vfmigNodeDevNovaSettingInfo vfmigNodeDevNovaSettings[] = {
    [VFMIG_NODEDEV_NOVA_PERMIT_POST_COPY] = {
        VFMIG_NODEDEV_NOVA_KIND_BOOL, 0, 0, "False" },
    [VFMIG_NODEDEV_NOVA_TIMEOUT_ACTION] = {
        VFMIG_NODEDEV_NOVA_KIND_CHOICE, 0, VFMIG_NODEDEV_NOVA_TIMEOUT_ABORT, "abort" },
    [VFMIG_NODEDEV_NOVA_TUNNELLED] = {
        VFMIG_NODEDEV_NOVA_KIND_BOOL, 0, 0, "False" },
    /* no minimum: only a value above 1 turns VIR_MIGRATE_PARALLEL on */
    [VFMIG_NODEDEV_NOVA_PARALLEL_CONNECTIONS] = {
        VFMIG_NODEDEV_NOVA_KIND_INT, INT_MIN, 1, "1" },
    [VFMIG_NODEDEV_NOVA_DOWNTIME] = {
        VFMIG_NODEDEV_NOVA_KIND_INT, 100, 500, "500" },
};

G_STATIC_ASSERT(G_N_ELEMENTS(vfmigNodeDevNovaSettings) == VFMIG_NODEDEV_NOVA_SETTING_LAST);


vfmigNodeDevNovaConf *
vfmigNodeDevNovaConfNew(void)
{
    vfmigNodeDevNovaConf *conf = g_new0(vfmigNodeDevNovaConf, 1);
    size_t i;

    for (i = 0; i < VFMIG_NODEDEV_NOVA_SETTING_LAST; i++) {
        conf->settings[i].value = vfmigNodeDevNovaSettings[i].def;
        conf->settings[i].text = g_strdup(vfmigNodeDevNovaSettings[i].defText);
    }
    conf->deviceSpecs = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigNodeDevNovaDeviceSpecFree);
    conf->targetMs = VFMIG_DOMAIN_POLICY_DEFAULT_TARGET_MS;
    return conf;
}


void
vfmigNodeDevNovaConfFree(vfmigNodeDevNovaConf *conf)
{
    size_t i;

    if (!conf)
        return;
    for (i = 0; i < VFMIG_NODEDEV_NOVA_SETTING_LAST; i++) {
        g_free(conf->settings[i].text);
        g_free(conf->settings[i].from);
    }
    g_ptr_array_unref(conf->deviceSpecs);
    g_free(conf->path);
    g_free(conf->targetFrom);
    g_free(conf);
}


/* oslo.config's Boolean: 1 true, 0 false, -1 neither. */
static int
vfmigNodeDevNovaConfBool(const char *value)
{
    static const char *const yes[] = { "true", "1", "on", "yes", NULL };
    static const char *const no[] = { "false", "0", "off", "no", NULL };
    g_autofree char *lower = g_ascii_strdown(value, -1);

    if (g_strv_contains(yes, lower))
        return 1;
    if (g_strv_contains(no, lower))
        return 0;
    return -1;
}


int
vfmigNodeDevNovaConfSet(vfmigNodeDevNovaConf *conf,
                        vfmigNodeDevNovaSetting setting,
                        const char *value,
                        const char *from)
{
    const vfmigNodeDevNovaSettingInfo *info = &vfmigNodeDevNovaSettings[setting];
    const char *name = vfmigNodeDevNovaSettingTypeToString(setting);
    vfmigNodeDevNovaValue *v = &conf->settings[setting];
    g_autofree char *text = g_strstrip(g_strdup(value));
    gint64 num = 0;

    switch (info->kind) {
    case VFMIG_NODEDEV_NOVA_KIND_BOOL:
        if ((num = vfmigNodeDevNovaConfBool(text)) < 0) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("%1$s: %2$s wants True or False (or yes, no, on, off, 1, 0), not '%3$s'"),
                             from, name, text);
            return -1;
        }
        break;
    case VFMIG_NODEDEV_NOVA_KIND_CHOICE:
        if ((num = vfmigNodeDevNovaTimeoutActionTypeFromString(text)) < 0) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("%1$s: %2$s wants abort or force_complete, not '%3$s'"),
                             from, name, text);
            return -1;
        }
        break;
    case VFMIG_NODEDEV_NOVA_KIND_INT:
        if (!g_ascii_string_to_signed(text, 10, info->min, INT_MAX, &num, NULL)) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("%1$s: %2$s wants a whole number from %3$lld to %4$d, not '%5$s'"),
                             from, name, info->min, INT_MAX, text);
            return -1;
        }
        break;
    }

    v->value = num;
    g_free(v->text);
    v->text = g_steal_pointer(&text);
    g_free(v->from);
    v->from = g_strdup(from);
    return 0;
}


/* ---- device_spec: read and matched as Nova does (nova/pci/devspec.py) */

void
vfmigNodeDevNovaDeviceSpecFree(vfmigNodeDevNovaDeviceSpec *ds)
{
    size_t i;

    if (!ds)
        return;
    g_free(ds->text);
    g_free(ds->from);
    for (i = 0; i < VFMIG_NODEDEV_NOVA_ADDR_FIELDS; i++) {
        g_free(ds->field[i]);
        if (ds->regex[i])
            g_regex_unref(ds->regex[i]);
    }
    g_free(ds->single);
    g_free(ds->physicalNetwork);
    g_free(ds);
}


/* Each address field: its name in a regex address, its largest value
 * and how many hexadecimal digits Nova writes (PhysicalPciAddress). */
static const struct {
    const char *name;
    unsigned int max;
    int width;
} vfmigNodeDevNovaAddrFields[VFMIG_NODEDEV_NOVA_ADDR_FIELDS] = {
    { "domain", 0xFFFF, 4 },
    { "bus", 0xFF, 2 },
    { "slot", 0x1F, 2 },
    { "function", 0x7, 1 },
};


/*
 * A hexadecimal field as _set_pci_dev_info reads it: '*' is any (*@out
 * NULL), else a number up to @max, written with @width digits at least.
 * Returns 0, or -1 with *@why.
 */
static int
vfmigNodeDevNovaHex(const char *what,
                    const char *str,
                    unsigned int max,
                    int width,
                    char **out,
                    char **why)
{
    g_autofree char *s = g_strstrip(g_strdup(str));
    const char *digits = s;
    guint64 v;

    *out = NULL;
    if (g_str_equal(s, "*"))
        return 0;
    if (g_ascii_strncasecmp(digits, "0x", 2) == 0)
        digits += 2;
    if (!*digits || strspn(digits, "0123456789abcdefABCDEF") != strlen(digits) ||
        !g_ascii_string_to_unsigned(digits, 16, 0, max, &v, NULL)) {
        *why = g_strdup_printf(_("%1$s '%2$s' is not '*' or a hexadecimal number up to %3$x"),
                               what, s, max);
        return -1;
    }
    *out = g_strdup_printf("%0*x", width, (unsigned int) v);
    return 0;
}


/* vendor_id or product_id: -1 for any. */
static int
vfmigNodeDevNovaSpecId(const vfmigJSONValue *obj,
                       const char *key,
                       int *id,
                       char **why)
{
    const vfmigJSONValue *v = vfmigJSONObjectGet(obj, key);
    g_autofree char *hex = NULL;

    *id = -1;
    if (!v)
        return 0;
    if (v->type != VFMIG_JSON_STRING) {
        *why = g_strdup_printf(_("%1$s is a %2$s, not a string"),
                               key, vfmigJSONTypeToString(v->type));
        return -1;
    }
    if (vfmigNodeDevNovaHex(key, v->text, 0xFFFF, 4, &hex, why) < 0)
        return -1;
    if (hex)
        *id = (int) g_ascii_strtoull(hex, NULL, 16);
    return 0;
}


/* "address" as a string (PciAddressGlobSpec). */
static int
vfmigNodeDevNovaSpecGlob(vfmigNodeDevNovaDeviceSpec *ds,
                         const char *addr,
                         char **why)
{
    const char *dot = strchr(addr, '.');
    g_autofree char *dbs = dot ? g_strndup(addr, dot - addr) : g_strdup(addr);
    g_auto(GStrv) parts = NULL;
    size_t n;
    size_t i;

    ds->kind = VFMIG_NODEDEV_NOVA_ADDR_GLOB;
    if (dot && dot[1] &&
        vfmigNodeDevNovaHex(_("the function"), dot + 1,
                            vfmigNodeDevNovaAddrFields[3].max,
                            vfmigNodeDevNovaAddrFields[3].width,
                            &ds->field[3], why) < 0)
        return -1;
    if (!*dbs)
        return 0;

    parts = g_strsplit(dbs, ":", -1);
    if ((n = g_strv_length(parts)) > 3) {
        *why = g_strdup_printf(_("the address '%1$s' has more than three fields before the function"),
                               addr);
        return -1;
    }
    /* a field left out, or empty, is '*': "3b:00." is any domain */
    for (i = 0; i < n; i++) {
        size_t f = 3 - n + i;
        g_autofree char *part = g_strstrip(g_strdup(parts[i]));

        if (!*part)
            continue;
        if (vfmigNodeDevNovaHex(vfmigNodeDevNovaAddrFields[f].name, part,
                                vfmigNodeDevNovaAddrFields[f].max,
                                vfmigNodeDevNovaAddrFields[f].width,
                                &ds->field[f], why) < 0)
            return -1;
    }
    return 0;
}


/* "address" as an object of patterns (PciAddressRegexSpec). */
static int
vfmigNodeDevNovaSpecRegex(vfmigNodeDevNovaDeviceSpec *ds,
                          const vfmigJSONValue *addr,
                          char **why)
{
    size_t i;

    ds->kind = VFMIG_NODEDEV_NOVA_ADDR_REGEX;
    for (i = 0; i < VFMIG_NODEDEV_NOVA_ADDR_FIELDS; i++) {
        const char *name = vfmigNodeDevNovaAddrFields[i].name;
        const vfmigJSONValue *v = vfmigJSONObjectGet(addr, name);
        g_autoptr(GError) gerr = NULL;

        if (v && v->type != VFMIG_JSON_STRING) {
            *why = g_strdup_printf(_("the address's %1$s is a %2$s, not a string"),
                                   name, vfmigJSONTypeToString(v->type));
            return -1;
        }
        ds->field[i] = g_strdup(v ? v->text : ".*");
        if (!(ds->regex[i] = g_regex_new(ds->field[i], 0, 0, &gerr))) {
            *why = g_strdup_printf(_("the address's %1$s '%2$s' is not a regular expression: %3$s"),
                                   name, ds->field[i], gerr->message);
            return -1;
        }
    }
    return 0;
}


/* A tag as oslo's strutils.bool_from_string(strict=True) reads it: -1
 * when absent or null. */
static int
vfmigNodeDevNovaSpecTag(const vfmigJSONValue *obj,
                        const char *key,
                        int *value,
                        char **why)
{
    static const char *const yes[] = { "1", "t", "true", "on", "y", "yes", NULL };
    static const char *const no[] = { "0", "f", "false", "off", "n", "no", NULL };
    const vfmigJSONValue *v = vfmigJSONObjectGet(obj, key);
    g_autofree char *lower = NULL;

    *value = -1;
    if (!v || v->type == VFMIG_JSON_NULL)
        return 0;
    if (v->type == VFMIG_JSON_BOOLEAN) {
        *value = v->boolean;
        return 0;
    }
    if (v->type == VFMIG_JSON_STRING || v->type == VFMIG_JSON_NUMBER) {
        lower = g_strstrip(g_ascii_strdown(v->text, -1));
        if (g_strv_contains(yes, lower)) {
            *value = 1;
            return 0;
        }
        if (g_strv_contains(no, lower)) {
            *value = 0;
            return 0;
        }
    }
    *why = g_strdup_printf(_("Nova cannot read its tag '%1$s' as true or false"), key);
    return -1;
}


/* Whether every character of @s is a hexadecimal digit. */
static bool
vfmigNodeDevNovaAllHex(const char *s)
{
    return s && strspn(s, "0123456789abcdefABCDEF") == strlen(s);
}


/* One object of a device_spec value. */
static vfmigNodeDevNovaDeviceSpec *
vfmigNodeDevNovaSpecParse(const vfmigJSONValue *obj,
                          char **why)
{
    g_autoptr(vfmigNodeDevNovaDeviceSpec) ds = g_new0(vfmigNodeDevNovaDeviceSpec, 1);
    const vfmigJSONValue *addr = vfmigJSONObjectGet(obj, "address");
    const vfmigJSONValue *devname = vfmigJSONObjectGet(obj, "devname");
    const vfmigJSONValue *physnet = vfmigJSONObjectGet(obj, "physical_network");
    int managed;
    size_t i;

    if (obj->type != VFMIG_JSON_OBJECT) {
        *why = g_strdup_printf(_("an entry is a %1$s, not an object"),
                               vfmigJSONTypeToString(obj->type));
        return NULL;
    }
    if (vfmigNodeDevNovaSpecId(obj, "vendor_id", &ds->vendor, why) < 0 ||
        vfmigNodeDevNovaSpecId(obj, "product_id", &ds->device, why) < 0 ||
        vfmigNodeDevNovaSpecTag(obj, "live_migratable", &ds->liveMigratable, why) < 0 ||
        vfmigNodeDevNovaSpecTag(obj, "managed", &managed, why) < 0)
        return NULL;

    if (addr && devname) {
        *why = g_strdup(_("it has both an address and a devname"));
        return NULL;
    }
    if (devname) {
        ds->kind = VFMIG_NODEDEV_NOVA_ADDR_DEVNAME;
    } else if (!addr) {
        ds->kind = VFMIG_NODEDEV_NOVA_ADDR_GLOB;
    } else if (addr->type == VFMIG_JSON_STRING) {
        if (vfmigNodeDevNovaSpecGlob(ds, addr->text, why) < 0)
            return NULL;
    } else if (addr->type == VFMIG_JSON_OBJECT) {
        if (vfmigNodeDevNovaSpecRegex(ds, addr, why) < 0)
            return NULL;
    } else {
        *why = g_strdup_printf(_("the address is a %1$s, not a string or an object"),
                               vfmigJSONTypeToString(addr->type));
        return NULL;
    }

    /* WhitelistPciAddress._check_physical_function */
    if (ds->kind != VFMIG_NODEDEV_NOVA_ADDR_DEVNAME) {
        for (i = 0; i < VFMIG_NODEDEV_NOVA_ADDR_FIELDS; i++) {
            if (!vfmigNodeDevNovaAllHex(ds->field[i]))
                break;
        }
        if (i == VFMIG_NODEDEV_NOVA_ADDR_FIELDS)
            ds->single = g_strdup_printf("%s:%s:%s.%s", ds->field[0],
                                         ds->field[1], ds->field[2],
                                         ds->field[3]);
    }

    if (physnet && physnet->type == VFMIG_JSON_STRING && *physnet->text)
        ds->physicalNetwork = g_strdup(physnet->text);
    return g_steal_pointer(&ds);
}


int
vfmigNodeDevNovaConfAddDeviceSpec(vfmigNodeDevNovaConf *conf,
                                  const char *text,
                                  const char *from)
{
    g_autoptr(vfmigJSONValue) value = NULL;
    g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigNodeDevNovaDeviceSpecFree);
    g_autofree char *why = NULL;
    const char *json = text;
    size_t i;

    /* a whole line of nova.conf: "device_spec = {...}" */
    while (g_ascii_isspace(*json))
        json++;
    if (g_str_has_prefix(json, "device_spec") || g_str_has_prefix(json, "passthrough_whitelist")) {
        const char *eq = strchr(json, '=');

        if (eq)
            json = eq + 1;
    }

    if (vfmigJSONParse(json, strlen(json), &value) < 0) {
        why = g_strdup(vfmigGetLastErrorMessage());
        vfmigResetLastError();
    } else if (value->type == VFMIG_JSON_OBJECT) {
        vfmigNodeDevNovaDeviceSpec *ds = vfmigNodeDevNovaSpecParse(value, &why);

        if (ds)
            g_ptr_array_add(specs, ds);
    } else if (value->type == VFMIG_JSON_ARRAY) {
        for (i = 0; i < value->items->len && !why; i++) {
            vfmigNodeDevNovaDeviceSpec *ds =
                vfmigNodeDevNovaSpecParse(g_ptr_array_index(value->items, i), &why);

            if (ds)
                g_ptr_array_add(specs, ds);
        }
    } else {
        why = g_strdup_printf(_("it is a %1$s, not an object or a list of objects"),
                              vfmigJSONTypeToString(value->type));
    }

    if (why) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s: device_spec '%2$s' is not one Nova takes: %3$s"),
                         from, text, why);
        return -1;
    }

    for (i = 0; i < specs->len; i++) {
        vfmigNodeDevNovaDeviceSpec *ds = g_ptr_array_index(specs, i);

        ds->text = g_strdup(text);
        ds->from = g_strdup(from);
    }
    g_ptr_array_extend_and_steal(conf->deviceSpecs, g_steal_pointer(&specs));
    return 0;
}


/* Whether @ds's address matches the function @addr. */
static bool
vfmigNodeDevNovaSpecMatchAddr(const vfmigNodeDevNovaDeviceSpec *ds,
                              const vfmigPCIAddress *addr)
{
    const unsigned int values[VFMIG_NODEDEV_NOVA_ADDR_FIELDS] = {
        addr->domain, addr->bus, addr->slot, addr->function
    };
    size_t i;

    for (i = 0; i < VFMIG_NODEDEV_NOVA_ADDR_FIELDS; i++) {
        g_autofree char *field = g_strdup_printf("%0*x",
                                                 vfmigNodeDevNovaAddrFields[i].width,
                                                 values[i]);

        if (ds->kind == VFMIG_NODEDEV_NOVA_ADDR_REGEX) {
            if (!g_regex_match(ds->regex[i], field, G_REGEX_MATCH_ANCHORED, NULL))
                return false;
        } else if (ds->field[i] && !g_str_equal(ds->field[i], field)) {
            return false;
        }
    }
    return true;
}


bool
vfmigNodeDevNovaDeviceSpecMatch(const vfmigNodeDevNovaDeviceSpec *ds,
                                const vfmigNodeDevList *list,
                                const vfmigNodeDevPCI *dev)
{
    vfmigPCIAddress pf;
    size_t i;

    if (ds->kind == VFMIG_NODEDEV_NOVA_ADDR_DEVNAME)
        return false;
    if ((ds->vendor >= 0 && (unsigned int) ds->vendor != dev->vendor) ||
        (ds->device >= 0 && (unsigned int) ds->device != dev->device))
        return false;

    /* a PF's address matches its VFs (utils.is_physical_function: a
     * function with VFs) */
    if (ds->single && dev->physfn &&
        vfmigPCIAddressIsValid(dev->physfn, 0, &pf)) {
        for (i = 0; i < list->devices->len; i++) {
            const vfmigNodeDevPCI *d = g_ptr_array_index(list->devices, i);

            if (d->virtfns && g_str_equal(d->address, ds->single) &&
                vfmigNodeDevNovaSpecMatchAddr(ds, &pf))
                return true;
        }
    }
    return vfmigNodeDevNovaSpecMatchAddr(ds, &dev->pci);
}


/* ---- reading nova.conf */

/*
 * The values of @key in @group of @content, every one: [pci] device_spec
 * is a multi-valued option, given once per line, and GKeyFile keeps only
 * the last.  @content is one GKeyFile parsed already, so every line is a
 * comment, a group or a key.
 */
static GPtrArray *
vfmigNodeDevNovaConfValues(const char *content,
                           const char *group,
                           const char *key)
{
    g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func(g_free);
    g_auto(GStrv) lines = g_strsplit(content, "\n", -1);
    g_autofree char *header = g_strdup_printf("[%s]", group);
    bool in = false;
    size_t i;

    for (i = 0; lines[i]; i++) {
        char *l = g_strstrip(lines[i]);
        char *eq;

        if (!*l || *l == '#')
            continue;
        if (*l == '[') {
            in = g_str_equal(l, header);
            continue;
        }
        if (!in || !(eq = strchr(l, '=')))
            continue;
        *eq = '\0';
        if (g_str_equal(g_strchomp(l), key))
            g_ptr_array_add(values, g_strdup(g_strchug(eq + 1)));
    }
    return g_steal_pointer(&values);
}


/* Adds the problem just reported as a warning. */
static void
vfmigNodeDevNovaConfInvalid(GPtrArray *warnings)
{
    vfmigNodeDevNovaWarnAdd(warnings, VFMIG_NODEDEV_NOVA_WARN_CONF_INVALID,
                            _("%1$s; Nova refuses it"),
                            vfmigGetLastErrorMessage());
    vfmigResetLastError();
}


int
vfmigNodeDevNovaConfLoad(vfmigNodeDevNovaConf *conf,
                         const char *path,
                         GPtrArray *warnings)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) gerr = NULL;
    g_autoptr(GPtrArray) specs = NULL;
    g_autofree char *content = NULL;
    size_t len = 0;
    size_t i;
    int rc;

    if ((rc = vfmigFileRead(_("Nova configuration file"),
                            path ? path : VFMIG_NODEDEV_NOVA_CONF,
                            VFMIG_NODEDEV_NOVA_CONF_MAX,
                            path ? 0 : VFMIG_FILE_OPTIONAL,
                            &content, &len)) <= 0)
        return rc;
    if (!path)
        path = VFMIG_NODEDEV_NOVA_CONF;

    if (!g_key_file_load_from_data(kf, content, len, G_KEY_FILE_NONE, &gerr)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("cannot parse Nova configuration file '%1$s': %2$s"),
                         path, gerr->message);
        return -1;
    }
    g_free(conf->path);
    conf->path = g_strdup(path);

    /* what the options set stays */
    for (i = 0; i < VFMIG_NODEDEV_NOVA_SETTING_LAST; i++) {
        g_autofree char *value = NULL;

        if (conf->settings[i].from ||
            !(value = g_key_file_get_value(kf, "libvirt",
                                           vfmigNodeDevNovaSettingTypeToString(i),
                                           NULL)))
            continue;
        if (vfmigNodeDevNovaConfSet(conf, i, value, path) < 0)
            vfmigNodeDevNovaConfInvalid(warnings);
    }

    if (conf->deviceSpecsGiven)
        return 1;
    specs = vfmigNodeDevNovaConfValues(content, "pci", "device_spec");
    if (specs->len == 0) {
        g_ptr_array_unref(specs);
        specs = vfmigNodeDevNovaConfValues(content, "pci", "passthrough_whitelist");
    }
    for (i = 0; i < specs->len; i++) {
        if (vfmigNodeDevNovaConfAddDeviceSpec(conf, g_ptr_array_index(specs, i), path) < 0)
            vfmigNodeDevNovaConfInvalid(warnings);
    }
    return 1;
}


/* ---- the warnings: one rule each */

typedef struct _vfmigNodeDevNovaCheck vfmigNodeDevNovaCheck;
struct _vfmigNodeDevNovaCheck {
    vfmigNodeDevNovaSpec *spec;
    const vfmigNodeDevNovaConf *conf;
    GPtrArray *loaded;      /* vfmigNodeDevNovaWarning *: reading nova.conf */
    /* per entry of spec->devices, the device_spec Nova takes for it (the
     * first that matches), or NULL */
    const vfmigNodeDevNovaDeviceSpec **taken;
};

typedef void (*vfmigNodeDevNovaRule)(vfmigNodeDevNovaCheck *c,
                                     vfmigNodeDevNovaWarn code);


/* "live_migration_tunnelled is True (--live-migration-tunnelled)" */
static char *
vfmigNodeDevNovaSays(const vfmigNodeDevNovaConf *conf,
                     vfmigNodeDevNovaSetting setting)
{
    const vfmigNodeDevNovaValue *v = &conf->settings[setting];
    const char *name = vfmigNodeDevNovaSettingTypeToString(setting);

    if (!v->from)
        return g_strdup_printf(_("%1$s is %2$s (Nova's default)"), name, v->text);
    return g_strdup_printf(_("%1$s is %2$s (%3$s)"), name, v->text, v->from);
}


static void
vfmigNodeDevNovaRuleNotMigratable(vfmigNodeDevNovaCheck *c,
                                  vfmigNodeDevNovaWarn code)
{
    size_t i;

    for (i = 0; i < c->spec->devices->len; i++) {
        const vfmigNodeDevNovaDevice *e = g_ptr_array_index(c->spec->devices, i);

        if (!e->migratable)
            vfmigNodeDevNovaWarnAdd(c->spec->warnings, code,
                                    _("%1$s is not live migratable: %2$s"),
                                    e->dev->address, e->why);
    }
}


static void
vfmigNodeDevNovaRuleNotQualified(vfmigNodeDevNovaCheck *c,
                                 vfmigNodeDevNovaWarn code)
{
    size_t i;

    for (i = 0; i < c->spec->devices->len; i++) {
        const vfmigNodeDevNovaDevice *e = g_ptr_array_index(c->spec->devices, i);
        g_autofree char *at = NULL;

        if (!e->notQualified)
            continue;
        at = vfmigNodeDevQualifiedFormatTime(e->dev->cap->qualified->at);
        vfmigNodeDevNovaWarnAdd(c->spec->warnings, code,
                                _("%1$s was not qualified for migration by its last device-qualify (%2$s): run virt-vfmig device-qualify %3$s for the reasons"),
                                e->dev->address, at ? at : "?", e->dev->address);
    }
}


/* Reading nova.conf: its warnings of @code. */
static void
vfmigNodeDevNovaRuleLoaded(vfmigNodeDevNovaCheck *c,
                           vfmigNodeDevNovaWarn code)
{
    size_t i;

    for (i = 0; i < c->loaded->len; i++) {
        vfmigNodeDevNovaWarning *w = g_ptr_array_index(c->loaded, i);

        if (w->code == code)
            vfmigNodeDevNovaWarnAdd(c->spec->warnings, code, "%s", w->message);
    }
}


static void
vfmigNodeDevNovaRulePostCopy(vfmigNodeDevNovaCheck *c,
                             vfmigNodeDevNovaWarn code)
{
    g_autofree char *says = NULL;

    if (!c->conf->settings[VFMIG_NODEDEV_NOVA_PERMIT_POST_COPY].value)
        return;
    says = vfmigNodeDevNovaSays(c->conf, VFMIG_NODEDEV_NOVA_PERMIT_POST_COPY);
    vfmigNodeDevNovaWarnAdd(c->spec->warnings, code,
                            _("[libvirt] %1$s, but QEMU refuses post-copy for VMs with VFIO devices: set it to False on hosts with migratable VFs"),
                            says);
}


/*
 * Nova's force-complete without post-copy is virDomainSuspend
 * (nova/virt/libvirt/migration.py run_tasks); what the daemon does with a
 * guest paused during the migration is docs/downtime-policy.rst's pause
 * rule (vfmigcontroller.c).
 */
static void
vfmigNodeDevNovaRuleForceComplete(vfmigNodeDevNovaCheck *c,
                                  vfmigNodeDevNovaWarn code)
{
    g_autofree char *action = NULL;
    g_autofree char *postCopy = NULL;

    if (c->conf->settings[VFMIG_NODEDEV_NOVA_TIMEOUT_ACTION].value != VFMIG_NODEDEV_NOVA_TIMEOUT_FORCE_COMPLETE ||
        c->conf->settings[VFMIG_NODEDEV_NOVA_PERMIT_POST_COPY].value)
        return;
    action = vfmigNodeDevNovaSays(c->conf, VFMIG_NODEDEV_NOVA_TIMEOUT_ACTION);
    postCopy = vfmigNodeDevNovaSays(c->conf, VFMIG_NODEDEV_NOVA_PERMIT_POST_COPY);
    vfmigNodeDevNovaWarnAdd(c->spec->warnings, code,
                            _("[libvirt] %1$s and %2$s: when live_migration_completion_timeout passes, Nova pauses the guest to finish the migration (virDomainSuspend), and QEMU moves its VFs to STOP_COPY; virt-vfmigd then releases its hold at once if every VF's initial pre-copy data has been sent, so the migration completes with the guest stopped from the pause on, whatever the policy's target; if a VF's initial data has not all been sent it cancels the migration (QEMU, waiting for switchover-ack, could not complete it), and Nova resumes the guest on the source.  Keep abort, Nova's default, to have Nova cancel a migration that takes too long with the guest running"),
                            action, postCopy);
}


/*
 * libvirt forbids return-path with VIR_MIGRATE_TUNNELLED
 * (qemuMigrationParamsFlagMap in src/qemu/qemu_migration_params.c) and
 * enables switchover-ack only with it; QEMU needs return-path for
 * switchover-ack (migration/options.c) but not switchover-ack for VFIO.
 */
static void
vfmigNodeDevNovaRuleTunnelled(vfmigNodeDevNovaCheck *c,
                              vfmigNodeDevNovaWarn code)
{
    g_autofree char *says = NULL;

    if (!c->conf->settings[VFMIG_NODEDEV_NOVA_TUNNELLED].value)
        return;
    says = vfmigNodeDevNovaSays(c->conf, VFMIG_NODEDEV_NOVA_TUNNELLED);
    vfmigNodeDevNovaWarnAdd(c->spec->warnings, code,
                            _("[libvirt] %1$s: Nova then migrates with VIR_MIGRATE_TUNNELLED, for which libvirt turns QEMU's return-path off (qemuMigrationParamsFlagMap, libvirt's src/qemu/qemu_migration_params.c), and without a return path QEMU has no switchover-ack.  The VFs still migrate, neither QEMU nor vfmig refuses them, but QEMU may switch over before the destination loaded the VFs' initial pre-copy data, which it then loads with the guest stopped (for one mlx5 VF with 300 MB of state, 1.9 s of downtime instead of 0.42 s), and virt-vfmigd, which counts on switchover-ack unless started with --load-ms, predicts the downtime short.  Set it to False (Nova deprecates it); live_migration_with_native_tls encrypts without it"),
                            says);
}


/* libvirt's virDomainMigrate* refuse the two flags together
 * (VIR_EXCLUSIVE_FLAGS_GOTO, commit e092daacee); Nova does not check. */
static void
vfmigNodeDevNovaRuleTunnelledParallel(vfmigNodeDevNovaCheck *c,
                                      vfmigNodeDevNovaWarn code)
{
    g_autofree char *tunnelled = NULL;
    g_autofree char *parallel = NULL;

    if (!c->conf->settings[VFMIG_NODEDEV_NOVA_TUNNELLED].value ||
        c->conf->settings[VFMIG_NODEDEV_NOVA_PARALLEL_CONNECTIONS].value <= 1)
        return;
    tunnelled = vfmigNodeDevNovaSays(c->conf, VFMIG_NODEDEV_NOVA_TUNNELLED);
    parallel = vfmigNodeDevNovaSays(c->conf, VFMIG_NODEDEV_NOVA_PARALLEL_CONNECTIONS);
    vfmigNodeDevNovaWarnAdd(c->spec->warnings, code,
                            _("[libvirt] %1$s and %2$s: libvirt refuses every migration asked with both VIR_MIGRATE_TUNNELLED and VIR_MIGRATE_PARALLEL (\"Flags 'VIR_MIGRATE_TUNNELLED' and 'VIR_MIGRATE_PARALLEL' are mutually exclusive\"), and Nova does not check the pair when it starts: every live migration from this host fails.  Turn one of them off"),
                            tunnelled, parallel);
}


/* Nova's steps (migration.py downtime_steps) and what the controller does
 * with a limit it did not set (vfmigcontroller.h). */
static void
vfmigNodeDevNovaRuleDowntime(vfmigNodeDevNovaCheck *c,
                             vfmigNodeDevNovaWarn code)
{
    const vfmigNodeDevNovaConf *conf = c->conf;
    long long downtime = conf->settings[VFMIG_NODEDEV_NOVA_DOWNTIME].value;
    g_autofree char *says = NULL;
    g_autofree char *target = NULL;

    if (downtime >= conf->targetMs)
        return;
    says = vfmigNodeDevNovaSays(conf, VFMIG_NODEDEV_NOVA_DOWNTIME);
    if (conf->targetFrom)
        target = g_strdup_printf(_("%1$u ms (%2$s)"), conf->targetMs, conf->targetFrom);
    else
        target = g_strdup_printf(_("%1$u ms (vfmig's default, where a domain's policy gives none)"),
                                 conf->targetMs);
    vfmigNodeDevNovaWarnAdd(c->spec->warnings, code,
                            _("[libvirt] %1$s: %2$lld ms, below the downtime target of vfmig's policy, %3$s: every downtime limit Nova sets during a migration (its steps, from it divided by live_migration_downtime_steps up to all of it) asks QEMU for less than the policy allows.  virt-vfmigd, while it steers the migration, overwrites each of Nova's writes at its next step (within 200 ms) with its own limit, so Nova's value does not count there; without the daemon QEMU switches over only once the VFs' state and the RAM left fit in Nova's limit, and a migration may not converge before Nova's completion timeout.  Set live_migration_downtime to at least %4$u"),
                            says, downtime, target, conf->targetMs);
}


/* LP 2102161 (Nova's doc/source/admin/pci-passthrough.rst "Known
 * Issues"): VFs of a device_spec with physical_network are Neutron's,
 * unplugged and plugged again around a live migration. */
static void
vfmigNodeDevNovaRulePhysicalNetwork(vfmigNodeDevNovaCheck *c,
                                    vfmigNodeDevNovaWarn code)
{
    size_t i;
    size_t j;

    for (i = 0; i < c->conf->deviceSpecs->len; i++) {
        const vfmigNodeDevNovaDeviceSpec *ds = g_ptr_array_index(c->conf->deviceSpecs, i);
        g_autoptr(GPtrArray) addrs = g_ptr_array_new();
        g_autofree char *list = NULL;

        if (!ds->physicalNetwork)
            continue;
        for (j = 0; j < c->spec->devices->len; j++) {
            const vfmigNodeDevNovaDevice *e = g_ptr_array_index(c->spec->devices, j);

            if (c->taken[j] == ds)
                g_ptr_array_add(addrs, e->dev->address);
        }
        if (addrs->len == 0 && ds->liveMigratable != 1)
            continue;
        g_ptr_array_add(addrs, NULL);
        list = addrs->len > 1 ? g_strjoinv(", ", (char **) addrs->pdata) :
            g_strdup(_("none of this host's VFIO devices"));
        vfmigNodeDevNovaWarnAdd(c->spec->warnings, code,
                                _("device_spec '%1$s' (%2$s) has physical_network '%3$s': Nova gives the VFs it takes (%4$s) to Neutron ports (vnic_type direct), which it unplugs before a live migration and plugs again after, so no device state moves, and it ignores the entry's live_migratable (Launchpad bug 2102161).  Give the VFs to migrate to VMs through a [pci] alias, from a device_spec without physical_network"),
                                ds->text, ds->from, ds->physicalNetwork, list);
    }
}


static void
vfmigNodeDevNovaRuleSpecNotMigratable(vfmigNodeDevNovaCheck *c,
                                      vfmigNodeDevNovaWarn code)
{
    size_t i;

    for (i = 0; i < c->spec->devices->len; i++) {
        const vfmigNodeDevNovaDevice *e = g_ptr_array_index(c->spec->devices, i);
        const vfmigNodeDevNovaDeviceSpec *ds = c->taken[i];

        /* physical_network: the rule above says what happens instead */
        if (!ds || ds->liveMigratable != 1 || ds->physicalNetwork || e->migratable)
            continue;
        vfmigNodeDevNovaWarnAdd(c->spec->warnings, code,
                                _("device_spec '%1$s' (%2$s) tags %3$s live_migratable, but QEMU would not migrate it as Nova defines the VM: %4$s.  Nova would start live migrations of VMs with it: give it \"live_migratable\": \"no\", as nodedev-nova-spec prints it"),
                                ds->text, ds->from, e->dev->address, e->why);
    }
}


static const vfmigNodeDevNovaRule vfmigNodeDevNovaRules[] = {
    [VFMIG_NODEDEV_NOVA_WARN_NOT_MIGRATABLE] = vfmigNodeDevNovaRuleNotMigratable,
    [VFMIG_NODEDEV_NOVA_WARN_NOT_QUALIFIED] = vfmigNodeDevNovaRuleNotQualified,
    [VFMIG_NODEDEV_NOVA_WARN_CONF_UNREADABLE] = vfmigNodeDevNovaRuleLoaded,
    [VFMIG_NODEDEV_NOVA_WARN_CONF_INVALID] = vfmigNodeDevNovaRuleLoaded,
    [VFMIG_NODEDEV_NOVA_WARN_POST_COPY] = vfmigNodeDevNovaRulePostCopy,
    [VFMIG_NODEDEV_NOVA_WARN_FORCE_COMPLETE] = vfmigNodeDevNovaRuleForceComplete,
    [VFMIG_NODEDEV_NOVA_WARN_TUNNELLED] = vfmigNodeDevNovaRuleTunnelled,
    [VFMIG_NODEDEV_NOVA_WARN_TUNNELLED_PARALLEL] = vfmigNodeDevNovaRuleTunnelledParallel,
    [VFMIG_NODEDEV_NOVA_WARN_DOWNTIME_BELOW_TARGET] = vfmigNodeDevNovaRuleDowntime,
    [VFMIG_NODEDEV_NOVA_WARN_PHYSICAL_NETWORK] = vfmigNodeDevNovaRulePhysicalNetwork,
    [VFMIG_NODEDEV_NOVA_WARN_SPEC_NOT_MIGRATABLE] = vfmigNodeDevNovaRuleSpecNotMigratable,
};

G_STATIC_ASSERT(G_N_ELEMENTS(vfmigNodeDevNovaRules) == VFMIG_NODEDEV_NOVA_WARN_LAST);


void
vfmigNodeDevNovaSpecCheck(vfmigNodeDevNovaSpec *spec,
                          vfmigNodeDevNovaConf *conf,
                          const char *novaConf)
{
    g_autoptr(GPtrArray) loaded = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigNodeDevNovaWarningFree);
    g_autofree const vfmigNodeDevNovaDeviceSpec **taken = NULL;
    vfmigNodeDevNovaCheck c = { .spec = spec, .conf = conf, .loaded = loaded };
    size_t i;
    size_t j;

    /* one that cannot be read does not make the entries wrong */
    if (vfmigNodeDevNovaConfLoad(conf, novaConf, loaded) < 0) {
        vfmigNodeDevNovaWarnAdd(loaded, VFMIG_NODEDEV_NOVA_WARN_CONF_UNREADABLE,
                                "%s", vfmigGetLastErrorMessage());
        vfmigResetLastError();
    }

    taken = g_new0(const vfmigNodeDevNovaDeviceSpec *, spec->devices->len + 1);
    for (i = 0; i < spec->devices->len; i++) {
        const vfmigNodeDevNovaDevice *e = g_ptr_array_index(spec->devices, i);

        for (j = 0; j < conf->deviceSpecs->len && !taken[i]; j++) {
            const vfmigNodeDevNovaDeviceSpec *ds = g_ptr_array_index(conf->deviceSpecs, j);

            if (vfmigNodeDevNovaDeviceSpecMatch(ds, spec->list, e->dev))
                taken[i] = ds;
        }
    }
    c.taken = taken;

    for (i = 0; i < VFMIG_NODEDEV_NOVA_WARN_LAST; i++)
        vfmigNodeDevNovaRules[i](&c, i);
}
