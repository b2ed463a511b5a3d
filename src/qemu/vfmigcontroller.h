/*
 * vfmigcontroller.h: steering one outgoing migration's switchover
 *
 * QEMU switches a migration over when what it still has to send fits in
 * bandwidth x downtime-limit; it counts no device stop or resume latency,
 * and libvirt adds time of its own after QEMU's.  The controller steers
 * QEMU's limit through libvirt (virDomainMigrateSetMaxDowntime) with the
 * downtime policy of src/migration (vfmigdowntime.h), one step at a time:
 *
 *  - it holds the limit low (VFMIG_CONTROLLER_HOLD_MS) while the policy
 *    says continue: while any device still has initial pre-copy data, and
 *    while the predicted downtime misses the target;
 *  - where switchover-ack cannot be relied on, it also waits, after the
 *    devices' initial data went out, for the time the destination needs
 *    to load it (the load time of its vfmigDowntimeSettings);
 *  - then it gives the limit that makes QEMU's own rule switch now;
 *  - when the policy gives up it aborts the job (on-failure 'abort') or
 *    gives the limit that lets QEMU switch anyway ('best-effort');
 *  - before every step it reads the limit back: a value it did not set
 *    (Nova sets its own on a timer) is noted as the other client's wish,
 *    logged, and overwritten again;
 *  - the prediction adds libvirt's own switchover overhead (the settings',
 *    learned from completed jobs: vfmigControllerLearnOverhead) to the
 *    policy's, so the target is the downtime libvirt reports.
 *
 * The controller owns no connection, thread or clock: the caller passes
 * the time of each step and a vfmigControllerOps table that reads the job
 * and the devices and acts on the job (a libvirt domain in
 * vfmigsteer.h; a simulated QEMU in the tests).  Every decision is logged
 * with its inputs (VFMIG_DEBUG) and kept in the step's result for the
 * front ends.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vfmigdowntime.h"
#include "vfmigdowntimeparams.h"
#include "vfmigenum.h"

/* The limit while the controller holds the switchover back, ms: the
 * smallest QEMU takes.  QEMU still switches at once if nothing at all is
 * left to send, which costs no more than the devices' latencies. */
#define VFMIG_CONTROLLER_HOLD_MS VFMIG_DOWNTIME_QEMU_LIMIT_MIN_MS

/* The devices' hold is a lease the controller renews at every step while
 * it holds: long enough for a step delayed by a loaded host or a slow
 * libvirt call, short enough that a controller that died (with its
 * guardian) leaves QEMU free soon.  ms. */
#define VFMIG_CONTROLLER_HOLD_LEASE_MS 10000

/* A pause after the release is QEMU's switchover, unless it lasts longer
 * than twice the target and this (us): then another client paused the
 * guest (vfmigControllerStep). */
#define VFMIG_CONTROLLER_PAUSE_GRACE_US (2 * 1000 * 1000)

/* What the release limit adds per second of QEMU's surplus (what it
 * counts beyond the policy's residue: a device answering MIG_DATA_SIZE
 * with its whole state), ms: half again, for QEMU's own estimate of the
 * bandwidth, which may be lower than the policy's. */
#define VFMIG_CONTROLLER_SURPLUS_MS_PER_S 1500

/* How long a release made on a converged prediction binds the limit,
 * us: QEMU takes the switch at its own check, which a guest that dirties
 * RAM can push a pass or more past the release (its bitmap sync finds
 * what the pass dirtied), and the policy, seeing the residue jump back,
 * judges the run not converging.  For this long after the release the
 * limit stays the release's (QEMU switches at the next trough whose
 * residue fits it); after it, or at the deadline, the failure policy
 * acts again.  bench-steer S3b: QEMU found the trough 1-3 s after the
 * release. */
#define VFMIG_CONTROLLER_RELEASE_BINDS_US (10ULL * 1000 * 1000)

/* The most overhead samples vfmigControllerLearnOverhead keeps. */
#define VFMIG_CONTROLLER_OVERHEAD_SAMPLES 16
/* Fewer overhead samples than this have no upper quartile: cold start. */
#define VFMIG_CONTROLLER_OVERHEAD_QUARTILE_MIN 4

/* What the job looks like now (libvirt's job statistics). */
typedef struct _vfmigControllerJob vfmigControllerJob;
struct _vfmigControllerJob {
    bool hasRam;                    /* the RAM figures are known */
    uint64_t ramTotal;              /* bytes */
    uint64_t ramRemaining;          /* bytes */
    uint64_t ramDirtyRate;          /* bytes/s */
    uint64_t bandwidth;             /* bytes/s, measured; 0: unknown */
    uint64_t ramIteration;          /* QEMU's dirty bitmap syncs so far
                                     * (libvirt's memory_iteration); 0:
                                     * not reported */
    uint64_t elapsedMs;             /* since the job started */
    bool migrating;                 /* QEMU is sending (memory iterations
                                     * or bytes seen), not still preparing */
    bool paused;                    /* the guest is paused (virsh suspend,
                                     * Nova's force-complete, or QEMU's
                                     * switchover) */
};

/* One device of the domain, as the caller samples it. */
typedef struct _vfmigControllerDevice vfmigControllerDevice;
struct _vfmigControllerDevice {
    bool known;                     /* false: no estimates (a driver
                                     * without vfmig's sysfs ABI) */
    char *state;                    /* uAPI state name, NULL: unknown */
    vfmigDowntimeDeviceSample sample;
    /* What QEMU adds for the device to its exact pending: MIG_DATA_SIZE
     * and the pre-copy bytes; more than the sample's residue for a device
     * whose MIG_DATA_SIZE is its whole state (mlx5).
     * VFMIG_DOWNTIME_UNKNOWN: the driver does not say. */
    uint64_t qemuBytes;
};

typedef struct _vfmigControllerOps vfmigControllerOps;
struct _vfmigControllerOps {
    /* 1 with *@job while the migration job runs, 0 when it has ended
     * (completed, failed or cancelled), -1 with an error. */
    int (*getJob)(void *opaque, vfmigControllerJob *job);
    /* Fills @devices[0 .. @ndevices) with each device's estimates and
     * latencies: 0, or -1 with an error. */
    int (*getDevices)(void *opaque, vfmigControllerDevice *devices,
                      size_t ndevices);
    /* QEMU's downtime-limit now, ms: 0, or -1 with an error. */
    int (*getMaxDowntime)(void *opaque, uint64_t *ms);
    int (*setMaxDowntime)(void *opaque, uint64_t ms);
    /* Cancels the migration; the source keeps running. */
    int (*abortJob)(void *opaque);
    /* Optional (NULL: the devices cannot hold).  Holds the switchover
     * at every device for @leaseMs from now, or lets go (0): the drivers'
     * vfio_migration/hold_ms.  1 when every device holds (or let go), 0
     * when some device cannot (a driver without the hold: nothing
     * reported), -1 with an error. */
    int (*holdDevices)(void *opaque, unsigned int leaseMs);
    /* Optional.  Told before the limit becomes @ms, with the limit that
     * goes back (@fallbackMs) should the controller's process die before
     * it hands it back itself: a write-ahead for a guardian, which then
     * never misses a limit set and not yet reported.  An error is only
     * logged: the limit is set all the same. */
    int (*announceLimit)(void *opaque, uint64_t ms, uint64_t fallbackMs);
};

typedef struct _vfmigControllerConfig vfmigControllerConfig;
struct _vfmigControllerConfig {
    /* The target (> 0, as libvirt measures the downtime), the deadline
     * (from the first step; 0: none), libvirt's own part of the downtime
     * (the overhead), the destination's load of the initial data (0:
     * switchover-ack is on, QEMU waits for it itself), and the failure
     * rule; us. */
    vfmigDowntimeSettings downtime;
    /* The fallback when the first limit read is VFMIG_CONTROLLER_HOLD_MS:
     * a controller that was killed while holding left it (nobody else
     * asks QEMU for 1 ms), so the limit before it is lost; 0: keep the
     * held value. */
    uint64_t adoptFallbackMs;
    /* A device has no DMA dirty tracking: QEMU (enable-migration=on)
     * counts all guest RAM dirty at every bitmap sync, so every pass and
     * the switch itself send all of it.  The RAM's part of a switch is
     * then the time of one whole pass, which the controller times from
     * the job's iterations, not what QEMU still counts at the moment. */
    bool ramAllDirty;
    /* Where ramAllDirty, for the pre-flight's least downtime (all guest
     * RAM at the switch): the guest's RAM, bytes, until the job reports
     * its own (0: not known), and the link's bandwidth, bytes/s, until the
     * job measured one (0: VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED). */
    uint64_t ramBytes;
    uint64_t linkBps;
};

/* Where the bandwidth of the pre-flight's least downtime came from. */
typedef enum {
    VFMIG_CONTROLLER_LINK_MEASURED = 0, /* the job's (libvirt's memory_bps) */
    VFMIG_CONTROLLER_LINK_GIVEN,        /* the config's linkBps */
    VFMIG_CONTROLLER_LINK_ASSUMED,      /* VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED */

    VFMIG_CONTROLLER_LINK_LAST
} vfmigControllerLink;
VFMIG_ENUM_DECL(vfmigControllerLink);

/*
 * The pre-flight where all guest RAM is dirty at every pass
 * (config.ramAllDirty): the switch-over sends all of it, so the downtime
 * is at least the guest's RAM over the link, on top of the floor.  It is
 * stated, not judged: the bandwidth may be assumed, and the policy judges
 * the passes it times.
 */
typedef struct _vfmigControllerAllDirty vfmigControllerAllDirty;
struct _vfmigControllerAllDirty {
    bool known;                     /* all RAM dirty, and its size known */
    uint64_t ramBytes;              /* the job's RAM, or the config's */
    uint64_t linkBps;
    vfmigControllerLink link;
    uint64_t leastUs;               /* vfmigNodeDevAllDirtyLeastUs */
    bool misses;                    /* the floor and it exceed the target */
};

/* Where the controller is. */
typedef enum {
    VFMIG_CONTROLLER_WAITING = 0,   /* the job runs, QEMU not sending yet */
    VFMIG_CONTROLLER_HOLDING,       /* limit held low */
    VFMIG_CONTROLLER_RELEASED,      /* limit lets QEMU switch now */
    VFMIG_CONTROLLER_ABORTED,       /* gave up and cancelled the job */
    VFMIG_CONTROLLER_ENDED,         /* the job is over */
    VFMIG_CONTROLLER_SWITCHING,     /* QEMU is switching over (a device
                                     * stopped): nothing left to decide */

    VFMIG_CONTROLLER_PHASE_LAST
} vfmigControllerPhase;
VFMIG_ENUM_DECL(vfmigControllerPhase);

/* How the hold binds QEMU. */
typedef enum {
    VFMIG_CONTROLLER_HOLD_NONE = 0, /* not held */
    VFMIG_CONTROLLER_HOLD_DEVICES,  /* every device holds: QEMU cannot
                                     * switch by itself */
    VFMIG_CONTROLLER_HOLD_LIMIT,    /* the limit only: QEMU switches by
                                     * itself when what is left fits in
                                     * bandwidth x 1 ms */

    VFMIG_CONTROLLER_HOLD_LAST
} vfmigControllerHold;
VFMIG_ENUM_DECL(vfmigControllerHold);

/* Why the limit is held, beyond the policy's own reason. */
typedef enum {
    VFMIG_CONTROLLER_WAIT_NONE = 0,
    VFMIG_CONTROLLER_WAIT_LOAD,     /* the destination may still be loading
                                     * the initial data */

    VFMIG_CONTROLLER_WAIT_LAST
} vfmigControllerWait;
VFMIG_ENUM_DECL(vfmigControllerWait);

/* What one step saw and did. */
typedef struct _vfmigControllerStatus vfmigControllerStatus;
struct _vfmigControllerStatus {
    uint64_t timestampUs;
    vfmigControllerPhase phase;
    vfmigControllerJob job;
    vfmigDowntimeResult policy;     /* valid when @evaluated */
    bool evaluated;
    vfmigControllerWait wait;
    uint64_t predictedUs;           /* policy prediction + overhead;
                                     * VFMIG_DOWNTIME_UNKNOWN */
    vfmigControllerHold hold;       /* how QEMU is held after the step */
    bool preflight;                 /* the step judged the floor */
    uint64_t floorUs;               /* the floor: the devices' latencies
                                     * and libvirt's overhead, us */
    bool floorMisses;               /* the floor alone misses the target */
    vfmigControllerAllDirty allDirty;   /* with @preflight */
    bool paused;                    /* the guest is paused: released, or
                                     * (ABORTED) cancelled since a VF's
                                     * initial data was not all sent */
    uint64_t pausedUs;              /* seen paused for this long, us */
    bool stoppedHeld;               /* the devices stopped while held
                                     * (QEMU's switch on an empty pending,
                                     * or a pause between two reads): the
                                     * limit at its highest */
    bool pausedLate;                /* the first step that took a pause
                                     * after the release for another
                                     * client's (@paused, @pausedUs) */
    uint64_t limitMs;               /* the limit QEMU has after the step */
    bool limitChanged;              /* the step set it */
    uint64_t qemuPendingBytes;      /* released: what QEMU counts as
                                     * pending, when more than the policy's
                                     * residue (0: not more) */
    bool overwritten;               /* another client had changed it */
    uint64_t overwrittenMs;         /* to this */
    /* The switch step (vfmigControllerSwitchStep) only: the policy's part
     * of the downtime as QEMU took the switch, from the RAM QEMU still
     * counted at the first step that saw the devices stopped (its last
     * sync's find), at the policy's bandwidth, with the devices' residue
     * and latencies.  Known when a step saw RAM left (not where all RAM
     * is dirty: zero pages are counted there). */
    bool tookKnown;
    uint64_t tookUs;
};

typedef struct _vfmigController vfmigController;

/*
 * A controller for one migration job of a domain with @ndevices devices
 * (named by @names, for messages; may be 0 devices: a domain whose
 * policy covers no device is steered on its RAM alone).
 * Returns NULL with an error for an invalid @config.
 */
vfmigController *vfmigControllerNew(const vfmigControllerOps *ops,
                                    void *opaque,
                                    const vfmigControllerConfig *config,
                                    const char *const *names,
                                    size_t ndevices);
void vfmigControllerFree(vfmigController *ctl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigController, vfmigControllerFree);

/*
 * One step at @nowUs (the caller's monotonic clock): reads the job, the
 * limit and the devices, decides and acts.  Returns 0 with *@step (its
 * phase ENDED once the job is over, ABORTED once the controller cancelled
 * it: further steps only report that), or -1 with an error, after which
 * the caller may step again or release (vfmigControllerRelease).
 */
int vfmigControllerStep(vfmigController *ctl,
                        uint64_t nowUs,
                        vfmigControllerStatus *step);

/*
 * The pre-flight: the floor of the migration's downtime, what no waiting
 * removes (the devices' stop and resume latencies as the policy combines
 * them, and libvirt's overhead), into *@floorUs.  Returns 1 when the
 * floor leaves room for the target, 0 when it alone misses it (then the
 * policy says at once what to do: abort, or a best effort that will
 * overshoot), -1 with an error.  The controller's first step runs it;
 * `virt-vfmig migrate` runs it before it starts the job.  Where all guest
 * RAM is dirty it also states the least downtime that costs
 * (vfmigControllerPreflightAllDirty), which does not change the verdict.
 */
int vfmigControllerPreflight(vfmigController *ctl,
                             uint64_t *floorUs);

/* What the pre-flight found where all guest RAM is dirty; NULL before
 * it ran. */
const vfmigControllerAllDirty *
vfmigControllerPreflightAllDirty(const vfmigController *ctl);

/*
 * The pre-flight's all-RAM figure as a clause of its messages, when it
 * misses the target of @targetUs ("all guest RAM is dirty at every pass
 * (a VF without DMA dirty tracking): the switch-over copies all 4.0 GiB
 * of it, at least 3.4 s at 10 Gbit/s (the link speed assumed) on top of
 * the floor, so the downtime cannot meet the target of 300 ms"); NULL
 * otherwise.
 */
char *vfmigControllerAllDirtyFormat(const vfmigControllerAllDirty *allDirty,
                                    uint64_t targetUs);

/*
 * Holds the switchover at the devices before the job starts, so that
 * QEMU cannot switch by itself from its first iteration on, before the
 * first step; the first steps renew the lease.  Returns 1 when every
 * device holds, 0 when some cannot (or there is no hold to arm), -1 with
 * an error.
 */
int vfmigControllerArm(vfmigController *ctl);

/*
 * Hands the limit back: sets what was there before the controller first
 * changed it, or what another client set since (its latest wish), unless
 * the controller never changed it, and lets the devices' hold go.  For a
 * controller that stops steering a job that goes on (a daemon shutting
 * down), or a job that never started.  Returns 0, or -1.
 */
int vfmigControllerRelease(vfmigController *ctl);

/* The limit vfmigControllerRelease would set, ms; 0 while the controller
 * has not changed the limit. */
uint64_t vfmigControllerFallbackMs(const vfmigController *ctl);

/* The last step's result, or NULL before the first. */
const vfmigControllerStatus *vfmigControllerLastStep(const vfmigController *ctl);

/* The step that last released the limit (the first RELEASED after a
 * hold), or, when QEMU switched over by itself while the limit was held
 * (what was left fit in its bandwidth times 1 ms), the last step before
 * the switchover; NULL when there is none.  Its prediction is what the
 * measured downtime is compared with. */
const vfmigControllerStatus *vfmigControllerSwitchStep(const vfmigController *ctl);

/* The devices as the last step sampled them (@n of them). */
const vfmigControllerDevice *vfmigControllerDevices(const vfmigController *ctl,
                                                    size_t *n);

/* How many times another client overwrote the limit. */
unsigned int vfmigControllerOverwrites(const vfmigController *ctl);

/*
 * libvirt's switchover overhead, learned: @samples holds the last
 * differences between the downtime libvirt measured and the policy's
 * prediction at the switch (without overhead), in us.  Returns the
 * overhead to use: the upper quartile of the newest
 * VFMIG_CONTROLLER_OVERHEAD_SAMPLES, so that the spread of libvirt's work
 * is kept in the budget; with fewer than
 * VFMIG_CONTROLLER_OVERHEAD_QUARTILE_MIN, the largest plus a quarter of
 * it per missing sample (cold start); 0 with none.
 * A sample can be negative (QEMU did better than predicted); the overhead
 * never is.
 */
uint64_t vfmigControllerOverhead(const int64_t *samples, size_t nsamples);

/* One line describing @step for logs and progress: the phase, the
 * policy's decision and reason, RAM, devices, prediction and limit. */
char *vfmigControllerStepFormat(const vfmigController *ctl,
                                const vfmigControllerStatus *step);
