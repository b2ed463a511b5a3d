/*
 * vfmigdaemontask.h: what virt-vfmigd's domain workers do
 *
 * Every libvirt call virt-vfmigd makes on a domain is made by a task of
 * that domain's worker (vfmigworker.h), never on the thread of libvirt's
 * event loop; the listing of the running domains is a task of its own
 * worker too.  A task holds everything it works on: a reference to the
 * domain (or the connection), the steering session's vfmigSteer (moved in
 * for the task and back out with it), copies of the settings.  It touches
 * nothing of the daemon, which may be gone when a blocked call returns;
 * it reports nothing: what it found, and the error of what failed, stay
 * in the task for the daemon, which reports, tells the guardian and keeps
 * its books when it takes the task back (vfmigdaemon.c).
 *
 * Private to the daemon.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <libvirt/libvirt.h>

#include "vfmigerror.h"
#include "vfmigguard.h"
#include "vfmigsteer.h"

typedef enum {
    /* Whether the domain has a vfmig policy (its live XML): @policy;
     * with @hostPolicy, the host default policy decided for it and, where
     * that says so, set as its live metadata (@host*). */
    VFMIG_DAEMON_TASK_PROBE = 0,
    /* The job the domain runs (@op); with @take, a migration out of a
     * domain with a policy starts a session (@newRc, @steer) and steps it
     * once (as TASK_STEP); with @lockBusy, only once the process that
     * held its steering lock let it go (@stillBusy, @tookOver). */
    VFMIG_DAEMON_TASK_CHECK,
    /* One step of the session's @steer (@stepRc, @ev); at the end, the
     * completed job (@hasCompleted, @completed). */
    VFMIG_DAEMON_TASK_STEP,
    /* A job the controller cancelled still runs: cancelled again, quietly
     * (@jobGone when it is not there any more). */
    VFMIG_DAEMON_TASK_RECANCEL,
    /* Stopping: @steer's limit handed back (@rc). */
    VFMIG_DAEMON_TASK_RELEASE,
    /* A limit held when the connection was lost, handed back through
     * @conn (@handBack, @curMs). */
    VFMIG_DAEMON_TASK_HAND_BACK,
    /* The running domains of @conn (@doms, @ndoms; @rc < 0: failed). */
    VFMIG_DAEMON_TASK_LIST,

    VFMIG_DAEMON_TASK_LAST
} vfmigDaemonTaskKind;

typedef struct _vfmigDaemonTask vfmigDaemonTask;
struct _vfmigDaemonTask {
    vfmigDaemonTaskKind kind;
    const vfmigSteerCalls *calls;   /* static, or outlives the task */
    virDomainPtr dom;               /* a reference; NULL: LIST, HAND_BACK */
    virConnectPtr conn;             /* a reference: LIST, HAND_BACK */

    /* what the daemon gives */
    bool take;                      /* CHECK */
    bool lockBusy;                  /* CHECK */
    vfmigDevCtlPaths paths;         /* CHECK, PROBE: a copy; its strings
                                     * are borrowed (the environment's) */
    char *hostPolicy;               /* PROBE: the host default policy in
                                     * force (its text); NULL: none */
    vfmigSteerOptions opts;         /* CHECK: over @paths; its calls are
                                     * borrowed (static, or outlive the
                                     * task) */
    char *uuid;                     /* HAND_BACK */
    uint64_t heldMs;                /* HAND_BACK */
    uint64_t fallbackMs;            /* HAND_BACK, RELEASE: what goes back */

    /* given and given back */
    vfmigSteer *steer;              /* STEP, RELEASE; CHECK: the new one */

    /* what the task found */
    vfmigError *error;              /* the error of what failed; NULL: none */
    int rc;                         /* RELEASE: 0 or -1; LIST: -1 failed */
    int policy;                     /* PROBE: 1 a policy, 0 none, -1 the
                                     * XML could not be read */
    int hostRc;                     /* PROBE with @hostPolicy: 0 decided
                                     * (@hostAction), 1 and the policy set
                                     * as live metadata, -1 failed
                                     * (@error) */
    int hostAction;                 /* vfmigHostDefaultAction */
    char *hostWhy;                  /* the decision's reason, translated */
    char *hostFlavor;               /* the entry's flavor; NULL: the
                                     * default, or none */
    int op;                         /* CHECK, RECANCEL: the job's operation
                                     * (vfmigSteerJobOperation) */
    bool stillBusy;                 /* CHECK: the lock is still held */
    bool tookOver;                  /* CHECK: it is not any more */
    int newRc;                      /* CHECK: vfmigSteerNew's; 0: none made */
    bool stepped;                   /* CHECK, STEP: a step was made */
    int stepRc;                     /* vfmigSteerStep's */
    vfmigSteerLoopEvent ev;         /* its event (@ev.line is the steer's) */
    bool hasCompleted;              /* the job ended: libvirt's completed
                                     * job (vfmigSteerCompletedJob) */
    vfmigSteerCompleted completed;
    bool jobGone;                   /* RECANCEL */
    vfmigGuardHandBackResult handBack;  /* HAND_BACK */
    uint64_t curMs;                 /* HAND_BACK */
    virDomainPtr *doms;             /* LIST */
    int ndoms;
};

/* A task of @kind on @dom (a reference is taken; NULL: none) through
 * @calls (NULL: libvirt's). */
vfmigDaemonTask *vfmigDaemonTaskNew(vfmigDaemonTaskKind kind,
                                    const vfmigSteerCalls *calls,
                                    virDomainPtr dom);

/* Frees the task with what it holds (its steer too: an abandoned task). */
void vfmigDaemonTaskFree(void *task);

/* What the task does: the worker's function (vfmigWorkerFunc). */
void vfmigDaemonTaskRun(void *task);

/* What a task of @kind waits for, translated, for the daemon's messages
 * ("reading its job"). */
const char *vfmigDaemonTaskWhat(vfmigDaemonTaskKind kind);
