/*
 * vfmignodedevnova.c: what OpenStack Nova is told about this host's VFs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include "vfmignodedevnova.h"
#include "vfmignodedevcompare.h"
#include "vfmignodedevquery.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigi18n.h"


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


bool
vfmigNodeDevNovaMigratable(const vfmigNodeDevPCI *dev,
                           char **why)
{
    g_autoptr(vfmigNodeDevCompareResult) res = NULL;

    *why = NULL;
    if (!dev->cap) {
        g_autofree char *how = vfmigNodeDevHowToLearn(dev->address);

        *why = g_strdup_printf(_("%1$s; to learn them, %2$s"),
                               vfmigNodeDevUnknownNote(dev), how);
        return false;
    }

    res = vfmigNodeDevCapVFIOMigCompare(dev->cap, dev->cap);
    switch (res->qemu) {
    case VFMIG_NODEDEV_QEMU_ALLOWED:
        return true;
    case VFMIG_NODEDEV_QEMU_ALL_DIRTY:
        *why = vfmigNodeDevNovaAllDirty(dev);
        break;
    case VFMIG_NODEDEV_QEMU_BLOCKED:
    case VFMIG_NODEDEV_QEMU_LAST:
    default:
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


void
vfmigNodeDevNovaSpecFree(vfmigNodeDevNovaSpec *spec)
{
    if (!spec)
        return;
    g_ptr_array_unref(spec->devices);
    g_ptr_array_unref(spec->aliases);
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


/* Whether @value is one of the words oslo.config reads as true. */
static bool
vfmigNodeDevNovaConfTrue(const char *value)
{
    return g_ascii_strcasecmp(value, "true") == 0 ||
        g_ascii_strcasecmp(value, "yes") == 0 ||
        g_str_equal(value, "1") ||
        g_ascii_strcasecmp(value, "on") == 0;
}


int
vfmigNodeDevNovaConfCheck(const char *path,
                          GPtrArray **warnings)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) gerr = NULL;
    g_autoptr(GPtrArray) found = NULL;
    g_autofree char *content = NULL;
    g_autofree char *postcopy = NULL;
    size_t len = 0;
    int rc;

    *warnings = NULL;
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

    found = g_ptr_array_new_with_free_func(g_free);
    postcopy = g_key_file_get_string(kf, "libvirt",
                                     "live_migration_permit_post_copy", NULL);
    if (postcopy) {
        g_strstrip(postcopy);
        if (vfmigNodeDevNovaConfTrue(postcopy))
            g_ptr_array_add(found,
                            g_strdup_printf(_("%1$s: [libvirt] live_migration_permit_post_copy is %2$s, but QEMU refuses post-copy for VMs with VFIO devices: set it to False on hosts with migratable VFs"),
                                            path, postcopy));
    }
    *warnings = g_steal_pointer(&found);
    return 1;
}
