/*
 * vfmigcontroller.c: steering one outgoing migration's switchover
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigcontroller.h"

#include <inttypes.h>

#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmignodedevcompare.h"

VFMIG_ENUM_IMPL(vfmigControllerPhase, VFMIG_CONTROLLER_PHASE_LAST,
                [VFMIG_CONTROLLER_WAITING] = "waiting",
                [VFMIG_CONTROLLER_HOLDING] = "holding",
                [VFMIG_CONTROLLER_RELEASED] = "released",
                [VFMIG_CONTROLLER_ABORTED] = "aborted",
                [VFMIG_CONTROLLER_ENDED] = "ended",
                [VFMIG_CONTROLLER_SWITCHING] = "switching",
);

VFMIG_ENUM_IMPL(vfmigControllerHold, VFMIG_CONTROLLER_HOLD_LAST,
                [VFMIG_CONTROLLER_HOLD_NONE] = "none",
                [VFMIG_CONTROLLER_HOLD_DEVICES] = "devices",
                [VFMIG_CONTROLLER_HOLD_LIMIT] = "limit-only",
);

VFMIG_ENUM_IMPL(vfmigControllerLink, VFMIG_CONTROLLER_LINK_LAST,
                [VFMIG_CONTROLLER_LINK_MEASURED] = "measured",
                [VFMIG_CONTROLLER_LINK_GIVEN] = "given",
                [VFMIG_CONTROLLER_LINK_ASSUMED] = "assumed",
);

VFMIG_ENUM_IMPL(vfmigControllerWait, VFMIG_CONTROLLER_WAIT_LAST,
                [VFMIG_CONTROLLER_WAIT_NONE] = "none",
                [VFMIG_CONTROLLER_WAIT_LOAD] = "destination-load",
);

struct _vfmigController {
    const vfmigControllerOps *ops;
    void *opaque;
    vfmigControllerConfig config;
    vfmigDowntimePolicy policy;
    vfmigDowntimeState state;

    char **names;
    size_t ndevices;
    vfmigControllerDevice *devices;
    vfmigDowntimeDeviceSample *samples;

    uint64_t setMs;             /* the limit the controller set last; 0:
                                 * it has not set one */
    uint64_t fallbackMs;        /* what was there before, or another
                                 * client's latest wish */
    unsigned int overwrites;

    bool preflightDone;
    vfmigControllerAllDirty allDirty;   /* the pre-flight's */
    uint64_t pausedSinceUs;     /* the first step that saw the guest
                                 * paused; 0: not paused */
    uint64_t switchPausedSinceUs;   /* switching: the first step that saw
                                     * the guest paused; 0: none */
    bool pausedLate;            /* that pause outlasted a switchover */
    bool devicesHeld;           /* the devices' hold is on (a lease) */
    uint64_t releasedMs;        /* the limit the last release set */
    uint64_t bindsUntilUs;      /* a converged release binds the limit
                                 * until then; 0: it does not */
    bool holdWarned;            /* a device could not hold: said once */

    /* ramAllDirty: QEMU's passes over guest RAM, timed */
    uint64_t passIteration;     /* the iteration seen last; 0: none */
    uint64_t passStartUs;       /* when it was seen to begin; 0: not seen
                                 * (it began before the first step) */
    uint64_t passUs;            /* one whole pass, the last timed; 0: none */

    bool initialSeen;           /* a device had initial data to send */
    bool initialDone;           /* every device's initial data went out */
    uint64_t initialDoneUs;     /* since then */

    vfmigControllerPhase phase;
    bool stepped;
    vfmigControllerStatus last;
    bool evaluatedOnce;
    vfmigControllerStatus lastEvaluated;    /* the last step evaluated */
    bool switched;
    vfmigControllerStatus switchStep;
};


static void
vfmigControllerDevicesClear(vfmigController *ctl)
{
    size_t i;

    for (i = 0; i < ctl->ndevices; i++)
        g_clear_pointer(&ctl->devices[i].state, g_free);
}


void
vfmigControllerFree(vfmigController *ctl)
{
    if (!ctl)
        return;
    vfmigControllerDevicesClear(ctl);
    g_strfreev(ctl->names);
    g_free(ctl->devices);
    g_free(ctl->samples);
    g_free(ctl);
}


/* A time of the controller's settings, us. */
static uint64_t
vfmigControllerUs(const vfmigControllerConfig *config,
                  vfmigDowntimeParam param)
{
    return vfmigDowntimeSettingsUs(&config->downtime, param);
}


vfmigController *
vfmigControllerNew(const vfmigControllerOps *ops,
                   void *opaque,
                   const vfmigControllerConfig *config,
                   const char *const *names,
                   size_t ndevices)
{
    g_autoptr(vfmigController) ctl = g_new0(vfmigController, 1);
    uint64_t targetUs = vfmigControllerUs(config, VFMIG_DOWNTIME_PARAM_TARGET);
    uint64_t overheadUs = vfmigControllerUs(config, VFMIG_DOWNTIME_PARAM_OVERHEAD);
    size_t i;

    if (vfmigControllerUs(config, VFMIG_DOWNTIME_PARAM_TARGET) == 0) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("the downtime target of a migration must be more than 0"));
        return NULL;
    }

    ctl->ops = ops;
    ctl->opaque = opaque;
    ctl->config = *config;

    /* The policy meets the target less libvirt's overhead; with nothing
     * left of it, the latencies alone exceed the target and the policy
     * gives up or switches anyway, as the domain says. */
    ctl->policy.target_us = targetUs > overheadUs ? targetUs - overheadUs : 1;
    ctl->policy.deadline_us = vfmigControllerUs(config, VFMIG_DOWNTIME_PARAM_DEADLINE);
    ctl->policy.on_failure = vfmigDowntimeSettingsPolicyOnFailure(&config->downtime);
    if (vfmigDowntimePolicyValidate(&ctl->policy) < 0)
        return NULL;
    vfmigDowntimeStateInit(&ctl->state);

    ctl->ndevices = ndevices;
    ctl->names = g_new0(char *, ndevices + 1);
    for (i = 0; i < ndevices; i++)
        ctl->names[i] = g_strdup(names[i]);
    ctl->devices = g_new0(vfmigControllerDevice, ndevices ? ndevices : 1);
    ctl->samples = g_new0(vfmigDowntimeDeviceSample, ndevices ? ndevices : 1);
    ctl->phase = VFMIG_CONTROLLER_WAITING;

    VFMIG_DEBUG("controller for %zu device(s): target %" PRIu64 " us, "
                "overhead %" PRIu64 " us (policy target %" PRIu64 " us), "
                "load wait %" PRIu64 " us, on failure %s, deadline %" PRIu64 " us",
                ndevices, targetUs, overheadUs, ctl->policy.target_us,
                vfmigControllerUs(config, VFMIG_DOWNTIME_PARAM_LOAD),
                vfmigDomainPolicyOnFailureTypeToString(vfmigDowntimeSettingsOnFailure(&config->downtime)),
                ctl->policy.deadline_us);
    return g_steal_pointer(&ctl);
}


/* Reads the limit back; another client's value becomes the fallback. */
static int
vfmigControllerCheckLimit(vfmigController *ctl,
                          vfmigControllerStatus *step)
{
    uint64_t cur;

    if (ctl->ops->getMaxDowntime(ctl->opaque, &cur) < 0)
        return -1;
    step->limitMs = cur;
    if (ctl->setMs == 0) {
        ctl->fallbackMs = cur;
        if (!ctl->stepped && cur == VFMIG_CONTROLLER_HOLD_MS &&
            ctl->config.adoptFallbackMs) {
            ctl->fallbackMs = ctl->config.adoptFallbackMs;
            VFMIG_DEBUG("the limit is held at %" PRIu64 " ms by an earlier "
                        "controller: falling back to %" PRIu64 " ms",
                        cur, ctl->fallbackMs);
        }
    } else if (cur != ctl->setMs) {
        step->overwritten = true;
        step->overwrittenMs = cur;
        ctl->overwrites++;
        /* Nobody else asks QEMU for the hold's 1 ms: it is this
         * controller's hold come back.  libvirt fetches the parameters
         * it restores after a failed migration at its Perform, when the
         * controller holds already, and puts them back while the job
         * ends (the destination's libvirtd killed: the source QEMU was
         * left at 1 ms); the limit before the job goes back, not that. */
        if (cur != VFMIG_CONTROLLER_HOLD_MS)
            ctl->fallbackMs = cur;
        VFMIG_DEBUG("downtime limit overwritten by another client: "
                    "%" PRIu64 " ms, the controller had set %" PRIu64 " ms",
                    cur, ctl->setMs);
    }
    return 0;
}


static int
vfmigControllerSetLimit(vfmigController *ctl,
                        vfmigControllerStatus *step,
                        uint64_t ms)
{
    if (ms < VFMIG_DOWNTIME_QEMU_LIMIT_MIN_MS)
        ms = VFMIG_DOWNTIME_QEMU_LIMIT_MIN_MS;
    if (ms > VFMIG_DOWNTIME_QEMU_LIMIT_MAX_MS)
        ms = VFMIG_DOWNTIME_QEMU_LIMIT_MAX_MS;
    if (step->limitMs == ms && ctl->setMs == ms)
        return 0;
    if (ctl->ops->announceLimit && ms != ctl->fallbackMs &&
        ctl->fallbackMs != 0 &&
        ctl->ops->announceLimit(ctl->opaque, ms, ctl->fallbackMs) < 0) {
        VFMIG_DEBUG("the limit of %" PRIu64 " ms goes unannounced: %s",
                    ms, vfmigGetLastErrorMessage());
        vfmigResetLastError();
    }
    if (ctl->ops->setMaxDowntime(ctl->opaque, ms) < 0)
        return -1;
    VFMIG_DEBUG("downtime limit %" PRIu64 " ms -> %" PRIu64 " ms",
                step->limitMs, ms);
    ctl->setMs = ms;
    step->limitMs = ms;
    step->limitChanged = true;
    return 0;
}


/* Holds QEMU back: the limit at its lowest, and each device's hold (a
 * lease renewed at every step), which binds QEMU whatever the limit. */
static int
vfmigControllerHoldBack(vfmigController *ctl,
                        vfmigControllerStatus *step)
{
    int rc = 0;

    if (vfmigControllerSetLimit(ctl, step, VFMIG_CONTROLLER_HOLD_MS) < 0)
        return -1;
    if (ctl->ops->holdDevices &&
        (rc = ctl->ops->holdDevices(ctl->opaque,
                                    VFMIG_CONTROLLER_HOLD_LEASE_MS)) < 0)
        return -1;
    if (rc == 1) {
        if (!ctl->devicesHeld)
            VFMIG_DEBUG("the devices hold the switchover (lease %u ms)",
                        VFMIG_CONTROLLER_HOLD_LEASE_MS);
        ctl->devicesHeld = true;
        step->hold = VFMIG_CONTROLLER_HOLD_DEVICES;
        return 0;
    }
    if (!ctl->holdWarned)
        VFMIG_DEBUG("a device cannot hold the switchover: the limit alone "
                    "holds QEMU, which switches by itself when what is "
                    "left fits in bandwidth x %u ms",
                    (unsigned int) VFMIG_CONTROLLER_HOLD_MS);
    ctl->holdWarned = true;
    step->hold = VFMIG_CONTROLLER_HOLD_LIMIT;
    return 0;
}


/*
 * All guest RAM dirty: the least downtime, all of it over the link, from
 * the job's RAM and measured bandwidth where it reports them (@job may be
 * NULL: before the job), else the config's, else the link assumed.
 */
static void
vfmigControllerPreflightRAM(vfmigController *ctl,
                            const vfmigControllerJob *job,
                            uint64_t floorUs)
{
    vfmigControllerAllDirty *ad = &ctl->allDirty;
    uint64_t targetUs = vfmigControllerUs(&ctl->config, VFMIG_DOWNTIME_PARAM_TARGET);

    memset(ad, 0, sizeof(*ad));
    if (!ctl->config.ramAllDirty)
        return;
    ad->ramBytes = job && job->hasRam && job->ramTotal ? job->ramTotal :
        ctl->config.ramBytes;
    if (job && job->bandwidth) {
        ad->linkBps = job->bandwidth;
        ad->link = VFMIG_CONTROLLER_LINK_MEASURED;
    } else if (ctl->config.linkBps) {
        ad->linkBps = ctl->config.linkBps;
        ad->link = VFMIG_CONTROLLER_LINK_GIVEN;
    } else {
        ad->linkBps = VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED;
        ad->link = VFMIG_CONTROLLER_LINK_ASSUMED;
    }
    if (ad->ramBytes == 0) {
        VFMIG_DEBUG("pre-flight: all RAM dirty, its size unknown");
        return;
    }
    ad->known = true;
    ad->leastUs = vfmigNodeDevAllDirtyLeastUs(ad->ramBytes, ad->linkBps);
    ad->misses = ad->leastUs > targetUs || floorUs > targetUs - ad->leastUs;
    VFMIG_DEBUG("pre-flight: all RAM dirty: %" PRIu64 " B at %" PRIu64
                " B/s (%s) take at least %" PRIu64 " us at the switch, "
                "with the floor %s the target of %" PRIu64 " us",
                ad->ramBytes, ad->linkBps,
                vfmigControllerLinkToString(ad->link), ad->leastUs,
                ad->misses ? "missing" : "within", targetUs);
}


/* The pre-flight with the job as the step read it (NULL: before it). */
static int
vfmigControllerPreflightJob(vfmigController *ctl,
                            const vfmigControllerJob *job,
                            uint64_t *floorUs)
{
    uint64_t stopUs;
    uint64_t resumeUs;
    uint64_t latUs;
    size_t i;

    if (ctl->ndevices > 0 &&
        ctl->ops->getDevices(ctl->opaque, ctl->devices, ctl->ndevices) < 0)
        return -1;
    for (i = 0; i < ctl->ndevices; i++)
        ctl->samples[i] = ctl->devices[i].sample;
    latUs = vfmigDowntimeLatencies(&ctl->policy, ctl->samples, ctl->ndevices,
                                   &stopUs, &resumeUs);
    *floorUs = latUs + vfmigControllerUs(&ctl->config, VFMIG_DOWNTIME_PARAM_OVERHEAD);
    ctl->preflightDone = true;
    VFMIG_DEBUG("pre-flight: floor %" PRIu64 " us (devices stop %" PRIu64
                " us, resume %" PRIu64 " us, libvirt overhead %" PRIu64
                " us) against a target of %" PRIu64 " us",
                *floorUs, stopUs, resumeUs, vfmigControllerUs(&ctl->config, VFMIG_DOWNTIME_PARAM_OVERHEAD),
                vfmigControllerUs(&ctl->config, VFMIG_DOWNTIME_PARAM_TARGET));
    vfmigControllerPreflightRAM(ctl, job, *floorUs);
    /* as the policy judges it: less than QEMU's smallest limit left */
    return *floorUs + VFMIG_DOWNTIME_QEMU_LIMIT_MIN_MS * 1000 <=
        vfmigControllerUs(&ctl->config, VFMIG_DOWNTIME_PARAM_TARGET) ? 1 : 0;
}


int
vfmigControllerPreflight(vfmigController *ctl,
                         uint64_t *floorUs)
{
    return vfmigControllerPreflightJob(ctl, NULL, floorUs);
}


const vfmigControllerAllDirty *
vfmigControllerPreflightAllDirty(const vfmigController *ctl)
{
    return ctl->preflightDone ? &ctl->allDirty : NULL;
}


char *
vfmigControllerAllDirtyFormat(const vfmigControllerAllDirty *allDirty,
                              uint64_t targetUs)
{
    g_autofree char *ram = NULL;
    g_autofree char *least = NULL;
    g_autofree char *link = NULL;
    const char *source = NULL;

    if (!allDirty || !allDirty->known || !allDirty->misses)
        return NULL;
    ram = vfmigNodeDevAllDirtyFormatRAM(allDirty->ramBytes);
    least = vfmigNodeDevAllDirtyFormatTime(allDirty->leastUs);
    link = vfmigNodeDevAllDirtyFormatLink(allDirty->linkBps);
    switch (allDirty->link) {
    case VFMIG_CONTROLLER_LINK_MEASURED:
        source = _("the bandwidth libvirt measured");
        break;
    case VFMIG_CONTROLLER_LINK_GIVEN:
        source = _("the link speed given");
        break;
    case VFMIG_CONTROLLER_LINK_ASSUMED:
    case VFMIG_CONTROLLER_LINK_LAST:
        source = _("the link speed assumed");
        break;
    }
    return g_strdup_printf(_("all guest RAM is dirty at every pass (a VF without DMA dirty tracking): the switch-over copies all %1$s of it, at least %2$s at %3$s (%4$s) on top of the floor, so the downtime cannot meet the target of %5$" PRIu64 " ms"),
                           ram, least, link, source, targetUs / 1000);
}


int
vfmigControllerArm(vfmigController *ctl)
{
    int rc;

    if (!ctl->ops->holdDevices)
        return 0;
    if ((rc = ctl->ops->holdDevices(ctl->opaque,
                                    VFMIG_CONTROLLER_HOLD_LEASE_MS)) < 0)
        return -1;
    ctl->devicesHeld = rc == 1;
    VFMIG_DEBUG("armed before the job: %s",
                rc == 1 ? "the devices hold the switchover" :
                "a device cannot hold the switchover");
    return rc;
}


/* The devices let go of the switchover (after the limit that should make
 * QEMU switch is set, or the job is cancelled or over). */
static int
vfmigControllerLetGo(vfmigController *ctl)
{
    if (!ctl->devicesHeld)
        return 0;
    if (ctl->ops->holdDevices(ctl->opaque, 0) < 0)
        return -1;
    VFMIG_DEBUG("the devices let go of the switchover");
    ctl->devicesHeld = false;
    return 0;
}


/* Cancels the job while the devices still hold it (QEMU cannot switch
 * meanwhile), then lets them go. */
static int
vfmigControllerAbort(vfmigController *ctl,
                     vfmigControllerStatus *step)
{
    if (ctl->ops->abortJob(ctl->opaque) < 0)
        return -1;
    step->phase = VFMIG_CONTROLLER_ABORTED;
    return vfmigControllerLetGo(ctl);
}


/* Tracks since when every device's initial data is out. */
static void
vfmigControllerTrackInitial(vfmigController *ctl,
                            uint64_t nowUs)
{
    size_t i;

    for (i = 0; i < ctl->ndevices; i++) {
        if (ctl->samples[i].initial_bytes > 0) {
            ctl->initialSeen = true;
            ctl->initialDone = false;
            return;
        }
    }
    if (!ctl->initialDone) {
        ctl->initialDone = true;
        ctl->initialDoneUs = nowUs;
    }
}


/*
 * All RAM dirty (config.ramAllDirty): times QEMU's passes from its bitmap
 * syncs.  A pass is timed from the step that saw one sync to the step
 * that saw a later one, divided by the syncs between (several passes of
 * an idle guest fit in one step); the pass that was under way at the
 * first step is not timed, its start unseen.  Steps are 200 ms apart: a
 * pass is known to about that.
 */
static void
vfmigControllerTimePass(vfmigController *ctl,
                        uint64_t nowUs,
                        const vfmigControllerJob *job)
{
    uint64_t passes;

    if (!ctl->config.ramAllDirty || job->ramIteration == 0)
        return;
    if (ctl->passIteration == 0 || job->ramIteration < ctl->passIteration) {
        ctl->passIteration = job->ramIteration;
        ctl->passStartUs = 0;
        return;
    }
    if (job->ramIteration == ctl->passIteration)
        return;
    passes = job->ramIteration - ctl->passIteration;
    if (ctl->passStartUs) {
        ctl->passUs = (nowUs - ctl->passStartUs) / passes;
        VFMIG_DEBUG("all RAM dirty: %" PRIu64 " pass(es) in %" PRIu64
                    " us: a pass takes %" PRIu64 " us", passes,
                    nowUs - ctl->passStartUs, ctl->passUs);
    }
    ctl->passIteration = job->ramIteration;
    ctl->passStartUs = nowUs;
}


/* The RAM's part of a switch where all RAM is dirty (the sample's
 * ram_pass_us): the last whole pass, or the one under way if it already
 * took longer; unknown before one was timed. */
static uint64_t
vfmigControllerPassUs(const vfmigController *ctl,
                      uint64_t nowUs)
{
    if (!ctl->passUs)
        return VFMIG_DOWNTIME_UNKNOWN;
    return MAX(ctl->passUs, nowUs - ctl->passStartUs);
}


/*
 * The limit that makes QEMU switch at its next iteration, now that the
 * policy decided: the policy's, unless QEMU counts more than the policy's
 * residue (a device whose MIG_DATA_SIZE is its whole state, mlx5), which
 * QEMU's rule would then never find within the policy's limit: then the
 * policy's limit plus the time QEMU's surplus takes at the bandwidth, with
 * half again as much for QEMU's own estimate of the bandwidth, so that it
 * switches now and sends the real residue.  Only the surplus is widened:
 * RAM stays bound by the policy's limit, so a guest that dirties RAM
 * cannot switch later with a residue larger than the policy allowed --
 * except where all RAM is dirty at every pass, whose switch sends all of
 * it whenever QEMU takes it: then all of QEMU's RAM is surplus.
 */
static uint64_t
vfmigControllerReleaseLimit(vfmigController *ctl,
                            vfmigControllerStatus *step)
{
    uint64_t limitMs = step->policy.qemu_downtime_limit_ms;
    uint64_t qemu = step->job.hasRam ? step->job.ramRemaining : 0;
    uint64_t bw = step->policy.bandwidth;
    uint64_t counted = step->policy.pending_bytes;
    uint64_t surplus;
    uint64_t needMs;
    size_t i;

    /* all RAM dirty: QEMU's exact pending (after its sync) has all of it,
     * which the policy counted as a pass's time, not at QEMU's estimate of
     * the bandwidth; a switch repeats the whole pass whenever QEMU takes
     * it, so all of that is surplus */
    if (ctl->config.ramAllDirty && step->job.hasRam) {
        qemu = MAX(qemu, step->job.ramTotal);
        counted = step->policy.device_residue_bytes;
    }
    for (i = 0; i < ctl->ndevices; i++) {
        if (ctl->devices[i].qemuBytes == VFMIG_DOWNTIME_UNKNOWN)
            return limitMs;
        qemu += ctl->devices[i].qemuBytes;
    }
    if (step->job.bandwidth > 0 && (bw == 0 || step->job.bandwidth < bw))
        bw = step->job.bandwidth;
    if (bw == 0 || qemu <= counted)
        return limitMs;
    surplus = qemu - counted;
    needMs = limitMs + surplus / bw * VFMIG_CONTROLLER_SURPLUS_MS_PER_S +
        (surplus % bw) * VFMIG_CONTROLLER_SURPLUS_MS_PER_S / bw + 1;
    needMs = MIN(needMs, VFMIG_DOWNTIME_QEMU_LIMIT_MAX_MS);
    step->qemuPendingBytes = qemu;
    VFMIG_DEBUG("QEMU counts %" PRIu64 " B pending where the policy sees %"
                PRIu64 " B (%s): limit %" PRIu64 " ms so that it switches now",
                qemu, counted,
                ctl->config.ramAllDirty ? "all RAM dirty, and the devices' MIG_DATA_SIZE" :
                "a device's MIG_DATA_SIZE is more than its residue",
                needMs);
    return needMs;
}


/* The policy's prediction @policyUs (without libvirt's overhead) and the
 * step's (with it) are one figure: set together. */
static void
vfmigControllerSetPrediction(const vfmigController *ctl,
                             vfmigControllerStatus *step,
                             uint64_t policyUs)
{
    step->policy.predicted_us = policyUs;
    step->predictedUs = policyUs;
    if (policyUs != VFMIG_DOWNTIME_UNKNOWN)
        step->predictedUs += vfmigControllerUs(&ctl->config,
                                               VFMIG_DOWNTIME_PARAM_OVERHEAD);
}


/*
 * QEMU switches at one of its own checks after the release, not always at
 * the step that released: a guest that dirties RAM can take it through
 * another pass first (bench-steer S3b: released at 3.9 MiB, 171 ms
 * predicted; QEMU's next bitmap sync found 49 MiB and it switched a pass
 * later at about 20 MiB).  What the downtime is compared with (and what
 * libvirt's overhead is learned from) is then the last prediction before
 * the devices left pre-copy, which QEMU's rule bounds: its residue fits
 * the release limit.
 */
static void
vfmigControllerPredictAtSwitch(vfmigController *ctl)
{
    const vfmigControllerStatus *last = &ctl->lastEvaluated;
    uint64_t overheadUs = vfmigControllerUs(&ctl->config,
                                            VFMIG_DOWNTIME_PARAM_OVERHEAD);
    uint64_t bound;
    uint64_t pred;

    if (!ctl->switched || ctl->switchStep.paused ||
        last->phase != VFMIG_CONTROLLER_RELEASED ||
        last->predictedUs == VFMIG_DOWNTIME_UNKNOWN ||
        last->predictedUs == ctl->switchStep.predictedUs)
        return;
    bound = ctl->releasedMs * 1000 + last->policy.latency_us + overheadUs;
    pred = MIN(last->predictedUs, bound);
    VFMIG_DEBUG("QEMU switched after another check: predicted %" PRIu64
                " us at the last step before it (%" PRIu64 " us at the "
                "release)", pred, ctl->switchStep.predictedUs);
    /* the policy's part is what the next overhead sample is learned from */
    vfmigControllerSetPrediction(ctl, &ctl->switchStep,
                                 pred > overheadUs ? pred - overheadUs : 0);
}


/*
 * A step after the release.  Released once, released for good: QEMU may
 * be switching over already (its decision is not visible until a device
 * stops), and a hold or an abort now would race it (measured on 6.12,
 * all RAM dirty at every pass: the next pass made the prediction miss
 * again, the hold came back while QEMU was stopping the guest, and the VF
 * reached STOP_COPY held).  What the policy decides now moves the limit
 * only this way:
 *  - switch over: the new release limit, but while a converged release
 *    binds (VFMIG_CONTROLLER_RELEASE_BINDS_US) never above the one QEMU
 *    has: the residue it may switch with stays what the target allows;
 *  - switch anyway: while a converged release binds, only at the
 *    deadline (a guest that dirties RAM makes the residue jump back at
 *    each bitmap sync, which the policy reads as not converging: bench-
 *    steer S3b raised the limit from 160 to 1188 ms and missed by 458);
 *    else the new limit, a best effort's;
 *  - anything else: the limit stays.
 */
static int
vfmigControllerStepReleased(vfmigController *ctl,
                            uint64_t nowUs,
                            vfmigControllerStatus *step)
{
    vfmigDowntimeDecision decision = step->policy.decision;
    bool binds = ctl->bindsUntilUs && nowUs < ctl->bindsUntilUs;
    uint64_t ms;

    step->phase = VFMIG_CONTROLLER_RELEASED;
    if (decision == VFMIG_DOWNTIME_SWITCH_ANYWAY && binds &&
        step->policy.reason != VFMIG_DOWNTIME_REASON_DEADLINE) {
        VFMIG_DEBUG("released at %" PRIu64 " ms, which binds for %" PRIu64
                    " ms more: the policy's switch-anyway (%s) is not acted on",
                    ctl->releasedMs, (ctl->bindsUntilUs - nowUs) / 1000,
                    vfmigDowntimeReasonToString(step->policy.reason));
    } else if (decision == VFMIG_DOWNTIME_SWITCH_OVER ||
               decision == VFMIG_DOWNTIME_SWITCH_ANYWAY) {
        ms = vfmigControllerReleaseLimit(ctl, step);
        if (binds && decision == VFMIG_DOWNTIME_SWITCH_OVER)
            ms = MIN(ms, ctl->releasedMs);
        if (decision == VFMIG_DOWNTIME_SWITCH_ANYWAY)
            ctl->bindsUntilUs = 0;
        ctl->releasedMs = ms;
    } else {
        VFMIG_DEBUG("released already: the policy's %s is not acted on",
                    vfmigDowntimeDecisionToString(decision));
    }
    return vfmigControllerSetLimit(ctl, step, ctl->releasedMs);
}


/*
 * The first step that saw the devices stopped: what QEMU took the switch
 * with.  QEMU's RAM count then is its last bitmap sync's find, which the
 * switch sends (a step late, part of it may be sent already: the figure
 * is then low, and libvirt's overhead learned from it high, the safe
 * side).  The downtime less this is libvirt's own work, whatever the
 * prediction was: a switch QEMU took at a spike of its bandwidth
 * estimate with more RAM than the limit meant (bench-steer S3b: 10 MiB
 * at 45 MiB/s against a 242 ms limit) is no longer learned as overhead.
 */
static void
vfmigControllerTookSwitch(vfmigController *ctl,
                          const vfmigControllerStatus *step)
{
    const vfmigDowntimeResult *last = &ctl->lastEvaluated.policy;
    uint64_t ramUs;

    if (!ctl->switched || ctl->switchStep.paused || !ctl->evaluatedOnce ||
        ctl->config.ramAllDirty || !step->job.hasRam ||
        step->job.ramRemaining == 0 ||
        (ramUs = vfmigDowntimeBytesToUs(step->job.ramRemaining,
                                        last->bandwidth)) == VFMIG_DOWNTIME_UNKNOWN)
        return;
    ctl->switchStep.tookKnown = true;
    ctl->switchStep.tookUs = ramUs + last->device_residue_us + last->latency_us;
    VFMIG_DEBUG("QEMU took the switch with %" PRIu64 " B of RAM: %" PRIu64
                " us with the devices' residue and latencies (predicted %"
                PRIu64 " us)", step->job.ramRemaining,
                ctl->switchStep.tookUs, ctl->switchStep.policy.predicted_us);
}


static int
vfmigControllerEvaluate(vfmigController *ctl,
                        uint64_t nowUs,
                        vfmigControllerStatus *step)
{
    vfmigDowntimeSample sample = {
        .timestamp_us = nowUs,
        .devices = ctl->samples,
        .ndevices = ctl->ndevices,
        .has_ram = step->job.hasRam,
        .ram_remaining_bytes = step->job.ramRemaining,
        .ram_dirty_rate = step->job.ramDirtyRate,
        .bandwidth = step->job.bandwidth,
    };
    size_t i;

    /* all RAM dirty: the switch sends all of it, in a pass's time */
    if (ctl->config.ramAllDirty && sample.has_ram) {
        sample.ram_remaining_bytes = MAX(step->job.ramRemaining,
                                         step->job.ramTotal);
        sample.ram_pass_us = vfmigControllerPassUs(ctl, nowUs);
    }

    if (ctl->ndevices > 0 &&
        ctl->ops->getDevices(ctl->opaque, ctl->devices, ctl->ndevices) < 0)
        return -1;
    for (i = 0; i < ctl->ndevices; i++) {
        const char *st = ctl->devices[i].state;

        ctl->samples[i] = ctl->devices[i].sample;
        /* a source device leaves pre-copy only at the switchover: the
         * estimates are no longer the pre-copy's, and the decision made */
        if (st && (g_str_equal(st, "STOP_COPY") || g_str_equal(st, "STOP"))) {
            step->phase = VFMIG_CONTROLLER_SWITCHING;
            return 0;
        }
    }
    if (!sample.has_ram && ctl->ndevices == 0) {
        /* nothing to predict from: hold until libvirt reports RAM */
        return 0;
    }

    if (vfmigDowntimeEvaluate(&ctl->state, &ctl->policy, &sample,
                              &step->policy) < 0)
        return -1;
    step->evaluated = true;
    vfmigControllerTrackInitial(ctl, nowUs);

    vfmigControllerSetPrediction(ctl, step, step->policy.predicted_us);

    VFMIG_DEBUG("policy: %s (%s); RAM %" PRIu64 " B left, dirty %" PRIu64
                " B/s, bandwidth %" PRIu64 " B/s (smoothed %" PRIu64
                "); devices: residue %" PRIu64 " B, initial %" PRIu64
                " B, latency %" PRIu64 " us; predicted %" PRIu64
                " us with %" PRIu64 " us overhead; QEMU limit %" PRIu64 " ms",
                vfmigDowntimeDecisionToString(step->policy.decision),
                vfmigDowntimeReasonToString(step->policy.reason),
                sample.ram_remaining_bytes, sample.ram_dirty_rate,
                sample.bandwidth, step->policy.bandwidth,
                step->policy.device_residue_bytes, step->policy.initial_bytes,
                step->policy.latency_us, step->predictedUs,
                vfmigControllerUs(&ctl->config, VFMIG_DOWNTIME_PARAM_OVERHEAD), step->policy.qemu_downtime_limit_ms);
    return 0;
}


/*
 * The job ended (cancelled or failed, the domain still here; or migrated,
 * the domain gone): libvirt puts back the migration parameters it found
 * when its job began, which were the controller's hold where it held
 * from the job's start, and QEMU would keep that limit for the next
 * migration, whoever starts it.  The limit that was there before the
 * controller goes back, unless another client's value is there; a domain
 * that left has nothing to give back to.
 */
static void
vfmigControllerRestoreAtEnd(vfmigController *ctl)
{
    uint64_t cur;

    if (ctl->setMs == 0)
        return;
    if (ctl->ops->getMaxDowntime(ctl->opaque, &cur) < 0) {
        VFMIG_DEBUG("no limit to give back after the job: %s",
                    vfmigGetLastErrorMessage());
        vfmigResetLastError();
        return;
    }
    if (cur != ctl->setMs && cur != VFMIG_CONTROLLER_HOLD_MS) {
        VFMIG_DEBUG("after the job the limit is %" PRIu64 " ms, another "
                    "client's: theirs to keep", cur);
        return;
    }
    if (cur != ctl->fallbackMs &&
        ctl->ops->setMaxDowntime(ctl->opaque, ctl->fallbackMs) < 0) {
        VFMIG_DEBUG("cannot give the limit back after the job: %s",
                    vfmigGetLastErrorMessage());
        vfmigResetLastError();
        return;
    }
    VFMIG_DEBUG("after the job: downtime limit %" PRIu64 " ms -> %" PRIu64 " ms",
                cur, ctl->fallbackMs);
    ctl->setMs = 0;
}


/* QEMU's largest limit, whatever is left, where a failure only needs to
 * be logged: a switchover under way no longer reads the limit. */
static void
vfmigControllerLimitToMax(vfmigController *ctl,
                          vfmigControllerStatus *step)
{
    if (vfmigControllerSetLimit(ctl, step, VFMIG_DOWNTIME_QEMU_LIMIT_MAX_MS) < 0) {
        VFMIG_DEBUG("%s", vfmigGetLastErrorMessage());
        vfmigResetLastError();
    }
}


/*
 * The devices stopped and the guest paused after the release: QEMU's
 * switchover, which ends within the downtime, or another client's pause
 * (virsh suspend, Nova's force-complete) that came just after the
 * release, which libvirt reports alike.  Such a pause never ends by
 * itself: QEMU no longer sends the devices' state while it iterates
 * (they left pre-copy), its bandwidth estimate falls to what little RAM
 * it still sends, and bandwidth x limit never covers what is left.  A
 * pause that outlasts twice the target and VFMIG_CONTROLLER_PAUSE_GRACE_US
 * is taken as such: the limit goes to QEMU's highest, set again at every
 * step (Nova's later downtime steps overwrite it).  A switchover that
 * takes that long does not read the limit any more: no harm done, and a
 * failed set is only logged.
 */
static void
vfmigControllerPausedLate(vfmigController *ctl,
                          uint64_t nowUs,
                          vfmigControllerStatus *step)
{
    uint64_t graceUs = 2 * vfmigControllerUs(&ctl->config, VFMIG_DOWNTIME_PARAM_TARGET) +
        VFMIG_CONTROLLER_PAUSE_GRACE_US;

    if (nowUs - ctl->switchPausedSinceUs < graceUs)
        return;
    step->paused = true;
    step->pausedUs = nowUs - ctl->switchPausedSinceUs;
    if (!ctl->pausedLate) {
        VFMIG_DEBUG("the guest has been paused for %" PRIu64 " us with the "
                    "devices stopped: not QEMU's switchover; limit at its "
                    "highest", step->pausedUs);
        step->pausedLate = true;
        ctl->pausedLate = true;
    }
    vfmigControllerLimitToMax(ctl, step);
}


int
vfmigControllerStep(vfmigController *ctl,
                    uint64_t nowUs,
                    vfmigControllerStatus *step)
{
    vfmigControllerJob job = { 0 };
    int rc;

    memset(step, 0, sizeof(*step));
    step->timestampUs = nowUs;
    step->predictedUs = VFMIG_DOWNTIME_UNKNOWN;

    if (ctl->phase == VFMIG_CONTROLLER_ENDED ||
        ctl->phase == VFMIG_CONTROLLER_ABORTED) {
        step->phase = ctl->phase;
        step->limitMs = ctl->setMs;
        return 0;
    }

    if ((rc = ctl->ops->getJob(ctl->opaque, &job)) < 0)
        return -1;
    if (rc == 0) {
        VFMIG_DEBUG("the migration job ended");
        /* the devices may be gone with their domain: nothing to keep */
        if (vfmigControllerLetGo(ctl) < 0) {
            VFMIG_DEBUG("%s", vfmigGetLastErrorMessage());
            ctl->devicesHeld = false;
        }
        vfmigControllerRestoreAtEnd(ctl);
        ctl->phase = VFMIG_CONTROLLER_ENDED;
        step->phase = ctl->phase;
        step->limitMs = ctl->setMs;
        ctl->last = *step;
        ctl->stepped = true;
        return 0;
    }
    step->job = job;

    if (vfmigControllerCheckLimit(ctl, step) < 0)
        return -1;

    /* paused while the controller still holds: not QEMU's switchover
     * (the devices hold it), so someone paused the guest; libvirt gives
     * such a pause during a migration the reason "migration" too.  Once
     * released (and not for a pause), a pause is QEMU's own switchover. */
    if (job.paused && (ctl->phase == VFMIG_CONTROLLER_WAITING ||
                       ctl->phase == VFMIG_CONTROLLER_HOLDING ||
                       (ctl->phase == VFMIG_CONTROLLER_RELEASED &&
                        ctl->pausedSinceUs))) {
        /* the guest stopped: its downtime runs already, and QEMU moved
         * the devices to STOP_COPY, where they no longer hold: let QEMU
         * switch at its next iteration, whatever is left */
        if (!ctl->pausedSinceUs) {
            ctl->pausedSinceUs = nowUs;
            VFMIG_DEBUG("the guest is paused: its downtime runs already; "
                        "releasing at once");
        }
        step->paused = true;
        step->pausedUs = nowUs - ctl->pausedSinceUs;
        if (ctl->initialSeen && !ctl->initialDone) {
            /* QEMU 10 marks a VF's initial data as sent only while the VF
             * is in pre-copy, and with switchover-ack (libvirt turns it
             * on) it switches only once the destination acknowledged
             * every VF's mark: paused before that, the migration can
             * never complete.  Cancelled now, not at a timeout. */
            VFMIG_DEBUG("paused before every device's initial data was "
                        "sent: QEMU can never switch over; aborting");
            if (vfmigControllerAbort(ctl, step) < 0)
                return -1;
            goto done;
        }
        step->phase = VFMIG_CONTROLLER_RELEASED;
        if (vfmigControllerSetLimit(ctl, step,
                                    VFMIG_DOWNTIME_QEMU_LIMIT_MAX_MS) < 0 ||
            vfmigControllerLetGo(ctl) < 0)
            return -1;
        goto done;
    }
    ctl->pausedSinceUs = 0;

    if (!ctl->preflightDone) {
        if ((rc = vfmigControllerPreflightJob(ctl, &job, &step->floorUs)) < 0)
            return -1;
        step->preflight = true;
        step->floorMisses = rc == 0;
        step->allDirty = ctl->allDirty;
        if (rc == 0 &&
            ctl->policy.on_failure == VFMIG_DOWNTIME_ON_FAILURE_ABORT) {
            /* before QEMU sent anything, not after seconds of transfer */
            step->policy.decision = VFMIG_DOWNTIME_GIVE_UP;
            step->policy.reason = VFMIG_DOWNTIME_REASON_LATENCY;
            step->policy.latency_us = step->floorUs - vfmigControllerUs(&ctl->config, VFMIG_DOWNTIME_PARAM_OVERHEAD);
            step->predictedUs = step->floorUs;
            VFMIG_DEBUG("pre-flight: the floor alone misses the target: "
                        "aborting the migration");
            if (vfmigControllerAbort(ctl, step) < 0)
                return -1;
            goto done;
        }
    }

    vfmigControllerTimePass(ctl, nowUs, &job);
    if (!job.migrating) {
        /* libvirt prepares the destination: hold QEMU from the start */
        step->phase = VFMIG_CONTROLLER_WAITING;
        if (vfmigControllerHoldBack(ctl, step) < 0)
            return -1;
        goto done;
    }

    if (vfmigControllerEvaluate(ctl, nowUs, step) < 0)
        return -1;

    if (step->phase != VFMIG_CONTROLLER_SWITCHING || !job.paused)
        ctl->switchPausedSinceUs = 0;
    else if (!ctl->switchPausedSinceUs)
        ctl->switchPausedSinceUs = nowUs;
    if (step->phase == VFMIG_CONTROLLER_SWITCHING) {
        /* QEMU switched by itself while held: what it did is compared
         * with the last prediction before it */
        if (ctl->evaluatedOnce &&
            ctl->phase != VFMIG_CONTROLLER_RELEASED &&
            ctl->phase != VFMIG_CONTROLLER_SWITCHING) {
            ctl->switched = true;
            ctl->switchStep = ctl->lastEvaluated;
            VFMIG_DEBUG("QEMU switched over while %s held it",
                        ctl->devicesHeld ? "the devices" : "the limit");
        } else if (ctl->phase == VFMIG_CONTROLLER_RELEASED) {
            vfmigControllerPredictAtSwitch(ctl);
        }
        if (ctl->phase != VFMIG_CONTROLLER_SWITCHING)
            vfmigControllerTookSwitch(ctl, step);
        if (vfmigControllerLetGo(ctl) < 0)
            return -1;
        if (ctl->phase == VFMIG_CONTROLLER_WAITING ||
            ctl->phase == VFMIG_CONTROLLER_HOLDING) {
            /* devices stopped while held: QEMU's switch on an empty
             * pending, or a pause (Nova's force-complete) that came
             * between this step's reads of the job and of the devices,
             * which QEMU never ends at the held limit.  QEMU's highest:
             * no harm to a switchover, which no longer reads it. */
            step->stoppedHeld = true;
            vfmigControllerLimitToMax(ctl, step);
        } else if (ctl->phase == VFMIG_CONTROLLER_SWITCHING && job.paused) {
            vfmigControllerPausedLate(ctl, nowUs, step);
        }
        goto done;
    }

    if (!step->evaluated) {
        step->phase = VFMIG_CONTROLLER_HOLDING;
        if (vfmigControllerHoldBack(ctl, step) < 0)
            return -1;
        goto done;
    }

    if (ctl->phase == VFMIG_CONTROLLER_RELEASED) {
        if (vfmigControllerStepReleased(ctl, nowUs, step) < 0)
            return -1;
        goto done;
    }

    switch (step->policy.decision) {
    case VFMIG_DOWNTIME_SWITCH_OVER:
        if (vfmigControllerUs(&ctl->config, VFMIG_DOWNTIME_PARAM_LOAD) > 0 &&
            (!ctl->initialDone ||
             nowUs - ctl->initialDoneUs < vfmigControllerUs(&ctl->config, VFMIG_DOWNTIME_PARAM_LOAD))) {
            /* QEMU may not wait for the destination's acknowledgement:
             * give it the time to load the initial data first */
            step->wait = VFMIG_CONTROLLER_WAIT_LOAD;
            step->phase = VFMIG_CONTROLLER_HOLDING;
            if (vfmigControllerHoldBack(ctl, step) < 0)
                return -1;
            break;
        }
        G_GNUC_FALLTHROUGH;
    case VFMIG_DOWNTIME_SWITCH_ANYWAY:
        step->phase = VFMIG_CONTROLLER_RELEASED;
        ctl->releasedMs = vfmigControllerReleaseLimit(ctl, step);
        ctl->bindsUntilUs = step->policy.decision == VFMIG_DOWNTIME_SWITCH_OVER ?
            nowUs + VFMIG_CONTROLLER_RELEASE_BINDS_US : 0;
        if (vfmigControllerSetLimit(ctl, step, ctl->releasedMs) < 0 ||
            vfmigControllerLetGo(ctl) < 0)
            return -1;
        break;

    case VFMIG_DOWNTIME_GIVE_UP:
        VFMIG_DEBUG("giving up (%s): aborting the migration",
                    vfmigDowntimeReasonToString(step->policy.reason));
        if (vfmigControllerAbort(ctl, step) < 0)
            return -1;
        break;

    case VFMIG_DOWNTIME_CONTINUE:
    case VFMIG_DOWNTIME_DECISION_LAST:
    default:
        step->phase = VFMIG_CONTROLLER_HOLDING;
        if (vfmigControllerHoldBack(ctl, step) < 0)
            return -1;
        break;
    }

 done:
    if (step->phase != ctl->phase)
        VFMIG_DEBUG("phase %s -> %s",
                    vfmigControllerPhaseToString(ctl->phase),
                    vfmigControllerPhaseToString(step->phase));
    /* the step that released: what the downtime is compared with */
    if (step->phase == VFMIG_CONTROLLER_RELEASED &&
        ctl->phase != VFMIG_CONTROLLER_RELEASED) {
        ctl->switched = true;
        ctl->switchStep = *step;
    }
    if (step->evaluated) {
        ctl->evaluatedOnce = true;
        ctl->lastEvaluated = *step;
    }
    ctl->phase = step->phase;
    ctl->last = *step;
    ctl->stepped = true;
    return 0;
}


int
vfmigControllerRelease(vfmigController *ctl)
{
    uint64_t cur;

    if (vfmigControllerLetGo(ctl) < 0)
        return -1;
    if (ctl->setMs == 0 || ctl->phase == VFMIG_CONTROLLER_ENDED)
        return 0;
    if (ctl->ops->getMaxDowntime(ctl->opaque, &cur) < 0)
        return -1;
    if (cur != ctl->setMs) {
        /* someone else's value: theirs to keep */
        VFMIG_DEBUG("release: the limit is %" PRIu64 " ms, set by another client",
                    cur);
        return 0;
    }
    if (cur == ctl->fallbackMs)
        return 0;
    if (ctl->ops->setMaxDowntime(ctl->opaque, ctl->fallbackMs) < 0)
        return -1;
    VFMIG_DEBUG("release: downtime limit %" PRIu64 " ms -> %" PRIu64 " ms",
                cur, ctl->fallbackMs);
    ctl->setMs = 0;
    return 0;
}


uint64_t
vfmigControllerFallbackMs(const vfmigController *ctl)
{
    return ctl->setMs ? ctl->fallbackMs : 0;
}


const vfmigControllerStatus *
vfmigControllerLastStep(const vfmigController *ctl)
{
    return ctl->stepped ? &ctl->last : NULL;
}


const vfmigControllerStatus *
vfmigControllerSwitchStep(const vfmigController *ctl)
{
    return ctl->switched ? &ctl->switchStep : NULL;
}


const vfmigControllerDevice *
vfmigControllerDevices(const vfmigController *ctl,
                       size_t *n)
{
    *n = ctl->ndevices;
    return ctl->devices;
}


unsigned int
vfmigControllerOverwrites(const vfmigController *ctl)
{
    return ctl->overwrites;
}


static int
vfmigCompareInt64(const void *a,
                  const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;

    return (x > y) - (x < y);
}


uint64_t
vfmigControllerOverhead(const int64_t *samples,
                        size_t nsamples)
{
    int64_t sorted[VFMIG_CONTROLLER_OVERHEAD_SAMPLES];
    int64_t quartile;
    size_t n = MIN(nsamples, (size_t) VFMIG_CONTROLLER_OVERHEAD_SAMPLES);

    if (n == 0)
        return 0;
    /* the newest samples */
    memcpy(sorted, samples + (nsamples - n), n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), vfmigCompareInt64);
    /* The upper quartile by nearest rank, ceil(3n/4): libvirt's work at
     * the switch spreads by a few hundred ms from one migration to the
     * next, and a budget built on the median spends the whole target
     * half of the time. */
    quartile = sorted[(3 * n + 3) / 4 - 1];
    if (quartile <= 0)
        return 0;
    /* With fewer than four samples there is no quartile, and the next
     * migration exceeds the largest of n with a chance of 1/(n + 1): a
     * half after the first.  Each missing sample adds a quarter of the
     * largest (x1.75 after one), the spread libvirt's work showed on the
     * rig (0.3 to 0.65 s, bench-steer S3). */
    if (n < VFMIG_CONTROLLER_OVERHEAD_QUARTILE_MIN)
        quartile += quartile * (int64_t) (VFMIG_CONTROLLER_OVERHEAD_QUARTILE_MIN - n) /
                    VFMIG_CONTROLLER_OVERHEAD_QUARTILE_MIN;
    return (uint64_t) quartile;
}


static void
vfmigControllerFormatBytes(GString *str,
                           uint64_t bytes)
{
    if (bytes >= 10 * 1024 * 1024)
        g_string_append_printf(str, "%" PRIu64 " MiB", bytes / (1024 * 1024));
    else if (bytes >= 10 * 1024)
        g_string_append_printf(str, "%" PRIu64 " KiB", bytes / 1024);
    else
        g_string_append_printf(str, "%" PRIu64 " B", bytes);
}


char *
vfmigControllerStepFormat(const vfmigController *ctl,
                          const vfmigControllerStatus *step)
{
    GString *str = g_string_new(NULL);
    size_t i;

    g_string_append(str, vfmigControllerPhaseToString(step->phase));
    if (step->phase == VFMIG_CONTROLLER_ENDED) {
        g_string_append(str, ":");
        return g_string_free(str, FALSE);
    }
    if (step->evaluated) {
        g_string_append_printf(str, " (%s, %s",
                               vfmigDowntimeDecisionToString(step->policy.decision),
                               vfmigDowntimeReasonToString(step->policy.reason));
        if (step->wait != VFMIG_CONTROLLER_WAIT_NONE)
            g_string_append_printf(str, ", waiting for %s",
                                   vfmigControllerWaitToString(step->wait));
        g_string_append(str, ")");
    }
    g_string_append(str, ": RAM ");
    if (step->job.hasRam) {
        vfmigControllerFormatBytes(str, step->job.ramRemaining);
        g_string_append(str, " left, ");
        vfmigControllerFormatBytes(str, step->job.bandwidth);
        g_string_append(str, "/s");
        if (ctl->config.ramAllDirty && step->evaluated) {
            if (step->policy.ram_us == VFMIG_DOWNTIME_UNKNOWN)
                g_string_append(str, ", all dirty, no pass timed yet");
            else
                g_string_append_printf(str, ", all dirty, a pass %" PRIu64 " ms",
                                       step->policy.ram_us / 1000);
        }
    } else {
        g_string_append(str, "unknown");
    }
    for (i = 0; i < ctl->ndevices; i++) {
        const vfmigControllerDevice *dev = &ctl->devices[i];

        g_string_append_printf(str, "; %s ", ctl->names[i]);
        if (!dev->known) {
            g_string_append(str, "no estimates");
            continue;
        }
        g_string_append_printf(str, "%s initial ", dev->state ? dev->state : "?");
        vfmigControllerFormatBytes(str, dev->sample.initial_bytes);
        g_string_append(str, " dirty ");
        vfmigControllerFormatBytes(str, dev->sample.dirty_bytes);
    }
    if (step->predictedUs != VFMIG_DOWNTIME_UNKNOWN)
        g_string_append_printf(str, "; predicted %" PRIu64 " ms",
                               step->predictedUs / 1000);
    else
        g_string_append(str, "; predicted unknown");
    g_string_append_printf(str, " (target %" PRIu64 " ms); limit %" PRIu64 " ms",
                           vfmigControllerUs(&ctl->config, VFMIG_DOWNTIME_PARAM_TARGET) / 1000, step->limitMs);
    if (step->overwritten)
        g_string_append_printf(str, " (was overwritten to %" PRIu64 " ms)",
                               step->overwrittenMs);
    if (step->hold != VFMIG_CONTROLLER_HOLD_NONE)
        g_string_append_printf(str, "; held by %s",
                               step->hold == VFMIG_CONTROLLER_HOLD_DEVICES ?
                               "the devices" : "the limit only");
    return g_string_free(str, FALSE);
}
