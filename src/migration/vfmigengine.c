/*
 * vfmigengine.c: moves one device's state through the VFIO migration
 * protocol v2, without a VM
 *
 * Each side runs in one thread with a context that knows its phase, so
 * that every error can be rewritten once, where it surfaces, into "which
 * side, which device, which phase: what".  Rollback keeps that first
 * error and adds what the rollback did to it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vfmigengine.h"
#include "vfmigenum.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"

#define VFMIG_ENGINE_DEFAULT_TARGET_US (300 * 1000)
#define VFMIG_ENGINE_DEFAULT_ROUND_MS 100
#define VFMIG_ENGINE_DEFAULT_STALL_MS (30 * 1000)
#define VFMIG_ENGINE_DEFAULT_BUFFER (1024 * 1024)
#define VFMIG_ENGINE_PROGRESS_US (100 * 1000)

VFMIG_ENUM_IMPL(vfmigEngineSide, VFMIG_ENGINE_SIDE_LAST,
                [VFMIG_ENGINE_SIDE_SOURCE] = "source",
                [VFMIG_ENGINE_SIDE_DESTINATION] = "destination",
);

VFMIG_ENUM_IMPL(vfmigEnginePhase, VFMIG_ENGINE_PHASE_LAST,
                [VFMIG_ENGINE_PHASE_SETUP] = "setup",
                [VFMIG_ENGINE_PHASE_PRE_COPY] = "pre-copy",
                [VFMIG_ENGINE_PHASE_STOP_COPY] = "stop-copy",
                [VFMIG_ENGINE_PHASE_LOAD] = "load",
                [VFMIG_ENGINE_PHASE_RESUME] = "resume",
                [VFMIG_ENGINE_PHASE_DONE] = "done",
);

VFMIG_ENUM_IMPL(vfmigEnginePrecopy, VFMIG_ENGINE_PRECOPY_LAST,
                [VFMIG_ENGINE_PRECOPY_AUTO] = "auto",
                [VFMIG_ENGINE_PRECOPY_OFF] = "off",
                [VFMIG_ENGINE_PRECOPY_ON] = "on",
);


void
vfmigEngineConfigInit(vfmigEngineConfig *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->policy.target_us = VFMIG_ENGINE_DEFAULT_TARGET_US;
    cfg->policy.on_failure = VFMIG_DOWNTIME_ON_FAILURE_ABORT;
    cfg->precopy = VFMIG_ENGINE_PRECOPY_AUTO;
}


int
vfmigEngineChooseMode(uint64_t srcFlags,
                      bool dstMultiLoad,
                      vfmigEnginePrecopy precopy,
                      vfmigStatePrecopyMode *mode)
{
    bool havePrecopy = srcFlags & VFIO_MIGRATION_PRE_COPY;

    switch (precopy) {
    case VFMIG_ENGINE_PRECOPY_AUTO:
        if (!havePrecopy)
            *mode = VFMIG_STATE_PRECOPY_NONE;
        else if (dstMultiLoad)
            *mode = VFMIG_STATE_PRECOPY_MULTI;
        else
            *mode = VFMIG_STATE_PRECOPY_SINGLE;
        return 0;
    case VFMIG_ENGINE_PRECOPY_OFF:
        *mode = havePrecopy ? VFMIG_STATE_PRECOPY_SINGLE :
                              VFMIG_STATE_PRECOPY_NONE;
        return 0;
    case VFMIG_ENGINE_PRECOPY_ON:
        if (!havePrecopy) {
            vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED, "%s",
                             _("pre-copy was asked for but the source device has no PRE_COPY support"));
            return -1;
        }
        if (!dstMultiLoad) {
            vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED, "%s",
                             _("pre-copy was asked for but the destination cannot load several images (no multi-load)"));
            return -1;
        }
        *mode = VFMIG_STATE_PRECOPY_MULTI;
        return 0;
    case VFMIG_ENGINE_PRECOPY_LAST:
        break;
    }
    vfmigReportError(VFMIG_ERR_INVALID_ARG,
                     _("invalid pre-copy setting %1$d"), (int) precopy);
    return -1;
}


/*
 * The source hands the stream writer (chunk digest, framing, the
 * descriptor) to a thread of its own, so that reading the device and
 * writing the stream overlap: each costs about one pass over the bytes
 * (the device's own copy, checksum or DMA; our SHA-256 and write()), and
 * done in turn they would halve the throughput.  A few buffers circulate
 * between the two; the reader blocks when all are queued, so its busy
 * time, from which the policy's bandwidth comes, is that of the slower
 * side.  See tests/bench/bench-engine.c.
 */
#define VFMIG_ENGINE_PIPE_BUFFERS 4

typedef struct _vfmigEngineBuf vfmigEngineBuf;
struct _vfmigEngineBuf {
    guint8 *data;
    size_t len;
    vfmigStatePhase phase;
    unsigned int flags;
    bool quit;                  /* the sentinel that stops the thread */
};

typedef struct _vfmigEnginePipe vfmigEnginePipe;
struct _vfmigEnginePipe {
    vfmigStateFileWriter *w;
    GAsyncQueue *full;          /* vfmigEngineBuf * to write, in order */
    GAsyncQueue *empty;         /* vfmigEngineBuf * to fill */
    GThread *thread;
    vfmigEngineBuf bufs[VFMIG_ENGINE_PIPE_BUFFERS];
    vfmigEngineBuf quit;
    GMutex lock;
    GCond idle;
    unsigned int queued;        /* handed over, not yet written */
    gint failed;                /* the writer failed: err holds why */
    gint discard;               /* the source failed: write nothing more */
    vfmigError *err;
};


static gpointer
vfmigEnginePipeRun(gpointer opaque)
{
    vfmigEnginePipe *pipe = opaque;

    for (;;) {
        vfmigEngineBuf *b = g_async_queue_pop(pipe->full);

        if (b->quit)
            break;
        if (!g_atomic_int_get(&pipe->failed) &&
            !g_atomic_int_get(&pipe->discard) &&
            vfmigStateFileWriteChunk(pipe->w, b->phase, b->flags,
                                     b->data, b->len) < 0) {
            pipe->err = vfmigSaveLastError();
            g_atomic_int_set(&pipe->failed, 1);
        }
        b->len = 0;
        g_async_queue_push(pipe->empty, b);
        g_mutex_lock(&pipe->lock);
        pipe->queued--;
        g_cond_broadcast(&pipe->idle);
        g_mutex_unlock(&pipe->lock);
    }
    return NULL;
}


static vfmigEnginePipe *
vfmigEnginePipeNew(vfmigStateFileWriter *w, size_t bufSize)
{
    vfmigEnginePipe *pipe = g_new0(vfmigEnginePipe, 1);
    size_t i;

    pipe->w = w;
    pipe->full = g_async_queue_new();
    pipe->empty = g_async_queue_new();
    g_mutex_init(&pipe->lock);
    g_cond_init(&pipe->idle);
    pipe->quit.quit = true;
    for (i = 0; i < G_N_ELEMENTS(pipe->bufs); i++) {
        pipe->bufs[i].data = g_malloc(bufSize);
        g_async_queue_push(pipe->empty, &pipe->bufs[i]);
    }
    pipe->thread = g_thread_new("vfmig-writer", vfmigEnginePipeRun, pipe);
    return pipe;
}


/* Stops the thread once it has written (or, after a failure of either
 * side, dropped) what was queued. */
static void
vfmigEnginePipeFree(vfmigEnginePipe *pipe)
{
    size_t i;

    if (!pipe)
        return;
    g_async_queue_push(pipe->full, &pipe->quit);
    g_thread_join(pipe->thread);
    for (i = 0; i < G_N_ELEMENTS(pipe->bufs); i++)
        g_free(pipe->bufs[i].data);
    g_async_queue_unref(pipe->full);
    g_async_queue_unref(pipe->empty);
    g_mutex_clear(&pipe->lock);
    g_cond_clear(&pipe->idle);
    vfmigErrorFree(pipe->err);
    g_free(pipe);
}


/* The writer's failure, as this thread's error. */
static int
vfmigEnginePipeCheck(vfmigEnginePipe *pipe)
{
    if (!g_atomic_int_get(&pipe->failed))
        return 0;
    if (pipe->err) {
        vfmigError *copy = g_new0(vfmigError, 1);

        *copy = *pipe->err;
        copy->message = g_strdup(pipe->err->message);
        vfmigRestoreLastError(&copy);
    }
    return -1;
}


static int
vfmigEnginePipeSubmit(vfmigEnginePipe *pipe, vfmigEngineBuf *b)
{
    if (vfmigEnginePipeCheck(pipe) < 0)
        return -1;
    g_mutex_lock(&pipe->lock);
    pipe->queued++;
    g_mutex_unlock(&pipe->lock);
    g_async_queue_push(pipe->full, b);
    return 0;
}


/* Waits for an empty buffer; fails as soon as the writer did. */
static vfmigEngineBuf *
vfmigEnginePipeGet(vfmigEnginePipe *pipe)
{
    for (;;) {
        vfmigEngineBuf *b;

        if (vfmigEnginePipeCheck(pipe) < 0)
            return NULL;
        b = g_async_queue_timeout_pop(pipe->empty,
                                      VFMIG_STATEFILE_IO_SLICE_MS * 1000);
        if (b)
            return b;
    }
}


/* Waits until everything queued is written. */
static int
vfmigEnginePipeDrain(vfmigEnginePipe *pipe)
{
    g_mutex_lock(&pipe->lock);
    while (pipe->queued)
        g_cond_wait(&pipe->idle, &pipe->lock);
    g_mutex_unlock(&pipe->lock);
    return vfmigEnginePipeCheck(pipe);
}


typedef struct _vfmigEngineCtx vfmigEngineCtx;
struct _vfmigEngineCtx {
    const vfmigEngineConfig *cfg;
    vfmigEngineReport *report;
    vfmigDevice *dev;
    vfmigEngineSide side;
    vfmigEnginePhase phase;
    /* set by the other side of vfmigEngineMigrate when it failed */
    const gint *peerFailed;
    vfmigStateFileIO io;
    gint64 start;
    uint64_t busyUs;            /* time spent moving data */
    uint64_t bytes;             /* device data moved */
    uint64_t phaseBytes;
    uint64_t lastProgressUs;
    uint64_t remaining;
    size_t bufSize;
    vfmigEnginePipe *pipe;      /* source: the writer thread */
    vfmigEngineBuf *cur;        /* source: the buffer being filled */
};


static gint64
vfmigEngineNow(const vfmigEngineConfig *cfg)
{
    if (cfg->clock)
        return cfg->clock(cfg->clockOpaque);
    return g_get_monotonic_time();
}


static uint64_t
vfmigEngineElapsed(vfmigEngineCtx *ctx)
{
    gint64 now = vfmigEngineNow(ctx->cfg);

    return now > ctx->start ? (uint64_t) (now - ctx->start) : 0;
}


static uint64_t
vfmigEngineRate(vfmigEngineCtx *ctx)
{
    if (ctx->busyUs == 0)
        return 0;
    return (uint64_t) ((double) ctx->bytes * 1e6 / (double) ctx->busyUs);
}


static void
vfmigEngineProgressSend(vfmigEngineCtx *ctx,
                        bool force,
                        const vfmigDowntimeResult *decision)
{
    vfmigEngineProgress p = { 0 };
    uint64_t now;

    if (!ctx->cfg->progress)
        return;
    now = vfmigEngineElapsed(ctx);
    if (!force && now - ctx->lastProgressUs < VFMIG_ENGINE_PROGRESS_US)
        return;
    ctx->lastProgressUs = now;

    p.side = ctx->side;
    p.phase = ctx->phase;
    p.elapsedUs = now;
    p.bytes = ctx->bytes;
    p.phaseBytes = ctx->phaseBytes;
    p.rate = vfmigEngineRate(ctx);
    p.remaining = ctx->remaining;
    p.iteration = ctx->report->iterations;
    if (decision) {
        p.haveDecision = true;
        p.decision = *decision;
    }
    ctx->cfg->progress(&p, ctx->cfg->progressOpaque);
}


static void
vfmigEngineSetPhase(vfmigEngineCtx *ctx, vfmigEnginePhase phase)
{
    VFMIG_DEBUG("%s device %s: phase %s -> %s at %llu us, %llu bytes moved (%llu in %s)",
                vfmigEngineSideToString(ctx->side),
                vfmigDeviceGetName(ctx->dev),
                vfmigEnginePhaseToString(ctx->phase),
                vfmigEnginePhaseToString(phase),
                (unsigned long long) vfmigEngineElapsed(ctx),
                (unsigned long long) ctx->bytes,
                (unsigned long long) ctx->phaseBytes,
                vfmigEnginePhaseToString(ctx->phase));
    ctx->phase = phase;
    ctx->phaseBytes = 0;
    vfmigEngineProgressSend(ctx, true, NULL);
}


/*
 * Rewrites the last error as "<side> device '<name>' failed in <phase>:
 * <message>", keeping its code, and records the phase in the report.
 */
static void
vfmigEngineFail(vfmigEngineCtx *ctx)
{
    const vfmigError *err = vfmigGetLastError();
    g_autofree char *msg = g_strdup(err && err->message ? err->message :
                                    _("unknown error"));
    int code = err ? err->code : VFMIG_ERR_INTERNAL_ERROR;

    ctx->report->failed = true;
    ctx->report->failedPhase = ctx->phase;
    ctx->report->endUs = vfmigEngineNow(ctx->cfg);

    if (ctx->side == VFMIG_ENGINE_SIDE_SOURCE) {
        vfmigReportErrorFull(code, 0, __FILE__, __func__, __LINE__,
                             _("source device '%1$s' failed in phase %2$s: %3$s"),
                             vfmigDeviceGetName(ctx->dev),
                             vfmigEnginePhaseToString(ctx->phase), msg);
    } else {
        vfmigReportErrorFull(code, 0, __FILE__, __func__, __LINE__,
                             _("destination device '%1$s' failed in phase %2$s: %3$s"),
                             vfmigDeviceGetName(ctx->dev),
                             vfmigEnginePhaseToString(ctx->phase), msg);
    }
}


/* Appends "; <what>" to the last error, keeping its code. */
static void
vfmigEngineAmendError(const char *what)
{
    const vfmigError *err = vfmigGetLastError();
    g_autofree char *msg = g_strdup(err && err->message ? err->message : "");
    int code = err ? err->code : VFMIG_ERR_INTERNAL_ERROR;

    vfmigReportErrorFull(code, 0, __FILE__, __func__, __LINE__,
                         "%s; %s", msg, what);
}


/* Cancel, the other side's failure, the overall time limit. */
static int
vfmigEngineCheckAbort(vfmigEngineCtx *ctx)
{
    const vfmigEngineConfig *cfg = ctx->cfg;

    if (cfg->cancel && g_atomic_int_get(cfg->cancel)) {
        vfmigReportError(VFMIG_ERR_OPERATION_ABORTED, "%s",
                         _("cancelled"));
        return -1;
    }
    if (ctx->peerFailed && g_atomic_int_get(ctx->peerFailed)) {
        vfmigReportError(VFMIG_ERR_OPERATION_FAILED, "%s",
                         ctx->side == VFMIG_ENGINE_SIDE_SOURCE ?
                         _("the destination side failed") :
                         _("the source side failed"));
        return -1;
    }
    if (cfg->timeoutMs &&
        vfmigEngineElapsed(ctx) >= cfg->timeoutMs * 1000) {
        vfmigReportError(VFMIG_ERR_OPERATION_TIMEOUT,
                         _("the time limit of %1$llu ms passed"),
                         (unsigned long long) cfg->timeoutMs);
        return -1;
    }
    return 0;
}


static void
vfmigEngineCtxInit(vfmigEngineCtx *ctx,
                   vfmigDevice *dev,
                   vfmigEngineSide side,
                   const vfmigEngineConfig *cfg,
                   vfmigEngineReport *report)
{
    memset(ctx, 0, sizeof(*ctx));
    memset(report, 0, sizeof(*report));
    ctx->cfg = cfg;
    ctx->report = report;
    ctx->dev = dev;
    ctx->side = side;
    ctx->phase = VFMIG_ENGINE_PHASE_SETUP;
    ctx->start = vfmigEngineNow(cfg);
    ctx->remaining = VFMIG_DOWNTIME_UNKNOWN;
    ctx->io.stallTimeoutMs = cfg->stallTimeoutMs ? cfg->stallTimeoutMs :
                             VFMIG_ENGINE_DEFAULT_STALL_MS;
    ctx->io.cancel = cfg->cancel;
    ctx->bufSize = cfg->bufferSize ? cfg->bufferSize :
                   VFMIG_ENGINE_DEFAULT_BUFFER;
    report->side = side;
    report->startUs = ctx->start;
    report->stopCopyEstimate = VFMIG_DOWNTIME_UNKNOWN;
    VFMIG_DEBUG("%s device %s: phase %s, buffer %zu bytes, stall timeout %u ms",
                vfmigEngineSideToString(side), vfmigDeviceGetName(dev),
                vfmigEnginePhaseToString(ctx->phase), ctx->bufSize,
                ctx->io.stallTimeoutMs);
}


static void
vfmigEngineCtxFinish(vfmigEngineCtx *ctx)
{
    if (!ctx->report->endUs)
        ctx->report->endUs = vfmigEngineNow(ctx->cfg);
    ctx->report->rate = vfmigEngineRate(ctx);
    if (ctx->pipe) {
        /* after a failure, what is still queued is not written */
        if (ctx->report->failed)
            g_atomic_int_set(&ctx->pipe->discard, 1);
        if (ctx->cur)
            g_async_queue_push(ctx->pipe->empty, ctx->cur);
        ctx->cur = NULL;
        vfmigEnginePipeFree(ctx->pipe);
        ctx->pipe = NULL;
    }
}


/* @n bytes of device data of @phase moved. */
static void
vfmigEngineCount(vfmigEngineCtx *ctx, vfmigStatePhase phase, uint64_t n)
{
    ctx->bytes += n;
    ctx->phaseBytes += n;
    if (phase == VFMIG_STATE_PHASE_PRE_COPY)
        ctx->report->precopyBytes += n;
    else
        ctx->report->stopCopyBytes += n;
    if (ctx->remaining != VFMIG_DOWNTIME_UNKNOWN)
        ctx->remaining -= MIN(ctx->remaining, n);
}


/* Takes the device's digest into the report, if asked and offered. */
static int
vfmigEngineDigest(vfmigEngineCtx *ctx)
{
    g_autofree char *digest = NULL;
    gint64 t0;

    if (!ctx->cfg->digest)
        return 0;
    t0 = vfmigEngineNow(ctx->cfg);
    if (vfmigDeviceGetDigest(ctx->dev, &digest) < 0)
        return -1;
    ctx->report->digestUs += vfmigEngineNow(ctx->cfg) - t0;
    if (digest)
        g_strlcpy(ctx->report->digest, digest, sizeof(ctx->report->digest));
    return 0;
}


/* ---- source ---- */

/*
 * Brings the source back to RUNNING after a failure, keeping the first
 * error and adding what happened to the device.  From PRE_COPY and
 * STOP_COPY the device has kept its state; from ERROR only a reset helps.
 */
static void
vfmigEngineSourceRollback(vfmigDevice *src)
{
    g_autoptr(vfmigError) saved = vfmigSaveLastError();
    uint32_t state = VFIO_DEVICE_STATE_ERROR;
    const char *what = NULL;
    g_autofree char *whatAlloc = NULL;

    if (vfmigDeviceGetState(src, &state) == 0 &&
        state != VFIO_DEVICE_STATE_ERROR) {
        if (state == VFIO_DEVICE_STATE_RUNNING ||
            vfmigDeviceSetState(src, VFIO_DEVICE_STATE_RUNNING) == 0) {
            vfmigRestoreLastError(&saved);
            vfmigEngineAmendError(_("the source device is running again with its state"));
            return;
        }
        if (vfmigDeviceGetState(src, &state) < 0)
            state = VFIO_DEVICE_STATE_ERROR;
    }

    if (vfmigDeviceReset(src) == 0) {
        what = _("the source device had to be reset: its state is lost");
    } else {
        whatAlloc = g_strdup_printf(_("the source device could not be reset (%1$s) and is in %2$s"),
                                    vfmigGetLastErrorMessage(),
                                    vfmig_fsm_state_name(state));
        what = whatAlloc;
    }
    vfmigRestoreLastError(&saved);
    vfmigEngineAmendError(what);
}


/* Hands what the current buffer holds to the writer as one chunk (several
 * if it is large), and takes the next buffer. */
static int
vfmigEngineFlush(vfmigEngineCtx *ctx,
                 vfmigStatePhase phase,
                 unsigned int flags)
{
    vfmigEngineBuf *b = ctx->cur;

    b->phase = phase;
    b->flags = flags;
    ctx->cur = NULL;
    if (vfmigEnginePipeSubmit(ctx->pipe, b) < 0) {
        ctx->cur = b;
        return -1;
    }
    if (!(ctx->cur = vfmigEnginePipeGet(ctx->pipe)))
        return -1;
    return 0;
}


/*
 * One round of reading the device into the stream: until the device has
 * nothing more for now (pre-copy, or the whole round time passed while the
 * device kept producing) or for good (stop-copy).  Returns 1 at the end of
 * the device's data (END), 0 otherwise, -1 on error.
 */
static int
vfmigEngineReadRound(vfmigEngineCtx *ctx,
                     vfmigStatePhase phase,
                     bool *imageEnd)
{
    uint64_t roundUs = (uint64_t) (ctx->cfg->roundMs ? ctx->cfg->roundMs :
                                   VFMIG_ENGINE_DEFAULT_ROUND_MS) * 1000;
    gint64 roundStart = vfmigEngineNow(ctx->cfg);
    uint64_t roundBytes = 0;

    *imageEnd = false;
    for (;;) {
        vfmigEngineBuf *b = ctx->cur;
        vfmigDataStatus status;
        gint64 t0;
        ssize_t n;

        if (vfmigEngineCheckAbort(ctx) < 0)
            return -1;

        t0 = vfmigEngineNow(ctx->cfg);
        n = vfmigDeviceRead(ctx->dev, b->data + b->len, ctx->bufSize - b->len,
                            &status);
        if (n < 0)
            return -1;

        if (status == VFMIG_DATA_OK) {
            b->len += n;
            roundBytes += n;
            vfmigEngineCount(ctx, phase, n);
            /* waiting here for a free buffer is busy time too */
            if (b->len == ctx->bufSize &&
                vfmigEngineFlush(ctx, phase, 0) < 0)
                return -1;
            ctx->busyUs += vfmigEngineNow(ctx->cfg) - t0;
            vfmigEngineProgressSend(ctx, false, NULL);
            /* a device that dirties faster than we read would keep one
             * round going for ever: let the policy look at it */
            if (phase == VFMIG_STATE_PHASE_PRE_COPY &&
                (uint64_t) (vfmigEngineNow(ctx->cfg) - roundStart) >= roundUs) {
                if (ctx->cur->len && vfmigEngineFlush(ctx, phase, 0) < 0)
                    return -1;
                return 0;
            }
            continue;
        }

        /* An image ends here: mark its last chunk.  A pre-copy round that
         * found nothing writes nothing; an empty stop-copy still ends its
         * image, so that the reader sees where it stopped. */
        if (roundBytes || status == VFMIG_DATA_END) {
            if (vfmigEngineFlush(ctx, phase, VFMIG_STATE_CHUNK_IMAGE_END) < 0)
                return -1;
            *imageEnd = true;
        }
        ctx->busyUs += vfmigEngineNow(ctx->cfg) - t0;
        return status == VFMIG_DATA_END ? 1 : 0;
    }
}


/* Records a change of the policy's word. */
static void
vfmigEngineRecordDecision(vfmigEngineCtx *ctx,
                          const vfmigDowntimeResult *res)
{
    vfmigEngineReport *r = ctx->report;
    vfmigEngineDecisionEvent *ev;

    if (r->nevents > 0 && r->haveDecision &&
        r->decision.decision == res->decision &&
        r->decision.reason == res->reason)
        goto out;

    r->nevents++;
    /* keep the first ones; once full, the last slot follows the newest
     * (the one that ended pre-copy is what a report needs most) */
    if (r->neventsKept < VFMIG_ENGINE_MAX_EVENTS)
        ev = &r->events[r->neventsKept++];
    else
        ev = &r->events[VFMIG_ENGINE_MAX_EVENTS - 1];
    ev->elapsedUs = vfmigEngineElapsed(ctx);
    ev->iteration = r->iterations;
    ev->decision = res->decision;
    ev->reason = res->reason;
    ev->predictedUs = res->predicted_us;
    ev->residueBytes = res->device_residue_bytes;

 out:
    r->decision = *res;
    r->haveDecision = true;
}


/*
 * Pre-copy: stream while the device runs, one round at a time, until the
 * policy says stop.  Returns 0 to go on to STOP_COPY, -1 on error (the
 * policy giving up included).
 */
static int
vfmigEngineSourcePrecopy(vfmigEngineCtx *ctx)
{
    const vfmigEngineConfig *cfg = ctx->cfg;
    vfmigEngineReport *r = ctx->report;
    vfmigDowntimePolicy policy = cfg->policy;
    vfmigDowntimeState state;
    uint64_t initial = 0;
    int rc;
    uint64_t dirty = 0;
    gint64 t0 = vfmigEngineNow(cfg);

    if (policy.target_us == 0)
        policy.target_us = VFMIG_ENGINE_DEFAULT_TARGET_US;
    policy.concurrent_transitions = false;
    if (vfmigDowntimePolicyValidate(&policy) < 0)
        return -1;
    vfmigDowntimeStateInit(&state);

    if (vfmigDeviceSetState(ctx->dev, VFIO_DEVICE_STATE_PRE_COPY) < 0)
        return -1;
    if (vfmigDevicePrecopyInfo(ctx->dev, &initial, &dirty) < 0)
        return -1;
    r->initialBytes = initial;
    ctx->remaining = initial + dirty;

    for (;;) {
        vfmigDowntimeDeviceSample dev = { 0 };
        vfmigDowntimeSample sample = { 0 };
        vfmigDowntimeResult res;
        bool imageEnd;
        uint64_t stopCopy = VFMIG_DOWNTIME_UNKNOWN;

        if (vfmigEngineReadRound(ctx, VFMIG_STATE_PHASE_PRE_COPY,
                                 &imageEnd) < 0)
            return -1;
        if (imageEnd)
            r->precopyImages++;
        r->iterations++;

        if (vfmigDevicePrecopyInfo(ctx->dev, &initial, &dirty) < 0)
            return -1;
        /* a whole state (mlx5 before its incremental query, upstream's
         * answer) or no MIG_DATA_SIZE: the policy uses the estimates */
        if ((rc = vfmigDeviceStopCopyResidue(ctx->dev, &stopCopy)) < 0)
            return -1;
        if (rc == 0)
            stopCopy = VFMIG_DOWNTIME_UNKNOWN;

        dev.initial_bytes = initial;
        dev.dirty_bytes = dirty;
        dev.stop_copy_bytes = stopCopy;
        dev.stop_latency_us = cfg->stopLatencyUs;
        dev.resume_latency_us = cfg->resumeLatencyUs;
        sample.timestamp_us = vfmigEngineElapsed(ctx);
        sample.devices = &dev;
        sample.ndevices = 1;
        sample.bandwidth = vfmigEngineRate(ctx);
        if (vfmigDowntimeEvaluate(&state, &policy, &sample, &res) < 0)
            return -1;
        ctx->remaining = stopCopy != VFMIG_DOWNTIME_UNKNOWN ? stopCopy :
                         initial + dirty;
        vfmigEngineRecordDecision(ctx, &res);
        vfmigEngineProgressSend(ctx, true, &res);

        switch (res.decision) {
        case VFMIG_DOWNTIME_CONTINUE:
            break;
        case VFMIG_DOWNTIME_SWITCH_OVER:
        case VFMIG_DOWNTIME_SWITCH_ANYWAY:
            r->precopyUs = vfmigEngineNow(cfg) - t0;
            return 0;
        case VFMIG_DOWNTIME_GIVE_UP:
        case VFMIG_DOWNTIME_DECISION_LAST:
        default:
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             _("the downtime policy gave up after %1$u rounds (%2$s): predicted downtime %3$llu us, target %4$llu us, %5$llu bytes left"),
                             r->iterations,
                             vfmigDowntimeReasonToString(res.reason),
                             (unsigned long long) res.predicted_us,
                             (unsigned long long) policy.target_us,
                             (unsigned long long) res.device_residue_bytes);
            return -1;
        }

        /* wait for the device to have more, a round at most */
        if (!imageEnd || initial + dirty == 0) {
            int ms = cfg->roundMs ? (int) cfg->roundMs :
                     VFMIG_ENGINE_DEFAULT_ROUND_MS;

            if (vfmigEngineCheckAbort(ctx) < 0)
                return -1;
            if (vfmigDeviceWaitData(ctx->dev, ms) < 0)
                return -1;
        }
    }
}


static int
vfmigEngineSaveFull(vfmigDevice *src,
                    const vfmigStateIdentity *srcId,
                    bool dstMultiLoad,
                    int fd,
                    const vfmigEngineConfig *cfg,
                    unsigned int flags,
                    const gint *peerFailed,
                    vfmigEngineReport *report)
{
    g_autoptr(vfmigStateFileWriter) w = NULL;
    vfmigStateIdentity id;
    vfmigEngineCtx ctx;
    vfmigStatePrecopyMode mode;
    uint64_t devFlags;
    uint64_t size;
    uint32_t state;
    bool touched = false;
    bool imageEnd;
    int rc;

    vfmigEngineCtxInit(&ctx, src, VFMIG_ENGINE_SIDE_SOURCE, cfg, report);
    ctx.peerFailed = peerFailed;

    if (vfmigDeviceGetFlags(src, &devFlags) < 0 ||
        vfmigDeviceGetState(src, &state) < 0)
        goto error;
    if (state != VFIO_DEVICE_STATE_RUNNING) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("the device must be RUNNING to be saved, it is in %1$s"),
                         vfmig_fsm_state_name(state));
        goto error;
    }
    if (vfmigEngineChooseMode(devFlags, dstMultiLoad, cfg->precopy, &mode) < 0)
        goto error;

    id = *srcId;
    id.precopyMode = mode;
    id.migrationFlags = devFlags;
    id.sizeHint = VFMIG_STATEFILE_SIZE_UNKNOWN;
    if ((rc = vfmigDeviceStopCopySize(src, &size)) < 0)
        goto error;
    if (rc > 0)
        id.sizeHint = size;
    report->mode = mode;

    if (!(w = vfmigStateFileWriterNew(fd, &id, &ctx.io)))
        goto error;
    ctx.pipe = vfmigEnginePipeNew(w, ctx.bufSize);
    if (!(ctx.cur = vfmigEnginePipeGet(ctx.pipe)))
        goto error;

    /* From here on the device changes state: failures roll it back. */
    touched = true;
    if (mode == VFMIG_STATE_PRECOPY_MULTI) {
        vfmigEngineSetPhase(&ctx, VFMIG_ENGINE_PHASE_PRE_COPY);
        if (vfmigEngineSourcePrecopy(&ctx) < 0)
            goto error;
    }

    vfmigEngineSetPhase(&ctx, VFMIG_ENGINE_PHASE_STOP_COPY);
    if (vfmigEngineCheckAbort(&ctx) < 0)
        goto error;
    if ((rc = vfmigDeviceStopCopySize(src, &size)) < 0)
        goto error;
    if (rc > 0) {
        report->stopCopyEstimate = size;
        ctx.remaining = size;
    } else {
        ctx.remaining = VFMIG_DOWNTIME_UNKNOWN;
    }
    report->stopStartUs = vfmigEngineNow(cfg);
    if (vfmigDeviceSetState(src, VFIO_DEVICE_STATE_STOP_COPY) < 0)
        goto error;
    report->stopLatencyUs = vfmigEngineNow(cfg) - report->stopStartUs;

    do {
        if ((rc = vfmigEngineReadRound(&ctx, VFMIG_STATE_PHASE_STOP_COPY,
                                       &imageEnd)) < 0)
            goto error;
    } while (rc == 0);
    if (vfmigEnginePipeDrain(ctx.pipe) < 0)
        goto error;
    report->drainedUs = vfmigEngineNow(cfg);
    if (vfmigEngineDigest(&ctx) < 0)
        goto error;

    if (vfmigStateFileWriterFinish(w) < 0)
        goto error;
    report->streamBytes = vfmigStateFileWriterGetOffset(w);

    if (vfmigDeviceSetState(src, (flags & VFMIG_ENGINE_LEAVE_STOPPED) ?
                            VFIO_DEVICE_STATE_STOP :
                            VFIO_DEVICE_STATE_RUNNING) < 0)
        goto error;

    vfmigEngineSetPhase(&ctx, VFMIG_ENGINE_PHASE_DONE);
    vfmigEngineCtxFinish(&ctx);
    return 0;

 error:
    vfmigEngineFail(&ctx);
    if (touched)
        vfmigEngineSourceRollback(src);
    vfmigEngineCtxFinish(&ctx);
    if (w)
        report->streamBytes = vfmigStateFileWriterGetOffset(w);
    return -1;
}


int
vfmigEngineSave(vfmigDevice *src,
                const vfmigStateIdentity *srcId,
                bool dstMultiLoad,
                int fd,
                const vfmigEngineConfig *cfg,
                unsigned int flags,
                vfmigEngineReport *report)
{
    return vfmigEngineSaveFull(src, srcId, dstMultiLoad, fd, cfg, flags,
                               NULL, report);
}


/* ---- destination ---- */

/* Resets the destination after a failure, keeping the first error. */
static void
vfmigEngineDestinationRollback(vfmigDevice *dst)
{
    g_autoptr(vfmigError) saved = vfmigSaveLastError();
    g_autofree char *what = NULL;

    if (vfmigDeviceReset(dst) == 0) {
        what = g_strdup(_("the destination device was reset"));
    } else {
        what = g_strdup_printf(_("the destination device could not be reset: %1$s"),
                               vfmigGetLastErrorMessage());
    }
    vfmigRestoreLastError(&saved);
    vfmigEngineAmendError(what);
}


static int
vfmigEngineLoadFull(vfmigDevice *dst,
                    const vfmigStateIdentity *dstId,
                    int fd,
                    const vfmigEngineConfig *cfg,
                    unsigned int flags,
                    const gint *peerFailed,
                    vfmigEngineReport *report)
{
    g_autoptr(vfmigStateFileReader) r = NULL;
    const vfmigStateIdentity *fileId;
    vfmigEngineCtx ctx;
    bool touched = false;
    uint32_t state;
    gint64 t0;

    vfmigEngineCtxInit(&ctx, dst, VFMIG_ENGINE_SIDE_DESTINATION, cfg, report);
    ctx.peerFailed = peerFailed;

    if (!(r = vfmigStateFileReaderNew(fd, &ctx.io)))
        goto error;
    fileId = vfmigStateFileReaderGetIdentity(r);
    report->mode = fileId->precopyMode;
    if (fileId->sizeHint != VFMIG_STATEFILE_SIZE_UNKNOWN)
        ctx.remaining = fileId->sizeHint;

    /* Refuse a foreign stream before a byte of state moves. */
    if (vfmigStateIdentityCheckCompatible(fileId, dstId) < 0) {
        vfmigEngineAmendError(_("nothing was loaded and the device was not touched"));
        goto error;
    }
    if (vfmigDeviceGetState(dst, &state) < 0)
        goto error;
    if (state != VFIO_DEVICE_STATE_RUNNING && state != VFIO_DEVICE_STATE_STOP) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("the device must be RUNNING or STOP to load state, it is in %1$s"),
                         vfmig_fsm_state_name(state));
        goto error;
    }

    vfmigEngineSetPhase(&ctx, VFMIG_ENGINE_PHASE_LOAD);
    touched = true;
    if (vfmigDeviceSetState(dst, VFIO_DEVICE_STATE_RESUMING) < 0)
        goto error;

    for (;;) {
        vfmigStatePhase phase;
        unsigned int chunkFlags;
        const void *payload;
        size_t len;
        int rc;

        if (vfmigEngineCheckAbort(&ctx) < 0)
            goto error;
        t0 = vfmigEngineNow(cfg);
        if ((rc = vfmigStateFileReadChunk(r, &phase, &chunkFlags,
                                          &payload, &len)) < 0)
            goto error;
        if (rc == 0)
            break;
        if (phase == VFMIG_STATE_PHASE_STOP_COPY && !report->stopCopyLoadStartUs)
            report->stopCopyLoadStartUs = vfmigEngineNow(cfg);
        if (phase == VFMIG_STATE_PHASE_PRE_COPY && (chunkFlags & VFMIG_STATE_CHUNK_IMAGE_END))
            report->precopyImages++;
        if (len && vfmigDeviceWriteAll(dst, payload, len) < 0)
            goto error;
        vfmigEngineCount(&ctx, phase, len);
        ctx.busyUs += vfmigEngineNow(cfg) - t0;
        vfmigEngineProgressSend(&ctx, false, NULL);
    }
    if (!report->stopCopyLoadStartUs)
        report->stopCopyLoadStartUs = vfmigEngineNow(cfg);
    report->streamBytes = vfmigStateFileReaderGetOffset(r);

    /* The whole stream passed its digests: let the device take it. */
    vfmigEngineSetPhase(&ctx, VFMIG_ENGINE_PHASE_RESUME);
    t0 = vfmigEngineNow(cfg);
    if (vfmigDeviceSetState(dst, VFIO_DEVICE_STATE_STOP) < 0) {
        vfmigEngineAmendError(_("the device refused the state it was given"));
        goto error;
    }
    report->loadCommitUs = vfmigEngineNow(cfg) - t0;
    if (vfmigEngineDigest(&ctx) < 0)
        goto error;

    if (!(flags & VFMIG_ENGINE_LEAVE_STOPPED)) {
        t0 = vfmigEngineNow(cfg);
        if (vfmigDeviceSetState(dst, VFIO_DEVICE_STATE_RUNNING) < 0)
            goto error;
        report->runningUs = vfmigEngineNow(cfg);
        report->resumeLatencyUs = report->runningUs - t0;
    }

    vfmigEngineSetPhase(&ctx, VFMIG_ENGINE_PHASE_DONE);
    vfmigEngineCtxFinish(&ctx);
    return 0;

 error:
    if (r && !report->streamBytes)
        report->streamBytes = vfmigStateFileReaderGetOffset(r);
    vfmigEngineFail(&ctx);
    if (touched)
        vfmigEngineDestinationRollback(dst);
    vfmigEngineCtxFinish(&ctx);
    return -1;
}


int
vfmigEngineLoad(vfmigDevice *dst,
                const vfmigStateIdentity *dstId,
                int fd,
                const vfmigEngineConfig *cfg,
                unsigned int flags,
                vfmigEngineReport *report)
{
    return vfmigEngineLoadFull(dst, dstId, fd, cfg, flags, NULL, report);
}


/* ---- both sides in one process ---- */

typedef struct _vfmigEngineDestThread vfmigEngineDestThread;
struct _vfmigEngineDestThread {
    vfmigDevice *dst;
    const vfmigStateIdentity *dstId;
    int fd;
    const vfmigEngineConfig *cfg;
    vfmigEngineReport *report;
    gint failed;
    vfmigError *err;    /* the thread's error, moved out */
    int rc;
};


static gpointer
vfmigEngineDestThreadRun(gpointer opaque)
{
    vfmigEngineDestThread *t = opaque;

    t->rc = vfmigEngineLoadFull(t->dst, t->dstId, t->fd, t->cfg,
                                VFMIG_ENGINE_LEAVE_STOPPED, NULL, t->report);
    if (t->rc < 0) {
        t->err = vfmigSaveLastError();
        g_atomic_int_set(&t->failed, 1);
        /* a source blocked writing to us sees EPIPE at once */
        shutdown(t->fd, SHUT_RDWR);
    }
    return NULL;
}


/* The two reports' times are on one clock: downtime is from the source's
 * stop to the destination's RUNNING, less the digests taken in between. */
static void
vfmigEngineDowntime(vfmigEngineReport *src, vfmigEngineReport *dst)
{
    uint64_t dt;

    if (!dst->runningUs || dst->runningUs < src->stopStartUs)
        return;
    dt = dst->runningUs - src->stopStartUs;
    dt -= MIN(dt, src->digestUs + dst->digestUs);
    src->downtimeUs = dst->downtimeUs = dt;
}


int
vfmigEngineMigrate(vfmigDevice *src,
                   const vfmigStateIdentity *srcId,
                   vfmigDevice *dst,
                   const vfmigStateIdentity *dstId,
                   const vfmigEngineConfig *cfg,
                   unsigned int flags,
                   vfmigEngineReport *srcReport,
                   vfmigEngineReport *dstReport)
{
    vfmigEngineDestThread t = { 0 };
    vfmigEngineConfig dstCfg;
    g_autoptr(vfmigError) srcErr = NULL;
    GThread *thread;
    int sv[2];
    int srcRc;
    gint64 t0;

    memset(srcReport, 0, sizeof(*srcReport));
    memset(dstReport, 0, sizeof(*dstReport));
    if (src == dst) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("a device cannot be migrated onto itself this way: use a round trip"));
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        vfmigReportSystemError(errno, "%s",
                               _("cannot create the socket pair between source and destination"));
        return -1;
    }

    /* The time limit is the source's to keep: when it passes, the source
     * gives up and the destination sees the stream end.  A destination
     * counting it too would race the source to the same error. */
    dstCfg = *cfg;
    dstCfg.timeoutMs = 0;

    t.dst = dst;
    t.dstId = dstId;
    t.fd = sv[1];
    t.cfg = &dstCfg;
    t.report = dstReport;
    thread = g_thread_new("vfmig-dest", vfmigEngineDestThreadRun, &t);

    srcRc = vfmigEngineSaveFull(src, srcId, dstId->multiLoad, sv[0], cfg,
                                VFMIG_ENGINE_LEAVE_STOPPED, &t.failed,
                                srcReport);
    if (srcRc < 0) {
        srcErr = vfmigSaveLastError();
        shutdown(sv[0], SHUT_RDWR);
    }
    g_thread_join(thread);
    close(sv[0]);
    close(sv[1]);

    if (srcRc < 0 || t.rc < 0) {
        g_autoptr(vfmigError) dstErr = g_steal_pointer(&t.err);
        bool srcFirst = srcRc < 0 &&
                        (t.rc == 0 || srcReport->endUs <= dstReport->endUs);

        /* both saw a cancel, or both ran out of time: one cause, told as
         * the source saw it, whichever side noticed first */
        if (srcRc < 0 && t.rc < 0 && srcErr && dstErr &&
            srcErr->code == dstErr->code &&
            (srcErr->code == VFMIG_ERR_OPERATION_ABORTED ||
             srcErr->code == VFMIG_ERR_OPERATION_TIMEOUT))
            srcFirst = true;

        if (srcRc == 0) {
            /* the source stopped for a destination that failed */
            vfmigRestoreLastError(&dstErr);
            vfmigEngineSourceRollback(src);
        } else if (t.rc == 0) {
            /* the destination loaded a stream the source disowns */
            vfmigRestoreLastError(&srcErr);
            vfmigEngineDestinationRollback(dst);
        } else if (srcFirst) {
            vfmigRestoreLastError(&srcErr);
        } else {
            /* the source stopped because the destination failed, and has
             * rolled itself back: say how it is, after the cause */
            uint32_t state = VFIO_DEVICE_STATE_ERROR;
            g_autofree char *what = NULL;

            vfmigDeviceGetState(src, &state);
            if (state == VFIO_DEVICE_STATE_RUNNING)
                what = g_strdup(_("the source device is running again with its state"));
            else
                what = g_strdup_printf(_("the source device did not recover (%1$s): %2$s"),
                                       vfmig_fsm_state_name(state),
                                       srcErr ? srcErr->message : "");
            vfmigRestoreLastError(&dstErr);
            vfmigEngineAmendError(what);
        }
        return -1;
    }

    /* Both sides done: the destination takes over. */
    t0 = vfmigEngineNow(cfg);
    if (vfmigDeviceSetState(dst, VFIO_DEVICE_STATE_RUNNING) < 0) {
        vfmigEngineAmendError(_("the destination device did not start"));
        vfmigEngineDestinationRollback(dst);
        vfmigEngineSourceRollback(src);
        dstReport->failed = true;
        dstReport->failedPhase = VFMIG_ENGINE_PHASE_RESUME;
        return -1;
    }
    dstReport->runningUs = vfmigEngineNow(cfg);
    dstReport->resumeLatencyUs = dstReport->runningUs - t0;
    dstReport->endUs = dstReport->runningUs;
    vfmigEngineDowntime(srcReport, dstReport);

    if (!(flags & VFMIG_ENGINE_LEAVE_STOPPED) &&
        vfmigDeviceSetState(src, VFIO_DEVICE_STATE_RUNNING) < 0)
        return -1;
    return 0;
}


int
vfmigEngineRoundTrip(vfmigDevice *dev,
                     const vfmigStateIdentity *id,
                     int fd,
                     const vfmigEngineConfig *cfg,
                     vfmigEngineReport *srcReport,
                     vfmigEngineReport *dstReport)
{
    uint64_t src;
    uint64_t dst;

    memset(dstReport, 0, sizeof(*dstReport));
    if (vfmigEngineSave(dev, id, id->multiLoad, fd, cfg,
                        VFMIG_ENGINE_LEAVE_STOPPED, srcReport) < 0)
        return -1;

    /* Forget the state, so that only the load can bring it back. */
    if (vfmigDeviceReset(dev) < 0) {
        vfmigEngineAmendError(_("cannot reset the device between saving and loading its state"));
        return -1;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        vfmigReportSystemError(errno, "%s",
                               _("cannot rewind the state file of the round trip"));
        return -1;
    }
    if (vfmigEngineLoad(dev, id, fd, cfg, 0, dstReport) < 0)
        return -1;

    /* The two halves ran one after the other: add up what a migration
     * would stop the device for. */
    src = srcReport->drainedUs - srcReport->stopStartUs;
    dst = dstReport->runningUs - dstReport->stopCopyLoadStartUs;
    srcReport->downtimeUs = src + dst - MIN(src + dst, dstReport->digestUs);
    dstReport->downtimeUs = srcReport->downtimeUs;
    return 0;
}
