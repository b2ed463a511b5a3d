/*
 * vfmigsteer.h: the controller on a libvirt domain
 *
 * Binds vfmigcontroller.h to one domain's outgoing migration through
 * libvirt's public API only: the job's statistics
 * (virDomainGetJobStats: RAM remaining, dirty rate, bandwidth), the
 * downtime limit (virDomainMigrateGetMaxDowntime/SetMaxDowntime) and
 * virDomainAbortJob; and to the domain's source VFs through this host's
 * sysfs (vfmigNodeDevReadLive: the drivers' pre-copy estimates) with the
 * latency hints of their qualification records (vfmigDevCtlLatencyHints).
 * The domain's migration policy (vfmigdomainpolicy.h) names the devices
 * and gives the target and what to do on failure.
 *
 * Used by virt-vfmigd for every migration it sees and by
 * `virt-vfmig migrate` for the one it starts.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdint.h>

#include <glib.h>
#include <libvirt/libvirt.h>

#include "vfmigcontroller.h"
#include "vfmigguard.h"
#include "vfmigdevctl.h"
#include "vfmigdomainpolicy.h"
#include "vfmigsteerloop.h"

/* Where the steering locks are: one <uuid>.lock per domain being
 * steered, flock()ed by the process that steers it (virt-vfmigd or
 * `virt-vfmig migrate`), so that two never steer one migration.  The
 * directory is private to the user that steers (mode 0700) and each lock
 * file mode 0600, so that nobody else can open one, and hold it; a lock
 * file lives only as long as its lock (vfmigSteerLockFree). */
#define VFMIG_STEER_LOCK_DIR "/run/vfmig/steer"

/* QEMU's downtime-limit when nobody set one, ms (migration/options.c). */
#define VFMIG_STEER_QEMU_DEFAULT_LIMIT_MS 300

/*
 * The libvirt calls the steering makes on a domain, with libvirt's own
 * signatures: libvirt's (vfmigSteerLibvirtCalls) or a test's, which
 * stands in for a migration job that libvirt's test driver cannot run
 * (tests/qemu/test-daemon-workers.c).  The table must outlive every steer
 * made with it.
 */
typedef struct _vfmigSteerCalls vfmigSteerCalls;
struct _vfmigSteerCalls {
    int (*getJobStats)(virDomainPtr dom, int *type,
                       virTypedParameterPtr *params, int *nparams,
                       unsigned int flags);
    int (*getState)(virDomainPtr dom, int *state, int *reason,
                    unsigned int flags);
    char *(*getXMLDesc)(virDomainPtr dom, unsigned int flags);
    int (*getMaxDowntime)(virDomainPtr dom, unsigned long long *downtime,
                          unsigned int flags);
    int (*setMaxDowntime)(virDomainPtr dom, unsigned long long downtime,
                          unsigned int flags);
    int (*abortJob)(virDomainPtr dom);
    int (*isActive)(virDomainPtr dom);
    /* the daemon's host default policy (NULL: it sets none) */
    int (*setMetadata)(virDomainPtr dom, int type, const char *metadata,
                       const char *key, const char *uri, unsigned int flags);
};

/* libvirt's own calls. */
const vfmigSteerCalls *vfmigSteerLibvirtCalls(void);

typedef struct _vfmigSteerOptions vfmigSteerOptions;
struct _vfmigSteerOptions {
    const vfmigSteerCalls *calls;   /* NULL: libvirt's */
    const vfmigDevCtlPaths *paths;  /* NULL: the system's */
    /* Over the domain policy's: the target and failure rule when given
     * (DEFAULT: the policy's); the deadline, libvirt's own switchover
     * time and the destination's load time (not given: none, 0, rely on
     * switchover-ack). */
    vfmigDowntimeSettings downtime;
    const char *lockDir;            /* NULL: VFMIG_STEER_LOCK_DIR, or
                                     * $VFMIG_RUN_DIR/steer */
    /* Borrowed, NULL: none.  Told of each downtime limit and of the
     * devices that hold, before the limit is set: a process killed
     * between setting a limit and reporting it leaves nothing held. */
    vfmigGuard *guard;
};

typedef struct _vfmigSteer vfmigSteer;

/* One domain's steering lock, held. */
typedef struct _vfmigSteerLock vfmigSteerLock;

/*
 * Takes the steering lock of the domain @uuid in @lockDir (NULL:
 * $VFMIG_RUN_DIR/steer, else VFMIG_STEER_LOCK_DIR) without waiting, and
 * writes this process's pid into it.  Makes the directory (mode 0700,
 * vfmigFileMakePrivateDir) and the lock file (mode 0600) when missing,
 * and refuses either when it is not the effective user's alone.  A lock
 * file its holder removed while this call locked it is opened again.
 *
 * Returns 1 with *@lock; 0 when another process holds it (or this one,
 * through another vfmigSteerLock), *@lock NULL and *@holder (when not
 * NULL) the pid the holder wrote, "?" when none yet; -1 with an error
 * (the directory or the lock file refused, and why).
 */
int vfmigSteerLockTake(const char *lockDir,
                       const char *uuid,
                       vfmigSteerLock **lock,
                       char **holder);

/* Gives the lock up: removes its file while still holding it, then
 * closes it. */
void vfmigSteerLockFree(vfmigSteerLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigSteerLock, vfmigSteerLockFree);

/*
 * A controller for the migration of @dom that is starting or running,
 * from the domain's live XML.  Returns 1 with *@steer; 0 when the domain
 * has no vfmig policy (*@steer NULL, nothing reported: not steered); -1
 * with an error (malformed policy, a policy entry naming no hostdev of
 * the domain, an invalid target).
 */
int vfmigSteerNew(virDomainPtr dom,
                  const vfmigSteerOptions *opts,
                  vfmigSteer **steer);
/*
 * Whether another process steers the domain @uuid (holds its lock in
 * @lockDir, NULL: the default): 1 yes, 0 no, -1 with an error.  For a
 * daemon that leaves such a migration alone, and takes it over when the
 * other process is gone.
 */
int vfmigSteerLockBusy(const char *lockDir,
                       const char *uuid);

void vfmigSteerFree(vfmigSteer *steer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigSteer, vfmigSteerFree);

/* One step of the steering loop now (g_get_monotonic_time): returns as
 * vfmigSteerLoopStep. */
int vfmigSteerStep(vfmigSteer *steer,
                   vfmigSteerLoopEvent *ev);

/* Whether the domain is gone or no longer running here: a step that
 * failed then saw its migration end (the domain left with it). */
bool vfmigSteerDomainGone(vfmigSteer *steer);

/* vfmigControllerRelease. */
int vfmigSteerRelease(vfmigSteer *steer);

/* Gives the domain's steering lock up and removes its file (the job
 * ended: another process may steer the domain's next migration);
 * vfmigSteerFree does too. */
void vfmigSteerUnlock(vfmigSteer *steer);

vfmigController *vfmigSteerController(vfmigSteer *steer);
/* The steering loop of the migration (vfmigsteerloop.h). */
vfmigSteerLoop *vfmigSteerGetLoop(vfmigSteer *steer);
const char *vfmigSteerDomainName(const vfmigSteer *steer);
/* The domain's UUID as a string. */
const char *vfmigSteerDomainUUID(const vfmigSteer *steer);
/* The target in effect, us. */
uint64_t vfmigSteerTargetUs(const vfmigSteer *steer);
/* The failure rule in effect: ABORT or BEST_EFFORT. */
vfmigDomainPolicyOnFailure vfmigSteerOnFailure(const vfmigSteer *steer);
/* Warnings found while setting up (a broken qualification record). */
GPtrArray *vfmigSteerWarnings(const vfmigSteer *steer);
/* The source VFs the policy names (the controller's devices, in order),
 * as this host's PCI addresses. */
size_t vfmigSteerDeviceCount(const vfmigSteer *steer);
const char *vfmigSteerDeviceAddress(const vfmigSteer *steer, size_t i);
/* The first of them without DMA dirty tracking, whose migration makes
 * QEMU count all guest RAM dirty at every pass; NULL: none (or none that
 * could be probed: a warning says so). */
const char *vfmigSteerAllDirtyDevice(const vfmigSteer *steer);
/* The paths the steer reads the devices through. */
const vfmigDevCtlPaths *vfmigSteerPaths(const vfmigSteer *steer);

/* libvirt's virDomainJobType as the steering loop's job end (a job still
 * running is NONE: not ended). */
vfmigSteerJobEnd vfmigSteerJobEndFromType(int type);

/* Whether @completed is an outgoing migration's (or does not say). */
bool vfmigSteerCompletedIsMigrationOut(const vfmigSteerCompleted *completed);

/* A JOB_COMPLETED event's or a completed job's statistics (end
 * COMPLETED; vfmigSteerCompletedJob sets the job's own end). */
void vfmigSteerParseCompleted(virTypedParameterPtr params,
                              int nparams,
                              vfmigSteerCompleted *completed);

/*
 * The domain's last completed job (virDomainGetJobStats with
 * VIR_DOMAIN_JOB_STATS_COMPLETED) into *@completed.  Returns 1 when libvirt
 * told, 0 when it cannot (the domain left this host with its migration:
 * the JOB_COMPLETED event tells then), never -1: nothing is reported.
 */
int vfmigSteerCompletedJob(vfmigSteer *steer,
                           vfmigSteerCompleted *completed);

/* The operation of the job @dom runs now (virDomainJobOperation), or -1
 * when it runs none (or libvirt does not say); -2 with an error when the
 * domain's job cannot be read.  Through @calls (NULL: libvirt's). */
int vfmigSteerJobOperation(const vfmigSteerCalls *calls,
                           virDomainPtr dom);
