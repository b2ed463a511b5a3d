/*
 * vfmighook.c: the decision of vfmig's libvirt QEMU hook
 *
 * See vfmighook.h for what is checked and why; docs/operator-guide.rst
 * for what each refusal means to an operator.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "vfmighook.h"
#include "vfmigdomainpolicy.h"
#include "vfmigdriver.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmignodedevcompare.h"
#include "vfmignodedevvariant.h"
#include "vfmigpci.h"
#include "vfmigstring.h"
#include "vfmigsysfs.h"


vfmigHookOp
vfmigHookOpFromArgs(const char *operation,
                    const char *subOperation)
{
    if (!operation || !subOperation || !g_str_equal(subOperation, "begin"))
        return VFMIG_HOOK_OP_OTHER;
    if (g_str_equal(operation, "migrate"))
        return VFMIG_HOOK_OP_MIGRATE;
    if (g_str_equal(operation, "prepare"))
        return VFMIG_HOOK_OP_PREPARE;
    return VFMIG_HOOK_OP_OTHER;
}


void
vfmigHookDeviceFree(vfmigHookDevice *dev)
{
    if (!dev)
        return;
    g_free(dev->alias);
    g_free(dev->address);
    if (dev->reasons)
        g_ptr_array_unref(dev->reasons);
    g_free(dev);
}


void
vfmigHookResultFree(vfmigHookResult *res)
{
    if (!res)
        return;
    if (res->devices)
        g_ptr_array_unref(res->devices);
    if (res->notes)
        g_ptr_array_unref(res->notes);
    g_free(res);
}


char *
vfmigHookDeviceName(const vfmigHookDevice *dev)
{
    if (dev->alias)
        return g_strdup_printf(_("hostdev '%1$s' (%2$s on this host)"),
                               dev->alias, dev->address);
    return g_strdup_printf(_("hostdev %1$s (on this host)"), dev->address);
}


char *
vfmigHookDeviceReasons(const vfmigHookDevice *dev)
{
    g_autoptr(GString) str = g_string_new(NULL);
    size_t i;

    for (i = 0; i < dev->reasons->len; i++) {
        if (i > 0)
            g_string_append(str, "; ");
        g_string_append(str, g_ptr_array_index(dev->reasons, i));
    }
    return g_string_free(g_steal_pointer(&str), FALSE);
}


static void
vfmigHookRefuse(vfmigHookDevice *dev,
                const char *fmt,
                ...)
    G_GNUC_PRINTF(2, 3);

static void
vfmigHookRefuse(vfmigHookDevice *dev,
                const char *fmt,
                ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    VFMIG_DEBUG("%s: refused: %s", dev->address, msg);
    dev->refused = true;
    g_ptr_array_add(dev->reasons, msg);
}


static void
vfmigHookAccept(vfmigHookDevice *dev,
                const char *msg)
{
    VFMIG_DEBUG("%s: %s", dev->address, msg);
    g_ptr_array_add(dev->reasons, g_strdup(msg));
}


/*
 * The drivers that tell it (vfmigDriverInfo's stateSizeFile): vfmig_testdev
 * refuses a stream whose header has another size than its own
 * (docs/abi/sysfs-bus-pci-devices-vfmig_testdev), and the mlx5 firmware
 * model an image of another VHCA state size.
 */
int
vfmigHookLocalStateSize(const vfmigNodeDevProbePaths *paths,
                        const vfmigNodeDevPCI *dev,
                        unsigned long long *size)
{
    const vfmigDriverInfo *info = vfmigDriverLookup(dev->driver);
    g_autofree char *dir = NULL;
    guint64 num;
    int fd;
    int rc;

    if (!info || !info->stateSizeFile)
        return 0;

    dir = vfmigSysfsPCIDevicePath(paths ? paths->sysfsRoot : NULL,
                                  dev->address);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        vfmigReportSystemError(errno, _("cannot open '%1$s'"), dir);
        return -1;
    }
    rc = vfmigSysfsReadU64(fd, dir, info->stateSizeFile, true,
                           G_MAXUINT64, &num);
    close(fd);
    if (rc > 0)
        *size = num;
    return rc;
}


int
vfmigHookLocalIdentity(const vfmigNodeDevProbePaths *paths,
                       const vfmigNodeDevPCI *dev,
                       vfmigDomainPolicyIdentity **identity)
{
    g_autoptr(vfmigDomainPolicyIdentity) id = g_new0(vfmigDomainPolicyIdentity, 1);
    const vfmigNodeDevCapVFIOMig *cap = dev->cap;
    unsigned long long size = 0;

    *identity = NULL;
    id->driver = g_strdup(cap->driver ? cap->driver : dev->driver);
    id->vendor = cap->vendor ? cap->vendor : dev->vendor;
    id->device = cap->device ? cap->device : dev->device;
    id->firmware = cap->firmware && *cap->firmware ? g_strdup(cap->firmware) : NULL;
    id->streamVersion = cap->streamVersion;
    id->multiLoad = !!(cap->features & VFMIG_NODEDEV_FEATURE_MULTI_LOAD);
    if (vfmigHookLocalStateSize(paths, dev, &size) < 0)
        return -1;
    id->stateSize = size;
    *identity = g_steal_pointer(&id);
    return 0;
}


/*
 * The source VF as the policy's identity describes it, in the words of a
 * capability, for vfmigNodeDevCapVFIOMigCompare.  What the identity does
 * not say is taken at its best (stop-copy, DMA dirty tracking): only the
 * destination is judged here.
 */
static vfmigNodeDevCapVFIOMig *
vfmigHookSourceCap(const vfmigDomainPolicyHostdev *entry)
{
    const vfmigDomainPolicyIdentity *id = entry->identity;
    vfmigNodeDevCapVFIOMig *cap = g_new0(vfmigNodeDevCapVFIOMig, 1);

    cap->driver = g_strdup(id->driver);
    cap->variant = g_strcmp0(id->driver, "vfio-pci") != 0;
    cap->features = VFMIG_NODEDEV_FEATURE_STOP_COPY;
    if (entry->precopy != VFMIG_DOMAIN_POLICY_PRECOPY_OFF)
        cap->features |= VFMIG_NODEDEV_FEATURE_PRE_COPY;
    if (id->multiLoad)
        cap->features |= VFMIG_NODEDEV_FEATURE_MULTI_LOAD;
    cap->dirty = VFMIG_NODEDEV_DIRTY_DEVICE;
    cap->vendor = id->vendor;
    cap->device = id->device;
    cap->firmware = g_strdup(id->firmware);
    cap->streamVersion = id->streamVersion;
    return cap;
}


/* Whether the source sends its state as several images. */
static bool
vfmigHookSourceSendsSeveral(const vfmigDomainPolicyHostdev *entry)
{
    return entry->identity && entry->identity->multiLoad &&
        entry->precopy != VFMIG_DOMAIN_POLICY_PRECOPY_OFF;
}


/* The local device exists and is bound to a VFIO driver whose features
 * are known: else the reason, and false. */
static bool
vfmigHookCheckBound(vfmigHookDevice *res,
                    const vfmigDomainPolicyHostdev *entry,
                    const vfmigNodeDevPCI *dev)
{
    const vfmigDomainPolicyIdentity *id = entry->identity;

    if (!dev->driver) {
        if (id)
            vfmigHookRefuse(res, _("the device is bound to no driver: bind it to '%1$s', the source VF's driver, before migrating to it"),
                            id->driver);
        else
            vfmigHookRefuse(res, "%s",
                            _("the device is bound to no driver: bind it to its VFIO migration driver before migrating to it"));
        return false;
    }
    if (!dev->vfio) {
        if (id)
            vfmigHookRefuse(res, _("the device is bound to '%1$s', not to a VFIO driver, so QEMU cannot take it: bind it to '%2$s', the source VF's driver, before migrating to it"),
                            dev->driver, id->driver);
        else
            vfmigHookRefuse(res, _("the device is bound to '%1$s', not to a VFIO driver, so QEMU cannot take it: bind it to its VFIO migration driver before migrating to it"),
                            dev->driver);
        return false;
    }
    if (dev->cap)
        return true;

    /* a driver that cannot be the source's says more than unknown features */
    if (id && g_strcmp0(id->driver, dev->driver) != 0) {
        vfmigHookRefuse(res, _("the device is bound to '%1$s' and the source's VF to '%2$s': a driver loads only its own state format; bind this VF to '%3$s'"),
                        dev->driver, id->driver, id->driver);
        return false;
    }
    if (dev->errors && dev->errors->len > 0) {
        const vfmigError *err = g_ptr_array_index(dev->errors, 0);

        vfmigHookRefuse(res, _("its migration features cannot be read (%1$s): check the device with 'virt-vfmig device-qualify %2$s'"),
                        err->message, dev->address);
        return false;
    }
    vfmigHookRefuse(res, _("%1$s; the hook never opens a device to learn them: check the device with 'virt-vfmig device-qualify %2$s', and migrate to a VF whose driver publishes its features in sysfs (vfmig's drivers do)"),
                    dev->note ? dev->note : _("its migration features are unknown"),
                    dev->address);
    return false;
}


/*
 * A hostdev with managed='yes', whose VF libvirt binds itself at the
 * migration's Prepare, after this hook, to the driver
 * vfmigNodeDevBindPredict tells.  Returns 1 when the VF is on that driver
 * already: the caller checks it as any bound VF.  Else 0, decided here:
 * refused when libvirt would bind it to a driver that cannot migrate it,
 * or to another driver than the source's, or when its PCI ids are not the
 * source's; otherwise accepted as far as a VF can be checked before its
 * driver is bound.  Its migration features, pre-copy, firmware, state
 * format and state size are published by the driver only once it is
 * bound (our vfio_migration/ files), so they are not checked: a VF that
 * cannot take the source's state fails the migration later, when the
 * state arrives (QEMU, or the driver's load), as without the hook.
 */
static int
vfmigHookCheckManaged(const vfmigNodeDevProbePaths *paths,
                      const vfmigDomainPolicyHostdev *entry,
                      const vfmigDomainPolicyDomHostdev *dh,
                      const vfmigNodeDevPCI *dev,
                      vfmigHookDevice *res)
{
    const vfmigDomainPolicyIdentity *id = entry->identity;
    g_autoptr(vfmigNodeDevBind) bind = NULL;
    g_autofree char *what = NULL;
    g_autofree char *now = NULL;
    g_autofree char *accepted = NULL;

    if (vfmigNodeDevBindPredict(paths, dev->address, dh->driverModel, &bind) < 0) {
        vfmigHookRefuse(res, _("libvirt binds the device itself (managed='yes'), and the driver it binds cannot be told: %1$s"),
                        vfmigGetLastErrorMessage());
        vfmigResetLastError();
        return 0;
    }
    /* libvirt leaves a device on that driver where it is */
    if (vfmigDriverNameEqual(dev->driver, bind->driver)) {
        VFMIG_DEBUG("%s: on '%s' already, which libvirt binds it to",
                    res->address, dev->driver);
        return 1;
    }
    if (!bind->migration) {
        vfmigHookRefuse(res, "%s", bind->reason);
        return 0;
    }

    what = vfmigNodeDevBindDescribe(bind);
    if (id && !vfmigDriverNameEqual(id->driver, bind->driver))
        vfmigHookRefuse(res, _("libvirt will bind the device to %1$s and the source's VF is on '%2$s': a driver loads only its own state format; give this hostdev <driver model='%3$s'/>, or migrate to a VF that libvirt binds to it"),
                        what, id->driver, id->driver);
    if (id && (id->vendor != dev->vendor || id->device != dev->device))
        vfmigHookRefuse(res, _("the devices have different PCI ids (source %1$04x:%2$04x, destination %3$04x:%4$04x)"),
                        id->vendor, id->device, dev->vendor, dev->device);
    if (res->refused)
        return 0;

    if (!id)
        vfmigHookAccept(res, _("the policy has no identity of the source VF: its driver, ids and state format were not checked"));
    if (dev->driver)
        now = g_strdup_printf(_("on '%1$s'"), dev->driver);
    else
        now = g_strdup(_("bound to no driver"));
    accepted = g_strdup_printf(_("accepted before its driver is bound: libvirt binds the device, %1$s now, to %2$s as it starts the domain here (managed='yes'); what only the bound driver tells (its migration features, pre-copy, multi-load, firmware, state format and size) is not checked here: a VF that cannot take the source's state fails the migration when the state arrives, and the domain keeps running on the source"),
                               now, what);
    vfmigHookAccept(res, accepted);
    return 0;
}


/* The policy entry @entry of the domain hostdev @dh against this host's
 * device; the verdict and reasons into @res. */
static void
vfmigHookCheckDevice(const vfmigNodeDevProbePaths *paths,
                     const vfmigDomainPolicyHostdev *entry,
                     const vfmigDomainPolicyDomHostdev *dh,
                     vfmigHookDevice *res)
{
    const vfmigDomainPolicyIdentity *id = entry->identity;
    g_autoptr(vfmigNodeDevPCI) dev = NULL;
    g_autoptr(vfmigNodeDevCompareResult) cmp = NULL;
    vfmigNodeDevPrecopy pairPrecopy;
    const vfmigNodeDevCapVFIOMig *cap;
    unsigned long long localSize = 0;
    size_t i;
    int rc;

    VFMIG_DEBUG("%s: probing (alias %s)", res->address,
                res->alias ? res->alias : "none");
    if (vfmigNodeDevProbeOne(paths, res->address,
                             VFMIG_NODEDEV_PROBE_NO_CACHE_WRITE |
                             VFMIG_NODEDEV_PROBE_NO_QUALIFIED, &dev) < 0) {
        if (vfmigGetLastErrorCode() == VFMIG_ERR_NO_DEVICE) {
            vfmigHookRefuse(res, _("this host has no PCI device %1$s: the domain XML must name this host's VF in the hostdev's <source><address> (virsh migrate --xml, or Nova, rewrites it)"),
                            res->address);
        } else {
            vfmigHookRefuse(res, _("cannot read the device: %1$s"),
                            vfmigGetLastErrorMessage());
        }
        vfmigResetLastError();
        return;
    }
    VFMIG_DEBUG("%s: driver %s, vfio %d, capability %s%s%s",
                res->address, dev->driver ? dev->driver : "none", dev->vfio,
                dev->cap ? "known" : "unknown",
                dev->note ? ": " : "", dev->note ? dev->note : "");

    if (dh->managed && vfmigHookCheckManaged(paths, entry, dh, dev, res) == 0)
        return;
    if (!vfmigHookCheckBound(res, entry, dev))
        return;
    cap = dev->cap;

    if (id) {
        g_autoptr(vfmigNodeDevCapVFIOMig) src = vfmigHookSourceCap(entry);

        cmp = vfmigNodeDevCapVFIOMigCompare(src, cap);
        for (i = 0; i < cmp->reasons->len; i++) {
            const vfmigNodeDevCompareReason *r = g_ptr_array_index(cmp->reasons, i);

            VFMIG_DEBUG("%s: compare: %s%s: %s", res->address,
                        vfmigNodeDevReasonTypeToString(r->code),
                        r->fatal ? " (fatal)" : "", r->message);
            /* the source is the policy's word, not a probed device */
            if (r->fatal && r->side != VFMIG_NODEDEV_SIDE_SOURCE)
                vfmigHookRefuse(res, "%s", r->message);
        }
        pairPrecopy = cmp->precopy;
    } else {
        if (!(cap->features & VFMIG_NODEDEV_FEATURE_STOP_COPY))
            vfmigHookRefuse(res, _("the device ('%1$s') does not offer stop-copy: it cannot load a migration state"),
                            cap->driver);
        if (!(cap->features & VFMIG_NODEDEV_FEATURE_PRE_COPY))
            pairPrecopy = VFMIG_NODEDEV_PRECOPY_OFF;
        else if (!(cap->features & VFMIG_NODEDEV_FEATURE_MULTI_LOAD))
            pairPrecopy = VFMIG_NODEDEV_PRECOPY_SINGLE;
        else
            pairPrecopy = VFMIG_NODEDEV_PRECOPY_ON;
    }
    if (res->refused)
        return;

    if (entry->precopy == VFMIG_DOMAIN_POLICY_PRECOPY_REQUIRED &&
        pairPrecopy != VFMIG_NODEDEV_PRECOPY_ON) {
        if (!(cap->features & VFMIG_NODEDEV_FEATURE_PRE_COPY)) {
            vfmigHookRefuse(res, _("the domain's policy requires pre-copy, and this VF cannot pre-copy (driver '%1$s', pre-copy mode '%2$s'): migrate to a VF with pre-copy, or relax the hostdev's <vfmig:precopy mode='required'/>"),
                            cap->driver,
                            cap->precopy == VFMIG_NODEDEV_PRECOPY_DEFAULT ?
                            _("not reported") :
                            vfmigNodeDevPrecopyTypeToString(cap->precopy));
        } else {
            vfmigHookRefuse(res, "%s",
                            _("the domain's policy requires pre-copy, and this VF cannot load several images (no multi-load), so the source could only send its whole state while the VM is stopped: migrate to a VF with multi-load, or relax the hostdev's <vfmig:precopy mode='required'/>"));
        }
        return;
    }

    if (vfmigHookSourceSendsSeveral(entry) &&
        !(cap->features & VFMIG_NODEDEV_FEATURE_MULTI_LOAD)) {
        vfmigHookRefuse(res, "%s",
                        _("the source sends its state as several images (its identity says multi-load='yes' and pre-copy is not 'off'), and this VF loads only one image (no multi-load): it would refuse the stream after the transfer; migrate to a VF with multi-load, or set the hostdev's <vfmig:precopy mode='off'/> so that the source sends one image"));
    }

    if (id && id->stateSize) {
        if ((rc = vfmigHookLocalStateSize(paths, dev, &localSize)) < 0) {
            vfmigHookRefuse(res, _("cannot read the device's state size: %1$s"),
                            vfmigGetLastErrorMessage());
            vfmigResetLastError();
        } else if (rc == 0) {
            VFMIG_DEBUG("%s: driver %s does not tell its state size: not checked",
                        res->address, dev->driver);
        } else if (localSize != id->stateSize) {
            vfmigHookRefuse(res, _("the source's state is %1$llu bytes and this VF holds %2$llu bytes: '%3$s' loads only a state of its own size; give this VF the source's state size, or migrate to a VF that has it"),
                            id->stateSize, localSize, dev->driver);
        } else {
            VFMIG_DEBUG("%s: state size %llu matches", res->address, localSize);
        }
    }
    if (res->refused)
        return;

    if (!id)
        vfmigHookAccept(res, _("the policy has no identity of the source VF: its driver, ids and state format were not checked"));
    switch (pairPrecopy) {
    case VFMIG_NODEDEV_PRECOPY_ON:
        vfmigHookAccept(res, _("accepted: pre-copy with several images"));
        break;
    case VFMIG_NODEDEV_PRECOPY_SINGLE:
        vfmigHookAccept(res, _("accepted: the whole state moves at stop-copy (pre-copy mode 'single')"));
        break;
    case VFMIG_NODEDEV_PRECOPY_DEFAULT:
    case VFMIG_NODEDEV_PRECOPY_OFF:
    case VFMIG_NODEDEV_PRECOPY_LAST:
    default:
        vfmigHookAccept(res, _("accepted: the whole state moves at stop-copy (no pre-copy)"));
        break;
    }
}


int
vfmigHookCheck(const char *operation,
               const char *subOperation,
               const char *xml,
               const vfmigNodeDevProbePaths *paths,
               vfmigHookResult **result)
{
    g_autoptr(vfmigHookResult) res = g_new0(vfmigHookResult, 1);
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    size_t i;
    int rc;

    *result = NULL;
    res->op = vfmigHookOpFromArgs(operation, subOperation);
    res->verdict = VFMIG_HOOK_NOTHING;
    res->devices = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigHookDeviceFree);
    res->notes = g_ptr_array_new_with_free_func(g_free);

    if (res->op == VFMIG_HOOK_OP_OTHER) {
        VFMIG_DEBUG("'%s %s': not a call vfmig acts on",
                    operation ? operation : "", subOperation ? subOperation : "");
        *result = g_steal_pointer(&res);
        return 0;
    }

    if (!xml) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("no domain XML was given"));
        return -1;
    }
    if ((rc = vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs)) < 0)
        return -1;
    if (rc == 0) {
        VFMIG_DEBUG("the domain has no vfmig migration policy: nothing to check");
        *result = g_steal_pointer(&res);
        return 0;
    }
    VFMIG_DEBUG("policy with %zu hostdev entries, domain with %u PCI hostdevs",
                policy->nhostdevs, hostdevs->len);

    /* An entry by source address names nothing on a destination whose XML
     * has this host's address (the source's VF is not this host's). */
    for (i = 0; i < policy->nhostdevs; i++) {
        const vfmigDomainPolicyHostdev *entry = policy->hostdevs[i];

        if (!vfmigDomainPolicyFindHostdev(entry, hostdevs)) {
            g_autofree char *name = NULL;
            char *note;

            if (entry->alias)
                name = g_strdup_printf("'%s'", entry->alias);
            else
                name = vfmigPCIAddressFormat(&entry->address);
            note = g_strdup_printf(_("the policy's entry for hostdev %1$s names no hostdev of this domain XML: not checked (an entry by source address names nothing once the address is rewritten for the destination; name the hostdev by its alias)"),
                                   name);
            VFMIG_DEBUG("%s", note);
            g_ptr_array_add(res->notes, note);
        }
    }

    for (i = 0; i < hostdevs->len; i++) {
        const vfmigDomainPolicyDomHostdev *dh = g_ptr_array_index(hostdevs, i);
        const vfmigDomainPolicyHostdev *entry = vfmigDomainPolicyLookup(policy, dh);
        g_autoptr(vfmigHookDevice) dev = NULL;

        if (!entry)
            continue;
        dev = g_new0(vfmigHookDevice, 1);
        dev->alias = g_strdup(dh->alias);
        dev->address = vfmigPCIAddressFormat(&dh->address);
        dev->reasons = g_ptr_array_new_with_free_func(g_free);
        vfmigHookCheckDevice(paths, entry, dh, dev);
        if (dev->refused)
            res->wouldRefuse = true;
        g_ptr_array_add(res->devices, g_steal_pointer(&dev));
    }

    if (res->devices->len == 0) {
        VFMIG_DEBUG("the policy names none of the domain's hostdevs: nothing to check");
        res->verdict = VFMIG_HOOK_NOTHING;
    } else if (res->wouldRefuse && res->op == VFMIG_HOOK_OP_MIGRATE) {
        res->verdict = VFMIG_HOOK_REFUSED;
    } else {
        res->verdict = VFMIG_HOOK_ACCEPTED;
    }
    VFMIG_DEBUG("verdict: %s%s",
                res->verdict == VFMIG_HOOK_REFUSED ? "refused" :
                res->verdict == VFMIG_HOOK_ACCEPTED ? "accepted" : "nothing to do",
                res->wouldRefuse && res->op == VFMIG_HOOK_OP_PREPARE ?
                " (prepare: a migration would be refused)" : "");
    *result = g_steal_pointer(&res);
    return 0;
}
