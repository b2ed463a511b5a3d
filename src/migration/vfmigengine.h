/*
 * vfmigengine.h: moves one device's state through the VFIO migration
 * protocol v2, without a VM
 *
 * The source side walks the device RUNNING -> PRE_COPY (when the device
 * has it and the destination can load several images), streams the
 * initial image and then dirty data while the device runs, asks the
 * downtime policy (vfmigdowntime.h) after every round, and on its word
 * goes to STOP_COPY, drains the device and writes the end record; without
 * pre-copy it goes RUNNING -> STOP_COPY at once.  The destination side
 * checks the stream's identity against its device before a byte of state
 * moves, puts the device in RESUMING, loads every chunk after its digest
 * matched and the end record after the total digest matched, and only
 * then leaves RESUMING.  The stream is the state file format of
 * vfmigstatefile.h over any file descriptor: a file, a pipe, a UNIX
 * socket.
 *
 * Failure never loses the source: whatever failed (the device, the
 * descriptor, the peer, the policy, a timeout, a cancel), the source
 * device is brought back to RUNNING with its state, and the destination
 * is reset.  The one exception is a source device that itself entered
 * ERROR: only a reset leaves ERROR, and a reset loses the state; the
 * error then says so.  Every error names the side, the device and the
 * phase.
 *
 * Writing to a pipe or socket whose reader went away raises SIGPIPE: the
 * caller ignores it (virt-vfmig does), so that the write fails with EPIPE
 * and the engine rolls back.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vfmigdevice.h"
#include "vfmigdowntime.h"
#include "vfmigstatefile.h"

typedef enum {
    VFMIG_ENGINE_SIDE_SOURCE = 0,
    VFMIG_ENGINE_SIDE_DESTINATION,

    VFMIG_ENGINE_SIDE_LAST
} vfmigEngineSide;

typedef enum {
    VFMIG_ENGINE_PHASE_SETUP = 0,   /* checks, identity, stream header */
    VFMIG_ENGINE_PHASE_PRE_COPY,    /* source runs while data streams */
    VFMIG_ENGINE_PHASE_STOP_COPY,   /* source stopped, its rest drains */
    VFMIG_ENGINE_PHASE_LOAD,        /* destination in RESUMING, loading */
    VFMIG_ENGINE_PHASE_RESUME,      /* destination leaves RESUMING, starts */
    VFMIG_ENGINE_PHASE_DONE,

    VFMIG_ENGINE_PHASE_LAST
} vfmigEnginePhase;

/* How to use pre-copy; AUTO picks (see vfmigEngineChooseMode). */
typedef enum {
    VFMIG_ENGINE_PRECOPY_AUTO = 0,
    VFMIG_ENGINE_PRECOPY_OFF,       /* RUNNING -> STOP_COPY, one image */
    VFMIG_ENGINE_PRECOPY_ON,        /* stream during pre-copy */

    VFMIG_ENGINE_PRECOPY_LAST
} vfmigEnginePrecopy;

/* Called at every round of pre-copy, at phase changes and at most every
 * 100 ms while data moves; from the thread of the side it describes. */
typedef struct _vfmigEngineProgress vfmigEngineProgress;
struct _vfmigEngineProgress {
    vfmigEngineSide side;
    vfmigEnginePhase phase;
    uint64_t elapsedUs;         /* since the side started */
    uint64_t bytes;             /* device data moved so far */
    uint64_t phaseBytes;        /* ... in this phase */
    uint64_t rate;              /* bytes/s over the side's busy time */
    uint64_t remaining;         /* device data still to move, estimated;
                                 * VFMIG_DOWNTIME_UNKNOWN if not known */
    unsigned int iteration;     /* pre-copy round */
    /* pre-copy only: the policy's latest word */
    bool haveDecision;
    vfmigDowntimeResult decision;
};

typedef void (*vfmigEngineProgressFunc)(const vfmigEngineProgress *progress,
                                        void *opaque);

/* Monotonic time in microseconds; NULL in the config: the real clock. */
typedef gint64 (*vfmigEngineClockFunc)(void *opaque);

typedef struct _vfmigEngineConfig vfmigEngineConfig;
struct _vfmigEngineConfig {
    /* When pre-copy ends (source).  target_us 0: 300 ms, QEMU's default
     * downtime-limit.  concurrent_transitions is ignored: one device. */
    vfmigDowntimePolicy policy;
    vfmigEnginePrecopy precopy;
    /* The device's latencies before the engine measured them (sysfs
     * stop_latency_us / resume_latency_us, or an earlier device-qualify):
     * the policy needs them from the first round. */
    uint64_t stopLatencyUs;
    uint64_t resumeLatencyUs;
    /* Pre-copy round: how long to wait for new dirty data; 0: 100 ms. */
    unsigned int roundMs;
    /* Fail when the descriptor or the device makes no progress this long;
     * 0: 30 s.  Pre-copy waiting for dirty data is not a stall. */
    unsigned int stallTimeoutMs;
    /* Fail when the whole side takes longer; 0: no limit. */
    uint64_t timeoutMs;
    /* Non-zero: stop and roll back (a SIGINT handler may set it). */
    const gint *cancel;
    /* Bytes per device read; 0: 1 MiB. */
    size_t bufferSize;
    /* Take the device's state digest where its driver offers one: the
     * source's once it is stopped and drained, the destination's once it
     * left RESUMING.  Costs a pass over the state; the time is kept out of
     * the measured downtime. */
    bool digest;
    vfmigEngineProgressFunc progress;
    void *progressOpaque;
    vfmigEngineClockFunc clock;
    void *clockOpaque;
};

void vfmigEngineConfigInit(vfmigEngineConfig *cfg);

/* One change of the policy's decision or reason during pre-copy. */
typedef struct _vfmigEngineDecisionEvent vfmigEngineDecisionEvent;
struct _vfmigEngineDecisionEvent {
    uint64_t elapsedUs;
    unsigned int iteration;
    vfmigDowntimeDecision decision;
    vfmigDowntimeReason reason;
    uint64_t predictedUs;
    uint64_t residueBytes;
};

/* At most this many decision events are kept (the first and the last
 * ones); the count of all of them is in the report. */
#define VFMIG_ENGINE_MAX_EVENTS 64

/* Room for a digest in hex (SHA-512 at most), NUL included. */
#define VFMIG_ENGINE_DIGEST_MAX 129

typedef struct _vfmigEngineReport vfmigEngineReport;
struct _vfmigEngineReport {
    vfmigEngineSide side;
    vfmigStatePrecopyMode mode;     /* how the state was (or is) streamed */
    vfmigEnginePhase failedPhase;   /* when it failed: the phase */
    bool failed;

    /* Bytes of device data per phase; stream bytes include the framing. */
    uint64_t precopyBytes;
    uint64_t stopCopyBytes;
    uint64_t streamBytes;
    unsigned int precopyImages;     /* pre-copy ends of data (ENOMSG) */
    unsigned int iterations;        /* pre-copy rounds */

    /* Source: the device's own estimates. */
    uint64_t initialBytes;          /* initial image at PRE_COPY entry */
    uint64_t stopCopyEstimate;      /* MIG_DATA_SIZE just before the stop,
                                     * or VFMIG_DOWNTIME_UNKNOWN */

    /* Source: the policy. */
    bool haveDecision;
    vfmigDowntimeResult decision;   /* the one that ended pre-copy */
    unsigned int nevents;           /* decision changes, all of them */
    unsigned int neventsKept;
    vfmigEngineDecisionEvent events[VFMIG_ENGINE_MAX_EVENTS];

    /* Times, us, on the config's clock.  A start of 0 means "not yet". */
    uint64_t startUs;               /* the side started */
    uint64_t endUs;                 /* the side ended */
    uint64_t precopyUs;             /* source: time in pre-copy */
    uint64_t stopStartUs;           /* source: the stop transition began */
    uint64_t stopLatencyUs;         /* source: -> STOP_COPY took */
    uint64_t drainedUs;             /* source: end of the device's stream */
    uint64_t stopCopyLoadStartUs;   /* destination: first stop-copy byte
                                     * (or, without one, the end record)
                                     * given to the device */
    uint64_t loadCommitUs;          /* destination: RESUMING -> STOP took */
    uint64_t resumeLatencyUs;       /* destination: STOP -> RUNNING took */
    uint64_t runningUs;             /* destination: reached RUNNING */
    /* Measured downtime: only where both sides ran in one process
     * (vfmigEngineMigrate, vfmigEngineRoundTrip); else 0. */
    uint64_t downtimeUs;
    uint64_t rate;                  /* bytes/s over the busy time */

    /* With cfg->digest, where the driver offers one; else empty. */
    char digest[VFMIG_ENGINE_DIGEST_MAX];
    uint64_t digestUs;              /* time taken by the digest */
};

/*
 * Picks the stream mode for @src (flags @srcFlags) towards a destination
 * that can (@dstMultiLoad) or cannot load several images: "multi" when the
 * source has PRE_COPY, pre-copy is not off and the destination loads
 * several images; "single" when the source has PRE_COPY but the
 * destination loads one image or pre-copy is off (the engine then goes
 * RUNNING -> STOP_COPY: one image on every driver); "none" without
 * PRE_COPY.  -1 with an error when ON was asked of a device without
 * PRE_COPY or towards a destination without multi-load.
 */
int vfmigEngineChooseMode(uint64_t srcFlags,
                          bool dstMultiLoad,
                          vfmigEnginePrecopy precopy,
                          vfmigStatePrecopyMode *mode);

typedef enum {
    /* Source: on success leave the device in STOP (its state is now the
     * destination's); by default it returns to RUNNING, as after a
     * checkpoint.  Destination: on success leave the device in STOP for
     * the caller to start; by default it goes on to RUNNING. */
    VFMIG_ENGINE_LEAVE_STOPPED = 1 << 0,
} vfmigEngineFlags;

/*
 * Source side: saves @src, whose identity is @srcId (its driver, ids,
 * flags ...; precopyMode and multiLoad are filled in here), into @fd for
 * a destination that can (@dstMultiLoad) or cannot load several images.
 * @src must be RUNNING.  Returns 0, or -1 with an error and @src RUNNING
 * with its state.  @report is always filled.
 */
int vfmigEngineSave(vfmigDevice *src,
                    const vfmigStateIdentity *srcId,
                    bool dstMultiLoad,
                    int fd,
                    const vfmigEngineConfig *cfg,
                    unsigned int flags,
                    vfmigEngineReport *report);

/*
 * Destination side: loads the stream on @fd into @dst, whose identity is
 * @dstId.  A stream from an incompatible device is refused before @dst is
 * touched.  @dst must be RUNNING or STOP.  Returns 0, or -1 with an error
 * and @dst reset (RUNNING, its previous state gone) if it had been put in
 * RESUMING.
 */
int vfmigEngineLoad(vfmigDevice *dst,
                    const vfmigStateIdentity *dstId,
                    int fd,
                    const vfmigEngineConfig *cfg,
                    unsigned int flags,
                    vfmigEngineReport *report);

/*
 * Both sides in one process, over a socket pair, the destination in a
 * thread of its own: migrates @src to @dst.  On success @dst runs with
 * the state and @src is left in STOP (or RUNNING without
 * VFMIG_ENGINE_LEAVE_STOPPED, for a qualification); on failure of either
 * side @src runs with its state and @dst is reset.  The error is the
 * first side's that failed.
 */
int vfmigEngineMigrate(vfmigDevice *src,
                       const vfmigStateIdentity *srcId,
                       vfmigDevice *dst,
                       const vfmigStateIdentity *dstId,
                       const vfmigEngineConfig *cfg,
                       unsigned int flags,
                       vfmigEngineReport *srcReport,
                       vfmigEngineReport *dstReport);

/*
 * @dev onto itself: saves into @fd (an empty file open for reading and
 * writing: the stream is read back from its start), resets the device so
 * that the load has to rebuild the state, loads the stream and runs the
 * device again.  A failure before the reset leaves @dev running with its
 * state; after it, the state is whatever the load made of it and the
 * device is reset (a qualification runs on an idle device).
 * @downtimeUs in the reports is the stop-copy drain plus the load of the
 * stop-copy data and the resume: what a migration would stop the device
 * for, without the reset.
 */
int vfmigEngineRoundTrip(vfmigDevice *dev,
                         const vfmigStateIdentity *id,
                         int fd,
                         const vfmigEngineConfig *cfg,
                         vfmigEngineReport *srcReport,
                         vfmigEngineReport *dstReport);

VFMIG_ENUM_DECL(vfmigEngineSide);
VFMIG_ENUM_DECL(vfmigEnginePhase);
VFMIG_ENUM_DECL(vfmigEnginePrecopy);
