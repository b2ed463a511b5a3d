/*
 * virt-vfmig-state-report.c: what the device state commands of virt-vfmig
 * share: option helpers, the cancel flag, the progress line, the printers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "virt-vfmig-state.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmignodedevqualify.h"


/* ---- signals ---- */

gint vfmigStateCancel;

static void
vfmigStateSignal(int sig G_GNUC_UNUSED)
{
    g_atomic_int_set(&vfmigStateCancel, 1);
}


void
vfmigStateSetupSignals(void)
{
    struct sigaction sa;

    /* no SA_RESTART: a read or write blocked on a pipe returns EINTR, and
     * the engine looks at the flag before it waits again */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = vfmigStateSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* a reader that went away is an EPIPE the engine rolls back from */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}


/* ---- options ---- */

int
vfmigStateOptNumber(vfmigCtl *ctl,
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
        vfmigShellUsageError(ctl,
                             _("command '%1$s': option --%2$s wants a whole number from 1 to %3$llu, not '%4$s'"),
                             cmd->def->name, name,
                             (unsigned long long) max, str);
        return -1;
    }
    *value = num;
    return 0;
}


void
vfmigStatePathsFromEnv(vfmigDevCtlPaths *paths)
{
    memset(paths, 0, sizeof(*paths));
    vfmigVFIOPathsFromEnv(&paths->vfio);
    vfmigNodeDevProbePathsFromEnv(&paths->probe);
}


void
vfmigStatePrintWarnings(const GPtrArray *warnings)
{
    size_t i;

    for (i = 0; warnings && i < warnings->len; i++)
        fprintf(stderr, _("warning: %1$s\n"),
                (const char *) g_ptr_array_index(warnings, i));
}


/* ---- progress and fields ---- */

void
vfmigStateProgressInit(vfmigStateProgress *p)
{
    memset(p, 0, sizeof(*p));
    g_mutex_init(&p->lock);
    p->enabled = isatty(STDERR_FILENO) == 1;
}


static void
vfmigStateProgressSide(GString *line, const vfmigEngineProgress *pr)
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


void
vfmigStateProgressCb(const vfmigEngineProgress *pr, void *opaque)
{
    vfmigStateProgress *p = opaque;
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
        vfmigStateProgressSide(line, &p->last[i]);
    }
    width = (int) g_utf8_strlen(line->str, -1);
    fprintf(stderr, "\r%s%*s", line->str, MAX(0, p->width - width), "");
    fflush(stderr);
    p->width = width;
    g_mutex_unlock(&p->lock);
}


/* Wipes the progress line, before the report. */
void
vfmigStateProgressEnd(vfmigStateProgress *p)
{
    if (p->enabled && p->width > 0) {
        fprintf(stderr, "\r%*s\r", p->width, "");
        fflush(stderr);
    }
    p->width = 0;
    g_mutex_clear(&p->lock);
}


/* ---- reports ---- */

char *
vfmigStateUs(uint64_t us)
{
    if (us == VFMIG_DOWNTIME_UNKNOWN)
        return g_strdup(_("unknown"));
    return g_strdup_printf(_("%1$.3f ms"), us / 1000.0);
}


char *
vfmigStateBytes(uint64_t bytes)
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
void
vfmigStateField(FILE *out, const char *label, const char *value)
{
    glong width = g_utf8_strlen(label, -1);

    fprintf(out, "%s:%*s%s\n", label, (int) MAX(1, 21 - width), "", value);
}


void
vfmigStateFieldNum(FILE *out, const char *label, unsigned long long value)
{
    g_autofree char *str = g_strdup_printf("%llu", value);

    vfmigStateField(out, label, str);
}


void
vfmigStateFieldTake(FILE *out, const char *label, char *value)
{
    vfmigStateField(out, label, value);
    g_free(value);
}


uint64_t
vfmigStateElapsed(const vfmigEngineReport *r)
{
    return r->endUs > r->startUs ? r->endUs - r->startUs : 0;
}


/* The source's sizes, rounds and policy, for text reports. */
void
vfmigStateTextSource(FILE *out, const vfmigEngineReport *r)
{
    vfmigStateFieldTake(out, _("Initial bytes"), vfmigStateBytes(r->initialBytes));
    vfmigStateFieldTake(out, _("Pre-copy bytes"), vfmigStateBytes(r->precopyBytes));
    vfmigStateFieldTake(out, _("Stop-copy bytes"), vfmigStateBytes(r->stopCopyBytes));
    vfmigStateFieldTake(out, _("Stop-copy estimate"), vfmigStateBytes(r->stopCopyEstimate));
    vfmigStateFieldTake(out, _("Stream bytes"), vfmigStateBytes(r->streamBytes));
    vfmigStateFieldNum(out, _("Pre-copy images"), r->precopyImages);
    vfmigStateFieldNum(out, _("Iterations"), r->iterations);
    if (r->haveDecision) {
        vfmigStateFieldTake(out, _("Convergence"),
                              g_strdup_printf("%s (%s)",
                                              vfmigDowntimeDecisionToString(r->decision.decision),
                                              vfmigDowntimeReasonToString(r->decision.reason)));
    } else {
        vfmigStateField(out, _("Convergence"), _("no pre-copy"));
    }
    vfmigStateFieldTake(out, _("Pre-copy time"), vfmigStateUs(r->precopyUs));
    vfmigStateFieldTake(out, _("Stop latency"), vfmigStateUs(r->stopLatencyUs));
}


void
vfmigStateTextEvents(FILE *out, const vfmigEngineReport *r)
{
    unsigned int i;

    if (!r->nevents)
        return;
    vfmigStateFieldNum(out, _("Policy decisions"), r->nevents);
    for (i = 0; i < r->neventsKept; i++) {
        const vfmigEngineDecisionEvent *ev = &r->events[i];
        g_autofree char *predicted = vfmigStateUs(ev->predictedUs);
        g_autofree char *residue = vfmigStateBytes(ev->residueBytes);

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
void
vfmigStateJSONNum(vfmigJSONWriter *w, const char *key, uint64_t value)
{
    if (value == VFMIG_DOWNTIME_UNKNOWN)
        vfmigJSONString(w, key, NULL);
    else
        vfmigJSONUInt(w, key, value);
}


static void
vfmigStateJSONDecision(vfmigJSONWriter *w,
                         const char *key,
                         const vfmigDowntimeResult *d)
{
    vfmigJSONBeginObject(w, key);
    vfmigJSONString(w, "decision", vfmigDowntimeDecisionToString(d->decision));
    vfmigJSONString(w, "reason", vfmigDowntimeReasonToString(d->reason));
    vfmigStateJSONNum(w, "predicted-us", d->predicted_us);
    vfmigStateJSONNum(w, "device-residue-us", d->device_residue_us);
    vfmigStateJSONNum(w, "latency-us", d->latency_us);
    vfmigStateJSONNum(w, "overshoot-us", d->overshoot_us);
    vfmigStateJSONNum(w, "residue-bytes", d->device_residue_bytes);
    vfmigStateJSONNum(w, "initial-bytes", d->initial_bytes);
    vfmigStateJSONNum(w, "bandwidth", d->bandwidth);
    vfmigJSONEndObject(w);
}


/* One side's engine report as a JSON object. */
void
vfmigStateJSONReport(vfmigJSONWriter *w,
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
    vfmigJSONUInt(w, "elapsed-us", vfmigStateElapsed(r));
    vfmigJSONUInt(w, "rate", r->rate);
    if (r->side == VFMIG_ENGINE_SIDE_SOURCE) {
        vfmigJSONUInt(w, "initial-bytes", r->initialBytes);
        vfmigStateJSONNum(w, "stop-copy-estimate", r->stopCopyEstimate);
        vfmigJSONUInt(w, "precopy-us", r->precopyUs);
        vfmigJSONUInt(w, "stop-latency-us", r->stopLatencyUs);
        if (r->drainedUs > r->stopStartUs)
            vfmigJSONUInt(w, "stop-copy-us", r->drainedUs - r->stopStartUs);
        if (r->haveDecision)
            vfmigStateJSONDecision(w, "decision", &r->decision);
        vfmigJSONUInt(w, "decision-changes", r->nevents);
        vfmigJSONBeginArray(w, "decisions");
        for (i = 0; i < r->neventsKept; i++) {
            const vfmigEngineDecisionEvent *ev = &r->events[i];

            vfmigJSONBeginObject(w, NULL);
            vfmigJSONUInt(w, "elapsed-us", ev->elapsedUs);
            vfmigJSONUInt(w, "iteration", ev->iteration);
            vfmigJSONString(w, "decision", vfmigDowntimeDecisionToString(ev->decision));
            vfmigJSONString(w, "reason", vfmigDowntimeReasonToString(ev->reason));
            vfmigStateJSONNum(w, "predicted-us", ev->predictedUs);
            vfmigStateJSONNum(w, "residue-bytes", ev->residueBytes);
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


void
vfmigStateJSONPrint(vfmigJSONWriter *w, FILE *out)
{
    g_autofree char *doc = vfmigJSONWriterFinish(w);

    fputs(doc, out);
    fflush(out);
}


/* ---- latency hints and their sources ---- */

char *
vfmigStateSourceText(const vfmigDevCtlHint *hint)
{
    g_autofree char *at = NULL;

    switch (hint->source) {
    case VFMIG_DEVCTL_HINT_RECORD:
        at = vfmigNodeDevQualifiedFormatTime(hint->recordAt);
        return g_strdup_printf(_("from the qualification record of %1$s"),
                               at ? at : "?");
    case VFMIG_DEVCTL_HINT_SYSFS:
        return g_strdup(_("from the driver's sysfs"));
    case VFMIG_DEVCTL_HINT_MEASURED:
        return g_strdup(_("measured in this run"));
    case VFMIG_DEVCTL_HINT_NONE:
    case VFMIG_DEVCTL_HINT_LAST:
    default:
        return g_strdup(_("none known"));
    }
}


void
vfmigStateTextHints(FILE *out,
                    const vfmigDevCtlHint *stopHint,
                    const vfmigDevCtlHint *resumeHint)
{
    g_autofree char *stop = vfmigStateUs(stopHint->us);
    g_autofree char *resume = vfmigStateUs(resumeHint->us);
    g_autofree char *stopFrom = vfmigStateSourceText(stopHint);
    g_autofree char *resumeFrom = vfmigStateSourceText(resumeHint);

    if (g_str_equal(stopFrom, resumeFrom))
        vfmigStateFieldTake(out, _("Latency hints"),
                            g_strdup_printf(_("%1$s (stop %2$s, resume %3$s)"),
                                            stopFrom, stop, resume));
    else
        vfmigStateFieldTake(out, _("Latency hints"),
                            g_strdup_printf(_("stop %1$s %2$s, resume %3$s %4$s"),
                                            stop, stopFrom, resume, resumeFrom));
}


void
vfmigStateJSONHint(vfmigJSONWriter *w,
                   const char *key,
                   const vfmigDevCtlHint *hint)
{
    g_autofree char *at = NULL;

    if (hint->source == VFMIG_DEVCTL_HINT_RECORD)
        at = vfmigNodeDevQualifiedFormatTime(hint->recordAt);
    vfmigJSONBeginObject(w, key);
    vfmigJSONUInt(w, "us", hint->us);
    vfmigJSONString(w, "from", vfmigDevCtlHintSourceToString(hint->source));
    vfmigJSONString(w, "qualified-at", at);
    vfmigJSONEndObject(w);
}


void
vfmigStateJSONHints(vfmigJSONWriter *w,
                    const vfmigDevCtlHint *stop,
                    const vfmigDevCtlHint *resume)
{
    vfmigJSONBeginObject(w, "latency-hints");
    vfmigStateJSONHint(w, "stop", stop);
    vfmigStateJSONHint(w, "resume", resume);
    vfmigJSONEndObject(w);
}
