/*
 * vfmigdaemontask.c: what virt-vfmigd's domain workers do
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigdaemontask.h"

#include <libvirt/virterror.h>

#include "vfmigdomainpolicy.h"
#include "vfmighostdefault.h"
#include "vfmighostpolicy.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"


vfmigDaemonTask *
vfmigDaemonTaskNew(vfmigDaemonTaskKind kind,
                   const vfmigSteerCalls *calls,
                   virDomainPtr dom)
{
    vfmigDaemonTask *t = g_new0(vfmigDaemonTask, 1);

    t->kind = kind;
    t->calls = calls ? calls : vfmigSteerLibvirtCalls();
    if (dom && virDomainRef(dom) == 0)
        t->dom = dom;
    t->op = -1;
    return t;
}


void
vfmigDaemonTaskFree(void *task)
{
    vfmigDaemonTask *t = task;
    int i;

    if (!t)
        return;
    vfmigSteerFree(t->steer);
    vfmigErrorFree(t->error);
    for (i = 0; i < t->ndoms; i++)
        virDomainFree(t->doms[i]);
    g_free(t->doms);
    g_free(t->uuid);
    g_free(t->hostPolicy);
    g_free(t->hostWhy);
    g_free(t->hostFlavor);
    if (t->dom)
        virDomainFree(t->dom);
    if (t->conn)
        virConnectClose(t->conn);
    g_free(t);
}


const char *
vfmigDaemonTaskWhat(vfmigDaemonTaskKind kind)
{
    switch (kind) {
    case VFMIG_DAEMON_TASK_PROBE:
        return _("reading its XML");
    case VFMIG_DAEMON_TASK_CHECK:
        return _("reading its job");
    case VFMIG_DAEMON_TASK_STEP:
        return _("a steering step (its job, its downtime limit)");
    case VFMIG_DAEMON_TASK_RECANCEL:
        return _("cancelling its migration again");
    case VFMIG_DAEMON_TASK_RELEASE:
    case VFMIG_DAEMON_TASK_HAND_BACK:
        return _("handing its downtime limit back");
    case VFMIG_DAEMON_TASK_LIST:
        return _("listing the running domains");
    case VFMIG_DAEMON_TASK_LAST:
        break;
    }
    return "?";
}


/* Keeps the error of what failed for the daemon. */
static void
vfmigDaemonTaskKeepError(vfmigDaemonTask *t)
{
    vfmigErrorFree(t->error);
    t->error = vfmigSaveLastError();
}


/* The host default policy of the domain whose live XML is @xml, set as
 * its live metadata where the decision says so. */
static void
vfmigDaemonTaskHostDefault(vfmigDaemonTask *t,
                           const char *xml)
{
    g_autoptr(vfmigHostPolicy) hostPolicy = NULL;
    g_autoptr(vfmigHostDefaultResult) res = NULL;

    t->hostRc = -1;
    if (!(hostPolicy = vfmigHostPolicyParseString(t->hostPolicy)) ||
        vfmigHostDefaultDecide(xml, hostPolicy, &t->paths.probe, &res) < 0) {
        vfmigDaemonTaskKeepError(t);
        return;
    }
    t->hostAction = res->action;
    t->hostWhy = g_strdup(res->why);
    if (res->policy)
        t->hostFlavor = g_strdup(res->policy->flavor);
    if (res->action != VFMIG_HOST_DEFAULT_WRITE) {
        t->hostRc = 0;
        return;
    }
    if (!t->calls->setMetadata) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                         _("these calls cannot set metadata"));
        vfmigDaemonTaskKeepError(t);
        return;
    }
    if (t->calls->setMetadata(t->dom, VIR_DOMAIN_METADATA_ELEMENT, res->metadata,
                              VFMIG_DOMAIN_POLICY_NS_PREFIX,
                              VFMIG_DOMAIN_POLICY_NS_URI,
                              VIR_DOMAIN_AFFECT_LIVE) < 0) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot set its live metadata: %1$s"),
                         virGetLastErrorMessage());
        vfmigDaemonTaskKeepError(t);
        return;
    }
    t->hostRc = 1;
    t->policy = 1;
}


static void
vfmigDaemonTaskProbe(vfmigDaemonTask *t)
{
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    g_autofree char *xml = NULL;

    if (!(xml = t->calls->getXMLDesc(t->dom, 0))) {
        VFMIG_DEBUG("domain %s: no XML: %s", virDomainGetName(t->dom),
                    virGetLastErrorMessage());
        t->policy = -1;
        return;
    }
    /* a malformed policy is one: the session says what is wrong with it */
    t->policy = vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs) != 0;
    vfmigResetLastError();
    if (t->hostPolicy)
        vfmigDaemonTaskHostDefault(t, xml);
}


/* One step of the steer the task holds, and at the end of the job
 * libvirt's word on it while the domain is still here. */
static void
vfmigDaemonTaskStep(vfmigDaemonTask *t)
{
    t->stepped = true;
    t->stepRc = vfmigSteerStep(t->steer, &t->ev);
    if (t->stepRc < 0)
        vfmigDaemonTaskKeepError(t);
    if (t->stepRc == 0 && !t->ev.gone)
        t->hasCompleted = vfmigSteerCompletedJob(t->steer, &t->completed) > 0;
}


static void
vfmigDaemonTaskCheck(vfmigDaemonTask *t)
{
    char uuid[VIR_UUID_STRING_BUFLEN];

    if ((t->op = vfmigSteerJobOperation(t->calls, t->dom)) == -2) {
        vfmigDaemonTaskKeepError(t);
        return;
    }
    if (t->op != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT || !t->take)
        return;
    if (t->lockBusy) {
        if (virDomainGetUUIDString(t->dom, uuid) < 0 ||
            vfmigSteerLockBusy(NULL, uuid) != 0) {
            t->stillBusy = true;
            return;
        }
        t->tookOver = true;
    }
    if ((t->newRc = vfmigSteerNew(t->dom, &t->opts, &t->steer)) <= 0) {
        if (t->newRc < 0)
            vfmigDaemonTaskKeepError(t);
        return;
    }
    vfmigDaemonTaskStep(t);
}


static void
vfmigDaemonTaskRecancel(vfmigDaemonTask *t)
{
    if ((t->op = vfmigSteerJobOperation(t->calls, t->dom)) !=
        VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT) {
        t->jobGone = t->op != -2;
        return;
    }
    /* libvirt keeps the request until Perform; an older one may not */
    if (t->calls->abortJob(t->dom) < 0)
        VFMIG_DEBUG("%s: cancelling again: %s", virDomainGetName(t->dom),
                    virGetLastErrorMessage());
}


static void
vfmigDaemonTaskList(vfmigDaemonTask *t)
{
    if ((t->ndoms = virConnectListAllDomains(t->conn, &t->doms,
                                             VIR_CONNECT_LIST_DOMAINS_ACTIVE)) < 0) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot list the domains: %1$s"),
                         virGetLastErrorMessage());
        vfmigDaemonTaskKeepError(t);
        t->ndoms = 0;
        t->rc = -1;
    }
}


void
vfmigDaemonTaskRun(void *task)
{
    vfmigDaemonTask *t = task;

    switch (t->kind) {
    case VFMIG_DAEMON_TASK_PROBE:
        vfmigDaemonTaskProbe(t);
        return;
    case VFMIG_DAEMON_TASK_CHECK:
        vfmigDaemonTaskCheck(t);
        return;
    case VFMIG_DAEMON_TASK_STEP:
        vfmigDaemonTaskStep(t);
        return;
    case VFMIG_DAEMON_TASK_RECANCEL:
        vfmigDaemonTaskRecancel(t);
        return;
    case VFMIG_DAEMON_TASK_RELEASE:
        if ((t->rc = vfmigSteerRelease(t->steer)) < 0)
            vfmigDaemonTaskKeepError(t);
        return;
    case VFMIG_DAEMON_TASK_HAND_BACK:
        t->handBack = vfmigGuardHandBack(vfmigGuardLibvirtLimitOps(), t->conn,
                                         t->uuid, t->heldMs, t->fallbackMs,
                                         NULL, &t->curMs);
        if (t->handBack == VFMIG_GUARD_HAND_BACK_FAILED)
            vfmigDaemonTaskKeepError(t);
        return;
    case VFMIG_DAEMON_TASK_LIST:
        vfmigDaemonTaskList(t);
        return;
    case VFMIG_DAEMON_TASK_LAST:
        break;
    }
}
