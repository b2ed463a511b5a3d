/*
 * virt-vfmig-nova.c: virt-vfmig nodedev-nova-spec
 *
 * The handler parses options, calls vfmigNodeDevNovaSpecProbe and
 * vfmigNodeDevNovaConfCheck, and prints the [pci] entries and the
 * warnings.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>

#include "virt-vfmig-nodedev.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmignodedevnova.h"
#include "vfmigstring.h"


/* The device_spec entry of @entry, and what its last qualification said. */
static void
vfmigNovaPrintDevice(const vfmigNodeDevNovaDevice *entry,
                     const char *why)
{
    const vfmigNodeDevPCI *dev = entry->dev;
    const vfmigNodeDevQualified *q;
    g_autofree char *at = NULL;
    const char *verdict;

    if (entry->migratable)
        printf(_("# %1$s: live migratable\n"), dev->address);
    else
        printf(_("# %1$s: not live migratable: %2$s\n"), dev->address, why);
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
    if (entry->notQualified)
        fprintf(stderr, _("warning: %1$s was not qualified for migration by its last device-qualify (%2$s): run virt-vfmig device-qualify %3$s for the reasons\n"),
                dev->address, at ? at : "?", dev->address);
}


/* The warnings about nova.conf: one that cannot be read is not checked,
 * which does not make the entries above wrong. */
static void
vfmigNovaCheckConf(const char *novaConf)
{
    g_autoptr(GPtrArray) warnings = NULL;
    size_t i;

    if (vfmigNodeDevNovaConfCheck(novaConf, &warnings) < 0) {
        g_autofree char *msg = vfmigStringEscapeText(vfmigGetLastErrorMessage());

        fprintf(stderr, _("warning: %1$s\n"), msg);
        vfmigResetLastError();
        return;
    }
    for (i = 0; warnings && i < warnings->len; i++) {
        g_autofree char *msg = vfmigStringEscapeText(g_ptr_array_index(warnings, i));

        fprintf(stderr, _("warning: %1$s\n"), msg);
    }
}


bool
cmdNodeDevNovaSpec(vfmigCtl *ctl G_GNUC_UNUSED, const vfmigCmd *cmd)
{
    const char *novaConf = vfmigCmdGetString(cmd, "nova-conf");
    g_autoptr(vfmigNodeDevNovaSpec) spec = NULL;
    vfmigNodeDevProbePaths paths;
    size_t next = 0;
    size_t i;

    vfmigNodeDevProbePathsFromEnv(&paths);
    if (vfmigNodeDevNovaSpecProbe(&paths, vfmigNodeDevCmdProbeFlags(cmd), &spec) < 0)
        return false;
    vfmigNodeDevPrintErrors(spec->list->errors);

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
        g_autofree char *why = NULL;

        vfmigNodeDevPrintErrors(dev->errors);
        if (next == spec->devices->len ||
            (entry = g_ptr_array_index(spec->devices, next))->dev != dev)
            continue;
        next++;

        why = vfmigStringEscapeText(entry->why);
        vfmigNovaPrintDevice(entry, why);
        if (!entry->migratable)
            fprintf(stderr, _("warning: %1$s is not live migratable: %2$s\n"),
                    dev->address, why);
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

    vfmigNovaCheckConf(novaConf);
    return true;
}


const vfmigCmdOptDef vfmigNodeDevOptsNovaSpec[] = {
    { "nova-conf", VFMIG_OPT_STRING, false,
      N_("Nova's configuration to check (default /etc/nova/nova.conf)") },
    { "vfio-query", VFMIG_OPT_BOOL, false,
      N_("as in nodedev-list") },
    { NULL, 0, false, NULL }
};
