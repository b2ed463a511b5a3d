/*
 * vfmigdaemon.c: virt-vfmigd's work, as one library call
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigdaemon.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vfmigcontroller.h"
#include "vfmigdaemonhost.h"
#include "vfmighostdefault.h"
#include "vfmigdaemontask.h"
#include "vfmigdomainpolicy.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigguard.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmigsteer.h"
#include "vfmigsysfs.h"
#include "vfmigworker.h"

/* How long an ended migration waits for libvirt's completion event. */
#define VFMIG_DAEMON_COMPLETION_WAIT_US (10 * G_USEC_PER_SEC)
/* How long a job the controller cancelled is kept from being steered
 * again while libvirt still runs it (see vfmigDaemonReap). */
#define VFMIG_DAEMON_CANCEL_WAIT_US (60 * G_USEC_PER_SEC)
/* How often a lost connection is tried again. */
#define VFMIG_DAEMON_RECONNECT_US (2 * G_USEC_PER_SEC)

typedef struct _vfmigDaemonSession vfmigDaemonSession;
struct _vfmigDaemonSession {
    /* NULL while a task of its domain's worker has it: the session is
     * the event loop's, its steer the worker's for the task */
    vfmigSteer *steer;
    GStrv devices;                  /* the steer's VFs, for a hand-back
                                     * while a task has it */
    uint64_t heldMs;                /* told to the guardian; 0: nothing */
    uint64_t heldFallbackMs;
    bool ended;
    int64_t endedAt;                /* the daemon's clock, us */
    bool completed;                 /* libvirt told how the job ended */
    vfmigSteerCompleted stats;
    bool reported;                  /* its end is in the log */
    bool jobGone;                   /* seen without a migration job */
};

/* One domain the daemon looks at, and its worker: the event loop's. */
typedef struct _vfmigDaemonDomain vfmigDaemonDomain;
struct _vfmigDaemonDomain {
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *name;
    virDomainPtr dom;               /* a reference; NULL: known by its UUID
                                     * only (a hand-back's, connected
                                     * again), until listed or told of */
    vfmigWorker *worker;            /* its libvirt calls, one at a time */
    bool late;                      /* the task running was reported late */
    int policy;                     /* -1 not read yet, 0 none, 1 has one:
                                     * its job read at every interval */
    bool incoming;                  /* an incoming migration's, not yet
                                     * resumed: its XML is read (and a
                                     * host default set) once it is */
    bool reprobe;                   /* its XML could not be read, or its
                                     * host default policy failed: read
                                     * again at the next sweep */
    bool hostFailed;                /* its host default policy failed,
                                     * and was said: a next failure is
                                     * not, until it works */
    bool checkWanted;               /* an event or the sweep asks for its
                                     * job */
    bool ignored;                   /* migrates, not steered (no policy,
                                     * or it cannot be): this job */
    bool lockBusy;                  /* steered by another process (its
                                     * lock): this job */
    bool stopped;                   /* libvirt said it stopped, or it was
                                     * not listed */
    int64_t seenUs;                 /* when it was last listed or told of */
    vfmigDaemonSession *session;    /* NULL: none */
};

struct _vfmigDaemon {
    const vfmigDaemonConfig *config;
    vfmigGuard *guard;              /* borrowed; NULL: none */
    bool guardWarned;
    virConnectPtr conn;             /* borrowed; NULL: not connected */
    vfmigWorkerPool *pool;
    GHashTable *domains;            /* uuid -> vfmigDaemonDomain */
    vfmigWorker *lister;            /* the sweep's listing */
    bool listerLate;
    int64_t nowUs;                  /* the last tick's time */
    int64_t nextSweepUs;
    bool quitting;
    vfmigDaemonHandBacks *handBacks;    /* held when the connection was
                                         * lost */
    GArray *overhead;               /* int64_t samples, us, oldest first */
    GArray *overheadAt;             /* int64_t: when each was taken, s */
    bool stateRefused;              /* the state file was not loaded: it
                                     * is kept until a save replaces it */
    vfmigDaemonHostPolicy hostPolicy;
};


static void G_GNUC_PRINTF(4, 0)
vfmigDaemonReportV(vfmigDaemonReportFunc report,
                   void *opaque,
                   vfmigDaemonReportLevel level,
                   const char *fmt,
                   va_list ap)
{
    g_autofree char *line = g_strdup_vprintf(fmt, ap);

    VFMIG_DEBUG("%s", line);
    if (report)
        report(opaque, level, line);
}


static void G_GNUC_PRINTF(3, 4)
vfmigDaemonReport(vfmigDaemon *d,
                  vfmigDaemonReportLevel level,
                  const char *fmt,
                  ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfmigDaemonReportV(d->config->report, d->config->opaque, level, fmt, ap);
    va_end(ap);
}


static void
vfmigDaemonSessionFree(vfmigDaemonSession *s)
{
    if (!s)
        return;
    vfmigSteerFree(s->steer);
    g_strfreev(s->devices);
    g_free(s);
}


/* ---- learned overhead ---- */

#define VFMIG_DAEMON_STATE_GROUP "overhead"
#define VFMIG_DAEMON_STATE_SAMPLES "samples-us"
#define VFMIG_DAEMON_STATE_DATES "sampled-at"
/* What vfmigDaemonSaveOverhead writes before the samples. */
#define VFMIG_DAEMON_STATE_HEAD \
    "# virt-vfmigd: libvirt's switchover overhead on this host,\n" \
    "# learned from completed migrations (us), and when\n" \
    "# (seconds since 1970); a sample counts for 24 hours\n" \
    "[" VFMIG_DAEMON_STATE_GROUP "]\n" VFMIG_DAEMON_STATE_SAMPLES "="

/* The largest file vfmigDaemonSaveOverhead writes (two lists of at most
 * 20 characters and a comma per sample) is one vfmigDaemonLoadOverhead
 * reads. */
G_STATIC_ASSERT(sizeof(VFMIG_DAEMON_STATE_HEAD) + sizeof(VFMIG_DAEMON_STATE_DATES) +
                2 * VFMIG_CONTROLLER_OVERHEAD_SAMPLES * 21 + 8 <= VFMIG_DAEMON_STATE_MAX);


/* The largest learned sample either way, us: the largest overhead
 * --overhead-ms takes.  A measurement beyond it is no libvirt overhead. */
static int64_t
vfmigDaemonSampleMaxUs(void)
{
    return (int64_t) vfmigDowntimeParamMaxMs(VFMIG_DOWNTIME_PARAM_OVERHEAD) * 1000;
}


/*
 * The one rule of a learned sample, which vfmigDaemonLearn applies before
 * it keeps (and saves) a sample and vfmigDaemonLoadOverhead to every
 * sample it reads: @us within vfmigDaemonSampleMaxUs either way, @at (s
 * since 1970) from VFMIG_DAEMON_OVERHEAD_DATE_MIN to
 * VFMIG_DAEMON_OVERHEAD_CLOCK_SKEW_S past @nowS.  0, or -1 with an error.
 */
static int
vfmigDaemonSampleCheck(int64_t us,
                       int64_t at,
                       int64_t nowS)
{
    int64_t max = vfmigDaemonSampleMaxUs();

    if (us < -max || us > max) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("overhead sample %1$" PRId64 " us is out of range (-%2$" PRId64 " to %3$" PRId64 " us)"),
                         us, max, max);
        return -1;
    }
    if (at < VFMIG_DAEMON_OVERHEAD_DATE_MIN) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("overhead sample date %1$" PRId64 " is before %2$lld (2020-01-01), which no virt-vfmigd wrote"),
                         at, VFMIG_DAEMON_OVERHEAD_DATE_MIN);
        return -1;
    }
    if (at > nowS && at - nowS > VFMIG_DAEMON_OVERHEAD_CLOCK_SKEW_S) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("overhead sample date %1$" PRId64 " is %2$" PRId64 " s in the future (at most %3$d s allowed)"),
                         at, at - nowS, VFMIG_DAEMON_OVERHEAD_CLOCK_SKEW_S);
        return -1;
    }
    return 0;
}


/*
 * Reads @stateFile if it can be trusted, as vfmigDaemonSaveOverhead
 * leaves it: its directory owned by the effective user and written by
 * nobody else (vfmigFileCheckDir, the check vfmigFileMakeDir applies
 * before a save), the file owned by the effective user, written by nobody
 * else and no symbolic link.  Nobody else can write to the directory, so
 * nobody else can replace the file between the lstat() here and the
 * open() of vfmigFileRead.  As vfmigFileRead.
 */
static int
vfmigDaemonReadState(const char *stateFile,
                     char **data,
                     size_t *len)
{
    const char *kind = _("daemon state file");
    g_autofree char *dir = g_path_get_dirname(stateFile);
    struct stat sb;
    int rc;

    *data = NULL;
    if ((rc = vfmigFileCheckDir(_("daemon state directory"), dir)) <= 0)
        return rc;
    if (lstat(stateFile, &sb) < 0) {
        if (errno == ENOENT)
            return 0;
        vfmigReportSystemError(errno, _("cannot stat %1$s '%2$s'"),
                               kind, stateFile);
        return -1;
    }
    /* a symbolic link, a FIFO, a directory: vfmigFileRead refuses them */
    if (S_ISREG(sb.st_mode) && sb.st_uid != geteuid()) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s '%2$s' is owned by uid %3$u, not by uid %4$u that runs vfmig: refusing to use it (remove it, or chown it)"),
                         kind, stateFile, (unsigned int) sb.st_uid,
                         (unsigned int) geteuid());
        return -1;
    }
    if (S_ISREG(sb.st_mode) && (sb.st_mode & (S_IWGRP | S_IWOTH))) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s '%2$s' can be written by its group or others (mode %3$04o): refusing to use it (chmod go-w it)"),
                         kind, stateFile, (unsigned int) (sb.st_mode & 07777));
        return -1;
    }
    return vfmigFileRead(kind, stateFile, VFMIG_DAEMON_STATE_MAX,
                         VFMIG_FILE_OPTIONAL | VFMIG_FILE_NOFOLLOW, data, len);
}


/* The groups and keys vfmigDaemonSaveOverhead writes, and no other: one
 * [overhead] group with samples-us and sampled-at (which a file of an
 * older virt-vfmigd lacks).  A file with more was not written by
 * virt-vfmigd and is refused.  0, or -1 with an error. */
static int
vfmigDaemonCheckKeys(GKeyFile *kf,
                     const char *stateFile)
{
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    g_auto(GStrv) keys = NULL;
    size_t i;

    for (i = 0; groups[i]; i++) {
        if (!g_str_equal(groups[i], VFMIG_DAEMON_STATE_GROUP)) {
            g_autofree char *quoted = g_strescape(groups[i], NULL);

            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("daemon state file '%1$s' holds a group [%2$s], which virt-vfmigd never writes"),
                             stateFile, quoted);
            return -1;
        }
    }
    if (!(keys = g_key_file_get_keys(kf, VFMIG_DAEMON_STATE_GROUP, NULL, NULL))) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("daemon state file '%1$s' has no [%2$s] group"),
                         stateFile, VFMIG_DAEMON_STATE_GROUP);
        return -1;
    }
    for (i = 0; keys[i]; i++) {
        if (!g_str_equal(keys[i], VFMIG_DAEMON_STATE_SAMPLES) &&
            !g_str_equal(keys[i], VFMIG_DAEMON_STATE_DATES)) {
            g_autofree char *quoted = g_strescape(keys[i], NULL);

            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("daemon state file '%1$s' holds a key '%2$s' in [%3$s], which virt-vfmigd never writes"),
                             stateFile, quoted, VFMIG_DAEMON_STATE_GROUP);
            return -1;
        }
    }
    if (!g_key_file_has_key(kf, VFMIG_DAEMON_STATE_GROUP,
                            VFMIG_DAEMON_STATE_SAMPLES, NULL)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("daemon state file '%1$s' has no key '%2$s' in [%3$s]"),
                         stateFile, VFMIG_DAEMON_STATE_SAMPLES,
                         VFMIG_DAEMON_STATE_GROUP);
        return -1;
    }
    return 0;
}


/* One comma-separated list of numbers of the state file's [overhead]
 * group, each within [@min, @max], into *@arr: as
 * vfmigDaemonSaveOverhead writes it, no item empty.  1, 0 when the key is
 * not there (*@arr NULL), -1 with an error. */
static int
vfmigDaemonLoadList(GKeyFile *kf,
                    const char *stateFile,
                    const char *key,
                    gint64 min,
                    gint64 max,
                    const char *what,
                    GArray **arr)
{
    g_autoptr(GArray) list = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_autoptr(GError) gerr = NULL;
    g_autofree char *value = NULL;
    g_auto(GStrv) words = NULL;
    size_t i;

    *arr = NULL;
    if (!(value = g_key_file_get_string(kf, VFMIG_DAEMON_STATE_GROUP, key, &gerr))) {
        if (g_error_matches(gerr, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
            return 0;
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("daemon state file '%1$s' is corrupt: %2$s"),
                         stateFile, gerr->message);
        return -1;
    }
    if (*g_strstrip(value)) {
        words = g_strsplit(value, ",", 0);
        for (i = 0; words[i]; i++) {
            gint64 v;

            if (!g_ascii_string_to_signed(g_strstrip(words[i]), 10, min, max,
                                          &v, NULL)) {
                g_autofree char *quoted = g_strescape(words[i], NULL);

                vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                                 _("daemon state file '%1$s': overhead sample '%2$s' is not %3$s"),
                                 stateFile, quoted, what);
                return -1;
            }
            g_array_append_val(list, v);
        }
    }
    *arr = g_steal_pointer(&list);
    return 1;
}


/* The state file's [overhead] lists, checked against each other and
 * against the rule of a sample at @nowS: the samples into *@us, their
 * dates into *@at (@nowS for each when the file has none).  0, or -1
 * with an error. */
static int
vfmigDaemonParseState(const char *stateFile,
                      const char *data,
                      size_t len,
                      int64_t nowS,
                      GArray **us,
                      GArray **at)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) gerr = NULL;
    guint i;
    int rc = 0;

    if (strlen(data) != len) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("daemon state file '%1$s' is corrupt: it holds a NUL byte"),
                         stateFile);
        return -1;
    }
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("daemon state file '%1$s' is corrupt: %2$s"),
                         stateFile, gerr->message);
        return -1;
    }
    if (vfmigDaemonCheckKeys(kf, stateFile) < 0 ||
        vfmigDaemonLoadList(kf, stateFile, VFMIG_DAEMON_STATE_SAMPLES,
                            G_MININT64, G_MAXINT64,
                            _("a number of microseconds"), us) < 0 ||
        (rc = vfmigDaemonLoadList(kf, stateFile, VFMIG_DAEMON_STATE_DATES,
                                  0, G_MAXINT64,
                                  _("a time in seconds since 1970"), at)) < 0)
        return -1;

    if ((*us)->len > VFMIG_CONTROLLER_OVERHEAD_SAMPLES) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("daemon state file '%1$s' holds %2$u overhead samples, more than the %3$d virt-vfmigd keeps"),
                         stateFile, (*us)->len, VFMIG_CONTROLLER_OVERHEAD_SAMPLES);
        return -1;
    }
    if (rc == 0) {
        /* undated (written before samples aged): as if taken now, so
         * that they age from here */
        *at = g_array_new(FALSE, FALSE, sizeof(int64_t));
        for (i = 0; i < (*us)->len; i++)
            g_array_append_val(*at, nowS);
    } else if ((*at)->len != (*us)->len) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("daemon state file '%1$s' holds %2$u overhead samples (%3$s) but %4$u dates (%5$s): virt-vfmigd writes one date per sample"),
                         stateFile, (*us)->len, VFMIG_DAEMON_STATE_SAMPLES,
                         (*at)->len, VFMIG_DAEMON_STATE_DATES);
        return -1;
    }
    for (i = 0; i < (*us)->len; i++) {
        if (vfmigDaemonSampleCheck(g_array_index(*us, int64_t, i),
                                   g_array_index(*at, int64_t, i), nowS) < 0) {
            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("daemon state file '%1$s': %2$s"),
                             stateFile, vfmigGetLastErrorMessage());
            return -1;
        }
    }
    return 0;
}


int
vfmigDaemonLoadOverhead(const char *stateFile,
                        int64_t nowS,
                        GArray **samples,
                        GArray **dates,
                        unsigned int *expired)
{
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
    if ((rc = vfmigDaemonReadState(stateFile, &data, &len)) <= 0)
        return rc;
    if (vfmigDaemonParseState(stateFile, data, len, nowS, &us, &at) < 0)
        return -1;

    for (i = 0; i < us->len; i++) {
        /* a clock set back a little: the sample counts as taken now */
        int64_t when = MIN(g_array_index(at, int64_t, i), nowS);

        if (nowS - when > VFMIG_DAEMON_OVERHEAD_MAX_AGE_S) {
            if (expired)
                (*expired)++;
            continue;
        }
        g_array_append_val(*samples, g_array_index(us, int64_t, i));
        if (dates)
            g_array_append_val(*dates, when);
    }
    return (*samples)->len > 0 ? 1 : 0;
}


static int
vfmigDaemonSaveOverhead(vfmigDaemon *d)
{
    g_autoptr(GString) str = g_string_new(VFMIG_DAEMON_STATE_HEAD);
    g_autofree char *dir = NULL;
    guint i;

    if (!d->config->stateFile)
        return 0;
    for (i = 0; i < d->overhead->len; i++)
        g_string_append_printf(str, "%s%" PRId64, i ? "," : "",
                               g_array_index(d->overhead, int64_t, i));
    g_string_append(str, "\n" VFMIG_DAEMON_STATE_DATES "=");
    for (i = 0; i < d->overheadAt->len; i++)
        g_string_append_printf(str, "%s%" PRId64, i ? "," : "",
                               g_array_index(d->overheadAt, int64_t, i));
    g_string_append_c(str, '\n');
    dir = g_path_get_dirname(d->config->stateFile);
    if (vfmigFileMakeDir(_("daemon state directory"), dir) < 0 ||
        vfmigFileReplace(d->config->stateFile, str->str, str->len, 0644) < 0)
        return -1;
    if (d->stateRefused) {
        d->stateRefused = false;
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("daemon state file '%1$s', refused at the start, is now replaced by the overhead learned since"),
                          d->config->stateFile);
    }
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

    /* what is held is kept without a guardian too: a lost connection
     * hands it back (vfmigDaemonLoseSessions) */
    if (fallback == 0 || s->ended) {
        if (s->heldMs && d->guard && vfmigGuardDrop(d->guard, uuid) < 0)
            vfmigDaemonGuardWarn(d);
        s->heldMs = 0;
        return;
    }
    if (limitMs == s->heldMs && fallback == s->heldFallbackMs)
        return;
    if (d->guard && vfmigGuardHold(d->guard, uuid, limitMs, fallback) < 0)
        vfmigDaemonGuardWarn(d);
    /* a new entry: its VFs, whose hold the guardian ends too */
    for (i = 0; d->guard && s->heldMs == 0 &&
         i < vfmigSteerDeviceCount(s->steer); i++) {
        if (vfmigGuardHoldDevice(d->guard, uuid,
                                 vfmigSteerDeviceAddress(s->steer, i)) < 0)
            vfmigDaemonGuardWarn(d);
    }
    s->heldMs = limitMs;
    s->heldFallbackMs = fallback;
}


/* ---- limits held when the connection was lost ---- */

typedef struct _vfmigDaemonHandBack vfmigDaemonHandBack;
struct _vfmigDaemonHandBack {
    char *uuid;
    char *name;
    uint64_t heldMs;                /* what the daemon set */
    uint64_t fallbackMs;            /* what goes back */
    GStrv devices;                  /* the VFs that held the switchover */
    unsigned int failures;          /* hand-backs libvirt failed, in a row */
    vfmigSteer *steer;              /* kept for its steering lock */
};

struct _vfmigDaemonHandBacks {
    vfmigGuard *guard;              /* borrowed; NULL: none */
    const char *sysfsRoot;          /* borrowed */
    vfmigDaemonReportFunc report;
    void *opaque;
    GPtrArray *list;                /* vfmigDaemonHandBack, oldest first */
};


static void G_GNUC_PRINTF(3, 4)
vfmigDaemonHandBacksReport(vfmigDaemonHandBacks *hb,
                           vfmigDaemonReportLevel level,
                           const char *fmt,
                           ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfmigDaemonReportV(hb->report, hb->opaque, level, fmt, ap);
    va_end(ap);
}


static void
vfmigDaemonHandBackFree(void *opaque)
{
    vfmigDaemonHandBack *r = opaque;

    g_free(r->uuid);
    g_free(r->name);
    g_strfreev(r->devices);
    vfmigSteerFree(r->steer);
    g_free(r);
}


vfmigDaemonHandBacks *
vfmigDaemonHandBacksNew(vfmigGuard *guard,
                        const char *sysfsRoot,
                        vfmigDaemonReportFunc report,
                        void *opaque)
{
    vfmigDaemonHandBacks *hb = g_new0(vfmigDaemonHandBacks, 1);

    hb->guard = guard;
    hb->sysfsRoot = sysfsRoot;
    hb->report = report;
    hb->opaque = opaque;
    hb->list = g_ptr_array_new_with_free_func(vfmigDaemonHandBackFree);
    return hb;
}


void
vfmigDaemonHandBacksFree(vfmigDaemonHandBacks *hb)
{
    if (!hb)
        return;
    g_ptr_array_unref(hb->list);
    g_free(hb);
}


void
vfmigDaemonHandBacksAdd(vfmigDaemonHandBacks *hb,
                        const char *uuid,
                        const char *name,
                        uint64_t heldMs,
                        uint64_t fallbackMs,
                        const char *const *devices,
                        vfmigSteer *steer)
{
    vfmigDaemonHandBack *r = g_new0(vfmigDaemonHandBack, 1);

    r->uuid = g_strdup(uuid);
    r->name = g_strdup(name);
    r->heldMs = heldMs;
    r->fallbackMs = fallbackMs;
    r->devices = devices ? g_strdupv((char **) devices) : g_new0(char *, 1);
    r->steer = steer;
    g_ptr_array_add(hb->list, r);
    vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_WARNING,
                               _("domain '%1$s': no longer steered; the downtime limit this daemon set, %2$" PRIu64 " ms, goes back to %3$" PRIu64 " ms once connected again"),
                               name, heldMs, fallbackMs);
}


/* The hand-back of domain @uuid; NULL: none listed. */
static vfmigDaemonHandBack *
vfmigDaemonHandBacksFind(const vfmigDaemonHandBacks *hb,
                         const char *uuid,
                         guint *index)
{
    guint i;

    for (i = 0; i < hb->list->len; i++) {
        vfmigDaemonHandBack *r = g_ptr_array_index(hb->list, i);

        if (g_str_equal(r->uuid, uuid)) {
            if (index)
                *index = i;
            return r;
        }
    }
    return NULL;
}


bool
vfmigDaemonHandBacksHas(const vfmigDaemonHandBacks *hb,
                        const char *uuid)
{
    return vfmigDaemonHandBacksFind(hb, uuid, NULL) != NULL;
}


/* Ends the switchover hold of the VFs: their lease, which nobody renews
 * since the connection was lost, would lapse by itself. */
static void
vfmigDaemonHandBackUnhold(vfmigDaemonHandBacks *hb,
                          const vfmigDaemonHandBack *r)
{
    size_t i;

    for (i = 0; r->devices[i]; i++) {
        int rc;

        if ((rc = vfmigSysfsWriteHold(hb->sysfsRoot, r->devices[i], 0)) < 0)
            vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_WARNING,
                                       _("domain '%1$s': cannot end the switchover hold of %2$s (its lease lapses by itself at most %3$u s after the last step): %4$s"),
                                       r->name, r->devices[i],
                                       VFMIG_CONTROLLER_HOLD_LEASE_MS / 1000,
                                       vfmigGetLastErrorMessage());
        else if (rc > 0)
            vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_PROGRESS,
                                       _("domain '%1$s': switchover hold of %2$s ended"),
                                       r->name, r->devices[i]);
    }
}


/* What one try of @r's hand-back did (@cur: the limit read; the error of
 * a FAILED one is the last): true when it is done with (handed back, or
 * nothing to hand back, or given up), false to try again. */
static bool
vfmigDaemonHandBackOutcome(vfmigDaemonHandBacks *hb,
                           vfmigDaemonHandBack *r,
                           vfmigGuardHandBackResult result,
                           uint64_t cur)
{
    switch (result) {
    case VFMIG_GUARD_HAND_BACK_DONE:
        vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_INFO,
                                   _("domain '%1$s': connected again; downtime limit handed back, %2$" PRIu64 " ms -> %3$" PRIu64 " ms"),
                                   r->name, cur, r->fallbackMs);
        break;
    case VFMIG_GUARD_HAND_BACK_THEIRS:
        vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_INFO,
                                   _("domain '%1$s': connected again; downtime limit %2$" PRIu64 " ms (not the %3$" PRIu64 " ms this daemon set) was set by someone else, left as it is"),
                                   r->name, cur, r->heldMs);
        break;
    case VFMIG_GUARD_HAND_BACK_NO_JOB:
        vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_INFO,
                                   _("domain '%1$s': connected again; its migration is over, no downtime limit to hand back"),
                                   r->name);
        break;
    case VFMIG_GUARD_HAND_BACK_GONE:
        /* its VFs left with it: their holds are nobody's business here */
        vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_INFO,
                                   _("domain '%1$s': connected again; the domain is gone, no downtime limit to hand back"),
                                   r->name);
        return true;
    case VFMIG_GUARD_HAND_BACK_FAILED:
        if (++r->failures < VFMIG_DAEMON_HAND_BACK_TRIES) {
            vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_PROGRESS,
                                       _("domain '%1$s': cannot hand the downtime limit back yet (try %2$u of %3$u): %4$s"),
                                       r->name, r->failures,
                                       VFMIG_DAEMON_HAND_BACK_TRIES,
                                       vfmigGetLastErrorMessage());
            return false;
        }
        vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_WARNING,
                                   _("domain '%1$s': cannot hand the downtime limit back after %2$u tries (%3$s); giving up: it may stay at %4$" PRIu64 " ms until the migration ends (virsh migrate-setmaxdowntime sets it back to %5$" PRIu64 " ms)"),
                                   r->name, r->failures,
                                   vfmigGetLastErrorMessage(),
                                   r->heldMs, r->fallbackMs);
        break;
    }
    vfmigDaemonHandBackUnhold(hb, r);
    return true;
}


/* The @i-th hand-back is done with: the guardian forgets it, and only
 * now (a daemon killed before still had it handed back). */
static void
vfmigDaemonHandBackDrop(vfmigDaemonHandBacks *hb,
                        guint i)
{
    vfmigDaemonHandBack *r = g_ptr_array_index(hb->list, i);

    if (hb->guard && vfmigGuardDrop(hb->guard, r->uuid) < 0)
        vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_WARNING,
                                   _("domain '%1$s': cannot tell the guardian that its downtime limit is no longer held: %2$s"),
                                   r->name, vfmigGetLastErrorMessage());
    g_ptr_array_remove_index(hb->list, i);
}


unsigned int
vfmigDaemonHandBacksRun(vfmigDaemonHandBacks *hb,
                        const vfmigGuardLimitOps *ops,
                        void *opaque)
{
    guint i = 0;

    while (i < hb->list->len) {
        vfmigDaemonHandBack *r = g_ptr_array_index(hb->list, i);
        vfmigGuardHandBackResult result;
        uint64_t cur;

        result = vfmigGuardHandBack(ops, opaque, r->uuid, r->heldMs,
                                    r->fallbackMs, NULL, &cur);
        if (!vfmigDaemonHandBackOutcome(hb, r, result, cur)) {
            i++;
            continue;
        }
        vfmigDaemonHandBackDrop(hb, i);
    }
    return hb->list->len;
}


/* The daemon stops with limits it could not hand back since the
 * connection was lost: the guardian, which still lists them, hands them
 * back once the daemon is gone (the steering locks are kept until then:
 * vfmigDaemonRun frees the list after the guardian ended); without one,
 * they stay, which is said (the VFs' holds end here, which needs no
 * libvirt). */
static void
vfmigDaemonHandBacksLeave(vfmigDaemonHandBacks *hb)
{
    guint i;

    for (i = 0; i < hb->list->len; i++) {
        vfmigDaemonHandBack *r = g_ptr_array_index(hb->list, i);

        if (hb->guard) {
            vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_INFO,
                                       _("domain '%1$s': stopping; the guardian hands the downtime limit back (%2$" PRIu64 " ms -> %3$" PRIu64 " ms)"),
                                       r->name, r->heldMs, r->fallbackMs);
            continue;
        }
        vfmigDaemonHandBacksReport(hb, VFMIG_DAEMON_REPORT_WARNING,
                                   _("domain '%1$s': stopping without a connection to libvirt or a guardian: the downtime limit may stay at %2$" PRIu64 " ms until the migration ends (virsh migrate-setmaxdowntime sets it back to %3$" PRIu64 " ms)"),
                                   r->name, r->heldMs, r->fallbackMs);
        vfmigDaemonHandBackUnhold(hb, r);
    }
}


/* ---- migrations ---- */

/* Learns libvirt's overhead from one switch. */
static void
vfmigDaemonLearn(vfmigDaemon *d,
                 int64_t sample)
{
    int64_t at = vfmigDaemonNowS(d);

    /* what the state file may not hold is not learned either */
    if (vfmigDaemonSampleCheck(sample, at, at) < 0) {
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("not learned: %1$s"), vfmigGetLastErrorMessage());
        return;
    }
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
        if (v->faulted)
            vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                              _("domain '%1$s': libvirt's part of the downtime, %2$" PRId64 " ms, is more than its own work takes (at most %3$" PRIu64 " ms): the migration met a fault on its path (a link cut, a stalled host or daemon); not learned as overhead"),
                              name, v->overheadSampleUs / 1000, v->faultBoundUs / 1000);
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
 * steer the domain's next one), and libvirt's word on it is taken when
 * the step's task could read it (a failed or cancelled job at once, a
 * completed one while the domain is still here; else its event tells). */
static void
vfmigDaemonSessionEnded(vfmigDaemon *d,
                        vfmigDaemonSession *s,
                        const vfmigDaemonTask *t)
{
    s->ended = true;
    s->endedAt = d->nowUs;
    vfmigSteerUnlock(s->steer);
    if (!s->completed && t->hasCompleted &&
        (t->completed.end != VFMIG_STEER_JOB_COMPLETED || t->completed.hasDowntime) &&
        vfmigSteerCompletedIsMigrationOut(&t->completed)) {
        s->completed = true;
        s->stats = t->completed;
    }
}


/* What a step of the session did, its steer back from the task @t. */
static void
vfmigDaemonStepDone(vfmigDaemon *d,
                    vfmigDaemonSession *s,
                    const vfmigDaemonTask *t)
{
    const char *name = vfmigSteerDomainName(s->steer);
    const vfmigSteerLoopEvent *ev = &t->ev;
    const vfmigControllerStatus *st = &ev->step;
    int rc = t->stepRc;

    if (ev->gone) {
        /* it left with its migration between two calls of the step */
        s->ended = true;
        s->endedAt = d->nowUs;
        vfmigSteerUnlock(s->steer);
        vfmigDaemonGuardUpdate(d, s, 0);
        return;
    }
    if (rc < 0) {
        unsigned int errors = vfmigSteerLoopErrorsInRow(vfmigSteerGetLoop(s->steer));

        if (errors == 1 || rc == -2)
            vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                              _("domain '%1$s': %2$s"), name,
                              t->error ? t->error->message : "?");
        if (rc == -2) {
            vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                              _("domain '%1$s': giving up steering after %2$u errors; handing the downtime limit back"),
                              name, errors);
            s->ended = true;
            s->endedAt = d->nowUs;
            vfmigDaemonGuardUpdate(d, s, 0);
        }
        return;
    }
    if (!ev->stepped)
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
    if (st->stoppedHeld)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': its VFs stopped while the daemon held the switchover: QEMU's own switch with nothing left to send, or the guest paused (virsh suspend, or Nova's force-complete); downtime limit at its highest"),
                          name);
    if (st->pausedLate)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': the guest has been paused for %2$" PRIu64 " ms with its VFs stopped and the migration still running: paused by another client (virsh suspend, or Nova's force-complete), not by QEMU's switchover; downtime limit at its highest, so that QEMU switches"),
                          name, st->pausedUs / 1000);
    if (st->overwritten)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': another client set the downtime limit to %2$" PRIu64 " ms; the controller keeps %3$" PRIu64 " ms"),
                          name, st->overwrittenMs, st->limitMs);
    vfmigDaemonReport(d, ev->phaseChanged ? VFMIG_DAEMON_REPORT_INFO :
                      VFMIG_DAEMON_REPORT_PROGRESS,
                      _("domain '%1$s': %2$s"), name, ev->line);
    if (rc == 0)
        vfmigDaemonSessionEnded(d, s, t);
    vfmigDaemonGuardUpdate(d, s, st->limitMs);
}


/* A session for the steer of the task @t, which found @rec migrating out
 * with a policy, and what its first step did. */
static void
vfmigDaemonSessionStart(vfmigDaemon *d,
                        vfmigDaemonDomain *rec,
                        vfmigDaemonTask *t)
{
    vfmigSteer *steer = t->steer;
    const char *name = vfmigSteerDomainName(steer);
    uint64_t overheadUs = vfmigDowntimeSettingsUs(&t->opts.downtime,
                                                  VFMIG_DOWNTIME_PARAM_OVERHEAD);
    vfmigDaemonSession *s;
    size_t i;

    for (i = 0; i < vfmigSteerWarnings(steer)->len; i++)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("domain '%1$s': %2$s"), name,
                          (char *) vfmigSteerWarnings(steer)->pdata[i]);
    if (d->overhead->len)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': steering its migration: downtime target %2$" PRIu64 " ms, libvirt overhead %3$" PRIu64 " ms (learned from %4$u sample(s))"),
                          name, vfmigSteerTargetUs(steer) / 1000,
                          overheadUs / 1000, d->overhead->len);
    else
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': steering its migration: downtime target %2$" PRIu64 " ms, libvirt overhead %3$" PRIu64 " ms (configured)"),
                          name, vfmigSteerTargetUs(steer) / 1000,
                          overheadUs / 1000);
    if (d->overhead->len > 0 &&
        overheadUs + VFMIG_DOWNTIME_QEMU_LIMIT_MIN_MS * 1000 >
        vfmigSteerTargetUs(steer))
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("domain '%1$s': the overhead learned from %2$u earlier migration(s), %3$" PRIu64 " ms, alone leaves nothing of the target of %4$" PRIu64 " ms: the pre-flight will judge it missed. The samples count for 24 hours; to forget them now, remove '%5$s' and restart virt-vfmigd"),
                          name, d->overhead->len, overheadUs / 1000,
                          vfmigSteerTargetUs(steer) / 1000,
                          d->config->stateFile ? d->config->stateFile : "?");

    s = g_new0(vfmigDaemonSession, 1);
    s->steer = g_steal_pointer(&t->steer);
    s->devices = g_new0(char *, vfmigSteerDeviceCount(s->steer) + 1);
    for (i = 0; i < vfmigSteerDeviceCount(s->steer); i++)
        s->devices[i] = g_strdup(vfmigSteerDeviceAddress(s->steer, i));
    rec->session = s;
    if (t->stepped)
        vfmigDaemonStepDone(d, s, t);
}


/* What the check of @rec's job found. */
static void
vfmigDaemonCheckDone(vfmigDaemon *d,
                     vfmigDaemonDomain *rec,
                     vfmigDaemonTask *t)
{
    if (t->op == -2) {
        /* gone meanwhile, or libvirt failed: the next check tells */
        VFMIG_DEBUG("domain %s: %s", rec->name,
                    t->error ? t->error->message : "?");
        return;
    }
    if (t->op != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT) {
        rec->ignored = false;
        rec->lockBusy = false;
        return;
    }
    if (!t->take || t->stillBusy)
        return;
    if (t->tookOver) {
        /* the process that held its lock is gone, which virt-vfmig
         * migrate has no guardian for */
        rec->lockBusy = false;
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': the process that steered its migration is gone; taking it over"),
                          rec->name);
    }
    if (rec->session) {
        /* a new job, while the last one's end (its controller saw it
         * over) still waits for libvirt's completion event: reported now,
         * as it stands, so that the new one is steered */
        if (!rec->session->reported)
            vfmigDaemonFinish(d, rec->session);
        g_clear_pointer(&rec->session, vfmigDaemonSessionFree);
    }

    if (t->newRc > 0) {
        vfmigDaemonSessionStart(d, rec, t);
        return;
    }
    if (t->newRc < 0 && t->error && t->error->code == VFMIG_ERR_DEVICE_BUSY) {
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s' migrates; not steered here: %2$s"),
                          rec->name, t->error->message);
        rec->lockBusy = true;
        return;
    }
    if (t->newRc < 0)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("domain '%1$s' migrates, but is not steered: %2$s"),
                          rec->name, t->error ? t->error->message : "?");
    else
        VFMIG_DEBUG("domain %s migrates and has no vfmig policy", rec->name);
    rec->ignored = true;
}


/* What the hand-back of @rec's limit, held when the connection was lost,
 * did. */
static void
vfmigDaemonHandBackDone(vfmigDaemon *d,
                        vfmigDaemonDomain *rec,
                        vfmigDaemonTask *t)
{
    vfmigDaemonHandBack *r;
    guint i;

    if (!(r = vfmigDaemonHandBacksFind(d->handBacks, rec->uuid, &i)))
        return;
    /* its messages name the task's error */
    vfmigRestoreLastError(&t->error);
    if (vfmigDaemonHandBackOutcome(d->handBacks, r, t->handBack, t->curMs))
        vfmigDaemonHandBackDrop(d->handBacks, i);
}


/* The host default policy the PROBE task @t decided for @rec. */
static void
vfmigDaemonHostDefaultDone(vfmigDaemon *d,
                           vfmigDaemonDomain *rec,
                           vfmigDaemonTask *t)
{
    g_autofree char *from = NULL;

    if (t->hostRc < 0) {
        /* tried again at every sweep (a libvirt that cannot set it now,
         * busy with another job of the domain, may later), said once */
        rec->reprobe = true;
        if (rec->hostFailed) {
            VFMIG_DEBUG("domain %s: still no host default policy: %s",
                        rec->name, t->error ? t->error->message : "?");
            return;
        }
        rec->hostFailed = true;
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("domain '%1$s': no host default policy: %2$s; tried again at every sweep, and not reported again until it works"),
                          rec->name, t->error ? t->error->message : _("unknown error"));
        return;
    }
    rec->hostFailed = false;
    from = t->hostFlavor ?
           g_strdup_printf(_("flavor '%1$s'"), t->hostFlavor) :
           g_strdup(_("the default"));
    if (t->hostRc > 0) {
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': host default policy (%2$s) set as its live metadata: %3$s"),
                          rec->name, from, t->hostWhy);
        return;
    }
    VFMIG_DEBUG("domain %s: host default policy: %s (%s)", rec->name,
                vfmigHostDefaultActionTypeToString(t->hostAction),
                t->hostWhy ? t->hostWhy : "-");
}


/* What the task @t of @rec did (the event loop's side of it). */
static void
vfmigDaemonTaskDone(vfmigDaemon *d,
                    vfmigDaemonDomain *rec,
                    vfmigDaemonTask *t)
{
    vfmigDaemonSession *s = rec->session;

    switch (t->kind) {
    case VFMIG_DAEMON_TASK_PROBE:
        /* an XML that cannot be read now is read again at the next
         * sweep; meanwhile events and the sweep ask for the job */
        rec->policy = MAX(t->policy, 0);
        rec->reprobe = t->policy < 0;
        VFMIG_DEBUG("domain %s: %s", rec->name,
                    t->policy > 0 ? "has a vfmig policy: its job is read at every interval" :
                    t->policy == 0 ? "has no vfmig policy" :
                    "its XML cannot be read; read again at the next sweep");
        if (t->hostPolicy && t->policy >= 0)
            vfmigDaemonHostDefaultDone(d, rec, t);
        return;
    case VFMIG_DAEMON_TASK_CHECK:
        vfmigDaemonCheckDone(d, rec, t);
        return;
    case VFMIG_DAEMON_TASK_STEP:
        s->steer = g_steal_pointer(&t->steer);
        vfmigDaemonStepDone(d, s, t);
        return;
    case VFMIG_DAEMON_TASK_RECANCEL:
        if (t->jobGone)
            s->jobGone = true;
        return;
    case VFMIG_DAEMON_TASK_RELEASE:
        s->steer = g_steal_pointer(&t->steer);
        if (t->rc < 0) {
            vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                              _("domain '%1$s': cannot hand the downtime limit back: %2$s"),
                              rec->name, t->error ? t->error->message : "?");
            return;
        }
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': stopping; downtime limit handed back (%2$" PRIu64 " ms)"),
                          rec->name, t->fallbackMs);
        s->ended = true;
        vfmigDaemonGuardUpdate(d, s, 0);
        return;
    case VFMIG_DAEMON_TASK_HAND_BACK:
        vfmigDaemonHandBackDone(d, rec, t);
        return;
    case VFMIG_DAEMON_TASK_LIST:
    case VFMIG_DAEMON_TASK_LAST:
        break;
    }
}


/* An ended session's end is reported once libvirt told how it ended (or
 * it waited long enough), and the session goes. */
static void
vfmigDaemonReap(vfmigDaemon *d,
                vfmigDaemonDomain *rec)
{
    vfmigDaemonSession *s = rec->session;
    vfmigControllerPhase phase;

    if (!s || !s->ended || !s->steer)
        return;
    phase = vfmigSteerLoopPhase(vfmigSteerGetLoop(s->steer));
    if (!s->completed && phase == VFMIG_CONTROLLER_ENDED &&
        d->nowUs - s->endedAt < VFMIG_DAEMON_COMPLETION_WAIT_US)
        return;
    if (!s->reported)
        vfmigDaemonFinish(d, s);
    s->reported = true;
    /* libvirt ends a job cancelled in its Begin or Prepare phase only
     * when Perform starts (the destination's QEMU may take seconds to
     * start): until then the job is still there, and steering it again
     * would cancel it again, once per session (measured: 7 to 13
     * sessions for one migration).  Kept until it is gone. */
    if (phase == VFMIG_CONTROLLER_ABORTED && !s->jobGone &&
        d->nowUs - s->endedAt < VFMIG_DAEMON_CANCEL_WAIT_US)
        return;
    g_clear_pointer(&rec->session, vfmigDaemonSessionFree);
}


/* ---- the domains and their workers ---- */

static void
vfmigDaemonDomainFree(void *opaque)
{
    vfmigDaemonDomain *rec = opaque;

    /* a task still running is abandoned: it frees what it holds (its
     * domain, the session's steer) when its call returns */
    vfmigWorkerFree(rec->worker);
    vfmigDaemonSessionFree(rec->session);
    if (rec->dom)
        virDomainFree(rec->dom);
    g_free(rec->name);
    g_free(rec);
}


static vfmigDaemonDomain *
vfmigDaemonDomainNew(vfmigDaemon *d,
                     const char *uuid,
                     const char *name)
{
    vfmigDaemonDomain *rec = g_new0(vfmigDaemonDomain, 1);

    g_strlcpy(rec->uuid, uuid, sizeof(rec->uuid));
    rec->name = g_strdup(name);
    rec->worker = vfmigWorkerNew(d->pool);
    rec->policy = -1;
    rec->seenUs = d->nowUs;
    g_hash_table_insert(d->domains, rec->uuid, rec);
    return rec;
}


static vfmigDaemonDomain *
vfmigDaemonDomainFind(vfmigDaemon *d,
                      virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (virDomainGetUUIDString(dom, uuid) < 0)
        return NULL;
    return g_hash_table_lookup(d->domains, uuid);
}


/* The record of @dom, made when it is new to the daemon: running now. */
static vfmigDaemonDomain *
vfmigDaemonDomainSee(vfmigDaemon *d,
                     virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    vfmigDaemonDomain *rec;

    if (virDomainGetUUIDString(dom, uuid) < 0)
        return NULL;
    if (!(rec = g_hash_table_lookup(d->domains, uuid)))
        rec = vfmigDaemonDomainNew(d, uuid, virDomainGetName(dom));
    if (!rec->dom && virDomainRef(dom) == 0)
        rec->dom = dom;
    rec->seenUs = d->nowUs;
    rec->stopped = false;
    return rec;
}


/* Whether the limit of @rec is held by the daemon: its session's, or one
 * held when the connection was lost. */
static bool
vfmigDaemonDomainHolds(vfmigDaemon *d,
                       vfmigDaemonDomain *rec)
{
    return (rec->session && !rec->session->ended && rec->session->heldMs > 0) ||
        vfmigDaemonHandBacksHas(d->handBacks, rec->uuid);
}


/* Says, once per task, that @w's call has not returned for long. */
static void
vfmigDaemonCheckLate(vfmigDaemon *d,
                     vfmigWorker *w,
                     bool *late,
                     const char *name)
{
    int64_t s = (d->nowUs - vfmigWorkerStartedUs(w)) / G_USEC_PER_SEC;

    if (*late ||
        d->nowUs - vfmigWorkerStartedUs(w) < VFMIG_DAEMON_CALL_WARN_MS * 1000LL)
        return;
    *late = true;
    if (name)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("domain '%1$s': libvirt has not answered in %2$" PRId64 " s (%3$s); the daemon asks nothing more of this domain until it does, and steers the other domains meanwhile"),
                          name, s, vfmigWorkerWhat(w));
    else
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("libvirt has not answered in %1$" PRId64 " s (%2$s); the sweep waits for it, and the domains known are steered meanwhile"),
                          s, vfmigWorkerWhat(w));
}


/* Takes @rec's finished task back and acts on what it did; false when
 * its task still runs. */
static bool
vfmigDaemonDomainTakeBack(vfmigDaemon *d,
                          vfmigDaemonDomain *rec)
{
    const char *what = vfmigWorkerWhat(rec->worker);
    int64_t startedUs = vfmigWorkerStartedUs(rec->worker);
    vfmigDaemonTask *t;

    if (vfmigWorkerRunning(rec->worker))
        return false;
    if (!(t = vfmigWorkerTakeDone(rec->worker)))
        return true;
    if (rec->late)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': libvirt answered after %2$" PRId64 " s (%3$s)"),
                          rec->name, (d->nowUs - startedUs) / G_USEC_PER_SEC,
                          what);
    rec->late = false;
    vfmigDaemonTaskDone(d, rec, t);
    vfmigDaemonTaskFree(t);
    return true;
}


/* A check of @rec's job; with @take (not ignored this job), one that
 * starts a session for a migration out. */
static vfmigDaemonTask *
vfmigDaemonCheckTask(vfmigDaemon *d,
                     vfmigDaemonDomain *rec)
{
    vfmigDaemonTask *t = vfmigDaemonTaskNew(VFMIG_DAEMON_TASK_CHECK,
                                            d->config->calls, rec->dom);

    t->take = !rec->ignored;
    t->lockBusy = rec->lockBusy;
    if (!t->take)
        return t;
    vfmigDaemonAgeOverhead(d);
    t->paths = d->config->paths;
    t->opts.paths = &t->paths;
    t->opts.calls = d->config->calls;
    t->opts.guard = d->guard;
    /* the configured load time; the overhead learned, or configured */
    t->opts.downtime = d->config->downtime;
    t->opts.downtime.onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_DEFAULT;
    vfmigDowntimeSettingsSetUs(&t->opts.downtime, VFMIG_DOWNTIME_PARAM_OVERHEAD,
                               vfmigDaemonOverheadUs(d));
    return t;
}


/* Reads @rec's live XML: whether it has a policy, and the host default
 * policy it gets where it has none. */
static vfmigDaemonTask *
vfmigDaemonProbeTask(vfmigDaemon *d,
                     vfmigDaemonDomain *rec)
{
    vfmigDaemonTask *t = vfmigDaemonTaskNew(VFMIG_DAEMON_TASK_PROBE,
                                            d->config->calls, rec->dom);

    t->paths = d->config->paths;
    t->hostPolicy = g_strdup(d->hostPolicy.xml);
    return t;
}


/* What @rec's worker does next, now that it is idle; NULL: nothing. */
static vfmigDaemonTask *
vfmigDaemonDomainNext(vfmigDaemon *d,
                      vfmigDaemonDomain *rec)
{
    vfmigDaemonSession *s = rec->session;
    const vfmigSteerCalls *calls = d->config->calls;
    vfmigDaemonHandBack *r;
    vfmigDaemonTask *t;

    if ((r = vfmigDaemonHandBacksFind(d->handBacks, rec->uuid, NULL))) {
        /* its limit, held when the connection was lost, goes back before
         * the domain is steered again */
        t = vfmigDaemonTaskNew(VFMIG_DAEMON_TASK_HAND_BACK, calls, NULL);
        if (virConnectRef(d->conn) == 0)
            t->conn = d->conn;
        t->uuid = g_strdup(r->uuid);
        t->heldMs = r->heldMs;
        t->fallbackMs = r->fallbackMs;
        return t;
    }
    if (s && !s->ended) {
        t = vfmigDaemonTaskNew(VFMIG_DAEMON_TASK_STEP, calls, NULL);
        t->steer = g_steal_pointer(&s->steer);
        return t;
    }
    /* a domain that stopped is asked nothing more: it goes once idle */
    if (!rec->dom || rec->stopped)
        return NULL;
    /* kept by vfmigDaemonReap: a job the controller cancelled, which
     * libvirt still runs */
    if (s && vfmigSteerLoopPhase(vfmigSteerGetLoop(s->steer)) ==
        VFMIG_CONTROLLER_ABORTED)
        return vfmigDaemonTaskNew(VFMIG_DAEMON_TASK_RECANCEL, calls, rec->dom);
    if (rec->policy < 0 && !rec->incoming)
        return vfmigDaemonProbeTask(d, rec);
    if (rec->policy < 0)
        return NULL;
    /* a domain with a policy is checked at every interval, so that its
     * migration is found at the start of libvirt's job (the pre-flight
     * acts before QEMU sends anything); the others when an event or the
     * sweep asks */
    if (rec->policy == 0 && !rec->checkWanted && !rec->lockBusy)
        return NULL;
    rec->checkWanted = false;
    return vfmigDaemonCheckTask(d, rec);
}


/* Starts @t on @rec's worker (the task is freed if it cannot start). */
static void
vfmigDaemonDomainStart(vfmigDaemon *d,
                       vfmigDaemonDomain *rec,
                       vfmigDaemonTask *t)
{
    vfmigDaemonSession *s = rec->session;

    if (vfmigWorkerStart(rec->worker, vfmigDaemonTaskRun, t,
                         vfmigDaemonTaskFree, vfmigDaemonTaskWhat(t->kind),
                         d->nowUs) == 0)
        return;
    vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING, _("domain '%1$s': %2$s"),
                      rec->name, vfmigGetLastErrorMessage());
    /* the session's steer comes home */
    if (s && !s->steer)
        s->steer = g_steal_pointer(&t->steer);
    vfmigDaemonTaskFree(t);
}


/* One interval of @rec: what its last task did, and the next one. */
static void
vfmigDaemonDomainTick(vfmigDaemon *d,
                      vfmigDaemonDomain *rec)
{
    vfmigDaemonTask *t;

    if (!vfmigDaemonDomainTakeBack(d, rec)) {
        vfmigDaemonCheckLate(d, rec->worker, &rec->late, rec->name);
        return;
    }
    vfmigDaemonReap(d, rec);
    if ((t = vfmigDaemonDomainNext(d, rec)))
        vfmigDaemonDomainStart(d, rec, t);
}


/* Whether @rec can go: not running, nothing the daemon keeps for it. */
static bool
vfmigDaemonDomainGone(vfmigDaemon *d,
                      vfmigDaemonDomain *rec)
{
    return rec->stopped && !rec->session && !vfmigWorkerBusy(rec->worker) &&
        !vfmigDaemonHandBacksHas(d->handBacks, rec->uuid);
}


/* The listing of the sweep is back: every domain listed is known, and
 * its job checked by its worker; one not listed (and not told of since
 * the listing started) is gone. */
static void
vfmigDaemonSweepDone(vfmigDaemon *d,
                     vfmigDaemonTask *t,
                     int64_t startedUs)
{
    GHashTableIter iter;
    gpointer value;
    int i;

    if (t->rc < 0) {
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING, "%s",
                          t->error ? t->error->message : "?");
        return;
    }
    for (i = 0; i < t->ndoms; i++) {
        vfmigDaemonDomain *rec = vfmigDaemonDomainSee(d, t->doms[i]);

        if (!rec)
            continue;
        if (!rec->session || rec->session->ended)
            rec->checkWanted = true;
        if (rec->reprobe) {
            rec->policy = -1;
            rec->reprobe = false;
        }
    }
    g_hash_table_iter_init(&iter, d->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vfmigDaemonDomain *rec = value;

        if (rec->seenUs < startedUs)
            rec->stopped = true;
    }
}


/* The host default policy file looked at again; when another policy is
 * in force, every domain's XML is read again (vfmigDaemonProbeTask). */
static void
vfmigDaemonHostPolicyLook(vfmigDaemon *d)
{
    g_autofree char *line = NULL;
    vfmigDaemonReportLevel level;
    bool changed;
    GHashTableIter iter;
    gpointer value;

    if (vfmigDaemonHostPolicyRefresh(&d->hostPolicy, &changed, &level, &line))
        vfmigDaemonReport(d, level, "%s", line);
    if (!changed)
        return;
    g_hash_table_iter_init(&iter, d->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vfmigDaemonDomain *rec = value;

        if (rec->policy >= 0)
            rec->policy = -1;
    }
}


/* The slow sweep: every VFMIG_DAEMON_SWEEP_MS the running domains are
 * listed (on a worker of its own), then each one's job checked by its
 * worker, for a migration whose event the daemon missed.  A worker that
 * is busy is not waited for: its domain is checked once it is idle. */
static void
vfmigDaemonSweep(vfmigDaemon *d)
{
    int64_t startedUs = vfmigWorkerStartedUs(d->lister);
    vfmigDaemonTask *t;

    if (vfmigWorkerRunning(d->lister)) {
        vfmigDaemonCheckLate(d, d->lister, &d->listerLate, NULL);
        return;
    }
    if ((t = vfmigWorkerTakeDone(d->lister))) {
        d->listerLate = false;
        vfmigDaemonSweepDone(d, t, startedUs);
        vfmigDaemonTaskFree(t);
    }
    if (d->nowUs < d->nextSweepUs)
        return;
    d->nextSweepUs = d->nowUs + VFMIG_DAEMON_SWEEP_MS * 1000LL;
    vfmigDaemonHostPolicyLook(d);
    t = vfmigDaemonTaskNew(VFMIG_DAEMON_TASK_LIST, d->config->calls, NULL);
    if (virConnectRef(d->conn) == 0)
        t->conn = d->conn;
    if (vfmigWorkerStart(d->lister, vfmigDaemonTaskRun, t, vfmigDaemonTaskFree,
                         vfmigDaemonTaskWhat(t->kind), d->nowUs) < 0) {
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING, "%s",
                          vfmigGetLastErrorMessage());
        vfmigDaemonTaskFree(t);
    }
}


/* Every limit held when the connection was lost has a record, whose
 * worker hands it back. */
static void
vfmigDaemonHandBacksSee(vfmigDaemon *d)
{
    guint i;

    for (i = 0; i < d->handBacks->list->len; i++) {
        vfmigDaemonHandBack *r = g_ptr_array_index(d->handBacks->list, i);

        if (!g_hash_table_contains(d->domains, r->uuid))
            vfmigDaemonDomainNew(d, r->uuid, r->name);
    }
}


void
vfmigDaemonTick(vfmigDaemon *d,
                int64_t nowUs)
{
    GHashTableIter iter;
    gpointer value;

    d->nowUs = nowUs;
    if (d->quitting || !d->conn)
        return;
    vfmigDaemonSweep(d);
    vfmigDaemonHandBacksSee(d);
    g_hash_table_iter_init(&iter, d->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vfmigDaemonDomain *rec = value;

        vfmigDaemonDomainTick(d, rec);
        if (vfmigDaemonDomainGone(d, rec)) {
            VFMIG_DEBUG("domain %s is gone", rec->name);
            g_hash_table_iter_remove(&iter);
        }
    }
}


/* ---- libvirt's events ---- */

void
vfmigDaemonDomainStarted(vfmigDaemon *d,
                         virDomainPtr dom)
{
    vfmigDaemonDomain *rec;

    /* its XML read at the next interval: its policy, and the host
     * default policy it gets where it has none */
    if (!(rec = vfmigDaemonDomainSee(d, dom)))
        return;
    rec->policy = -1;
    rec->incoming = false;
    rec->hostFailed = false;
    VFMIG_DEBUG("domain %s started", rec->name);
}


void
vfmigDaemonDomainIncoming(vfmigDaemon *d,
                          virDomainPtr dom)
{
    vfmigDaemonDomain *rec;

    if (!(rec = vfmigDaemonDomainSee(d, dom)))
        return;
    rec->policy = -1;
    rec->incoming = true;
    VFMIG_DEBUG("domain %s is an incoming migration's", rec->name);
}


void
vfmigDaemonDomainStopped(vfmigDaemon *d,
                         virDomainPtr dom)
{
    vfmigDaemonDomain *rec;

    if (!(rec = vfmigDaemonDomainFind(d, dom)))
        return;
    rec->stopped = true;
    rec->incoming = false;
    VFMIG_DEBUG("domain %s stopped", rec->name);
}


void
vfmigDaemonMigrationIteration(vfmigDaemon *d,
                              virDomainPtr dom,
                              int iteration)
{
    vfmigDaemonDomain *rec;

    if (!(rec = vfmigDaemonDomainSee(d, dom)))
        return;
    VFMIG_DEBUG("domain %s: migration pass %d", rec->name, iteration);
    if (!rec->session || rec->session->ended)
        rec->checkWanted = true;
}


void
vfmigDaemonMetadataChanged(vfmigDaemon *d,
                           virDomainPtr dom)
{
    vfmigDaemonDomain *rec;

    if (!(rec = vfmigDaemonDomainSee(d, dom)))
        return;
    VFMIG_DEBUG("domain %s: its vfmig policy changed", rec->name);
    rec->policy = -1;
}


void
vfmigDaemonJobCompleted(vfmigDaemon *d,
                        virDomainPtr dom,
                        const vfmigSteerCompleted *stats)
{
    vfmigDaemonDomain *rec;

    VFMIG_DEBUG("job of %s completed: operation %d, downtime %s%" PRIu64 " us",
                virDomainGetName(dom), stats->operation,
                stats->hasDowntime ? "" : "(none) ", stats->downtimeUs);
    if (!(rec = vfmigDaemonDomainFind(d, dom)))
        return;
    /* its job is over: a next one is looked at anew */
    rec->ignored = false;
    rec->lockBusy = false;
    if (!rec->session || !vfmigSteerCompletedIsMigrationOut(stats))
        return;
    rec->session->completed = true;
    rec->session->stats = *stats;
}


/* ---- connection ---- */

void
vfmigDaemonConnectionLost(vfmigDaemon *d)
{
    GHashTableIter iter;
    gpointer value;

    /* the sessions go, and the limit each one held waits to be handed
     * back once connected again (its guardian entry stays until then) */
    g_hash_table_iter_init(&iter, d->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vfmigDaemonDomain *rec = value;
        vfmigDaemonSession *s = rec->session;

        if (!s || s->ended || s->heldMs == 0)
            continue;
        /* a steer a task still has goes with the task, its lock too */
        vfmigDaemonHandBacksAdd(d->handBacks, rec->uuid, rec->name, s->heldMs,
                                s->heldFallbackMs,
                                (const char *const *) s->devices,
                                g_steal_pointer(&s->steer));
    }
    /* every task in flight is abandoned: its call fails with the
     * connection, or returns to nobody */
    g_hash_table_remove_all(d->domains);
    vfmigWorkerFree(d->lister);
    d->lister = vfmigWorkerNew(d->pool);
    d->listerLate = false;
    d->conn = NULL;
}


void
vfmigDaemonConnected(vfmigDaemon *d,
                     virConnectPtr conn)
{
    d->conn = conn;
    /* every domain is looked at anew at once */
    d->nextSweepUs = d->nowUs;
}


/* ---- stopping ---- */

/* @rec's limit, held, is left to the guardian: its worker has not
 * returned. */
static void
vfmigDaemonLeaveToGuardian(vfmigDaemon *d,
                           vfmigDaemonDomain *rec)
{
    vfmigDaemonSession *s = rec->session;

    /* a hand-back's limit: vfmigDaemonHandBacksLeave says it */
    if (!s || s->ended || s->heldMs == 0)
        return;
    if (d->guard)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("domain '%1$s': stopping while libvirt has not answered (%2$s); the guardian hands the downtime limit back (%3$" PRIu64 " ms -> %4$" PRIu64 " ms)"),
                          rec->name, vfmigWorkerWhat(rec->worker),
                          s->heldMs, s->heldFallbackMs);
    else
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("domain '%1$s': stopping while libvirt has not answered (%2$s), without a guardian: the downtime limit may stay at %3$" PRIu64 " ms until the migration ends (virsh migrate-setmaxdowntime sets it back to %4$" PRIu64 " ms)"),
                          rec->name, vfmigWorkerWhat(rec->worker),
                          s->heldMs, s->heldFallbackMs);
}


/* The task that hands @rec's limit back on the way out; NULL: none
 * held. */
static vfmigDaemonTask *
vfmigDaemonReleaseTask(vfmigDaemon *d,
                       vfmigDaemonDomain *rec)
{
    vfmigDaemonSession *s = rec->session;
    vfmigDaemonTask *t;
    uint64_t fallback;

    if (vfmigDaemonHandBacksHas(d->handBacks, rec->uuid))
        return d->conn ? vfmigDaemonDomainNext(d, rec) : NULL;
    if (!s || s->ended || !s->steer)
        return NULL;
    fallback = vfmigControllerFallbackMs(vfmigSteerController(s->steer));
    if (fallback == 0)
        return NULL;
    t = vfmigDaemonTaskNew(VFMIG_DAEMON_TASK_RELEASE, d->config->calls, NULL);
    t->fallbackMs = fallback;
    t->steer = g_steal_pointer(&s->steer);
    return t;
}


unsigned int
vfmigDaemonQuit(vfmigDaemon *d)
{
    int64_t deadline = g_get_monotonic_time() +
                       VFMIG_DAEMON_QUIT_WAIT_MS * 1000LL;
    GHashTableIter iter;
    gpointer value;
    g_autoptr(GPtrArray) handing = g_ptr_array_new();
    unsigned int left = 0;
    guint i;

    d->quitting = true;
    if (d->conn)
        vfmigDaemonHandBacksSee(d);
    /* a call in flight for a domain whose limit is held ends first, or
     * the domain is left to the guardian */
    g_hash_table_iter_init(&iter, d->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vfmigDaemonDomain *rec = value;

        if (vfmigDaemonDomainHolds(d, rec))
            vfmigWorkerWait(rec->worker, deadline);
        vfmigDaemonDomainTakeBack(d, rec);
    }

    /* every limit still held goes back, each domain's on its worker, so
     * that one that does not answer keeps no other from it */
    g_hash_table_iter_init(&iter, d->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vfmigDaemonDomain *rec = value;
        vfmigDaemonTask *t;

        if (!vfmigWorkerBusy(rec->worker) &&
            (t = vfmigDaemonReleaseTask(d, rec))) {
            vfmigDaemonDomainStart(d, rec, t);
            g_ptr_array_add(handing, rec);
        }
    }
    /* each of them for at most its bound, all at once */
    deadline = g_get_monotonic_time() + VFMIG_DAEMON_CALL_WARN_MS * 1000LL;
    for (i = 0; i < handing->len; i++)
        vfmigWorkerWait(((vfmigDaemonDomain *) handing->pdata[i])->worker,
                        deadline);
    g_hash_table_iter_init(&iter, d->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vfmigDaemonDomain *rec = value;

        if (vfmigDaemonDomainTakeBack(d, rec))
            continue;
        if (vfmigDaemonDomainHolds(d, rec)) {
            vfmigDaemonLeaveToGuardian(d, rec);
            left++;
        }
    }

    /* those held when the connection was lost, and not handed back */
    vfmigDaemonHandBacksLeave(d->handBacks);
    return left;
}


/* ---- the daemon ---- */

vfmigDaemon *
vfmigDaemonNew(const vfmigDaemonConfig *config,
               vfmigGuard *guard)
{
    vfmigDaemon *d = g_new0(vfmigDaemon, 1);
    unsigned int expired = 0;

    d->config = config;
    d->guard = guard;
    /* a state file that cannot be trusted or read steers nothing: the
     * daemon starts as with none, and says so; the file stays for whoever
     * looks into it until a learned sample is saved in its place */
    if (config->stateFile &&
        vfmigDaemonLoadOverhead(config->stateFile, vfmigDaemonNowS(d),
                                &d->overhead, &d->overheadAt, &expired) < 0) {
        d->stateRefused = true;
        g_clear_pointer(&d->overhead, g_array_unref);
        g_clear_pointer(&d->overheadAt, g_array_unref);
    }
    if (!d->overhead) {
        d->overhead = g_array_new(FALSE, FALSE, sizeof(int64_t));
        d->overheadAt = g_array_new(FALSE, FALSE, sizeof(int64_t));
    }
    if (d->stateRefused)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("%1$s; starting without learned overhead (libvirt overhead %2$" PRIu64 " ms, as configured), and the file is left as it is until a learned sample is saved in its place"),
                          vfmigGetLastErrorMessage(),
                          vfmigDaemonOverheadUs(d) / 1000);
    /* every sample dated, the expired ones gone: as the file says next */
    if (config->stateFile && (d->overhead->len > 0 || expired > 0) &&
        vfmigDaemonSaveOverhead(d) < 0)
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING,
                          _("cannot keep the learned overhead: %1$s"),
                          vfmigGetLastErrorMessage());

    d->pool = vfmigWorkerPoolNew();
    d->domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                       vfmigDaemonDomainFree);
    d->lister = vfmigWorkerNew(d->pool);
    d->handBacks = vfmigDaemonHandBacksNew(guard, config->paths.probe.sysfsRoot,
                                           config->report, config->opaque);
    vfmigDaemonHostPolicyInit(&d->hostPolicy, config->hostPolicyPath);
    vfmigDaemonHostPolicyLook(d);
    return d;
}


void
vfmigDaemonFree(vfmigDaemon *d)
{
    if (!d)
        return;
    /* the tasks still running are abandoned, and end by themselves */
    g_hash_table_unref(d->domains);
    vfmigWorkerFree(d->lister);
    vfmigWorkerPoolFree(d->pool);
    vfmigDaemonHandBacksFree(d->handBacks);
    g_array_unref(d->overhead);
    g_array_unref(d->overheadAt);
    vfmigDaemonHostPolicyClear(&d->hostPolicy);
    g_free(d);
}


bool
vfmigDaemonSettle(vfmigDaemon *d,
                  const char *const *skip,
                  int64_t deadlineUs)
{
    GHashTableIter iter;
    gpointer value;

    if (!vfmigWorkerWait(d->lister, deadlineUs))
        return false;
    g_hash_table_iter_init(&iter, d->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vfmigDaemonDomain *rec = value;

        if (skip && g_strv_contains(skip, rec->name))
            continue;
        if (!vfmigWorkerWait(rec->worker, deadlineUs))
            return false;
    }
    return true;
}


/* ---- libvirt's event loop and connection: virt-vfmigd ---- */

typedef struct _vfmigDaemonLink vfmigDaemonLink;
struct _vfmigDaemonLink {
    vfmigDaemon *d;
    const vfmigDaemonConfig *config;
    virConnectPtr conn;
    int callbacks[4];               /* vfmigDaemonEvents' ids; -1: none */
    int64_t nextConnect;
    unsigned int interval;          /* ms */
    bool everConnected;             /* the start line was said */
    bool waitSaid;                  /* "waiting for libvirt" was said */
};


static int
vfmigDaemonOnJobCompleted(virConnectPtr conn G_GNUC_UNUSED,
                          virDomainPtr dom,
                          virTypedParameterPtr params,
                          int nparams,
                          void *opaque)
{
    vfmigDaemonLink *link = opaque;
    vfmigSteerCompleted stats;

    vfmigSteerParseCompleted(params, nparams, &stats);
    vfmigDaemonJobCompleted(link->d, dom, &stats);
    return 0;
}


static int
vfmigDaemonOnMigrationIteration(virConnectPtr conn G_GNUC_UNUSED,
                                virDomainPtr dom,
                                int iteration,
                                void *opaque)
{
    vfmigDaemonLink *link = opaque;

    vfmigDaemonMigrationIteration(link->d, dom, iteration);
    return 0;
}


static int
vfmigDaemonOnLifecycle(virConnectPtr conn G_GNUC_UNUSED,
                       virDomainPtr dom,
                       int event,
                       int detail,
                       void *opaque)
{
    vfmigDaemonLink *link = opaque;

    switch ((virDomainEventType) event) {
    case VIR_DOMAIN_EVENT_STARTED:
        if (detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED)
            vfmigDaemonDomainIncoming(link->d, dom);
        else
            vfmigDaemonDomainStarted(link->d, dom);
        break;
    case VIR_DOMAIN_EVENT_RESUMED:
        if (detail == VIR_DOMAIN_EVENT_RESUMED_MIGRATED ||
            detail == VIR_DOMAIN_EVENT_RESUMED_POSTCOPY)
            vfmigDaemonDomainStarted(link->d, dom);
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
    case VIR_DOMAIN_EVENT_CRASHED:
        vfmigDaemonDomainStopped(link->d, dom);
        break;
    case VIR_DOMAIN_EVENT_SUSPENDED:
    case VIR_DOMAIN_EVENT_DEFINED:
    case VIR_DOMAIN_EVENT_UNDEFINED:
    case VIR_DOMAIN_EVENT_SHUTDOWN:
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
    default:
        VFMIG_DEBUG("domain %s: lifecycle event %d, detail %d",
                    virDomainGetName(dom), event, detail);
        break;
    }
    return 0;
}


static int
vfmigDaemonOnMetadataChange(virConnectPtr conn G_GNUC_UNUSED,
                            virDomainPtr dom,
                            int type,
                            const char *nsuri,
                            void *opaque)
{
    vfmigDaemonLink *link = opaque;

    if (type == VIR_DOMAIN_METADATA_ELEMENT && nsuri &&
        g_str_equal(nsuri, VFMIG_DOMAIN_POLICY_NS_URI))
        vfmigDaemonMetadataChanged(link->d, dom);
    return 0;
}


/* The events the daemon registers, one row each. */
static const struct {
    int id;
    virConnectDomainEventGenericCallback cb;
    const char *what;
} vfmigDaemonEvents[] = {
    { VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
      VIR_DOMAIN_EVENT_CALLBACK(vfmigDaemonOnJobCompleted),
      N_("job completions") },
    { VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
      VIR_DOMAIN_EVENT_CALLBACK(vfmigDaemonOnMigrationIteration),
      N_("migration passes") },
    { VIR_DOMAIN_EVENT_ID_LIFECYCLE,
      VIR_DOMAIN_EVENT_CALLBACK(vfmigDaemonOnLifecycle),
      N_("domain starts and stops") },
    { VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
      VIR_DOMAIN_EVENT_CALLBACK(vfmigDaemonOnMetadataChange),
      N_("domain metadata changes") },
};
G_STATIC_ASSERT(G_N_ELEMENTS(vfmigDaemonEvents) ==
                G_N_ELEMENTS(((vfmigDaemonLink *) NULL)->callbacks));


static void
vfmigDaemonLibvirtErrorSink(void *opaque G_GNUC_UNUSED,
                            virErrorPtr err G_GNUC_UNUSED)
{
}


static void
vfmigDaemonDisconnect(vfmigDaemonLink *link)
{
    size_t i;

    if (!link->conn)
        return;
    for (i = 0; i < G_N_ELEMENTS(vfmigDaemonEvents); i++) {
        if (link->callbacks[i] >= 0)
            virConnectDomainEventDeregisterAny(link->conn, link->callbacks[i]);
        link->callbacks[i] = -1;
    }
    virConnectClose(link->conn);
    link->conn = NULL;
}


static int
vfmigDaemonConnect(vfmigDaemonLink *link)
{
    const char *uri = link->config->uri;
    size_t i;

    if (!(link->conn = virConnectOpen(uri))) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("failed to connect to libvirt at '%1$s': %2$s"),
                         uri ? uri : _("(default)"), virGetLastErrorMessage());
        return -1;
    }
    if (virConnectSetKeepAlive(link->conn, 5, 3) < 0)
        VFMIG_DEBUG("no keepalive: %s", virGetLastErrorMessage());
    for (i = 0; i < G_N_ELEMENTS(vfmigDaemonEvents); i++) {
        link->callbacks[i] =
            virConnectDomainEventRegisterAny(link->conn, NULL,
                                             vfmigDaemonEvents[i].id,
                                             vfmigDaemonEvents[i].cb,
                                             link, NULL);
        if (link->callbacks[i] < 0) {
            vfmigReportError(VFMIG_ERR_LIBVIRT,
                             _("cannot watch libvirt's %1$s: %2$s"),
                             _(vfmigDaemonEvents[i].what),
                             virGetLastErrorMessage());
            vfmigDaemonDisconnect(link);
            return -1;
        }
    }
    return 0;
}


/* Connected: the start line the first time (what a unit or a test waits
 * for), else that libvirt is back. */
static void
vfmigDaemonLinkUp(vfmigDaemonLink *link)
{
    vfmigDaemon *d = link->d;
    const char *uri = link->config->uri;

    link->waitSaid = false;
    if (link->everConnected) {
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO, "%s",
                          _("connected to libvirt again"));
    } else {
        link->everConnected = true;
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_INFO,
                          _("watching migrations at '%1$s' every %2$u ms; libvirt overhead %3$" PRIu64 " ms (%4$u learned sample(s)); guardian %5$s"),
                          uri ? uri : _("(default)"), link->interval,
                          vfmigDaemonOverheadUs(d) / 1000,
                          d->overhead->len, d->guard ? _("on") : _("off"));
    }
    vfmigDaemonConnected(d, link->conn);
}


/* Not connected (libvirt not up yet, restarting, gone): tries again every
 * VFMIG_DAEMON_RECONNECT_US; says so once per outage. */
static bool
vfmigDaemonLinkTry(vfmigDaemonLink *link)
{
    if (g_get_monotonic_time() < link->nextConnect)
        return false;
    if (vfmigDaemonConnect(link) < 0) {
        link->nextConnect = g_get_monotonic_time() + VFMIG_DAEMON_RECONNECT_US;
        if (!link->waitSaid) {
            vfmigDaemonReport(link->d, VFMIG_DAEMON_REPORT_WARNING,
                              _("%1$s; waiting for libvirt (trying again every %2$u s)"),
                              vfmigGetLastErrorMessage(),
                              (unsigned int) (VFMIG_DAEMON_RECONNECT_US / G_USEC_PER_SEC));
            link->waitSaid = true;
        } else {
            VFMIG_DEBUG("%s", vfmigGetLastErrorMessage());
        }
        vfmigResetLastError();
        return false;
    }
    vfmigDaemonLinkUp(link);
    return true;
}


static void
vfmigDaemonOnTimer(int timer G_GNUC_UNUSED,
                   void *opaque)
{
    vfmigDaemonLink *link = opaque;
    vfmigDaemon *d = link->d;

    if (link->conn && virConnectIsAlive(link->conn) != 1) {
        vfmigDaemonReport(d, VFMIG_DAEMON_REPORT_WARNING, "%s",
                          _("the connection to libvirt is lost; reconnecting"));
        vfmigDaemonConnectionLost(d);
        vfmigDaemonDisconnect(link);
        link->nextConnect = 0;
    }
    if (!link->conn && !vfmigDaemonLinkTry(link))
        return;
    vfmigDaemonTick(d, g_get_monotonic_time());
}


int
vfmigDaemonRun(const vfmigDaemonConfig *config,
               volatile sig_atomic_t *quit)
{
    vfmigDaemonLink link = { .config = config,
                             .callbacks = { -1, -1, -1, -1 } };
    unsigned int interval = config->intervalMs ? config->intervalMs :
                            VFMIG_DAEMON_INTERVAL_MS_DEFAULT;
    vfmigGuard *guard = NULL;
    unsigned int left = 0;
    int timer = -1;
    int ret = -1;

    /* before libvirt and the workers' threads: the guardian forks from a
     * process without threads */
    if (!config->noGuardian &&
        !(guard = vfmigGuardStart(config->uri, config->paths.probe.sysfsRoot)))
        return -1;
    link.d = vfmigDaemonNew(config, guard);

    virSetErrorFunc(NULL, vfmigDaemonLibvirtErrorSink);
    if (virEventRegisterDefaultImpl() < 0) {
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot set up libvirt's event loop: %1$s"),
                         virGetLastErrorMessage());
        goto cleanup;
    }
    link.interval = interval;
    /* libvirt may not be up yet (a boot, an upgrade): the timer tries
     * again until it is */
    vfmigDaemonLinkTry(&link);
    if ((timer = virEventAddTimeout(interval, vfmigDaemonOnTimer, &link, NULL)) < 0) {
        vfmigReportError(VFMIG_ERR_LIBVIRT, "%s",
                         _("cannot add the daemon's timer to libvirt's event loop"));
        goto cleanup;
    }

    while (!*quit) {
        if (virEventRunDefaultImpl() < 0) {
            vfmigReportError(VFMIG_ERR_LIBVIRT,
                             _("libvirt's event loop failed: %1$s"),
                             virGetLastErrorMessage());
            break;
        }
    }
    ret = *quit ? 0 : -1;
    left = vfmigDaemonQuit(link.d);

 cleanup:
    if (timer >= 0)
        virEventRemoveTimeout(timer);
    vfmigDaemonDisconnect(&link);
    /* the guardian is gone (and done) first: it still lists what is left
     * here, whose steering locks are kept until then.  Not when it hands
     * back a limit of a domain libvirt does not answer for, which takes
     * as long as libvirt makes it wait: it goes on after this process,
     * which ends at once (and with it the abandoned call, which could
     * otherwise still step that domain's migration) */
    if (left > 0 && guard) {
        vfmigDaemonReport(link.d, VFMIG_DAEMON_REPORT_INFO,
                          _("the guardian (pid %1$lld) hands back %2$u downtime limit(s) after this daemon"),
                          (long long) vfmigGuardPid(guard), left);
        vfmigGuardLeave(guard);
    }
    vfmigGuardFree(guard);
    vfmigDaemonFree(link.d);
    return ret;
}
