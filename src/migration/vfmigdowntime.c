/*
 * vfmigdowntime.c: the downtime policy, as pure functions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "vfmigdowntime.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"


static uint64_t
vfmigDowntimeAdd(uint64_t a,
                 uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}


uint64_t
vfmigDowntimeBytesToUs(uint64_t bytes,
                       uint64_t bw)
{
    double us;
    uint64_t whole;

    if (bytes == 0)
        return 0;
    if (bw == 0 || bytes == VFMIG_DOWNTIME_UNKNOWN)
        return VFMIG_DOWNTIME_UNKNOWN;

    us = (double) bytes * 1e6 / (double) bw;
    if (us >= 1.8e19)
        return VFMIG_DOWNTIME_UNKNOWN;
    whole = (uint64_t) us;
    if ((double) whole < us)
        whole++;
    return whole;
}


static int
vfmigDowntimeCompareU64(const void *a,
                        const void *b)
{
    uint64_t x = *(const uint64_t *) a;
    uint64_t y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}


/*
 * The bandwidth is smoothed as the median of the last
 * VFMIG_DOWNTIME_BW_WINDOW samples (fewer at the start; the mean of the two
 * middle ones for an even count).  A median ignores a single window that
 * caught a stall (0) or a burst, follows a real change of the link within
 * three samples, and, unlike an EWMA, needs no constant tuned to the
 * sampling interval.  Zero samples are kept: a link that sends nothing for
 * most of the window has no usable bandwidth, and every time computed from
 * it is then UNKNOWN rather than a division by zero.
 */
static uint64_t
vfmigDowntimeSmoothedBandwidth(const vfmigDowntimeState *state)
{
    uint64_t sorted[VFMIG_DOWNTIME_BW_WINDOW];
    size_t n = state->nsamples < VFMIG_DOWNTIME_BW_WINDOW ?
        (size_t) state->nsamples : VFMIG_DOWNTIME_BW_WINDOW;
    size_t i;

    G_STATIC_ASSERT(VFMIG_DOWNTIME_BW_WINDOW <= VFMIG_DOWNTIME_WINDOW);
    if (n == 0)
        return 0;

    /* the newest n of the trend ring */
    for (i = 0; i < n; i++)
        sorted[i] = state->bw[(state->nsamples - 1 - i) % VFMIG_DOWNTIME_WINDOW];
    qsort(sorted, n, sizeof(sorted[0]), vfmigDowntimeCompareU64);
    if (n % 2 == 1)
        return sorted[n / 2];
    return sorted[n / 2 - 1] / 2 + sorted[n / 2] / 2 +
        (sorted[n / 2 - 1] % 2 + sorted[n / 2] % 2) / 2;
}


/* The highest sample bandwidth over the trend window. */
static uint64_t
vfmigDowntimeHighBandwidth(const vfmigDowntimeState *state)
{
    size_t n = MIN(state->nsamples, (uint64_t) VFMIG_DOWNTIME_WINDOW);
    uint64_t high = 0;
    size_t i;

    for (i = 0; i < n; i++)
        high = MAX(high, state->bw[i]);
    return high;
}


/*
 * QEMU switches at the first check where its pending fits its latest
 * bandwidth estimate x the limit, and that estimate is one 100 ms window:
 * over a shaped link it spikes to twice the rate (a burst into the
 * socket's buffers; bench-steer S3b saw 42-50 MiB/s on a 23 MiB/s link),
 * and a switch taken then sends twice what the budget allowed.  The
 * limit is the budget scaled by the smoothed bandwidth over the highest
 * of the window, so that a switch at the highest estimate still fits.
 */
static uint64_t
vfmigDowntimeScaleLimit(uint64_t budgetMs,
                        uint64_t bandwidth,
                        uint64_t high)
{
    if (bandwidth == 0 || high <= bandwidth)
        return budgetMs;
    return (uint64_t) ((double) budgetMs * (double) bandwidth / (double) high);
}


/*
 * Whether @series (one of the state's rings) has stopped shrinking over the
 * last @n samples.  Two robust tests must agree, so that noise in single
 * samples does not decide:
 *  - the least-squares slope against the timestamps is >= 0, and
 *  - the newer half of the window holds no value below the minimum of the
 *    older half (no new low).
 * A converging run, however noisy, keeps setting new lows and has a
 * negative trend; a run where dirtying outruns the bandwidth has neither.
 */
static bool
vfmigDowntimeNotShrinking(const vfmigDowntimeState *state,
                          const uint64_t *series,
                          unsigned int n)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    double dn = n;
    uint64_t t0;
    uint64_t minOld = UINT64_MAX;
    uint64_t minNew = UINT64_MAX;
    unsigned int i;

    if (state->nsamples < n)
        return false;

    t0 = state->t[(state->nsamples - n) % VFMIG_DOWNTIME_WINDOW];
    for (i = 0; i < n; i++) {
        size_t idx = (state->nsamples - n + i) % VFMIG_DOWNTIME_WINDOW;
        double x = (double) (state->t[idx] - t0);
        double y = (double) series[idx];

        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;

        if (i < n / 2)
            minOld = MIN(minOld, series[idx]);
        else
            minNew = MIN(minNew, series[idx]);
    }

    /* All samples at one instant: no trend can be measured. */
    if (dn * sxx - sx * sx <= 0)
        return false;

    /* The sign of the slope is the sign of n*Sxy - Sx*Sy. */
    return dn * sxy - sx * sy >= 0 && minNew >= minOld;
}


void
vfmigDowntimeStateInit(vfmigDowntimeState *state)
{
    memset(state, 0, sizeof(*state));
}


int
vfmigDowntimePolicyValidate(const vfmigDowntimePolicy *policy)
{
    if (policy->target_us == 0) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("the downtime target must be greater than 0"));
        return -1;
    }

    if (policy->on_failure != VFMIG_DOWNTIME_ON_FAILURE_ABORT &&
        policy->on_failure != VFMIG_DOWNTIME_ON_FAILURE_SWITCH) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("unknown downtime failure action %1$d"),
                         (int) policy->on_failure);
        return -1;
    }

    if (policy->min_samples != 0 &&
        (policy->min_samples < VFMIG_DOWNTIME_MIN_SAMPLES_LOWEST ||
         policy->min_samples > VFMIG_DOWNTIME_WINDOW)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("the downtime trend window must be %1$d to %2$d samples, not %3$u"),
                         VFMIG_DOWNTIME_MIN_SAMPLES_LOWEST,
                         VFMIG_DOWNTIME_WINDOW, policy->min_samples);
        return -1;
    }

    return 0;
}


static int
vfmigDowntimeSampleValidate(const vfmigDowntimeState *state,
                            const vfmigDowntimeSample *sample)
{
    if (sample->ndevices == 0 && !sample->has_ram) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("a downtime sample needs devices or guest RAM"));
        return -1;
    }

    if (sample->ndevices > 0 && !sample->devices) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("a downtime sample announces %1$zu devices but has none"),
                         sample->ndevices);
        return -1;
    }

    if (state->nsamples > 0 && sample->ndevices != state->ndevices) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("a downtime sample has %1$zu devices, the previous ones had %2$zu"),
                         sample->ndevices, state->ndevices);
        return -1;
    }

    if (state->nsamples > 0 && sample->timestamp_us < state->last_us) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("a downtime sample at %1$llu us is older than the previous one at %2$llu us"),
                         (unsigned long long) sample->timestamp_us,
                         (unsigned long long) state->last_us);
        return -1;
    }

    return 0;
}


/* Whether the latest sample's residue (pending bytes: RAM and devices'
 * residue, without the initial bytes, whose draining does not shrink what
 * the stop phase sends) fell by at least VFMIG_DOWNTIME_SHRINK_PERCENT from
 * the one before. */
static bool
vfmigDowntimeShrinking(const vfmigDowntimeState *state)
{
    size_t cur;
    size_t prev;
    uint64_t now;
    uint64_t before;

    if (state->nsamples < 2)
        return false;
    cur = (state->nsamples - 1) % VFMIG_DOWNTIME_WINDOW;
    prev = (state->nsamples - 2) % VFMIG_DOWNTIME_WINDOW;
    now = state->progress[cur] - MIN(state->progress[cur], state->initial[cur]);
    before = state->progress[prev] - MIN(state->progress[prev], state->initial[prev]);
    return now < before &&
           before - now >= before / 100 * VFMIG_DOWNTIME_SHRINK_PERCENT;
}


static uint64_t
vfmigDowntimeClampLimit(uint64_t ms)
{
    return CLAMP(ms, VFMIG_DOWNTIME_QEMU_LIMIT_MIN_MS,
                 VFMIG_DOWNTIME_QEMU_LIMIT_MAX_MS);
}


/*
 * What the rules decide from: the sample's figures, computed once by
 * vfmigDowntimeMeasure (which also records the sample in the state).
 */
typedef struct _vfmigDowntimeFacts vfmigDowntimeFacts;
struct _vfmigDowntimeFacts {
    const vfmigDowntimePolicy *policy;
    const vfmigDowntimeSample *sample;
    uint64_t residueUs;             /* RAM and devices' residue, us */
    uint64_t limitMs;               /* the budget in QEMU's ms */
    bool meets;                     /* the prediction meets the target */
    bool notConverging;             /* the progress stopped shrinking */
    bool initialStuck;              /* initial data without a new low for
                                     * VFMIG_DOWNTIME_INITIAL_STUCK_US */
    bool deadlinePassed;
};


/* Validates and records @sample, and fills @result's prediction, the
 * QEMU limit and the @facts the rules decide from. */
static int
vfmigDowntimeMeasure(vfmigDowntimeState *state,
                     const vfmigDowntimePolicy *policy,
                     const vfmigDowntimeSample *sample,
                     vfmigDowntimeResult *result,
                     vfmigDowntimeFacts *facts)
{
    unsigned int window = policy->min_samples ?
        policy->min_samples : VFMIG_DOWNTIME_MIN_SAMPLES_DEFAULT;
    uint64_t ramBytes = sample->has_ram ? sample->ram_remaining_bytes : 0;
    uint64_t residueUs;
    uint64_t budgetUs;
    uint64_t limitMs;
    size_t slot;
    size_t i;

    if (vfmigDowntimePolicyValidate(policy) < 0 ||
        vfmigDowntimeSampleValidate(state, sample) < 0)
        return -1;

    memset(result, 0, sizeof(*result));
    memset(facts, 0, sizeof(*facts));
    facts->policy = policy;
    facts->sample = sample;

    for (i = 0; i < sample->ndevices; i++) {
        const vfmigDowntimeDeviceSample *dev = &sample->devices[i];
        uint64_t residue;

        /* What the device will send once stopped: its stop-copy size when
         * it reports one (this is also QEMU's exact pending for VFIO),
         * else every pre-copy byte still unread (QEMU's estimate). */
        if (dev->stop_copy_bytes != VFMIG_DOWNTIME_UNKNOWN)
            residue = dev->stop_copy_bytes;
        else
            residue = vfmigDowntimeAdd(dev->initial_bytes, dev->dirty_bytes);

        result->device_residue_bytes =
            vfmigDowntimeAdd(result->device_residue_bytes, residue);
        result->initial_bytes =
            vfmigDowntimeAdd(result->initial_bytes, dev->initial_bytes);
    }
    result->latency_us = vfmigDowntimeLatencies(policy, sample->devices,
                                                sample->ndevices,
                                                &result->stop_latency_us,
                                                &result->resume_latency_us);

    /* The sample is valid: record it. */
    if (state->nsamples == 0) {
        state->first_us = sample->timestamp_us;
        state->ndevices = sample->ndevices;
    }
    state->last_us = sample->timestamp_us;
    slot = state->nsamples % VFMIG_DOWNTIME_WINDOW;
    result->pending_bytes = vfmigDowntimeAdd(ramBytes,
                                             result->device_residue_bytes);
    state->t[slot] = sample->timestamp_us;
    state->bw[slot] = sample->bandwidth;
    /* Progress counts the initial bytes too: they must be sent before any
     * switch, and while they drain a device's stop-copy size may stay put
     * (mlx5 reports its whole state). */
    state->progress[slot] = vfmigDowntimeAdd(result->pending_bytes,
                                             result->initial_bytes);
    state->initial[slot] = result->initial_bytes;
    if (state->nsamples == 0 || result->initial_bytes < state->initial_low) {
        state->initial_low = result->initial_bytes;
        state->initial_low_us = sample->timestamp_us;
    }
    state->nsamples++;

    result->bandwidth = vfmigDowntimeSmoothedBandwidth(state);
    result->bandwidth_high = vfmigDowntimeHighBandwidth(state);
    /* all RAM dirty at every pass: the switch repeats a whole pass, zero
     * pages and all, whatever QEMU still counts at this moment */
    if (sample->has_ram && sample->ram_pass_us)
        result->ram_us = sample->ram_pass_us;
    else
        result->ram_us = vfmigDowntimeBytesToUs(ramBytes, result->bandwidth);
    result->device_residue_us =
        vfmigDowntimeBytesToUs(result->device_residue_bytes, result->bandwidth);
    residueUs = vfmigDowntimeAdd(result->ram_us, result->device_residue_us);
    result->predicted_us = vfmigDowntimeAdd(residueUs, result->latency_us);
    if (result->predicted_us > policy->target_us)
        result->overshoot_us = result->predicted_us == VFMIG_DOWNTIME_UNKNOWN ?
            VFMIG_DOWNTIME_UNKNOWN : result->predicted_us - policy->target_us;
    result->ram_dirty_exceeds_bandwidth =
        sample->has_ram && sample->ram_dirty_rate > 0 &&
        sample->ram_dirty_rate >= result->bandwidth;

    /*
     * QEMU switches when pending <= bandwidth x downtime-limit, i.e. when
     * the residue time <= downtime-limit, and knows nothing of device
     * latency.  So the limit is the target minus the latencies, rounded
     * down to QEMU's ms, and this policy uses the same rounded budget so
     * that both switch on the same sample (at most 1 ms conservative).
     * Holding QEMU off until the initial data is sent is switchover-ack's
     * job (on by default with libvirt 11.3 and QEMU >= 8.1); the limit is
     * not lowered for it.
     */
    budgetUs = policy->target_us > result->latency_us ?
        policy->target_us - result->latency_us : 0;
    /*
     * While the residue still shrinks, waiting a round costs little and
     * the bandwidth of the stop phase is not the median it was predicted
     * from: switching at the first sample just under the budget misses
     * the target whenever the link is a few percent slower then.  So a
     * shrinking residue must fit a margin of the budget; one that stopped
     * shrinking gets the whole budget (waiting would not help).  Measured
     * by tests/bench/bench-downtime: 93.9 % of the convergeable runs met
     * the target without the margin, 99.8 % with it, total time +1 %.
     */
    /* whether QEMU's rule can express the target at all: before the
     * margin, which only delays a switch */
    result->latency_exceeds_target =
        budgetUs / 1000 < VFMIG_DOWNTIME_QEMU_LIMIT_MIN_MS;
    if (vfmigDowntimeShrinking(state))
        budgetUs = budgetUs / 100 * VFMIG_DOWNTIME_MARGIN_PERCENT;
    limitMs = budgetUs / 1000;
    result->qemu_downtime_limit_ms =
        vfmigDowntimeClampLimit(vfmigDowntimeScaleLimit(limitMs,
                                                        result->bandwidth,
                                                        result->bandwidth_high));

    facts->residueUs = residueUs;
    facts->limitMs = limitMs;
    facts->meets = (residueUs != VFMIG_DOWNTIME_UNKNOWN &&
                    !result->latency_exceeds_target &&
                    residueUs <= limitMs * 1000) ||
        (result->pending_bytes == 0 &&
         result->latency_us <= policy->target_us);
    facts->notConverging = vfmigDowntimeNotShrinking(state, state->progress,
                                                     window);
    facts->initialStuck = result->initial_bytes > 0 &&
        sample->timestamp_us - state->initial_low_us >=
        VFMIG_DOWNTIME_INITIAL_STUCK_US;
    facts->deadlinePassed = policy->deadline_us > 0 &&
        sample->timestamp_us - state->first_us >= policy->deadline_us;
    return 0;
}


/*
 * The target cannot be met for @reason: what the failure policy says.
 * Under abort, give up.  Under switch-anyway, never before the initial
 * data is sent (switchover-ack would not let QEMU either): wait while it
 * drains, give up when it is stuck; else switch now, with a limit just
 * above the residue time that makes QEMU's rule fire at once.
 */
static void
vfmigDowntimeFail(const vfmigDowntimeFacts *f,
                  vfmigDowntimeResult *result,
                  vfmigDowntimeReason reason)
{
    result->reason = reason;
    if (f->policy->on_failure == VFMIG_DOWNTIME_ON_FAILURE_ABORT) {
        result->decision = VFMIG_DOWNTIME_GIVE_UP;
        return;
    }
    if (result->initial_bytes > 0) {
        if (f->initialStuck) {
            result->decision = VFMIG_DOWNTIME_GIVE_UP;
            result->reason = VFMIG_DOWNTIME_REASON_INITIAL_STUCK;
        } else {
            result->decision = VFMIG_DOWNTIME_CONTINUE;
            result->waiting_for_initial = true;
        }
        return;
    }
    result->decision = VFMIG_DOWNTIME_SWITCH_ANYWAY;
    if (f->residueUs == VFMIG_DOWNTIME_UNKNOWN)
        result->qemu_downtime_limit_ms = VFMIG_DOWNTIME_QEMU_LIMIT_MAX_MS;
    else
        result->qemu_downtime_limit_ms =
            vfmigDowntimeClampLimit(f->residueUs / 1000 + 1);
}


/* ---- the rules ----
 *
 * Each rule looks at the facts and either decides (fills the result's
 * decision and reason, returns true) or passes (false).  They run in the
 * order of vfmigDowntimeRules; the first that decides wins, and the
 * debug log names it.  A new rule is a function here and a row in the
 * table, at the place where it must take precedence over the rows below.
 */

/* The prediction meets the target and no initial data is left: switch. */
static bool
vfmigDowntimeRuleConverged(const vfmigDowntimeFacts *f,
                           vfmigDowntimeResult *result)
{
    if (!f->meets || result->initial_bytes > 0)
        return false;
    result->decision = VFMIG_DOWNTIME_SWITCH_OVER;
    result->reason = VFMIG_DOWNTIME_REASON_CONVERGED;
    return true;
}


/* The deadline passed. */
static bool
vfmigDowntimeRuleDeadline(const vfmigDowntimeFacts *f,
                          vfmigDowntimeResult *result)
{
    if (!f->deadlinePassed)
        return false;
    vfmigDowntimeFail(f, result, VFMIG_DOWNTIME_REASON_DEADLINE);
    return true;
}


/* The latencies alone exceed the target.  Under abort there is nothing
 * to wait for; under switch-anyway the best effort is the smallest
 * residue: keep going while it shrinks. */
static bool
vfmigDowntimeRuleLatency(const vfmigDowntimeFacts *f,
                         vfmigDowntimeResult *result)
{
    if (!result->latency_exceeds_target || f->meets)
        return false;
    if (f->policy->on_failure != VFMIG_DOWNTIME_ON_FAILURE_ABORT &&
        result->pending_bytes > 0 && !f->notConverging)
        return false;
    vfmigDowntimeFail(f, result, VFMIG_DOWNTIME_REASON_LATENCY);
    return true;
}


/* All guest RAM is dirty at every pass and no pass was timed yet: the
 * RAM's part of any switch is not known, and the progress (whose RAM part
 * is all of it) says nothing of it: wait for the first pass to end. */
static bool
vfmigDowntimeRuleRamUntimed(const vfmigDowntimeFacts *f,
                            vfmigDowntimeResult *result)
{
    if (!f->sample->has_ram ||
        f->sample->ram_pass_us != VFMIG_DOWNTIME_UNKNOWN)
        return false;
    result->decision = VFMIG_DOWNTIME_CONTINUE;
    result->reason = VFMIG_DOWNTIME_REASON_RAM_UNTIMED;
    return true;
}


/* The progress stopped shrinking: dirtying outruns the bandwidth. */
static bool
vfmigDowntimeRuleNotConverging(const vfmigDowntimeFacts *f,
                               vfmigDowntimeResult *result)
{
    if (!f->notConverging)
        return false;
    vfmigDowntimeFail(f, result, VFMIG_DOWNTIME_REASON_NOT_CONVERGING);
    return true;
}


/* Nothing failed: keep iterating, for the initial data when the target
 * is met already. */
static bool
vfmigDowntimeRuleContinue(const vfmigDowntimeFacts *f,
                          vfmigDowntimeResult *result)
{
    result->decision = VFMIG_DOWNTIME_CONTINUE;
    result->reason = f->meets ? VFMIG_DOWNTIME_REASON_INITIAL_PENDING :
        VFMIG_DOWNTIME_REASON_CONVERGING;
    return true;
}


typedef struct _vfmigDowntimeRule vfmigDowntimeRule;
struct _vfmigDowntimeRule {
    vfmigDowntimeRuleId id;
    bool (*decide)(const vfmigDowntimeFacts *f,
                   vfmigDowntimeResult *result);
};

/* In the order they are tried; the last always decides. */
static const vfmigDowntimeRule vfmigDowntimeRules[] = {
    { VFMIG_DOWNTIME_RULE_CONVERGED, vfmigDowntimeRuleConverged },
    { VFMIG_DOWNTIME_RULE_DEADLINE, vfmigDowntimeRuleDeadline },
    { VFMIG_DOWNTIME_RULE_LATENCY, vfmigDowntimeRuleLatency },
    { VFMIG_DOWNTIME_RULE_RAM_UNTIMED, vfmigDowntimeRuleRamUntimed },
    { VFMIG_DOWNTIME_RULE_NOT_CONVERGING, vfmigDowntimeRuleNotConverging },
    { VFMIG_DOWNTIME_RULE_CONTINUE, vfmigDowntimeRuleContinue },
};
G_STATIC_ASSERT(G_N_ELEMENTS(vfmigDowntimeRules) == VFMIG_DOWNTIME_RULE_LAST);


static int
vfmigDowntimeDecide(vfmigDowntimeState *state,
                    const vfmigDowntimePolicy *policy,
                    const vfmigDowntimeSample *sample,
                    vfmigDowntimeResult *result)
{
    vfmigDowntimeFacts facts;
    size_t i;

    if (vfmigDowntimeMeasure(state, policy, sample, result, &facts) < 0)
        return -1;
    for (i = 0; i < G_N_ELEMENTS(vfmigDowntimeRules); i++) {
        if (vfmigDowntimeRules[i].decide(&facts, result)) {
            result->rule = vfmigDowntimeRules[i].id;
            return 0;
        }
    }
    /* not reached: the last rule always decides */
    result->rule = VFMIG_DOWNTIME_RULE_CONTINUE;
    return 0;
}


VFMIG_ENUM_IMPL(vfmigDowntimeDecision, VFMIG_DOWNTIME_DECISION_LAST,
                [VFMIG_DOWNTIME_CONTINUE] = "continue",
                [VFMIG_DOWNTIME_SWITCH_OVER] = "switch-over",
                [VFMIG_DOWNTIME_GIVE_UP] = "give-up",
                [VFMIG_DOWNTIME_SWITCH_ANYWAY] = "switch-anyway",
);

VFMIG_ENUM_IMPL(vfmigDowntimeReason, VFMIG_DOWNTIME_REASON_LAST,
                [VFMIG_DOWNTIME_REASON_CONVERGING] = "converging",
                [VFMIG_DOWNTIME_REASON_INITIAL_PENDING] = "initial-pending",
                [VFMIG_DOWNTIME_REASON_CONVERGED] = "converged",
                [VFMIG_DOWNTIME_REASON_NOT_CONVERGING] = "not-converging",
                [VFMIG_DOWNTIME_REASON_LATENCY] = "latency",
                [VFMIG_DOWNTIME_REASON_DEADLINE] = "deadline",
                [VFMIG_DOWNTIME_REASON_RAM_UNTIMED] = "ram-untimed",
                [VFMIG_DOWNTIME_REASON_INITIAL_STUCK] = "initial-stuck",
);

VFMIG_ENUM_IMPL(vfmigDowntimeRuleId, VFMIG_DOWNTIME_RULE_LAST,
                [VFMIG_DOWNTIME_RULE_CONVERGED] = "converged",
                [VFMIG_DOWNTIME_RULE_DEADLINE] = "deadline",
                [VFMIG_DOWNTIME_RULE_LATENCY] = "latency",
                [VFMIG_DOWNTIME_RULE_RAM_UNTIMED] = "ram-untimed",
                [VFMIG_DOWNTIME_RULE_NOT_CONVERGING] = "not-converging",
                [VFMIG_DOWNTIME_RULE_CONTINUE] = "continue",
);


/* The debug lines of one decision: its inputs, then its outcome. */
static void
vfmigDowntimeDebug(const vfmigDowntimeState *state,
                   const vfmigDowntimePolicy *policy,
                   const vfmigDowntimeSample *sample,
                   const vfmigDowntimeResult *result)
{
    size_t i;

    VFMIG_DEBUG("sample %llu at %llu us: policy target %llu us, deadline %llu us, on failure %s, window %u, %s transitions",
                (unsigned long long) state->nsamples, (unsigned long long) sample->timestamp_us,
                (unsigned long long) policy->target_us,
                (unsigned long long) policy->deadline_us,
                policy->on_failure == VFMIG_DOWNTIME_ON_FAILURE_ABORT ? "abort" : "switch",
                policy->min_samples ? policy->min_samples : VFMIG_DOWNTIME_MIN_SAMPLES_DEFAULT,
                policy->concurrent_transitions ? "concurrent" : "serial");
    if (sample->has_ram) {
        VFMIG_DEBUG("sample %llu: RAM remaining %llu bytes, dirtied %llu B/s; bandwidth %llu B/s (smoothed %llu B/s)",
                    (unsigned long long) state->nsamples,
                    (unsigned long long) sample->ram_remaining_bytes,
                    (unsigned long long) sample->ram_dirty_rate,
                    (unsigned long long) sample->bandwidth,
                    (unsigned long long) result->bandwidth);
        if (sample->ram_pass_us == VFMIG_DOWNTIME_UNKNOWN)
            VFMIG_DEBUG("sample %llu: all RAM dirty at every pass; no pass timed yet",
                        (unsigned long long) state->nsamples);
        else if (sample->ram_pass_us)
            VFMIG_DEBUG("sample %llu: all RAM dirty at every pass; a pass takes %llu us",
                        (unsigned long long) state->nsamples,
                        (unsigned long long) sample->ram_pass_us);
    } else {
        VFMIG_DEBUG("sample %llu: no RAM; bandwidth %llu B/s (smoothed %llu B/s)",
                    (unsigned long long) state->nsamples,
                    (unsigned long long) sample->bandwidth,
                    (unsigned long long) result->bandwidth);
    }
    for (i = 0; i < sample->ndevices; i++) {
        const vfmigDowntimeDeviceSample *dev = &sample->devices[i];

        VFMIG_DEBUG("sample %llu: device %zu: initial %llu, dirty %llu, stop-copy %s%llu bytes; stop %llu us, resume %llu us",
                    (unsigned long long) state->nsamples, i,
                    (unsigned long long) dev->initial_bytes,
                    (unsigned long long) dev->dirty_bytes,
                    dev->stop_copy_bytes == VFMIG_DOWNTIME_UNKNOWN ? "unknown, " : "",
                    (unsigned long long) (dev->stop_copy_bytes == VFMIG_DOWNTIME_UNKNOWN ?
                                          0 : dev->stop_copy_bytes),
                    (unsigned long long) dev->stop_latency_us,
                    (unsigned long long) dev->resume_latency_us);
    }
    VFMIG_DEBUG("sample %llu: rule '%s' decided",
                (unsigned long long) state->nsamples,
                vfmigDowntimeRuleIdToString(result->rule));
    VFMIG_DEBUG("sample %llu: %s (%s%s): predicted %llu us = RAM %llu + devices %llu + latency %llu; pending %llu bytes, initial %llu; QEMU downtime-limit %llu ms",
                (unsigned long long) state->nsamples,
                vfmigDowntimeDecisionToString(result->decision),
                vfmigDowntimeReasonToString(result->reason),
                result->waiting_for_initial ? ", waiting for initial data" : "",
                (unsigned long long) result->predicted_us,
                (unsigned long long) result->ram_us,
                (unsigned long long) result->device_residue_us,
                (unsigned long long) result->latency_us,
                (unsigned long long) result->pending_bytes,
                (unsigned long long) result->initial_bytes,
                (unsigned long long) result->qemu_downtime_limit_ms);
}


int
vfmigDowntimeMsToUs(uint64_t ms,
                    uint64_t *us)
{
    if (ms > (UINT64_MAX - 1) / 1000)
        return -1;
    *us = ms * 1000;
    return 0;
}


uint64_t
vfmigDowntimeLatencies(const vfmigDowntimePolicy *policy,
                       const vfmigDowntimeDeviceSample *devices,
                       size_t ndevices,
                       uint64_t *stopUs,
                       uint64_t *resumeUs)
{
    uint64_t stopMax = 0, stopSum = 0, resumeMax = 0, resumeSum = 0;
    size_t i;

    for (i = 0; i < ndevices; i++) {
        stopMax = MAX(stopMax, devices[i].stop_latency_us);
        resumeMax = MAX(resumeMax, devices[i].resume_latency_us);
        stopSum = vfmigDowntimeAdd(stopSum, devices[i].stop_latency_us);
        resumeSum = vfmigDowntimeAdd(resumeSum, devices[i].resume_latency_us);
    }

    /*
     * Device latencies: the source stops every device, then the
     * destination resumes every device, so stop and resume add up.  Within
     * each, QEMU 10 moves the devices one after the other: its vm-state
     * change handlers run in turn on the main thread, each a blocking
     * SET_STATE ioctl (firmware commands for mlx5), so the latencies of N
     * devices add up, and that is the default here.  An engine that issues
     * the transitions concurrently (one thread per device) waits only for
     * the slowest device: policy.concurrent_transitions takes the maximum.
     */
    if (policy->concurrent_transitions) {
        *stopUs = stopMax;
        *resumeUs = resumeMax;
    } else {
        *stopUs = stopSum;
        *resumeUs = resumeSum;
    }
    return vfmigDowntimeAdd(*stopUs, *resumeUs);
}



int
vfmigDowntimeEvaluate(vfmigDowntimeState *state,
                      const vfmigDowntimePolicy *policy,
                      const vfmigDowntimeSample *sample,
                      vfmigDowntimeResult *result)
{
    if (vfmigDowntimeDecide(state, policy, sample, result) < 0)
        return -1;
    if (vfmigLogDebugEnabled())
        vfmigDowntimeDebug(state, policy, sample, result);
    return 0;
}
