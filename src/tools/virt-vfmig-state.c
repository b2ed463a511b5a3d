/*
 * virt-vfmig-state.c: virt-vfmig device-save and device-restore, and the
 * table of the device state commands
 *
 * The handlers parse options, call vfmigDevCtlSave or vfmigDevCtlRestore
 * and print the report.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>
#include <unistd.h>

#include "virt-vfmig-state.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmigvfio.h"


/* What device-save and device-restore reports begin with. */
static vfmigJSONWriter *
vfmigStateJSONFileHead(const vfmigDevCtlStateReport *rep,
                       const char *file)
{
    vfmigJSONWriter *w = vfmigJSONWriterNew();

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "device", rep->device);
    vfmigJSONString(w, "file", file);
    vfmigJSONString(w, "mode", vfmigStatePrecopyModeToString(rep->engine.mode));
    vfmigJSONString(w, "state", rep->state);
    vfmigJSONString(w, "error", rep->error);
    return w;
}


static void
vfmigStateTextFileHead(FILE *out,
                       const vfmigDevCtlStateReport *rep,
                       const char *file)
{
    vfmigStateField(out, _("Device"), rep->device);
    vfmigStateField(out, _("File"), file);
    vfmigStateField(out, _("Mode"), vfmigStatePrecopyModeToString(rep->engine.mode));
}


/* ---- device-save ---- */

static void
vfmigSavePrint(FILE *out,
               bool json,
               const vfmigDevCtlStateReport *rep,
               const char *file)
{
    const vfmigEngineReport *r = &rep->engine;
    g_autofree char *rate = NULL;

    if (json) {
        g_autoptr(vfmigJSONWriter) w = vfmigStateJSONFileHead(rep, file);

        vfmigStateJSONHints(w, &rep->stop, &rep->resume);
        vfmigStateJSONReport(w, "report", r);
        vfmigJSONEndObject(w);
        vfmigStateJSONPrint(w, out);
        return;
    }

    vfmigStateTextFileHead(out, rep, file);
    vfmigStateTextHints(out, &rep->stop, &rep->resume);
    vfmigStateTextSource(out, r);
    if (r->drainedUs > r->stopStartUs)
        vfmigStateFieldTake(out, _("Stop-copy time"),
                            vfmigStateUs(r->drainedUs - r->stopStartUs));
    vfmigStateFieldTake(out, _("Total time"), vfmigStateUs(vfmigStateElapsed(r)));
    rate = vfmigQualifyFormatBytes(r->rate);
    vfmigStateFieldTake(out, _("Rate"), g_strdup_printf(_("%1$s/s"), rate));
    vfmigStateField(out, _("Digest"), *r->digest ? r->digest : _("none"));
    vfmigStateField(out, _("State"), rep->state ? rep->state : _("unknown"));
    vfmigStateTextEvents(out, r);
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
    g_autoptr(vfmigDevCtlStateReport) rep = NULL;
    vfmigDevCtlStateParams params = { 0 };
    vfmigDevCtlPaths paths;
    vfmigStateProgress progress;
    FILE *out = toStdout ? stderr : stdout;
    uint64_t targetMs;
    uint64_t timeoutS;
    int precopy = VFMIG_ENGINE_PRECOPY_AUTO;
    int rc;

    if (vfmigStateOptNumber(ctl, cmd, "target-ms",
                            VFMIG_STATE_TARGET_MS_MAX, &targetMs) < 0 ||
        vfmigStateOptNumber(ctl, cmd, "timeout",
                            VFMIG_STATE_TIMEOUT_MAX, &timeoutS) < 0)
        return false;

    if (precopyStr &&
        (precopy = vfmigEnginePrecopyFromString(precopyStr)) < 0) {
        vfmigShellUsageError(ctl,
                             _("command '%1$s': option --precopy wants auto, on or off, not '%2$s'"),
                             cmd->def->name, precopyStr);
        return false;
    }
    if (vfmigVFIOParseName(name, NULL, NULL) < 0)
        return vfmigShellUsageErrorLast(ctl);

    vfmigStateSetupSignals();
    vfmigStatePathsFromEnv(&paths);

    if (toStdout && isatty(STDOUT_FILENO) == 1) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("refusing to write a device state to a terminal: redirect the standard output, or give a file name"));
        return false;
    }

    params.precopy = precopy;
    params.targetUs = targetMs * 1000;
    params.timeoutMs = timeoutS * 1000;
    params.cancel = &vfmigStateCancel;
    vfmigStateProgressInit(&progress);
    params.progress = vfmigStateProgressCb;
    params.progressOpaque = &progress;

    rc = vfmigDevCtlSave(&paths, name, toStdout ? NULL : file,
                         toStdout ? STDOUT_FILENO : -1, &params, &rep);
    vfmigStateProgressEnd(&progress);
    if (rep)
        vfmigStatePrintWarnings(rep->warnings);
    if (rc < 0) {
        if (rep && json) {
            vfmigSavePrint(out, true, rep, file);
            ctl->jsonPrinted = true;
        }
        return false;
    }
    vfmigSavePrint(out, json, rep, toStdout ? _("standard output") : file);
    return true;
}


/* ---- device-restore ---- */

static void
vfmigRestorePrint(FILE *out,
                  bool json,
                  const vfmigDevCtlStateReport *rep,
                  const char *file)
{
    const vfmigEngineReport *r = &rep->engine;

    if (json) {
        g_autoptr(vfmigJSONWriter) w = vfmigStateJSONFileHead(rep, file);

        vfmigJSONBool(w, "touched", rep->touched);
        vfmigStateJSONReport(w, "report", r);
        vfmigJSONEndObject(w);
        vfmigStateJSONPrint(w, out);
        return;
    }

    vfmigStateTextFileHead(out, rep, file);
    vfmigStateFieldTake(out, _("Pre-copy bytes"), vfmigStateBytes(r->precopyBytes));
    vfmigStateFieldTake(out, _("Stop-copy bytes"), vfmigStateBytes(r->stopCopyBytes));
    vfmigStateFieldTake(out, _("Stream bytes"), vfmigStateBytes(r->streamBytes));
    vfmigStateFieldNum(out, _("Pre-copy images"), r->precopyImages);
    vfmigStateFieldTake(out, _("Load time"), vfmigStateUs(r->loadCommitUs));
    vfmigStateFieldTake(out, _("Resume latency"), vfmigStateUs(r->resumeLatencyUs));
    vfmigStateFieldTake(out, _("Total time"), vfmigStateUs(vfmigStateElapsed(r)));
    vfmigStateField(out, _("Digest"), *r->digest ? r->digest : _("none"));
    vfmigStateField(out, _("State"), rep->state ? rep->state : _("unknown"));
    fflush(out);
}


static bool
cmdDeviceRestore(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *name = vfmigCmdGetString(cmd, "device");
    const char *file = vfmigCmdGetString(cmd, "file");
    bool json = vfmigCmdGetBool(cmd, "json");
    bool fromStdin = g_str_equal(file, "-");
    g_autoptr(vfmigDevCtlStateReport) rep = NULL;
    vfmigDevCtlStateParams params = { 0 };
    vfmigDevCtlPaths paths;
    vfmigStateProgress progress;
    const char *fileName = fromStdin ? _("standard input") : file;
    const char *state;
    int rc;

    if (vfmigVFIOParseName(name, NULL, NULL) < 0)
        return vfmigShellUsageErrorLast(ctl);

    vfmigStateSetupSignals();
    vfmigStatePathsFromEnv(&paths);

    if (fromStdin && isatty(STDIN_FILENO) == 1) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("refusing to read a device state from a terminal: redirect the standard input, or give a file name"));
        return false;
    }

    params.leaveStopped = vfmigCmdGetBool(cmd, "stopped");
    params.cancel = &vfmigStateCancel;
    vfmigStateProgressInit(&progress);
    params.progress = vfmigStateProgressCb;
    params.progressOpaque = &progress;

    rc = vfmigDevCtlRestore(&paths, name, fromStdin ? NULL : file,
                            fromStdin ? STDIN_FILENO : -1, &params, &rep);
    vfmigStateProgressEnd(&progress);
    if (rep)
        vfmigStatePrintWarnings(rep->warnings);
    if (rc < 0) {
        if (!rep)
            return false;
        state = rep->state;
        if (json) {
            vfmigRestorePrint(stdout, true, rep, fileName);
            ctl->jsonPrinted = true;
        }
        if (!rep->touched)
            fprintf(stderr, _("note: nothing was loaded: device '%1$s' was not touched and is %2$s with its own state\n"),
                    rep->device, state ? state : _("in an unknown state"));
        else
            fprintf(stderr, _("note: device '%1$s' was reset after a partial load: its previous state is gone; it is %2$s\n"),
                    rep->device, state ? state : _("in an unknown state"));
        return false;
    }

    vfmigRestorePrint(stdout, json, rep, fileName);
    return true;
}


/* ---- the table ---- */

static const vfmigCmdOptDef optsDeviceSave[] = {
    VFMIG_COMMON_OPT_DEVICE,
    { "file", VFMIG_OPT_ARG, true,
      N_("the state file to create (never overwritten); '-' for the standard output") },
    { "precopy", VFMIG_OPT_STRING, false,
      N_("auto (the default), on or off: stream while the device runs") },
    VFMIG_COMMON_OPT_TARGET_MS,
    VFMIG_COMMON_OPT_TIMEOUT,
    VFMIG_COMMON_OPT_JSON,
    { NULL, 0, false, NULL }
};

static const vfmigCmdOptDef optsDeviceRestore[] = {
    VFMIG_COMMON_OPT_DEVICE,
    { "file", VFMIG_OPT_ARG, true,
      N_("the state file, as device-save wrote it; '-' for the standard input") },
    { "stopped", VFMIG_OPT_BOOL, false,
      N_("leave the device in STOP after the load instead of starting it") },
    VFMIG_COMMON_OPT_JSON,
    { NULL, 0, false, NULL }
};

const vfmigCmdDef vfmigMigrateCmds[] = {
    { "device-qualify", cmdDeviceQualify, vfmigStateOptsDeviceQualify,
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
         "nodedev-dumpxml) and device-save takes its latency hints from it; "
         "a qualification never reads it: it measures the device's "
         "switchover costs in a first run and predicts the second with them, "
         "so that the same device gets the same verdict every time.") },
    { "device-save", cmdDeviceSave, optsDeviceSave,
      N_("save a device's state into a file"),
      N_("Saves the state of an idle device into a new file, in vfmig's "
         "state file format (a header with the device's identity, chunks "
         "with SHA-256 digests, an end record), with pre-copy where the "
         "device has it; the device then runs again with its state, as after "
         "a checkpoint.  The file can be restored onto a device of the same "
         "kind (driver, PCI ids, firmware, stream version).  The file is "
         "written under a temporary name beside it and renamed once complete "
         "and on disk: an interrupted save leaves no file under its name.") },
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
