/*
 * vfmigqualify.c: qualification of a VF for live migration
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vfmigqualify.h"
#include "vfmigenum.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"
#include "vfmigi18n.h"

static const char *const vfmigQualifySeverityNames[] = {
    [VFMIG_QUALIFY_PASS] = "pass",
    [VFMIG_QUALIFY_NOTE] = "note",
    [VFMIG_QUALIFY_WARN] = "warn",
    [VFMIG_QUALIFY_FAIL] = "fail",
};
G_STATIC_ASSERT(G_N_ELEMENTS(vfmigQualifySeverityNames) == VFMIG_QUALIFY_SEVERITY_LAST);

const char *
vfmigQualifySeverityToString(int severity)
{
    return vfmigEnumToString(vfmigQualifySeverityNames,
                             G_N_ELEMENTS(vfmigQualifySeverityNames), severity);
}


static void
vfmigQualifyFindingFree(gpointer opaque)
{
    vfmigQualifyFinding *f = opaque;

    if (!f)
        return;
    g_free(f->message);
    g_free(f);
}


vfmigQualifyResult *
vfmigQualifyResultNew(void)
{
    vfmigQualifyResult *res = g_new0(vfmigQualifyResult, 1);

    res->findings = g_ptr_array_new_with_free_func(vfmigQualifyFindingFree);
    res->mode = VFMIG_STATE_PRECOPY_NONE;
    return res;
}


void
vfmigQualifyResultFree(vfmigQualifyResult *res)
{
    if (!res)
        return;
    g_free(res->device);
    g_free(res->peer);
    g_free(res->flagsError);
    g_free(res->incompatible);
    g_free(res->error);
    if (res->findings)
        g_ptr_array_unref(res->findings);
    g_free(res);
}


/* ---- the verdict (pure) ---- */

static void
vfmigQualifyAdd(vfmigQualifyResult *res,
                vfmigQualifySeverity severity,
                const char *id,
                char *message)
{
    vfmigQualifyFinding *f = g_new0(vfmigQualifyFinding, 1);

    f->severity = severity;
    f->id = id;
    f->message = message;
    g_ptr_array_add(res->findings, f);
}


char *
vfmigQualifyFormatUs(uint64_t us)
{
    if (us == VFMIG_DOWNTIME_UNKNOWN)
        return g_strdup(_("unknown"));
    if (us < 10 * 1000)
        return g_strdup_printf(_("%1$.3f ms"), us / 1000.0);
    if (us < 10 * 1000 * 1000)
        return g_strdup_printf(_("%1$.1f ms"), us / 1000.0);
    return g_strdup_printf(_("%1$.2f s"), us / 1e6);
}


char *
vfmigQualifyFormatBytes(uint64_t bytes)
{
    static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    double value = bytes;
    size_t i;

    if (bytes == VFMIG_DOWNTIME_UNKNOWN)
        return g_strdup(_("unknown"));
    if (bytes < 1024)
        return g_strdup_printf(_("%1$llu bytes"), (unsigned long long) bytes);
    /* plain ASCII, unlike g_format_size's no-break space */
    for (i = 0; i < G_N_ELEMENTS(units) - 1 && value >= 1024.0 * 1024.0; i++)
        value /= 1024.0;
    return g_strdup_printf("%.1f %s", value / 1024.0, units[i]);
}


static const char *
vfmigQualifyStr(const char *s)
{
    return s ? s : "?";
}


vfmigNodeDevVerdict
vfmigQualifyVerdictOf(const GPtrArray *findings)
{
    vfmigNodeDevVerdict verdict = VFMIG_NODEDEV_VERDICT_QUALIFIED;
    size_t i;

    for (i = 0; findings && i < findings->len; i++) {
        const vfmigQualifyFinding *f = g_ptr_array_index((GPtrArray *) findings, i);

        if (f->severity == VFMIG_QUALIFY_FAIL)
            return VFMIG_NODEDEV_VERDICT_NOT_QUALIFIED;
        if (f->severity == VFMIG_QUALIFY_WARN)
            verdict = VFMIG_NODEDEV_VERDICT_QUALIFIED_WITH_WARNINGS;
    }
    return verdict;
}


const vfmigQualifyFinding *
vfmigQualifyFindingGet(const vfmigQualifyResult *res,
                       const char *id)
{
    size_t i;

    for (i = 0; res->findings && i < res->findings->len; i++) {
        const vfmigQualifyFinding *f = g_ptr_array_index(res->findings, i);

        if (g_str_equal(f->id, id))
            return f;
    }
    return NULL;
}


bool
vfmigQualifyDowntimeParts(const vfmigEngineReport *src,
                          const vfmigEngineReport *dst,
                          vfmigQualifyDowntime *parts)
{
    uint64_t rest;

    memset(parts, 0, sizeof(*parts));
    if (src->failed || dst->failed || !src->downtimeUs || !dst->runningUs)
        return false;

    parts->totalUs = src->downtimeUs;
    parts->stopUs = src->stopLatencyUs;
    if (src->drainedUs > src->stopStartUs)
        parts->drainUs = src->drainedUs - src->stopStartUs;
    parts->drainUs -= MIN(parts->drainUs, parts->stopUs);
    parts->resumeUs = dst->resumeLatencyUs;

    /* What is left is the destination's: the stop-copy data it still had
     * to load after the source drained, and its commit (RESUMING -> STOP).
     * With both sides in one process they overlap; with a round trip they
     * follow each other: either way the load is the remainder. */
    rest = parts->totalUs;
    rest -= MIN(rest, parts->stopUs);
    rest -= MIN(rest, parts->drainUs);
    rest -= MIN(rest, parts->resumeUs);
    parts->loadUs = rest;
    return true;
}


bool
vfmigQualifyMeasuredHints(const vfmigEngineReport *src,
                          const vfmigEngineReport *dst,
                          uint64_t *stopUs,
                          uint64_t *resumeUs)
{
    vfmigQualifyDowntime parts;
    uint64_t bandwidth;
    uint64_t residueUs = 0;
    uint64_t fixedUs;

    *stopUs = 0;
    *resumeUs = 0;
    if (!vfmigQualifyDowntimeParts(src, dst, &parts))
        return false;

    bandwidth = src->haveDecision && src->decision.bandwidth ?
                src->decision.bandwidth : src->rate;
    if (bandwidth)
        residueUs = (uint64_t) ((double) src->stopCopyBytes * 1e6 / bandwidth);

    fixedUs = parts.totalUs - MIN(parts.totalUs, residueUs);
    *stopUs = MIN(fixedUs, parts.stopUs + parts.drainUs -
                  MIN(parts.drainUs, residueUs));
    *resumeUs = fixedUs - *stopUs;
    return true;
}


double
vfmigQualifyPredictionError(uint64_t predictedUs,
                            uint64_t measuredUs)
{
    if (!measuredUs || predictedUs == VFMIG_DOWNTIME_UNKNOWN)
        return 0;
    return ((double) predictedUs - (double) measuredUs) * 100.0 / measuredUs;
}


static void
vfmigQualifyEvaluatePeer(vfmigQualifyResult *res)
{
    if (!res->peer)
        return;
    if (res->incompatible) {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "peer",
                        g_strdup_printf(_("the peer '%1$s' cannot load the state of '%2$s': %3$s"),
                                        res->peer, res->device, res->incompatible));
        return;
    }
    vfmigQualifyAdd(res, VFMIG_QUALIFY_PASS, "peer",
                    g_strdup_printf(res->dstMultiLoad ?
                                    _("the peer '%1$s' can load the state of '%2$s' (same driver, PCI ids, firmware and stream version where known; it loads several images)") :
                                    _("the peer '%1$s' can load the state of '%2$s' (same driver, PCI ids, firmware and stream version where known; it loads a single image only)"),
                                    res->peer, res->device));
}


static void
vfmigQualifyEvaluatePrecopy(vfmigQualifyResult *res)
{
    const vfmigEngineReport *src = &res->src;

    if (!(res->flags & VFIO_MIGRATION_PRE_COPY)) {
        g_autofree char *size = NULL;

        if (res->ran && !res->failed) {
            size = vfmigQualifyFormatBytes(src->stopCopyBytes);
            vfmigQualifyAdd(res, VFMIG_QUALIFY_WARN, "pre-copy",
                            g_strdup_printf(_("the device has no pre-copy: its whole state (%1$s) moves while it is stopped"),
                                            size));
        } else {
            vfmigQualifyAdd(res, VFMIG_QUALIFY_WARN, "pre-copy",
                            g_strdup(_("the device has no pre-copy: its whole state moves while it is stopped")));
        }
        return;
    }

    switch (res->mode) {
    case VFMIG_STATE_PRECOPY_MULTI:
        if (res->ran && src->iterations > 0) {
            g_autofree char *initial = vfmigQualifyFormatBytes(src->initialBytes);
            g_autofree char *total = vfmigQualifyFormatBytes(src->precopyBytes);

            vfmigQualifyAdd(res, VFMIG_QUALIFY_PASS, "pre-copy",
                            g_strdup_printf(_("pre-copy streamed %1$s while the device ran (initial data %2$s) in %3$u rounds and %4$u images"),
                                            total, initial, src->iterations,
                                            src->precopyImages));
        } else {
            vfmigQualifyAdd(res, VFMIG_QUALIFY_PASS, "pre-copy",
                            g_strdup(_("the device offers pre-copy")));
        }
        break;
    case VFMIG_STATE_PRECOPY_SINGLE:
        vfmigQualifyAdd(res, VFMIG_QUALIFY_WARN, "pre-copy",
                        g_strdup(res->dstMultiLoad ?
                                 _("the device offers pre-copy but it was not used: the whole state moved while the device was stopped (mode single)") :
                                 _("the device offers pre-copy but the destination loads a single image only: the whole state moves while the device is stopped (mode single)")));
        break;
    case VFMIG_STATE_PRECOPY_NONE:
    case VFMIG_STATE_PRECOPY_LAST:
    default:
        vfmigQualifyAdd(res, VFMIG_QUALIFY_WARN, "pre-copy",
                        g_strdup(_("pre-copy was not used: the whole state moves while the device is stopped")));
        break;
    }
}


/*
 * With the device's switchover costs measured first, those alone may
 * exceed the target: the policy of the run then switches at once
 * (reason "latency") and says nothing about the residue.  That is a note
 * ("switchover": the measured downtime judges it, in "downtime"), and
 * whether pre-copy converges is the first run's word, whose policy saw
 * the driver's latencies only.  Returns the report to judge convergence
 * by.
 */
static const vfmigEngineReport *
vfmigQualifyEvaluateSwitchover(vfmigQualifyResult *res)
{
    const vfmigDowntimeResult *d = &res->src.decision;
    g_autofree char *costs = NULL;
    g_autofree char *target = NULL;

    if (!res->calibrated || !res->src.haveDecision ||
        d->reason != VFMIG_DOWNTIME_REASON_LATENCY)
        return &res->src;

    costs = vfmigQualifyFormatUs(d->latency_us);
    target = vfmigQualifyFormatUs(res->targetUs);
    vfmigQualifyAdd(res, VFMIG_QUALIFY_NOTE, "switchover",
                    g_strdup_printf(_("the device's switchover costs measured in this qualification (%1$s: stop, stop-copy drain, load, resume) alone exceed the target %2$s: the policy switches over at once"),
                                    costs, target));
    return res->calibrationSrc.haveDecision ? &res->calibrationSrc : &res->src;
}


static void
vfmigQualifyEvaluateConvergence(vfmigQualifyResult *res)
{
    const vfmigEngineReport *src = vfmigQualifyEvaluateSwitchover(res);
    const vfmigDowntimeResult *d = &src->decision;
    g_autofree char *predicted = NULL;
    g_autofree char *target = NULL;
    g_autofree char *residue = NULL;
    g_autofree char *latency = NULL;
    g_autofree char *elapsed = NULL;

    if (!res->ran || res->mode != VFMIG_STATE_PRECOPY_MULTI || !src->haveDecision)
        return;

    predicted = vfmigQualifyFormatUs(d->predicted_us);
    target = vfmigQualifyFormatUs(res->targetUs);
    residue = vfmigQualifyFormatBytes(d->device_residue_bytes);
    latency = vfmigQualifyFormatUs(d->latency_us);
    elapsed = vfmigQualifyFormatUs(src->precopyUs);

    if (d->decision == VFMIG_DOWNTIME_SWITCH_OVER) {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_PASS, "convergence",
                        g_strdup_printf(_("pre-copy converged at the device's current dirty rate after %1$u rounds (%2$s): %3$s left for stop-copy, predicted downtime %4$s within the target %5$s"),
                                        src->iterations, elapsed, residue,
                                        predicted, target));
        return;
    }
    if (d->decision == VFMIG_DOWNTIME_CONTINUE) {
        /* the run ended (failed) while pre-copy still went on */
        vfmigQualifyAdd(res, VFMIG_QUALIFY_NOTE, "convergence",
                        g_strdup_printf(_("pre-copy had not decided yet after %1$u rounds: %2$s left, predicted downtime %3$s"),
                                        src->iterations, residue, predicted));
        return;
    }

    switch (d->reason) {
    case VFMIG_DOWNTIME_REASON_NOT_CONVERGING:
        vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "convergence",
                        g_strdup_printf(_("pre-copy does not converge at the device's current dirty rate: after %1$u rounds (%2$s) %3$s still remained for stop-copy, predicted downtime %4$s against the target %5$s"),
                                        src->iterations, elapsed, residue,
                                        predicted, target));
        break;
    case VFMIG_DOWNTIME_REASON_LATENCY:
        vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "convergence",
                        g_strdup_printf(_("the device's stop and resume latencies alone (%1$s) exceed the target %2$s: no amount of pre-copy meets it"),
                                        latency, target));
        break;
    case VFMIG_DOWNTIME_REASON_DEADLINE: {
        g_autofree char *deadline = vfmigQualifyFormatUs(res->deadlineUs);

        vfmigQualifyAdd(res, VFMIG_QUALIFY_WARN, "convergence",
                        g_strdup_printf(_("pre-copy had not converged when its deadline of %1$s passed (%2$u rounds): %3$s still remained for stop-copy, predicted downtime %4$s against the target %5$s"),
                                        deadline, src->iterations, residue,
                                        predicted, target));
        break;
    }
    case VFMIG_DOWNTIME_REASON_INITIAL_STUCK: {
        g_autofree char *initial = vfmigQualifyFormatBytes(d->initial_bytes);

        vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "convergence",
                        g_strdup_printf(_("the initial pre-copy data does not drain: %1$s of it still remained after %2$u rounds"),
                                        initial, src->iterations));
        break;
    }
    case VFMIG_DOWNTIME_REASON_CONVERGING:
    case VFMIG_DOWNTIME_REASON_INITIAL_PENDING:
    case VFMIG_DOWNTIME_REASON_RAM_UNTIMED:
    case VFMIG_DOWNTIME_REASON_CONVERGED:
    case VFMIG_DOWNTIME_REASON_LAST:
    default:
        vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "convergence",
                        g_strdup_printf(_("the downtime policy ended pre-copy with '%1$s' (%2$s) after %3$u rounds: predicted downtime %4$s against the target %5$s"),
                                        vfmigQualifyStr(vfmigDowntimeDecisionToString(d->decision)),
                                        vfmigQualifyStr(vfmigDowntimeReasonToString(d->reason)),
                                        src->iterations, predicted, target));
        break;
    }
}


static void
vfmigQualifyEvaluateTimes(vfmigQualifyResult *res)
{
    vfmigQualifyDowntime parts;
    g_autofree char *target = vfmigQualifyFormatUs(res->targetUs);
    g_autofree char *stop = NULL;
    g_autofree char *resume = NULL;
    g_autofree char *total = NULL;
    g_autofree char *drain = NULL;
    g_autofree char *load = NULL;
    uint64_t latency;

    if (!vfmigQualifyDowntimeParts(&res->src, &res->dst, &parts))
        return;

    stop = vfmigQualifyFormatUs(parts.stopUs);
    resume = vfmigQualifyFormatUs(parts.resumeUs);
    total = vfmigQualifyFormatUs(parts.totalUs);
    drain = vfmigQualifyFormatUs(parts.drainUs);
    load = vfmigQualifyFormatUs(parts.loadUs);

    latency = parts.stopUs + parts.resumeUs;
    if (latency > res->targetUs) {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "latency",
                        g_strdup_printf(_("stop latency %1$s and resume latency %2$s add up to more than the target %3$s: no migration of this device can meet it"),
                                        stop, resume, target));
    } else if (latency > res->targetUs / 2) {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_WARN, "latency",
                        g_strdup_printf(_("stop latency %1$s and resume latency %2$s take more than half of the target %3$s"),
                                        stop, resume, target));
    } else {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_PASS, "latency",
                        g_strdup_printf(_("stop latency %1$s, resume latency %2$s"),
                                        stop, resume));
    }

    if (parts.totalUs <= res->targetUs) {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_PASS, "downtime",
                        g_strdup_printf(_("measured downtime %1$s within the target %2$s (stop %3$s, stop-copy drain %4$s, load %5$s, resume %6$s)"),
                                        total, target, stop, drain, load, resume));
    } else {
        g_autofree char *over = vfmigQualifyFormatUs(parts.totalUs - res->targetUs);

        vfmigQualifyAdd(res, VFMIG_QUALIFY_WARN, "downtime",
                        g_strdup_printf(_("measured downtime %1$s exceeds the target %2$s by %3$s (stop %4$s, stop-copy drain %5$s, load %6$s, resume %7$s)"),
                                        total, target, over, stop, drain, load, resume));
    }

    if (res->src.haveDecision) {
        const vfmigDowntimeResult *d = &res->src.decision;
        g_autofree char *predicted = vfmigQualifyFormatUs(d->predicted_us);
        g_autofree char *residue = vfmigQualifyFormatUs(d->device_residue_us);
        g_autofree char *lat = vfmigQualifyFormatUs(d->latency_us);

        vfmigQualifyAdd(res, VFMIG_QUALIFY_NOTE, "prediction",
                        g_strdup_printf(res->calibrated ?
                                        _("the policy predicted a downtime of %1$s (residue %2$s, the device's switchover costs measured in this qualification %3$s) where %4$s was measured (%5$+.0f %%)") :
                                        _("the policy predicted a downtime of %1$s (residue %2$s, latencies %3$s) where %4$s was measured (%5$+.0f %%)"),
                                        predicted, residue, lat, total,
                                        vfmigQualifyPredictionError(d->predicted_us,
                                                                    parts.totalUs)));
    }
}


static void
vfmigQualifyEvaluateDigest(vfmigQualifyResult *res)
{
    const char *a = res->src.digest;
    const char *b = res->dst.digest;

    if (!res->ran || res->failed)
        return;
    if (!*a || !*b) {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_NOTE, "digest",
                        g_strdup(_("the driver offers no digest of the device state: state equality was not checked")));
        return;
    }
    if (strcmp(a, b) != 0) {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "digest",
                        g_strdup_printf(_("the destination's state differs from the source's: digest %1$s after the load, %2$s at the source"),
                                        b, a));
        return;
    }
    vfmigQualifyAdd(res, VFMIG_QUALIFY_PASS, "digest",
                    g_strdup_printf(_("the destination's state equals the source's (digest %1$s)"),
                                    a));
}


static void
vfmigQualifyEvaluateState(vfmigQualifyResult *res)
{
    const char *dstName = res->peer ? res->peer : res->device;

    if (!res->ran || !res->haveFinalStates)
        return;
    if (res->srcFinalState != VFIO_DEVICE_STATE_RUNNING) {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "state",
                        g_strdup_printf(_("the device '%1$s' was left in %2$s, not RUNNING"),
                                        res->device,
                                        vfmig_fsm_state_name(res->srcFinalState)));
        return;
    }
    if (res->peer && res->dstFinalState != VFIO_DEVICE_STATE_RUNNING) {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "state",
                        g_strdup_printf(_("the device '%1$s' was left in %2$s, not RUNNING"),
                                        dstName,
                                        vfmig_fsm_state_name(res->dstFinalState)));
        return;
    }
    if (res->failed) {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_NOTE, "state",
                        g_strdup_printf(_("the device '%1$s' runs again after the failure"),
                                        res->device));
    } else {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_PASS, "state",
                        res->peer ?
                        g_strdup_printf(_("both devices run after the migration: '%1$s' with its state again, '%2$s' with the migrated state"),
                                        res->device, dstName) :
                        g_strdup_printf(_("the device '%1$s' runs with its state loaded back"),
                                        res->device));
    }
}


void
vfmigQualifyEvaluate(vfmigQualifyResult *res)
{
    g_ptr_array_set_size(res->findings, 0);

    if (!res->haveFlags) {
        vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "migration",
                        g_strdup_printf(_("the device cannot migrate its state: %1$s"),
                                        res->flagsError ? res->flagsError :
                                        _("it reports no migration support")));
        goto done;
    }
    if (!(res->flags & VFIO_MIGRATION_STOP_COPY)) {
        g_autofree char *flags = vfmigDeviceFlagsString(res->flags);

        vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "migration",
                        g_strdup_printf(_("the device cannot migrate its state: it does not offer STOP_COPY (its migration flags: %1$s)"),
                                        *flags ? flags : _("none")));
        goto done;
    } else {
        g_autofree char *flags = vfmigDeviceFlagsString(res->flags);

        vfmigQualifyAdd(res, VFMIG_QUALIFY_PASS, "migration",
                        g_strdup_printf(_("the device migrates its state (%1$s)"),
                                        flags));
    }

    vfmigQualifyEvaluatePeer(res);
    if (res->incompatible)
        goto done;

    if (res->ran) {
        if (res->failed) {
            vfmigQualifyAdd(res, VFMIG_QUALIFY_FAIL, "transfer",
                            g_strdup_printf(_("the state did not move: %1$s"),
                                            res->error ? res->error : _("unknown error")));
        } else {
            g_autofree char *pre = vfmigQualifyFormatBytes(res->src.precopyBytes);
            g_autofree char *stop = vfmigQualifyFormatBytes(res->src.stopCopyBytes);
            g_autofree char *stream = vfmigQualifyFormatBytes(res->src.streamBytes);

            vfmigQualifyAdd(res, VFMIG_QUALIFY_PASS, "transfer",
                            g_strdup_printf(_("the state moved in mode %1$s: %2$s in pre-copy, %3$s in stop-copy, %4$s of stream with its framing"),
                                            vfmigStatePrecopyModeToString(res->mode),
                                            pre, stop, stream));
        }
    }

    vfmigQualifyEvaluatePrecopy(res);
    vfmigQualifyEvaluateConvergence(res);
    vfmigQualifyEvaluateTimes(res);
    vfmigQualifyEvaluateDigest(res);
    vfmigQualifyEvaluateState(res);

 done:
    res->verdict = vfmigQualifyVerdictOf(res->findings);
}


/* ---- the run ---- */

/* An unlinked file for the round trip's stream, open for both reading and
 * writing. */
static int
vfmigQualifyTempFile(const char *dir)
{
    g_autofree char *path = NULL;
    int fd;

#ifdef O_TMPFILE
    if ((fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600)) >= 0)
        return fd;
    /* file systems without O_TMPFILE (9p, overlayfs before 6.6): a named
     * file, unlinked at once */
#endif
    path = g_build_filename(dir, "vfmig-qualify-XXXXXX", NULL);
    if ((fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600)) < 0) {
        vfmigReportSystemError(errno,
                               _("cannot create a temporary file for the state in '%1$s'"),
                               dir);
        return -1;
    }
    if (unlink(path) < 0) {
        int err = errno;

        close(fd);
        vfmigReportSystemError(err, _("cannot unlink the temporary file '%1$s'"),
                               path);
        return -1;
    }
    return fd;
}


/* Takes the last error into @res as the run's failure. */
static void
vfmigQualifyKeepError(vfmigQualifyResult *res)
{
    res->failed = true;
    res->errorCode = vfmigGetLastErrorCode();
    res->error = g_strdup(vfmigGetLastErrorMessage());
    vfmigResetLastError();
}


/*
 * One run of the engine for a qualification, into res->src, res->dst,
 * res->ran, res->failed and res->error.  -1 with an error when there is
 * nothing to evaluate (cancelled, no temporary file).
 */
static int
vfmigQualifyRun(const vfmigQualifyParams *params,
                const vfmigStateIdentity *srcId,
                const vfmigStateIdentity *dstId,
                uint64_t targetUs,
                uint64_t deadlineUs,
                uint64_t stopLatencyUs,
                uint64_t resumeLatencyUs,
                vfmigQualifyResult *res)
{
    vfmigEngineConfig cfg;
    int fd = -1;
    int rc;

    vfmigEngineConfigInit(&cfg);
    cfg.policy.target_us = targetUs;
    cfg.policy.deadline_us = deadlineUs;
    cfg.policy.on_failure = VFMIG_DOWNTIME_ON_FAILURE_SWITCH;
    cfg.precopy = VFMIG_ENGINE_PRECOPY_AUTO;
    cfg.stopLatencyUs = stopLatencyUs;
    cfg.resumeLatencyUs = resumeLatencyUs;
    cfg.roundMs = params->roundMs;
    cfg.timeoutMs = params->timeoutMs;
    cfg.cancel = params->cancel;
    cfg.digest = true;
    cfg.progress = params->progress;
    cfg.progressOpaque = params->progressOpaque;
    cfg.clock = params->clock;
    cfg.clockOpaque = params->clockOpaque;

    if (!params->peer &&
        (fd = vfmigQualifyTempFile(params->tmpDir ? params->tmpDir :
                                   g_get_tmp_dir())) < 0)
        return -1;

    res->ran = true;
    if (params->peer) {
        rc = vfmigEngineMigrate(params->dev, srcId, params->peer, dstId,
                                &cfg, 0, &res->src, &res->dst);
    } else {
        rc = vfmigEngineRoundTrip(params->dev, srcId, fd, &cfg,
                                  &res->src, &res->dst);
        close(fd);
    }
    if (rc < 0) {
        /* a cancelled run has no verdict: the error says what happened */
        if (vfmigGetLastErrorCode() == VFMIG_ERR_OPERATION_ABORTED)
            return -1;
        vfmigQualifyKeepError(res);
    }
    return 0;
}


int
vfmigQualifyDevice(const vfmigQualifyParams *params,
                   vfmigQualifyResult **result)
{
    g_autoptr(vfmigQualifyResult) res = vfmigQualifyResultNew();
    vfmigStateIdentity srcId = *params->id;
    vfmigStateIdentity dstId;
    uint64_t flags;

    *result = NULL;
    res->device = g_strdup(vfmigDeviceGetName(params->dev));
    if (params->peer)
        res->peer = g_strdup(vfmigDeviceGetName(params->peer));
    res->targetUs = params->targetUs ? params->targetUs :
                    VFMIG_QUALIFY_DEFAULT_TARGET_US;
    res->deadlineUs = params->deadlineUs ? params->deadlineUs :
                      VFMIG_QUALIFY_DEFAULT_DEADLINE_US;

    if (params->peer && params->peer == params->dev) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("the peer of device '%1$s' is the device itself: leave the peer out for a round trip"),
                         res->device);
        return -1;
    }

    if (vfmigDeviceGetFlags(params->dev, &flags) < 0) {
        if (vfmigGetLastErrorCode() != VFMIG_ERR_OPERATION_UNSUPPORTED)
            return -1;
        res->flagsError = g_strdup(vfmigGetLastErrorMessage());
        vfmigResetLastError();
        goto done;
    }
    res->haveFlags = true;
    res->flags = flags;
    if (!(flags & VFIO_MIGRATION_STOP_COPY))
        goto done;

    dstId = params->peer ? *params->peerId : *params->id;
    res->dstMultiLoad = dstId.multiLoad;
    if (vfmigEngineChooseMode(flags, dstId.multiLoad, VFMIG_ENGINE_PRECOPY_AUTO,
                              &res->mode) < 0)
        return -1;
    srcId.precopyMode = res->mode;
    srcId.migrationFlags = flags;

    if (params->peer) {
        uint64_t peerFlags;

        if (vfmigDeviceGetFlags(params->peer, &peerFlags) < 0) {
            if (vfmigGetLastErrorCode() != VFMIG_ERR_OPERATION_UNSUPPORTED)
                return -1;
            res->incompatible = g_strdup(vfmigGetLastErrorMessage());
            vfmigResetLastError();
            goto done;
        }
        if (vfmigStateIdentityCheckCompatible(&srcId, &dstId) < 0) {
            res->incompatible = g_strdup(vfmigGetLastErrorMessage());
            vfmigResetLastError();
            goto done;
        }
    }

    res->givenStopUs = params->stopLatencyUs;
    res->givenResumeUs = params->resumeLatencyUs;
    res->hintStopUs = params->stopLatencyUs;
    res->hintResumeUs = params->resumeLatencyUs;

    if (params->calibrate && res->mode == VFMIG_STATE_PRECOPY_MULTI) {
        g_autoptr(vfmigQualifyResult) cal = vfmigQualifyResultNew();

        if (vfmigQualifyRun(params, &srcId, &dstId, res->targetUs,
                            res->deadlineUs, params->stopLatencyUs,
                            params->resumeLatencyUs, cal) < 0)
            return -1;
        if (cal->failed) {
            /* the first run is the one that failed: it is the finding */
            res->ran = true;
            res->failed = true;
            res->errorCode = cal->errorCode;
            res->error = g_steal_pointer(&cal->error);
            res->src = cal->src;
            res->dst = cal->dst;
            goto states;
        }
        res->calibrated = true;
        res->calibrationSrc = cal->src;
        vfmigQualifyDowntimeParts(&cal->src, &cal->dst, &res->calibration);
        vfmigQualifyMeasuredHints(&cal->src, &cal->dst,
                                  &res->hintStopUs, &res->hintResumeUs);
    }

    if (vfmigQualifyRun(params, &srcId, &dstId, res->targetUs,
                        res->deadlineUs, res->hintStopUs, res->hintResumeUs,
                        res) < 0)
        return -1;

 states:
    res->haveFinalStates = true;
    if (vfmigDeviceGetState(params->dev, &res->srcFinalState) < 0 ||
        (params->peer &&
         vfmigDeviceGetState(params->peer, &res->dstFinalState) < 0)) {
        res->haveFinalStates = false;
        vfmigResetLastError();
    }
    if (!params->peer)
        res->dstFinalState = res->srcFinalState;

 done:
    vfmigQualifyEvaluate(res);
    *result = g_steal_pointer(&res);
    return 0;
}
