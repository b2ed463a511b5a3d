/*
 * vfmigsteerloop.h: the one steering loop of a migration
 *
 * Every front end that steers a migration (virt-vfmigd for the ones it
 * sees, `virt-vfmig migrate` for the one it starts) steps it and judges
 * its end here, and nowhere else:
 *
 *  - vfmigSteerLoopStep steps the controller (vfmigcontroller.h) once,
 *    counts the failed steps, notices that the job ended (the controller
 *    saw it over or cancelled it, or the domain left with it) and, after
 *    too many failures in a row, hands the limit back and stops;
 *  - vfmigSteerLoopJudge classifies the end, once the front end has
 *    libvirt's word on the completed job: met, missed, migrated without a
 *    measured downtime, cancelled by the policy, cancelled by someone
 *    else, failed, or not known; it also says why the policy cancelled
 *    it and what the switch teaches about libvirt's overhead.
 *
 * The front ends keep their scheduling only (the daemon: libvirt's
 * events and its sweep, one worker per domain, the guardian;
 * `virt-vfmig migrate`: the job in its thread, the time limit and the
 * cancel flag) and print what the loop returns.
 *
 * Like the controller, the loop owns no connection, thread or clock: the
 * caller passes the time of each step, and the loop reaches libvirt only
 * through the controller's ops and its own (@gone), so the tests drive it
 * against a simulated QEMU (tests/qemu/test-steerloop.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vfmigcontroller.h"
#include "vfmigenum.h"

/* Failed steps in a row after which the loop lets the migration go. */
#define VFMIG_STEER_LOOP_MAX_ERRORS 25

/* The most of a downtime that libvirt's own work at the switch explains,
 * beyond what QEMU took it with: the larger of VFMIG_STEER_FAULT_MIN_US
 * and VFMIG_STEER_FAULT_FACTOR times the overhead the controller used.
 * libvirt's work (the source's stop, the destination's cont and the
 * messages between) took 0.3 to 0.65 s on the rig, some 2 s with both
 * cores busy; a downtime beyond it met a fault on the path (the link cut
 * at the switch and back, a host or daemon that stalled): no overhead to
 * learn (one such switch, 11.9 s, made every later prediction miss). */
#define VFMIG_STEER_FAULT_MIN_US (5ULL * 1000 * 1000)
#define VFMIG_STEER_FAULT_FACTOR 4

/* How libvirt says the migration job ended. */
typedef enum {
    VFMIG_STEER_JOB_NONE = 0,       /* libvirt told nothing */
    VFMIG_STEER_JOB_COMPLETED,
    VFMIG_STEER_JOB_FAILED,
    VFMIG_STEER_JOB_CANCELLED,

    VFMIG_STEER_JOB_LAST
} vfmigSteerJobEnd;
VFMIG_ENUM_DECL(vfmigSteerJobEnd);

/* What a completed job's statistics (virDomainGetJobStats with
 * VIR_DOMAIN_JOB_STATS_COMPLETED, or the JOB_COMPLETED event) say. */
typedef struct _vfmigSteerCompleted vfmigSteerCompleted;
struct _vfmigSteerCompleted {
    vfmigSteerJobEnd end;
    bool hasDowntime;
    uint64_t downtimeUs;            /* libvirt's "Total downtime" */
    uint64_t elapsedMs;             /* the whole job */
    int operation;                  /* virDomainJobOperation, -1 unknown */
};

/* How a migration ended: the one classification. */
typedef enum {
    VFMIG_STEER_END_MET = 0,        /* migrated; libvirt's downtime met the
                                     * target */
    VFMIG_STEER_END_MISSED,         /* migrated; it missed the target */
    VFMIG_STEER_END_UNMEASURED,     /* migrated; libvirt gave no downtime */
    VFMIG_STEER_END_ABORTED,        /* cancelled by the policy: the
                                     * controller gave up */
    VFMIG_STEER_END_CANCELLED,      /* cancelled by someone else: the
                                     * caller (a time limit, a signal),
                                     * virsh domjobabort, Nova */
    VFMIG_STEER_END_FAILED,         /* libvirt or QEMU failed it */
    VFMIG_STEER_END_UNKNOWN,        /* over, and libvirt reported no
                                     * completed job */

    VFMIG_STEER_END_LAST
} vfmigSteerEnd;
VFMIG_ENUM_DECL(vfmigSteerEnd);

/* Why the policy cancelled the migration (VFMIG_STEER_END_ABORTED). */
typedef enum {
    VFMIG_STEER_ABORT_NONE = 0,     /* it did not */
    VFMIG_STEER_ABORT_PREFLIGHT,    /* the floor alone misses the target */
    VFMIG_STEER_ABORT_PAUSED,       /* the guest was paused before its VFs'
                                     * initial data was all sent */
    VFMIG_STEER_ABORT_INITIAL_STUCK,/* a device's initial data stopped
                                     * draining */
    VFMIG_STEER_ABORT_TARGET,       /* the target cannot be met (the
                                     * verdict's @reason says why) */

    VFMIG_STEER_ABORT_LAST
} vfmigSteerAbort;
VFMIG_ENUM_DECL(vfmigSteerAbort);

/* How the switchover of a migrated domain came about. */
typedef enum {
    VFMIG_STEER_SWITCH_NONE = 0,    /* not migrated */
    VFMIG_STEER_SWITCH_PREDICTED,   /* the controller released it with a
                                     * prediction */
    VFMIG_STEER_SWITCH_PAUSED,      /* the guest was paused (virsh suspend,
                                     * Nova's force-complete): released at
                                     * once, the guest chose its downtime */
    VFMIG_STEER_SWITCH_UNPREDICTED, /* QEMU switched before the controller
                                     * released it, or without a
                                     * prediction */

    VFMIG_STEER_SWITCH_LAST
} vfmigSteerSwitch;
VFMIG_ENUM_DECL(vfmigSteerSwitch);

/* What the judge found. */
typedef struct _vfmigSteerVerdict vfmigSteerVerdict;
struct _vfmigSteerVerdict {
    vfmigSteerEnd end;              /* what vfmigSteerLoopJudge returned */
    vfmigSteerAbort abort;          /* END_ABORTED: why */
    vfmigDowntimeReason reason;     /* ABORT_TARGET: the policy's reason;
                                     * VFMIG_DOWNTIME_REASON_LAST: not
                                     * known */
    uint64_t floorUs;               /* ABORT_PREFLIGHT: the floor */
    vfmigSteerSwitch how;           /* migrated: how it switched */
    /* Whether libvirt's downtime of the completed job met the target:
     * 1 met, 0 missed, -1 not known (no completed job's downtime). */
    int met;
    uint64_t downtimeUs;            /* libvirt's, when @met >= 0 */
    uint64_t predictedUs;           /* SWITCH_PREDICTED: at the switch,
                                     * with the overhead */
    /* SWITCH_PREDICTED: libvirt's own part of this downtime, a sample for
     * vfmigControllerOverhead (libvirt's downtime minus the policy's
     * prediction at the switch); every predicted switch teaches. */
    bool hasOverheadSample;
    int64_t overheadSampleUs;
    /* SWITCH_PREDICTED: libvirt's part of the downtime was more than its
     * work explains (@faultBoundUs, VFMIG_STEER_FAULT_MIN_US): the
     * migration met a fault, and @overheadSampleUs is what it took, not
     * a sample (@hasOverheadSample false). */
    bool faulted;
    uint64_t faultBoundUs;
};

/* What the caller knows of the end beyond libvirt's completed job. */
typedef enum {
    /* The domain runs on the destination (virDomainMigrate3 returned it). */
    VFMIG_STEER_JUDGE_MIGRATED = 1 << 0,
    /* It does not (the migration call failed). */
    VFMIG_STEER_JUDGE_NOT_MIGRATED = 1 << 1,
    /* The caller cancelled the job (its time limit, its cancel flag). */
    VFMIG_STEER_JUDGE_CANCEL_ASKED = 1 << 2,
} vfmigSteerJudgeFlags;

typedef struct _vfmigSteerLoopConfig vfmigSteerLoopConfig;
struct _vfmigSteerLoopConfig {
    uint64_t targetUs;              /* the downtime to meet; > 0 */
    /* Failed steps in a row after which the loop hands the limit back and
     * stops; 0: VFMIG_STEER_LOOP_MAX_ERRORS. */
    unsigned int maxErrors;
    /* Optional: whether the domain has left this host (or stopped
     * running), asked after a failed step: then its migration ended. */
    bool (*gone)(void *opaque);
    void *opaque;
};

/* What one call of vfmigSteerLoopStep saw. */
typedef struct _vfmigSteerLoopEvent vfmigSteerLoopEvent;
struct _vfmigSteerLoopEvent {
    bool stepped;                   /* the controller stepped: @step and
                                     * @line are valid */
    vfmigControllerStatus step;
    bool phaseChanged;              /* the first step, or a new phase */
    const char *line;               /* vfmigControllerStepFormat's; the
                                     * loop's until its next step */
    bool gone;                      /* the step failed because the domain
                                     * left with its migration */
};

typedef struct _vfmigSteerLoop vfmigSteerLoop;

/*
 * A loop over @ctl (the caller keeps it, and keeps it alive as long as
 * the loop).  Returns NULL with an error for an invalid @config.
 */
vfmigSteerLoop *vfmigSteerLoopNew(vfmigController *ctl,
                                  const vfmigSteerLoopConfig *config);
void vfmigSteerLoopFree(vfmigSteerLoop *loop);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigSteerLoop, vfmigSteerLoopFree);

/*
 * One step at @nowUs (the caller's monotonic clock), into *@ev.  Returns
 *   1  the job runs on: step again;
 *   0  the job is over: the controller saw it end (phase ENDED) or
 *      cancelled it (ABORTED), or a step failed and the domain is gone
 *      (@ev->gone); judge it (vfmigSteerLoopJudge).  Further calls step
 *      nothing and return 0;
 *  -1  the step failed (an error is reported and counted): step again;
 *  -2  the step failed for the config's maxErrors-th time in a row: the
 *      loop handed the limit back (vfmigControllerRelease) and stops
 *      steering; the error is reported (the release's, if that failed
 *      too).  Further calls return 0.
 */
int vfmigSteerLoopStep(vfmigSteerLoop *loop,
                       uint64_t nowUs,
                       vfmigSteerLoopEvent *ev);

/*
 * The caller knows the job is over without a step (virDomainMigrate3
 * returned with the domain on the destination, from where no step can
 * read it): the loop's phase becomes ENDED and it steps no more.
 */
void vfmigSteerLoopSetEnded(vfmigSteerLoop *loop);

/*
 * The one judge of a migration's end, into *@verdict.  @completed is
 * libvirt's completed job as the caller read it (NULL: none);
 * @flags (vfmigSteerJudgeFlags) what the caller knows.  In order:
 *  - MIGRATED: met, missed, or unmeasured (no downtime);
 *  - CANCEL_ASKED: cancelled (by someone else than the policy);
 *  - the controller cancelled it: aborted, with why;
 *  - else what libvirt says: a completed job with a downtime is met or
 *    missed (unknown without one, or with NOT_MIGRATED: failed), a
 *    failed one failed, a cancelled one cancelled, none unknown.
 * Returns @verdict->end.  Pure: no I/O.
 */
vfmigSteerEnd vfmigSteerLoopJudge(const vfmigSteerLoop *loop,
                                  const vfmigSteerCompleted *completed,
                                  unsigned int flags,
                                  vfmigSteerVerdict *verdict);

/* Whether a downtime of @downtimeUs meets @targetUs: the one rule. */
bool vfmigSteerDowntimeMet(uint64_t downtimeUs,
                           uint64_t targetUs);

vfmigController *vfmigSteerLoopController(const vfmigSteerLoop *loop);
/* The controller's phase after the last step; PHASE_LAST before it. */
vfmigControllerPhase vfmigSteerLoopPhase(const vfmigSteerLoop *loop);
/* Whether the loop steps no more (the job is over, or it gave up). */
bool vfmigSteerLoopIsOver(const vfmigSteerLoop *loop);
/* Whether it gave up after too many failed steps. */
bool vfmigSteerLoopGaveUp(const vfmigSteerLoop *loop);
/* Steps that succeeded. */
unsigned int vfmigSteerLoopSteps(const vfmigSteerLoop *loop);
/* Steps that failed: all of them, and in a row now. */
unsigned int vfmigSteerLoopErrors(const vfmigSteerLoop *loop);
unsigned int vfmigSteerLoopErrorsInRow(const vfmigSteerLoop *loop);
/* The first failed step's message; NULL: none failed. */
const char *vfmigSteerLoopFirstError(const vfmigSteerLoop *loop);
/* The target in effect, us. */
uint64_t vfmigSteerLoopTargetUs(const vfmigSteerLoop *loop);
