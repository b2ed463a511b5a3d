/*
 * vfmigdaemon.c: virt-vfmigd's work, as one library call
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigdaemon.h"

#include <inttypes.h>
#include <stdarg.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vfmigcontroller.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigguard.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmigsteer.h"

/* How long an ended migration waits for libvirt's completion event. */
#define VFMIG_DAEMON_COMPLETION_WAIT_US (10 * G_USEC_PER_SEC)
/* How long a job the controller cancelled is kept from being steered
 * again while libvirt still runs it (see vfmigDaemonReap). */
#define VFMIG_DAEMON_CANCEL_WAIT_US (60 * G_USEC_PER_SEC)
/* How often a lost connection is tried again. */
#define VFMIG_DAEMON_RECONNECT_US (2 * G_USEC_PER_SEC)

typedef struct _vfmigDaemonSession vfmigDaemonSession;
struct _vfmigDaemonSession {
    vfmigSteer *steer;
    uint64_t heldMs;                /* told to the guardian; 0: nothing */
    uint64_t heldFallbackMs;
    unsigned int overwrites;
    bool ended;
    gint64 endedAt;
    bool completed;                 /* the completion event came */
    vfmigSteerCompleted stats;
    bool reported;                  /* its end is in the log */
    bool jobGone;                   /* seen without a migration job */
};

typedef struct _vfmigDaemon vfmigDaemon;
struct _vfmigDaemon {
    const vfmigDaemonConfig *config;
    virConnectPtr conn;
    int completedCallback;
    gint64 nextConnect;
    vfmigGuard *guard;
    bool guardWarned;
    GHashTable *sessions;           /* uuid -> vfmigDaemonSession */
    GHashTable *ignored;            /* uuid -> NULL: no policy, this job */
    GHashTable *busy;               /* uuid -> NULL: steered by another
                                     * process (its lock), this job */
    GArray *overhead;               /* int64_t samples, us, oldest first */
    GArray *overheadAt;             /* int64_t: when each was taken, s */
};


static void G_GNUC_PRINTF(3, 4)
vfmigDaemonReport(vfmigDaemon *d,
                  vfmigDaemonReportLevel level,
                  const char *fmt,
                  ...)
{
    g_autofree char *line = NULL;
    va_list ap;

    va_start(ap, fmt);
    line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    VFMIG_DEBUG("%s", line);
    if (d->config->report)
        d->config->report(d->config->opaque, level, line);
}


static void
vfmigDaemonSessionFree(vfmigDaemonSession *s)
{
    vfmigSteerFree(s->steer);
    g_free(s);
}


/* ---- learned overhead ---- */

/* One comma-separated list of numbers of the state file's [overhead]
 * group, each within [@min, @max]; NULL when the key is not there. */
static GArray *
vfmigDaemonLoadList(GKeyFile *kf,
                    const char *stateFile,
                    const char *key,
                    gint64 min,
                    gint64 max,
                    const char *what)
{
    g_autoptr(GArray) arr = NULL;
    g_autofree char *list = NULL;
    g_auto(GStrv) words = NULL;
    size_t i;

    if (!(list = g_key_file_get_string(kf, "overhead", key, NULL)))
        return g_array_new(FALSE, FALSE, sizeof(int64_t));
    arr = g_array_new(FALSE, FALSE, sizeof(int64_t));
    words = g_strsplit(list, ",", 0);
    for (i = 0; words[i]; i++) {
        gint64 v;

        if (!*g_strstrip(words[i]))
            continue;
        if (!g_ascii_string_to_signed(words[i], 10, min, max, &v, NULL)) {
            g_autofree char *quoted = g_strescape(words[i], NULL);

            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("daemon state file '%1$s': overhead sample '%2$s' is not %3$s"),
                             stateFile, quoted, what);
            return NULL;
        }
        g_array_append_val(arr, v);
    }
    return g_steal_pointer(&arr);
}


int
vfmigDaemonLoadOverhead(const char *stateFile,
                        int64_t nowS,
                        GArray **samples,
                        GArray **dates,
                        unsigned int *expired)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) gerr = NULL;
    g_autoptr(GArray) us = NULL;
    g_autoptr(GArray) at = NULL;
    g_autofree char *data = NULL;
    size_t len;
    guint i;
    int rc;

    *samples = g_array_new(FALSE, FALSE, sizeof(int64_t));
    if (dates)
        *dates = g_array_new(FALSE, FALSE, sizeof(int64_t));
    if (expired)
        *expired = 0;
    if ((rc = vfmigFileRead(_("daemon state file"), stateFile,
                            VFMIG_DAEMON_STATE_MAX, VFMIG_FILE_OPTIONAL,
                            &data, &len)) <= 0)
        return rc;
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("daemon state file '%1$s' is corrupt: %2$s"),
                         stateFile, gerr->message);
        return -1;
    }
    if (!(us = vfmigDaemonLoadList(kf, stateFile, "samples-us",
                                   -3600LL * G_USEC_PER_SEC,
                                   3600LL * G_USEC_PER_SEC,
                                   _("a number of microseconds"))) ||
        !(at = vfmigDaemonLoadList(kf, stateFile, "sampled-at", 0, G_MAXINT64,
                                   _("a time in seconds since 1970"))))
        return -1;

    for (i = 0; i < us->len; i++) {
        /* undated (written before samples aged): as if taken now, so
         * that they age from here */
        int64_t when = i < at->len ? g_array_index(at, int64_t, i) : nowS;

        /* a clock set back: the sample counts as taken now */
        if (when > nowS)
            when = nowS;
        if (nowS - when > VFMIG_DAEMON_OVERHEAD_MAX_AGE_S) {
            if (expired)
                (*expired)++;
            continue;
        }
        g_array_append_val(*samples, g_array_index(us, int64_t, i));
        if (dates)
            g_array_append_val(*dates, when);
    }
    /* keep the newest */
    if ((*samples)->len > VFMIG_CONTROLLER_OVERHEAD_SAMPLES) {
        guint drop = (*samples)->len - VFMIG_CONTROLLER_OVERHEAD_SAMPLES;

        g_array_remove_range(*samples, 0, drop);
        if (dates)
            g_array_remove_range(*dates, 0, drop);
    }
    return (*samples)->len > 0 ? 1 : 0;
}


static int
vfmigDaemonSaveOverhead(vfmigDaemon *d)
{
    g_autoptr(GString) str = g_string_new("# virt-vfmigd: libvirt's switchover overhead on this host,\n"
                                          "# learned from completed migrations (us), and when\n"
                                          "# (seconds since 1970); a sample counts for 24 hours\n"
                                          "[overhead]\nsamples-us=");
    g_autofree char *dir = NULL;
    guint i;

    if (!d->config->stateFile)
        return 0;
    for (i = 0; i < d->overhead->len; i++)
        g_string_append_printf(str, "%s%" PRId64, i ? "," : "",
                               g_array_index(d->overhead, int64_t, i));
    g_string_append(str, "\nsampled-at=");
    for (i = 0; i < d->overheadAt->len; i++)
        g_string_append_printf(str, "%s%" PRId64, i ? "," : "",
                               g_array_index(d->overheadAt, int64_t, i));
    g_string_append_c(str, '\n');
    dir = g_path_get_dirname(d->config->stateFile);
    if (vfmigFileMakeDir(_("daemon state directory"), dir) < 0 ||
        vfmigFileReplace(d->config->stateFile, str->str, str->len, 0644) < 0)
        return -1;
    return 0;
}


static int64_t
vfmigDaemonNowS(vfmigDaemon *d)
{
    if (d->config->nowS)
        return d->config->nowS(d->config->opaque);
    return g_get_real_time() / G_USEC_PER_SEC;
}


/* Samples past their age go (a host whose learned overhead cancels every
 * migration would otherwise learn nothing new, ever). */
static void
vfmigDaemonAgeOverhead(vfmigDaemon *d)
{
    int64_t now = vfmigDaemonNowS(d);
    guint n = 0;

    while (n < d->overheadAt->len &&
           now - g_array_index(d->overheadAt, int64_t, n) >
           VFMIG_DAEMON_OVERHEAD_MAX_AGE_S)
        n++;
    if (n == 0)
        return;
    g_array_remove_range(d->overhead, 0, n);
    g_array_remove_range(d->overheadAt, 0, n);
    vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                      _("%1$u learned overhead sample(s) older than 24 hours forgotten; %2$u left"),
                      n, d->overhead->len);
    if (vfmigDaemonSaveOverhead(d) < 0)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("cannot keep the learned overhead: %1$s"),
                          vfmigGetLastErrorMessage());
}


static uint64_t
vfmigDaemonOverheadUs(vfmigDaemon *d)
{
    if (d->overhead->len == 0)
        return vfmigDowntimeSettingsUs(&d->config->downtime,
                                       VFMIG_DOWNTIME_PARAM_OVERHEAD);
    return vfmigControllerOverhead((const int64_t *) (void *) d->overhead->data,
                                   d->overhead->len);
}


/* ---- the guardian ---- */

static void
vfmigDaemonGuardWarn(vfmigDaemon *d)
{
    if (d->guardWarned)
        return;
    d->guardWarned = true;
    vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                      _("the guardian is gone (%1$s): if this daemon is killed now, a migration it holds stays held until it is cancelled"),
                      vfmigGetLastErrorMessage());
}


/* Tells the guardian what the session holds now. */
static void
vfmigDaemonGuardUpdate(vfmigDaemon *d,
                       vfmigDaemonSession *s,
                       uint64_t limitMs)
{
    vfmigController *ctl = vfmigSteerController(s->steer);
    uint64_t fallback = vfmigControllerFallbackMs(ctl);
    const char *uuid = vfmigSteerDomainUUID(s->steer);
    size_t i;

    if (!d->guard)
        return;
    if (fallback == 0 || s->ended) {
        if (s->heldMs && vfmigGuardDrop(d->guard, uuid) < 0)
            vfmigDaemonGuardWarn(d);
        s->heldMs = 0;
        return;
    }
    if (limitMs == s->heldMs && fallback == s->heldFallbackMs)
        return;
    if (vfmigGuardHold(d->guard, uuid, limitMs, fallback) < 0)
        vfmigDaemonGuardWarn(d);
    /* a new entry: its VFs, whose hold the guardian ends too */
    for (i = 0; s->heldMs == 0 && i < vfmigSteerDeviceCount(s->steer); i++) {
        if (vfmigGuardHoldDevice(d->guard, uuid,
                                 vfmigSteerDeviceAddress(s->steer, i)) < 0)
            vfmigDaemonGuardWarn(d);
    }
    s->heldMs = limitMs;
    s->heldFallbackMs = fallback;
}


/* ---- migrations ---- */

/* Learns libvirt's overhead from one switch. */
static void
vfmigDaemonLearn(vfmigDaemon *d,
                 int64_t sample)
{
    int64_t at = vfmigDaemonNowS(d);

    g_array_append_val(d->overhead, sample);
    g_array_append_val(d->overheadAt, at);
    if (d->overhead->len > VFMIG_CONTROLLER_OVERHEAD_SAMPLES) {
        g_array_remove_index(d->overhead, 0);
        g_array_remove_index(d->overheadAt, 0);
    }
    if (vfmigDaemonSaveOverhead(d) < 0)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("cannot keep the learned overhead: %1$s"),
                          vfmigGetLastErrorMessage());
}


/* Why the policy cancelled the migration, as the steering loop judged. */
static void
vfmigDaemonReportAborted(vfmigDaemon *d,
                         const char *name,
                         uint64_t targetMs,
                         const vfmigSteerVerdict *v)
{
    const char *reason = vfmigDowntimeReasonToString(v->reason);

    switch (v->abort) {
    case VFMIG_STEER_ABORT_PAUSED:
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': migration cancelled: the guest was paused before its VFs' initial data was all sent, and QEMU switches over only once the destination acknowledged that data, which a stopped VF never sends; the guest stays on the source"),
                          name);
        return;
    case VFMIG_STEER_ABORT_PREFLIGHT:
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': migration cancelled by the pre-flight, before QEMU sent anything: the floor of %2$" PRIu64 " ms (the devices' stop and resume latencies and libvirt's overhead) misses the target of %3$" PRIu64 " ms and the policy says abort; the source keeps running"),
                          name, v->floorUs / 1000, targetMs);
        return;
    case VFMIG_STEER_ABORT_INITIAL_STUCK:
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': migration cancelled: a device's initial data stopped draining, so QEMU could not switch over even at best effort; the source keeps running"),
                          name);
        return;
    case VFMIG_STEER_ABORT_TARGET:
    case VFMIG_STEER_ABORT_NONE:
    case VFMIG_STEER_ABORT_LAST:
        break;
    }
    vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                      _("domain '%1$s': migration cancelled (%2$s): the target of %3$" PRIu64 " ms cannot be met and the policy says abort; the source keeps running"),
                      name, reason ? reason : "?", targetMs);
}


/* A migrated domain's downtime, as the steering loop judged it. */
static void
vfmigDaemonReportMigrated(vfmigDaemon *d,
                          vfmigDaemonSession *s,
                          const vfmigSteerVerdict *v)
{
    vfmigController *ctl = vfmigSteerController(s->steer);
    const char *name = vfmigSteerDomainName(s->steer);
    uint64_t targetMs = vfmigSteerTargetUs(s->steer) / 1000;
    uint64_t downtimeMs = v->downtimeUs / 1000;
    const char *met = v->end == VFMIG_STEER_END_MET ? _("met") : _("missed");

    switch (v->how) {
    case VFMIG_STEER_SWITCH_PAUSED:
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': migrated; the guest was paused during the migration (virsh suspend, or Nova's force-complete), so the controller released it at once: downtime %2$" PRIu64 " ms (libvirt, counted from the pause), target %3$" PRIu64 " ms: %4$s"),
                          name, downtimeMs, targetMs, met);
        return;
    case VFMIG_STEER_SWITCH_PREDICTED:
        if (v->hasOverheadSample)
            vfmigDaemonLearn(d, v->overheadSampleUs);
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': migrated; downtime %2$" PRIu64 " ms (libvirt), predicted %3$" PRIu64 " ms, target %4$" PRIu64 " ms: %5$s; limit overwritten %6$u time(s); overhead now %7$" PRIu64 " ms"),
                          name, downtimeMs, v->predictedUs / 1000, targetMs, met,
                          vfmigControllerOverwrites(ctl),
                          vfmigDaemonOverheadUs(d) / 1000);
        return;
    case VFMIG_STEER_SWITCH_UNPREDICTED:
    case VFMIG_STEER_SWITCH_NONE:
    case VFMIG_STEER_SWITCH_LAST:
        break;
    }
    vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                      _("domain '%1$s': migrated; downtime %2$" PRIu64 " ms (libvirt), target %3$" PRIu64 " ms: %4$s; QEMU switched before the controller released it"),
                      name, downtimeMs, targetMs, met);
}


/* Reports how the session's migration ended: the steering loop judges. */
static void
vfmigDaemonFinish(vfmigDaemon *d,
                  vfmigDaemonSession *s)
{
    const char *name = vfmigSteerDomainName(s->steer);
    uint64_t targetMs = vfmigSteerTargetUs(s->steer) / 1000;
    vfmigSteerVerdict v;

    switch (vfmigSteerLoopJudge(vfmigSteerGetLoop(s->steer),
                                s->completed ? &s->stats : NULL, 0, &v)) {
    case VFMIG_STEER_END_ABORTED:
        vfmigDaemonReportAborted(d, name, targetMs, &v);
        return;
    case VFMIG_STEER_END_FAILED:
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': migration ended without completing (it failed); the source keeps running"),
                          name);
        return;
    case VFMIG_STEER_END_CANCELLED:
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': migration ended without completing (it was cancelled); the source keeps running"),
                          name);
        return;
    case VFMIG_STEER_END_UNKNOWN:
    case VFMIG_STEER_END_UNMEASURED:
    case VFMIG_STEER_END_LAST:
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': migration ended without completing (libvirt reported no completed job); the source keeps running"),
                          name);
        return;
    case VFMIG_STEER_END_MET:
    case VFMIG_STEER_END_MISSED:
        vfmigDaemonReportMigrated(d, s, &v);
        return;
    }
}


/* The session's migration is over: the lock goes (another process may
 * steer the domain's next one), and libvirt's word on it is read now
 * when it is known (a failed or cancelled job at once, a completed one
 * while the domain is still here; else its event tells). */
static void
vfmigDaemonSessionEnded(vfmigDaemonSession *s)
{
    vfmigSteerCompleted stats;

    s->ended = true;
    s->endedAt = g_get_monotonic_time();
    vfmigSteerUnlock(s->steer);
    if (!s->completed && vfmigSteerCompletedJob(s->steer, &stats) > 0 &&
        (stats.end != VFMIG_STEER_JOB_COMPLETED || stats.hasDowntime) &&
        vfmigSteerCompletedIsMigrationOut(&stats)) {
        s->completed = true;
        s->stats = stats;
    }
}


static void
vfmigDaemonStepSession(vfmigDaemon *d,
                       vfmigDaemonSession *s)
{
    const char *name = vfmigSteerDomainName(s->steer);
    vfmigSteerLoopEvent ev;
    const vfmigControllerStatus *st = &ev.step;
    int rc;

    if (s->ended)
        return;
    rc = vfmigSteerStep(s->steer, &ev);
    if (ev.gone) {
        /* it left with its migration between two calls of the step */
        s->ended = true;
        s->endedAt = g_get_monotonic_time();
        vfmigSteerUnlock(s->steer);
        vfmigDaemonGuardUpdate(d, s, 0);
        return;
    }
    if (rc < 0) {
        unsigned int errors = vfmigSteerLoopErrorsInRow(vfmigSteerGetLoop(s->steer));

        if (errors == 1 || rc == -2)
            vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                              _("domain '%1$s': %2$s"), name,
                              vfmigGetLastErrorMessage());
        if (rc == -2) {
            vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                              _("domain '%1$s': giving up steering after %2$u errors; handing the downtime limit back"),
                              name, errors);
            s->ended = true;
            s->endedAt = g_get_monotonic_time();
            vfmigDaemonGuardUpdate(d, s, 0);
        }
        return;
    }
    if (!ev.stepped)
        return;

    if (st->preflight)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          st->phase == VFMIG_CONTROLLER_ABORTED ?
                          _("domain '%1$s': pre-flight: floor %2$" PRIu64 " ms (the devices' stop and resume latencies and libvirt's overhead) against a target of %3$" PRIu64 " ms: missed, cancelling") :
                          st->floorMisses ?
                          _("domain '%1$s': pre-flight: floor %2$" PRIu64 " ms (the devices' stop and resume latencies and libvirt's overhead) against a target of %3$" PRIu64 " ms: missed; best effort, the switch will overshoot") :
                          _("domain '%1$s': pre-flight: floor %2$" PRIu64 " ms (the devices' stop and resume latencies and libvirt's overhead) against a target of %3$" PRIu64 " ms: room left"),
                          name, st->floorUs / 1000,
                          vfmigSteerTargetUs(s->steer) / 1000);
    if (st->preflight) {
        g_autofree char *allDirty = vfmigControllerAllDirtyFormat(&st->allDirty,
                                                                  vfmigSteerTargetUs(s->steer));

        if (allDirty)
            vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                              _("domain '%1$s': pre-flight: %2$s"), name, allDirty);
    }
    if (st->paused && st->pausedUs == 0 && st->phase == VFMIG_CONTROLLER_RELEASED)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': the guest is paused (virsh suspend, or Nova's force-complete): its downtime runs already; released at once"),
                          name);
    if (st->overwritten)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': another client set the downtime limit to %2$" PRIu64 " ms; the controller keeps %3$" PRIu64 " ms"),
                          name, st->overwrittenMs, st->limitMs);
    vfmigDaemonReport(d, ev.phaseChanged ? VFMIG_DAEMON_REPORT_INFO :
                      VFMIG_DAEMON_REPORT_PROGRESS,
                      _("domain '%1$s': %2$s"), name, ev.line);
    if (rc == 0)
        vfmigDaemonSessionEnded(s);
    vfmigDaemonGuardUpdate(d, s, st->limitMs);
}


/* Starts steering @dom when it migrates out and has a policy. */
static void
vfmigDaemonConsider(vfmigDaemon *d,
                    virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    vfmigSteerOptions opts = { 0 };
    g_autoptr(vfmigSteer) steer = NULL;
    vfmigDaemonSession *s;
    vfmigControllerPhase phase = VFMIG_CONTROLLER_WAITING;
    int op;
    int rc;
    size_t i;

    if (virDomainGetUUIDString(dom, uuid) < 0)
        return;
    s = g_hash_table_lookup(d->sessions, uuid);
    if (s)
        phase = vfmigSteerLoopPhase(vfmigSteerGetLoop(s->steer));
    if (s && (!s->ended || phase == VFMIG_CONTROLLER_ABORTED)) {
        /* a job it cancelled: the same job while libvirt still runs it,
         * asked again to end (quietly: libvirt keeps the request until
         * Perform, an older one may not) */
        if (s->ended) {
            if (vfmigSteerJobOperation(dom) != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT)
                s->jobGone = true;
            else if (virDomainAbortJob(dom) < 0)
                VFMIG_DEBUG("%s: cancelling again: %s", virDomainGetName(dom),
                            virGetLastErrorMessage());
        }
        return;
    }
    if (s && phase != VFMIG_CONTROLLER_ENDED)
        return;
    if ((op = vfmigSteerJobOperation(dom)) == -2)
        return;     /* gone meanwhile */
    if (op != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT) {
        g_hash_table_remove(d->ignored, uuid);
        g_hash_table_remove(d->busy, uuid);
        return;
    }
    if (s) {
        /* a new job, while the last one's end (its controller saw it over)
         * still waits for libvirt's completion event: reported now, as it
         * stands, so that the new one is steered */
        vfmigDaemonFinish(d, s);
        g_hash_table_remove(d->sessions, uuid);
        s = NULL;
    }
    if (g_hash_table_contains(d->ignored, uuid))
        return;
    /* another process steers it: until that process is gone, which
     * virt-vfmig migrate has no guardian for */
    if (g_hash_table_contains(d->busy, uuid)) {
        if (vfmigSteerLockBusy(NULL, uuid) != 0)
            return;
        g_hash_table_remove(d->busy, uuid);
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': the process that steered its migration is gone; taking it over"),
                          virDomainGetName(dom));
    }

    vfmigDaemonAgeOverhead(d);
    opts.paths = &d->config->paths;
    /* the configured load time; the overhead learned, or configured */
    opts.downtime = d->config->downtime;
    opts.downtime.onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_DEFAULT;
    vfmigDowntimeSettingsSetUs(&opts.downtime, VFMIG_DOWNTIME_PARAM_OVERHEAD,
                               vfmigDaemonOverheadUs(d));
    if ((rc = vfmigSteerNew(dom, &opts, &steer)) <= 0) {
        if (rc < 0 && vfmigGetLastErrorCode() == VFMIG_ERR_DEVICE_BUSY) {
            vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                              _("domain '%1$s' migrates; not steered here: %2$s"),
                              virDomainGetName(dom), vfmigGetLastErrorMessage());
            g_hash_table_add(d->busy, g_strdup(uuid));
            return;
        }
        if (rc < 0)
            vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                              _("domain '%1$s' migrates, but is not steered: %2$s"),
                              virDomainGetName(dom), vfmigGetLastErrorMessage());
        else
            VFMIG_DEBUG("domain %s migrates and has no vfmig policy",
                        virDomainGetName(dom));
        g_hash_table_add(d->ignored, g_strdup(uuid));
        return;
    }

    for (i = 0; i < vfmigSteerWarnings(steer)->len; i++)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("domain '%1$s': %2$s"), virDomainGetName(dom),
                          (char *) vfmigSteerWarnings(steer)->pdata[i]);
    if (d->overhead->len)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': steering its migration: downtime target %2$" PRIu64 " ms, libvirt overhead %3$" PRIu64 " ms (learned from %4$u sample(s))"),
                          virDomainGetName(dom), vfmigSteerTargetUs(steer) / 1000,
                          vfmigDaemonOverheadUs(d) / 1000, d->overhead->len);
    else
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': steering its migration: downtime target %2$" PRIu64 " ms, libvirt overhead %3$" PRIu64 " ms (configured)"),
                          virDomainGetName(dom), vfmigSteerTargetUs(steer) / 1000,
                          vfmigDaemonOverheadUs(d) / 1000);
    if (d->overhead->len > 0 &&
        vfmigDaemonOverheadUs(d) + VFMIG_DOWNTIME_QEMU_LIMIT_MIN_MS * 1000 >
        vfmigSteerTargetUs(steer))
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("domain '%1$s': the overhead learned from %2$u earlier migration(s), %3$" PRIu64 " ms, alone leaves nothing of the target of %4$" PRIu64 " ms: the pre-flight will judge it missed. The samples count for 24 hours; to forget them now, remove '%5$s' and restart virt-vfmigd"),
                          virDomainGetName(dom), d->overhead->len,
                          vfmigDaemonOverheadUs(d) / 1000,
                          vfmigSteerTargetUs(steer) / 1000,
                          d->config->stateFile ? d->config->stateFile : "?");
    s = g_new0(vfmigDaemonSession, 1);
    s->steer = g_steal_pointer(&steer);
    g_hash_table_insert(d->sessions, g_strdup(uuid), s);
    vfmigDaemonStepSession(d, s);
}


static void
vfmigDaemonScan(vfmigDaemon *d)
{
    virDomainPtr *doms = NULL;
    int n;
    int i;

    if ((n = virConnectListAllDomains(d->conn, &doms,
                                      VIR_CONNECT_LIST_DOMAINS_ACTIVE)) < 0) {
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("cannot list the domains: %1$s"),
                          virGetLastErrorMessage());
        return;
    }
    for (i = 0; i < n; i++) {
        vfmigDaemonConsider(d, doms[i]);
        virDomainFree(doms[i]);
    }
    g_free(doms);
}


static void
vfmigDaemonReap(vfmigDaemon *d)
{
    GHashTableIter iter;
    gpointer value;
    gint64 now = g_get_monotonic_time();

    g_hash_table_iter_init(&iter, d->sessions);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vfmigDaemonSession *s = value;
        vfmigControllerPhase phase;

        if (!s->ended)
            continue;
        phase = vfmigSteerLoopPhase(vfmigSteerGetLoop(s->steer));
        if (!s->completed && phase == VFMIG_CONTROLLER_ENDED &&
            now - s->endedAt < VFMIG_DAEMON_COMPLETION_WAIT_US)
            continue;
        if (!s->reported)
            vfmigDaemonFinish(d, s);
        s->reported = true;
        /* libvirt ends a job cancelled in its Begin or Prepare phase only
         * when Perform starts (the destination's QEMU may take seconds to
         * start): until then the job is still there, and steering it
         * again would cancel it again, once per session (measured: 7 to
         * 13 sessions for one migration).  Kept until it is gone. */
        if (phase == VFMIG_CONTROLLER_ABORTED && !s->jobGone &&
            now - s->endedAt < VFMIG_DAEMON_CANCEL_WAIT_US)
            continue;
        g_hash_table_iter_remove(&iter);
    }
}


static int
vfmigDaemonOnJobCompleted(virConnectPtr conn G_GNUC_UNUSED,
                          virDomainPtr dom,
                          virTypedParameterPtr params,
                          int nparams,
                          void *opaque)
{
    vfmigDaemon *d = opaque;
    char uuid[VIR_UUID_STRING_BUFLEN];
    vfmigDaemonSession *s;
    vfmigSteerCompleted stats;

    if (virDomainGetUUIDString(dom, uuid) < 0)
        return 0;
    vfmigSteerParseCompleted(params, nparams, &stats);
    VFMIG_DEBUG("job of %s completed: operation %d, downtime %s%" PRIu64 " us",
                virDomainGetName(dom), stats.operation,
                stats.hasDowntime ? "" : "(none) ", stats.downtimeUs);
    if (!(s = g_hash_table_lookup(d->sessions, uuid)))
        return 0;
    if (!vfmigSteerCompletedIsMigrationOut(&stats))
        return 0;
    s->completed = true;
    s->stats = stats;
    return 0;
}


/* ---- connection ---- */

static void
vfmigDaemonLibvirtErrorSink(void *opaque G_GNUC_UNUSED,
                            virErrorPtr err G_GNUC_UNUSED)
{
}


static void
vfmigDaemonDisconnect(vfmigDaemon *d)
{
    if (!d->conn)
        return;
    if (d->completedCallback >= 0)
        virConnectDomainEventDeregisterAny(d->conn, d->completedCallback);
    d->completedCallback = -1;
    virConnectClose(d->conn);
    d->conn = NULL;
}


static int
vfmigDaemonConnect(vfmigDaemon *d)
{
    const char *uri = d->config->uri;

    if (!(d->conn = virConnectOpen(uri))) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("failed to connect to libvirt at '%1$s': %2$s"),
                         uri ? uri : _("(default)"), virGetLastErrorMessage());
        return -1;
    }
    if (virConnectSetKeepAlive(d->conn, 5, 3) < 0)
        VFMIG_DEBUG("no keepalive: %s", virGetLastErrorMessage());
    d->completedCallback =
        virConnectDomainEventRegisterAny(d->conn, NULL,
                                         VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                         VIR_DOMAIN_EVENT_CALLBACK(vfmigDaemonOnJobCompleted),
                                         d, NULL);
    if (d->completedCallback < 0) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot watch libvirt's job completions: %1$s"),
                         virGetLastErrorMessage());
        vfmigDaemonDisconnect(d);
        return -1;
    }
    return 0;
}


static void
vfmigDaemonTick(int timer G_GNUC_UNUSED,
                void *opaque)
{
    vfmigDaemon *d = opaque;
    GHashTableIter iter;
    gpointer value;

    if (d->conn && virConnectIsAlive(d->conn) != 1) {
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING, "%s",
                          _("the connection to libvirt is lost; reconnecting"));
        vfmigDaemonDisconnect(d);
        g_hash_table_remove_all(d->sessions);
        g_hash_table_remove_all(d->ignored);
        g_hash_table_remove_all(d->busy);
        d->nextConnect = 0;
    }
    if (!d->conn) {
        if (g_get_monotonic_time() < d->nextConnect)
            return;
        if (vfmigDaemonConnect(d) < 0) {
            d->nextConnect = g_get_monotonic_time() + VFMIG_DAEMON_RECONNECT_US;
            return;
        }
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO, "%s",
                          _("connected to libvirt again"));
    }

    g_hash_table_iter_init(&iter, d->sessions);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        vfmigDaemonStepSession(d, value);
    vfmigDaemonScan(d);
    vfmigDaemonReap(d);
}


/* On the way out: every limit still held goes back. */
static void
vfmigDaemonReleaseAll(vfmigDaemon *d)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, d->sessions);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vfmigDaemonSession *s = value;
        const char *name = vfmigSteerDomainName(s->steer);
        uint64_t fallback = vfmigControllerFallbackMs(vfmigSteerController(s->steer));

        if (s->ended || fallback == 0)
            continue;
        if (vfmigSteerRelease(s->steer) < 0) {
            vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                              _("domain '%1$s': cannot hand the downtime limit back: %2$s"),
                              name, vfmigGetLastErrorMessage());
            continue;
        }
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': stopping; downtime limit handed back (%2$" PRIu64 " ms)"),
                          name, fallback);
        s->ended = true;
        vfmigDaemonGuardUpdate(d, s, 0);
    }
}


int
vfmigDaemonRun(const vfmigDaemonConfig *config,
               volatile sig_atomic_t *quit)
{
    vfmigDaemon d = { .config = config, .completedCallback = -1 };
    unsigned int interval = config->intervalMs ? config->intervalMs :
                            VFMIG_DAEMON_INTERVAL_MS_DEFAULT;
    unsigned int expired = 0;
    int timer = -1;
    int ret = -1;
    int rc;

    if (config->stateFile &&
        (rc = vfmigDaemonLoadOverhead(config->stateFile, vfmigDaemonNowS(&d),
                                      &d.overhead, &d.overheadAt,
                                      &expired)) < 0)
        return -1;
    if (!d.overhead) {
        d.overhead = g_array_new(FALSE, FALSE, sizeof(int64_t));
        d.overheadAt = g_array_new(FALSE, FALSE, sizeof(int64_t));
    }
    /* every sample dated, the expired ones gone: as the file says next */
    if (config->stateFile && (d.overhead->len > 0 || expired > 0) &&
        vfmigDaemonSaveOverhead(&d) < 0)
        vfmigDaemonReport(&d, VFMIG_DAEMON_REPORT_WARNING,
                          _("cannot keep the learned overhead: %1$s"),
                          vfmigGetLastErrorMessage());

    /* before libvirt: the guardian forks from a process without threads */
    if (!config->noGuardian &&
        !(d.guard = vfmigGuardStart(config->uri,
                                    config->paths.probe.sysfsRoot)))
        goto cleanup;

    d.sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) vfmigDaemonSessionFree);
    d.ignored = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    d.busy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    virSetErrorFunc(NULL, vfmigDaemonLibvirtErrorSink);
    if (virEventRegisterDefaultImpl() < 0) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot set up libvirt's event loop: %1$s"),
                         virGetLastErrorMessage());
        goto cleanup;
    }
    if (vfmigDaemonConnect(&d) < 0)
        goto cleanup;
    if ((timer = virEventAddTimeout(interval, vfmigDaemonTick, &d, NULL)) < 0) {
        vfmigReportError(VFMIG_ERR_LIBVIRT, "%s",
                         _("cannot add the daemon's timer to libvirt's event loop"));
        goto cleanup;
    }
    vfmigDaemonReport(&d, VFMIG_DAEMON_REPORT_INFO,
                      _("watching migrations at '%1$s' every %2$u ms; libvirt overhead %3$" PRIu64 " ms (%4$u learned sample(s)); guardian %5$s"),
                      config->uri ? config->uri : _("(default)"), interval,
                      vfmigDaemonOverheadUs(&d) / 1000, d.overhead->len,
                      d.guard ? _("on") : _("off"));

    while (!*quit) {
        if (virEventRunDefaultImpl() < 0) {
            vfmigReportError(VFMIG_ERR_LIBVIRT,
                             _("libvirt's event loop failed: %1$s"),
                             virGetLastErrorMessage());
            break;
        }
    }
    ret = *quit ? 0 : -1;
    vfmigDaemonReleaseAll(&d);

 cleanup:
    if (timer >= 0)
        virEventRemoveTimeout(timer);
    if (d.sessions)
        g_hash_table_unref(d.sessions);
    if (d.ignored)
        g_hash_table_unref(d.ignored);
    if (d.busy)
        g_hash_table_unref(d.busy);
    vfmigDaemonDisconnect(&d);
    vfmigGuardFree(d.guard);
    g_array_unref(d.overhead);
    g_array_unref(d.overheadAt);
    return ret;
}
