/*
 * bench-downtime.c: achieved vs predicted downtime, our policy vs QEMU's rule
 *
 * A deterministic simulator of a device (and optionally guest RAM) in
 * pre-copy, sampled every 100 ms of simulated time, over a grid of device
 * state sizes, device dirty rates, stop/resume latencies, with and without
 * guest RAM, and several seeds per cell.  Every run feeds the same sample
 * sequence to four deciders:
 *
 *  - our policy (vfmigDowntimeEvaluate) with on_failure=abort,
 *  - our policy with on_failure=switch,
 *  - QEMU 10's own rule with downtime-limit = the target: pending <=
 *    last window's bandwidth x limit, pending counted as QEMU counts a VFIO
 *    device, and no switch while initial data remains (switchover-ack),
 *  - QEMU's rule with the downtime-limit our policy (abort) computes at
 *    each sample, as the libvirt controller steers it.
 *
 * When a decider switches, the stop phase is simulated on the same link
 * (its noise drawn from a stream keyed by the run and the switch sample, so
 * two deciders switching on the same sample get the same stop phase), and
 * the achieved downtime is compared with the target and with what the
 * decider predicted.  Each run also gets a noise-free twin that decides,
 * independently of every decider, whether the run can converge at all.
 * See docs/benchmarks.rst for the model and the figures.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "vfmigdowntime.h"
#include "vfmigerror.h"

#define KIB 1024.0
#define MIB (1024.0 * KIB)
#define GIB (1024.0 * MIB)

#define SAMPLE_US 100000ULL         /* sample period: QEMU's BUFFER_DELAY */
#define SAMPLE_S (SAMPLE_US / 1e6)
#define LINK_BPS (1.0 * GIB)        /* nominal link rate, bytes/s */
/* each period: nominal x U[1 - n, 1 + n], n = --noise-pct (0.2) */
#define LINK_NOISE (optNoisePct / 100.0)
#define LINK_STALL_P 0.02           /* ... or a stall: x U[0, 0.1] */
#define LINK_STALL_MAX 0.10
#define LATENCY_NOISE 0.10          /* actual latency: reported x U[0.9, 1.1] */
/* Part of the device state that cannot be pre-copied (device context,
 * queues): always in the stop-copy data. */
#define FLOOR_DIVISOR 32
/* Guest RAM, when the run has a VM: size, dirty rate, working set. */
#define RAM_BYTES (2.0 * GIB)
#define RAM_DIRTY_BPS (128.0 * MIB)
#define RAM_WSS (256.0 * MIB)

static const double sizesFull[] = { 16 * MIB, 64 * MIB, 256 * MIB, 1 * GIB };
static const double sizesQuick[] = { 16 * MIB, 256 * MIB, 1 * GIB };
static const double ratesFull[] = {
    0, 64 * MIB, 256 * MIB, 768 * MIB, 1.5 * GIB, 4 * GIB,
};
static const double ratesQuick[] = { 0, 256 * MIB, 768 * MIB, 4 * GIB };

typedef struct {
    unsigned int stopMs;
    unsigned int resumeMs;
} Latency;

static const Latency latencies[] = {
    { 0, 0 }, { 20, 30 }, { 100, 150 }, { 200, 150 },
};

static int optSeeds = -1;
static int optTargetMs = 300;
static int optDeadlineS = 30;
static int optNoisePct = 20;
static gboolean optQuick;
static gboolean optCheck;
static gboolean optStopStalls;
static gboolean optMisses;
static gboolean optWindowBandwidth;

static GOptionEntry entries[] = {
    { "seeds", 0, 0, G_OPTION_ARG_INT, &optSeeds, "runs (seeds) per cell (20; 5 with --quick)", "N" },
    { "target-ms", 0, 0, G_OPTION_ARG_INT, &optTargetMs, "target downtime, also QEMU's downtime-limit (300)", "MS" },
    { "deadline-s", 0, 0, G_OPTION_ARG_INT, &optDeadlineS, "policy deadline; QEMU's rule is given up at the same time (30)", "S" },
    { "noise-pct", 0, 0, G_OPTION_ARG_INT, &optNoisePct, "link rate noise each period, +- percent (20)", "P" },
    { "quick", 0, 0, G_OPTION_ARG_NONE, &optQuick, "a smaller grid (3 sizes, 4 dirty rates)", NULL },
    { "check", 0, 0, G_OPTION_ARG_NONE, &optCheck, "exit 1 unless our policy meets the criteria (see the end of --help)", NULL },
    { "stop-stalls", 0, 0, G_OPTION_ARG_NONE, &optStopStalls, "the link may stall during the stop phase too", NULL },
    { "window-bandwidth", 0, 0, G_OPTION_ARG_NONE, &optWindowBandwidth, "feed our policy QEMU's window rate, idle time included, instead of the rate while sending", NULL },
    { "misses", 0, 0, G_OPTION_ARG_NONE, &optMisses, "list the convergeable runs where our policy missed", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
};

typedef enum {
    DECIDER_ABORT = 0,      /* our policy, on_failure=abort */
    DECIDER_SWITCH,         /* our policy, on_failure=switch */
    DECIDER_QEMU,           /* QEMU 10's rule */
    DECIDER_STEERED,        /* QEMU's rule, limit steered by our policy */

    DECIDER_LAST
} Decider;

static const char *const deciderNames[DECIDER_LAST] = {
    "ours (abort)", "ours (switch)", "QEMU rule", "QEMU steered",
};

typedef struct {
    bool decided;           /* switched, gave up */
    bool switched;
    vfmigDowntimeReason reason;
    unsigned int sample;    /* switch or give-up sample */
    double predictedMs;
    double achievedMs;
    double totalS;          /* start to resumed on the destination */
} Outcome;

typedef struct {
    unsigned int size;      /* indices into the grid */
    unsigned int rate;
    unsigned int lat;
    unsigned int ram;
    unsigned int seed;
    bool convergeable;
    double bestMs;          /* the noise-free twin's best worst case */
    double stopMs;          /* actual latencies of this run */
    double resumeMs;
    Outcome out[DECIDER_LAST];
} Run;

typedef struct {
    double stateBytes;
    double dirtyBps;
    const Latency *lat;
    bool hasRam;
    uint64_t seed;
} RunConfig;

/* What is in flight: the device's initial image and readable dirty data,
 * the guest RAM's first pass and dirty pages still to send. */
typedef struct {
    double init;
    double dirty;
    double ramFirst;
    double ramDirty;
    double ramNewBps;       /* RAM dirtied in the last period, bytes/s */
    double sentBps;         /* sent in the last period / its length */
    double busyBps;         /* sent in the last period / time spent sending;
                             * the previous value when nothing was sent */
} SimState;


/* splitmix64: small, well mixed, and the same on every platform. */
static uint64_t
rngNext(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}


static double
rngUniform(uint64_t *s)
{
    return (double) (rngNext(s) >> 11) * 0x1.0p-53;
}


static uint64_t
rngMix(uint64_t a,
       uint64_t b)
{
    uint64_t s = a ^ (b * 0xd1b54a32d192ed03ULL);

    return rngNext(&s);
}


/* One period's link rate as a fraction of nominal.  Both draws are taken
 * whatever happens, so the stream stays aligned across options. */
static double
linkFactor(uint64_t *rng,
           bool stalls)
{
    double u = rngUniform(rng);
    double v = rngUniform(rng);

    if (stalls && u < LINK_STALL_P)
        return v * LINK_STALL_MAX;
    return 1.0 - LINK_NOISE + 2.0 * LINK_NOISE * v;
}


/* Newly dirtied bytes over one period when @dirty of @set bytes are
 * already dirty: writes spread over the set, and a write to a page that is
 * already dirty adds nothing, so the dirty part approaches the set
 * exponentially and never exceeds it. */
static double
newlyDirty(double set,
           double dirty,
           double bps)
{
    if (set <= 0 || bps <= 0 || dirty >= set)
        return 0;
    return (set - dirty) * -expm1(-bps * SAMPLE_S / set);
}


/* Sends what fits in one period at @factor x nominal, then adds what the
 * device and the guest dirtied during it.  Dirty data becomes readable at
 * the end of the period (the driver's and QEMU's dirty sync), so each
 * sample sees the period's new dirty data as pending. */
static void
simStep(SimState *st,
        const RunConfig *cfg,
        double factor)
{
    double cap = LINK_BPS * factor * SAMPLE_S;
    double dev = st->init + st->dirty;
    double ram = st->ramFirst + st->ramDirty;
    double devSend = dev;
    double ramSend = ram;
    double x;
    double ramNew;

    if (dev + ram > cap) {
        /* one stream, shared in proportion to what each has to send */
        devSend = cap * dev / (dev + ram);
        ramSend = cap - devSend;
    }

    x = MIN(devSend, st->init);
    st->init -= x;
    st->dirty = MAX(0.0, st->dirty - (devSend - x));
    x = MIN(ramSend, st->ramFirst);
    st->ramFirst -= x;
    st->ramDirty = MAX(0.0, st->ramDirty - (ramSend - x));
    st->sentBps = (devSend + ramSend) / SAMPLE_S;
    if (devSend + ramSend > 0)
        st->busyBps = LINK_BPS * factor;

    st->dirty += newlyDirty(cfg->stateBytes, st->dirty, cfg->dirtyBps);
    if (cfg->hasRam) {
        ramNew = newlyDirty(RAM_WSS, st->ramDirty, RAM_DIRTY_BPS);
        st->ramDirty += ramNew;
        st->ramNewBps = ramNew / SAMPLE_S;
    }
}


static double
floorBytes(const RunConfig *cfg)
{
    return cfg->stateBytes / FLOOR_DIVISOR;
}


/* What the stop phase has to send: the device's stop-copy data and the
 * guest RAM still dirty. */
static double
residueBytes(const SimState *st,
             const RunConfig *cfg)
{
    return st->init + st->dirty + floorBytes(cfg) + st->ramFirst + st->ramDirty;
}


static void
simInit(SimState *st,
        const RunConfig *cfg)
{
    memset(st, 0, sizeof(*st));
    st->init = cfg->stateBytes - floorBytes(cfg);
    if (cfg->hasRam)
        st->ramFirst = RAM_BYTES;
}


/* The stop phase: sending @bytes on the link, the noise drawn from a
 * stream of its own keyed by the run and the sample at which it starts. */
static double
stopPhaseMs(const RunConfig *cfg,
            unsigned int sample,
            double bytes)
{
    uint64_t rng = rngMix(cfg->seed, 0x5709000000ULL + sample);
    double ms = 0;

    while (bytes > 0) {
        double bps = LINK_BPS * linkFactor(&rng, optStopStalls);
        double cap = bps * SAMPLE_S;

        if (bytes <= cap) {
            ms += bytes / bps * 1000.0;
            break;
        }
        bytes -= cap;
        ms += SAMPLE_US / 1000.0;
    }
    return ms;
}


static uint64_t
horizonSamples(void)
{
    /* the policy's deadline is measured from the first sample, at 1 period */
    return (uint64_t) optDeadlineS * 1000000ULL / SAMPLE_US + 1;
}


/*
 * Whether the run can converge, from its noise-free twin (nominal link
 * rate every period, no stall): at some sample before the deadline, with
 * the device's initial image sent, sending the residue at the slowest
 * stop-phase rate the noise allows (nominal x (1 - noise)) plus the
 * largest stop and resume latencies the noise allows (reported x 1.1)
 * fits the target.  Then a decider that switches at the right moment meets
 * the target whatever the noise; no decider's outcome enters.
 */
static bool
canConverge(const RunConfig *cfg,
            double *bestMs)
{
    double latencyMs = (cfg->lat->stopMs + cfg->lat->resumeMs) *
        (1.0 + LATENCY_NOISE);
    SimState st;
    uint64_t n = horizonSamples();
    uint64_t k;

    *bestMs = INFINITY;
    simInit(&st, cfg);
    for (k = 1; k <= n; k++) {
        double ms;

        simStep(&st, cfg, 1.0);
        if (st.init > 0)
            continue;
        ms = residueBytes(&st, cfg) / (LINK_BPS * (1.0 - LINK_NOISE)) * 1000.0 +
            latencyMs;
        *bestMs = MIN(*bestMs, ms);
    }
    return *bestMs <= optTargetMs;
}


/*
 * QEMU 10's rule (migration/migration.c, migration_iteration_run and
 * migration_update_counters; hw/vfio/migration.c): threshold = last
 * window's bandwidth x downtime-limit; a VFIO device's estimate is
 * initial + dirty, and when the estimate is <= threshold QEMU asks for the
 * exact size, the stop-copy size; it completes when the exact pending is 0
 * or below the threshold and switchover is allowed, which switchover-ack
 * holds off until the initial data is sent.  Latencies are unknown to it.
 * Returns whether it switches; @predictedMs is pending / bandwidth.
 * @limitMs is the downtime-limit: the target, or what our policy steers.
 */
static bool
qemuRule(const vfmigDowntimeSample *s,
         uint64_t limitMs,
         double *predictedMs)
{
    double bwPerMs = (double) s->bandwidth / 1000.0;
    uint64_t threshold = (uint64_t) (bwPerMs * limitMs);
    uint64_t ram = s->has_ram ? s->ram_remaining_bytes : 0;
    uint64_t pending = ram;
    uint64_t initial = 0;
    size_t i;

    for (i = 0; i < s->ndevices; i++) {
        pending += s->devices[i].initial_bytes + s->devices[i].dirty_bytes;
        initial += s->devices[i].initial_bytes;
    }
    if (pending <= threshold) {
        pending = ram;
        for (i = 0; i < s->ndevices; i++)
            pending += s->devices[i].stop_copy_bytes;
    }

    if (pending == 0)
        *predictedMs = 0;
    else if (s->bandwidth == 0)
        *predictedMs = INFINITY;
    else
        *predictedMs = (double) pending / (double) s->bandwidth * 1000.0;

    return (pending == 0 || pending < threshold) && initial == 0;
}


static void
recordSwitch(Outcome *o,
             const RunConfig *cfg,
             const Run *run,
             const SimState *st,
             unsigned int sample,
             double predictedMs)
{
    double dataMs = stopPhaseMs(cfg, sample, residueBytes(st, cfg));

    o->decided = true;
    o->switched = true;
    o->sample = sample;
    o->predictedMs = predictedMs;
    o->achievedMs = dataMs + run->stopMs + run->resumeMs;
    o->totalS = sample * SAMPLE_S + o->achievedMs / 1000.0;
}


static void
simulateRun(Run *run,
            const RunConfig *cfg)
{
    vfmigDowntimePolicy policy[2] = {
        {
            .target_us = (uint64_t) optTargetMs * 1000,
            .deadline_us = (uint64_t) optDeadlineS * 1000000,
            .on_failure = VFMIG_DOWNTIME_ON_FAILURE_ABORT,
        },
    };
    vfmigDowntimeState state[3];
    uint64_t rng = cfg->seed;
    uint64_t n = horizonSamples();
    SimState st;
    uint64_t k;
    int d;

    policy[1] = policy[0];
    policy[1].on_failure = VFMIG_DOWNTIME_ON_FAILURE_SWITCH;
    vfmigDowntimeStateInit(&state[0]);
    vfmigDowntimeStateInit(&state[1]);
    vfmigDowntimeStateInit(&state[2]);

    /* the run's true latencies, drawn before the link's noise */
    run->stopMs = cfg->lat->stopMs *
        (1.0 - LATENCY_NOISE + 2.0 * LATENCY_NOISE * rngUniform(&rng));
    run->resumeMs = cfg->lat->resumeMs *
        (1.0 - LATENCY_NOISE + 2.0 * LATENCY_NOISE * rngUniform(&rng));
    run->convergeable = canConverge(cfg, &run->bestMs);

    simInit(&st, cfg);
    for (k = 1; k <= n; k++) {
        vfmigDowntimeDeviceSample dev;
        vfmigDowntimeSample sample = { 0 };
        vfmigDowntimeResult steer;
        double predictedMs;

        simStep(&st, cfg, linkFactor(&rng, true));

        /* What the device and QEMU report at this instant: the device
         * knows its stop-copy size exactly; the latencies are the
         * reported (nominal) ones, not this run's actual ones. */
        dev.initial_bytes = (uint64_t) llround(st.init);
        dev.dirty_bytes = (uint64_t) llround(st.dirty);
        dev.stop_copy_bytes = (uint64_t) llround(st.init + st.dirty +
                                                 floorBytes(cfg));
        dev.stop_latency_us = (uint64_t) cfg->lat->stopMs * 1000;
        dev.resume_latency_us = (uint64_t) cfg->lat->resumeMs * 1000;
        sample.timestamp_us = k * SAMPLE_US;
        sample.devices = &dev;
        sample.ndevices = 1;
        sample.has_ram = cfg->hasRam;
        sample.ram_remaining_bytes = (uint64_t) llround(st.ramFirst + st.ramDirty);
        sample.ram_dirty_rate = (uint64_t) llround(st.ramNewBps);
        /* The engine measures its rate over the time it spends sending
         * (vfmigEngineRate), so an idle link does not lower it; QEMU's
         * rule uses its own window rate, idle time included (below). */
        sample.bandwidth = (uint64_t) llround(optWindowBandwidth ?
                                              st.sentBps : st.busyBps);

        for (d = DECIDER_ABORT; d <= DECIDER_SWITCH; d++) {
            Outcome *o = &run->out[d];
            vfmigDowntimeResult res;

            if (o->decided)
                continue;
            if (vfmigDowntimeEvaluate(&state[d], &policy[d], &sample, &res) < 0) {
                g_printerr("bench-downtime: %s\n", vfmigGetLastErrorMessage());
                exit(2);
            }
            o->reason = res.reason;
            switch (res.decision) {
            case VFMIG_DOWNTIME_CONTINUE:
                break;
            case VFMIG_DOWNTIME_SWITCH_ANYWAY:
            case VFMIG_DOWNTIME_SWITCH_OVER:
                recordSwitch(o, cfg, run, &st, k,
                             res.predicted_us == VFMIG_DOWNTIME_UNKNOWN ?
                             INFINITY : res.predicted_us / 1000.0);
                break;
            case VFMIG_DOWNTIME_GIVE_UP:
                o->decided = true;
                o->sample = k;
                break;
            case VFMIG_DOWNTIME_DECISION_LAST:
            default:
                g_printerr("bench-downtime: unexpected decision %d\n",
                           (int) res.decision);
                exit(2);
            }
        }

        /* Steered QEMU, as the libvirt controller runs it: the policy
         * (abort) keeps evaluating, its downtime-limit is set at once,
         * and QEMU's own rule decides; a give-up cancels the migration. */
        if (!run->out[DECIDER_STEERED].decided) {
            if (vfmigDowntimeEvaluate(&state[2], &policy[0], &sample,
                                      &steer) < 0) {
                g_printerr("bench-downtime: %s\n", vfmigGetLastErrorMessage());
                exit(2);
            }
            run->out[DECIDER_STEERED].reason = steer.reason;
            if (steer.decision == VFMIG_DOWNTIME_GIVE_UP) {
                run->out[DECIDER_STEERED].decided = true;
                run->out[DECIDER_STEERED].sample = k;
            }
        }

        sample.bandwidth = (uint64_t) llround(st.sentBps);
        if (!run->out[DECIDER_QEMU].decided &&
            qemuRule(&sample, (uint64_t) optTargetMs, &predictedMs))
            recordSwitch(&run->out[DECIDER_QEMU], cfg, run, &st, k, predictedMs);
        if (!run->out[DECIDER_STEERED].decided &&
            qemuRule(&sample, steer.qemu_downtime_limit_ms, &predictedMs))
            recordSwitch(&run->out[DECIDER_STEERED], cfg, run, &st, k,
                         steer.predicted_us == VFMIG_DOWNTIME_UNKNOWN ?
                         INFINITY : steer.predicted_us / 1000.0);

        for (d = 0; d < DECIDER_LAST; d++) {
            if (!run->out[d].decided)
                break;
        }
        if (d == DECIDER_LAST)
            break;
    }
}


/* ---- aggregation and output ---- */

typedef struct {
    unsigned int runs;
    unsigned int conv;
    unsigned int metConv[DECIDER_LAST];
    unsigned int noSwitchConv[DECIDER_LAST];
    unsigned int noSwitch[DECIDER_LAST];
    unsigned int switched[DECIDER_LAST];
    unsigned int metSwitched[DECIDER_LAST];
    GArray *overshoot[DECIDER_LAST];    /* ms, switched runs that missed */
    GArray *overshootConv[DECIDER_LAST];
    double errSum[DECIDER_LAST];        /* |achieved - predicted| / achieved */
    unsigned int errN[DECIDER_LAST];
    double totalSum[DECIDER_LAST];
} Agg;


static void
aggInit(Agg *a)
{
    int d;

    memset(a, 0, sizeof(*a));
    for (d = 0; d < DECIDER_LAST; d++) {
        a->overshoot[d] = g_array_new(FALSE, FALSE, sizeof(double));
        a->overshootConv[d] = g_array_new(FALSE, FALSE, sizeof(double));
    }
}


static void
aggClear(Agg *a)
{
    int d;

    for (d = 0; d < DECIDER_LAST; d++) {
        g_array_unref(a->overshoot[d]);
        g_array_unref(a->overshootConv[d]);
    }
}


static void
aggAdd(Agg *a,
       const Run *r)
{
    int d;

    a->runs++;
    if (r->convergeable)
        a->conv++;
    for (d = 0; d < DECIDER_LAST; d++) {
        const Outcome *o = &r->out[d];
        double over;

        if (!o->switched) {
            a->noSwitch[d]++;
            if (r->convergeable)
                a->noSwitchConv[d]++;
            continue;
        }
        a->switched[d]++;
        a->totalSum[d] += o->totalS;
        if (isfinite(o->predictedMs) && o->achievedMs > 0) {
            a->errSum[d] += fabs(o->achievedMs - o->predictedMs) / o->achievedMs;
            a->errN[d]++;
        }
        over = o->achievedMs - optTargetMs;
        if (over <= 0) {
            a->metSwitched[d]++;
            if (r->convergeable)
                a->metConv[d]++;
        } else {
            g_array_append_val(a->overshoot[d], over);
            if (r->convergeable)
                g_array_append_val(a->overshootConv[d], over);
        }
    }
}


static int
cmpDouble(const void *a,
          const void *b)
{
    double x = *(const double *) a;
    double y = *(const double *) b;

    return x < y ? -1 : x > y;
}


/* "mean / p95" of @v (nearest rank), or "n/a" when empty. */
static char *
fmtMeanP95(GArray *v)
{
    double sum = 0;
    size_t rank;
    guint i;

    if (v->len == 0)
        return g_strdup("n/a");
    g_array_sort(v, cmpDouble);
    for (i = 0; i < v->len; i++)
        sum += g_array_index(v, double, i);
    rank = (size_t) ceil(0.95 * v->len);
    return g_strdup_printf("%.0f / %.0f", sum / v->len,
                           g_array_index(v, double, rank - 1));
}


static char *
fmtPct(unsigned int num,
       unsigned int den)
{
    if (den == 0)
        return g_strdup("n/a");
    return g_strdup_printf("%.1f", 100.0 * num / den);
}


/* A table printed as a reStructuredText simple table: readable as text,
 * and pasted as is into docs/benchmarks.rst. */
typedef struct {
    guint ncols;
    GPtrArray *rows;        /* of GStrv; row 0 is the header */
} Table;


static void
tableInit(Table *t,
          guint ncols)
{
    t->ncols = ncols;
    t->rows = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
}


/* Takes ownership of the ncols strings in @cells. */
static void
tableAdd(Table *t,
         char **cells)
{
    char **row = g_new0(char *, t->ncols + 1);

    memcpy(row, cells, t->ncols * sizeof(char *));
    g_ptr_array_add(t->rows, row);
}


static void
tableRule(const Table *t,
          const size_t *w)
{
    guint c;

    for (c = 0; c < t->ncols; c++) {
        size_t i;

        for (i = 0; i < w[c]; i++)
            g_print("=");
        g_print("%s", c + 1 < t->ncols ? "  " : "\n");
    }
}


static void
tablePrint(Table *t)
{
    g_autofree size_t *w = g_new0(size_t, t->ncols);
    guint r;
    guint c;

    for (r = 0; r < t->rows->len; r++) {
        char **row = g_ptr_array_index(t->rows, r);

        for (c = 0; c < t->ncols; c++)
            w[c] = MAX(w[c], strlen(row[c]));
    }

    tableRule(t, w);
    for (r = 0; r < t->rows->len; r++) {
        char **row = g_ptr_array_index(t->rows, r);

        for (c = 0; c < t->ncols; c++) {
            /* first column left-aligned (rst needs it), numbers right */
            if (c == 0)
                g_print("%-*s", (int) w[c], row[c]);
            else
                g_print("%*s", (int) w[c], row[c]);
            g_print("%s", c + 1 < t->ncols ? "  " : "\n");
        }
        if (r == 0)
            tableRule(t, w);
    }
    tableRule(t, w);
    g_print("\n");
    g_ptr_array_unref(t->rows);
}


typedef enum {
    DIM_SIZE = 0,
    DIM_RATE,
    DIM_LATENCY,
    DIM_RAM,

    DIM_LAST
} Dim;

typedef struct {
    const double *sizes;
    size_t nsizes;
    const double *rates;
    size_t nrates;
} Grid;


static char *
fmtBytes(double b)
{
    if (b == 0)
        return g_strdup("0 MiB");
    if (b >= GIB)
        return g_strdup_printf("%g GiB", b / GIB);
    return g_strdup_printf("%g MiB", b / MIB);
}


static char *
dimValueName(const Grid *g,
             Dim dim,
             unsigned int v)
{
    g_autofree char *b = NULL;

    switch (dim) {
    case DIM_SIZE:
        return fmtBytes(g->sizes[v]);
    case DIM_RATE:
        b = fmtBytes(g->rates[v]);
        return g_strdup_printf("%s/s", b);
    case DIM_LATENCY:
        return g_strdup_printf("%u / %u ms", latencies[v].stopMs,
                               latencies[v].resumeMs);
    case DIM_RAM:
        return g_strdup(v ? "2 GiB RAM" : "device only");
    case DIM_LAST:
        break;
    }
    return g_strdup("?");
}


static unsigned int
runDimValue(const Run *r,
            Dim dim)
{
    switch (dim) {
    case DIM_SIZE:
        return r->size;
    case DIM_RATE:
        return r->rate;
    case DIM_LATENCY:
        return r->lat;
    case DIM_RAM:
        return r->ram;
    case DIM_LAST:
        break;
    }
    return 0;
}


static char *
fmtErr(const Agg *a,
       Decider d)
{
    if (a->errN[d] == 0)
        return g_strdup("n/a");
    return g_strdup_printf("%.1f", 100.0 * a->errSum[d] / a->errN[d]);
}


static char *
fmtTotal(const Agg *a,
         Decider d)
{
    if (a->switched[d] == 0)
        return g_strdup("n/a");
    return g_strdup_printf("%.2f", a->totalSum[d] / a->switched[d]);
}


/* Two tables for one dimension of the grid: how often each decider meets
 * the target, then by how much it misses, how well it predicts, and how
 * long the migrations take. */
static void
printDimension(const Grid *g,
               const Run *runs,
               size_t nruns,
               Dim dim,
               const char *title,
               const char *heading)
{
    size_t nvals[DIM_LAST] = {
        g->nsizes, g->nrates, G_N_ELEMENTS(latencies), 2,
    };
    Table meets;
    Table how;
    unsigned int v;

    g_print("%s\n\n", title);
    tableInit(&meets, 10);
    tableAdd(&meets, (char *[]) {
        g_strdup(heading), g_strdup("runs"), g_strdup("conv."),
        g_strdup("met% A"), g_strdup("met% S"), g_strdup("met% Q"),
        g_strdup("met% QS"), g_strdup("none A"), g_strdup("none Q"),
        g_strdup("none QS"),
    });
    tableInit(&how, 10);
    tableAdd(&how, (char *[]) {
        g_strdup(heading), g_strdup("over A"), g_strdup("over S"),
        g_strdup("over Q"),
        g_strdup("err% S"), g_strdup("err% Q"), g_strdup("err% QS"),
        g_strdup("total A"), g_strdup("total Q"), g_strdup("total QS"),
    });

    for (v = 0; v < nvals[dim]; v++) {
        Agg a;
        size_t i;

        aggInit(&a);
        for (i = 0; i < nruns; i++) {
            if (runDimValue(&runs[i], dim) == v)
                aggAdd(&a, &runs[i]);
        }
        tableAdd(&meets, (char *[]) {
            dimValueName(g, dim, v),
            g_strdup_printf("%u", a.runs),
            g_strdup_printf("%u", a.conv),
            fmtPct(a.metConv[DECIDER_ABORT], a.conv),
            fmtPct(a.metConv[DECIDER_SWITCH], a.conv),
            fmtPct(a.metConv[DECIDER_QEMU], a.conv),
            fmtPct(a.metConv[DECIDER_STEERED], a.conv),
            g_strdup_printf("%u/%u", a.noSwitchConv[DECIDER_ABORT],
                            a.noSwitch[DECIDER_ABORT]),
            g_strdup_printf("%u/%u", a.noSwitchConv[DECIDER_QEMU],
                            a.noSwitch[DECIDER_QEMU]),
            g_strdup_printf("%u/%u", a.noSwitchConv[DECIDER_STEERED],
                            a.noSwitch[DECIDER_STEERED]),
        });
        tableAdd(&how, (char *[]) {
            dimValueName(g, dim, v),
            fmtMeanP95(a.overshoot[DECIDER_ABORT]),
            fmtMeanP95(a.overshoot[DECIDER_SWITCH]),
            fmtMeanP95(a.overshoot[DECIDER_QEMU]),
            fmtErr(&a, DECIDER_SWITCH),
            fmtErr(&a, DECIDER_QEMU),
            fmtErr(&a, DECIDER_STEERED),
            fmtTotal(&a, DECIDER_ABORT),
            fmtTotal(&a, DECIDER_QEMU),
            fmtTotal(&a, DECIDER_STEERED),
        });
        aggClear(&a);
    }
    tablePrint(&meets);
    tablePrint(&how);
}


static void
printOverall(const Run *runs,
             size_t nruns,
             Agg *all)
{
    Table t;
    size_t i;
    int d;

    aggInit(all);
    for (i = 0; i < nruns; i++)
        aggAdd(all, &runs[i]);

    g_print("Overall: %u runs, %u can converge\n\n", all->runs, all->conv);
    tableInit(&t, 9);
    tableAdd(&t, (char *[]) {
        g_strdup("decider"), g_strdup("met, % of conv."),
        g_strdup("no switch (conv.)"), g_strdup("overshoot (conv.)"),
        g_strdup("switched"), g_strdup("met, % of switched"),
        g_strdup("overshoot (all)"), g_strdup("err%"),
        g_strdup("total s"),
    });
    for (d = 0; d < DECIDER_LAST; d++) {
        tableAdd(&t, (char *[]) {
            g_strdup(deciderNames[d]),
            fmtPct(all->metConv[d], all->conv),
            g_strdup_printf("%u", all->noSwitchConv[d]),
            fmtMeanP95(all->overshootConv[d]),
            g_strdup_printf("%u", all->switched[d]),
            fmtPct(all->metSwitched[d], all->switched[d]),
            fmtMeanP95(all->overshoot[d]),
            fmtErr(all, d),
            fmtTotal(all, d),
        });
    }
    tablePrint(&t);
}


/* Why our policy did not switch on convergeable runs, by reason. */
static void
printGiveUps(const Run *runs,
             size_t nruns)
{
    unsigned int count[VFMIG_DOWNTIME_REASON_LAST] = { 0 };
    bool any = false;
    size_t i;
    int reason;

    for (i = 0; i < nruns; i++) {
        const Outcome *o = &runs[i].out[DECIDER_ABORT];

        if (runs[i].convergeable && !o->switched)
            count[o->reason]++;
    }
    for (reason = 0; reason < VFMIG_DOWNTIME_REASON_LAST; reason++) {
        if (!count[reason])
            continue;
        g_print("%s %s: %u", any ? "," : "ours (abort) gave up on convergeable runs:",
                vfmigDowntimeReasonToString(reason), count[reason]);
        any = true;
    }
    if (any)
        g_print("\n\n");
}


static void
printMisses(const Grid *g,
            const Run *runs,
            size_t nruns)
{
    size_t i;

    g_print("Convergeable runs where ours (abort) missed:\n");
    for (i = 0; i < nruns; i++) {
        const Run *r = &runs[i];
        const Outcome *o = &r->out[DECIDER_ABORT];
        const Outcome *q = &r->out[DECIDER_QEMU];
        g_autofree char *size = NULL;
        g_autofree char *rate = NULL;

        if (!r->convergeable || (o->switched && o->achievedMs <= optTargetMs))
            continue;
        size = dimValueName(g, DIM_SIZE, r->size);
        rate = dimValueName(g, DIM_RATE, r->rate);
        g_print("  %s, %s, %u/%u ms, %s, seed %u: worst case at best %.0f ms",
                size, rate, latencies[r->lat].stopMs, latencies[r->lat].resumeMs,
                r->ram ? "RAM" : "no RAM", r->seed, r->bestMs);
        if (o->switched)
            g_print("; ours switched at %.1f s, predicted %.0f ms, achieved %.0f ms",
                    o->sample * SAMPLE_S, o->predictedMs, o->achievedMs);
        else
            g_print("; ours gave up at %.1f s (%s)", o->sample * SAMPLE_S,
                    vfmigDowntimeReasonToString(o->reason));
        if (q->switched)
            g_print("; QEMU switched at %.1f s, achieved %.0f ms\n",
                    q->sample * SAMPLE_S, q->achievedMs);
        else
            g_print("; QEMU never switched\n");
    }
    g_print("\n");
}


int
main(int argc,
     char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("- downtime: our policy vs QEMU's rule");
    g_autoptr(GError) gerr = NULL;
    g_autofree Run *runs = NULL;
    Grid g;
    Agg all;
    size_t nruns;
    size_t n = 0;
    unsigned int s, r, l, m, seed;
    bool pass = true;
    double metA, metS, precision;
    gint64 start;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "--check passes when our policy, with on_failure=abort and with\n"
        "on_failure=switch, meets the target in at least 95 % of the runs that\n"
        "can converge, and, with abort, at least 95 % of the runs it switched\n"
        "over met the target.  See docs/benchmarks.rst.\n");
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
        g_printerr("bench-downtime: %s\n", gerr->message);
        return 2;
    }
    if (argc > 1) {
        g_printerr("bench-downtime: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    if (optSeeds == -1)
        optSeeds = optQuick ? 5 : 20;
    if (optSeeds < 1 || optSeeds > 10000) {
        g_printerr("bench-downtime: --seeds must be 1 to 10000, not %d\n", optSeeds);
        return 2;
    }
    if (optTargetMs < 1 || optTargetMs > 60000) {
        g_printerr("bench-downtime: --target-ms must be 1 to 60000, not %d\n",
                   optTargetMs);
        return 2;
    }
    if (optDeadlineS < 1 || optDeadlineS > 3600) {
        g_printerr("bench-downtime: --deadline-s must be 1 to 3600, not %d\n",
                   optDeadlineS);
        return 2;
    }

    if (optNoisePct < 0 || optNoisePct > 90) {
        g_printerr("bench-downtime: --noise-pct must be 0 to 90, not %d\n",
                   optNoisePct);
        return 2;
    }

    if (optQuick) {
        g.sizes = sizesQuick;
        g.nsizes = G_N_ELEMENTS(sizesQuick);
        g.rates = ratesQuick;
        g.nrates = G_N_ELEMENTS(ratesQuick);
    } else {
        g.sizes = sizesFull;
        g.nsizes = G_N_ELEMENTS(sizesFull);
        g.rates = ratesFull;
        g.nrates = G_N_ELEMENTS(ratesFull);
    }

    nruns = g.nsizes * g.nrates * G_N_ELEMENTS(latencies) * 2 * optSeeds;
    runs = g_new0(Run, nruns);
    start = g_get_monotonic_time();

    for (s = 0; s < g.nsizes; s++) {
        for (r = 0; r < g.nrates; r++) {
            for (l = 0; l < G_N_ELEMENTS(latencies); l++) {
                for (m = 0; m < 2; m++) {
                    for (seed = 0; seed < (unsigned int) optSeeds; seed++) {
                        Run *run = &runs[n++];
                        RunConfig cfg = {
                            .stateBytes = g.sizes[s],
                            .dirtyBps = g.rates[r],
                            .lat = &latencies[l],
                            .hasRam = m == 1,
                        };

                        /* keyed by the cell's values, not by grid
                         * positions: --quick runs the same runs as the
                         * full grid for the cells they share */
                        cfg.seed = rngMix((uint64_t) cfg.stateBytes,
                                          (uint64_t) cfg.dirtyBps);
                        cfg.seed = rngMix(cfg.seed, l * 2 + m);
                        cfg.seed = rngMix(cfg.seed, seed);

                        run->size = s;
                        run->rate = r;
                        run->lat = l;
                        run->ram = m;
                        run->seed = seed;
                        simulateRun(run, &cfg);
                    }
                }
            }
        }
    }

    g_print("bench-downtime: %zu runs (%d seeds per cell), target %d ms, deadline %d s, "
            "link %.0f MiB/s +-%.0f %% (stalls %.0f %%%s), sampled every %llu ms, "
            "simulated in %.2f s\n\n",
            nruns, optSeeds, optTargetMs, optDeadlineS, LINK_BPS / MIB,
            LINK_NOISE * 100, LINK_STALL_P * 100,
            optStopStalls ? ", stop phase too" : ", not in the stop phase",
            (unsigned long long) (SAMPLE_US / 1000),
            (g_get_monotonic_time() - start) / 1e6);
    g_print("Deciders: A = ours (abort), S = ours (switch), Q = QEMU's rule, "
            "QS = QEMU's rule with the downtime-limit our policy steers.\n"
            "conv. = runs that can converge; met%% = of those, the share meeting the target; "
            "none = runs without a switch-over, convergeable/all (A gave up, Q and QS never switched "
            "before the deadline or QS was cancelled).\n"
            "over = overshoot of the switched runs that missed the target, mean / p95, ms; "
            "err%% = mean of |achieved - predicted| / achieved; total = mean time from start to "
            "resumed on the destination over the switched runs, s.\n\n");

    printDimension(&g, runs, nruns, DIM_SIZE, "By device state size", "state");
    printDimension(&g, runs, nruns, DIM_RATE, "By device dirty rate", "dirty rate");
    printDimension(&g, runs, nruns, DIM_LATENCY, "By stop / resume latency", "latency");
    printDimension(&g, runs, nruns, DIM_RAM, "With and without guest RAM", "guest");
    printOverall(runs, nruns, &all);
    printGiveUps(runs, nruns);
    if (optMisses)
        printMisses(&g, runs, nruns);

    if (all.conv == 0)
        g_print("no run can converge with these parameters: the criteria hold vacuously\n");
    metA = all.conv ? 100.0 * all.metConv[DECIDER_ABORT] / all.conv : 100.0;
    metS = all.conv ? 100.0 * all.metConv[DECIDER_SWITCH] / all.conv : 100.0;
    precision = all.switched[DECIDER_ABORT] ?
        100.0 * all.metSwitched[DECIDER_ABORT] / all.switched[DECIDER_ABORT] : 100.0;
    g_print("criteria: ours (abort) meets the target in %.1f %% of convergeable runs (>= 95): %s\n",
            metA, metA >= 95.0 ? "yes" : "NO");
    g_print("          ours (switch) meets the target in %.1f %% of convergeable runs (>= 95): %s\n",
            metS, metS >= 95.0 ? "yes" : "NO");
    g_print("          %.1f %% of the runs ours (abort) switched over met the target (>= 95): %s\n",
            precision, precision >= 95.0 ? "yes" : "NO");
    pass = metA >= 95.0 && metS >= 95.0 && precision >= 95.0;
    aggClear(&all);

    if (optCheck && !pass)
        return 1;
    return 0;
}
