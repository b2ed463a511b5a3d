/*
 * virt-vfmig-nodedev.c: node-device commands of virt-vfmig
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "virt-vfmig.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigi18n.h"
#include "vfmigjson.h"
#include "vfmignodedevcompare.h"
#include "vfmignodedevprobe.h"
#include "vfmignodedevxml.h"


/*
 * Where to probe.  The test suites point the tools at fake trees; in
 * production every path is the real one, and the cache dir the default.
 */
static void
vfmigNodeDevPathsFromEnv(vfmigNodeDevProbePaths *paths)
{
    memset(paths, 0, sizeof(*paths));
    paths->sysfsRoot = g_getenv("VFMIG_SYSFS_ROOT");
    paths->devRoot = g_getenv("VFMIG_DEV_ROOT");
    paths->debugfsRoot = g_getenv("VFMIG_DEBUGFS_ROOT");
    paths->procRoot = g_getenv("VFMIG_PROC_ROOT");
    paths->cacheDir = g_getenv("VFMIG_CACHE_DIR");
    paths->kernelConfig = g_getenv("VFMIG_KERNEL_CONFIG");
}


/* "pci_0000_3b_00_2" or "0000:3b:00.2" -> "0000:3b:00.2". */
static char *
vfmigNodeDevNameToAddress(const char *name)
{
    unsigned int dom, bus, slot, fn;
    char end;

    if (sscanf(name, "pci_%4x_%2x_%2x_%1x%c", &dom, &bus, &slot, &fn, &end) == 4 ||
        sscanf(name, "%4x:%2x:%2x.%1x%c", &dom, &bus, &slot, &fn, &end) == 4)
        return g_strdup_printf("%04x:%02x:%02x.%x", dom, bus, slot, fn);

    vfmigReportError(VFMIG_ERR_INVALID_ARG,
                     _("'%1$s' is neither a PCI node device name (pci_0000_3b_00_2) nor a PCI address (0000:3b:00.2)"),
                     name);
    return NULL;
}


static char *
vfmigNodeDevAddressToName(const char *address)
{
    g_autofree char *name = g_strdup_printf("pci_%s", address);
    char *p;

    for (p = name; *p; p++) {
        if (*p == ':' || *p == '.')
            *p = '_';
    }
    return g_steal_pointer(&name);
}


static unsigned int
vfmigNodeDevCmdProbeFlags(const vfmigCmd *cmd)
{
    return vfmigCmdGetBool(cmd, "vfio-query") ? VFMIG_NODEDEV_PROBE_VFIO : 0;
}


/* Prints the per-device problems of a probe as warnings. */
static void
vfmigNodeDevPrintErrors(GPtrArray *errors)
{
    size_t i;

    for (i = 0; errors && i < errors->len; i++) {
        const vfmigError *err = g_ptr_array_index(errors, i);

        fprintf(stderr, _("warning: %1$s\n"), err->message);
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

    if (!(address = vfmigNodeDevNameToAddress(name)))
        return false;
    nodename = vfmigNodeDevAddressToName(address);

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

    vfmigNodeDevPathsFromEnv(&paths);
    if (vfmigNodeDevProbeOne(&paths, address, vfmigNodeDevCmdProbeFlags(cmd), &dev) < 0)
        return false;
    vfmigNodeDevPrintErrors(dev->errors);
    /* Say where the description came from when it is not live, or why
     * there is none for a VFIO device. */
    if (dev->note)
        fprintf(stderr, _("note: %1$s: %2$s\n"), address, dev->note);

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

static const char *
vfmigNodeDevStateOf(const vfmigNodeDevCapVFIOMig *cap)
{
    return cap->live && cap->live->state ? cap->live->state : "RUNNING";
}


/* The last qualification, as nodedev-dumpxml's <qualified/> has it. */
static void
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
    g_autofree char *name = vfmigNodeDevAddressToName(dev->address);
    g_auto(GStrv) features = NULL;
    size_t i;

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "name", name);
    vfmigJSONString(w, "address", dev->address);
    vfmigJSONString(w, "driver", dev->driver);
    vfmigJSONString(w, "physfn", dev->physfn);
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
        vfmigJSONString(w, "state", vfmigNodeDevStateOf(cap));
        vfmigNodeDevQualifiedJSON(w, cap->qualified);
    }
    if (dev->note)
        vfmigJSONString(w, "note", dev->note);
    vfmigJSONEndObject(w);
}


static bool
cmdNodeDevList(vfmigCtl *ctl G_GNUC_UNUSED, const vfmigCmd *cmd)
{
    const char *capName = vfmigCmdGetString(cmd, "cap");
    bool wantPrecopy = vfmigCmdGetBool(cmd, "pre-copy");
    bool json = vfmigCmdGetBool(cmd, "json");
    bool allPCI = false;
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autoptr(vfmigJSONWriter) w = NULL;
    vfmigNodeDevProbePaths paths;
    size_t i;

    if (capName) {
        if (g_str_equal(capName, "pci")) {
            allPCI = true;
        } else if (!g_str_equal(capName, "vfio-migration")) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("unknown capability '%1$s': use 'vfio-migration' or 'pci'"),
                             capName);
            return false;
        }
    }

    vfmigNodeDevPathsFromEnv(&paths);
    if (vfmigNodeDevProbeAll(&paths, vfmigNodeDevCmdProbeFlags(cmd), &list) < 0)
        return false;
    vfmigNodeDevPrintErrors(list->errors);

    if (json) {
        w = vfmigJSONWriterNew();
        vfmigJSONBeginArray(w, NULL);
    } else {
        printf(" %-20s %-16s %-26s %-8s %s\n", _("Name"), _("Driver"),
               _("Features"), _("Dirty"), _("State"));
        printf("--------------------------------------------------------------------------------------\n");
    }

    for (i = 0; i < list->devices->len; i++) {
        vfmigNodeDevPCI *dev = g_ptr_array_index(list->devices, i);
        g_autofree char *name = NULL;
        g_autofree char *features = NULL;

        vfmigNodeDevPrintErrors(dev->errors);
        if (!allPCI && !dev->cap)
            continue;
        if (wantPrecopy &&
            (!dev->cap || !(dev->cap->features & VFMIG_NODEDEV_FEATURE_PRE_COPY)))
            continue;

        if (json) {
            vfmigNodeDevListJSON(w, dev);
            continue;
        }

        name = vfmigNodeDevAddressToName(dev->address);
        if (dev->cap) {
            g_autofree char *words = vfmigNodeDevFeaturesToString(dev->cap->features);

            features = g_strdelimit(g_steal_pointer(&words), " ", ',');
        }
        printf(" %-20s %-16s %-26s %-8s %s\n", name,
               dev->driver ? dev->driver : "-",
               features ? features : "-",
               dev->cap ? vfmigNodeDevDirtyTypeToString(dev->cap->dirty) : "-",
               dev->cap ? vfmigNodeDevStateOf(dev->cap) : "-");
    }

    if (json) {
        g_autofree char *out = NULL;

        vfmigJSONEndArray(w);
        out = vfmigJSONWriterFinish(w);
        fputs(out, stdout);
    }
    return true;
}


/* ---- nodedev-compare ---- */

/* A node-device document is a few KiB; this is far more than any. */
#define VFMIG_NODEDEV_COMPARE_FILE_MAX (1024 * 1024)

/*
 * One side of a comparison: an XML file (a libvirt node-device document
 * with the capability, or the bare capability), or a device of this host.
 * The file is a regular one read up to VFMIG_NODEDEV_COMPARE_FILE_MAX
 * bytes (a symbolic link to one is followed): a FIFO or a device such as
 * /dev/zero is refused, not waited on or read without end.
 */
static vfmigNodeDevCapVFIOMig *
vfmigNodeDevCompareLoad(const vfmigCmd *cmd, const char *arg)
{
    g_autofree char *content = NULL;
    vfmigNodeDevCapVFIOMig *cap = NULL;

    if (g_file_test(arg, G_FILE_TEST_IS_REGULAR) || strchr(arg, '/')) {
        if (vfmigFileRead(_("node-device XML file"), arg,
                          VFMIG_NODEDEV_COMPARE_FILE_MAX, 0,
                          &content, NULL) < 0)
            return NULL;
        if (strstr(content, "<device")) {
            if (vfmigNodeDevXMLExtractCap(content, &cap) < 0)
                return NULL;
        } else if (!(cap = vfmigNodeDevCapVFIOMigParseString(content))) {
            return NULL;
        }
        if (!cap)
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("'%1$s' has no vfio-migration capability: the device cannot migrate its state"),
                             arg);
        return cap;
    } else {
        g_autoptr(vfmigNodeDevPCI) dev = NULL;
        g_autofree char *address = NULL;
        vfmigNodeDevProbePaths paths;

        if (!(address = vfmigNodeDevNameToAddress(arg)))
            return NULL;
        vfmigNodeDevPathsFromEnv(&paths);
        if (vfmigNodeDevProbeOne(&paths, address, vfmigNodeDevCmdProbeFlags(cmd), &dev) < 0)
            return NULL;
        vfmigNodeDevPrintErrors(dev->errors);
        if (!dev->cap) {
            vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                             _("device '%1$s' has no vfio-migration capability: %2$s"),
                             address, dev->note ? dev->note : _("not bound to a VFIO driver"));
            return NULL;
        }
        return g_steal_pointer(&dev->cap);
    }
}


static const char *
vfmigNodeDevQEMUText(vfmigNodeDevQEMU qemu)
{
    switch (qemu) {
    case VFMIG_NODEDEV_QEMU_BLOCKED:
        return _("blocked: QEMU refuses to migrate the VM");
    case VFMIG_NODEDEV_QEMU_ALL_DIRTY:
        return _("allowed only with enable-migration=on; QEMU then counts all guest RAM dirty");
    case VFMIG_NODEDEV_QEMU_ALLOWED:
        return _("allowed");
    case VFMIG_NODEDEV_QEMU_LAST:
        break;
    }
    return "?";
}


static bool
cmdNodeDevCompare(vfmigCtl *ctl G_GNUC_UNUSED, const vfmigCmd *cmd)
{
    const char *srcArg = vfmigCmdGetString(cmd, "source");
    const char *dstArg = vfmigCmdGetString(cmd, "destination");
    g_autoptr(vfmigNodeDevCapVFIOMig) src = NULL;
    g_autoptr(vfmigNodeDevCapVFIOMig) dst = NULL;
    g_autoptr(vfmigNodeDevCompareResult) res = NULL;
    size_t i;

    if (!(src = vfmigNodeDevCompareLoad(cmd, srcArg)) ||
        !(dst = vfmigNodeDevCompareLoad(cmd, dstArg)))
        return false;

    res = vfmigNodeDevCapVFIOMigCompare(src, dst);

    if (vfmigCmdGetBool(cmd, "json")) {
        g_autoptr(vfmigJSONWriter) w = vfmigJSONWriterNew();
        g_autofree char *out = NULL;

        vfmigJSONBeginObject(w, NULL);
        vfmigJSONString(w, "verdict", vfmigNodeDevCompareVerdictTypeToString(res->verdict));
        vfmigJSONString(w, "pre-copy", vfmigNodeDevPrecopyTypeToString(res->precopy));
        vfmigJSONString(w, "qemu", vfmigNodeDevQEMUTypeToString(res->qemu));
        vfmigJSONBeginArray(w, "reasons");
        for (i = 0; i < res->reasons->len; i++) {
            vfmigNodeDevCompareReason *r = g_ptr_array_index(res->reasons, i);

            vfmigJSONBeginObject(w, NULL);
            vfmigJSONString(w, "code", vfmigNodeDevReasonTypeToString(r->code));
            vfmigJSONString(w, "side", vfmigNodeDevSideTypeToString(r->side));
            vfmigJSONBool(w, "fatal", r->fatal);
            vfmigJSONString(w, "message", r->message);
            vfmigJSONEndObject(w);
        }
        vfmigJSONEndArray(w);
        vfmigJSONEndObject(w);
        out = vfmigJSONWriterFinish(w);
        fputs(out, stdout);
    } else {
        switch (res->verdict) {
        case VFMIG_NODEDEV_COMPARE_COMPATIBLE:
            printf(_("Compatible: the device state can move from source to destination.\n"));
            break;
        case VFMIG_NODEDEV_COMPARE_DEGRADED:
            printf(_("Compatible with limits: the device state can move, but not at its best.\n"));
            break;
        case VFMIG_NODEDEV_COMPARE_INCOMPATIBLE:
        case VFMIG_NODEDEV_COMPARE_LAST:
            printf(_("Incompatible: the device state cannot move from source to destination.\n"));
            break;
        }
        if (res->verdict != VFMIG_NODEDEV_COMPARE_INCOMPATIBLE) {
            printf(_("Pre-copy: %1$s\n"),
                   res->precopy == VFMIG_NODEDEV_PRECOPY_ON ?
                   _("on (state streams while the VM runs)") :
                   res->precopy == VFMIG_NODEDEV_PRECOPY_SINGLE ?
                   _("single (the source sends its state as one image at stop-copy: the destination loads only one)") :
                   _("off (the whole state moves while the VM is stopped)"));
        }
        printf(_("QEMU on the source: %1$s\n"), vfmigNodeDevQEMUText(res->qemu));
        for (i = 0; i < res->reasons->len; i++) {
            vfmigNodeDevCompareReason *r = g_ptr_array_index(res->reasons, i);

            printf("  - %s%s\n", r->fatal ? _("[refused] ") : "", r->message);
        }
    }

    if (res->verdict == VFMIG_NODEDEV_COMPARE_INCOMPATIBLE) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("the device state cannot migrate from '%1$s' to '%2$s'"),
                         srcArg, dstArg);
        return false;
    }
    return true;
}


/* ---- nodedev-nova-spec ---- */

/* Nova settings that break VF migration, read from nova.conf. */
static void
vfmigNodeDevNovaCheck(const char *path, bool explicitPath)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) gerr = NULL;
    g_autofree char *postcopy = NULL;

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
        if (explicitPath || !g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            fprintf(stderr, _("warning: cannot read Nova's configuration '%1$s': %2$s\n"),
                    path, gerr->message);
        return;
    }

    postcopy = g_key_file_get_string(kf, "libvirt",
                                     "live_migration_permit_post_copy", NULL);
    if (postcopy) {
        g_strstrip(postcopy);
        if (g_ascii_strcasecmp(postcopy, "true") == 0 ||
            g_ascii_strcasecmp(postcopy, "yes") == 0 ||
            g_str_equal(postcopy, "1") ||
            g_ascii_strcasecmp(postcopy, "on") == 0)
            fprintf(stderr, _("warning: %1$s: [libvirt] live_migration_permit_post_copy is %2$s, but QEMU refuses post-copy for VMs with VFIO devices: set it to False on hosts with migratable VFs\n"),
                    path, postcopy);
    }
}


static bool
cmdNodeDevNovaSpec(vfmigCtl *ctl G_GNUC_UNUSED, const vfmigCmd *cmd)
{
    const char *novaConf = vfmigCmdGetString(cmd, "nova-conf");
    g_autoptr(vfmigNodeDevList) list = NULL;
    vfmigNodeDevProbePaths paths;
    size_t printed = 0;
    size_t i;

    vfmigNodeDevPathsFromEnv(&paths);
    if (vfmigNodeDevProbeAll(&paths, vfmigNodeDevCmdProbeFlags(cmd), &list) < 0)
        return false;
    vfmigNodeDevPrintErrors(list->errors);

    printf(_("# Nova [pci] device_spec entries for the VFs vfmig can migrate.\n"
             "# managed is \"no\": each VF is bound to its VFIO variant driver already,\n"
             "# and libvirt must leave it so.  Paste under [pci] in nova.conf.\n"));
    printf("[pci]\n");

    for (i = 0; i < list->devices->len; i++) {
        vfmigNodeDevPCI *dev = g_ptr_array_index(list->devices, i);
        vfmigNodeDevCapVFIOMig *cap = dev->cap;

        if (!cap || !(cap->features & VFMIG_NODEDEV_FEATURE_STOP_COPY))
            continue;
        printf("device_spec = { \"address\": \"%s\", \"vendor_id\": \"%04x\", "
               "\"product_id\": \"%04x\", \"managed\": \"no\", "
               "\"live_migratable\": \"yes\" }\n",
               dev->address, dev->vendor, dev->device);
        if (cap->qualified) {
            const vfmigNodeDevQualified *q = cap->qualified;
            g_autofree char *at = vfmigNodeDevQualifiedFormatTime(q->at);
            const char *verdict = vfmigNodeDevVerdictTypeToString(q->verdict);

            if (q->measured)
                printf(_("#   device-qualify %1$s: %2$s, downtime %3$.1f ms (target %4$.1f ms)\n"),
                       at ? at : "?", verdict, q->downtimeUs / 1000.0,
                       q->targetUs / 1000.0);
            else
                printf(_("#   device-qualify %1$s: %2$s, nothing measured\n"),
                       at ? at : "?", verdict);
            if (q->verdict == VFMIG_NODEDEV_VERDICT_NOT_QUALIFIED)
                fprintf(stderr, _("warning: %1$s was not qualified for migration by its last device-qualify (%2$s): run virt-vfmig device-qualify %3$s for the reasons\n"),
                        dev->address, at ? at : "?", dev->address);
        }
        if (cap->dirty == VFMIG_NODEDEV_DIRTY_NONE)
            fprintf(stderr, _("warning: %1$s has no DMA dirty tracking%2$s%3$s: QEMU migrates it only with enable-migration=on and counts all guest RAM dirty\n"),
                    dev->address, cap->dirtyReason ? " (" : "",
                    cap->dirtyReason ? cap->dirtyReason : "");
        printed++;
    }
    if (printed == 0)
        printf(_("# (no migratable VF found on this host)\n"));

    vfmigNodeDevNovaCheck(novaConf ? novaConf : "/etc/nova/nova.conf",
                          novaConf != NULL);
    return true;
}


static const vfmigCmdOptDef optsNodeDevDumpXML[] = {
    { "device", VFMIG_OPT_ARG, true,
      N_("node device name (pci_0000_3b_00_2) or PCI address") },
    { "vfio-query", VFMIG_OPT_BOOL, false,
      N_("if sysfs cannot tell, open the idle device through VFIO to ask it (vfio-pci resets an idle function it opens)") },
    { NULL, 0, false, NULL }
};

static const vfmigCmdOptDef optsNodeDevList[] = {
    { "cap", VFMIG_OPT_STRING, false,
      N_("'vfio-migration' (the default: devices that can migrate their state) or 'pci' (every PCI device)") },
    { "pre-copy", VFMIG_OPT_BOOL, false,
      N_("only devices that offer pre-copy") },
    { "json", VFMIG_OPT_BOOL, false, N_("print JSON") },
    { "vfio-query", VFMIG_OPT_BOOL, false,
      N_("ask idle VFIO devices that sysfs says nothing about (vfio-pci resets an idle function it opens)") },
    { NULL, 0, false, NULL }
};

static const vfmigCmdOptDef optsNodeDevCompare[] = {
    { "source", VFMIG_OPT_ARG, true,
      N_("the source: a node-device XML file, or a device of this host") },
    { "destination", VFMIG_OPT_ARG, true,
      N_("the destination: a node-device XML file, or a device of this host") },
    { "json", VFMIG_OPT_BOOL, false, N_("print JSON") },
    { "vfio-query", VFMIG_OPT_BOOL, false,
      N_("for devices of this host, as in nodedev-dumpxml") },
    { NULL, 0, false, NULL }
};

static const vfmigCmdOptDef optsNodeDevNovaSpec[] = {
    { "nova-conf", VFMIG_OPT_STRING, false,
      N_("Nova's configuration to check (default /etc/nova/nova.conf)") },
    { "vfio-query", VFMIG_OPT_BOOL, false,
      N_("as in nodedev-list") },
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
      N_("list the devices that can migrate their state"),
      N_("Lists this host's PCI devices bound to a VFIO driver with "
         "migration support, from sysfs (no libvirt connection needed): "
         "features, dirty tracking and migration state; with --json also the "
         "last device-qualify's figures.") },
    { "nodedev-compare", cmdNodeDevCompare, optsNodeDevCompare,
      N_("can a device's state migrate from one VF to another"),
      N_("Compares a source and a destination VF, each given as a "
         "node-device XML file (for example nodedev-dumpxml's output on "
         "another host) or as a device of this host, like virsh "
         "hypervisor-cpu-compare: whether the state can move, whether "
         "pre-copy can be used and in which mode, and what QEMU will do, "
         "with every reason.  Fails when the state cannot move.") },
    { "nodedev-nova-spec", cmdNodeDevNovaSpec, optsNodeDevNovaSpec,
      N_("Nova [pci] device_spec entries for the migratable VFs"),
      N_("Prints OpenStack Nova [pci] device_spec lines, with "
         "live_migratable and managed, for this host's VFs that can migrate "
         "their state, ready to paste into nova.conf, and warns about "
         "settings that break VF migration, such as post-copy, which QEMU "
         "refuses for VFIO devices.") },
    { NULL, NULL, NULL, NULL, NULL }
};
