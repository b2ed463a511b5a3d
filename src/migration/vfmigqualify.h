/*
 * vfmigqualify.h: qualification of a VF for live migration
 *
 * A qualification moves an idle device's state the way a live migration
 * would, without a VM: onto itself (vfmigEngineRoundTrip through an
 * unlinked temporary file) or onto a peer device (vfmigEngineMigrate,
 * after which the source runs again), with the device's digest taken on
 * both sides and a downtime policy that switches over anyway when pre-copy
 * does not converge, so that the overshoot is measured rather than the
 * run aborted.  Then a verdict: every finding (pass, note, warn or fail,
 * with a stable id and a translated message with the numbers) and the
 * overall "qualified", "qualified-with-warnings" or "not-qualified".
 *
 * With params->calibrate the device runs twice: the first run measures
 * what the device costs at switchover (stop, stop-copy drain, load,
 * resume), and the second, which gives the verdict, predicts its downtime
 * with those costs.  Nothing comes from an earlier qualification.
 *
 * The verdict is a pure function of what the run saw
 * (vfmigQualifyEvaluate), so that it can be tested on synthetic reports.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vfmigdevice.h"
#include "vfmignodedevconf.h"
#include "vfmigengine.h"
#include "vfmigstatefile.h"

/* Defaults of vfmigQualifyParams. */
#define VFMIG_QUALIFY_DEFAULT_TARGET_US (300 * 1000)
#define VFMIG_QUALIFY_DEFAULT_DEADLINE_US (10 * 1000 * 1000)

typedef enum {
    VFMIG_QUALIFY_PASS = 0,     /* as it should be */
    VFMIG_QUALIFY_NOTE,         /* information; changes no verdict */
    VFMIG_QUALIFY_WARN,         /* migrates, but not at its best */
    VFMIG_QUALIFY_FAIL,         /* would not migrate, or not as asked */

    VFMIG_QUALIFY_SEVERITY_LAST
} vfmigQualifySeverity;

/* The verdict is the node-device capability's vfmigNodeDevVerdict
 * (vfmignodedevconf.h): the record and <qualified verdict=.../> publish
 * it as it is. */

typedef struct _vfmigQualifyFinding vfmigQualifyFinding;
struct _vfmigQualifyFinding {
    vfmigQualifySeverity severity;
    /* Stable, for scripts and JSON: "migration", "transfer", "pre-copy",
     * "convergence", "switchover", "downtime", "prediction", "latency",
     * "state", "digest", "peer". */
    const char *id;
    char *message;              /* translated, with the numbers */
};

/* The parts of a measured downtime, us. */
typedef struct _vfmigQualifyDowntime vfmigQualifyDowntime;
struct _vfmigQualifyDowntime {
    uint64_t totalUs;           /* the engine's measured downtime */
    uint64_t stopUs;            /* source: -> STOP_COPY */
    uint64_t drainUs;           /* source: reading the stop-copy data */
    uint64_t loadUs;            /* destination: loading the stop-copy data
                                 * and RESUMING -> STOP */
    uint64_t resumeUs;          /* destination: STOP -> RUNNING */
};

/*
 * What a qualification saw (the inputs of the verdict) and the verdict.
 * vfmigQualifyDevice fills it; tests may fill the inputs by hand and call
 * vfmigQualifyEvaluate.
 */
typedef struct _vfmigQualifyResult vfmigQualifyResult;
struct _vfmigQualifyResult {
    /* ---- inputs ---- */
    char *device;
    char *peer;                 /* NULL: a round trip onto itself */
    uint64_t targetUs;          /* the downtime target */
    uint64_t deadlineUs;        /* pre-copy deadline of the policy */

    /* The source's migration flags; !haveFlags: the device has no
     * migration support at all (flagsError says what the device said). */
    bool haveFlags;
    uint64_t flags;
    char *flagsError;

    /* The destination (the peer, or the device itself). */
    bool dstMultiLoad;
    vfmigStatePrecopyMode mode; /* the mode chosen for the run */
    /* Why the destination cannot load the source's state; NULL: it can. */
    char *incompatible;

    /* The engine. */
    bool ran;                   /* the engine was started */
    bool failed;                /* ... and failed */
    int errorCode;              /* vfmigErrorCode, when failed */
    char *error;                /* its message, when failed */
    vfmigEngineReport src;
    vfmigEngineReport dst;

    /* The latency hints the caller gave (driver sysfs; 0: unknown) and
     * the ones the policy of the run above used: the caller's, or, when
     * @calibrated, what a first run of this same qualification measured
     * (vfmigQualifyMeasuredHints).  A qualification never takes them from
     * an earlier one, so that its verdict does not feed the next. */
    uint64_t givenStopUs;
    uint64_t givenResumeUs;
    bool calibrated;
    vfmigQualifyDowntime calibration;   /* the first run's parts */
    vfmigEngineReport calibrationSrc;   /* the first run's source report */
    uint64_t hintStopUs;
    uint64_t hintResumeUs;

    /* The devices' migration state after the run (or its failure). */
    bool haveFinalStates;
    uint32_t srcFinalState;
    uint32_t dstFinalState;     /* the peer's; the device's own for a
                                 * round trip */

    /* ---- outputs (vfmigQualifyEvaluate) ---- */
    vfmigNodeDevVerdict verdict;
    GPtrArray *findings;        /* vfmigQualifyFinding * */
};

vfmigQualifyResult *vfmigQualifyResultNew(void);
void vfmigQualifyResultFree(vfmigQualifyResult *res);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigQualifyResult, vfmigQualifyResultFree);

/* Builds res->findings and res->verdict from the inputs of @res.  Pure:
 * no device, no clock, no I/O. */
void vfmigQualifyEvaluate(vfmigQualifyResult *res);

/* The verdict of a list of findings: any fail makes it not-qualified,
 * else any warning qualified-with-warnings. */
vfmigNodeDevVerdict vfmigQualifyVerdictOf(const GPtrArray *findings);

/* The finding @id of @res, or NULL. */
const vfmigQualifyFinding *vfmigQualifyFindingGet(const vfmigQualifyResult *res,
                                                  const char *id);

/*
 * The measured downtime of a completed run and its parts, from the two
 * reports (vfmigEngineMigrate's or vfmigEngineRoundTrip's).  Returns false
 * when the run did not complete (no downtime was measured).
 */
bool vfmigQualifyDowntimeParts(const vfmigEngineReport *src,
                               const vfmigEngineReport *dst,
                               vfmigQualifyDowntime *parts);

/*
 * What the device costs at switchover besides moving its residue, from a
 * completed run, as the engine's latency hints: *@stopUs the source's
 * stop transition and the part of its stop-copy drain that is not the
 * residue's transfer (a driver that hashes or serializes its state
 * there), *@resumeUs the destination's load commit and resume (and the
 * rest of the measured downtime).  The residue's transfer is the run's
 * stop-copy bytes at the bandwidth the policy saw, which the policy counts
 * itself.  Returns false (hints 0) when the run measured no downtime.
 */
bool vfmigQualifyMeasuredHints(const vfmigEngineReport *src,
                               const vfmigEngineReport *dst,
                               uint64_t *stopUs,
                               uint64_t *resumeUs);

/* The error of a prediction, in percent of the measured value (0 when
 * nothing was measured). */
double vfmigQualifyPredictionError(uint64_t predictedUs,
                                   uint64_t measuredUs);

typedef struct _vfmigQualifyParams vfmigQualifyParams;
struct _vfmigQualifyParams {
    vfmigDevice *dev;
    const vfmigStateIdentity *id;       /* multiLoad: the device's own */
    vfmigDevice *peer;                  /* NULL: onto itself */
    const vfmigStateIdentity *peerId;
    uint64_t targetUs;                  /* 0: 300 ms */
    uint64_t deadlineUs;                /* 0: 10 s */
    uint64_t timeoutMs;                 /* 0: none */
    /* Latency hints for the policy (the driver's sysfs, never an earlier
     * qualification); 0: unknown. */
    uint64_t stopLatencyUs;
    uint64_t resumeLatencyUs;
    /* Measure first: a first run, with the hints above, measures what the
     * device costs at switchover; the run that gives the verdict then
     * predicts with those figures (only with pre-copy: without it the
     * policy predicts nothing). */
    bool calibrate;
    unsigned int roundMs;               /* 0: the engine's default */
    const gint *cancel;
    vfmigEngineProgressFunc progress;
    void *progressOpaque;
    vfmigEngineClockFunc clock;         /* NULL: the real clock */
    void *clockOpaque;
    const char *tmpDir;                 /* NULL: g_get_tmp_dir() */
};

/*
 * Qualifies params->dev (twice with params->calibrate: the figures of the
 * first run become the second's hints).  Returns 0 with *@result filled and evaluated,
 * whatever the verdict (a failed transfer is a finding); -1 with an error
 * when there is no verdict to give: the run was cancelled, or something
 * other than the devices failed (no temporary file).  Either way the
 * source device is left running (with its state, unless the engine said
 * otherwise in the error or the findings).
 */
int vfmigQualifyDevice(const vfmigQualifyParams *params,
                       vfmigQualifyResult **result);

/* For messages: a duration, "0.123 ms", "12.3 ms", "1.23 s"; a size,
 * "512 bytes", "1.5 MiB" (binary units, ASCII only); "unknown" for
 * VFMIG_DOWNTIME_UNKNOWN. */
char *vfmigQualifyFormatUs(uint64_t us);
char *vfmigQualifyFormatBytes(uint64_t bytes);

const char *vfmigQualifySeverityToString(int severity);
