/*
 * vfmighostdefault.c: the host default policy of a running domain
 *
 * See vfmighostdefault.h for the rules and their order: each is a short
 * function below that returns 1 when it decided (the result filled in),
 * 0 to go on, -1 on error.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdarg.h>
#include <string.h>

#include "vfmighostdefault.h"
#include "vfmigdriver.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmighook.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmignodedevquery.h"

VFMIG_ENUM_IMPL(vfmigHostDefaultActionType, VFMIG_HOST_DEFAULT_LAST,
                "nothing",
                "write",
                "keep",
);

VFMIG_ENUM_IMPL(vfmigHostDefaultReasonType, VFMIG_HOST_DEFAULT_REASON_LAST,
                "explicit-policy",
                "no-host-policy",
                "no-hostdev",
                "not-running",
                "no-entry",
                "no-migrating-vf",
                "new",
                "changed",
                "up-to-date",
);


void
vfmigHostDefaultDeviceFree(vfmigHostDefaultDevice *dev)
{
    if (!dev)
        return;
    g_free(dev->alias);
    g_free(dev->address);
    g_free(dev->driver);
    g_free(dev->why);
    g_free(dev);
}


void
vfmigHostDefaultResultFree(vfmigHostDefaultResult *res)
{
    if (!res)
        return;
    g_free(res->why);
    g_free(res->flavor);
    vfmigDomainPolicyFree(res->policy);
    g_free(res->metadata);
    if (res->devices)
        g_ptr_array_unref(res->devices);
    g_free(res);
}


int
vfmigHostDefaultLoadPolicy(const char *path,
                           vfmigHostPolicy **policy)
{
    g_autofree char *xml = NULL;
    int rc;

    *policy = NULL;
    if (!path)
        path = VFMIG_HOST_POLICY_PATH;
    if ((rc = vfmigFileRead(_("host policy file"), path, VFMIG_HOST_POLICY_SIZE_MAX,
                            VFMIG_FILE_OPTIONAL, &xml, NULL)) <= 0) {
        if (rc == 0)
            VFMIG_DEBUG("no host policy: '%s' does not exist", path);
        return rc;
    }
    if (!(*policy = vfmigHostPolicyParseString(xml))) {
        g_autofree char *msg = g_strdup(vfmigGetLastErrorMessage());

        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s: %s", path, msg);
        return -1;
    }
    VFMIG_DEBUG("host policy '%s': %zu flavor(s), %s default", path,
                (*policy)->nflavors, (*policy)->def ? "a" : "no");
    return 1;
}


/* ------------------------------------------------------------------ */
/* The rules                                                           */
/* ------------------------------------------------------------------ */

typedef struct _vfmigHostDefault vfmigHostDefault;
struct _vfmigHostDefault {
    const vfmigHostPolicy *hostPolicy;
    const vfmigNodeDevProbePaths *paths;
    vfmigDomainPolicy *current;     /* the domain's policy, NULL: none */
    GPtrArray *hostdevs;            /* vfmigDomainPolicyDomHostdev * */
    const vfmigHostPolicyEntry *entry;
    vfmigHostDefaultResult *res;
};


/* Decides @action for @reason, why in words; returns 1. */
static int G_GNUC_PRINTF(4, 5)
decide(vfmigHostDefault *hd,
       vfmigHostDefaultAction action,
       vfmigHostDefaultReason reason,
       const char *fmt,
       ...)
{
    va_list ap;

    va_start(ap, fmt);
    hd->res->why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    hd->res->action = action;
    hd->res->reason = reason;
    VFMIG_DEBUG("host default: %s (%s): %s",
                vfmigHostDefaultActionTypeToString(action),
                vfmigHostDefaultReasonTypeToString(reason), hd->res->why);
    return 1;
}


/* NOTHING for @reason: @why, and that a policy of the host default the
 * domain has already is left as it is. */
static int
decideNothing(vfmigHostDefault *hd,
              vfmigHostDefaultReason reason,
              const char *why)
{
    if (hd->current)
        return decide(hd, VFMIG_HOST_DEFAULT_NOTHING, reason,
                      _("%1$s; the policy with origin='host' the domain has (written on another host, or from an earlier host policy) is left as it is"),
                      why);
    return decide(hd, VFMIG_HOST_DEFAULT_NOTHING, reason, "%s", why);
}


/* Rule 1: a policy of the domain's own wins. */
static int
ruleExplicit(vfmigHostDefault *hd)
{
    if (!hd->current || hd->current->origin == VFMIG_DOMAIN_POLICY_ORIGIN_HOST)
        return 0;
    return decide(hd, VFMIG_HOST_DEFAULT_NOTHING, VFMIG_HOST_DEFAULT_REASON_EXPLICIT, "%s",
                  _("the domain has a migration policy of its own (without origin='host'), which the host default never replaces"));
}


/* Rule 2: nothing to make a policy from, or for. */
static int
ruleNothingToDo(vfmigHostDefault *hd)
{
    if (!hd->hostPolicy)
        return decideNothing(hd, VFMIG_HOST_DEFAULT_REASON_NO_HOST_POLICY,
                             _("this host has no host policy"));
    if (hd->hostdevs->len == 0)
        return decideNothing(hd, VFMIG_HOST_DEFAULT_REASON_NO_HOSTDEV,
                             _("the domain has no <hostdev type='pci'> and no <interface type='hostdev'>"));
    return 0;
}


/* The devices of the result, one per hostdev, before any is probed. */
static void
listDevices(vfmigHostDefault *hd)
{
    size_t i;

    for (i = 0; i < hd->hostdevs->len; i++) {
        const vfmigDomainPolicyDomHostdev *dh = g_ptr_array_index(hd->hostdevs, i);
        vfmigHostDefaultDevice *dev = g_new0(vfmigHostDefaultDevice, 1);

        dev->alias = g_strdup(dh->alias);
        dev->address = vfmigPCIAddressFormat(&dh->address);
        dev->interface = dh->interface;
        g_ptr_array_add(hd->res->devices, dev);
    }
}


/* Rule 3: every hostdev has libvirt's alias, as in a running domain. */
static int
ruleNotRunning(vfmigHostDefault *hd)
{
    size_t i;

    for (i = 0; i < hd->res->devices->len; i++) {
        vfmigHostDefaultDevice *dev = g_ptr_array_index(hd->res->devices, i);
        g_autofree char *why = NULL;

        if (dev->alias)
            continue;
        dev->why = g_strdup(_("it has no alias"));
        why = g_strdup_printf(_("%1$s %2$s has no alias: the XML is not that of a running domain, whose devices libvirt names, and the host default names each hostdev by libvirt's alias of it"),
                              dev->interface ? "<interface type='hostdev'>" : "hostdev",
                              dev->address);
        return decideNothing(hd, VFMIG_HOST_DEFAULT_REASON_NOT_RUNNING, why);
    }
    return 0;
}


/* Rule 4: the flavor's entry, else the default. */
static int
ruleEntry(vfmigHostDefault *hd)
{
    g_autofree char *why = NULL;

    if ((hd->entry = vfmigHostPolicyLookup(hd->hostPolicy, hd->res->flavor))) {
        VFMIG_DEBUG("host default: flavor %s: %s%s%s", hd->res->flavor ? hd->res->flavor : "none",
                    hd->entry->flavor ? "the entry of '" : "the default",
                    hd->entry->flavor ? hd->entry->flavor : "",
                    hd->entry->flavor ? "'" : "");
        return 0;
    }
    if (hd->res->flavor)
        why = g_strdup_printf(_("the host policy has no entry for the domain's flavor '%1$s' and no <default>"),
                              hd->res->flavor);
    else
        why = g_strdup(_("the domain has no Nova flavor (<nova:flavor> in its metadata) and the host policy no <default>"));
    return decideNothing(hd, VFMIG_HOST_DEFAULT_REASON_NO_ENTRY, why);
}


/*
 * Whether the VF @vf of @dev migrates: its driver offers stop-copy or,
 * where it publishes its features nowhere that can be read without
 * opening the device (upstream's mlx5_vfio_pci), is a driver that
 * migrates; else @dev->why says why not.  *@identity: whether its
 * identity can be read.
 */
static bool
vfMigrates(vfmigHostDefaultDevice *dev,
           const vfmigNodeDevPCI *vf,
           bool *identity)
{
    const vfmigDriverInfo *info;

    *identity = false;
    if (!vf->driver) {
        dev->why = g_strdup(_("the VF is bound to no driver"));
        return false;
    }
    if (!vf->vfio) {
        dev->why = g_strdup_printf(_("the VF is on '%1$s', not on a VFIO driver"), vf->driver);
        return false;
    }
    if (vf->cap && !(vf->cap->features & VFMIG_NODEDEV_FEATURE_STOP_COPY)) {
        dev->why = g_strdup_printf(_("the VF's driver '%1$s' offers no stop-copy: it cannot migrate the device's state"),
                                   vf->driver);
        return false;
    }
    if (vf->cap) {
        *identity = true;
        return true;
    }
    if (vf->errors && vf->errors->len > 0) {
        const vfmigError *err = g_ptr_array_index(vf->errors, 0);

        dev->why = g_strdup_printf(_("the VF's migration features cannot be read: %1$s"),
                                   err->message);
        return false;
    }
    if (!(info = vfmigDriverLookup(vf->driver)) || !info->migration) {
        dev->why = g_strdup_printf(_("%1$s, and '%2$s' is no driver vfmig knows to migrate a device"),
                                   vfmigNodeDevUnknownNote(vf), vf->driver);
        return false;
    }
    dev->why = g_strdup_printf(_("%1$s: the entry has no identity of the VF, so the destination's hook checks only its own VF"),
                               vfmigNodeDevUnknownNote(vf));
    return true;
}


/* The entry of the hostdev @dh (device @dev), or NULL (@dev->why says
 * why) when its VF does not migrate. */
static int
makeEntry(vfmigHostDefault *hd,
          const vfmigDomainPolicyDomHostdev *dh,
          vfmigHostDefaultDevice *dev,
          vfmigDomainPolicyHostdev **out)
{
    g_autoptr(vfmigNodeDevPCI) vf = NULL;
    g_autoptr(vfmigDomainPolicyHostdev) entry = NULL;
    bool identity;

    *out = NULL;
    if (vfmigNodeDevProbeOne(hd->paths, dev->address,
                             VFMIG_NODEDEV_PROBE_NO_CACHE_WRITE |
                             VFMIG_NODEDEV_PROBE_NO_QUALIFIED, &vf) < 0) {
        dev->why = g_strdup_printf(_("cannot read the VF: %1$s"), vfmigGetLastErrorMessage());
        vfmigResetLastError();
        return 0;
    }
    dev->driver = g_strdup(vf->driver);
    if (!vfMigrates(dev, vf, &identity))
        return 0;

    entry = g_new0(vfmigDomainPolicyHostdev, 1);
    entry->alias = g_strdup(dh->alias);
    entry->precopy = hd->entry->precopy;
    if (identity && vfmigHookLocalIdentity(hd->paths, vf, &entry->identity) < 0)
        return -1;
    if (entry->precopy == VFMIG_DOMAIN_POLICY_PRECOPY_REQUIRED && vf->cap &&
        !(vf->cap->features & VFMIG_NODEDEV_FEATURE_PRE_COPY))
        dev->why = g_strdup_printf(_("the host policy requires pre-copy, and this VF ('%1$s') cannot pre-copy: its state moves at the switch-over all the same"),
                                   vf->driver);
    dev->entry = true;
    *out = g_steal_pointer(&entry);
    return 0;
}


/* Rule 5: the policy, one entry per hostdev whose VF migrates. */
static int
rulePolicy(vfmigHostDefault *hd)
{
    g_autoptr(vfmigDomainPolicy) policy = g_new0(vfmigDomainPolicy, 1);
    size_t i;

    policy->origin = VFMIG_DOMAIN_POLICY_ORIGIN_HOST;
    policy->flavor = g_strdup(hd->entry->flavor);
    policy->downtime = hd->entry->downtime;
    policy->hostdevs = g_new0(vfmigDomainPolicyHostdev *, hd->hostdevs->len);
    for (i = 0; i < hd->hostdevs->len; i++) {
        vfmigHostDefaultDevice *dev = g_ptr_array_index(hd->res->devices, i);
        vfmigDomainPolicyHostdev *entry;

        if (makeEntry(hd, g_ptr_array_index(hd->hostdevs, i), dev, &entry) < 0)
            return -1;
        VFMIG_DEBUG("host default: %s (%s): %s%s%s", dev->address, dev->alias,
                    entry ? "an entry" : "no entry",
                    dev->why ? ": " : "", dev->why ? dev->why : "");
        if (entry)
            policy->hostdevs[policy->nhostdevs++] = entry;
    }
    if (policy->nhostdevs == 0)
        return decideNothing(hd, VFMIG_HOST_DEFAULT_REASON_NO_MIGRATING_VF,
                             _("none of the domain's VFs is on a driver that migrates it"));
    hd->res->policy = g_steal_pointer(&policy);
    return 0;
}


/* Rule 6: what the domain has, or the new policy. */
static int
ruleCompare(vfmigHostDefault *hd)
{
    g_autofree char *entry = NULL;
    g_autofree char *want = vfmigDomainPolicyFormatString(hd->res->policy);
    g_autofree char *have = NULL;

    hd->res->metadata = vfmigDomainPolicyFormatMetadata(hd->res->policy);
    if (hd->entry->flavor)
        entry = g_strdup_printf(_("the host policy's entry for the flavor '%1$s'"),
                                hd->entry->flavor);
    else
        entry = g_strdup(_("the host policy's <default>"));

    if (!hd->current)
        return decide(hd, VFMIG_HOST_DEFAULT_WRITE, VFMIG_HOST_DEFAULT_REASON_NEW,
                      _("the domain has no migration policy: %1$s applies"), entry);
    have = vfmigDomainPolicyFormatString(hd->current);
    if (strcmp(have, want) == 0)
        return decide(hd, VFMIG_HOST_DEFAULT_KEEP, VFMIG_HOST_DEFAULT_REASON_UP_TO_DATE,
                      _("the domain's policy with origin='host' is what %1$s gives"), entry);
    return decide(hd, VFMIG_HOST_DEFAULT_WRITE, VFMIG_HOST_DEFAULT_REASON_CHANGED,
                  _("the domain's policy with origin='host' differs from what %1$s gives now (the domain migrated here from another host's VFs, or the host policy, the flavor or the VFs changed)"),
                  entry);
}


int
vfmigHostDefaultDecide(const char *xml,
                       const vfmigHostPolicy *hostPolicy,
                       const vfmigNodeDevProbePaths *paths,
                       vfmigHostDefaultResult **result)
{
    g_autoptr(vfmigHostDefaultResult) res = g_new0(vfmigHostDefaultResult, 1);
    g_autoptr(vfmigDomainPolicy) current = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    vfmigHostDefault hd = { .hostPolicy = hostPolicy, .paths = paths, .res = res };
    int rc;

    *result = NULL;
    res->devices = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigHostDefaultDeviceFree);
    if (vfmigDomainPolicyParseDomainXML(xml, &current, &hostdevs) < 0 ||
        vfmigDomainPolicyParseDomainFlavor(xml, &res->flavor) < 0)
        return -1;
    hd.current = current;
    hd.hostdevs = hostdevs;

    if ((rc = ruleExplicit(&hd)) == 0 &&
        (rc = ruleNothingToDo(&hd)) == 0) {
        listDevices(&hd);
        if ((rc = ruleNotRunning(&hd)) == 0 &&
            (rc = ruleEntry(&hd)) == 0 &&
            (rc = rulePolicy(&hd)) == 0)
            rc = ruleCompare(&hd);
    }
    if (rc < 0)
        return -1;
    *result = g_steal_pointer(&res);
    return 0;
}
