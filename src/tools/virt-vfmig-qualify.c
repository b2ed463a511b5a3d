/*
 * virt-vfmig-qualify.c: virt-vfmig device-qualify
 *
 * Parses the options, calls vfmigDevCtlQualify and prints its report:
 * every figure with where it came from (measured in this run, the
 * driver's sysfs).  A qualification reads no earlier record.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>

#include "virt-vfmig-state.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmigvfio.h"


/* The prediction and its error, the measured downtime and its parts. */
static void
vfmigQualifyTextDowntime(const vfmigDevCtlQualifyReport *rep)
{
    const vfmigQualifyResult *res = rep->res;
    const vfmigEngineReport *src = &res->src;
    vfmigQualifyDowntime parts;

    if (vfmigQualifyDowntimeParts(src, &res->dst, &parts)) {
        g_autofree char *stop = vfmigStateUs(parts.stopUs);
        g_autofree char *drain = vfmigStateUs(parts.drainUs);
        g_autofree char *load = vfmigStateUs(parts.loadUs);
        g_autofree char *resume = vfmigStateUs(parts.resumeUs);
        g_autofree char *total = vfmigStateUs(parts.totalUs);

        vfmigStateFieldTake(stdout, _("Downtime"),
                            g_strdup_printf(_("%1$s (measured in this run)"),
                                            total));
        vfmigStateFieldTake(stdout, _("Downtime parts"),
                            g_strdup_printf(_("stop %1$s, stop-copy drain %2$s, load %3$s, resume %4$s"),
                                            stop, drain, load, resume));
    } else {
        vfmigStateField(stdout, _("Downtime"), _("not measured (the run failed)"));
    }
    if (res->calibrated) {
        g_autofree char *total = vfmigStateUs(res->calibration.totalUs);
        g_autofree char *stop = vfmigStateUs(res->calibration.stopUs);
        g_autofree char *drain = vfmigStateUs(res->calibration.drainUs);
        g_autofree char *load = vfmigStateUs(res->calibration.loadUs);
        g_autofree char *resume = vfmigStateUs(res->calibration.resumeUs);

        vfmigStateFieldTake(stdout, _("First run"),
                            g_strdup_printf(_("downtime %1$s: stop %2$s, stop-copy drain %3$s, load %4$s, resume %5$s (its switchover costs are the latency hints)"),
                                            total, stop, drain, load, resume));
    }
    if (src->haveDecision) {
        g_autofree char *residue = vfmigStateUs(src->decision.device_residue_us);
        g_autofree char *latency = vfmigStateUs(src->decision.latency_us);
        g_autofree char *predicted = vfmigStateUs(src->decision.predicted_us);

        if (rep->havePrediction)
            vfmigStateFieldTake(stdout, _("Predicted downtime"),
                                g_strdup_printf(_("%1$s (residue %2$s, latencies %3$s; %4$+.1f %% of the measured)"),
                                                predicted, residue, latency,
                                                rep->predictionErrorPercent));
        else
            vfmigStateFieldTake(stdout, _("Predicted downtime"),
                                g_strdup_printf(_("%1$s (residue %2$s, latencies %3$s)"),
                                                predicted, residue, latency));
    }
}


static void
vfmigQualifyPrintText(const vfmigDevCtlQualifyReport *rep)
{
    const vfmigQualifyResult *res = rep->res;
    const vfmigEngineReport *src = &res->src;
    const vfmigEngineReport *dst = &res->dst;
    size_t i;

    vfmigStateField(stdout, _("Device"), res->device);
    if (res->peer)
        vfmigStateField(stdout, _("Destination"), res->peer);
    else
        vfmigStateFieldTake(stdout, _("Destination"),
                            g_strdup_printf(_("%1$s (round trip onto itself)"),
                                            res->device));
    if (res->haveFlags) {
        g_autofree char *flags = vfmigDeviceFlagsString(res->flags);

        vfmigStateField(stdout, _("Migration"), *flags ? flags : _("none"));
    }
    vfmigStateFieldTake(stdout, _("Target downtime"), vfmigStateUs(res->targetUs));

    if (res->ran) {
        vfmigStateField(stdout, _("Mode"), vfmigStatePrecopyModeToString(res->mode));
        if (res->calibrated) {
            g_autofree char *given = NULL;
            g_autofree char *stop = vfmigStateUs(rep->givenStop.us);
            g_autofree char *resume = vfmigStateUs(rep->givenResume.us);

            given = vfmigStateSourceText(&rep->givenStop);
            vfmigStateFieldTake(stdout, _("First run hints"),
                                g_strdup_printf(_("%1$s (stop %2$s, resume %3$s)"),
                                                given, stop, resume));
        }
        vfmigStateTextHints(stdout, &rep->stop, &rep->resume);
        vfmigStateTextSource(stdout, src);
        vfmigStateFieldTake(stdout, _("Load time"), vfmigStateUs(dst->loadCommitUs));
        vfmigStateFieldTake(stdout, _("Resume latency"), vfmigStateUs(dst->resumeLatencyUs));
        vfmigQualifyTextDowntime(rep);
        vfmigStateField(stdout, _("Source digest"),
                        *src->digest ? src->digest : _("none"));
        vfmigStateField(stdout, _("Destination digest"),
                        *dst->digest ? dst->digest : _("none"));
        vfmigStateTextEvents(stdout, src);
    }

    if (rep->record)
        vfmigStateField(stdout, _("Recorded in"), rep->record);
    vfmigStateField(stdout, _("Verdict"), vfmigNodeDevVerdictTypeToString(res->verdict));
    for (i = 0; i < res->findings->len; i++) {
        const vfmigQualifyFinding *f = g_ptr_array_index(res->findings, i);

        printf("  %-5s %-12s %s\n", vfmigQualifySeverityToString(f->severity),
               f->id, f->message);
    }
    fflush(stdout);
}


static void
vfmigQualifyJSONDowntime(vfmigJSONWriter *w,
                         const char *key,
                         const vfmigQualifyDowntime *parts)
{
    vfmigJSONBeginObject(w, key);
    vfmigJSONUInt(w, "measured-us", parts->totalUs);
    vfmigJSONUInt(w, "stop-us", parts->stopUs);
    vfmigJSONUInt(w, "drain-us", parts->drainUs);
    vfmigJSONUInt(w, "load-us", parts->loadUs);
    vfmigJSONUInt(w, "resume-us", parts->resumeUs);
    vfmigJSONString(w, "from", vfmigDevCtlHintSourceToString(VFMIG_DEVCTL_HINT_MEASURED));
    vfmigJSONEndObject(w);
}


static void
vfmigQualifyJSONRun(vfmigJSONWriter *w, const vfmigDevCtlQualifyReport *rep)
{
    const vfmigQualifyResult *res = rep->res;
    vfmigQualifyDowntime parts;

    vfmigStateJSONReport(w, "source", &res->src);
    vfmigStateJSONReport(w, "destination", &res->dst);
    if (vfmigQualifyDowntimeParts(&res->src, &res->dst, &parts))
        vfmigQualifyJSONDowntime(w, "downtime", &parts);
    else
        vfmigJSONString(w, "downtime", NULL);
    if (res->calibrated)
        vfmigQualifyJSONDowntime(w, "first-run-downtime", &res->calibration);
    else
        vfmigJSONString(w, "first-run-downtime", NULL);
    if (res->src.haveDecision)
        vfmigStateJSONNum(w, "predicted-downtime-us", res->src.decision.predicted_us);
    else
        vfmigJSONString(w, "predicted-downtime-us", NULL);
    vfmigJSONUInt(w, "stop-latency-us", res->src.stopLatencyUs);
    vfmigJSONUInt(w, "resume-latency-us", res->dst.resumeLatencyUs);
    vfmigJSONUInt(w, "load-us", res->dst.loadCommitUs);
}


static void
vfmigQualifyPrintJSON(const vfmigDevCtlQualifyReport *rep)
{
    const vfmigQualifyResult *res = rep->res;
    g_autoptr(vfmigJSONWriter) w = vfmigJSONWriterNew();
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
    if (res->ran) {
        vfmigJSONBool(w, "measured-first", res->calibrated);
        vfmigJSONBeginObject(w, "first-run-hints");
        vfmigStateJSONHint(w, "stop", &rep->givenStop);
        vfmigStateJSONHint(w, "resume", &rep->givenResume);
        vfmigJSONEndObject(w);
        vfmigStateJSONHints(w, &rep->stop, &rep->resume);
    }
    vfmigJSONString(w, "record", rep->record);
    if (res->ran)
        vfmigQualifyJSONRun(w, rep);
    vfmigJSONString(w, "verdict", vfmigNodeDevVerdictTypeToString(res->verdict));
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
    vfmigStateJSONPrint(w, stdout);
}


bool
cmdDeviceQualify(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *name = vfmigCmdGetString(cmd, "device");
    const char *peerName = vfmigCmdGetString(cmd, "peer");
    g_autofree char *nameNorm = NULL;
    g_autofree char *peerNorm = NULL;
    bool json = vfmigCmdGetBool(cmd, "json");
    g_autoptr(vfmigDevCtlQualifyReport) rep = NULL;
    vfmigDevCtlQualifyParams params = { 0 };
    vfmigDevCtlPaths paths;
    vfmigStateProgress progress;
    const vfmigQualifyFinding *why = NULL;
    uint64_t targetMs;
    uint64_t timeoutS;
    size_t i;
    int rc;

    if (vfmigStateOptNumber(ctl, cmd, "target-ms",
                            VFMIG_STATE_TARGET_MS_MAX, &targetMs) < 0 ||
        vfmigStateOptNumber(ctl, cmd, "timeout",
                            VFMIG_STATE_TIMEOUT_MAX, &timeoutS) < 0)
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

    vfmigStateSetupSignals();
    vfmigStatePathsFromEnv(&paths);
    params.targetUs = targetMs * 1000;
    params.timeoutMs = timeoutS * 1000;
    params.record = !vfmigCmdGetBool(cmd, "no-record");
    params.cancel = &vfmigStateCancel;
    vfmigStateProgressInit(&progress);
    params.progress = vfmigStateProgressCb;
    params.progressOpaque = &progress;

    rc = vfmigDevCtlQualify(&paths, name, peerName, &params, &rep);
    vfmigStateProgressEnd(&progress);
    if (rc < 0)
        return false;

    vfmigStatePrintWarnings(rep->warnings);
    if (json) {
        vfmigQualifyPrintJSON(rep);
        ctl->jsonPrinted = true;
    } else
        vfmigQualifyPrintText(rep);

    if (rep->res->verdict != VFMIG_NODEDEV_VERDICT_NOT_QUALIFIED)
        return true;

    for (i = 0; i < rep->res->findings->len && !why; i++) {
        const vfmigQualifyFinding *f = g_ptr_array_index(rep->res->findings, i);

        if (f->severity == VFMIG_QUALIFY_FAIL)
            why = f;
    }
    vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                     _("device '%1$s' is not qualified for migration: %2$s"),
                     rep->res->device, why ? why->message : _("see the findings"));
    return false;
}


const vfmigCmdOptDef vfmigStateOptsDeviceQualify[] = {
    VFMIG_COMMON_OPT_DEVICE,
    { "peer", VFMIG_OPT_STRING, false,
      N_("migrate onto this other idle device instead of onto the device itself (its state is overwritten)") },
    VFMIG_COMMON_OPT_TARGET_MS,
    VFMIG_COMMON_OPT_TIMEOUT,
    VFMIG_COMMON_OPT_JSON,
    { "no-record", VFMIG_OPT_BOOL, false,
      N_("do not keep the measured figures in the device's qualification record") },
    { NULL, 0, false, NULL }
};
