/*
 * vfmigmigrate.c: one live migration, started and steered in-process
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigmigrate.h"

#include <inttypes.h>

#include <libvirt/virterror.h>

#include "vfmigdaemon.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigi18n.h"
#include "vfmigjson.h"
#include "vfmiglog.h"
#include "vfmignodedevprobe.h"
#include "vfmigsteer.h"
#include "vfmigsteerloop.h"

/* libvirt >= 11.1 names it; an older libvirtd refuses it by name */
#ifndef VIR_MIGRATE_PARAM_BANDWIDTH_AVAIL_SWITCHOVER
# define VIR_MIGRATE_PARAM_BANDWIDTH_AVAIL_SWITCHOVER "bandwidth.avail.switchover"
#endif

VFMIG_ENUM_IMPL(vfmigMigrateResult, VFMIG_MIGRATE_RESULT_LAST,
                [VFMIG_MIGRATE_MIGRATED] = "migrated",
                [VFMIG_MIGRATE_FAILED] = "failed",
                [VFMIG_MIGRATE_ABORTED] = "aborted",
                [VFMIG_MIGRATE_TIMEOUT] = "timeout",
                [VFMIG_MIGRATE_CANCELLED] = "cancelled",
);

VFMIG_ENUM_IMPL(vfmigMigrateOverheadSource, VFMIG_MIGRATE_OVERHEAD_LAST,
                [VFMIG_MIGRATE_OVERHEAD_NONE] = "none",
                [VFMIG_MIGRATE_OVERHEAD_LEARNED] = "learned",
                [VFMIG_MIGRATE_OVERHEAD_OPTION] = "option",
);

VFMIG_ENUM_IMPL(vfmigMigrateSwitchoverBw, VFMIG_MIGRATE_SWITCHOVER_BW_LAST,
                [VFMIG_MIGRATE_SWITCHOVER_BW_NONE] = "none",
                [VFMIG_MIGRATE_SWITCHOVER_BW_OPTION] = "option",
                [VFMIG_MIGRATE_SWITCHOVER_BW_AUTO] = "automatic",
);

#define MIB (1024ULL * 1024ULL)

/* ---- the report ---- */

vfmigMigrateReport *
vfmigMigrateReportNew(void)
{
    vfmigMigrateReport *r = g_new0(vfmigMigrateReport, 1);

    r->predictedUs = VFMIG_DOWNTIME_UNKNOWN;
    r->policyPredictedUs = VFMIG_DOWNTIME_UNKNOWN;
    r->warnings = g_ptr_array_new_with_free_func(g_free);
    return r;
}


void
vfmigMigrateReportFree(vfmigMigrateReport *report)
{
    size_t i;

    if (!report)
        return;
    g_free(report->domain);
    g_free(report->destURI);
    g_free(report->error);
    g_free(report->switchoverDevice);
    g_free(report->phases);
    for (i = 0; i < report->ndevices; i++) {
        g_free(report->devices[i].name);
        g_free(report->devices[i].state);
    }
    g_free(report->devices);
    if (report->warnings)
        g_ptr_array_unref(report->warnings);
    g_free(report);
}


int
vfmigMigrateReportMet(const vfmigMigrateReport *report)
{
    uint64_t downtimeUs;

    if (!report->hasDowntime ||
        vfmigDowntimeMsToUs(report->downtimeMs, &downtimeUs) < 0)
        return -1;
    return vfmigSteerDowntimeMet(downtimeUs, report->targetUs) ? 1 : 0;
}


uint64_t
vfmigMigrateDefaultSwitchoverMiBps(uint64_t ramBytes)
{
    /* (ram / 2) bytes per HOLD_MS ms, in MiB/s */
    uint64_t mibps = ramBytes / 2 / MIB * 1000 / VFMIG_CONTROLLER_HOLD_MS;

    return mibps ? mibps : 1;
}


/* ---- the migration thread ---- */

typedef struct _vfmigMigrateCall vfmigMigrateCall;
struct _vfmigMigrateCall {
    virDomainPtr dom;
    virConnectPtr dconn;
    virTypedParameterPtr params;
    int nparams;
    unsigned int flags;

    GMutex lock;
    GCond cond;
    bool done;
    virDomainPtr ddom;              /* the domain on the destination */
    char *error;                    /* libvirt's message when it failed */
};


static gpointer
vfmigMigrateThread(gpointer opaque)
{
    vfmigMigrateCall *call = opaque;
    virDomainPtr ddom;
    char *error = NULL;

    ddom = virDomainMigrate3(call->dom, call->dconn, call->params,
                             call->nparams, call->flags);
    /* libvirt's last error is this thread's */
    if (!ddom)
        error = g_strdup(virGetLastErrorMessage());

    g_mutex_lock(&call->lock);
    call->ddom = ddom;
    call->error = error;
    call->done = true;
    g_cond_signal(&call->cond);
    g_mutex_unlock(&call->lock);
    return NULL;
}


/* Waits until the call is done or @untilUs (monotonic) passes; true when
 * it is done. */
static bool
vfmigMigrateWait(vfmigMigrateCall *call,
                 gint64 untilUs)
{
    bool done;

    g_mutex_lock(&call->lock);
    while (!call->done) {
        if (!g_cond_wait_until(&call->cond, &call->lock, untilUs))
            break;
    }
    done = call->done;
    g_mutex_unlock(&call->lock);
    return done;
}


static char *
vfmigMigrateMs(uint64_t us)
{
    if (us == VFMIG_DOWNTIME_UNKNOWN)
        return g_strdup(_("unknown"));
    return g_strdup_printf(_("%1$" PRIu64 ".%2$03" PRIu64 " ms"),
                           us / 1000, us % 1000);
}


/* ---- setting up ---- */

static void
vfmigMigrateOverhead(const vfmigMigrateOptions *opts,
                     vfmigMigrateReport *r)
{
    const char *file = opts->stateFile ? opts->stateFile : VFMIG_DAEMON_STATE_FILE;
    g_autoptr(GArray) samples = NULL;
    int rc;

    if (vfmigDowntimeSettingsHas(&opts->downtime, VFMIG_DOWNTIME_PARAM_OVERHEAD)) {
        r->overheadUs = vfmigDowntimeSettingsUs(&opts->downtime,
                                                VFMIG_DOWNTIME_PARAM_OVERHEAD);
        r->overheadSource = VFMIG_MIGRATE_OVERHEAD_OPTION;
        return;
    }
    if ((rc = vfmigDaemonLoadOverhead(file, g_get_real_time() / G_USEC_PER_SEC,
                                      &samples, NULL, NULL)) < 0) {
        g_ptr_array_add(r->warnings,
                        g_strdup_printf(_("libvirt's overhead is taken as 0 ms: %1$s"),
                                        vfmigGetLastErrorMessage()));
        return;
    }
    if (rc == 0)
        return;
    r->overheadUs = vfmigControllerOverhead((const int64_t *) (void *) samples->data,
                                            samples->len);
    r->overheadSource = VFMIG_MIGRATE_OVERHEAD_LEARNED;
}


/* The switchover bandwidth to give libvirt, into @r; 0, or -1 with an
 * error. */
static int
vfmigMigrateSwitchoverBandwidth(virDomainPtr dom,
                                vfmigSteer *steer,
                                const vfmigMigrateOptions *opts,
                                vfmigMigrateReport *r)
{
    virDomainInfo info;
    const char *address;

    if (virDomainGetInfo(dom, &info) < 0) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot read the memory size of domain '%1$s': %2$s"),
                         r->domain, virGetLastErrorMessage());
        return -1;
    }
    r->ramBytes = (uint64_t) info.memory * 1024;

    if (opts->switchoverMiBps) {
        r->switchoverBw = VFMIG_MIGRATE_SWITCHOVER_BW_OPTION;
        r->switchoverMiBps = opts->switchoverMiBps;
        return 0;
    }

    /* the steer probed the devices (and warned of one it could not) */
    if ((address = vfmigSteerAllDirtyDevice(steer))) {
        r->switchoverBw = VFMIG_MIGRATE_SWITCHOVER_BW_AUTO;
        r->switchoverMiBps = vfmigMigrateDefaultSwitchoverMiBps(r->ramBytes);
        r->switchoverDevice = g_strdup(address);
    }
    return 0;
}


static int
vfmigMigrateParams(const vfmigMigrateOptions *opts,
                   const char *xml,
                   const vfmigMigrateReport *r,
                   virTypedParameterPtr *params,
                   int *nparams)
{
    int maxparams = 0;

    if (opts->migrateURI &&
        virTypedParamsAddString(params, nparams, &maxparams,
                                VIR_MIGRATE_PARAM_URI, opts->migrateURI) < 0)
        goto error;
    if (xml &&
        virTypedParamsAddString(params, nparams, &maxparams,
                                VIR_MIGRATE_PARAM_DEST_XML, xml) < 0)
        goto error;
    if (r->switchoverMiBps &&
        virTypedParamsAddULLong(params, nparams, &maxparams,
                                VIR_MIGRATE_PARAM_BANDWIDTH_AVAIL_SWITCHOVER,
                                r->switchoverMiBps) < 0)
        goto error;
    return 0;

 error:
    vfmigReportError(VFMIG_ERR_LIBVIRT,
                     _("cannot build the migration parameters: %1$s"),
                     virGetLastErrorMessage());
    return -1;
}


/* ---- steering ---- */

static void
vfmigMigrateAddPhase(vfmigMigrateReport *r,
                     vfmigControllerPhase phase,
                     uint64_t atMs)
{
    if (r->nphases > 0 && r->phases[r->nphases - 1].phase == phase)
        return;
    r->phases = g_renew(vfmigMigratePhase, r->phases, r->nphases + 1);
    r->phases[r->nphases].phase = phase;
    r->phases[r->nphases].atMs = atMs;
    r->nphases++;
}


/* One step of the steering loop, its phase and its progress line. */
static void
vfmigMigrateStep(vfmigSteer *steer,
                 const vfmigMigrateOptions *opts,
                 gint64 t0,
                 vfmigMigrateReport *r)
{
    vfmigSteerLoopEvent ev;

    if (vfmigSteerStep(steer, &ev) < 0 || !ev.stepped)
        return;
    vfmigMigrateAddPhase(r, ev.step.phase, (g_get_monotonic_time() - t0) / 1000);
    if (opts->progress)
        opts->progress(opts->opaque, &ev.step, ev.line);
}


static void
vfmigMigrateCollect(vfmigSteer *steer,
                    gint64 t0,
                    vfmigMigrateReport *r)
{
    vfmigController *ctl = vfmigSteerController(steer);
    const vfmigControllerStatus *sw = vfmigControllerSwitchStep(ctl);
    const vfmigControllerDevice *devs;
    size_t n;
    size_t i;

    r->overwrites = vfmigControllerOverwrites(ctl);
    r->steps = vfmigSteerLoopSteps(vfmigSteerGetLoop(steer));
    r->stepErrors = vfmigSteerLoopErrors(vfmigSteerGetLoop(steer));
    if (sw) {
        r->switched = true;
        r->switchAtMs = sw->timestampUs > (uint64_t) t0 ?
            (sw->timestampUs - t0) / 1000 : 0;
        r->switchLimitMs = sw->limitMs;
        r->predictedUs = sw->predictedUs;
        if (sw->evaluated) {
            r->switchDecision = sw->policy.decision;
            r->switchReason = sw->policy.reason;
            r->policyPredictedUs = sw->policy.predicted_us;
        }
    }
    devs = vfmigControllerDevices(ctl, &n);
    r->devices = g_new0(vfmigMigrateDevice, n ? n : 1);
    r->ndevices = n;
    for (i = 0; i < n; i++) {
        vfmigMigrateDevice *d = &r->devices[i];
        const char *address = vfmigSteerDeviceAddress(steer, i);

        d->name = g_strdup(address);
        d->known = devs[i].known;
        d->state = g_strdup(devs[i].state);
        d->initialBytes = devs[i].sample.initial_bytes;
        d->dirtyBytes = devs[i].sample.dirty_bytes;
        d->stopCopyBytes = devs[i].sample.stop_copy_bytes;
    }
}


/* libvirt's completed job into *@c: the destination's domain after a
 * migration, else the source's. */
static void
vfmigMigrateCompleted(vfmigSteer *steer,
                      virDomainPtr ddom,
                      vfmigMigrateReport *r,
                      vfmigSteerCompleted *c)
{
    vfmigSteerCompleted src;

    memset(c, 0, sizeof(*c));
    c->operation = -1;
    if (ddom) {
        virTypedParameterPtr params = NULL;
        int nparams = 0;
        int type;

        /* kept for others (virsh domjobinfo --completed) */
        if (virDomainGetJobStats(ddom, &type, &params, &nparams,
                                 VIR_DOMAIN_JOB_STATS_COMPLETED |
                                 VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED) == 0) {
            vfmigSteerParseCompleted(params, nparams, c);
            c->end = vfmigSteerJobEndFromType(type);
            virTypedParamsFree(params, nparams);
            if (c->end == VFMIG_STEER_JOB_COMPLETED && c->hasDowntime) {
                r->downtimeFromDestination = true;
                r->jobElapsedMs = c->elapsedMs;
                return;
            }
        } else {
            VFMIG_DEBUG("no completed job on the destination: %s",
                        virGetLastErrorMessage());
        }
    }
    memset(c, 0, sizeof(*c));
    c->operation = -1;
    if (vfmigSteerCompletedJob(steer, &src) > 0) {
        if (src.elapsedMs)
            r->jobElapsedMs = src.elapsedMs;
        if (vfmigSteerCompletedIsMigrationOut(&src))
            *c = src;
        else
            c->elapsedMs = src.elapsedMs;
    }
}


/* The report's result from the steering loop's verdict. */
static vfmigMigrateResult
vfmigMigrateResultOf(vfmigSteerEnd end,
                     vfmigMigrateResult asked)
{
    switch (end) {
    case VFMIG_STEER_END_MET:
    case VFMIG_STEER_END_MISSED:
    case VFMIG_STEER_END_UNMEASURED:
        return VFMIG_MIGRATE_MIGRATED;
    case VFMIG_STEER_END_ABORTED:
        return VFMIG_MIGRATE_ABORTED;
    case VFMIG_STEER_END_CANCELLED:
        /* ours (the time limit, the cancel flag); another client's
         * cancellation failed our call */
        return asked;
    case VFMIG_STEER_END_FAILED:
    case VFMIG_STEER_END_UNKNOWN:
    case VFMIG_STEER_END_LAST:
        break;
    }
    return VFMIG_MIGRATE_FAILED;
}


int
vfmigMigrate(virConnectPtr conn G_GNUC_UNUSED,
             virDomainPtr dom,
             const char *destURI,
             const vfmigMigrateOptions *opts,
             vfmigMigrateReport **report)
{
    g_autoptr(vfmigMigrateReport) r = vfmigMigrateReportNew();
    g_autoptr(vfmigSteer) steer = NULL;
    g_autofree char *xml = NULL;
    vfmigSteerOptions sopts = { 0 };
    vfmigSteerCompleted completed;
    vfmigSteerVerdict verdict;
    unsigned int flags;
    vfmigMigrateCall call = { 0 };
    virConnectPtr dconn = NULL;
    GThread *thread = NULL;
    unsigned int interval = opts->intervalMs ? opts->intervalMs :
                            VFMIG_MIGRATE_INTERVAL_MS_DEFAULT;
    bool jobSeen = false;
    bool abortAsked = false;
    vfmigMigrateResult wanted = VFMIG_MIGRATE_FAILED;
    gint64 t0;
    gint64 deadline = 0;
    size_t i;
    int rc;
    int ret = -1;

    *report = NULL;
    r->domain = g_strdup(virDomainGetName(dom));
    r->destURI = g_strdup(destURI);

    if (opts->xmlFile &&
        vfmigFileRead(_("destination XML file"), opts->xmlFile,
                      VFMIG_MIGRATE_XML_MAX, 0, &xml, NULL) < 0)
        return -1;

    vfmigMigrateOverhead(opts, r);

    sopts.paths = opts->paths;
    sopts.downtime = opts->downtime;
    vfmigDowntimeSettingsSetUs(&sopts.downtime, VFMIG_DOWNTIME_PARAM_OVERHEAD,
                               r->overheadUs);
    sopts.lockDir = opts->lockDir;
    if ((rc = vfmigSteerNew(dom, &sopts, &steer)) < 0)
        return -1;
    if (rc == 0) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("domain '%1$s' has no vfmig migration policy in its <metadata>: run 'virt-vfmig domain-prepare %2$s' first, or migrate it with plain 'virsh migrate'"),
                         r->domain, r->domain);
        return -1;
    }
    for (i = 0; i < vfmigSteerWarnings(steer)->len; i++)
        g_ptr_array_add(r->warnings,
                        g_strdup(vfmigSteerWarnings(steer)->pdata[i]));
    r->targetUs = vfmigSteerTargetUs(steer);
    r->onFailure = vfmigSteerOnFailure(steer);

    if (vfmigMigrateSwitchoverBandwidth(dom, steer, opts, r) < 0)
        return -1;

    /* the pre-flight: a floor that alone misses the target under 'abort'
     * starts nothing */
    if ((rc = vfmigControllerPreflight(vfmigSteerController(steer),
                                       &r->floorUs)) < 0)
        return -1;
    r->hasFloor = true;
    r->floorMisses = rc == 0;
    r->allDirty = *vfmigControllerPreflightAllDirty(vfmigSteerController(steer));
    if (r->floorMisses &&
        r->onFailure == VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT) {
        g_autofree char *floor = vfmigMigrateMs(r->floorUs);

        r->result = VFMIG_MIGRATE_ABORTED;
        r->error = g_strdup_printf(_("not started: the pre-flight's floor of %1$s (the devices' stop and resume latencies and libvirt's overhead) misses the target of %2$" PRIu64 " ms, and the policy says abort"),
                                   floor, r->targetUs / 1000);
        *report = g_steal_pointer(&r);
        return 0;
    }

    if (!(dconn = virConnectOpen(destURI))) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot connect to the destination '%1$s': %2$s"),
                         destURI, virGetLastErrorMessage());
        return -1;
    }

    g_mutex_init(&call.lock);
    g_cond_init(&call.cond);
    call.dom = dom;
    call.dconn = dconn;
    call.flags = VIR_MIGRATE_LIVE;
    if (opts->persistent)
        call.flags |= VIR_MIGRATE_PERSIST_DEST;
    if (opts->undefineSource)
        call.flags |= VIR_MIGRATE_UNDEFINE_SOURCE;
    if (vfmigMigrateParams(opts, xml, r, &call.params, &call.nparams) < 0)
        goto cleanup;

    VFMIG_DEBUG("migrating %s to %s: flags 0x%x, target %" PRIu64 " us, "
                "overhead %" PRIu64 " us (%s), switchover bandwidth %" PRIu64
                " MiB/s (%s)", r->domain, destURI, call.flags, r->targetUs,
                r->overheadUs,
                vfmigMigrateOverheadSourceToString(r->overheadSource),
                r->switchoverMiBps,
                vfmigMigrateSwitchoverBwToString(r->switchoverBw));

    /* QEMU must not switch by itself before the first step */
    if (vfmigControllerArm(vfmigSteerController(steer)) < 0)
        goto cleanup;

    t0 = g_get_monotonic_time();
    if (opts->timeoutS)
        deadline = t0 + (gint64) opts->timeoutS * G_USEC_PER_SEC;
    thread = g_thread_new("vfmig-migrate", vfmigMigrateThread, &call);

    while (!vfmigMigrateWait(&call, g_get_monotonic_time() +
                             (gint64) interval * 1000)) {
        gint64 now = g_get_monotonic_time();
        vfmigMigrateResult why = VFMIG_MIGRATE_FAILED;

        if (!jobSeen) {
            /* the controller's first step must see the job: before it,
             * a step would take the job for ended */
            if (vfmigSteerJobOperation(NULL, dom) == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT)
                jobSeen = true;
        }
        if (jobSeen)
            vfmigMigrateStep(steer, opts, t0, r);

        if (opts->cancel && g_atomic_int_get(opts->cancel))
            why = VFMIG_MIGRATE_CANCELLED;
        else if (deadline && now >= deadline)
            why = VFMIG_MIGRATE_TIMEOUT;
        if (why != VFMIG_MIGRATE_FAILED && !abortAsked) {
            /* until libvirt takes it: the job may not exist yet */
            if (virDomainAbortJob(dom) == 0) {
                abortAsked = true;
                wanted = why;
                VFMIG_DEBUG("aborted the migration of %s (%s)", r->domain,
                            vfmigMigrateResultToString(why));
            } else {
                VFMIG_DEBUG("cannot abort the migration of %s yet: %s",
                            r->domain, virGetLastErrorMessage());
            }
        }
    }
    g_thread_join(thread);
    thread = NULL;
    r->totalMs = (g_get_monotonic_time() - t0) / 1000;

    if (call.ddom) {
        /* the domain may be gone from here: no step can read it now */
        vfmigSteerLoopSetEnded(vfmigSteerGetLoop(steer));
        vfmigMigrateAddPhase(r, VFMIG_CONTROLLER_ENDED, r->totalMs);
    } else if (jobSeen) {
        /* the step that sees the job over */
        vfmigMigrateStep(steer, opts, t0, r);
    } else if (vfmigSteerRelease(steer) < 0) {
        /* no job: the hold armed for it goes */
        VFMIG_DEBUG("%s", vfmigGetLastErrorMessage());
    }
    vfmigMigrateCollect(steer, t0, r);
    if (r->stepErrors > 0)
        g_ptr_array_add(r->warnings,
                        g_strdup_printf(_("%1$u steering step(s) failed; the first: %2$s"),
                                        r->stepErrors,
                                        vfmigSteerLoopFirstError(vfmigSteerGetLoop(steer))));

    vfmigMigrateCompleted(steer, call.ddom, r, &completed);
    flags = call.ddom ? VFMIG_STEER_JUDGE_MIGRATED : VFMIG_STEER_JUDGE_NOT_MIGRATED;
    if (abortAsked)
        flags |= VFMIG_STEER_JUDGE_CANCEL_ASKED;
    vfmigSteerLoopJudge(vfmigSteerGetLoop(steer), &completed, flags, &verdict);
    r->result = vfmigMigrateResultOf(verdict.end, abortAsked ? wanted :
                                     VFMIG_MIGRATE_FAILED);
    if (verdict.met >= 0) {
        r->hasDowntime = true;
        r->downtimeMs = verdict.downtimeUs / 1000;
    }
    /* virDomainMigrate3 returns once the job is over: no limit is left to
     * hand back */
    if (!call.ddom)
        r->error = g_strdup(call.error ? call.error : _("unknown error"));

    *report = g_steal_pointer(&r);
    ret = 0;

 cleanup:
    if (call.ddom)
        virDomainFree(call.ddom);
    g_free(call.error);
    virTypedParamsFree(call.params, call.nparams);
    g_mutex_clear(&call.lock);
    g_cond_clear(&call.cond);
    virConnectClose(dconn);
    return ret;
}


/* ---- the report's formats ---- */

static void
vfmigMigrateJSONNum(vfmigJSONWriter *w,
                    const char *key,
                    uint64_t value)
{
    if (value == VFMIG_DOWNTIME_UNKNOWN)
        vfmigJSONString(w, key, NULL);
    else
        vfmigJSONUInt(w, key, value);
}


char *
vfmigMigrateReportFormatJSON(const vfmigMigrateReport *r)
{
    g_autoptr(vfmigJSONWriter) w = vfmigJSONWriterNew();
    int met = vfmigMigrateReportMet(r);
    size_t i;

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "domain", r->domain);
    vfmigJSONString(w, "destination", r->destURI);
    vfmigJSONString(w, "result", vfmigMigrateResultToString(r->result));
    vfmigJSONString(w, "error", r->error);
    vfmigJSONUInt(w, "target-ms", r->targetUs / 1000);
    vfmigJSONString(w, "on-failure",
                    vfmigDomainPolicyOnFailureTypeToString(r->onFailure));
    if (r->hasDowntime)
        vfmigJSONUInt(w, "downtime-ms", r->downtimeMs);
    else
        vfmigJSONString(w, "downtime-ms", NULL);
    vfmigJSONString(w, "downtime-from", !r->hasDowntime ? NULL :
                    r->downtimeFromDestination ? "destination" : "source");
    vfmigMigrateJSONNum(w, "predicted-ms", r->predictedUs == VFMIG_DOWNTIME_UNKNOWN ?
                        VFMIG_DOWNTIME_UNKNOWN : r->predictedUs / 1000);
    vfmigMigrateJSONNum(w, "predicted-us", r->predictedUs);
    vfmigMigrateJSONNum(w, "policy-predicted-us", r->policyPredictedUs);
    if (met < 0)
        vfmigJSONString(w, "met", NULL);
    else
        vfmigJSONBool(w, "met", met);
    vfmigJSONUInt(w, "total-ms", r->totalMs);
    if (r->jobElapsedMs)
        vfmigJSONUInt(w, "job-elapsed-ms", r->jobElapsedMs);
    else
        vfmigJSONString(w, "job-elapsed-ms", NULL);

    if (r->hasFloor) {
        vfmigJSONBeginObject(w, "preflight");
        vfmigJSONUInt(w, "floor-us", r->floorUs);
        vfmigJSONBool(w, "misses-target", r->floorMisses);
        if (r->allDirty.known) {
            vfmigJSONBeginObject(w, "all-dirty");
            vfmigJSONUInt(w, "ram-bytes", r->allDirty.ramBytes);
            vfmigJSONUInt(w, "link-bps", r->allDirty.linkBps);
            vfmigJSONString(w, "link", vfmigControllerLinkToString(r->allDirty.link));
            vfmigMigrateJSONNum(w, "least-us", r->allDirty.leastUs);
            vfmigJSONBool(w, "misses-target", r->allDirty.misses);
            vfmigJSONEndObject(w);
        } else {
            vfmigJSONString(w, "all-dirty", NULL);
        }
        vfmigJSONEndObject(w);
    } else {
        vfmigJSONString(w, "preflight", NULL);
    }

    vfmigJSONBeginObject(w, "overhead");
    vfmigJSONUInt(w, "us", r->overheadUs);
    vfmigJSONString(w, "source",
                    vfmigMigrateOverheadSourceToString(r->overheadSource));
    vfmigJSONEndObject(w);

    vfmigJSONBeginObject(w, "switchover-bandwidth");
    if (r->switchoverMiBps)
        vfmigJSONUInt(w, "mibps", r->switchoverMiBps);
    else
        vfmigJSONString(w, "mibps", NULL);
    vfmigJSONString(w, "source",
                    vfmigMigrateSwitchoverBwToString(r->switchoverBw));
    vfmigJSONString(w, "device", r->switchoverDevice);
    vfmigJSONUInt(w, "ram-bytes", r->ramBytes);
    vfmigJSONEndObject(w);

    if (r->switched) {
        vfmigJSONBeginObject(w, "switch");
        vfmigJSONUInt(w, "at-ms", r->switchAtMs);
        vfmigJSONUInt(w, "limit-ms", r->switchLimitMs);
        vfmigJSONString(w, "decision",
                        vfmigDowntimeDecisionToString(r->switchDecision));
        vfmigJSONString(w, "reason", vfmigDowntimeReasonToString(r->switchReason));
        vfmigJSONEndObject(w);
    } else {
        vfmigJSONString(w, "switch", NULL);
    }

    vfmigJSONUInt(w, "steps", r->steps);
    vfmigJSONUInt(w, "step-errors", r->stepErrors);
    vfmigJSONUInt(w, "overwrites", r->overwrites);

    vfmigJSONBeginArray(w, "phases");
    for (i = 0; i < r->nphases; i++) {
        vfmigJSONBeginObject(w, NULL);
        vfmigJSONString(w, "phase", vfmigControllerPhaseToString(r->phases[i].phase));
        vfmigJSONUInt(w, "at-ms", r->phases[i].atMs);
        vfmigJSONEndObject(w);
    }
    vfmigJSONEndArray(w);

    vfmigJSONBeginArray(w, "devices");
    for (i = 0; i < r->ndevices; i++) {
        const vfmigMigrateDevice *d = &r->devices[i];

        vfmigJSONBeginObject(w, NULL);
        vfmigJSONString(w, "address", d->name);
        vfmigJSONBool(w, "estimates", d->known);
        vfmigJSONString(w, "state", d->state);
        vfmigJSONUInt(w, "initial-bytes", d->initialBytes);
        vfmigJSONUInt(w, "dirty-bytes", d->dirtyBytes);
        vfmigMigrateJSONNum(w, "stop-copy-bytes", d->stopCopyBytes);
        vfmigJSONEndObject(w);
    }
    vfmigJSONEndArray(w);

    vfmigJSONBeginArray(w, "warnings");
    for (i = 0; r->warnings && i < r->warnings->len; i++)
        vfmigJSONString(w, NULL, g_ptr_array_index(r->warnings, i));
    vfmigJSONEndArray(w);
    vfmigJSONEndObject(w);
    return vfmigJSONWriterFinish(w);
}


static void
vfmigMigrateField(GString *out,
                  const char *label,
                  const char *value)
{
    /* labels are translated: pad by characters, not bytes */
    long pad = 22 - (long) g_utf8_strlen(label, -1);

    g_string_append_printf(out, "%s:%*s%s\n", label, (int) MAX(pad, 1), "",
                           value);
}


static void
vfmigMigrateFieldTake(GString *out,
                      const char *label,
                      char *value)
{
    vfmigMigrateField(out, label, value);
    g_free(value);
}


char *
vfmigMigrateReportFormatText(const vfmigMigrateReport *r)
{
    GString *out = g_string_new(NULL);
    int met = vfmigMigrateReportMet(r);
    size_t i;

    vfmigMigrateField(out, _("Domain"), r->domain);
    vfmigMigrateField(out, _("Destination"), r->destURI);
    vfmigMigrateField(out, _("Result"), vfmigMigrateResultToString(r->result));
    if (r->error)
        vfmigMigrateField(out, _("Error"), r->error);
    vfmigMigrateFieldTake(out, _("Target"),
                          g_strdup_printf(_("%1$" PRIu64 " ms (on failure: %2$s)"),
                                          r->targetUs / 1000,
                                          vfmigDomainPolicyOnFailureTypeToString(r->onFailure)));
    if (r->hasDowntime)
        vfmigMigrateFieldTake(out, _("Downtime"),
                              g_strdup_printf(_("%1$" PRIu64 " ms (libvirt, the %2$s's completed job)"),
                                              r->downtimeMs,
                                              r->downtimeFromDestination ?
                                              _("destination") : _("source")));
    else
        vfmigMigrateField(out, _("Downtime"), _("not reported by libvirt"));
    if (r->predictedUs != VFMIG_DOWNTIME_UNKNOWN) {
        g_autofree char *pred = vfmigMigrateMs(r->predictedUs);
        g_autofree char *pol = vfmigMigrateMs(r->policyPredictedUs);
        g_autofree char *ovh = vfmigMigrateMs(r->overheadUs);

        vfmigMigrateFieldTake(out, _("Predicted"),
                              g_strdup_printf(_("%1$s at the switch (%2$s and libvirt's overhead %3$s)"),
                                              pred, pol, ovh));
    } else {
        vfmigMigrateField(out, _("Predicted"),
                          r->switched ? _("unknown") :
                          _("none: the controller never released the switchover"));
    }
    if (met >= 0)
        vfmigMigrateField(out, _("Target met"), met ? _("yes") : _("no"));
    if (r->hasFloor) {
        g_autofree char *floor = vfmigMigrateMs(r->floorUs);
        g_autofree char *allDirty = vfmigControllerAllDirtyFormat(&r->allDirty,
                                                                  r->targetUs);
        g_autofree char *verdict = g_strdup_printf(r->floorMisses ?
                                                   _("floor %1$s: misses the target") :
                                                   _("floor %1$s: leaves room for the target"),
                                                   floor);

        vfmigMigrateFieldTake(out, _("Pre-flight"),
                              allDirty ?
                              g_strdup_printf(_("%1$s; %2$s"), verdict, allDirty) :
                              g_steal_pointer(&verdict));
    }
    vfmigMigrateFieldTake(out, _("Total time"),
                          g_strdup_printf(_("%1$" PRIu64 " ms"), r->totalMs));
    vfmigMigrateFieldTake(out, _("Overhead"),
                          g_strdup_printf(_("%1$" PRIu64 " ms (%2$s)"),
                                          r->overheadUs / 1000,
                                          vfmigMigrateOverheadSourceToString(r->overheadSource)));
    if (r->switchoverBw == VFMIG_MIGRATE_SWITCHOVER_BW_AUTO)
        vfmigMigrateFieldTake(out, _("Switchover bandwidth"),
                              g_strdup_printf(_("%1$" PRIu64 " MiB/s: %2$s has no device dirty tracking, so QEMU counts all guest RAM (%3$" PRIu64 " MiB) dirty; half of it per ms of held limit, so that QEMU switches only when the controller releases it"),
                                              r->switchoverMiBps, r->switchoverDevice,
                                              (uint64_t) (r->ramBytes / MIB)));
    else if (r->switchoverBw == VFMIG_MIGRATE_SWITCHOVER_BW_OPTION)
        vfmigMigrateFieldTake(out, _("Switchover bandwidth"),
                              g_strdup_printf(_("%1$" PRIu64 " MiB/s (option)"),
                                              r->switchoverMiBps));
    else
        vfmigMigrateField(out, _("Switchover bandwidth"), _("not given (QEMU measures it)"));
    if (r->switched)
        vfmigMigrateFieldTake(out, _("Switch"),
                              g_strdup_printf(_("after %1$" PRIu64 " ms: limit %2$" PRIu64 " ms (%3$s, %4$s)"),
                                              r->switchAtMs, r->switchLimitMs,
                                              vfmigDowntimeDecisionToString(r->switchDecision),
                                              vfmigDowntimeReasonToString(r->switchReason)));
    vfmigMigrateFieldTake(out, _("Steps"),
                          g_strdup_printf(_("%1$u (%2$u failed); limit overwritten %3$u time(s)"),
                                          r->steps, r->stepErrors, r->overwrites));
    if (r->nphases) {
        GString *ph = g_string_new(NULL);

        for (i = 0; i < r->nphases; i++)
            g_string_append_printf(ph, "%s%s %" PRIu64 " ms", i ? ", " : "",
                                   vfmigControllerPhaseToString(r->phases[i].phase),
                                   r->phases[i].atMs);
        vfmigMigrateFieldTake(out, _("Phases"), g_string_free(ph, FALSE));
    }
    for (i = 0; i < r->ndevices; i++) {
        const vfmigMigrateDevice *d = &r->devices[i];

        if (!d->known)
            vfmigMigrateFieldTake(out, _("Device"),
                                  g_strdup_printf(_("%1$s: no estimates"), d->name));
        else
            vfmigMigrateFieldTake(out, _("Device"),
                                  g_strdup_printf(_("%1$s: last seen %2$s, initial %3$" PRIu64 " B, dirty %4$" PRIu64 " B"),
                                                  d->name, d->state ? d->state : "?",
                                                  d->initialBytes, d->dirtyBytes));
    }
    for (i = 0; r->warnings && i < r->warnings->len; i++)
        vfmigMigrateField(out, _("Warning"), g_ptr_array_index(r->warnings, i));
    return g_string_free(out, FALSE);
}
