/*
 * virt-vfmig-migrate.c: device state commands of virt-vfmig
 *
 * device-qualify, device-save and device-restore move a device's state
 * with the engine (vfmigengine.h), without a VM: onto the device itself or
 * a peer, into a file, out of a file.  device-qualify keeps what it
 * measured in the device's qualification record (vfmignodedevqualify.h),
 * and the engine's latency hints come from that record when there is one.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virt-vfmig.h"
#include "vfmigdevicevfio.h"
#include "vfmigengine.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"
#include "vfmigi18n.h"
#include "vfmigjson.h"
#include "vfmignodedevprobe.h"
#include "vfmignodedevqualify.h"
#include "vfmigqualify.h"

/* QEMU's largest downtime-limit, and a day for the time limit. */
#define VFMIG_MIGRATE_TARGET_MS_MAX 2000000
#define VFMIG_MIGRATE_TIMEOUT_MAX (24 * 3600)

/* Pre-copy deadline of a qualification, unless --timeout is shorter. */
#define VFMIG_MIGRATE_DEADLINE_US (10 * 1000 * 1000)


/* ---- signals ---- */

/* Set by SIGINT and SIGTERM; the engine polls it and rolls back. */
static gint vfmigMigrateCancel;

static void
vfmigMigrateSignal(int sig G_GNUC_UNUSED)
{
    g_atomic_int_set(&vfmigMigrateCancel, 1);
}


static void
vfmigMigrateSetupSignals(void)
{
    struct sigaction sa;

    /* no SA_RESTART: a read or write blocked on a pipe returns EINTR, and
     * the engine looks at the flag before it waits again */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = vfmigMigrateSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* a reader that went away is an EPIPE the engine rolls back from */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}


/* The node-device capability publishes the qualification's verdict: one
 * set of values, so a record takes the verdict as it is. */
G_STATIC_ASSERT((int) VFMIG_QUALIFY_QUALIFIED == (int) VFMIG_NODEDEV_VERDICT_QUALIFIED);
G_STATIC_ASSERT((int) VFMIG_QUALIFY_QUALIFIED_WITH_WARNINGS ==
                (int) VFMIG_NODEDEV_VERDICT_QUALIFIED_WITH_WARNINGS);
G_STATIC_ASSERT((int) VFMIG_QUALIFY_NOT_QUALIFIED == (int) VFMIG_NODEDEV_VERDICT_NOT_QUALIFIED);
G_STATIC_ASSERT((int) VFMIG_QUALIFY_VERDICT_LAST == (int) VFMIG_NODEDEV_VERDICT_LAST);

/* ---- usage ---- */

/*
 * A bad option value is a usage error (exit status 2), like the ones the
 * option parser finds: printed here, and the handler returns false with
 * ctl->usageError set.
 */
static void G_GNUC_PRINTF(2, 3)
vfmigMigrateUsageError(vfmigCtl *ctl, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    vfmigShellUsageError(ctl, "%s", msg);
    ctl->usageError = true;
}


/* --NAME as a whole number in 1 .. @max into *@value; 0 when not given.
 * -1 on a usage error. */
static int
vfmigMigrateOptNumber(vfmigCtl *ctl,
                      const vfmigCmd *cmd,
                      const char *name,
                      uint64_t max,
                      uint64_t *value)
{
    const char *str = vfmigCmdGetString(cmd, name);
    guint64 num;

    *value = 0;
    if (!str)
        return 0;
    if (!g_ascii_string_to_unsigned(str, 10, 1, max, &num, NULL)) {
        vfmigMigrateUsageError(ctl,
                               _("command '%1$s': option --%2$s wants a whole number from 1 to %3$llu, not '%4$s'"),
                               cmd->def->name, name,
                               (unsigned long long) max, str);
        return -1;
    }
    *value = num;
    return 0;
}


/* ---- devices ---- */

/*
 * Tests point the tools at fake trees; in production every path is the
 * real one.
 */
static void
vfmigMigratePathsFromEnv(vfmigVFIOPaths *vfioPaths,
                         vfmigNodeDevProbePaths *probePaths)
{
    memset(vfioPaths, 0, sizeof(*vfioPaths));
    vfioPaths->sysfsRoot = g_getenv("VFMIG_SYSFS_ROOT");
    vfioPaths->devRoot = g_getenv("VFMIG_DEV_ROOT");

    memset(probePaths, 0, sizeof(*probePaths));
    probePaths->sysfsRoot = g_getenv("VFMIG_SYSFS_ROOT");
    probePaths->devRoot = g_getenv("VFMIG_DEV_ROOT");
    probePaths->debugfsRoot = g_getenv("VFMIG_DEBUGFS_ROOT");
    probePaths->procRoot = g_getenv("VFMIG_PROC_ROOT");
    probePaths->cacheDir = g_getenv("VFMIG_CACHE_DIR");
    probePaths->kernelConfig = g_getenv("VFMIG_KERNEL_CONFIG");
}


/* Where a latency hint for the engine came from. */
typedef enum {
    VFMIG_MIGRATE_HINT_NONE = 0,        /* nothing tells: 0 */
    VFMIG_MIGRATE_HINT_SYSFS,           /* the driver's last transitions */
    VFMIG_MIGRATE_HINT_QUALIFICATION,   /* the device's last device-qualify */
} vfmigMigrateHintSource;


/* One device, opened for a state command, with its identity. */
typedef struct _vfmigMigrateDev vfmigMigrateDev;
struct _vfmigMigrateDev {
    char *name;                 /* normalized */
    vfmigNodeDevPCI *pci;       /* the probe; NULL for an mdev */
    vfmigDevice *dev;
    vfmigStateIdentity id;      /* strings borrowed from pci or dev */
    /* The record of its last qualification (PCI devices only), or NULL. */
    vfmigNodeDevQualified *qualified;
    /* Latency hints for the engine, and where they came from. */
    vfmigMigrateHintSource hintSource;
    uint64_t stopLatencyUs;     /* 0: unknown */
    uint64_t resumeLatencyUs;
};


static void
vfmigMigrateDevFree(vfmigMigrateDev *md)
{
    if (!md)
        return;
    vfmigDeviceFree(md->dev);
    vfmigNodeDevPCIFree(md->pci);
    vfmigNodeDevQualifiedFree(md->qualified);
    g_free(md->name);
    g_free(md);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigMigrateDev, vfmigMigrateDevFree);


/* <sysfs>/bus/pci/devices/<name>/vfio_migration/<file> as a number, or
 * 0 when it is missing or unreadable: these are hints only. */
static uint64_t
vfmigMigrateReadHint(const vfmigVFIOPaths *paths,
                     const char *name,
                     const char *file)
{
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    guint64 value;

    path = g_strdup_printf("%s/bus/pci/devices/%s/vfio_migration/%s",
                           paths->sysfsRoot ? paths->sysfsRoot : "/sys",
                           name, file);
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    g_strstrip(text);
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &value, NULL))
        return 0;
    return value;
}


/*
 * Probes the device @arg for a state command, without opening it: refuses
 * one that is in use (QEMU or anyone else has it open, or it is in a
 * migration state).
 */
static vfmigMigrateDev *
vfmigMigrateDevProbe(const char *arg)
{
    g_autoptr(vfmigMigrateDev) md = g_new0(vfmigMigrateDev, 1);
    vfmigNodeDevProbePaths probePaths;
    vfmigVFIOPaths vfioPaths;
    bool isMdev = false;

    vfmigMigratePathsFromEnv(&vfioPaths, &probePaths);

    if (vfmigVFIOParseName(arg, &md->name, &isMdev) < 0)
        return NULL;
    /* an mdev is no PCI function: its identity comes from the device */
    if (isMdev)
        return g_steal_pointer(&md);

    /* live features only; the record is read below, where its problems
     * are shown */
    if (vfmigNodeDevProbeOne(&probePaths, md->name,
                             VFMIG_NODEDEV_PROBE_NO_CACHE |
                             VFMIG_NODEDEV_PROBE_NO_QUALIFIED, &md->pci) < 0)
        return NULL;
    if (md->pci->inUse) {
        vfmigReportError(VFMIG_ERR_DEVICE_BUSY,
                         _("device '%1$s' is in use (%2$s): its state is not touched"),
                         md->name,
                         md->pci->inUseReason ? md->pci->inUseReason :
                         _("a VFIO user holds it"));
        return NULL;
    }
    return g_steal_pointer(&md);
}


/*
 * Opens the probed device through VFIO (which refuses a device someone
 * else holds) and fills its state identity from the node-device probe:
 * driver, PCI ids, firmware, stream version, multi-load.
 */
static int
vfmigMigrateDevOpenVFIO(vfmigMigrateDev *md)
{
    vfmigNodeDevProbePaths probePaths;
    vfmigVFIOPaths vfioPaths;
    const vfmigNodeDevCapVFIOMig *cap = md->pci ? md->pci->cap : NULL;

    vfmigMigratePathsFromEnv(&vfioPaths, &probePaths);

    if (!(md->dev = vfmigDeviceVFIOOpen(md->name, &vfioPaths)))
        return -1;

    md->id.driver = md->pci && md->pci->driver ? md->pci->driver :
                    vfmigDeviceGetDriver(md->dev);
    if (!md->id.driver)
        md->id.driver = "";
    if (md->pci && md->pci->vendor) {
        md->id.havePciIds = true;
        md->id.pciVendor = md->pci->vendor;
        md->id.pciDevice = md->pci->device;
    }
    md->id.sizeHint = VFMIG_STATEFILE_SIZE_UNKNOWN;
    /* Drivers without our sysfs ABI do not say: the uAPI lets a
     * destination take several images, so assume they can. */
    md->id.multiLoad = true;
    if (cap) {
        md->id.firmware = cap->firmware;
        if (cap->streamVersion) {
            md->id.haveStreamVersion = true;
            md->id.streamVersion = cap->streamVersion;
        }
        if (cap->source == VFMIG_NODEDEV_SOURCE_SYSFS)
            md->id.multiLoad = !!(cap->features & VFMIG_NODEDEV_FEATURE_MULTI_LOAD);
    }

    /* The device's last qualification, when it measured something.  A
     * broken or stale record is no reason to refuse the command. */
    if (md->pci &&
        vfmigNodeDevQualifiedLoad(probePaths.cacheDir, md->name,
                                  md->pci->driver, &md->qualified) < 0) {
        fprintf(stderr, _("warning: %1$s\n"), vfmigGetLastErrorMessage());
        vfmigResetLastError();
    }

    /*
     * Latency hints for the policy's first rounds.  A qualification
     * measured the whole fixed part of the stop (the transition and the
     * drain: vfmig_testdev hashes its state there, which no residue over
     * bandwidth accounts for) and of the start (the load commit and the
     * transition); else the driver's latencies of its last transitions.
     */
    if (md->qualified && md->qualified->measured) {
        md->hintSource = VFMIG_MIGRATE_HINT_QUALIFICATION;
        md->stopLatencyUs = md->qualified->stopLatencyUs + md->qualified->drainUs;
        md->resumeLatencyUs = md->qualified->loadCommitUs +
                              md->qualified->resumeLatencyUs;
    } else if (cap && cap->live) {
        md->hintSource = VFMIG_MIGRATE_HINT_SYSFS;
        md->stopLatencyUs = cap->live->stopLatencyUs;
        md->resumeLatencyUs = cap->live->resumeLatencyUs;
    } else if (cap && cap->source == VFMIG_NODEDEV_SOURCE_SYSFS) {
        md->hintSource = VFMIG_MIGRATE_HINT_SYSFS;
        md->stopLatencyUs = vfmigMigrateReadHint(&vfioPaths, md->name,
                                                 "stop_latency_us");
        md->resumeLatencyUs = vfmigMigrateReadHint(&vfioPaths, md->name,
                                                   "resume_latency_us");
    }
    return 0;
}


static vfmigMigrateDev *
vfmigMigrateDevOpen(const char *arg)
{
    g_autoptr(vfmigMigrateDev) md = NULL;

    if (!(md = vfmigMigrateDevProbe(arg)) ||
        vfmigMigrateDevOpenVFIO(md) < 0)
        return NULL;
    return g_steal_pointer(&md);
}


static const char *
vfmigMigrateDevStateName(vfmigMigrateDev *md)
{
    uint32_t state;

    if (vfmigDeviceGetState(md->dev, &state) < 0) {
        vfmigResetLastError();
        return NULL;
    }
    return vfmig_fsm_state_name(state);
}


/* ---- progress ---- */

typedef struct _vfmigMigrateProgress vfmigMigrateProgress;
struct _vfmigMigrateProgress {
    GMutex lock;
    bool enabled;
    bool have[VFMIG_ENGINE_SIDE_LAST];
    vfmigEngineProgress last[VFMIG_ENGINE_SIDE_LAST];
    int width;                  /* of the line on the terminal now */
};


static void
vfmigMigrateProgressInit(vfmigMigrateProgress *p)
{
    memset(p, 0, sizeof(*p));
    g_mutex_init(&p->lock);
    p->enabled = isatty(STDERR_FILENO) == 1;
}


static void
vfmigMigrateProgressSide(GString *line, const vfmigEngineProgress *pr)
{
    g_autofree char *bytes = vfmigQualifyFormatBytes(pr->bytes);
    g_autofree char *rate = vfmigQualifyFormatBytes(pr->rate);

    g_string_append_printf(line, "%s %s %s %s/s",
                           vfmigEngineSideToString(pr->side),
                           vfmigEnginePhaseToString(pr->phase),
                           bytes, rate);
    if (pr->remaining != VFMIG_DOWNTIME_UNKNOWN &&
        (pr->phase == VFMIG_ENGINE_PHASE_PRE_COPY ||
         pr->phase == VFMIG_ENGINE_PHASE_STOP_COPY ||
         pr->phase == VFMIG_ENGINE_PHASE_LOAD)) {
        g_autofree char *left = vfmigQualifyFormatBytes(pr->remaining);

        if (pr->rate > 0)
            g_string_append_printf(line, _(", %1$s left, ETA %2$.1f s"),
                                   left, (double) pr->remaining / pr->rate);
        else
            g_string_append_printf(line, _(", %1$s left"), left);
    }
    if (pr->phase == VFMIG_ENGINE_PHASE_PRE_COPY && pr->iteration > 0)
        g_string_append_printf(line, _(", round %1$u"), pr->iteration);
}


static void
vfmigMigrateProgressCb(const vfmigEngineProgress *pr, void *opaque)
{
    vfmigMigrateProgress *p = opaque;
    g_autoptr(GString) line = g_string_new(NULL);
    int width;
    size_t i;

    if (!p->enabled || pr->side >= VFMIG_ENGINE_SIDE_LAST)
        return;

    g_mutex_lock(&p->lock);
    p->last[pr->side] = *pr;
    p->have[pr->side] = true;
    for (i = 0; i < VFMIG_ENGINE_SIDE_LAST; i++) {
        if (!p->have[i])
            continue;
        if (line->len)
            g_string_append(line, " | ");
        vfmigMigrateProgressSide(line, &p->last[i]);
    }
    width = (int) g_utf8_strlen(line->str, -1);
    fprintf(stderr, "\r%s%*s", line->str, MAX(0, p->width - width), "");
    fflush(stderr);
    p->width = width;
    g_mutex_unlock(&p->lock);
}


/* Wipes the progress line, before the report. */
static void
vfmigMigrateProgressEnd(vfmigMigrateProgress *p)
{
    if (p->enabled && p->width > 0) {
        fprintf(stderr, "\r%*s\r", p->width, "");
        fflush(stderr);
    }
    p->width = 0;
    g_mutex_clear(&p->lock);
}


/* ---- reports ---- */

static char *
vfmigMigrateUs(uint64_t us)
{
    if (us == VFMIG_DOWNTIME_UNKNOWN)
        return g_strdup(_("unknown"));
    return g_strdup_printf(_("%1$.3f ms"), us / 1000.0);
}


static char *
vfmigMigrateBytes(uint64_t bytes)
{
    g_autofree char *human = NULL;

    if (bytes == VFMIG_DOWNTIME_UNKNOWN)
        return g_strdup(_("unknown"));
    if (bytes < 1024)
        return g_strdup_printf("%llu", (unsigned long long) bytes);
    human = vfmigQualifyFormatBytes(bytes);
    return g_strdup_printf("%llu (%s)", (unsigned long long) bytes, human);
}


/* "Label:    value", the value at column 22 (labels are translated: pad
 * by characters, not bytes). */
static void
vfmigMigrateField(FILE *out, const char *label, const char *value)
{
    glong width = g_utf8_strlen(label, -1);

    fprintf(out, "%s:%*s%s\n", label, (int) MAX(1, 21 - width), "", value);
}


static void
vfmigMigrateFieldNum(FILE *out, const char *label, unsigned long long value)
{
    g_autofree char *str = g_strdup_printf("%llu", value);

    vfmigMigrateField(out, label, str);
}


static void
vfmigMigrateFieldTake(FILE *out, const char *label, char *value)
{
    vfmigMigrateField(out, label, value);
    g_free(value);
}


static uint64_t
vfmigMigrateElapsed(const vfmigEngineReport *r)
{
    return r->endUs > r->startUs ? r->endUs - r->startUs : 0;
}


/* The source's sizes, rounds and policy, for text reports. */
static void
vfmigMigrateTextSource(FILE *out, const vfmigEngineReport *r)
{
    vfmigMigrateFieldTake(out, _("Initial bytes"), vfmigMigrateBytes(r->initialBytes));
    vfmigMigrateFieldTake(out, _("Pre-copy bytes"), vfmigMigrateBytes(r->precopyBytes));
    vfmigMigrateFieldTake(out, _("Stop-copy bytes"), vfmigMigrateBytes(r->stopCopyBytes));
    vfmigMigrateFieldTake(out, _("Stop-copy estimate"), vfmigMigrateBytes(r->stopCopyEstimate));
    vfmigMigrateFieldTake(out, _("Stream bytes"), vfmigMigrateBytes(r->streamBytes));
    vfmigMigrateFieldNum(out, _("Pre-copy images"), r->precopyImages);
    vfmigMigrateFieldNum(out, _("Iterations"), r->iterations);
    if (r->haveDecision) {
        vfmigMigrateFieldTake(out, _("Convergence"),
                              g_strdup_printf("%s (%s)",
                                              vfmigDowntimeDecisionToString(r->decision.decision),
                                              vfmigDowntimeReasonToString(r->decision.reason)));
    } else {
        vfmigMigrateField(out, _("Convergence"), _("no pre-copy"));
    }
    vfmigMigrateFieldTake(out, _("Pre-copy time"), vfmigMigrateUs(r->precopyUs));
    vfmigMigrateFieldTake(out, _("Stop latency"), vfmigMigrateUs(r->stopLatencyUs));
}


static void
vfmigMigrateTextEvents(FILE *out, const vfmigEngineReport *r)
{
    unsigned int i;

    if (!r->nevents)
        return;
    vfmigMigrateFieldNum(out, _("Policy decisions"), r->nevents);
    for (i = 0; i < r->neventsKept; i++) {
        const vfmigEngineDecisionEvent *ev = &r->events[i];
        g_autofree char *predicted = vfmigMigrateUs(ev->predictedUs);
        g_autofree char *residue = vfmigMigrateBytes(ev->residueBytes);

        fprintf(out, _("  round %1$u at %2$.3f s: %3$s (%4$s), predicted downtime %5$s, residue %6$s\n"),
                ev->iteration, ev->elapsedUs / 1e6,
                vfmigDowntimeDecisionToString(ev->decision),
                vfmigDowntimeReasonToString(ev->reason),
                predicted, residue);
    }
    if (r->nevents > r->neventsKept)
        fprintf(out, _("  (%1$u more decisions not kept)\n"),
                r->nevents - r->neventsKept);
}


/* A number, or null when it is not known. */
static void
vfmigMigrateJSONNum(vfmigJSONWriter *w, const char *key, uint64_t value)
{
    if (value == VFMIG_DOWNTIME_UNKNOWN)
        vfmigJSONString(w, key, NULL);
    else
        vfmigJSONUInt(w, key, value);
}


static void
vfmigMigrateJSONDecision(vfmigJSONWriter *w,
                         const char *key,
                         const vfmigDowntimeResult *d)
{
    vfmigJSONBeginObject(w, key);
    vfmigJSONString(w, "decision", vfmigDowntimeDecisionToString(d->decision));
    vfmigJSONString(w, "reason", vfmigDowntimeReasonToString(d->reason));
    vfmigMigrateJSONNum(w, "predicted-us", d->predicted_us);
    vfmigMigrateJSONNum(w, "device-residue-us", d->device_residue_us);
    vfmigMigrateJSONNum(w, "latency-us", d->latency_us);
    vfmigMigrateJSONNum(w, "overshoot-us", d->overshoot_us);
    vfmigMigrateJSONNum(w, "residue-bytes", d->device_residue_bytes);
    vfmigMigrateJSONNum(w, "initial-bytes", d->initial_bytes);
    vfmigMigrateJSONNum(w, "bandwidth", d->bandwidth);
    vfmigJSONEndObject(w);
}


/* One side's engine report as a JSON object. */
static void
vfmigMigrateJSONReport(vfmigJSONWriter *w,
                       const char *key,
                       const vfmigEngineReport *r)
{
    unsigned int i;

    vfmigJSONBeginObject(w, key);
    vfmigJSONString(w, "side", vfmigEngineSideToString(r->side));
    vfmigJSONString(w, "mode", vfmigStatePrecopyModeToString(r->mode));
    vfmigJSONBool(w, "failed", r->failed);
    vfmigJSONString(w, "failed-phase",
                    r->failed ? vfmigEnginePhaseToString(r->failedPhase) : NULL);
    vfmigJSONUInt(w, "precopy-bytes", r->precopyBytes);
    vfmigJSONUInt(w, "stop-copy-bytes", r->stopCopyBytes);
    vfmigJSONUInt(w, "stream-bytes", r->streamBytes);
    vfmigJSONUInt(w, "precopy-images", r->precopyImages);
    vfmigJSONUInt(w, "iterations", r->iterations);
    vfmigJSONUInt(w, "elapsed-us", vfmigMigrateElapsed(r));
    vfmigJSONUInt(w, "rate", r->rate);
    if (r->side == VFMIG_ENGINE_SIDE_SOURCE) {
        vfmigJSONUInt(w, "initial-bytes", r->initialBytes);
        vfmigMigrateJSONNum(w, "stop-copy-estimate", r->stopCopyEstimate);
        vfmigJSONUInt(w, "precopy-us", r->precopyUs);
        vfmigJSONUInt(w, "stop-latency-us", r->stopLatencyUs);
        if (r->drainedUs > r->stopStartUs)
            vfmigJSONUInt(w, "stop-copy-us", r->drainedUs - r->stopStartUs);
        if (r->haveDecision)
            vfmigMigrateJSONDecision(w, "decision", &r->decision);
        vfmigJSONUInt(w, "decision-changes", r->nevents);
        vfmigJSONBeginArray(w, "decisions");
        for (i = 0; i < r->neventsKept; i++) {
            const vfmigEngineDecisionEvent *ev = &r->events[i];

            vfmigJSONBeginObject(w, NULL);
            vfmigJSONUInt(w, "elapsed-us", ev->elapsedUs);
            vfmigJSONUInt(w, "iteration", ev->iteration);
            vfmigJSONString(w, "decision", vfmigDowntimeDecisionToString(ev->decision));
            vfmigJSONString(w, "reason", vfmigDowntimeReasonToString(ev->reason));
            vfmigMigrateJSONNum(w, "predicted-us", ev->predictedUs);
            vfmigMigrateJSONNum(w, "residue-bytes", ev->residueBytes);
            vfmigJSONEndObject(w);
        }
        vfmigJSONEndArray(w);
    } else {
        vfmigJSONUInt(w, "load-commit-us", r->loadCommitUs);
        vfmigJSONUInt(w, "resume-latency-us", r->resumeLatencyUs);
    }
    vfmigJSONUInt(w, "downtime-us", r->downtimeUs);
    vfmigJSONString(w, "digest", *r->digest ? r->digest : NULL);
    vfmigJSONUInt(w, "digest-us", r->digestUs);
    vfmigJSONEndObject(w);
}


static void
vfmigMigrateJSONPrint(vfmigJSONWriter *w, FILE *out)
{
    g_autofree char *doc = vfmigJSONWriterFinish(w);

    fputs(doc, out);
    fflush(out);
}


/* ---- latency hints ---- */

/* The engine's latency hints: the stop part from the source, the resume
 * part from the destination (the same device but for a peer). */
typedef struct _vfmigMigrateHints vfmigMigrateHints;
struct _vfmigMigrateHints {
    const vfmigMigrateDev *stop;
    const vfmigMigrateDev *resume;
};


static const char *
vfmigMigrateHintSourceString(vfmigMigrateHintSource src)
{
    switch (src) {
    case VFMIG_MIGRATE_HINT_SYSFS:
        return "sysfs";
    case VFMIG_MIGRATE_HINT_QUALIFICATION:
        return "qualification";
    case VFMIG_MIGRATE_HINT_NONE:
    default:
        return "none";
    }
}


/* "from the qualification of <time>", "from sysfs", "none known". */
static char *
vfmigMigrateHintFrom(const vfmigMigrateDev *md)
{
    g_autofree char *at = NULL;

    switch (md->hintSource) {
    case VFMIG_MIGRATE_HINT_QUALIFICATION:
        at = vfmigNodeDevQualifiedFormatTime(md->qualified->at);
        return g_strdup_printf(_("from the qualification of %1$s"),
                               at ? at : "?");
    case VFMIG_MIGRATE_HINT_SYSFS:
        return g_strdup(_("from sysfs"));
    case VFMIG_MIGRATE_HINT_NONE:
    default:
        return g_strdup(_("none known"));
    }
}


static void
vfmigMigrateTextHints(FILE *out, const vfmigMigrateHints *h)
{
    g_autofree char *stop = vfmigMigrateUs(h->stop->stopLatencyUs);
    g_autofree char *resume = vfmigMigrateUs(h->resume->resumeLatencyUs);
    g_autofree char *stopFrom = vfmigMigrateHintFrom(h->stop);
    g_autofree char *resumeFrom = vfmigMigrateHintFrom(h->resume);

    if (g_str_equal(stopFrom, resumeFrom))
        vfmigMigrateFieldTake(out, _("Latency hints"),
                              g_strdup_printf(_("%1$s (stop %2$s, resume %3$s)"),
                                              stopFrom, stop, resume));
    else
        vfmigMigrateFieldTake(out, _("Latency hints"),
                              g_strdup_printf(_("stop %1$s %2$s, resume %3$s %4$s"),
                                              stop, stopFrom, resume, resumeFrom));
}


static void
vfmigMigrateJSONHint(vfmigJSONWriter *w,
                     const char *key,
                     const vfmigMigrateDev *md,
                     uint64_t us)
{
    g_autofree char *at = NULL;

    if (md->hintSource == VFMIG_MIGRATE_HINT_QUALIFICATION)
        at = vfmigNodeDevQualifiedFormatTime(md->qualified->at);
    vfmigJSONBeginObject(w, key);
    vfmigJSONUInt(w, "us", us);
    vfmigJSONString(w, "from", vfmigMigrateHintSourceString(md->hintSource));
    vfmigJSONString(w, "qualified-at", at);
    vfmigJSONEndObject(w);
}


static void
vfmigMigrateJSONHints(vfmigJSONWriter *w, const vfmigMigrateHints *h)
{
    vfmigJSONBeginObject(w, "latency-hints");
    vfmigMigrateJSONHint(w, "stop", h->stop, h->stop->stopLatencyUs);
    vfmigMigrateJSONHint(w, "resume", h->resume, h->resume->resumeLatencyUs);
    vfmigJSONEndObject(w);
}


/* ---- device-qualify ---- */

/*
 * Keeps what the run measured in the source device's record: only a run
 * that moved state (whatever its verdict), only for a PCI device (the
 * record sits beside its node-device cache).  Returns the record's path,
 * or NULL when there is nothing to record or the write failed (a warning:
 * the qualification itself stands).
 */
static char *
vfmigQualifyRecord(const vfmigMigrateDev *md,
                   const vfmigQualifyResult *res)
{
    g_autoptr(vfmigNodeDevQualified) q = g_new0(vfmigNodeDevQualified, 1);
    vfmigNodeDevProbePaths probePaths;
    vfmigVFIOPaths vfioPaths;
    vfmigQualifyDowntime parts;

    if (!md->pci || !res->ran ||
        (res->failed && res->src.precopyBytes + res->src.stopCopyBytes == 0))
        return NULL;

    vfmigMigratePathsFromEnv(&vfioPaths, &probePaths);
    q->at = g_get_real_time() / G_USEC_PER_SEC;
    q->verdict = (vfmigNodeDevVerdict) res->verdict;
    q->targetUs = res->targetUs;
    q->peer = g_strdup(res->peer);
    if (vfmigQualifyDowntimeParts(&res->src, &res->dst, &parts)) {
        q->measured = true;
        q->downtimeUs = parts.totalUs;
        q->stopLatencyUs = parts.stopUs;
        q->drainUs = parts.drainUs;
        q->loadCommitUs = res->dst.loadCommitUs;
        q->resumeLatencyUs = parts.resumeUs;
    }

    if (vfmigNodeDevQualifiedWrite(probePaths.cacheDir, md->name,
                                   md->pci->driver, q) < 0) {
        fprintf(stderr, _("warning: %1$s; the qualification is not recorded\n"),
                vfmigGetLastErrorMessage());
        vfmigResetLastError();
        return NULL;
    }
    return vfmigNodeDevQualifiedPath(probePaths.cacheDir, md->name);
}


static void
vfmigQualifyPrintText(const vfmigQualifyResult *res,
                      const vfmigMigrateHints *hints,
                      const char *record)
{
    const vfmigEngineReport *src = &res->src;
    const vfmigEngineReport *dst = &res->dst;
    vfmigQualifyDowntime parts;
    size_t i;

    vfmigMigrateField(stdout, _("Device"), res->device);
    if (res->peer)
        vfmigMigrateField(stdout, _("Destination"), res->peer);
    else
        vfmigMigrateFieldTake(stdout, _("Destination"),
                              g_strdup_printf(_("%1$s (round trip onto itself)"),
                                              res->device));
    if (res->haveFlags) {
        g_autofree char *flags = vfmigDeviceFlagsString(res->flags);

        vfmigMigrateField(stdout, _("Migration"), *flags ? flags : _("none"));
    }
    vfmigMigrateFieldTake(stdout, _("Target downtime"), vfmigMigrateUs(res->targetUs));

    if (res->ran) {
        vfmigMigrateField(stdout, _("Mode"), vfmigStatePrecopyModeToString(res->mode));
        vfmigMigrateTextHints(stdout, hints);
        vfmigMigrateTextSource(stdout, src);
        vfmigMigrateFieldTake(stdout, _("Load time"), vfmigMigrateUs(dst->loadCommitUs));
        vfmigMigrateFieldTake(stdout, _("Resume latency"), vfmigMigrateUs(dst->resumeLatencyUs));
        if (vfmigQualifyDowntimeParts(src, dst, &parts)) {
            g_autofree char *stop = vfmigMigrateUs(parts.stopUs);
            g_autofree char *drain = vfmigMigrateUs(parts.drainUs);
            g_autofree char *load = vfmigMigrateUs(parts.loadUs);
            g_autofree char *resume = vfmigMigrateUs(parts.resumeUs);

            vfmigMigrateFieldTake(stdout, _("Downtime"), vfmigMigrateUs(parts.totalUs));
            vfmigMigrateFieldTake(stdout, _("Downtime parts"),
                                  g_strdup_printf(_("stop %1$s, stop-copy drain %2$s, load %3$s, resume %4$s"),
                                                  stop, drain, load, resume));
        } else {
            vfmigMigrateField(stdout, _("Downtime"), _("not measured (the run failed)"));
        }
        if (src->haveDecision) {
            g_autofree char *residue = vfmigMigrateUs(src->decision.device_residue_us);
            g_autofree char *latency = vfmigMigrateUs(src->decision.latency_us);
            g_autofree char *predicted = vfmigMigrateUs(src->decision.predicted_us);

            vfmigMigrateFieldTake(stdout, _("Predicted downtime"),
                                  g_strdup_printf(_("%1$s (residue %2$s, latencies %3$s)"),
                                                  predicted, residue, latency));
        }
        vfmigMigrateField(stdout, _("Source digest"),
                          *src->digest ? src->digest : _("none"));
        vfmigMigrateField(stdout, _("Destination digest"),
                          *dst->digest ? dst->digest : _("none"));
        vfmigMigrateTextEvents(stdout, src);
    }

    if (record)
        vfmigMigrateField(stdout, _("Recorded in"), record);
    vfmigMigrateField(stdout, _("Verdict"), vfmigQualifyVerdictToString(res->verdict));
    for (i = 0; i < res->findings->len; i++) {
        const vfmigQualifyFinding *f = g_ptr_array_index(res->findings, i);

        printf("  %-5s %-12s %s\n", vfmigQualifySeverityToString(f->severity),
               f->id, f->message);
    }
    fflush(stdout);
}


static void
vfmigQualifyPrintJSON(const vfmigQualifyResult *res,
                      const vfmigMigrateHints *hints,
                      const char *record)
{
    g_autoptr(vfmigJSONWriter) w = vfmigJSONWriterNew();
    vfmigQualifyDowntime parts;
    size_t i;

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "device", res->device);
    vfmigJSONString(w, "peer", res->peer);
    vfmigJSONUInt(w, "target-us", res->targetUs);
    vfmigJSONUInt(w, "deadline-us", res->deadlineUs);
    if (res->haveFlags) {
        g_autofree char *flags = vfmigDeviceFlagsString(res->flags);
        g_auto(GStrv) words = g_strsplit(flags, ",", -1);

        vfmigJSONBeginArray(w, "migration");
        for (i = 0; words[i]; i++) {
            if (*words[i])
                vfmigJSONString(w, NULL, words[i]);
        }
        vfmigJSONEndArray(w);
    } else {
        vfmigJSONString(w, "migration", NULL);
    }
    vfmigJSONBool(w, "destination-multi-load", res->dstMultiLoad);
    vfmigJSONString(w, "mode", res->ran ? vfmigStatePrecopyModeToString(res->mode) : NULL);
    vfmigJSONBool(w, "ran", res->ran);
    vfmigJSONString(w, "error", res->error);
    if (res->ran)
        vfmigMigrateJSONHints(w, hints);
    vfmigJSONString(w, "record", record);
    if (res->ran) {
        vfmigMigrateJSONReport(w, "source", &res->src);
        vfmigMigrateJSONReport(w, "destination", &res->dst);
        if (vfmigQualifyDowntimeParts(&res->src, &res->dst, &parts)) {
            vfmigJSONBeginObject(w, "downtime");
            vfmigJSONUInt(w, "measured-us", parts.totalUs);
            vfmigJSONUInt(w, "stop-us", parts.stopUs);
            vfmigJSONUInt(w, "drain-us", parts.drainUs);
            vfmigJSONUInt(w, "load-us", parts.loadUs);
            vfmigJSONUInt(w, "resume-us", parts.resumeUs);
            vfmigJSONEndObject(w);
        } else {
            vfmigJSONString(w, "downtime", NULL);
        }
        if (res->src.haveDecision)
            vfmigMigrateJSONNum(w, "predicted-downtime-us", res->src.decision.predicted_us);
        else
            vfmigJSONString(w, "predicted-downtime-us", NULL);
        vfmigJSONUInt(w, "stop-latency-us", res->src.stopLatencyUs);
        vfmigJSONUInt(w, "resume-latency-us", res->dst.resumeLatencyUs);
        vfmigJSONUInt(w, "load-us", res->dst.loadCommitUs);
    }
    vfmigJSONString(w, "verdict", vfmigQualifyVerdictToString(res->verdict));
    vfmigJSONBeginArray(w, "findings");
    for (i = 0; i < res->findings->len; i++) {
        const vfmigQualifyFinding *f = g_ptr_array_index(res->findings, i);

        vfmigJSONBeginObject(w, NULL);
        vfmigJSONString(w, "severity", vfmigQualifySeverityToString(f->severity));
        vfmigJSONString(w, "id", f->id);
        vfmigJSONString(w, "message", f->message);
        vfmigJSONEndObject(w);
    }
    vfmigJSONEndArray(w);
    vfmigJSONEndObject(w);
    vfmigMigrateJSONPrint(w, stdout);
}


static bool
cmdDeviceQualify(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *name = vfmigCmdGetString(cmd, "device");
    const char *peerName = vfmigCmdGetString(cmd, "peer");
    g_autofree char *nameNorm = NULL;
    g_autofree char *peerNorm = NULL;
    bool json = vfmigCmdGetBool(cmd, "json");
    bool noRecord = vfmigCmdGetBool(cmd, "no-record");
    uint64_t targetMs;
    uint64_t timeoutS;
    g_autoptr(vfmigMigrateDev) md = NULL;
    g_autoptr(vfmigMigrateDev) peer = NULL;
    g_autoptr(vfmigQualifyResult) res = NULL;
    g_autofree char *record = NULL;
    vfmigMigrateHints hints;
    vfmigMigrateProgress progress;
    vfmigQualifyParams params = { 0 };
    const vfmigQualifyFinding *why = NULL;
    size_t i;
    int rc;

    if (vfmigMigrateOptNumber(ctl, cmd, "target-ms",
                              VFMIG_MIGRATE_TARGET_MS_MAX, &targetMs) < 0 ||
        vfmigMigrateOptNumber(ctl, cmd, "timeout",
                              VFMIG_MIGRATE_TIMEOUT_MAX, &timeoutS) < 0)
        return false;
    if (vfmigVFIOParseName(name, &nameNorm, NULL) < 0 ||
        (peerName && vfmigVFIOParseName(peerName, &peerNorm, NULL) < 0))
        return vfmigShellUsageErrorLast(ctl);
    if (peerNorm && g_str_equal(peerNorm, nameNorm)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("the peer '%1$s' is the device itself: leave --peer out for a round trip onto itself"),
                         peerName);
        return vfmigShellUsageErrorLast(ctl);
    }

    vfmigMigrateSetupSignals();

    /* both idle before either is opened */
    if (!(md = vfmigMigrateDevProbe(name)))
        return false;
    if (peerName) {
        if (!(peer = vfmigMigrateDevProbe(peerName)))
            return false;
        if (g_str_equal(peer->name, md->name)) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("the peer '%1$s' is the device itself: leave --peer out for a round trip onto itself"),
                             peer->name);
            return false;
        }
    }
    if (vfmigMigrateDevOpenVFIO(md) < 0 ||
        (peer && vfmigMigrateDevOpenVFIO(peer) < 0))
        return false;

    params.dev = md->dev;
    params.id = &md->id;
    if (peer) {
        params.peer = peer->dev;
        params.peerId = &peer->id;
    }
    params.targetUs = targetMs ? targetMs * 1000 : VFMIG_QUALIFY_DEFAULT_TARGET_US;
    params.deadlineUs = VFMIG_MIGRATE_DEADLINE_US;
    if (timeoutS) {
        params.timeoutMs = timeoutS * 1000;
        params.deadlineUs = MIN(params.deadlineUs, timeoutS * 1000 * 1000 / 2);
    }
    params.stopLatencyUs = md->stopLatencyUs;
    params.resumeLatencyUs = peer ? peer->resumeLatencyUs : md->resumeLatencyUs;
    params.cancel = &vfmigMigrateCancel;

    vfmigMigrateProgressInit(&progress);
    params.progress = vfmigMigrateProgressCb;
    params.progressOpaque = &progress;

    rc = vfmigQualifyDevice(&params, &res);
    vfmigMigrateProgressEnd(&progress);
    if (rc < 0)
        return false;

    if (!noRecord)
        record = vfmigQualifyRecord(md, res);

    hints.stop = md;
    hints.resume = peer ? peer : md;
    if (json)
        vfmigQualifyPrintJSON(res, &hints, record);
    else
        vfmigQualifyPrintText(res, &hints, record);

    if (res->verdict != VFMIG_QUALIFY_NOT_QUALIFIED)
        return true;

    for (i = 0; i < res->findings->len && !why; i++) {
        const vfmigQualifyFinding *f = g_ptr_array_index(res->findings, i);

        if (f->severity == VFMIG_QUALIFY_FAIL)
            why = f;
    }
    vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                     _("device '%1$s' is not qualified for migration: %2$s"),
                     md->name, why ? why->message : _("see the findings"));
    return false;
}


/* What device-save and device-restore reports begin with. */
static vfmigJSONWriter *
vfmigMigrateJSONFileHead(const char *device,
                         const char *file,
                         const char *state,
                         const char *error,
                         const vfmigEngineReport *r)
{
    vfmigJSONWriter *w = vfmigJSONWriterNew();

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "device", device);
    vfmigJSONString(w, "file", file);
    vfmigJSONString(w, "mode", vfmigStatePrecopyModeToString(r->mode));
    vfmigJSONString(w, "state", state);
    vfmigJSONString(w, "error", error);
    return w;
}


static void
vfmigMigrateTextFileHead(FILE *out,
                         const char *device,
                         const char *file,
                         const vfmigEngineReport *r)
{
    vfmigMigrateField(out, _("Device"), device);
    vfmigMigrateField(out, _("File"), file);
    vfmigMigrateField(out, _("Mode"), vfmigStatePrecopyModeToString(r->mode));
}


/* ---- device-save ---- */

static void
vfmigSavePrint(FILE *out,
               bool json,
               const vfmigMigrateDev *md,
               const char *file,
               const char *state,
               const char *error,
               const vfmigEngineReport *r)
{
    const char *device = md->name;
    vfmigMigrateHints hints = { md, md };
    g_autofree char *rate = NULL;

    if (json) {
        g_autoptr(vfmigJSONWriter) w = vfmigMigrateJSONFileHead(device, file,
                                                                state, error, r);

        vfmigMigrateJSONHints(w, &hints);
        vfmigMigrateJSONReport(w, "report", r);
        vfmigJSONEndObject(w);
        vfmigMigrateJSONPrint(w, out);
        return;
    }

    vfmigMigrateTextFileHead(out, device, file, r);
    vfmigMigrateTextHints(out, &hints);
    vfmigMigrateTextSource(out, r);
    if (r->drainedUs > r->stopStartUs)
        vfmigMigrateFieldTake(out, _("Stop-copy time"),
                              vfmigMigrateUs(r->drainedUs - r->stopStartUs));
    vfmigMigrateFieldTake(out, _("Total time"), vfmigMigrateUs(vfmigMigrateElapsed(r)));
    rate = vfmigQualifyFormatBytes(r->rate);
    vfmigMigrateFieldTake(out, _("Rate"), g_strdup_printf(_("%1$s/s"), rate));
    vfmigMigrateField(out, _("Digest"), *r->digest ? r->digest : _("none"));
    vfmigMigrateField(out, _("State"), state ? state : _("unknown"));
    vfmigMigrateTextEvents(out, r);
    fflush(out);
}


static bool
cmdDeviceSave(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *name = vfmigCmdGetString(cmd, "device");
    const char *file = vfmigCmdGetString(cmd, "file");
    const char *precopyStr = vfmigCmdGetString(cmd, "precopy");
    bool json = vfmigCmdGetBool(cmd, "json");
    bool toStdout = g_str_equal(file, "-");
    uint64_t targetMs;
    uint64_t timeoutS;
    int precopy = VFMIG_ENGINE_PRECOPY_AUTO;
    g_autoptr(vfmigMigrateDev) md = NULL;
    vfmigMigrateProgress progress;
    vfmigEngineReport report;
    vfmigEngineConfig cfg;
    FILE *out = toStdout ? stderr : stdout;
    bool created = false;
    int fd = -1;
    int rc;

    if (vfmigMigrateOptNumber(ctl, cmd, "target-ms",
                              VFMIG_MIGRATE_TARGET_MS_MAX, &targetMs) < 0 ||
        vfmigMigrateOptNumber(ctl, cmd, "timeout",
                              VFMIG_MIGRATE_TIMEOUT_MAX, &timeoutS) < 0)
        return false;

    if (precopyStr &&
        (precopy = vfmigEnginePrecopyFromString(precopyStr)) < 0) {
        vfmigMigrateUsageError(ctl,
                               _("command '%1$s': option --precopy wants auto, on or off, not '%2$s'"),
                               cmd->def->name, precopyStr);
        return false;
    }
    if (vfmigVFIOParseName(name, NULL, NULL) < 0)
        return vfmigShellUsageErrorLast(ctl);

    vfmigMigrateSetupSignals();

    if (toStdout) {
        if (isatty(STDOUT_FILENO) == 1) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                             _("refusing to write a device state to a terminal: redirect the standard output, or give a file name"));
            return false;
        }
        fd = STDOUT_FILENO;
    } else {
        if ((fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
            int err = errno;

            if (err == EEXIST)
                vfmigReportError(VFMIG_ERR_INVALID_ARG,
                                 _("'%1$s' exists: device-save never overwrites a file"),
                                 file);
            else
                vfmigReportSystemError(err, _("cannot create '%1$s'"), file);
            return false;
        }
        created = true;
    }

    if (!(md = vfmigMigrateDevOpen(name)))
        goto error;

    vfmigEngineConfigInit(&cfg);
    cfg.precopy = precopy;
    cfg.policy.target_us = targetMs * 1000;     /* 0: the engine's default */
    /* a checkpoint always completes: at worst with a longer stop */
    cfg.policy.on_failure = VFMIG_DOWNTIME_ON_FAILURE_SWITCH;
    if (timeoutS) {
        cfg.timeoutMs = timeoutS * 1000;
        cfg.policy.deadline_us = timeoutS * 1000 * 1000 / 2;
    }
    cfg.stopLatencyUs = md->stopLatencyUs;
    cfg.resumeLatencyUs = md->resumeLatencyUs;
    cfg.cancel = &vfmigMigrateCancel;
    cfg.digest = true;
    vfmigMigrateProgressInit(&progress);
    cfg.progress = vfmigMigrateProgressCb;
    cfg.progressOpaque = &progress;

    /* the file is for a device of the same kind: its own multi-load */
    rc = vfmigEngineSave(md->dev, &md->id, md->id.multiLoad, fd, &cfg, 0,
                         &report);
    vfmigMigrateProgressEnd(&progress);

    if (rc == 0 && !toStdout && fsync(fd) < 0) {
        vfmigReportSystemError(errno, _("cannot write '%1$s' to disk"), file);
        rc = -1;
    }
    if (rc == 0 && !toStdout) {
        int fdc = fd;

        fd = -1;
        if (close(fdc) < 0) {
            vfmigReportSystemError(errno, _("cannot write '%1$s'"), file);
            rc = -1;
        }
    }

    if (rc < 0) {
        g_autoptr(vfmigError) err = vfmigSaveLastError();

        if (json)
            vfmigSavePrint(out, true, md, file,
                           vfmigMigrateDevStateName(md), err->message, &report);
        vfmigRestoreLastError(&err);
        goto error;
    }

    vfmigSavePrint(out, json, md, toStdout ? _("standard output") : file,
                   vfmigMigrateDevStateName(md), NULL, &report);
    return true;

 error:
    if (created) {
        g_autoptr(vfmigError) err = vfmigSaveLastError();

        if (fd >= 0)
            close(fd);
        /* no half-written state file stays behind */
        unlink(file);
        vfmigRestoreLastError(&err);
    }
    return false;
}


/* ---- device-restore ---- */

static void
vfmigRestorePrint(FILE *out,
                  bool json,
                  const char *device,
                  const char *file,
                  const char *state,
                  const char *error,
                  const vfmigEngineReport *r)
{
    if (json) {
        g_autoptr(vfmigJSONWriter) w = vfmigMigrateJSONFileHead(device, file,
                                                                state, error, r);

        vfmigJSONBool(w, "touched", r->failed ? r->failedPhase != VFMIG_ENGINE_PHASE_SETUP : true);
        vfmigMigrateJSONReport(w, "report", r);
        vfmigJSONEndObject(w);
        vfmigMigrateJSONPrint(w, out);
        return;
    }

    vfmigMigrateTextFileHead(out, device, file, r);
    vfmigMigrateFieldTake(out, _("Pre-copy bytes"), vfmigMigrateBytes(r->precopyBytes));
    vfmigMigrateFieldTake(out, _("Stop-copy bytes"), vfmigMigrateBytes(r->stopCopyBytes));
    vfmigMigrateFieldTake(out, _("Stream bytes"), vfmigMigrateBytes(r->streamBytes));
    vfmigMigrateFieldNum(out, _("Pre-copy images"), r->precopyImages);
    vfmigMigrateFieldTake(out, _("Load time"), vfmigMigrateUs(r->loadCommitUs));
    vfmigMigrateFieldTake(out, _("Resume latency"), vfmigMigrateUs(r->resumeLatencyUs));
    vfmigMigrateFieldTake(out, _("Total time"), vfmigMigrateUs(vfmigMigrateElapsed(r)));
    vfmigMigrateField(out, _("Digest"), *r->digest ? r->digest : _("none"));
    vfmigMigrateField(out, _("State"), state ? state : _("unknown"));
    fflush(out);
}


static bool
cmdDeviceRestore(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *name = vfmigCmdGetString(cmd, "device");
    const char *file = vfmigCmdGetString(cmd, "file");
    bool json = vfmigCmdGetBool(cmd, "json");
    bool stopped = vfmigCmdGetBool(cmd, "stopped");
    bool fromStdin = g_str_equal(file, "-");
    g_autoptr(vfmigMigrateDev) md = NULL;
    vfmigMigrateProgress progress;
    vfmigEngineReport report;
    vfmigEngineConfig cfg;
    const char *fileName = fromStdin ? _("standard input") : file;
    const char *state;
    int fd = -1;
    int rc;

    if (vfmigVFIOParseName(name, NULL, NULL) < 0)
        return vfmigShellUsageErrorLast(ctl);

    vfmigMigrateSetupSignals();

    if (fromStdin) {
        if (isatty(STDIN_FILENO) == 1) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                             _("refusing to read a device state from a terminal: redirect the standard input, or give a file name"));
            return false;
        }
        fd = STDIN_FILENO;
    } else if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
        vfmigReportSystemError(errno, _("cannot open '%1$s'"), file);
        return false;
    }

    if (!(md = vfmigMigrateDevOpen(name)))
        goto error;

    vfmigEngineConfigInit(&cfg);
    cfg.cancel = &vfmigMigrateCancel;
    cfg.digest = true;
    vfmigMigrateProgressInit(&progress);
    cfg.progress = vfmigMigrateProgressCb;
    cfg.progressOpaque = &progress;

    rc = vfmigEngineLoad(md->dev, &md->id, fd, &cfg,
                         stopped ? VFMIG_ENGINE_LEAVE_STOPPED : 0, &report);
    vfmigMigrateProgressEnd(&progress);
    state = vfmigMigrateDevStateName(md);

    if (rc < 0) {
        g_autoptr(vfmigError) err = vfmigSaveLastError();

        if (json)
            vfmigRestorePrint(stdout, true, md->name, fileName, state,
                              err->message, &report);
        if (report.failedPhase == VFMIG_ENGINE_PHASE_SETUP)
            fprintf(stderr, _("note: nothing was loaded: device '%1$s' was not touched and is %2$s with its own state\n"),
                    md->name, state ? state : _("in an unknown state"));
        else
            fprintf(stderr, _("note: device '%1$s' was reset after a partial load: its previous state is gone; it is %2$s\n"),
                    md->name, state ? state : _("in an unknown state"));
        vfmigRestoreLastError(&err);
        goto error;
    }

    vfmigRestorePrint(stdout, json, md->name, fileName, state, NULL, &report);
    if (!fromStdin)
        close(fd);
    return true;

 error:
    if (!fromStdin && fd >= 0)
        close(fd);
    return false;
}


/* ---- the table ---- */

static const vfmigCmdOptDef optsDeviceQualify[] = {
    { "device", VFMIG_OPT_ARG, true,
      N_("PCI address (DDDD:BB:DD.F) or mdev UUID of an idle device bound to a VFIO variant driver") },
    { "peer", VFMIG_OPT_STRING, false,
      N_("migrate onto this other idle device instead of onto the device itself (its state is overwritten)") },
    { "target-ms", VFMIG_OPT_STRING, false,
      N_("downtime target in milliseconds (default 300, QEMU's default downtime-limit)") },
    { "timeout", VFMIG_OPT_STRING, false,
      N_("give up after this many seconds (default: no limit; pre-copy stops after 10 s or half of this)") },
    { "json", VFMIG_OPT_BOOL, false, N_("print JSON") },
    { "no-record", VFMIG_OPT_BOOL, false,
      N_("do not keep the measured figures in the device's qualification record") },
    { NULL, 0, false, NULL }
};

static const vfmigCmdOptDef optsDeviceSave[] = {
    { "device", VFMIG_OPT_ARG, true,
      N_("PCI address or mdev UUID of an idle device bound to a VFIO variant driver") },
    { "file", VFMIG_OPT_ARG, true,
      N_("the state file to create (never overwritten); '-' for the standard output") },
    { "precopy", VFMIG_OPT_STRING, false,
      N_("auto (the default), on or off: stream while the device runs") },
    { "target-ms", VFMIG_OPT_STRING, false,
      N_("downtime target in milliseconds that ends pre-copy (default 300)") },
    { "timeout", VFMIG_OPT_STRING, false,
      N_("give up after this many seconds (default: no limit)") },
    { "json", VFMIG_OPT_BOOL, false, N_("print JSON") },
    { NULL, 0, false, NULL }
};

static const vfmigCmdOptDef optsDeviceRestore[] = {
    { "device", VFMIG_OPT_ARG, true,
      N_("PCI address or mdev UUID of an idle device bound to a VFIO variant driver") },
    { "file", VFMIG_OPT_ARG, true,
      N_("the state file, as device-save wrote it; '-' for the standard input") },
    { "stopped", VFMIG_OPT_BOOL, false,
      N_("leave the device in STOP after the load instead of starting it") },
    { "json", VFMIG_OPT_BOOL, false, N_("print JSON") },
    { NULL, 0, false, NULL }
};

const vfmigCmdDef vfmigMigrateCmds[] = {
    { "device-qualify", cmdDeviceQualify, optsDeviceQualify,
      N_("qualify a device for live migration"),
      N_("Moves the state of an idle device the way a live migration would, "
         "without a VM: onto itself through a temporary file, or onto a "
         "peer device (which then runs with it, while the device runs again "
         "with its own), with pre-copy where both allow it and the downtime "
         "policy deciding when to stop.  Prints the sizes of each phase, "
         "the pre-copy rounds and whether pre-copy converged at the device's "
         "current dirty rate, the stop and resume latencies, the measured "
         "downtime and its parts, the predicted one, the state digests where "
         "the driver offers them, and a verdict with every finding.  Exit "
         "status 0 when the device is qualified (with or without warnings), "
         "1 when it is not or the run failed.  A device that QEMU or anyone "
         "else holds is refused, not touched.  A run that moved state is "
         "recorded beside the node-device cache (<qualified/> in "
         "nodedev-dumpxml); device-save and later qualifications take their "
         "latency hints from that record.") },
    { "device-save", cmdDeviceSave, optsDeviceSave,
      N_("save a device's state into a file"),
      N_("Saves the state of an idle device into a new file, in vfmig's "
         "state file format (a header with the device's identity, chunks "
         "with SHA-256 digests, an end record), with pre-copy where the "
         "device has it; the device then runs again with its state, as after "
         "a checkpoint.  The file can be restored onto a device of the same "
         "kind (driver, PCI ids, firmware, stream version).  A half-written "
         "file is removed.") },
    { "device-restore", cmdDeviceRestore, optsDeviceRestore,
      N_("load a device's state from a file"),
      N_("Loads a state file written by device-save into an idle device and "
         "starts it.  A file from a device of another kind, or one that "
         "holds several images for a device that loads only one, is refused "
         "before anything moves, and the device keeps running with its own "
         "state.  A corrupt or truncated file is found out before the device "
         "takes the state: the device is then reset (its previous state is "
         "gone) and runs again.") },
    { NULL, NULL, NULL, NULL, NULL }
};
