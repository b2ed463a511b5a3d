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
#include "vfmigpci.h"
#include "vfmigstring.h"


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

        g_autofree char *msg = vfmigStringEscapeText(err->message);

        fprintf(stderr, _("warning: %1$s\n"), msg);
    }
}


/*
 * How to learn the migration features of a VFIO device that neither sysfs
 * nor debugfs describes (upstream mlx5_vfio_pci on Debian, vfio-pci).
 */
static char *
vfmigNodeDevHowToLearn(const vfmigNodeDevPCI *dev)
{
    return g_strdup_printf(_("run 'virt-vfmig device-qualify %1$s', or 'virt-vfmig nodedev-list --vfio-query' (the VFIO feature query): both need the device idle, and vfio-pci resets a function it opens"),
                           dev->address);
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

    vfmigNodeDevPathsFromEnv(&paths);
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
        vfmigJSONString(w, "state", vfmigNodeDevStateOf(cap));
        vfmigNodeDevQualifiedJSON(w, cap->qualified);
    } else if (dev->vfio) {
        g_autofree char *how = vfmigNodeDevHowToLearn(dev);

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
    bool wantPrecopy = vfmigCmdGetBool(cmd, "pre-copy");
    bool json = vfmigCmdGetBool(cmd, "json");
    bool allPCI = false;
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autoptr(vfmigJSONWriter) w = NULL;
    g_autoptr(GPtrArray) unknown = g_ptr_array_new();
    vfmigNodeDevProbePaths paths;
    size_t i;

    if (capName) {
        if (g_str_equal(capName, "pci")) {
            allPCI = true;
        } else if (!g_str_equal(capName, "vfio-migration")) {
            vfmigShellUsageError(ctl,
                                 _("command '%1$s': unknown capability '%2$s': use 'vfio-migration' or 'pci'"),
                                 cmd->def->name, capName);
            ctl->usageError = true;
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
        g_autofree char *driver = NULL;
        g_autofree char *state = NULL;

        vfmigNodeDevPrintErrors(dev->errors);
        /* every VFIO device: one whose features are unknown may well
         * migrate (upstream mlx5_vfio_pci publishes nothing in sysfs) */
        if (!allPCI && !dev->vfio)
            continue;
        if (wantPrecopy &&
            (!dev->cap || !(dev->cap->features & VFMIG_NODEDEV_FEATURE_PRE_COPY)))
            continue;

        if (json) {
            vfmigNodeDevListJSON(w, dev);
            continue;
        }

        name = vfmigPCIAddressFormatNodeDevName(&dev->pci);
        if (dev->cap) {
            g_autofree char *words = vfmigNodeDevFeaturesToString(dev->cap->features);

            features = g_strdelimit(g_steal_pointer(&words), " ", ',');
            state = vfmigStringEscapeText(vfmigNodeDevStateOf(dev->cap));
        } else if (dev->vfio) {
            features = g_strdup(_("unknown"));
            g_ptr_array_add(unknown, dev);
        }
        driver = vfmigStringEscapeText(dev->driver);
        printf(" %-20s %-16s %-26s %-8s %s\n", name,
               driver ? driver : "-",
               features ? features : "-",
               dev->cap ? vfmigNodeDevDirtyTypeToString(dev->cap->dirty) : "-",
               state ? state : "-");
    }

    if (json) {
        g_autofree char *out = NULL;

        vfmigJSONEndArray(w);
        out = vfmigJSONWriterFinish(w);
        fputs(out, stdout);
        return true;
    }

    for (i = 0; i < unknown->len; i++) {
        const vfmigNodeDevPCI *dev = g_ptr_array_index(unknown, i);
        g_autofree char *note = vfmigStringEscapeText(dev->note);
        g_autofree char *how = vfmigNodeDevHowToLearn(dev);

        if (i == 0)
            printf("\n");
        printf(_("%1$s: %2$s\n  To learn them: %3$s.\n"),
               dev->address, note ? note : _("migration features unknown"), how);
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
vfmigNodeDevCompareLoad(vfmigCtl *ctl, const vfmigCmd *cmd, const char *arg)
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
        vfmigPCIAddress addr;

        /* neither a file nor a device */
        if (vfmigNodeDevParseArg(ctl, arg, &addr) < 0)
            return NULL;
        address = vfmigPCIAddressFormat(&addr);
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
cmdNodeDevCompare(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *srcArg = vfmigCmdGetString(cmd, "source");
    const char *dstArg = vfmigCmdGetString(cmd, "destination");
    g_autoptr(vfmigNodeDevCapVFIOMig) src = NULL;
    g_autoptr(vfmigNodeDevCapVFIOMig) dst = NULL;
    g_autoptr(vfmigNodeDevCompareResult) res = NULL;
    size_t i;

    if (!(src = vfmigNodeDevCompareLoad(ctl, cmd, srcArg)) ||
        !(dst = vfmigNodeDevCompareLoad(ctl, cmd, dstArg)))
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
            g_autofree char *msg = vfmigStringEscapeText(r->message);

            /* the messages quote the XML's strings */
            printf("  - %s%s\n", r->fatal ? _("[refused] ") : "", msg);
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


/*
 * Whether Nova may live-migrate a VM with @dev: what QEMU does with the
 * device's capability (vfmigNodeDevCapVFIOMigCompare's verdict on the
 * source).  Returns true, or false with *@why (translated, escaped).
 */
static bool
vfmigNodeDevNovaMigratable(const vfmigNodeDevPCI *dev,
                           char **why)
{
    g_autoptr(vfmigNodeDevCompareResult) res = NULL;
    g_autofree char *reason = NULL;

    *why = NULL;
    if (!dev->cap) {
        g_autofree char *how = vfmigNodeDevHowToLearn(dev);

        reason = g_strdup_printf(_("%1$s; to learn them, %2$s"),
                                 dev->note ? dev->note : _("migration features unknown"),
                                 how);
        *why = vfmigStringEscapeText(reason);
        return false;
    }

    res = vfmigNodeDevCapVFIOMigCompare(dev->cap, dev->cap);
    switch (res->qemu) {
    case VFMIG_NODEDEV_QEMU_ALLOWED:
        return true;
    case VFMIG_NODEDEV_QEMU_ALL_DIRTY:
        /* the reason says what QEMU does too */
        if (dev->cap->dirtyReason)
            reason = g_strdup_printf(_("no DMA dirty tracking: %1$s"),
                                     dev->cap->dirtyReason);
        else
            reason = g_strdup(_("no DMA dirty tracking: QEMU blocks the migration unless vfio-pci has enable-migration=on, and then counts all guest RAM as dirty"));
        break;
    case VFMIG_NODEDEV_QEMU_BLOCKED:
    case VFMIG_NODEDEV_QEMU_LAST:
    default:
        reason = g_strdup(_("the driver offers no stop-copy migration: QEMU blocks migrating the VM"));
        break;
    }
    *why = vfmigStringEscapeText(reason);
    return false;
}


/* Nova's device_type of a PCI function. */
static const char *
vfmigNodeDevNovaType(const vfmigNodeDevPCI *dev)
{
    if (dev->physfn)
        return "type-VF";
    if (dev->virtfns)
        return "type-PF";
    return "type-PCI";
}


typedef struct _vfmigNodeDevNovaAlias vfmigNodeDevNovaAlias;
struct _vfmigNodeDevNovaAlias {
    unsigned int vendor;
    unsigned int device;
    const char *type;
    bool migratable;
};


static bool
cmdNodeDevNovaSpec(vfmigCtl *ctl G_GNUC_UNUSED, const vfmigCmd *cmd)
{
    const char *novaConf = vfmigCmdGetString(cmd, "nova-conf");
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autoptr(GArray) aliases = g_array_new(FALSE, TRUE, sizeof(vfmigNodeDevNovaAlias));
    vfmigNodeDevProbePaths paths;
    size_t printed = 0;
    size_t i;
    size_t j;

    vfmigNodeDevPathsFromEnv(&paths);
    if (vfmigNodeDevProbeAll(&paths, vfmigNodeDevCmdProbeFlags(cmd), &list) < 0)
        return false;
    vfmigNodeDevPrintErrors(list->errors);

    printf(_("# Nova [pci] device_spec and alias entries for this host's VFIO devices.\n"
             "# managed is \"no\": each VF is bound to its VFIO driver already, and\n"
             "# libvirt must leave it so.  Nova live-migrates a VM with a PCI device\n"
             "# only through an alias with \"live_migratable\": \"yes\" (Nova 2025.1 or\n"
             "# later).  Paste under [pci] in nova.conf; name the aliases in flavors\n"
             "# (pci_passthrough:alias).\n"));
    printf("[pci]\n");

    for (i = 0; i < list->devices->len; i++) {
        vfmigNodeDevPCI *dev = g_ptr_array_index(list->devices, i);
        vfmigNodeDevCapVFIOMig *cap = dev->cap;
        g_autofree char *why = NULL;
        vfmigNodeDevNovaAlias alias = { 0 };
        bool migratable;

        vfmigNodeDevPrintErrors(dev->errors);
        if (!dev->vfio)
            continue;
        migratable = vfmigNodeDevNovaMigratable(dev, &why);

        if (migratable)
            printf(_("# %1$s: live migratable\n"), dev->address);
        else
            printf(_("# %1$s: not live migratable: %2$s\n"), dev->address, why);
        printf("device_spec = { \"address\": \"%s\", \"vendor_id\": \"%04x\", "
               "\"product_id\": \"%04x\", \"managed\": \"no\", "
               "\"live_migratable\": \"%s\" }\n",
               dev->address, dev->vendor, dev->device,
               migratable ? "yes" : "no");
        if (cap && cap->qualified) {
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
        if (!migratable)
            fprintf(stderr, _("warning: %1$s is not live migratable: %2$s\n"),
                    dev->address, why);

        alias.vendor = dev->vendor;
        alias.device = dev->device;
        alias.type = vfmigNodeDevNovaType(dev);
        alias.migratable = migratable;
        for (j = 0; j < aliases->len; j++) {
            const vfmigNodeDevNovaAlias *a = &g_array_index(aliases, vfmigNodeDevNovaAlias, j);

            if (a->vendor == alias.vendor && a->device == alias.device &&
                g_str_equal(a->type, alias.type) && a->migratable == alias.migratable)
                break;
        }
        if (j == aliases->len)
            g_array_append_val(aliases, alias);
        printed++;
    }
    if (printed == 0)
        printf(_("# (no device bound to a VFIO driver on this host)\n"));

    /* one alias per PCI id, device type and migratability: Nova's PCI in
     * Placement refuses an alias name given twice */
    for (j = 0; j < aliases->len; j++) {
        const vfmigNodeDevNovaAlias *a = &g_array_index(aliases, vfmigNodeDevNovaAlias, j);
        g_autofree char *suffix = g_ascii_strdown(a->type + strlen("type-"), -1);

        printf("alias = { \"vendor_id\": \"%04x\", \"product_id\": \"%04x\", "
               "\"device_type\": \"%s\", \"name\": \"vfmig-%04x-%04x-%s%s\", "
               "\"live_migratable\": \"%s\" }\n",
               a->vendor, a->device, a->type, a->vendor, a->device,
               suffix, a->migratable ? "" : "-nomig",
               a->migratable ? "yes" : "no");
    }

    vfmigNodeDevNovaCheck(novaConf ? novaConf : "/etc/nova/nova.conf",
                          novaConf != NULL);
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
      N_("list the VFIO devices and what they can migrate"),
      N_("Lists every PCI device of this host bound to a VFIO driver, from "
         "sysfs: its migration features, dirty tracking and migration state; "
         "with --json also the last device-qualify's figures.  A device whose "
         "driver publishes its features nowhere (upstream mlx5_vfio_pci, "
         "vfio-pci) is listed with features 'unknown' and how to learn them: "
         "device-qualify, or --vfio-query, which both need the device idle "
         "and make vfio-pci reset it.  It reads only this host and uses no "
         "libvirt connection: -c is refused.") },
    { "nodedev-compare", cmdNodeDevCompare, optsNodeDevCompare,
      N_("can a device's state migrate from one VF to another"),
      N_("Compares a source and a destination VF, each given as a "
         "node-device XML file (for example nodedev-dumpxml's output on "
         "another host) or as a device of this host, like virsh "
         "hypervisor-cpu-compare: whether the state can move, whether "
         "pre-copy can be used and in which mode, and what QEMU will do, "
         "with every reason.  Fails when the state cannot move.  Takes no "
         "libvirt connection: -c is refused.") },
    { "nodedev-nova-spec", cmdNodeDevNovaSpec, optsNodeDevNovaSpec,
      N_("Nova [pci] device_spec and alias entries for the VFIO devices"),
      N_("Prints OpenStack Nova [pci] device_spec lines, with managed and "
         "live_migratable, for every device of this host bound to a VFIO "
         "driver, and the [pci] alias entries (vendor_id, product_id, "
         "device_type, name, live_migratable) that flavors name: Nova 2025.1 "
         "and later live-migrate a VM with a PCI device only through an alias "
         "with live_migratable \"yes\".  A device QEMU would refuse to migrate "
         "(no stop-copy, no DMA dirty tracking) or whose features are "
         "unknown gets \"no\", with the reason.  Ready to paste into "
         "nova.conf; warns about settings that break VF migration, such as "
         "post-copy, which QEMU refuses for VFIO devices.  It reads only this "
         "host: -c is refused.") },
    { NULL, NULL, NULL, NULL, NULL }
};
