/*
 * vfmigdowntime.h: the downtime policy, as pure functions
 *
 * Decides from samples of the devices' pre-copy estimates, their stop and
 * resume latencies, the guest RAM still to send and the measured bandwidth
 * whether to keep iterating, switch over now, or give up; predicts the
 * downtime with its parts; and computes the QEMU downtime-limit that makes
 * QEMU's own rule (pending <= bandwidth x downtime-limit, which knows
 * nothing of device latency) switch when this policy does.
 *
 * No I/O, no clock, no globals: the caller owns a vfmigDowntimeState,
 * supplies timestamps and feeds one sample at a time.  The engine, the
 * benchmark and the libvirt controller all call this same code.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfmigenum.h"

/* A byte count or a time that is not known (stop-copy size not reported;
 * a time that cannot be computed because the bandwidth is 0). */
#define VFMIG_DOWNTIME_UNKNOWN UINT64_MAX

/* How long the devices' initial data may stay without a new low before a
 * switch is judged impossible.  Time, not samples: under QEMU's RAM pass
 * (all RAM dirty on a kernel without device dirty tracking, a slow host)
 * the device's data can wait seconds for its turn. */
#define VFMIG_DOWNTIME_INITIAL_STUCK_US (30ULL * 1000 * 1000)

/* Samples kept for the trend that detects non-convergence. */
#define VFMIG_DOWNTIME_WINDOW 32
/* Default and smallest trend window (policy.min_samples).  Measured on
 * synthetic runs with +-20 % noise on residue and bandwidth (1000 seeds):
 * a residue falling 5 % per sample is wrongly given up 1.1 % of the time
 * with 8 samples, never with 12; 3 % per sample: 46 %, 0.5 %, 0 with 16.
 * A flat residue is given up after about 10, 15, 20 samples. */
#define VFMIG_DOWNTIME_MIN_SAMPLES_DEFAULT 12
#define VFMIG_DOWNTIME_MIN_SAMPLES_LOWEST 4
/* Bandwidth samples whose median is the smoothed bandwidth. */
#define VFMIG_DOWNTIME_BW_WINDOW 5

/* A residue that fell by at least this much since the previous sample is
 * still shrinking; it must then fit this share of the downtime budget
 * (target minus latencies) to switch.  See vfmigdowntime.c. */
#define VFMIG_DOWNTIME_SHRINK_PERCENT 3
#define VFMIG_DOWNTIME_MARGIN_PERCENT 80

/* QEMU's accepted downtime-limit range, in ms (migration/options.c:
 * MAX_MIGRATE_DOWNTIME is 2 000 s); we never ask for 0. */
#define VFMIG_DOWNTIME_QEMU_LIMIT_MIN_MS 1
#define VFMIG_DOWNTIME_QEMU_LIMIT_MAX_MS 2000000

typedef enum {
    VFMIG_DOWNTIME_ON_FAILURE_ABORT = 0,    /* give up: cancel the migration */
    VFMIG_DOWNTIME_ON_FAILURE_SWITCH,       /* switch anyway, report overshoot */
} vfmigDowntimeOnFailure;

typedef struct _vfmigDowntimePolicy vfmigDowntimePolicy;
struct _vfmigDowntimePolicy {
    uint64_t target_us;         /* the downtime to meet; > 0 */
    uint64_t deadline_us;       /* since the first sample; 0: none */
    vfmigDowntimeOnFailure on_failure;
    /* Trend window for non-convergence, in samples: no verdict before this
     * many samples.  0 means VFMIG_DOWNTIME_MIN_SAMPLES_DEFAULT; otherwise
     * VFMIG_DOWNTIME_MIN_SAMPLES_LOWEST .. VFMIG_DOWNTIME_WINDOW. */
    unsigned int min_samples;
    /* How devices' state transitions combine (see vfmigdowntime.c):
     * false (the default) adds them up, as QEMU 10 does them one after the
     * other; true takes the largest, for an engine that transitions the
     * devices concurrently. */
    bool concurrent_transitions;
};

typedef struct _vfmigDowntimeDeviceSample vfmigDowntimeDeviceSample;
struct _vfmigDowntimeDeviceSample {
    uint64_t initial_bytes;     /* pre-copy initial data still to read */
    uint64_t dirty_bytes;       /* pre-copy dirty data still to read */
    uint64_t stop_copy_bytes;   /* MIG_DATA_SIZE, or VFMIG_DOWNTIME_UNKNOWN */
    uint64_t stop_latency_us;   /* RUNNING -> STOP_COPY on the source */
    uint64_t resume_latency_us; /* RESUMING -> RUNNING on the destination */
};

typedef struct _vfmigDowntimeSample vfmigDowntimeSample;
struct _vfmigDowntimeSample {
    uint64_t timestamp_us;      /* caller's monotonic clock; non-decreasing */
    const vfmigDowntimeDeviceSample *devices;
    size_t ndevices;            /* the same in every sample */
    bool has_ram;               /* false: no VM (device-only migration) */
    uint64_t ram_remaining_bytes;
    uint64_t ram_dirty_rate;    /* bytes/s */
    uint64_t bandwidth;         /* measured transfer rate, bytes/s; may be 0 */
    /* How the RAM's part of a switch is known: 0, from the remaining
     * bytes at the bandwidth; otherwise all guest RAM is dirty at every
     * bitmap sync (a device without DMA dirty tracking: QEMU's
     * enable-migration=on), the switch repeats a whole pass, and this is
     * the time of one, us (VFMIG_DOWNTIME_UNKNOWN before one was timed).
     * ram_remaining_bytes is then what the switch sends: all of it. */
    uint64_t ram_pass_us;
};

typedef enum {
    VFMIG_DOWNTIME_CONTINUE = 0,
    VFMIG_DOWNTIME_SWITCH_OVER,     /* the prediction meets the target */
    VFMIG_DOWNTIME_GIVE_UP,         /* failure under the abort policy */
    VFMIG_DOWNTIME_SWITCH_ANYWAY,   /* failure under the switch policy */

    VFMIG_DOWNTIME_DECISION_LAST
} vfmigDowntimeDecision;

typedef enum {
    VFMIG_DOWNTIME_REASON_CONVERGING = 0, /* continue: still making progress */
    VFMIG_DOWNTIME_REASON_INITIAL_PENDING,/* target met, initial data remains */
    VFMIG_DOWNTIME_REASON_CONVERGED,      /* switch over */
    VFMIG_DOWNTIME_REASON_NOT_CONVERGING, /* dirtying outruns bandwidth */
    VFMIG_DOWNTIME_REASON_LATENCY,        /* latencies alone exceed target */
    VFMIG_DOWNTIME_REASON_DEADLINE,       /* the deadline passed */
    VFMIG_DOWNTIME_REASON_RAM_UNTIMED,    /* continue: all RAM is dirty at
                                           * every pass, none timed yet */
    VFMIG_DOWNTIME_REASON_INITIAL_STUCK,  /* switch-anyway impossible: initial
                                           * data remains and does not drain */

    VFMIG_DOWNTIME_REASON_LAST
} vfmigDowntimeReason;

/*
 * The rules of the decision, in the order vfmigDowntimeEvaluate tries
 * them; the first that decides wins (vfmigdowntime.c, vfmigDowntimeRules):
 *  converged       the prediction meets the target, no initial data left:
 *                  switch over;
 *  deadline        the deadline passed: the failure policy;
 *  latency         the latencies alone exceed the target (under
 *                  switch-anyway only once the residue stopped shrinking
 *                  or nothing is left): the failure policy;
 *  ram-untimed     all guest RAM is dirty at every pass and no pass was
 *                  timed yet (the RAM's part of any switch): continue;
 *  not-converging  the progress stopped shrinking: the failure policy;
 *  continue        nothing failed: keep iterating.
 * The failure policy: abort gives up; switch-anyway waits for the initial
 * data (gives up once it is stuck), then switches with the overshoot.
 */
typedef enum {
    VFMIG_DOWNTIME_RULE_CONVERGED = 0,
    VFMIG_DOWNTIME_RULE_DEADLINE,
    VFMIG_DOWNTIME_RULE_LATENCY,
    VFMIG_DOWNTIME_RULE_RAM_UNTIMED,
    VFMIG_DOWNTIME_RULE_NOT_CONVERGING,
    VFMIG_DOWNTIME_RULE_CONTINUE,

    VFMIG_DOWNTIME_RULE_LAST
} vfmigDowntimeRuleId;

typedef struct _vfmigDowntimeResult vfmigDowntimeResult;
struct _vfmigDowntimeResult {
    vfmigDowntimeDecision decision;
    vfmigDowntimeReason reason;
    vfmigDowntimeRuleId rule;       /* the rule that decided */
    /* Under the switch policy: a failure was seen but initial data still
     * remains, so the switch waits for it (decision CONTINUE). */
    bool waiting_for_initial;

    /* Prediction, us; VFMIG_DOWNTIME_UNKNOWN when the bandwidth is 0 and
     * something remains to be sent. */
    uint64_t predicted_us;      /* ram + device residue + latency */
    uint64_t ram_us;            /* RAM residue / bandwidth, or the time of
                                 * a whole pass (sample's ram_pass_us) */
    uint64_t device_residue_us; /* devices' residue / bandwidth */
    uint64_t latency_us;        /* stop_latency_us + resume_latency_us */
    uint64_t stop_latency_us;
    uint64_t resume_latency_us;
    /* predicted_us - target_us when the decision is SWITCH_ANYWAY (and
     * whenever the prediction exceeds the target); else 0. */
    uint64_t overshoot_us;

    /* Inputs as the policy saw them. */
    uint64_t pending_bytes;     /* RAM + devices' residue: QEMU's pending */
    uint64_t device_residue_bytes;
    uint64_t initial_bytes;     /* sum over devices */
    uint64_t bandwidth;         /* smoothed, bytes/s */
    /* The highest of the sample bandwidths over the trend window: QEMU
     * compares its pending with its latest estimate x its limit, and that
     * estimate spikes (a burst into the socket's buffers). */
    uint64_t bandwidth_high;
    bool ram_dirty_exceeds_bandwidth;

    /* The downtime-limit to give QEMU now, ms: the budget for the residue,
     * scaled by bandwidth / bandwidth_high, so that a switch QEMU takes at
     * its highest estimate still sends no more than the budget allows at
     * the smoothed bandwidth. */
    uint64_t qemu_downtime_limit_ms;
    /* The latencies leave less than 1 ms of the target for data: QEMU's
     * rule cannot express the target and the limit is clamped to 1 ms. */
    bool latency_exceeds_target;
};

typedef struct _vfmigDowntimeState vfmigDowntimeState;
struct _vfmigDowntimeState {
    uint64_t nsamples;          /* samples accepted so far */
    uint64_t first_us;
    uint64_t last_us;
    size_t ndevices;
    /* Ring of the last VFMIG_DOWNTIME_WINDOW samples, for the trend (and
     * the sample bandwidths: the newest VFMIG_DOWNTIME_BW_WINDOW for their
     * median, all for their high). */
    uint64_t t[VFMIG_DOWNTIME_WINDOW];
    uint64_t bw[VFMIG_DOWNTIME_WINDOW];
    uint64_t progress[VFMIG_DOWNTIME_WINDOW];
    uint64_t initial[VFMIG_DOWNTIME_WINDOW];
    /* The lowest initial bytes seen, and when they were first seen. */
    uint64_t initial_low;
    uint64_t initial_low_us;
};

void vfmigDowntimeStateInit(vfmigDowntimeState *state);

/* Returns 0, or -1 with an error saying what is wrong with @policy. */
int vfmigDowntimePolicyValidate(const vfmigDowntimePolicy *policy);

/*
 * Feeds @sample into @state and fills @result with the decision.
 * Returns 0, or -1 with an error on invalid input (bad policy, no devices
 * and no RAM, device count changed, time going backwards); @state is then
 * unchanged.
 */
int vfmigDowntimeEvaluate(vfmigDowntimeState *state,
                          const vfmigDowntimePolicy *policy,
                          const vfmigDowntimeSample *sample,
                          vfmigDowntimeResult *result);

/* Time to send @bytes at @bw bytes/s, in us, rounded up; UNKNOWN when it
 * cannot be computed (bandwidth 0) or does not fit. */
uint64_t vfmigDowntimeBytesToUs(uint64_t bytes,
                                uint64_t bw);

/*
 * The devices' stop and resume latencies as @policy combines them (added
 * up, or the largest of each with concurrent transitions) into *@stopUs
 * and *@resumeUs; returns their sum, the part of any downtime that no
 * waiting removes.
 */
uint64_t vfmigDowntimeLatencies(const vfmigDowntimePolicy *policy,
                                const vfmigDowntimeDeviceSample *devices,
                                size_t ndevices,
                                uint64_t *stopUs,
                                uint64_t *resumeUs);

/*
 * The one conversion from the unit at the boundary (the user's options,
 * the XML, libvirt's downtime and limit: ms) to the unit inside (us):
 * @ms in us into *@us.  Returns 0, or -1 when it does not fit (nothing
 * reported: the caller says which setting).
 */
int vfmigDowntimeMsToUs(uint64_t ms,
                        uint64_t *us);

/* Stable identifiers for reports and JSON: "continue", "switch-over" ... */
VFMIG_ENUM_DECL(vfmigDowntimeDecision);
VFMIG_ENUM_DECL(vfmigDowntimeReason);
VFMIG_ENUM_DECL(vfmigDowntimeRuleId);
