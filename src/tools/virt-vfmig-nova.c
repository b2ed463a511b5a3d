/*
 * virt-vfmig-nova.c: virt-vfmig nodedev-nova-spec
 *
 * The handler parses options (the [libvirt] settings of nova.conf they
 * stand for, the device_spec lines, the policy target), calls
 * vfmigNodeDevNovaSpecProbe and vfmigNodeDevNovaSpecCheck, and prints the
 * [pci] entries and the warnings, as text or as one JSON object.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>

#include "virt-vfmig-nodedev.h"
#include "vfmigdomainpolicy.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmigjson.h"
#include "vfmignodedevnova.h"
#include "vfmigstring.h"


/* The device_spec entry of @entry, and what its last qualification said. */
static void
vfmigNovaPrintDevice(const vfmigNodeDevNovaDevice *entry)
{
    const vfmigNodeDevPCI *dev = entry->dev;
    const vfmigNodeDevQualified *q;
    g_autofree char *at = NULL;
    const char *verdict;

    if (entry->migratable) {
        printf(_("# %1$s: live migratable\n"), dev->address);
    } else {
        g_autofree char *why = vfmigStringEscapeText(entry->why);

        printf(_("# %1$s: not live migratable: %2$s\n"), dev->address, why);
    }
    printf("device_spec = { \"address\": \"%s\", \"vendor_id\": \"%04x\", "
           "\"product_id\": \"%04x\", \"managed\": \"no\", "
           "\"live_migratable\": \"%s\" }\n",
           dev->address, dev->vendor, dev->device,
           entry->migratable ? "yes" : "no");
    if (!dev->cap || !(q = dev->cap->qualified))
        return;

    at = vfmigNodeDevQualifiedFormatTime(q->at);
    verdict = vfmigNodeDevVerdictTypeToString(q->verdict);
    if (q->measured)
        printf(_("#   device-qualify %1$s: %2$s, downtime %3$.1f ms (target %4$.1f ms)\n"),
               at ? at : "?", verdict, q->downtimeUs / 1000.0,
               q->targetUs / 1000.0);
    else
        printf(_("#   device-qualify %1$s: %2$s, nothing measured\n"),
               at ? at : "?", verdict);
}


static void
vfmigNovaPrintText(const vfmigNodeDevNovaSpec *spec)
{
    size_t next = 0;
    size_t i;

    printf(_("# Nova [pci] device_spec and alias entries for this host's VFIO devices.\n"
             "# managed is \"no\": each VF is bound to its VFIO driver already, and\n"
             "# libvirt must leave it so.  Nova live-migrates a VM with a PCI device\n"
             "# only through an alias with \"live_migratable\": \"yes\" (Nova 2025.1 or\n"
             "# later).  Paste under [pci] in nova.conf; name the aliases in flavors\n"
             "# (pci_passthrough:alias).\n"));
    printf("[pci]\n");

    /* every device's problems, each device's entry after them */
    for (i = 0; i < spec->list->devices->len; i++) {
        const vfmigNodeDevPCI *dev = g_ptr_array_index(spec->list->devices, i);
        const vfmigNodeDevNovaDevice *entry;

        vfmigNodeDevPrintErrors(dev->errors);
        if (next == spec->devices->len ||
            (entry = g_ptr_array_index(spec->devices, next))->dev != dev)
            continue;
        next++;
        vfmigNovaPrintDevice(entry);
    }
    if (spec->devices->len == 0)
        printf(_("# (no device bound to a VFIO driver on this host)\n"));

    for (i = 0; i < spec->aliases->len; i++) {
        const vfmigNodeDevNovaAlias *a = g_ptr_array_index(spec->aliases, i);

        printf("alias = { \"vendor_id\": \"%04x\", \"product_id\": \"%04x\", "
               "\"device_type\": \"%s\", \"name\": \"%s\", "
               "\"live_migratable\": \"%s\" }\n",
               a->vendor, a->device, a->type, a->name,
               a->migratable ? "yes" : "no");
    }

    for (i = 0; i < spec->warnings->len; i++) {
        const vfmigNodeDevNovaWarning *w = g_ptr_array_index(spec->warnings, i);
        g_autofree char *msg = vfmigStringEscapeText(w->message);

        fprintf(stderr, _("warning: %1$s\n"), msg);
    }
}


/* One hexadecimal id as Nova writes it: "15b3". */
static void
vfmigNovaJSONId(vfmigJSONWriter *w,
                const char *key,
                unsigned int id)
{
    g_autofree char *hex = g_strdup_printf("%04x", id);

    vfmigJSONString(w, key, hex);
}


/* A device's verdict, and what it costs where all guest RAM is dirty. */
static void
vfmigNovaJSONDevice(vfmigJSONWriter *w,
                    const vfmigNodeDevNovaSpec *spec,
                    const vfmigNodeDevNovaDevice *entry)
{
    const vfmigNodeDevPCI *dev = entry->dev;
    const vfmigNodeDevNovaAlias *alias = g_ptr_array_index(spec->aliases, entry->alias);

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "address", dev->address);
    vfmigJSONString(w, "driver", dev->driver);
    vfmigJSONString(w, "device_type", vfmigNodeDevNovaType(dev));
    vfmigJSONBool(w, "live_migratable", entry->migratable);
    vfmigJSONString(w, "reason", entry->why);
    vfmigJSONString(w, "qemu", vfmigNodeDevQEMUTypeToString(entry->qemu));
    vfmigJSONString(w, "dirty-tracking",
                    dev->cap ? vfmigNodeDevDirtyTypeToString(dev->cap->dirty) : NULL);
    vfmigJSONBool(w, "kernel-no-dirty", dev->kernelNoDirty);
    if (entry->qemu == VFMIG_NODEDEV_QEMU_ALL_DIRTY) {
        vfmigJSONBeginObject(w, "all-dirty");
        vfmigJSONUInt(w, "ram-bytes", 1024ULL * 1024 * 1024);
        vfmigJSONUInt(w, "link-bps", VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED);
        vfmigJSONString(w, "link", "assumed");
        vfmigJSONUInt(w, "least-us", entry->allDirtyLeastUs);
        vfmigJSONEndObject(w);
    } else {
        vfmigJSONString(w, "all-dirty", NULL);
    }
    vfmigJSONString(w, "alias", alias->name);
    vfmigNodeDevQualifiedJSON(w, dev->cap ? dev->cap->qualified : NULL);
    vfmigJSONBool(w, "not-qualified", entry->notQualified);
    vfmigJSONEndObject(w);
}


static void
vfmigNovaPrintJSON(const vfmigNodeDevNovaSpec *spec,
                   const vfmigNodeDevNovaConf *conf)
{
    g_autoptr(vfmigJSONWriter) w = vfmigJSONWriterNew();
    g_autofree char *out = NULL;
    size_t i;

    /* the devices' problems stay on standard error */
    for (i = 0; i < spec->list->devices->len; i++) {
        const vfmigNodeDevPCI *dev = g_ptr_array_index(spec->list->devices, i);

        vfmigNodeDevPrintErrors(dev->errors);
    }

    vfmigJSONBeginObject(w, NULL);

    /* the entries, member for member as the text has them */
    vfmigJSONBeginArray(w, "device_spec");
    for (i = 0; i < spec->devices->len; i++) {
        const vfmigNodeDevNovaDevice *entry = g_ptr_array_index(spec->devices, i);

        vfmigJSONBeginObject(w, NULL);
        vfmigJSONString(w, "address", entry->dev->address);
        vfmigNovaJSONId(w, "vendor_id", entry->dev->vendor);
        vfmigNovaJSONId(w, "product_id", entry->dev->device);
        vfmigJSONString(w, "managed", "no");
        vfmigJSONString(w, "live_migratable", entry->migratable ? "yes" : "no");
        vfmigJSONEndObject(w);
    }
    vfmigJSONEndArray(w);
    vfmigJSONBeginArray(w, "alias");
    for (i = 0; i < spec->aliases->len; i++) {
        const vfmigNodeDevNovaAlias *a = g_ptr_array_index(spec->aliases, i);

        vfmigJSONBeginObject(w, NULL);
        vfmigNovaJSONId(w, "vendor_id", a->vendor);
        vfmigNovaJSONId(w, "product_id", a->device);
        vfmigJSONString(w, "device_type", a->type);
        vfmigJSONString(w, "name", a->name);
        vfmigJSONString(w, "live_migratable", a->migratable ? "yes" : "no");
        vfmigJSONEndObject(w);
    }
    vfmigJSONEndArray(w);

    vfmigJSONBeginArray(w, "devices");
    for (i = 0; i < spec->devices->len; i++)
        vfmigNovaJSONDevice(w, spec, g_ptr_array_index(spec->devices, i));
    vfmigJSONEndArray(w);

    /* what was checked, and where each value came from */
    vfmigJSONString(w, "nova-conf", conf->path);
    vfmigJSONBeginObject(w, "settings");
    for (i = 0; i < VFMIG_NODEDEV_NOVA_SETTING_LAST; i++) {
        vfmigJSONBeginObject(w, vfmigNodeDevNovaSettingTypeToString(i));
        vfmigJSONString(w, "value", conf->settings[i].text);
        vfmigJSONString(w, "from", conf->settings[i].from);
        vfmigJSONEndObject(w);
    }
    vfmigJSONEndObject(w);
    vfmigJSONUInt(w, "device-spec-entries", conf->deviceSpecs->len);
    vfmigJSONUInt(w, "policy-target-ms", conf->targetMs);

    vfmigJSONBeginArray(w, "warnings");
    for (i = 0; i < spec->warnings->len; i++) {
        const vfmigNodeDevNovaWarning *warning = g_ptr_array_index(spec->warnings, i);

        vfmigJSONBeginObject(w, NULL);
        vfmigJSONString(w, "code", vfmigNodeDevNovaWarnTypeToString(warning->code));
        vfmigJSONString(w, "message", warning->message);
        vfmigJSONEndObject(w);
    }
    vfmigJSONEndArray(w);

    vfmigJSONEndObject(w);
    out = vfmigJSONWriterFinish(w);
    fputs(out, stdout);
}


/*
 * The options that stand for nova.conf: each [libvirt] setting's (its
 * name with '-' for '_'), the device_spec lines and the policy target.
 * Returns 0, or -1 with an error: a usage error.
 */
static int
vfmigNovaConfFromOptions(const vfmigCmd *cmd,
                         vfmigNodeDevNovaConf *conf)
{
    const char *const *lines = vfmigCmdGetStrings(cmd, "device-spec-line");
    const char *target = vfmigCmdGetString(cmd, "policy-target-ms");
    guint64 ms;
    size_t i;

    for (i = 0; i < VFMIG_NODEDEV_NOVA_SETTING_LAST; i++) {
        g_autofree char *name = g_strdelimit(g_strdup(vfmigNodeDevNovaSettingTypeToString(i)),
                                             "_", '-');
        g_autofree char *from = g_strdup_printf("--%s", name);
        const char *value = vfmigCmdGetString(cmd, name);

        if (value && vfmigNodeDevNovaConfSet(conf, i, value, from) < 0)
            return -1;
    }

    for (i = 0; lines && lines[i]; i++) {
        if (vfmigNodeDevNovaConfAddDeviceSpec(conf, lines[i], "--device-spec-line") < 0)
            return -1;
        conf->deviceSpecsGiven = true;
    }

    if (target) {
        if (!g_ascii_string_to_unsigned(target, 10, 1, VFMIG_DOMAIN_POLICY_TARGET_MS_MAX,
                                        &ms, NULL)) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("command '%1$s': option --%2$s wants a whole number from 1 to %3$d, not '%4$s'"),
                             cmd->def->name, "policy-target-ms",
                             VFMIG_DOMAIN_POLICY_TARGET_MS_MAX, target);
            return -1;
        }
        conf->targetMs = ms;
        conf->targetFrom = g_strdup("--policy-target-ms");
    }
    return 0;
}


bool
cmdNodeDevNovaSpec(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    bool json = vfmigCmdGetBool(cmd, "json");
    g_autoptr(vfmigNodeDevNovaConf) conf = vfmigNodeDevNovaConfNew();
    g_autoptr(vfmigNodeDevNovaSpec) spec = NULL;
    vfmigNodeDevProbePaths paths;

    if (vfmigNovaConfFromOptions(cmd, conf) < 0) {
        if (json)
            vfmigPrintJSONError(ctl);
        return vfmigShellUsageErrorLast(ctl);
    }

    vfmigNodeDevProbePathsFromEnv(&paths);
    if (vfmigNodeDevNovaSpecProbe(&paths, vfmigNodeDevCmdProbeFlags(cmd), &spec) < 0) {
        if (json)
            vfmigPrintJSONError(ctl);
        return false;
    }
    vfmigNodeDevPrintErrors(spec->list->errors);
    vfmigNodeDevNovaSpecCheck(spec, conf, vfmigCmdGetString(cmd, "nova-conf"));

    if (json)
        vfmigNovaPrintJSON(spec, conf);
    else
        vfmigNovaPrintText(spec);
    return true;
}


const vfmigCmdOptDef vfmigNodeDevOptsNovaSpec[] = {
    { "nova-conf", VFMIG_OPT_STRING, false,
      N_("Nova's configuration to check (default /etc/nova/nova.conf, when it exists)") },
    { "live-migration-permit-post-copy", VFMIG_OPT_STRING, false,
      N_("[libvirt] live_migration_permit_post_copy, over nova.conf's: yes or no") },
    { "live-migration-timeout-action", VFMIG_OPT_STRING, false,
      N_("[libvirt] live_migration_timeout_action, over nova.conf's: abort or force_complete") },
    { "live-migration-tunnelled", VFMIG_OPT_STRING, false,
      N_("[libvirt] live_migration_tunnelled, over nova.conf's: yes or no") },
    { "live-migration-parallel-connections", VFMIG_OPT_STRING, false,
      N_("[libvirt] live_migration_parallel_connections, over nova.conf's (Nova 33.0 and later)") },
    { "live-migration-downtime", VFMIG_OPT_STRING, false,
      N_("[libvirt] live_migration_downtime, over nova.conf's: ms, at least 100") },
    { "device-spec-line", VFMIG_OPT_STRINGS, false,
      N_("a [pci] device_spec value (or line), instead of nova.conf's; one per entry, in nova.conf's order") },
    { "policy-target-ms", VFMIG_OPT_STRING, false,
      N_("the downtime target of vfmig's policy live_migration_downtime is compared with (default 300)") },
    VFMIG_COMMON_OPT_JSON,
    { "vfio-query", VFMIG_OPT_BOOL, false,
      N_("as in nodedev-list") },
    { NULL, 0, false, NULL }
};
