/*
 * test-downtime.c: the downtime policy on synthetic sample sequences
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <glib.h>

#include "vfmigdowntime.h"
#include "vfmigdowntimeparams.h"
#include "vfmigerror.h"

#define MS 1000ULL                  /* us */
#define STEP (100 * MS)             /* sampling interval */
#define MB 1000000ULL
#define GBPS 1000000000ULL          /* bytes/s */
#define UNK VFMIG_DOWNTIME_UNKNOWN


static vfmigDowntimePolicy
testPolicy(vfmigDowntimeOnFailure onFailure)
{
    vfmigDowntimePolicy p = {
        .target_us = 300 * MS,
        .deadline_us = 0,
        .on_failure = onFailure,
        .min_samples = 8,
    };
    return p;
}


static vfmigDowntimeDeviceSample
testDev(uint64_t initial,
        uint64_t dirty,
        uint64_t stopCopy,
        uint64_t stopLat,
        uint64_t resumeLat)
{
    vfmigDowntimeDeviceSample d = {
        .initial_bytes = initial,
        .dirty_bytes = dirty,
        .stop_copy_bytes = stopCopy,
        .stop_latency_us = stopLat,
        .resume_latency_us = resumeLat,
    };
    return d;
}


/* Feeds one sample at k * STEP with the given devices, no RAM. */
static void
testFeed(vfmigDowntimeState *st,
         const vfmigDowntimePolicy *p,
         unsigned int k,
         const vfmigDowntimeDeviceSample *devs,
         size_t ndevs,
         uint64_t bw,
         vfmigDowntimeResult *res)
{
    vfmigDowntimeSample s = {
        .timestamp_us = k * STEP,
        .devices = devs,
        .ndevices = ndevs,
        .bandwidth = bw,
    };

    g_assert_cmpint(vfmigDowntimeEvaluate(st, p, &s, res), ==, 0);
}


/* One device, dirty residue 1000 MB - 100 MB per sample at 1 GB/s.  The
 * residue time is within the 300 ms target at sample 7, but the residue
 * still shrinks, so it must fit 80 % of it (240 ms): switch at sample 8. */
static void
testConverging(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    unsigned int k;

    vfmigDowntimeStateInit(&st);
    for (k = 0; k <= 8; k++) {
        vfmigDowntimeDeviceSample d = testDev(0, 1000 * MB - k * 100 * MB,
                                              UNK, 0, 0);

        testFeed(&st, &p, k, &d, 1, GBPS, &res);
        /* the first sample has no trend yet: the whole budget */
        g_assert_cmpuint(res.qemu_downtime_limit_ms, ==, k == 0 ? 300 : 240);
        g_assert_cmpuint(res.device_residue_us, ==, 1000 * MS - k * 100 * MS);
        g_assert_cmpuint(res.ram_us, ==, 0);
        if (k < 8) {
            g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_CONTINUE);
            g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_CONVERGING);
            if (res.predicted_us > 300 * MS)
                g_assert_cmpuint(res.overshoot_us, ==, res.predicted_us - 300 * MS);
        }
    }
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);
    g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_CONVERGED);
    g_assert_cmpuint(res.predicted_us, ==, 200 * MS);
    g_assert_cmpuint(res.overshoot_us, ==, 0);
    g_assert_cmpuint(res.pending_bytes, ==, 200 * MB);
    g_assert_false(res.latency_exceeds_target);
}


/* A residue that stops shrinking gets the whole budget back: 1000, 500,
 * 290, 290 MB at 1 GB/s switch at the second 290 (290 ms <= 300 ms), not
 * at the first (still shrinking: 290 ms > 240 ms). */
static void
testMarginStall(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    const uint64_t residue[] = { 1000 * MB, 500 * MB, 290 * MB, 290 * MB };
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    unsigned int k;

    vfmigDowntimeStateInit(&st);
    for (k = 0; k < G_N_ELEMENTS(residue); k++) {
        vfmigDowntimeDeviceSample d = testDev(0, residue[k], UNK, 0, 0);

        testFeed(&st, &p, k, &d, 1, GBPS, &res);
        if (k == 2) {
            g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_CONTINUE);
            g_assert_cmpuint(res.qemu_downtime_limit_ms, ==, 240);
        }
    }
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);
    g_assert_cmpuint(res.qemu_downtime_limit_ms, ==, 300);
    g_assert_cmpuint(res.predicted_us, ==, 290 * MS);
}


/* A tiny stop-copy residue from the start, but 100 MB of initial data
 * draining 10 MB per sample: no switch before it is all sent. */
static void
testInitialGate(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    unsigned int k;

    vfmigDowntimeStateInit(&st);
    for (k = 0; k <= 10; k++) {
        vfmigDowntimeDeviceSample d = testDev(100 * MB - k * 10 * MB,
                                              MB, MB, 0, 0);

        testFeed(&st, &p, k, &d, 1, GBPS, &res);
        g_assert_cmpuint(res.device_residue_bytes, ==, MB);
        g_assert_cmpuint(res.predicted_us, ==, 1 * MS);
        if (k < 10) {
            g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_CONTINUE);
            g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_INITIAL_PENDING);
        }
    }
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);
}


/* QEMU's bandwidth estimate spikes to twice the link for one sample (a
 * burst into the socket's buffers): for as long as the spike is in the
 * trend window, the limit is the budget scaled by the smoothed bandwidth
 * over the spike, so that QEMU's threshold at the spike is still the
 * budget's bytes at the smoothed bandwidth; whether the prediction meets
 * the target is judged on the budget itself. */
static void
testBandwidthSpike(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    unsigned int k;

    vfmigDowntimeStateInit(&st);
    for (k = 0; k < 40; k++) {
        vfmigDowntimeDeviceSample d = testDev(0, 100 * MB, UNK, 0, 0);
        bool inWindow = k >= 2 && k < 2 + VFMIG_DOWNTIME_WINDOW;

        testFeed(&st, &p, k, &d, 1, k == 2 ? 2 * GBPS : GBPS, &res);
        g_assert_cmpuint(res.bandwidth, ==, GBPS);
        g_assert_cmpuint(res.bandwidth_high, ==, inWindow ? 2 * GBPS : GBPS);
        g_assert_cmpuint(res.qemu_downtime_limit_ms, ==, inWindow ? 150 : 300);
        /* QEMU's threshold at its highest estimate: the budget's bytes */
        g_assert_cmpuint(res.bandwidth_high / 1000 * res.qemu_downtime_limit_ms,
                         <=, res.bandwidth / 1000 * 300);
        g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);
        g_assert_cmpuint(res.predicted_us, ==, 100 * MS);
    }
}


/* As testConverging with 60 ms stop + 40 ms resume latency: QEMU's limit
 * drops to 200 ms (160 ms while the residue shrinks) and the switch moves
 * to sample 9. */
static void
testLatencyDelays(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    unsigned int k;

    vfmigDowntimeStateInit(&st);
    for (k = 0; k <= 9; k++) {
        vfmigDowntimeDeviceSample d = testDev(0, 1000 * MB - k * 100 * MB,
                                              UNK, 60 * MS, 40 * MS);

        testFeed(&st, &p, k, &d, 1, GBPS, &res);
        g_assert_cmpuint(res.stop_latency_us, ==, 60 * MS);
        g_assert_cmpuint(res.resume_latency_us, ==, 40 * MS);
        g_assert_cmpuint(res.latency_us, ==, 100 * MS);
        g_assert_cmpuint(res.qemu_downtime_limit_ms, ==, k == 0 ? 200 : 160);
        g_assert_cmpuint(res.predicted_us, ==,
                         res.device_residue_us + res.latency_us);
        /* QEMU's rule on the same numbers agrees with the decision. */
        g_assert_cmpint(res.pending_bytes <=
                        res.bandwidth / 1000 * res.qemu_downtime_limit_ms, ==,
                        res.decision == VFMIG_DOWNTIME_SWITCH_OVER);
        if (k < 9)
            g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_CONTINUE);
    }
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);
    g_assert_cmpuint(res.predicted_us, ==, 200 * MS);
}


/* Latencies alone (250 + 150 ms) exceed the 300 ms target. */
static void
testLatencyAlone(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    unsigned int k;

    /* Abort: nothing to wait for, give up on the first sample. */
    vfmigDowntimeStateInit(&st);
    {
        vfmigDowntimeDeviceSample d = testDev(50 * MB, 500 * MB, UNK,
                                              250 * MS, 150 * MS);

        testFeed(&st, &p, 0, &d, 1, GBPS, &res);
    }
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_GIVE_UP);
    g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_LATENCY);
    g_assert_true(res.latency_exceeds_target);
    g_assert_cmpuint(res.qemu_downtime_limit_ms, ==,
                     VFMIG_DOWNTIME_QEMU_LIMIT_MIN_MS);

    /* Switch anyway: best effort, keep going while the residue shrinks and
     * switch once it is gone, reporting the 100 ms overshoot. */
    p.on_failure = VFMIG_DOWNTIME_ON_FAILURE_SWITCH;
    vfmigDowntimeStateInit(&st);
    for (k = 0; k <= 5; k++) {
        vfmigDowntimeDeviceSample d = testDev(0, 500 * MB - k * 100 * MB, UNK,
                                              250 * MS, 150 * MS);

        testFeed(&st, &p, k, &d, 1, GBPS, &res);
        if (k < 5) {
            g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_CONTINUE);
            g_assert_true(res.latency_exceeds_target);
        }
    }
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_ANYWAY);
    g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_LATENCY);
    g_assert_cmpuint(res.predicted_us, ==, 400 * MS);
    g_assert_cmpuint(res.overshoot_us, ==, 100 * MS);

    /* Switch anyway, residue stuck at 50 MB: switch once that is clear. */
    vfmigDowntimeStateInit(&st);
    for (k = 0; k < 30; k++) {
        vfmigDowntimeDeviceSample d = testDev(0, 50 * MB, UNK,
                                              250 * MS, 150 * MS);

        testFeed(&st, &p, k, &d, 1, GBPS, &res);
        if (res.decision != VFMIG_DOWNTIME_CONTINUE)
            break;
    }
    g_assert_cmpuint(k, ==, 7);
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_ANYWAY);
    g_assert_cmpuint(res.overshoot_us, ==, 150 * MS);
    /* Above the 50 ms residue, so that QEMU switches at once. */
    g_assert_cmpuint(res.qemu_downtime_limit_ms, ==, 51);
}


/* RAM dirtied at 1.5 GB/s over a 1 GB/s link: the residue grows. */
static void
testDirtyOutruns(void)
{
    vfmigDowntimeOnFailure actions[] = {
        VFMIG_DOWNTIME_ON_FAILURE_ABORT, VFMIG_DOWNTIME_ON_FAILURE_SWITCH,
    };
    size_t a;

    for (a = 0; a < G_N_ELEMENTS(actions); a++) {
        vfmigDowntimePolicy p = testPolicy(actions[a]);
        vfmigDowntimeState st;
        vfmigDowntimeResult res;
        unsigned int k;

        vfmigDowntimeStateInit(&st);
        for (k = 0; k < 30; k++) {
            vfmigDowntimeDeviceSample d = testDev(0, 20 * MB, UNK,
                                                  10 * MS, 10 * MS);
            vfmigDowntimeSample s = {
                .timestamp_us = k * STEP,
                .devices = &d,
                .ndevices = 1,
                .has_ram = true,
                .ram_remaining_bytes = 1000 * MB + k * 50 * MB,
                .ram_dirty_rate = 3 * GBPS / 2,
                .bandwidth = GBPS,
            };

            g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, 0);
            g_assert_true(res.ram_dirty_exceeds_bandwidth);
            if (res.decision != VFMIG_DOWNTIME_CONTINUE)
                break;
        }
        /* Decided as soon as the 8-sample window is full. */
        g_assert_cmpuint(k, ==, 7);
        g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_NOT_CONVERGING);
        g_assert_cmpuint(res.ram_us, ==, 1350 * MS);
        g_assert_cmpuint(res.device_residue_us, ==, 20 * MS);
        g_assert_cmpuint(res.predicted_us, ==, 1390 * MS);
        g_assert_cmpuint(res.overshoot_us, ==, 1090 * MS);
        if (actions[a] == VFMIG_DOWNTIME_ON_FAILURE_ABORT) {
            g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_GIVE_UP);
        } else {
            g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_ANYWAY);
            g_assert_cmpuint(res.qemu_downtime_limit_ms, ==, 1371);
        }
    }
}


/* Slow but steady progress, stopped by a 1 s deadline. */
static void
testDeadline(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    unsigned int k;

    p.deadline_us = 1000 * MS;
    vfmigDowntimeStateInit(&st);
    for (k = 0; k <= 10; k++) {
        vfmigDowntimeDeviceSample d = testDev(0, 2000 * MB - k * 10 * MB,
                                              UNK, 0, 0);

        testFeed(&st, &p, k, &d, 1, GBPS, &res);
        if (k < 10)
            g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_CONTINUE);
    }
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_GIVE_UP);
    g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_DEADLINE);

    p.on_failure = VFMIG_DOWNTIME_ON_FAILURE_SWITCH;
    vfmigDowntimeStateInit(&st);
    for (k = 0; k <= 10; k++) {
        vfmigDowntimeDeviceSample d = testDev(0, 2000 * MB - k * 10 * MB,
                                              UNK, 0, 0);

        testFeed(&st, &p, k, &d, 1, GBPS, &res);
    }
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_ANYWAY);
    g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_DEADLINE);
    g_assert_cmpuint(res.predicted_us, ==, 1900 * MS);
    g_assert_cmpuint(res.overshoot_us, ==, 1600 * MS);
    g_assert_cmpuint(res.qemu_downtime_limit_ms, ==, 1901);

    /* Deadline passed with initial data still draining: the switch waits
     * for it, then happens. */
    vfmigDowntimeStateInit(&st);
    for (k = 0; k <= 14; k++) {
        vfmigDowntimeDeviceSample d = testDev(k < 14 ? 140 * MB - k * 10 * MB : 0,
                                              500 * MB, UNK, 0, 0);

        testFeed(&st, &p, k, &d, 1, GBPS, &res);
        if (k >= 10 && k < 14) {
            g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_CONTINUE);
            g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_DEADLINE);
            g_assert_true(res.waiting_for_initial);
        }
    }
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_ANYWAY);
    g_assert_false(res.waiting_for_initial);

    /* ... and if the initial data does not drain for
     * VFMIG_DOWNTIME_INITIAL_STUCK_US, switching is impossible: not before
     * (QEMU's RAM pass can hold the device's data back for seconds). */
    vfmigDowntimeStateInit(&st);
    for (k = 0; k * STEP <= VFMIG_DOWNTIME_INITIAL_STUCK_US; k++) {
        vfmigDowntimeDeviceSample d = testDev(40 * MB, 500 * MB, UNK, 0, 0);

        testFeed(&st, &p, k, &d, 1, GBPS, &res);
        if (k * STEP < VFMIG_DOWNTIME_INITIAL_STUCK_US) {
            g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_CONTINUE);
            /* the 1 s deadline passed: waiting for the initial data */
            g_assert_true(res.waiting_for_initial || k * STEP <= p.deadline_us);
        }
    }
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_GIVE_UP);
    g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_INITIAL_STUCK);

    /* A new low of the initial data restarts the wait. */
    vfmigDowntimeStateInit(&st);
    for (k = 0; k * STEP <= 2 * VFMIG_DOWNTIME_INITIAL_STUCK_US - 2 * STEP; k++) {
        uint64_t initial = k * STEP < VFMIG_DOWNTIME_INITIAL_STUCK_US - STEP ?
            40 * MB : 39 * MB;
        vfmigDowntimeDeviceSample d = testDev(initial, 500 * MB, UNK, 0, 0);

        testFeed(&st, &p, k, &d, 1, GBPS, &res);
        g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_CONTINUE);
        g_assert_true(res.waiting_for_initial || k * STEP <= p.deadline_us);
    }
}


/*
 * Converging runs (5 % less residue per sample, plus a sawtooth) seen
 * through +-20 % noise on every estimate and on the bandwidth: never a
 * give-up, always a switch-over.  The same noise on a stagnant run must
 * still end in a give-up.
 */
static void
testNoisy(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    guint32 seed;

    for (seed = 1; seed <= 200; seed++) {
        g_autoptr(GRand) rnd = g_rand_new_with_seed(seed);
        vfmigDowntimeState st;
        vfmigDowntimeResult res = { 0 };
        unsigned int k;
        double level = 1000.0 * MB;

        vfmigDowntimeStateInit(&st);
        for (k = 0; k < 200; k++) {
            double saw = (k % 4) * 0.06;    /* up 18 %, then down */
            vfmigDowntimeDeviceSample d[2];
            vfmigDowntimeSample s = {
                .timestamp_us = k * STEP + g_rand_int_range(rnd, 0, 20000),
                .devices = d,
                .ndevices = 2,
                .has_ram = true,
                .ram_dirty_rate = GBPS / 2,
            };

            d[0] = testDev(0, level * (1 + saw) *
                           g_rand_double_range(rnd, 0.8, 1.2),
                           UNK, 5 * MS, 5 * MS);
            d[1] = testDev(0, level / 4 * g_rand_double_range(rnd, 0.8, 1.2),
                           UNK, 5 * MS, 5 * MS);
            s.ram_remaining_bytes = level * g_rand_double_range(rnd, 0.8, 1.2);
            s.bandwidth = GBPS * g_rand_double_range(rnd, 0.8, 1.2);

            g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, 0);
            g_assert_cmpint(res.decision, !=, VFMIG_DOWNTIME_GIVE_UP);
            if (res.decision == VFMIG_DOWNTIME_SWITCH_OVER)
                break;
            level *= 0.95;
        }
        g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);
        g_assert_cmpuint(res.predicted_us, <=, 300 * MS);
    }

    for (seed = 1; seed <= 50; seed++) {
        g_autoptr(GRand) rnd = g_rand_new_with_seed(seed);
        vfmigDowntimeState st;
        vfmigDowntimeResult res = { 0 };
        unsigned int k;

        vfmigDowntimeStateInit(&st);
        for (k = 0; k < 200; k++) {
            vfmigDowntimeDeviceSample d = testDev(0, 800 * MB *
                                                  g_rand_double_range(rnd, 0.8, 1.2),
                                                  UNK, 0, 0);

            testFeed(&st, &p, k, &d, 1,
                     GBPS * g_rand_double_range(rnd, 0.8, 1.2), &res);
            g_assert_cmpint(res.decision, !=, VFMIG_DOWNTIME_SWITCH_OVER);
            if (res.decision != VFMIG_DOWNTIME_CONTINUE)
                break;
        }
        g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_GIVE_UP);
        g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_NOT_CONVERGING);
    }
}


/* Bandwidth 0: times unknown, never a division by zero or a switch on an
 * unknown prediction; the median rides over a single 0. */
static void
testZeroBandwidth(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_SWITCH);
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    vfmigDowntimeDeviceSample d = testDev(0, 100 * MB, UNK, 0, 0);
    vfmigDowntimeDeviceSample empty = testDev(0, 0, 0, 0, 0);
    unsigned int k;

    vfmigDowntimeStateInit(&st);
    testFeed(&st, &p, 0, &d, 1, 0, &res);
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_CONTINUE);
    g_assert_cmpuint(res.bandwidth, ==, 0);
    g_assert_cmpuint(res.device_residue_us, ==, UNK);
    g_assert_cmpuint(res.predicted_us, ==, UNK);
    g_assert_cmpuint(res.overshoot_us, ==, UNK);

    /* Stuck at 0 bandwidth: switch anyway, with an unknown overshoot and
     * the largest limit QEMU takes. */
    for (k = 1; k < 30 && res.decision == VFMIG_DOWNTIME_CONTINUE; k++)
        testFeed(&st, &p, k, &d, 1, 0, &res);
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_ANYWAY);
    g_assert_cmpuint(res.overshoot_us, ==, UNK);
    g_assert_cmpuint(res.qemu_downtime_limit_ms, ==,
                     VFMIG_DOWNTIME_QEMU_LIMIT_MAX_MS);

    /* One 0 among good samples does not matter. */
    vfmigDowntimeStateInit(&st);
    testFeed(&st, &p, 0, &d, 1, GBPS, &res);
    testFeed(&st, &p, 1, &d, 1, GBPS, &res);
    testFeed(&st, &p, 2, &d, 1, 0, &res);
    g_assert_cmpuint(res.bandwidth, ==, GBPS);
    g_assert_cmpuint(res.device_residue_us, ==, 100 * MS);
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);

    /* Nothing left to send: no bandwidth needed. */
    vfmigDowntimeStateInit(&st);
    testFeed(&st, &p, 0, &empty, 1, 0, &res);
    g_assert_cmpuint(res.predicted_us, ==, 0);
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);
}


/* Device-only migration (no VM): RAM plays no part. */
static void
testNoVM(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    vfmigDowntimeDeviceSample d = testDev(0, 400 * MB, 250 * MB, 20 * MS, 30 * MS);
    vfmigDowntimeSample s = {
        .timestamp_us = 0,
        .devices = &d,
        .ndevices = 1,
        .has_ram = false,
        .ram_remaining_bytes = 999 * MB,    /* ignored */
        .ram_dirty_rate = 99 * GBPS,        /* ignored */
        .bandwidth = GBPS,
    };

    vfmigDowntimeStateInit(&st);
    g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, 0);
    g_assert_cmpuint(res.ram_us, ==, 0);
    g_assert_false(res.ram_dirty_exceeds_bandwidth);
    /* The stop-copy size, when known, is the residue. */
    g_assert_cmpuint(res.device_residue_bytes, ==, 250 * MB);
    g_assert_cmpuint(res.pending_bytes, ==, 250 * MB);
    g_assert_cmpuint(res.predicted_us, ==, 300 * MS);
    g_assert_cmpuint(res.qemu_downtime_limit_ms, ==, 250);
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);
}


/* All RAM dirty at every pass (ram_pass_us): the RAM's part is the pass's
 * time, whatever the remaining bytes and the bandwidth say; before a pass
 * was timed, nothing is predicted and the flat progress (all RAM, a
 * device that converged) is no reason to give up: the rule ram-untimed
 * waits, after the latency rule. */
static void
testAllDirty(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    vfmigDowntimeDeviceSample d = testDev(0, 1 * MB, UNK, 10 * MS, 10 * MS);
    vfmigDowntimeSample s = {
        .devices = &d,
        .ndevices = 1,
        .has_ram = true,
        .ram_remaining_bytes = 64 * MB,     /* the switch sends all */
        .bandwidth = GBPS,
        .ram_pass_us = UNK,
    };
    unsigned int k;

    vfmigDowntimeStateInit(&st);
    for (k = 0; k < 20; k++) {
        s.timestamp_us = k * STEP;
        g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, 0);
        g_assert_cmpint(res.rule, ==, VFMIG_DOWNTIME_RULE_RAM_UNTIMED);
        g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_CONTINUE);
        g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_RAM_UNTIMED);
        g_assert_cmpuint(res.predicted_us, ==, UNK);
    }
    /* a pass of 200 ms (64 MB of mostly zero pages at 1 GB/s would say
     * 64 ms): 200 + 1 + 20 ms meets the 300 ms target */
    s.ram_pass_us = 200 * MS;
    s.timestamp_us = k * STEP;
    g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, 0);
    g_assert_cmpuint(res.ram_us, ==, 200 * MS);
    g_assert_cmpuint(res.predicted_us, ==, 221 * MS);
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);
    /* a pass of 400 ms: over the target, flat: given up */
    s.ram_pass_us = 400 * MS;
    s.timestamp_us = ++k * STEP;
    g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, 0);
    g_assert_cmpuint(res.predicted_us, ==, 421 * MS);
    g_assert_cmpint(res.rule, ==, VFMIG_DOWNTIME_RULE_NOT_CONVERGING);
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_GIVE_UP);

    /* latencies alone over the target: given up before any pass */
    vfmigDowntimeStateInit(&st);
    d = testDev(0, 1 * MB, UNK, 200 * MS, 200 * MS);
    s.ram_pass_us = UNK;
    s.timestamp_us = 0;
    g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, 0);
    g_assert_cmpint(res.rule, ==, VFMIG_DOWNTIME_RULE_LATENCY);
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_GIVE_UP);
}


/* Three devices: residues add up; the one with initial data left holds the
 * switch; latencies add up, or take the largest for concurrent
 * transitions. */
static void
testSeveralDevices(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    unsigned int k;

    vfmigDowntimeStateInit(&st);
    for (k = 0; k <= 6; k++) {
        vfmigDowntimeDeviceSample d[3] = {
            testDev(0, 40 * MB, UNK, 10 * MS, 20 * MS),
            testDev(0, 60 * MB, 70 * MB, 30 * MS, 10 * MS),
            testDev(k < 6 ? 60 * MB - k * 10 * MB : 0, 30 * MB, 30 * MB,
                    20 * MS, 40 * MS),
        };

        testFeed(&st, &p, k, d, 3, GBPS, &res);
        g_assert_cmpuint(res.device_residue_bytes, ==, 140 * MB);
        g_assert_cmpuint(res.stop_latency_us, ==, 60 * MS);
        g_assert_cmpuint(res.resume_latency_us, ==, 70 * MS);
        g_assert_cmpuint(res.predicted_us, ==, 270 * MS);
        g_assert_cmpuint(res.qemu_downtime_limit_ms, ==, 170);
        if (k < 6)
            g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_INITIAL_PENDING);
    }
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);

    p.concurrent_transitions = true;
    vfmigDowntimeStateInit(&st);
    {
        vfmigDowntimeDeviceSample d[3] = {
            testDev(0, 40 * MB, UNK, 10 * MS, 20 * MS),
            testDev(0, 60 * MB, 70 * MB, 30 * MS, 10 * MS),
            testDev(0, 30 * MB, 30 * MB, 20 * MS, 40 * MS),
        };

        testFeed(&st, &p, 0, d, 3, GBPS, &res);
    }
    g_assert_cmpuint(res.stop_latency_us, ==, 30 * MS);
    g_assert_cmpuint(res.resume_latency_us, ==, 40 * MS);
    g_assert_cmpuint(res.predicted_us, ==, 210 * MS);
    g_assert_cmpuint(res.qemu_downtime_limit_ms, ==, 230);
}


static void
testInvalid(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeState st;
    vfmigDowntimeState saved;
    vfmigDowntimeResult res;
    vfmigDowntimeDeviceSample d[2] = {
        testDev(0, MB, UNK, 0, 0), testDev(0, MB, UNK, 0, 0),
    };
    vfmigDowntimeSample s = {
        .timestamp_us = 500 * MS, .devices = d, .ndevices = 1,
        .bandwidth = GBPS,
    };

    vfmigDowntimeStateInit(&st);
    p.target_us = 0;
    g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
    p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    p.min_samples = 2;
    g_assert_cmpint(vfmigDowntimePolicyValidate(&p), ==, -1);
    p.min_samples = VFMIG_DOWNTIME_WINDOW + 1;
    g_assert_cmpint(vfmigDowntimePolicyValidate(&p), ==, -1);
    p.min_samples = 0;
    g_assert_cmpint(vfmigDowntimePolicyValidate(&p), ==, 0);
    p.on_failure = 7;
    g_assert_cmpint(vfmigDowntimePolicyValidate(&p), ==, -1);
    p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);

    g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, 0);
    saved = st;

    s.ndevices = 2;
    g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
    s.ndevices = 1;
    s.timestamp_us = 400 * MS;
    g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, -1);
    s.timestamp_us = 600 * MS;
    s.devices = NULL;
    g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, -1);
    s.ndevices = 0;
    g_assert_cmpint(vfmigDowntimeEvaluate(&st, &p, &s, &res), ==, -1);
    g_assert_cmpmem(&st, sizeof(st), &saved, sizeof(saved));
    vfmigResetLastError();
}


static void
testStrings(void)
{
    int i;

    for (i = 0; i < VFMIG_DOWNTIME_DECISION_LAST; i++)
        g_assert_nonnull(vfmigDowntimeDecisionToString(i));
    for (i = 0; i < VFMIG_DOWNTIME_REASON_LAST; i++)
        g_assert_nonnull(vfmigDowntimeReasonToString(i));
    g_assert_cmpstr(vfmigDowntimeDecisionToString(VFMIG_DOWNTIME_SWITCH_ANYWAY),
                    ==, "switch-anyway");
    g_assert_null(vfmigDowntimeDecisionToString(VFMIG_DOWNTIME_DECISION_LAST));
    g_assert_null(vfmigDowntimeReasonToString(VFMIG_DOWNTIME_REASON_LAST));
}


/* Every decision names the rule that made it, in the documented order:
 * the deadline before the latency, the latency before the trend. */
static void
testRules(void)
{
    vfmigDowntimePolicy p = testPolicy(VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeState st;
    vfmigDowntimeResult res;
    vfmigDowntimeDeviceSample dev;
    unsigned int k;

    /* nothing pending, small latencies: converged at once */
    vfmigDowntimeStateInit(&st);
    dev = testDev(0, 0, 0, 10 * MS, 10 * MS);
    testFeed(&st, &p, 0, &dev, 1, GBPS, &res);
    g_assert_cmpint(res.rule, ==, VFMIG_DOWNTIME_RULE_CONVERGED);
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);

    /* initial data left: continue */
    vfmigDowntimeStateInit(&st);
    dev = testDev(10 * MB, 0, UNK, 10 * MS, 10 * MS);
    testFeed(&st, &p, 0, &dev, 1, GBPS, &res);
    g_assert_cmpint(res.rule, ==, VFMIG_DOWNTIME_RULE_CONTINUE);
    g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_INITIAL_PENDING);

    /* latencies over the target, past the deadline: the deadline first */
    vfmigDowntimeStateInit(&st);
    p.deadline_us = STEP;
    dev = testDev(0, 100 * MB, UNK, 200 * MS, 200 * MS);
    testFeed(&st, &p, 0, &dev, 1, GBPS, &res);
    g_assert_cmpint(res.rule, ==, VFMIG_DOWNTIME_RULE_LATENCY);
    testFeed(&st, &p, 1, &dev, 1, GBPS, &res);
    g_assert_cmpint(res.rule, ==, VFMIG_DOWNTIME_RULE_DEADLINE);
    g_assert_cmpint(res.reason, ==, VFMIG_DOWNTIME_REASON_DEADLINE);

    /* a flat residue: not converging, once the window is full */
    vfmigDowntimeStateInit(&st);
    p.deadline_us = 0;
    dev = testDev(0, 1000 * MB, UNK, 10 * MS, 10 * MS);
    res.decision = VFMIG_DOWNTIME_CONTINUE;
    for (k = 0; k < 20 && res.decision == VFMIG_DOWNTIME_CONTINUE; k++)
        testFeed(&st, &p, k, &dev, 1, GBPS, &res);
    g_assert_cmpint(res.rule, ==, VFMIG_DOWNTIME_RULE_NOT_CONVERGING);
    g_assert_cmpint(res.decision, ==, VFMIG_DOWNTIME_GIVE_UP);

    g_assert_cmpstr(vfmigDowntimeRuleIdToString(VFMIG_DOWNTIME_RULE_NOT_CONVERGING),
                    ==, "not-converging");
}


static void
testMsToUs(void)
{
    uint64_t us = 7;

    g_assert_cmpint(vfmigDowntimeMsToUs(0, &us), ==, 0);
    g_assert_cmpuint(us, ==, 0);
    g_assert_cmpint(vfmigDowntimeMsToUs(300, &us), ==, 0);
    g_assert_cmpuint(us, ==, 300 * MS);
    g_assert_cmpint(vfmigDowntimeMsToUs(UINT64_MAX / 1000 + 1, &us), ==, -1);
    g_assert_cmpuint(us, ==, 300 * MS);
    g_assert_cmpint(vfmigDowntimeMsToUs(UINT64_MAX / 1000, &us), ==, 0);
    /* never the unknown value */
    g_assert_cmpuint(us, <, VFMIG_DOWNTIME_UNKNOWN);
}


/* The settings' table: ms at the boundary, us inside, one range per
 * row; the failure rule's one mapping. */
static void
testSettings(void)
{
    vfmigDowntimeSettings a = { .onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_DEFAULT };
    vfmigDowntimeSettings b = { .onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT };
    size_t i;

    for (i = 0; i < VFMIG_DOWNTIME_PARAM_LAST; i++) {
        g_assert_nonnull(vfmigDowntimeParamToString(i));
        g_assert_cmpuint(vfmigDowntimeParamMaxMs(i), >, 0);
    }
    g_assert_false(vfmigDowntimeSettingsHas(&a, VFMIG_DOWNTIME_PARAM_TARGET));
    g_assert_cmpuint(vfmigDowntimeSettingsUs(&a, VFMIG_DOWNTIME_PARAM_TARGET), ==, 0);
    g_assert_cmpint(vfmigDowntimeSettingsSetMs(&a, VFMIG_DOWNTIME_PARAM_TARGET, 300), ==, 0);
    g_assert_cmpuint(vfmigDowntimeSettingsUs(&a, VFMIG_DOWNTIME_PARAM_TARGET), ==, 300 * MS);
    g_assert_cmpint(vfmigDowntimeSettingsSetMs(&a, VFMIG_DOWNTIME_PARAM_OVERHEAD, 60001), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==,
                    "overhead-ms: 60001 is out of range (0 to 60000)");
    g_assert_false(vfmigDowntimeSettingsHas(&a, VFMIG_DOWNTIME_PARAM_OVERHEAD));
    g_assert_cmpint(vfmigDowntimeSettingsSetMs(&a, VFMIG_DOWNTIME_PARAM_TARGET, UINT64_MAX), ==, -1);
    g_assert_cmpuint(vfmigDowntimeSettingsUs(&a, VFMIG_DOWNTIME_PARAM_TARGET), ==, 300 * MS);
    /* 0 is a value: given, no overhead */
    g_assert_cmpint(vfmigDowntimeSettingsSetMs(&b, VFMIG_DOWNTIME_PARAM_OVERHEAD, 0), ==, 0);
    g_assert_true(vfmigDowntimeSettingsHas(&b, VFMIG_DOWNTIME_PARAM_OVERHEAD));

    g_assert_cmpint(vfmigDowntimeSettingsOnFailure(&a), ==, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT);
    g_assert_cmpint(vfmigDowntimeSettingsPolicyOnFailure(&a), ==, VFMIG_DOWNTIME_ON_FAILURE_ABORT);
    vfmigDowntimeSettingsOverride(&a, &b);
    g_assert_cmpint(vfmigDowntimeSettingsOnFailure(&a), ==, VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT);
    g_assert_cmpint(vfmigDowntimeSettingsPolicyOnFailure(&a), ==, VFMIG_DOWNTIME_ON_FAILURE_SWITCH);
    g_assert_cmpuint(vfmigDowntimeSettingsUs(&a, VFMIG_DOWNTIME_PARAM_TARGET), ==, 300 * MS);
    g_assert_true(vfmigDowntimeSettingsHas(&a, VFMIG_DOWNTIME_PARAM_OVERHEAD));
}


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/downtime/converging", testConverging);
    g_test_add_func("/downtime/margin-stall", testMarginStall);
    g_test_add_func("/downtime/initial-gate", testInitialGate);
    g_test_add_func("/downtime/latency-delays", testLatencyDelays);
    g_test_add_func("/downtime/bandwidth-spike", testBandwidthSpike);
    g_test_add_func("/downtime/latency-alone", testLatencyAlone);
    g_test_add_func("/downtime/dirty-outruns", testDirtyOutruns);
    g_test_add_func("/downtime/deadline", testDeadline);
    g_test_add_func("/downtime/noisy", testNoisy);
    g_test_add_func("/downtime/zero-bandwidth", testZeroBandwidth);
    g_test_add_func("/downtime/no-vm", testNoVM);
    g_test_add_func("/downtime/all-dirty", testAllDirty);
    g_test_add_func("/downtime/several-devices", testSeveralDevices);
    g_test_add_func("/downtime/invalid", testInvalid);
    g_test_add_func("/downtime/strings", testStrings);
    g_test_add_func("/downtime/rules", testRules);
    g_test_add_func("/downtime/ms-to-us", testMsToUs);
    g_test_add_func("/downtime/settings", testSettings);
    return g_test_run();
}
