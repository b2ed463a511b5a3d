/*
 * virt-vfmig-hostpolicy.c: virt-vfmig host-policy and host-policy-check
 *
 * host-policy fetches a running domain's live XML from libvirt, loads the
 * host policy, lets vfmighostdefault.h decide, and prints the decision
 * (as text or one JSON object); with --apply it sets the policy as the
 * domain's live metadata, as virt-vfmigd does.  host-policy-check reads
 * a host policy file and prints what each entry gives.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>

#include <libvirt/virterror.h>

#include "virt-vfmig.h"
#include "vfmigerror.h"
#include "vfmighostdefault.h"
#include "vfmigi18n.h"
#include "vfmigjson.h"
#include "vfmigstring.h"


/* @text escaped for a terminal, each line indented by @indent spaces. */
static void
vfmigHostPolicyPrintIndented(const char *text,
                             int indent)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    size_t i;

    for (i = 0; lines[i]; i++) {
        g_autofree char *line = NULL;

        if (!lines[i + 1] && !*lines[i])
            break;
        line = vfmigStringEscapeText(lines[i]);
        printf("%*s%s\n", indent, "", line);
    }
}


static void
vfmigHostPolicyPrintText(const char *domName,
                         const vfmigHostDefaultResult *res,
                         bool apply,
                         bool applied)
{
    g_autofree char *why = vfmigStringEscapeText(res->why);
    size_t i;

    printf(_("Domain '%1$s': %2$s (%3$s): %4$s\n"), domName,
           vfmigHostDefaultActionTypeToString(res->action),
           vfmigHostDefaultReasonTypeToString(res->reason), why);
    if (res->reason == VFMIG_HOST_DEFAULT_REASON_NO_HOST_POLICY)
        printf(_("  There is no file '%1$s'.\n"), VFMIG_HOST_POLICY_PATH);
    if (res->flavor) {
        g_autofree char *flavor = vfmigStringEscapeText(res->flavor);

        printf(_("  Nova flavor: %1$s\n"), flavor);
    }
    for (i = 0; i < res->devices->len; i++) {
        const vfmigHostDefaultDevice *dev = g_ptr_array_index(res->devices, i);
        g_autofree char *devWhy = dev->why ? vfmigStringEscapeText(dev->why) : NULL;

        printf("  %s %s (%s): %s%s%s\n",
               dev->interface ? "interface" : "hostdev",
               dev->alias ? dev->alias : "-", dev->address,
               dev->entry ? _("entry") : _("no entry"),
               devWhy ? ": " : "", devWhy ? devWhy : "");
    }
    if (res->action == VFMIG_HOST_DEFAULT_NOTHING)
        return;

    printf(_("Policy:\n"));
    {
        g_autofree char *text = vfmigDomainPolicyFormatString(res->policy);

        vfmigHostPolicyPrintIndented(text, 2);
    }
    if (applied)
        printf(_("Set as the live metadata of domain '%1$s' (its definition is unchanged).\n"),
               domName);
    else if (res->action == VFMIG_HOST_DEFAULT_WRITE && !apply)
        printf(_("Not applied: --apply sets it as the domain's live metadata.\n"));
}


static void
vfmigHostPolicyPrintJSON(const char *domName,
                         const vfmigHostDefaultResult *res,
                         bool applied)
{
    g_autoptr(vfmigJSONWriter) w = vfmigJSONWriterNew();
    g_autofree char *out = NULL;
    size_t i;

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "domain", domName);
    vfmigJSONString(w, "action", vfmigHostDefaultActionTypeToString(res->action));
    vfmigJSONString(w, "reason", vfmigHostDefaultReasonTypeToString(res->reason));
    vfmigJSONString(w, "why", res->why);
    vfmigJSONString(w, "flavor", res->flavor);
    vfmigJSONString(w, "metadata", res->metadata);
    vfmigJSONBool(w, "applied", applied);
    vfmigJSONBeginArray(w, "devices");
    for (i = 0; i < res->devices->len; i++) {
        const vfmigHostDefaultDevice *dev = g_ptr_array_index(res->devices, i);

        vfmigJSONBeginObject(w, NULL);
        vfmigJSONString(w, "alias", dev->alias);
        vfmigJSONString(w, "address", dev->address);
        vfmigJSONBool(w, "interface", dev->interface);
        vfmigJSONString(w, "driver", dev->driver);
        vfmigJSONBool(w, "entry", dev->entry);
        vfmigJSONString(w, "why", dev->why);
        vfmigJSONEndObject(w);
    }
    vfmigJSONEndArray(w);
    vfmigJSONEndObject(w);
    out = vfmigJSONWriterFinish(w);
    fputs(out, stdout);
}


/* The host policy of --policy (which must exist) or the default file
 * (which may not: *@policy NULL).  0 or -1 with an error. */
static int
vfmigHostPolicyLoad(const char *path,
                    vfmigHostPolicy **policy)
{
    int rc;

    if ((rc = vfmigHostDefaultLoadPolicy(path, policy)) < 0)
        return -1;
    if (rc == 0 && path) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("host policy file '%1$s' does not exist"), path);
        return -1;
    }
    return 0;
}


/* Sets @res's policy as the live metadata of @dom.  0 or -1. */
static int
vfmigHostPolicyApply(virDomainPtr dom,
                     const char *domName,
                     const vfmigHostDefaultResult *res)
{
    if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, res->metadata,
                             VFMIG_DOMAIN_POLICY_NS_PREFIX, VFMIG_DOMAIN_POLICY_NS_URI,
                             VIR_DOMAIN_AFFECT_LIVE) < 0) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot set the live metadata of domain '%1$s': %2$s"),
                         domName, virGetLastErrorMessage());
        return -1;
    }
    return 0;
}


bool
cmdHostPolicy(vfmigCtl *ctl,
              const vfmigCmd *cmd)
{
    const char *name = vfmigCmdGetString(cmd, "domain");
    const char *path = vfmigCmdGetString(cmd, "policy");
    bool apply = vfmigCmdGetBool(cmd, "apply");
    bool json = vfmigCmdGetBool(cmd, "json");
    g_autoptr(vfmigHostPolicy) policy = NULL;
    g_autoptr(vfmigHostDefaultResult) res = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *domName = NULL;
    vfmigNodeDevProbePaths paths;
    virConnectPtr conn;
    virDomainPtr dom = NULL;
    bool applied = false;
    bool ret = false;

    if (vfmigHostPolicyLoad(path, &policy) < 0)
        goto cleanup;
    if (!(conn = vfmigShellGetConnection(ctl)) ||
        !(dom = vfmigDomainLookup(conn, name)))
        goto cleanup;
    domName = g_strdup(virDomainGetName(dom));
    if (!(xml = virDomainGetXMLDesc(dom, 0))) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot get the XML of domain '%1$s': %2$s"),
                         domName, virGetLastErrorMessage());
        goto cleanup;
    }

    vfmigNodeDevProbePathsFromEnv(&paths);
    if (vfmigHostDefaultDecide(xml, policy, &paths, &res) < 0)
        goto cleanup;
    if (apply && res->action == VFMIG_HOST_DEFAULT_WRITE) {
        if (vfmigHostPolicyApply(dom, domName, res) < 0)
            goto cleanup;
        applied = true;
    }

    if (json)
        vfmigHostPolicyPrintJSON(domName, res, applied);
    else
        vfmigHostPolicyPrintText(domName, res, apply, applied);
    ret = true;

 cleanup:
    if (!ret && json)
        vfmigPrintJSONError(ctl);
    if (dom)
        virDomainFree(dom);
    return ret;
}


const vfmigCmdOptDef vfmigOptsHostPolicy[] = {
    { "domain", VFMIG_OPT_ARG, true, N_("domain name, UUID or ID (a running one)") },
    { "policy", VFMIG_OPT_STRING, false,
      N_("the host policy file (default: host-policy.xml in vfmig's configuration directory, /etc/vfmig)") },
    { "apply", VFMIG_OPT_BOOL, false,
      N_("set the policy as the domain's live metadata when it has none or a stale one") },
    VFMIG_COMMON_OPT_JSON,
    { NULL, 0, false, NULL }
};


/* "downtime 300 ms, on failure abort, pre-copy required" of @entry, what
 * it does not give marked as vfmig's default. */
static char *
vfmigHostPolicyDescribeEntry(const vfmigHostPolicyEntry *entry)
{
    const char *dflt = _(" (default)");
    vfmigDomainPolicyPrecopy precopy = entry->precopy;
    unsigned int targetMs = entry->downtime.targetMs;
    vfmigDomainPolicyOnFailure onFailure = entry->downtime.onFailure;

    return g_strdup_printf(_("downtime target %1$u ms%2$s, on failure %3$s%4$s, pre-copy %5$s%6$s"),
                           targetMs ? targetMs : VFMIG_DOMAIN_POLICY_DEFAULT_TARGET_MS,
                           targetMs ? "" : dflt,
                           vfmigDomainPolicyOnFailureTypeToString(onFailure ? onFailure :
                                                                  VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT),
                           onFailure ? "" : dflt,
                           vfmigDomainPolicyPrecopyTypeToString(precopy ? precopy :
                                                                VFMIG_DOMAIN_POLICY_PRECOPY_PREFERRED),
                           precopy ? "" : dflt);
}


bool
cmdHostPolicyCheck(vfmigCtl *ctl G_GNUC_UNUSED,
                   const vfmigCmd *cmd)
{
    const char *path = vfmigCmdGetString(cmd, "file");
    g_autoptr(vfmigHostPolicy) policy = NULL;
    g_autofree char *file = NULL;
    size_t i;

    if (!path)
        path = VFMIG_HOST_POLICY_PATH;
    if (vfmigHostPolicyLoad(path, &policy) < 0)
        return false;

    file = vfmigStringEscapeText(path);
    printf(_("%1$s: a valid host policy\n"), file);
    for (i = 0; i < policy->nflavors; i++) {
        g_autofree char *flavor = vfmigStringEscapeText(policy->flavors[i]->flavor);
        g_autofree char *what = vfmigHostPolicyDescribeEntry(policy->flavors[i]);

        printf(_("  flavor '%1$s': %2$s\n"), flavor, what);
    }
    if (policy->def) {
        g_autofree char *what = vfmigHostPolicyDescribeEntry(policy->def);

        printf(_("  any other flavor: %1$s\n"), what);
    } else {
        printf(_("  any other flavor: nothing (no <default>)\n"));
    }
    return true;
}


const vfmigCmdOptDef vfmigOptsHostPolicyCheck[] = {
    { "file", VFMIG_OPT_ARG, false,
      N_("the host policy file (default: host-policy.xml in vfmig's configuration directory, /etc/vfmig)") },
    { NULL, 0, false, NULL }
};
