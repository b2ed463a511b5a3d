/*
 * vfmigworker.c: one task at a time per object, each on a thread of a pool
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigworker.h"

#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"

struct _vfmigWorkerPool {
    gint refs;                      /* the owner's, one per task started */
    GMutex lock;                    /* the workers' state below */
    GCond done;                     /* a task finished */
    GThreadPool *threads;
};

struct _vfmigWorker {
    vfmigWorkerPool *pool;          /* a reference */
    /* the owner's alone */
    const char *what;
    int64_t startedUs;
    /* under pool->lock */
    bool started;                   /* started, not taken back */
    bool finished;                  /* its function returned (or was
                                     * skipped) */
    bool abandoned;                 /* the owner freed the worker */
    vfmigWorkerFunc func;
    void *task;
    GDestroyNotify freeTask;
};


static vfmigWorkerPool *
vfmigWorkerPoolRef(vfmigWorkerPool *pool)
{
    g_atomic_int_inc(&pool->refs);
    return pool;
}


static void
vfmigWorkerPoolUnref(vfmigWorkerPool *pool)
{
    if (!g_atomic_int_dec_and_test(&pool->refs))
        return;
    g_mutex_clear(&pool->lock);
    g_cond_clear(&pool->done);
    g_free(pool);
}


/* The worker and what it holds: its owner freed it, and no thread runs
 * its task. */
static void
vfmigWorkerDispose(vfmigWorker *w)
{
    if (w->task && w->freeTask)
        w->freeTask(w->task);
    vfmigWorkerPoolUnref(w->pool);
    g_free(w);
}


/* A thread of the pool: @data is the worker whose task it runs. */
static void
vfmigWorkerRun(void *data,
               void *opaque)
{
    vfmigWorker *w = data;
    vfmigWorkerPool *pool = opaque;
    bool abandoned;

    g_mutex_lock(&pool->lock);
    abandoned = w->abandoned;
    g_mutex_unlock(&pool->lock);
    if (!abandoned)
        w->func(w->task);
    else
        VFMIG_DEBUG("a task abandoned before it started: not run");

    g_mutex_lock(&pool->lock);
    w->finished = true;
    abandoned = w->abandoned;
    g_cond_broadcast(&pool->done);
    g_mutex_unlock(&pool->lock);
    /* not abandoned: the owner may take the task back, and free the
     * worker, from now on */
    if (abandoned)
        vfmigWorkerDispose(w);
    vfmigWorkerPoolUnref(pool);
}


vfmigWorkerPool *
vfmigWorkerPoolNew(void)
{
    vfmigWorkerPool *pool = g_new0(vfmigWorkerPool, 1);

    pool->refs = 1;
    g_mutex_init(&pool->lock);
    g_cond_init(&pool->done);
    /* shared, no limit: a push when no thread is idle starts one, and
     * never fails then (GLib) */
    pool->threads = g_thread_pool_new(vfmigWorkerRun, pool, -1, FALSE, NULL);
    return pool;
}


void
vfmigWorkerPoolFree(vfmigWorkerPool *pool)
{
    if (!pool)
        return;
    /* tasks queued still run (abandoned: to be freed), running ones end
     * on their own; the threads go after them */
    g_thread_pool_free(pool->threads, FALSE, FALSE);
    pool->threads = NULL;
    vfmigWorkerPoolUnref(pool);
}


vfmigWorker *
vfmigWorkerNew(vfmigWorkerPool *pool)
{
    vfmigWorker *w = g_new0(vfmigWorker, 1);

    w->pool = vfmigWorkerPoolRef(pool);
    return w;
}


void
vfmigWorkerFree(vfmigWorker *w)
{
    bool running;

    if (!w)
        return;
    g_mutex_lock(&w->pool->lock);
    running = w->started && !w->finished;
    if (running)
        w->abandoned = true;
    g_mutex_unlock(&w->pool->lock);
    if (running) {
        VFMIG_DEBUG("worker abandoned while its task (%s) runs",
                    w->what ? w->what : "?");
        return;
    }
    vfmigWorkerDispose(w);
}


int
vfmigWorkerStart(vfmigWorker *w,
                 vfmigWorkerFunc func,
                 void *task,
                 GDestroyNotify freeTask,
                 const char *what,
                 int64_t startedUs)
{
    g_autoptr(GError) gerr = NULL;

    if (vfmigWorkerBusy(w)) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                         _("a task (%1$s) cannot start: the worker's last one (%2$s) was not taken back"),
                         what, w->what ? w->what : "?");
        return -1;
    }
    g_mutex_lock(&w->pool->lock);
    w->started = true;
    w->finished = false;
    w->func = func;
    w->task = task;
    w->freeTask = freeTask;
    g_mutex_unlock(&w->pool->lock);
    w->what = what;
    w->startedUs = startedUs;

    vfmigWorkerPoolRef(w->pool);
    if (!g_thread_pool_push(w->pool->threads, w, &gerr)) {
        vfmigReportError(VFMIG_ERR_SYSTEM_ERROR,
                         _("cannot start a thread for a task (%1$s): %2$s"),
                         what, gerr->message);
        g_mutex_lock(&w->pool->lock);
        w->started = false;
        w->task = NULL;
        g_mutex_unlock(&w->pool->lock);
        w->what = NULL;
        w->startedUs = 0;
        vfmigWorkerPoolUnref(w->pool);
        return -1;
    }
    return 0;
}


bool
vfmigWorkerBusy(vfmigWorker *w)
{
    bool busy;

    g_mutex_lock(&w->pool->lock);
    busy = w->started;
    g_mutex_unlock(&w->pool->lock);
    return busy;
}


bool
vfmigWorkerRunning(vfmigWorker *w)
{
    bool running;

    g_mutex_lock(&w->pool->lock);
    running = w->started && !w->finished;
    g_mutex_unlock(&w->pool->lock);
    return running;
}


void *
vfmigWorkerTakeDone(vfmigWorker *w)
{
    void *task = NULL;

    g_mutex_lock(&w->pool->lock);
    if (w->started && w->finished) {
        task = g_steal_pointer(&w->task);
        w->started = false;
        w->finished = false;
    }
    g_mutex_unlock(&w->pool->lock);
    if (task) {
        w->what = NULL;
        w->startedUs = 0;
    }
    return task;
}


const char *
vfmigWorkerWhat(const vfmigWorker *w)
{
    return w->what;
}


int64_t
vfmigWorkerStartedUs(const vfmigWorker *w)
{
    return w->startedUs;
}


bool
vfmigWorkerWait(vfmigWorker *w,
                int64_t deadlineUs)
{
    bool done;

    g_mutex_lock(&w->pool->lock);
    while (w->started && !w->finished &&
           g_cond_wait_until(&w->pool->done, &w->pool->lock, deadlineUs))
        ;
    done = !w->started || w->finished;
    g_mutex_unlock(&w->pool->lock);
    return done;
}
