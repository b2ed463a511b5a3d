/*
 * vfmigworker.h: one task at a time per object, each on a thread of a pool
 *
 * A worker runs the tasks of one object (virt-vfmigd: one domain), one at
 * a time, on a thread of a pool shared by all workers, so that a call
 * that blocks (libvirt waiting for the job of a domain whose QEMU does
 * not answer) stalls that object's work only.  The owner, one thread
 * (virt-vfmigd's event loop), starts a task when its worker is idle,
 * looks at the worker whenever it likes (whether the task still runs,
 * since when, what it waits for) and takes the finished task back; it
 * never waits on a worker except where it says until when
 * (vfmigWorkerWait).
 *
 * A task owns what it works on from vfmigWorkerStart until the owner
 * takes it back (vfmigWorkerTakeDone), and its function touches nothing
 * else: the owner may be gone when a blocked call finally returns.  A
 * worker freed while its task runs is abandoned: the task runs to its
 * end on its thread, then its free function frees it, and the worker
 * goes with it; a task that has not started yet is freed without
 * running.  The pool itself lives until the last such task ended.
 *
 * The pool is a GThreadPool without a thread limit, not a thread per
 * worker: threads exist only for the tasks in flight (a host has many
 * domains, few of which the daemon asks anything at a time), a blocked
 * task holds one thread and the next task of another worker gets another
 * one, and idle threads are reused, then end by themselves.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

typedef struct _vfmigWorkerPool vfmigWorkerPool;
typedef struct _vfmigWorker vfmigWorker;

/* What a task does, on a thread of the pool. */
typedef void (*vfmigWorkerFunc)(void *task);

vfmigWorkerPool *vfmigWorkerPoolNew(void);

/* The owner lets go of the pool; returns at once.  Tasks in flight run
 * to their end (their workers must have been freed: abandoned), then the
 * pool goes.  No worker of it may start a task after this. */
void vfmigWorkerPoolFree(vfmigWorkerPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigWorkerPool, vfmigWorkerPoolFree);

/* A worker of @pool, idle. */
vfmigWorker *vfmigWorkerNew(vfmigWorkerPool *pool);

/* Frees @w, and the task it holds; a task still running is abandoned
 * (see above). */
void vfmigWorkerFree(vfmigWorker *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigWorker, vfmigWorkerFree);

/*
 * Starts @func(@task) on a thread of the pool.  @w holds @task (and frees
 * it with @freeTask if abandoned) until the owner takes it back.  @what
 * (a string that outlives the task: what the task waits for, for the
 * owner's messages) and @startedUs (the owner's clock) are kept for the
 * owner.  Returns 0; -1 with an error when a task was started and not
 * taken back, or the pool cannot start a thread (@task is then still the
 * caller's).
 */
int vfmigWorkerStart(vfmigWorker *w,
                     vfmigWorkerFunc func,
                     void *task,
                     GDestroyNotify freeTask,
                     const char *what,
                     int64_t startedUs);

/* Whether a task was started and not taken back (running or finished). */
bool vfmigWorkerBusy(vfmigWorker *w);

/* Whether the task started still runs. */
bool vfmigWorkerRunning(vfmigWorker *w);

/* The task, taken back, when it has finished; NULL when none was started
 * or it still runs.  The worker is then idle. */
void *vfmigWorkerTakeDone(vfmigWorker *w);

/* The task's @what and @startedUs (NULL and 0 when idle). */
const char *vfmigWorkerWhat(const vfmigWorker *w);
int64_t vfmigWorkerStartedUs(const vfmigWorker *w);

/* Waits until the task started has finished (or none runs), at most
 * until @deadlineUs (g_get_monotonic_time's clock): whether it has. */
bool vfmigWorkerWait(vfmigWorker *w,
                     int64_t deadlineUs);
