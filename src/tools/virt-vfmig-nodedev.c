/*
 * virt-vfmig-nodedev.c: virt-vfmig nodedev-dumpxml and nodedev-list, and
 * the table of the node-device commands
 *
 * The handlers parse options, call the probe and print what it found;
 * nodedev-compare and nodedev-nova-spec are in their own files.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "virt-vfmig-nodedev.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmigjson.h"
#include "vfmignodedevquery.h"
#include "vfmignodedevxml.h"
#include "vfmigpci.h"
#include "vfmigstring.h"


/*
 * A device argument: a node device name (pci_0000_3b_00_2) or a PCI
 * address (0000:3b:00.2, or 3b:00.2 in domain 0000).  A bad one is the
 * command line's error.
 */
static int
vfmigNodeDevParseArg(vfmigCtl *ctl,
                     const char *arg,
                     vfmigPCIAddress *addr)
{
    if (vfmigPCIAddressParse(arg, VFMIG_PCI_ADDRESS_NODEDEV_NAME, addr) < 0) {
        vfmigShellUsageErrorLast(ctl);
        return -1;
    }
    return 0;
}


unsigned int
vfmigNodeDevCmdProbeFlags(const vfmigCmd *cmd)
{
    return vfmigCmdGetBool(cmd, "vfio-query") ? VFMIG_NODEDEV_PROBE_VFIO : 0;
}


void
vfmigNodeDevPrintErrors(const GPtrArray *errors)
{
    size_t i;

    for (i = 0; errors && i < errors->len; i++) {
        const vfmigError *err = g_ptr_array_index(errors, i);

        g_autofree char *msg = vfmigStringEscapeText(err->message);

        fprintf(stderr, _("warning: %1$s\n"), msg);
    }
}


/* ---- nodedev-dumpxml ---- */

static bool
cmdNodeDevDumpXML(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *name = vfmigCmdGetString(cmd, "device");
    g_autoptr(vfmigNodeDevPCI) dev = NULL;
    g_autofree char *address = NULL;
    g_autofree char *nodename = NULL;
    g_autofree char *libvirtXML = NULL;
    g_autofree char *xml = NULL;
    vfmigNodeDevProbePaths paths;
    virNodeDevicePtr nodedev;
    virConnectPtr conn;
    vfmigPCIAddress addr;

    if (vfmigNodeDevParseArg(ctl, name, &addr) < 0)
        return false;
    address = vfmigPCIAddressFormat(&addr);
    nodename = vfmigPCIAddressFormatNodeDevName(&addr);

    if (!(conn = vfmigShellGetConnection(ctl)))
        return false;

    if (!(nodedev = virNodeDeviceLookupByName(conn, nodename))) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("libvirt has no node device '%1$s': %2$s"),
                         nodename, virGetLastErrorMessage());
        return false;
    }
    libvirtXML = virNodeDeviceGetXMLDesc(nodedev, 0);
    virNodeDeviceFree(nodedev);
    if (!libvirtXML) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot get the XML of node device '%1$s': %2$s"),
                         nodename, virGetLastErrorMessage());
        return false;
    }

    vfmigNodeDevProbePathsFromEnv(&paths);
    if (vfmigNodeDevProbeOne(&paths, address, vfmigNodeDevCmdProbeFlags(cmd), &dev) < 0)
        return false;
    vfmigNodeDevPrintErrors(dev->errors);
    /* Say where the description came from when it is not live, or why
     * there is none for a VFIO device. */
    if (dev->note) {
        g_autofree char *note = vfmigStringEscapeText(dev->note);

        fprintf(stderr, _("note: %1$s: %2$s\n"), address, note);
    }

    /* A device without the capability is printed as libvirt has it. */
    if (!dev->cap) {
        fputs(libvirtXML, stdout);
        return true;
    }

    if (!(xml = vfmigNodeDevXMLInsertCap(libvirtXML, dev->cap)))
        return false;
    fputs(xml, stdout);
    return true;
}


/* ---- nodedev-list ---- */

void
vfmigNodeDevQualifiedJSON(vfmigJSONWriter *w, const vfmigNodeDevQualified *q)
{
    g_autofree char *at = NULL;

    if (!q) {
        vfmigJSONString(w, "qualified", NULL);
        return;
    }
    at = vfmigNodeDevQualifiedFormatTime(q->at);
    vfmigJSONBeginObject(w, "qualified");
    vfmigJSONString(w, "at", at);
    vfmigJSONString(w, "verdict", vfmigNodeDevVerdictTypeToString(q->verdict));
    vfmigJSONUInt(w, "target-us", q->targetUs);
    vfmigJSONString(w, "peer", q->peer);
    vfmigJSONBool(w, "measured", q->measured);
    if (q->measured) {
        vfmigJSONUInt(w, "downtime-us", q->downtimeUs);
        vfmigJSONUInt(w, "stop-latency-us", q->stopLatencyUs);
        vfmigJSONUInt(w, "drain-us", q->drainUs);
        vfmigJSONUInt(w, "load-commit-us", q->loadCommitUs);
        vfmigJSONUInt(w, "resume-latency-us", q->resumeLatencyUs);
    }
    vfmigJSONEndObject(w);
}


static void
vfmigNodeDevListJSON(vfmigJSONWriter *w, const vfmigNodeDevPCI *dev)
{
    const vfmigNodeDevCapVFIOMig *cap = dev->cap;
    g_autofree char *name = vfmigPCIAddressFormatNodeDevName(&dev->pci);
    g_auto(GStrv) features = NULL;
    size_t i;

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "name", name);
    vfmigJSONString(w, "address", dev->address);
    vfmigJSONString(w, "driver", dev->driver);
    vfmigJSONString(w, "physfn", dev->physfn);
    vfmigJSONBool(w, "vfio", dev->vfio);
    vfmigJSONBool(w, "in-use", dev->inUse);
    if (cap) {
        g_autofree char *words = vfmigNodeDevFeaturesToString(cap->features);

        features = g_strsplit(words, " ", -1);
        vfmigJSONBool(w, "variant", cap->variant);
        vfmigJSONBeginArray(w, "features");
        for (i = 0; features[i]; i++) {
            if (*features[i])
                vfmigJSONString(w, NULL, features[i]);
        }
        vfmigJSONEndArray(w);
        vfmigJSONString(w, "source", vfmigNodeDevSourceTypeToString(cap->source));
        vfmigJSONString(w, "dirty-tracking", vfmigNodeDevDirtyTypeToString(cap->dirty));
        vfmigJSONString(w, "state", vfmigNodeDevCapState(cap));
        vfmigNodeDevQualifiedJSON(w, cap->qualified);
    } else if (dev->vfio) {
        g_autofree char *how = vfmigNodeDevHowToLearn(dev->address);

        /* a VFIO device whose migration features nothing told */
        vfmigJSONString(w, "features", NULL);
        vfmigJSONString(w, "learn-features", how);
    }
    if (dev->note)
        vfmigJSONString(w, "note", dev->note);
    vfmigJSONEndObject(w);
}


static bool
cmdNodeDevList(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *capName = vfmigCmdGetString(cmd, "cap");
    bool json = vfmigCmdGetBool(cmd, "json");
    unsigned int filter = 0;
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autoptr(vfmigJSONWriter) w = NULL;
    g_autoptr(vfmigTable) table = NULL;
    g_autoptr(GPtrArray) unknown = g_ptr_array_new();
    vfmigNodeDevProbePaths paths;
    size_t i;

    if (capName) {
        if (g_str_equal(capName, "pci")) {
            filter |= VFMIG_NODEDEV_LIST_ALL_PCI;
        } else if (!g_str_equal(capName, "vfio-migration")) {
            vfmigShellUsageError(ctl,
                                 _("command '%1$s': unknown capability '%2$s': use 'vfio-migration' or 'pci'"),
                                 cmd->def->name, capName);
            return false;
        }
    }

    if (vfmigCmdGetBool(cmd, "pre-copy"))
        filter |= VFMIG_NODEDEV_LIST_PRE_COPY;

    vfmigNodeDevProbePathsFromEnv(&paths);
    if (vfmigNodeDevProbeAll(&paths, vfmigNodeDevCmdProbeFlags(cmd), &list) < 0)
        return false;
    vfmigNodeDevPrintErrors(list->errors);

    if (json) {
        w = vfmigJSONWriterNew();
        vfmigJSONBeginArray(w, NULL);
    } else {
        table = vfmigTableNew(_("Name"), _("Driver"), _("Features"), _("Dirty"),
                              _("State"), _("In use"), NULL);
    }

    for (i = 0; i < list->devices->len; i++) {
        vfmigNodeDevPCI *dev = g_ptr_array_index(list->devices, i);
        g_autofree char *name = NULL;
        g_autofree char *features = NULL;
        g_autofree char *driver = NULL;
        g_autofree char *state = NULL;

        vfmigNodeDevPrintErrors(dev->errors);
        if (!vfmigNodeDevListMatch(dev, filter))
            continue;

        if (json) {
            vfmigNodeDevListJSON(w, dev);
            continue;
        }

        name = vfmigPCIAddressFormatNodeDevName(&dev->pci);
        if (dev->cap) {
            g_autofree char *words = vfmigNodeDevFeaturesToString(dev->cap->features);

            features = g_strdelimit(g_steal_pointer(&words), " ", ',');
            state = vfmigStringEscapeText(vfmigNodeDevCapState(dev->cap));
        } else if (dev->vfio) {
            features = g_strdup(_("unknown"));
            g_ptr_array_add(unknown, dev);
        }
        driver = vfmigStringEscapeText(dev->driver);
        vfmigTableAddRow(table, name,
                         driver ? driver : "-",
                         features ? features : "-",
                         dev->cap ? vfmigNodeDevDirtyTypeToString(dev->cap->dirty) : "-",
                         state ? state : "-",
                         !dev->vfio ? "-" : dev->inUse ? _("yes") : _("no"),
                         NULL);
    }

    if (json) {
        g_autofree char *out = NULL;

        vfmigJSONEndArray(w);
        out = vfmigJSONWriterFinish(w);
        fputs(out, stdout);
        return true;
    }
    vfmigTablePrint(table, stdout);

    for (i = 0; i < unknown->len; i++) {
        const vfmigNodeDevPCI *dev = g_ptr_array_index(unknown, i);
        g_autofree char *note = vfmigStringEscapeText(vfmigNodeDevUnknownNote(dev));
        g_autofree char *how = vfmigNodeDevHowToLearn(dev->address);

        if (i == 0)
            printf("\n");
        printf(_("%1$s: %2$s\n  To learn them: %3$s.\n"),
               dev->address, note, how);
    }
    return true;
}


static const vfmigCmdOptDef optsNodeDevDumpXML[] = {
    { "device", VFMIG_OPT_ARG, true,
      N_("node device name (pci_0000_3b_00_2) or PCI address (0000:3b:00.2, or 3b:00.2 in domain 0000)") },
    { "vfio-query", VFMIG_OPT_BOOL, false,
      N_("if sysfs cannot tell, open the idle device through VFIO to ask it (vfio-pci resets an idle function it opens)") },
    { NULL, 0, false, NULL }
};

static const vfmigCmdOptDef optsNodeDevList[] = {
    { "cap", VFMIG_OPT_STRING, false,
      N_("'vfio-migration' (the default: every device bound to a VFIO driver, with what it can migrate) or 'pci' (every PCI device)") },
    { "pre-copy", VFMIG_OPT_BOOL, false,
      N_("only devices that offer pre-copy") },
    VFMIG_COMMON_OPT_JSON,
    { "vfio-query", VFMIG_OPT_BOOL, false,
      N_("ask idle VFIO devices that sysfs says nothing about (vfio-pci resets an idle function it opens)") },
    { NULL, 0, false, NULL }
};

const vfmigCmdDef vfmigNodeDevCmds[] = {
    { "nodedev-dumpxml", cmdNodeDevDumpXML, optsNodeDevDumpXML,
      N_("node device XML with the vfio-migration capability"),
      N_("Prints libvirt's XML of the node device, from the libvirt "
         "connection given by -c, with vfmig's <capability "
         "type='vfio-migration'> inserted in its PCI capability: the VFIO "
         "driver, its migration features, DMA dirty tracking as QEMU will "
         "see it, the identity that decides compatibility, what the last "
         "device-qualify measured and, during a migration, the driver's live "
         "estimates.  A device QEMU holds is described from the cache of an "
         "earlier probe.") },
    { "nodedev-list", cmdNodeDevList, optsNodeDevList,
      N_("list the VFIO devices and what they can migrate"),
      N_("Lists every PCI device of this host bound to a VFIO driver, from "
         "sysfs: its migration features, dirty tracking and migration state; "
         "with --json also the last device-qualify's figures.  A device whose "
         "driver publishes its features nowhere (upstream mlx5_vfio_pci, "
         "vfio-pci) is listed with features 'unknown' and how to learn them: "
         "device-qualify, or --vfio-query, which both need the device idle "
         "and make vfio-pci reset it.  It reads only this host and uses no "
         "libvirt connection: -c is refused.") },
    { "nodedev-compare", cmdNodeDevCompare, vfmigNodeDevOptsCompare,
      N_("can a device's state migrate from one VF to another"),
      N_("Compares a source and a destination VF, each given as a "
         "node-device XML file (for example nodedev-dumpxml's output on "
         "another host) or as a device of this host, like virsh "
         "hypervisor-cpu-compare: whether the state can move, whether "
         "pre-copy can be used and in which mode, and what QEMU will do, "
         "with every reason.  Fails when the state cannot move.  Takes no "
         "libvirt connection: -c is refused.") },
    { "nodedev-nova-spec", cmdNodeDevNovaSpec, vfmigNodeDevOptsNovaSpec,
      N_("Nova [pci] device_spec and alias entries for the VFIO devices"),
      N_("Prints OpenStack Nova [pci] device_spec lines, with managed and "
         "live_migratable, for every device of this host bound to a VFIO "
         "driver, and the [pci] alias entries (vendor_id, product_id, "
         "device_type, name, live_migratable) that flavors name: Nova 2025.1 "
         "and later live-migrate a VM with a PCI device only through an alias "
         "with live_migratable \"yes\".  A device QEMU would not migrate "
         "without an override (no stop-copy, no DMA dirty tracking) or whose "
         "features are unknown gets \"no\", with the reason.  Ready to paste "
         "into nova.conf.  Warns, each warning with a code, about the [libvirt] "
         "settings of nova.conf (or of the options named after them) and the "
         "device_spec lines already there that break or degrade VF migration: "
         "post-copy, force_complete (Nova pauses the guest), tunnelled "
         "migration (no switchover-ack), tunnelled with parallel connections "
         "(libvirt refuses), a downtime below the policy's target, "
         "physical_network (Nova unplugs the VF), live_migratable on a device "
         "that cannot migrate.  --json prints one object.  It reads only this "
         "host: -c is refused.") },
    { NULL, NULL, NULL, NULL, NULL }
};
