/*
 * vfmigdevctl.c: the device state commands as library calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfmigdevctl.h"
#include "vfmigdevicevfio.h"
#include "vfmigenum.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigfsm.h"
#include "vfmigi18n.h"
#include "vfmignodedevqualify.h"

/* A latency hint in sysfs is one number; sysfs gives every attribute the
 * size of a page. */
#define VFMIG_DEVCTL_HINT_MAX 4096

static const char *const vfmigDevCtlHintSourceNames[] = {
    [VFMIG_DEVCTL_HINT_NONE] = "none",
    [VFMIG_DEVCTL_HINT_SYSFS] = "driver-sysfs",
    [VFMIG_DEVCTL_HINT_MEASURED] = "measured",
    [VFMIG_DEVCTL_HINT_RECORD] = "record",
};
G_STATIC_ASSERT(G_N_ELEMENTS(vfmigDevCtlHintSourceNames) == VFMIG_DEVCTL_HINT_LAST);


const char *
vfmigDevCtlHintSourceToString(int source)
{
    return vfmigEnumToString(vfmigDevCtlHintSourceNames,
                             G_N_ELEMENTS(vfmigDevCtlHintSourceNames), source);
}


/* Keeps the last error, and what follows from it, as a warning for the
 * front end, and clears it. */
static void
vfmigDevCtlWarn(GPtrArray *warnings, const char *consequence)
{
    g_ptr_array_add(warnings,
                    g_strdup_printf(_("%1$s; %2$s"),
                                    vfmigGetLastErrorMessage(), consequence));
    vfmigResetLastError();
}


/* ---- devices ---- */

static vfmigDevCtlDev *
vfmigDevCtlDevNew(void)
{
    vfmigDevCtlDev *md = g_new0(vfmigDevCtlDev, 1);

    md->warnings = g_ptr_array_new_with_free_func(g_free);
    return md;
}


void
vfmigDevCtlDevFree(vfmigDevCtlDev *md)
{
    if (!md)
        return;
    vfmigDeviceFree(md->dev);
    vfmigNodeDevPCIFree(md->pci);
    g_ptr_array_unref(md->warnings);
    g_free(md->name);
    g_free(md);
}


vfmigDevCtlDev *
vfmigDevCtlDevWrap(vfmigDevice *dev,
                   const vfmigStateIdentity *id)
{
    vfmigDevCtlDev *md = vfmigDevCtlDevNew();

    md->dev = dev;
    md->name = g_strdup(vfmigDeviceGetName(dev));
    md->id = *id;
    return md;
}


/*
 * <sysfs>/bus/pci/devices/<name>/vfio_migration/<file> as a number into
 * *@value.  1 when read, 0 when it is missing or not a number (these are
 * hints only), -1 with an error when it cannot be read safely.
 */
static int
vfmigDevCtlReadHint(const vfmigVFIOPaths *paths,
                    const char *name,
                    const char *file,
                    uint64_t *value)
{
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    guint64 num;
    int rc;

    *value = 0;
    path = g_strdup_printf("%s/bus/pci/devices/%s/vfio_migration/%s",
                           paths->sysfsRoot ? paths->sysfsRoot : "/sys",
                           name, file);
    if ((rc = vfmigFileRead(_("latency hint"), path, VFMIG_DEVCTL_HINT_MAX,
                            VFMIG_FILE_OPTIONAL, &text, NULL)) <= 0)
        return rc;
    g_strstrip(text);
    if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &num, NULL))
        return 0;
    *value = num;
    return 1;
}


vfmigDevCtlDev *
vfmigDevCtlProbe(const vfmigDevCtlPaths *paths,
                 const char *arg)
{
    g_autoptr(vfmigDevCtlDev) md = vfmigDevCtlDevNew();
    bool isMdev = false;

    if (vfmigVFIOParseName(arg, &md->name, &isMdev) < 0)
        return NULL;
    /* an mdev is no PCI function: its identity comes from the device */
    if (isMdev)
        return g_steal_pointer(&md);

    /* live features only; the record is read when opening, where its
     * problems become warnings */
    if (vfmigNodeDevProbeOne(&paths->probe, md->name,
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


/* Hints from the device's qualification record: 1 when it measured
 * something, 0 when there is none (a broken or stale one is a warning). */
static int
vfmigDevCtlRecordHints(const vfmigDevCtlPaths *paths,
                       vfmigDevCtlDev *md)
{
    g_autoptr(vfmigNodeDevQualified) q = NULL;
    int rc;

    if (!md->pci)
        return 0;
    if ((rc = vfmigNodeDevQualifiedLoad(paths->probe.cacheDir, md->name,
                                        md->pci->driver, &q)) < 0) {
        vfmigDevCtlWarn(md->warnings, _("its latency hints are not used"));
        return 0;
    }
    if (rc == 0 || !q || !q->measured)
        return 0;

    /* A qualification measured the whole fixed part of the stop (the
     * transition and the drain: vfmig_testdev hashes its state there,
     * which no residue over bandwidth accounts for) and of the start
     * (the load commit and the transition). */
    md->stopHint.source = VFMIG_DEVCTL_HINT_RECORD;
    md->stopHint.us = q->stopLatencyUs + q->drainUs;
    md->stopHint.recordAt = q->at;
    md->resumeHint.source = VFMIG_DEVCTL_HINT_RECORD;
    md->resumeHint.us = q->loadCommitUs + q->resumeLatencyUs;
    md->resumeHint.recordAt = q->at;
    return 1;
}


/* Hints from the driver: its live values, or its sysfs files. */
static int
vfmigDevCtlSysfsHints(const vfmigDevCtlPaths *paths,
                      vfmigDevCtlDev *md)
{
    const vfmigNodeDevCapVFIOMig *cap = md->pci ? md->pci->cap : NULL;
    int a;
    int b;

    if (!cap)
        return 0;
    if (cap->live) {
        md->stopHint.us = cap->live->stopLatencyUs;
        md->resumeHint.us = cap->live->resumeLatencyUs;
    } else if (cap->source == VFMIG_NODEDEV_SOURCE_SYSFS) {
        if ((a = vfmigDevCtlReadHint(&paths->vfio, md->name, "stop_latency_us",
                                     &md->stopHint.us)) < 0 ||
            (b = vfmigDevCtlReadHint(&paths->vfio, md->name, "resume_latency_us",
                                     &md->resumeHint.us)) < 0)
            return -1;
        if (!a && !b)
            return 0;
    } else {
        return 0;
    }
    md->stopHint.source = VFMIG_DEVCTL_HINT_SYSFS;
    md->resumeHint.source = VFMIG_DEVCTL_HINT_SYSFS;
    return 0;
}


int
vfmigDevCtlLatencyHints(const vfmigDevCtlPaths *paths,
                        const char *address,
                        vfmigDevCtlHint *stop,
                        vfmigDevCtlHint *resume,
                        GPtrArray **warnings)
{
    g_autoptr(vfmigDevCtlDev) md = vfmigDevCtlDevNew();
    bool isMdev = false;
    int rc;

    if (vfmigVFIOParseName(address, &md->name, &isMdev) < 0)
        return -1;
    if (!isMdev &&
        vfmigNodeDevProbeOne(&paths->probe, md->name,
                             VFMIG_NODEDEV_PROBE_NO_CACHE |
                             VFMIG_NODEDEV_PROBE_NO_QUALIFIED, &md->pci) < 0)
        return -1;
    if ((rc = vfmigDevCtlRecordHints(paths, md)) == 0 &&
        vfmigDevCtlSysfsHints(paths, md) < 0)
        return -1;
    *stop = md->stopHint;
    *resume = md->resumeHint;
    if (warnings)
        *warnings = g_ptr_array_ref(md->warnings);
    return 0;
}


int
vfmigDevCtlOpen(const vfmigDevCtlPaths *paths,
                vfmigDevCtlDev *md,
                unsigned int flags)
{
    const vfmigNodeDevCapVFIOMig *cap = md->pci ? md->pci->cap : NULL;

    if (!(md->dev = vfmigDeviceVFIOOpen(md->name, &paths->vfio)))
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

    memset(&md->stopHint, 0, sizeof(md->stopHint));
    memset(&md->resumeHint, 0, sizeof(md->resumeHint));
    if ((flags & VFMIG_DEVCTL_OPEN_RECORD_HINTS) &&
        vfmigDevCtlRecordHints(paths, md) > 0)
        return 0;
    return vfmigDevCtlSysfsHints(paths, md);
}


vfmigDevCtlDev *
vfmigDevCtlProbeOpen(const vfmigDevCtlPaths *paths,
                     const char *arg,
                     unsigned int flags)
{
    g_autoptr(vfmigDevCtlDev) md = NULL;

    if (!(md = vfmigDevCtlProbe(paths, arg)) ||
        vfmigDevCtlOpen(paths, md, flags) < 0)
        return NULL;
    return g_steal_pointer(&md);
}


const char *
vfmigDevCtlDevStateName(vfmigDevCtlDev *md)
{
    uint32_t state;

    if (!md->dev)
        return NULL;
    if (vfmigDeviceGetState(md->dev, &state) < 0) {
        vfmigResetLastError();
        return NULL;
    }
    return vfmig_fsm_state_name(state);
}


/* ---- qualification ---- */

void
vfmigDevCtlQualifyReportFree(vfmigDevCtlQualifyReport *report)
{
    if (!report)
        return;
    vfmigQualifyResultFree(report->res);
    g_free(report->record);
    g_ptr_array_unref(report->warnings);
    g_free(report);
}


int
vfmigDevCtlQualifyRecord(const vfmigDevCtlPaths *paths,
                         const vfmigDevCtlDev *md,
                         const vfmigQualifyResult *res,
                         char **path)
{
    g_autoptr(vfmigNodeDevQualified) q = g_new0(vfmigNodeDevQualified, 1);
    vfmigQualifyDowntime parts;

    *path = NULL;
    if (!md->pci || !res->ran ||
        (res->failed && res->src.precopyBytes + res->src.stopCopyBytes == 0))
        return 0;

    q->at = g_get_real_time() / G_USEC_PER_SEC;
    q->verdict = res->verdict;
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

    if (vfmigNodeDevQualifiedWrite(paths->probe.cacheDir, md->name,
                                   md->pci->driver, q) < 0)
        return -1;
    *path = vfmigNodeDevQualifiedPath(paths->probe.cacheDir, md->name);
    return 1;
}


int
vfmigDevCtlQualifyDevices(const vfmigDevCtlPaths *paths,
                          vfmigDevCtlDev *md,
                          vfmigDevCtlDev *peer,
                          const vfmigDevCtlQualifyParams *params,
                          vfmigDevCtlQualifyReport **report)
{
    g_autoptr(vfmigDevCtlQualifyReport) rep = g_new0(vfmigDevCtlQualifyReport, 1);
    vfmigDevCtlDev *dst = peer ? peer : md;
    vfmigQualifyParams qp = { 0 };
    vfmigQualifyResult *res;
    vfmigQualifyDowntime parts;

    *report = NULL;
    rep->warnings = g_ptr_array_new_with_free_func(g_free);

    qp.dev = md->dev;
    qp.id = &md->id;
    if (peer) {
        qp.peer = peer->dev;
        qp.peerId = &peer->id;
    }
    qp.targetUs = params->targetUs ? params->targetUs :
                  VFMIG_QUALIFY_DEFAULT_TARGET_US;
    qp.deadlineUs = params->deadlineUs ? params->deadlineUs :
                    VFMIG_QUALIFY_DEFAULT_DEADLINE_US;
    if (params->timeoutMs) {
        qp.timeoutMs = params->timeoutMs;
        if (!params->deadlineUs)
            qp.deadlineUs = MIN(qp.deadlineUs, params->timeoutMs * 1000 / 2);
    }
    /* never a record's figures: the verdict must not feed the next one */
    rep->givenStop = md->stopHint;
    rep->givenResume = dst->resumeHint;
    if (rep->givenStop.source == VFMIG_DEVCTL_HINT_RECORD)
        memset(&rep->givenStop, 0, sizeof(rep->givenStop));
    if (rep->givenResume.source == VFMIG_DEVCTL_HINT_RECORD)
        memset(&rep->givenResume, 0, sizeof(rep->givenResume));
    qp.stopLatencyUs = rep->givenStop.us;
    qp.resumeLatencyUs = rep->givenResume.us;
    qp.calibrate = true;
    qp.roundMs = params->roundMs;
    qp.cancel = params->cancel;
    qp.progress = params->progress;
    qp.progressOpaque = params->progressOpaque;
    qp.tmpDir = params->tmpDir;

    if (vfmigQualifyDevice(&qp, &rep->res) < 0)
        return -1;
    res = rep->res;

    rep->stop = rep->givenStop;
    rep->resume = rep->givenResume;
    if (res->calibrated) {
        rep->stop.source = VFMIG_DEVCTL_HINT_MEASURED;
        rep->stop.us = res->hintStopUs;
        rep->resume.source = VFMIG_DEVCTL_HINT_MEASURED;
        rep->resume.us = res->hintResumeUs;
    }
    if (res->src.haveDecision &&
        res->src.decision.predicted_us != VFMIG_DOWNTIME_UNKNOWN &&
        vfmigQualifyDowntimeParts(&res->src, &res->dst, &parts)) {
        rep->havePrediction = true;
        rep->predictedUs = res->src.decision.predicted_us;
        rep->measuredUs = parts.totalUs;
        rep->predictionErrorPercent =
            vfmigQualifyPredictionError(rep->predictedUs, rep->measuredUs);
    }

    if (params->record && paths &&
        vfmigDevCtlQualifyRecord(paths, md, res, &rep->record) < 0)
        vfmigDevCtlWarn(rep->warnings, _("the qualification is not recorded"));

    *report = g_steal_pointer(&rep);
    return 0;
}


int
vfmigDevCtlQualify(const vfmigDevCtlPaths *paths,
                   const char *device,
                   const char *peerName,
                   const vfmigDevCtlQualifyParams *params,
                   vfmigDevCtlQualifyReport **report)
{
    g_autoptr(vfmigDevCtlDev) md = NULL;
    g_autoptr(vfmigDevCtlDev) peer = NULL;

    *report = NULL;
    /* both idle before either is opened */
    if (!(md = vfmigDevCtlProbe(paths, device)))
        return -1;
    if (peerName) {
        if (!(peer = vfmigDevCtlProbe(paths, peerName)))
            return -1;
        if (g_str_equal(peer->name, md->name)) {
            vfmigReportError(VFMIG_ERR_INVALID_ARG,
                             _("the peer '%1$s' is the device itself: leave --peer out for a round trip onto itself"),
                             peer->name);
            return -1;
        }
    }
    /* the driver's hints only: no record is read */
    if (vfmigDevCtlOpen(paths, md, 0) < 0 ||
        (peer && vfmigDevCtlOpen(paths, peer, 0) < 0))
        return -1;

    if (vfmigDevCtlQualifyDevices(paths, md, peer, params, report) < 0)
        return -1;
    while (md->warnings->len)
        g_ptr_array_add((*report)->warnings,
                        g_ptr_array_steal_index(md->warnings, 0));
    return 0;
}


/* ---- save and restore ---- */

void
vfmigDevCtlStateReportFree(vfmigDevCtlStateReport *report)
{
    if (!report)
        return;
    g_free(report->device);
    g_free(report->state);
    g_free(report->error);
    g_ptr_array_unref(report->warnings);
    g_free(report);
}


static vfmigDevCtlStateReport *
vfmigDevCtlStateReportNew(vfmigDevCtlDev *md)
{
    vfmigDevCtlStateReport *rep = g_new0(vfmigDevCtlStateReport, 1);

    rep->device = g_strdup(md->name);
    rep->warnings = md->warnings;
    md->warnings = g_ptr_array_new_with_free_func(g_free);
    return rep;
}


/* Ends a report: the device's state now, the error when @rc < 0 (which
 * stays the last error). */
static int
vfmigDevCtlStateReportEnd(vfmigDevCtlDev *md,
                          vfmigDevCtlStateReport *rep,
                          int rc)
{
    g_autoptr(vfmigError) err = NULL;

    if (rc < 0)
        err = vfmigSaveLastError();
    rep->state = g_strdup(vfmigDevCtlDevStateName(md));
    if (rc < 0) {
        rep->error = g_strdup(err->message);
        vfmigRestoreLastError(&err);
    }
    return rc;
}


/* @file must not exist: device-save never overwrites. */
static int
vfmigDevCtlCheckNew(const char *file)
{
    struct stat sb;

    if (lstat(file, &sb) == 0) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("'%1$s' exists: device-save never overwrites a file"),
                         file);
        return -1;
    }
    if (errno != ENOENT) {
        vfmigReportSystemError(errno, _("cannot create '%1$s'"), file);
        return -1;
    }
    return 0;
}


static int
vfmigDevCtlSaveRun(vfmigDevCtlDev *md,
                   vfmigFileAtomic *atomic,
                   int fd,
                   const vfmigDevCtlStateParams *params,
                   vfmigDevCtlStateReport *rep)
{
    vfmigEngineConfig cfg;

    vfmigEngineConfigInit(&cfg);
    cfg.precopy = params->precopy;
    cfg.policy.target_us = params->targetUs;    /* 0: the engine's default */
    /* a checkpoint always completes: at worst with a longer stop */
    cfg.policy.on_failure = VFMIG_DOWNTIME_ON_FAILURE_SWITCH;
    if (params->timeoutMs) {
        cfg.timeoutMs = params->timeoutMs;
        cfg.policy.deadline_us = params->timeoutMs * 1000 / 2;
    }
    rep->stop = md->stopHint;
    rep->resume = md->resumeHint;
    cfg.stopLatencyUs = md->stopHint.us;
    cfg.resumeLatencyUs = md->resumeHint.us;
    cfg.cancel = params->cancel;
    cfg.digest = true;
    cfg.progress = params->progress;
    cfg.progressOpaque = params->progressOpaque;

    /* the file is for a device of the same kind: its own multi-load */
    if (vfmigEngineSave(md->dev, &md->id, md->id.multiLoad, fd, &cfg, 0,
                        &rep->engine) < 0)
        return -1;
    if (!atomic)
        return 0;
    /* someone made @file while we wrote: still never overwritten */
    return vfmigFileAtomicCommitNew(atomic);
}


/* A new file for @file: refused when it exists, created under a temporary
 * name beside it.  NULL with an error. */
static vfmigFileAtomic *
vfmigDevCtlCreate(const char *file)
{
    if (vfmigDevCtlCheckNew(file) < 0)
        return NULL;
    /* its error names the file and why */
    return vfmigFileAtomicNew(file, 0600);
}


static int
vfmigDevCtlSaveInto(vfmigDevCtlDev *md,
                    vfmigFileAtomic *atomic,
                    int fd,
                    const vfmigDevCtlStateParams *params,
                    vfmigDevCtlStateReport **report)
{
    g_autoptr(vfmigDevCtlStateReport) rep = vfmigDevCtlStateReportNew(md);
    int rc;

    if (atomic)
        fd = vfmigFileAtomicFD(atomic);
    rc = vfmigDevCtlSaveRun(md, atomic, fd, params, rep);
    rc = vfmigDevCtlStateReportEnd(md, rep, rc);
    *report = g_steal_pointer(&rep);
    return rc;
}


int
vfmigDevCtlSaveDevice(vfmigDevCtlDev *md,
                      const char *file,
                      int fd,
                      const vfmigDevCtlStateParams *params,
                      vfmigDevCtlStateReport **report)
{
    /* freeing an uncommitted file removes the temporary one */
    g_autoptr(vfmigFileAtomic) atomic = NULL;

    *report = NULL;
    if (file && !(atomic = vfmigDevCtlCreate(file)))
        return -1;
    return vfmigDevCtlSaveInto(md, atomic, fd, params, report);
}


int
vfmigDevCtlSave(const vfmigDevCtlPaths *paths,
                const char *device,
                const char *file,
                int fd,
                const vfmigDevCtlStateParams *params,
                vfmigDevCtlStateReport **report)
{
    g_autoptr(vfmigFileAtomic) atomic = NULL;
    g_autoptr(vfmigDevCtlDev) md = NULL;

    *report = NULL;
    /* the file's problems first: nothing is touched for a bad name */
    if (file && !(atomic = vfmigDevCtlCreate(file)))
        return -1;
    if (!(md = vfmigDevCtlProbeOpen(paths, device,
                                    VFMIG_DEVCTL_OPEN_RECORD_HINTS)))
        return -1;
    return vfmigDevCtlSaveInto(md, atomic, fd, params, report);
}


int
vfmigDevCtlRestore(const vfmigDevCtlPaths *paths,
                   const char *device,
                   const char *file,
                   int fd,
                   const vfmigDevCtlStateParams *params,
                   vfmigDevCtlStateReport **report)
{
    g_autoptr(vfmigDevCtlDev) md = NULL;
    g_autoptr(vfmigDevCtlStateReport) rep = NULL;
    int ownFd = -1;
    vfmigEngineConfig cfg;
    int rc;

    *report = NULL;
    if (file) {
        if ((ownFd = open(file, O_RDONLY | O_CLOEXEC)) < 0) {
            vfmigReportSystemError(errno, _("cannot open '%1$s'"), file);
            return -1;
        }
        fd = ownFd;
    }

    if (!(md = vfmigDevCtlProbeOpen(paths, device,
                                    VFMIG_DEVCTL_OPEN_RECORD_HINTS))) {
        if (ownFd >= 0)
            close(ownFd);
        return -1;
    }

    rep = vfmigDevCtlStateReportNew(md);
    vfmigEngineConfigInit(&cfg);
    cfg.cancel = params->cancel;
    cfg.timeoutMs = params->timeoutMs;
    cfg.digest = true;
    cfg.progress = params->progress;
    cfg.progressOpaque = params->progressOpaque;

    rc = vfmigEngineLoad(md->dev, &md->id, fd, &cfg,
                         params->leaveStopped ? VFMIG_ENGINE_LEAVE_STOPPED : 0,
                         &rep->engine);
    rep->touched = rep->engine.failed ?
                   rep->engine.failedPhase != VFMIG_ENGINE_PHASE_SETUP : true;
    rc = vfmigDevCtlStateReportEnd(md, rep, rc);
    if (ownFd >= 0)
        close(ownFd);
    *report = g_steal_pointer(&rep);
    return rc;
}
