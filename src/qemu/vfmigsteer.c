/*
 * vfmigsteer.c: the controller on a libvirt domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigsteer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "vfmigdevice.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmignodedevprobe.h"
#include "vfmigsysfs.h"

typedef struct _vfmigSteerDevice vfmigSteerDevice;
struct _vfmigSteerDevice {
    char *address;                  /* this host's VF */
    vfmigDevCtlHint stop;
    vfmigDevCtlHint resume;
};

struct _vfmigSteer {
    const vfmigSteerCalls *calls;
    virDomainPtr dom;
    char *name;
    char uuid[VIR_UUID_STRING_BUFLEN];
    vfmigDevCtlPaths paths;
    vfmigSteerDevice *devices;
    size_t ndevices;
    uint64_t targetUs;
    vfmigDomainPolicyOnFailure onFailure;
    GPtrArray *warnings;            /* char * */
    vfmigController *ctl;
    vfmigSteerLoop *loop;
    vfmigSteerLock *lock;           /* NULL: given up */
    vfmigGuard *guard;              /* borrowed; NULL: none */
    /* the first device without DMA dirty tracking (QEMU then counts all
     * guest RAM dirty at every pass); NULL: none */
    const char *allDirtyDevice;
};


static const vfmigSteerCalls vfmigSteerLibvirt = {
    .getJobStats = virDomainGetJobStats,
    .getState = virDomainGetState,
    .getXMLDesc = virDomainGetXMLDesc,
    .getMaxDowntime = virDomainMigrateGetMaxDowntime,
    .setMaxDowntime = virDomainMigrateSetMaxDowntime,
    .abortJob = virDomainAbortJob,
    .isActive = virDomainIsActive,
    .setMetadata = virDomainSetMetadata,
};


const vfmigSteerCalls *
vfmigSteerLibvirtCalls(void)
{
    return &vfmigSteerLibvirt;
}


static void
vfmigSteerReportLibvirt(const char *what,
                        const char *domain)
{
    vfmigReportError(VFMIG_ERR_LIBVIRT, _("%1$s of domain '%2$s' failed: %3$s"),
                     what, domain, virGetLastErrorMessage());
}


/* Whether the guest is paused: by someone (virsh suspend, Nova's
 * force-complete), or by QEMU's own switchover; libvirt gives both the
 * reason "migration" during an outgoing migration, and the controller
 * tells them apart by whether it released the switchover. */
static bool
vfmigSteerPaused(vfmigSteer *steer)
{
    int state;
    int reason;

    if (steer->calls->getState(steer->dom, &state, &reason, 0) < 0) {
        VFMIG_DEBUG("domain %s: no state: %s", steer->name,
                    virGetLastErrorMessage());
        return false;
    }
    return state == VIR_DOMAIN_PAUSED &&
        reason != VIR_DOMAIN_PAUSED_POSTCOPY &&
        reason != VIR_DOMAIN_PAUSED_POSTCOPY_FAILED &&
        reason != VIR_DOMAIN_PAUSED_STARTING_UP;
}


static int
vfmigSteerGetJob(void *opaque,
                 vfmigControllerJob *job)
{
    vfmigSteer *steer = opaque;
    virTypedParameterPtr params = NULL;
    int nparams = 0;
    int type;
    int op = -1;
    unsigned long long total = 0;
    unsigned long long remaining = 0;
    unsigned long long pages = 0;
    unsigned long long pageSize = 4096;
    unsigned long long bps = 0;
    unsigned long long elapsed = 0;
    unsigned long long processed = 0;
    unsigned long long iteration = 0;
    int ret = -1;

    memset(job, 0, sizeof(*job));
    if (steer->calls->getJobStats(steer->dom, &type, &params, &nparams, 0) < 0) {
        /* gone with its migration (undefined on the source): ended */
        if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
            VFMIG_DEBUG("domain %s is gone: its job ended", steer->name);
            return 0;
        }
        vfmigSteerReportLibvirt(_("reading the migration job"), steer->name);
        return -1;
    }
    if (type == VIR_DOMAIN_JOB_NONE) {
        ret = 0;
        goto cleanup;
    }
    if (virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op) == 1 &&
        op != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT) {
        /* another job: ours is over */
        ret = 0;
        goto cleanup;
    }

    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_MEMORY_TOTAL, &total);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_MEMORY_REMAINING, &remaining);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, &pages);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE, &pageSize);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_MEMORY_BPS, &bps);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_TIME_ELAPSED, &elapsed);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_PROCESSED, &processed);
    virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_MEMORY_ITERATION, &iteration);

    job->hasRam = total > 0;
    job->ramTotal = total;
    job->ramRemaining = remaining;
    /* libvirt gives pages per second */
    job->ramDirtyRate = pages * pageSize;
    job->bandwidth = bps;
    job->ramIteration = iteration;
    job->elapsedMs = elapsed;
    job->migrating = total > 0 && processed > 0;
    job->paused = vfmigSteerPaused(steer);
    ret = 1;

 cleanup:
    virTypedParamsFree(params, nparams);
    return ret;
}


static int
vfmigSteerGetDevices(void *opaque,
                     vfmigControllerDevice *devices,
                     size_t ndevices)
{
    vfmigSteer *steer = opaque;
    size_t i;

    for (i = 0; i < ndevices; i++) {
        vfmigSteerDevice *sd = &steer->devices[i];
        vfmigControllerDevice *dev = &devices[i];
        g_autoptr(vfmigNodeDevLive) live = NULL;
        int rc;

        if ((rc = vfmigNodeDevReadLive(&steer->paths.probe, sd->address,
                                       &live)) < 0)
            return -1;
        g_clear_pointer(&dev->state, g_free);
        memset(&dev->sample, 0, sizeof(dev->sample));
        dev->known = rc > 0;
        dev->sample.stop_latency_us = sd->stop.us;
        dev->sample.resume_latency_us = sd->resume.us;
        if (!live) {
            /* a driver without vfmig's sysfs ABI: no estimates */
            dev->sample.stop_copy_bytes = VFMIG_DOWNTIME_UNKNOWN;
            dev->qemuBytes = VFMIG_DOWNTIME_UNKNOWN;
            continue;
        }
        dev->state = g_strdup(live->state);
        dev->sample.initial_bytes = live->initialBytes;
        dev->sample.dirty_bytes = live->dirtyBytes;
        /* QEMU's exact pending for the device (vfio_state_pending_exact) */
        dev->qemuBytes = live->migDataSize == ULLONG_MAX ?
            VFMIG_DOWNTIME_UNKNOWN :
            live->migDataSize + live->initialBytes + live->dirtyBytes;
        /* a whole state (upstream mlx5's answer, ours before the first
         * incremental query) is not the residue: the estimates decide */
        dev->sample.stop_copy_bytes =
            vfmigNodeDevLiveStopCopyIsResidue(live) ?
            live->stopCopyBytes : VFMIG_DOWNTIME_UNKNOWN;
        /* no hint of the device's own: the driver's last transitions */
        if (sd->stop.source == VFMIG_DEVCTL_HINT_NONE)
            dev->sample.stop_latency_us = live->stopLatencyUs;
        if (sd->resume.source == VFMIG_DEVCTL_HINT_NONE)
            dev->sample.resume_latency_us = live->resumeLatencyUs;
    }
    return 0;
}


static int
vfmigSteerGetMaxDowntime(void *opaque,
                         uint64_t *ms)
{
    vfmigSteer *steer = opaque;
    unsigned long long val;

    if (steer->calls->getMaxDowntime(steer->dom, &val, 0) < 0) {
        vfmigSteerReportLibvirt(_("reading the downtime limit"), steer->name);
        return -1;
    }
    *ms = val;
    return 0;
}


static int
vfmigSteerSetMaxDowntime(void *opaque,
                         uint64_t ms)
{
    vfmigSteer *steer = opaque;

    if (steer->calls->setMaxDowntime(steer->dom, ms, 0) < 0) {
        vfmigSteerReportLibvirt(_("setting the downtime limit"), steer->name);
        return -1;
    }
    return 0;
}


static int
vfmigSteerAbortJob(void *opaque)
{
    vfmigSteer *steer = opaque;

    if (steer->calls->abortJob(steer->dom) < 0) {
        vfmigSteerReportLibvirt(_("aborting the migration"), steer->name);
        return -1;
    }
    return 0;
}


static int
vfmigSteerHoldDevices(void *opaque,
                      unsigned int leaseMs)
{
    vfmigSteer *steer = opaque;
    int ret = steer->ndevices > 0 ? 1 : 0;
    size_t i;

    for (i = 0; i < steer->ndevices; i++) {
        int rc;

        if ((rc = vfmigSysfsWriteHold(steer->paths.probe.sysfsRoot,
                                      steer->devices[i].address, leaseMs)) < 0)
            return -1;
        if (rc == 0)
            ret = 0;
    }
    return ret;
}


/* The guardian learns the limit and the devices before QEMU does. */
static int
vfmigSteerAnnounceLimit(void *opaque,
                        uint64_t ms,
                        uint64_t fallbackMs)
{
    vfmigSteer *steer = opaque;
    size_t i;

    if (!steer->guard)
        return 0;
    if (vfmigGuardHold(steer->guard, steer->uuid, ms, fallbackMs) < 0)
        return -1;
    for (i = 0; i < steer->ndevices; i++) {
        if (vfmigGuardHoldDevice(steer->guard, steer->uuid,
                                 steer->devices[i].address) < 0)
            return -1;
    }
    return 0;
}


static const vfmigControllerOps vfmigSteerOps = {
    .getJob = vfmigSteerGetJob,
    .getDevices = vfmigSteerGetDevices,
    .getMaxDowntime = vfmigSteerGetMaxDowntime,
    .setMaxDowntime = vfmigSteerSetMaxDowntime,
    .abortJob = vfmigSteerAbortJob,
    .holdDevices = vfmigSteerHoldDevices,
    .announceLimit = vfmigSteerAnnounceLimit,
};


void
vfmigSteerFree(vfmigSteer *steer)
{
    size_t i;

    if (!steer)
        return;
    vfmigSteerLoopFree(steer->loop);
    vfmigControllerFree(steer->ctl);
    for (i = 0; i < steer->ndevices; i++)
        g_free(steer->devices[i].address);
    g_free(steer->devices);
    if (steer->warnings)
        g_ptr_array_unref(steer->warnings);
    if (steer->dom)
        virDomainFree(steer->dom);
    vfmigSteerLockFree(steer->lock);
    g_free(steer->name);
    g_free(steer);
}


/* The migration's target and failure rule: the strictest of the domain's
 * and its hostdevs' (the smallest target; abort if any says abort). */
static void
vfmigSteerDowntime(const vfmigDomainPolicy *policy,
                   unsigned int *targetMs,
                   vfmigDomainPolicyOnFailure *onFailure)
{
    size_t i;

    vfmigDomainPolicyGetDowntime(policy, NULL, targetMs, onFailure);
    for (i = 0; i < policy->nhostdevs; i++) {
        unsigned int t;
        vfmigDomainPolicyOnFailure f;

        vfmigDomainPolicyGetDowntime(policy, policy->hostdevs[i], &t, &f);
        *targetMs = MIN(*targetMs, t);
        if (f == VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT)
            *onFailure = f;
    }
}


/* How many times a lock file removed or replaced while it was being
 * locked (its holder gave it up meanwhile) is opened again. */
#define VFMIG_STEER_LOCK_TRIES 8
/* vfmigSteerLockTry: the lock file was removed or replaced meanwhile */
#define VFMIG_STEER_LOCK_AGAIN 2

struct _vfmigSteerLock {
    char *path;
    int fd;
};


/* The steering lock directory: @lockDir, $VFMIG_RUN_DIR/steer or
 * VFMIG_STEER_LOCK_DIR. */
static char *
vfmigSteerLockDir(const char *lockDir)
{
    if (lockDir)
        return g_strdup(lockDir);
    if (g_getenv("VFMIG_RUN_DIR"))
        return g_build_filename(g_getenv("VFMIG_RUN_DIR"), "steer", NULL);
    return g_strdup(VFMIG_STEER_LOCK_DIR);
}


/* Whether the lock file @path (@sb: what is open) is ours alone: 0, or -1
 * with an error.  One that another user owns, or that our group or others
 * can open, is not trusted: whoever can open it can hold it. */
static int
vfmigSteerLockCheckFile(const char *path,
                        const struct stat *sb)
{
    if (!S_ISREG(sb->st_mode)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("steering lock '%1$s' is not a regular file: refusing to use it (remove it)"),
                         path);
        return -1;
    }
    if (sb->st_uid != geteuid()) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("steering lock '%1$s' is owned by uid %2$u, not by uid %3$u that runs vfmig: refusing to trust it, as its owner could hold it (remove it)"),
                         path, (unsigned int) sb->st_uid,
                         (unsigned int) geteuid());
        return -1;
    }
    if (sb->st_mode & (S_IRWXG | S_IRWXO)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("steering lock '%1$s' has mode %2$04o: refusing to trust it, as its group or others could open and hold it (it must be mode 0600: remove it)"),
                         path, (unsigned int) (sb->st_mode & 07777));
        return -1;
    }
    return 0;
}


/* Whether @path still names the file @sb describes: 1 yes, 0 no (removed
 * or replaced), -1 with an error. */
static int
vfmigSteerLockSame(const char *path,
                   const struct stat *sb)
{
    struct stat now;

    if (lstat(path, &now) < 0) {
        if (errno == ENOENT)
            return 0;
        vfmigReportSystemError(errno, _("cannot stat the steering lock '%1$s'"),
                               path);
        return -1;
    }
    return now.st_dev == sb->st_dev && now.st_ino == sb->st_ino;
}


/*
 * One try at the lock file @path: 1 locked (*@fd), 0 held by another
 * process (*@holder, when not NULL, the pid it wrote), AGAIN the file was
 * removed or replaced meanwhile (its holder gave the lock up: what is
 * locked, or found held, is no longer the lock), -1 with an error.
 */
static int
vfmigSteerLockTry(const char *path,
                  int *fd,
                  char **holder)
{
    struct stat sb;
    char buf[32] = "";
    ssize_t n = 0;
    bool held = false;
    int rc;

    *fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
               0600);
    if (*fd < 0) {
        vfmigReportSystemError(errno, _("cannot open the steering lock '%1$s'"),
                               path);
        return -1;
    }
    if (fstat(*fd, &sb) < 0) {
        vfmigReportSystemError(errno, _("cannot stat the steering lock '%1$s'"),
                               path);
        goto error;
    }
    if (vfmigSteerLockCheckFile(path, &sb) < 0)
        goto error;
    if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK) {
            vfmigReportSystemError(errno, _("cannot lock '%1$s'"), path);
            goto error;
        }
        held = true;
        n = pread(*fd, buf, sizeof(buf) - 1, 0);
    }
    if ((rc = vfmigSteerLockSame(path, &sb)) <= 0) {
        if (rc == 0)
            VFMIG_DEBUG("%s was removed or replaced while it was being locked",
                        path);
        close(*fd);
        *fd = -1;
        return rc < 0 ? -1 : VFMIG_STEER_LOCK_AGAIN;
    }
    if (held) {
        close(*fd);
        *fd = -1;
        if (n > 0)
            buf[n] = '\0';
        g_strstrip(buf);
        if (holder)
            *holder = g_strdup(*buf ? buf : "?");
        return 0;
    }
    return 1;

 error:
    close(*fd);
    *fd = -1;
    return -1;
}


int
vfmigSteerLockTake(const char *lockDir,
                   const char *uuid,
                   vfmigSteerLock **lock,
                   char **holder)
{
    g_autofree char *dir = vfmigSteerLockDir(lockDir);
    g_autofree char *path = NULL;
    g_autofree char *pid = NULL;
    unsigned int i;
    int fd = -1;
    int rc = VFMIG_STEER_LOCK_AGAIN;

    *lock = NULL;
    if (vfmigFileMakePrivateDir(_("steering lock directory"), dir) < 0)
        return -1;
    path = g_strdup_printf("%s/%s.lock", dir, uuid);
    for (i = 0; i < VFMIG_STEER_LOCK_TRIES && rc == VFMIG_STEER_LOCK_AGAIN; i++) {
        if ((rc = vfmigSteerLockTry(path, &fd, holder)) < 0)
            return -1;
    }
    if (rc == VFMIG_STEER_LOCK_AGAIN) {
        vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                         _("cannot take the steering lock '%1$s': it was removed or replaced each of the %2$u times it was locked"),
                         path, (unsigned int) VFMIG_STEER_LOCK_TRIES);
        return -1;
    }
    if (rc == 0)
        return 0;
    pid = g_strdup_printf("%lld\n", (long long) getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
        VFMIG_DEBUG("cannot write the pid into %s", path);
    *lock = g_new0(vfmigSteerLock, 1);
    (*lock)->path = g_steal_pointer(&path);
    (*lock)->fd = fd;
    return 1;
}


void
vfmigSteerLockFree(vfmigSteerLock *lock)
{
    struct stat sb;
    struct stat now;

    if (!lock)
        return;
    /* removed while still held, and only when it is still ours (not one
     * made again after someone removed the directory): a process that
     * opened it meanwhile finds it gone once it has it locked, and opens
     * it again (vfmigSteerLockTry).  Nothing reported: the caller's error
     * stays the last one. */
    if (fstat(lock->fd, &sb) == 0 && lstat(lock->path, &now) == 0 &&
        now.st_dev == sb.st_dev && now.st_ino == sb.st_ino &&
        unlink(lock->path) < 0) {
        int err = errno;

        VFMIG_DEBUG("cannot remove %s: %s", lock->path, g_strerror(err));
    }
    close(lock->fd);
    g_free(lock->path);
    g_free(lock);
}


/* Takes the steering lock of @steer's domain. */
static int
vfmigSteerLockDomain(vfmigSteer *steer,
                     const char *lockDir)
{
    g_autofree char *holder = NULL;
    int rc;

    if ((rc = vfmigSteerLockTake(lockDir, steer->uuid, &steer->lock,
                                 &holder)) < 0)
        return -1;
    if (rc == 0) {
        vfmigReportError(VFMIG_ERR_DEVICE_BUSY,
                         _("the migration of domain '%1$s' is steered already (by process %2$s)"),
                         steer->name, holder);
        return -1;
    }
    return 0;
}


int
vfmigSteerLockBusy(const char *lockDir,
                   const char *uuid)
{
    g_autoptr(vfmigSteerLock) lock = NULL;
    int rc;

    if ((rc = vfmigSteerLockTake(lockDir, uuid, &lock, NULL)) < 0)
        return -1;
    /* taken: nobody holds it, and it goes again with its file */
    return rc == 0;
}


/* The steering loop's question after a failed step. */
static bool
vfmigSteerLoopGone(void *opaque)
{
    return vfmigSteerDomainGone(opaque);
}


/*
 * Whether QEMU will count all guest RAM dirty at every pass: a device
 * without DMA dirty tracking as QEMU sees it (the node-device probe's
 * <dirty-tracking type='none'>).  A device that cannot be probed is
 * taken to have it, with a warning: the RAM is then predicted from what
 * QEMU reports, as for any other guest.
 */
static void
vfmigSteerProbeDirty(vfmigSteer *s,
                     vfmigSteerDevice *sd)
{
    g_autoptr(vfmigNodeDevPCI) dev = NULL;

    if (vfmigNodeDevProbeOne(&s->paths.probe, sd->address,
                             VFMIG_NODEDEV_PROBE_NO_CACHE_WRITE, &dev) < 0) {
        g_ptr_array_add(s->warnings,
                        g_strdup_printf(_("%1$s: cannot tell whether it has device dirty tracking: %2$s"),
                                        sd->address, vfmigGetLastErrorMessage()));
        return;
    }
    if (!dev->cap) {
        g_ptr_array_add(s->warnings,
                        g_strdup_printf(_("%1$s: cannot tell whether it has device dirty tracking: %2$s"),
                                        sd->address,
                                        dev->note ? dev->note : _("no vfio-migration capability")));
        return;
    }
    if (dev->cap->dirty == VFMIG_NODEDEV_DIRTY_NONE && !s->allDirtyDevice) {
        s->allDirtyDevice = sd->address;
        VFMIG_DEBUG("domain %s: device %s has no DMA dirty tracking: QEMU "
                    "counts all guest RAM dirty at every pass", s->name,
                    sd->address);
    }
}


/* The guest's RAM from the domain XML @xml, for the pre-flight's least
 * downtime where all of it is dirty; 0 with a warning when it cannot be
 * read (the pre-flight then states nothing until the job reports it). */
static void
vfmigSteerRAM(vfmigSteer *s,
              const char *xml,
              uint64_t *ramBytes)
{
    unsigned long long bytes = 0;

    *ramBytes = 0;
    if (vfmigDomainPolicyParseDomainMemory(xml, &bytes) < 0) {
        g_ptr_array_add(s->warnings,
                        g_strdup_printf(_("cannot tell the guest's memory: %1$s"),
                                        vfmigGetLastErrorMessage()));
        vfmigResetLastError();
        return;
    }
    *ramBytes = bytes;
}


int
vfmigSteerNew(virDomainPtr dom,
              const vfmigSteerOptions *opts,
              vfmigSteer **steer)
{
    g_autoptr(vfmigSteer) s = g_new0(vfmigSteer, 1);
    g_autoptr(vfmigDomainPolicy) policy = NULL;
    g_autoptr(GPtrArray) hostdevs = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *xml = NULL;
    vfmigControllerConfig config = { 0 };
    vfmigSteerLoopConfig loopConfig = { 0 };
    unsigned int targetMs;
    size_t i;
    int rc;

    *steer = NULL;
    s->calls = opts->calls ? opts->calls : &vfmigSteerLibvirt;
    s->name = g_strdup(virDomainGetName(dom));
    if (virDomainGetUUIDString(dom, s->uuid) < 0) {
        vfmigSteerReportLibvirt(_("reading the UUID"), s->name);
        return -1;
    }
    if (opts->paths)
        s->paths = *opts->paths;
    s->warnings = g_ptr_array_new_with_free_func(g_free);

    if (!(xml = s->calls->getXMLDesc(dom, 0))) {
        vfmigSteerReportLibvirt(_("reading the XML"), s->name);
        return -1;
    }
    if ((rc = vfmigDomainPolicyParseDomainXML(xml, &policy, &hostdevs)) <= 0)
        return rc;
    if (vfmigDomainPolicyCheckHostdevs(policy, hostdevs) < 0)
        return -1;

    s->devices = g_new0(vfmigSteerDevice, policy->nhostdevs ? policy->nhostdevs : 1);
    for (i = 0; i < policy->nhostdevs; i++) {
        const vfmigDomainPolicyDomHostdev *hd;
        vfmigSteerDevice *sd = &s->devices[s->ndevices];
        g_autoptr(GPtrArray) warnings = NULL;
        size_t j;

        if (!(hd = vfmigDomainPolicyFindHostdev(policy->hostdevs[i], hostdevs)))
            continue;
        sd->address = vfmigPCIAddressFormat(&hd->address);
        s->ndevices++;
        if (vfmigDevCtlLatencyHints(&s->paths, sd->address, &sd->stop,
                                    &sd->resume, &warnings) < 0)
            return -1;
        for (j = 0; warnings && j < warnings->len; j++)
            g_ptr_array_add(s->warnings,
                            g_strdup_printf("%s: %s", sd->address,
                                            (char *) warnings->pdata[j]));
        vfmigSteerProbeDirty(s, sd);
        g_ptr_array_add(names, hd->alias ? g_strdup(hd->alias) :
                        g_strdup(sd->address));
        VFMIG_DEBUG("domain %s: device %s (%s): stop hint %" PRIu64 " us (%s), "
                    "resume hint %" PRIu64 " us (%s)",
                    s->name, sd->address, hd->alias ? hd->alias : "no alias",
                    sd->stop.us, vfmigDevCtlHintSourceToString(sd->stop.source),
                    sd->resume.us,
                    vfmigDevCtlHintSourceToString(sd->resume.source));
    }
    g_ptr_array_add(names, NULL);

    if (vfmigSteerLockDomain(s, opts->lockDir) < 0)
        return -1;
    s->guard = opts->guard;

    /* the policy's, then the caller's */
    vfmigSteerDowntime(policy, &targetMs, &config.downtime.onFailure);
    if (vfmigDowntimeSettingsSetMs(&config.downtime, VFMIG_DOWNTIME_PARAM_TARGET,
                                   targetMs) < 0)
        return -1;
    vfmigDowntimeSettingsOverride(&config.downtime, &opts->downtime);
    s->targetUs = vfmigDowntimeSettingsUs(&config.downtime,
                                          VFMIG_DOWNTIME_PARAM_TARGET);
    s->onFailure = vfmigDowntimeSettingsOnFailure(&config.downtime);

    config.adoptFallbackMs = VFMIG_STEER_QEMU_DEFAULT_LIMIT_MS;
    config.ramAllDirty = s->allDirtyDevice != NULL;
    if (config.ramAllDirty)
        vfmigSteerRAM(s, xml, &config.ramBytes);
    if (!(s->ctl = vfmigControllerNew(&vfmigSteerOps, s, &config,
                                      (const char *const *) names->pdata,
                                      s->ndevices)))
        return -1;
    loopConfig.targetUs = s->targetUs;
    loopConfig.gone = vfmigSteerLoopGone;
    loopConfig.opaque = s;
    if (!(s->loop = vfmigSteerLoopNew(s->ctl, &loopConfig)))
        return -1;

    if (virDomainRef(dom) < 0) {
        vfmigSteerReportLibvirt(_("taking a reference"), s->name);
        return -1;
    }
    s->dom = dom;
    *steer = g_steal_pointer(&s);
    return 1;
}


int
vfmigSteerStep(vfmigSteer *steer,
               vfmigSteerLoopEvent *ev)
{
    return vfmigSteerLoopStep(steer->loop, g_get_monotonic_time(), ev);
}


bool
vfmigSteerDomainGone(vfmigSteer *steer)
{
    int active = steer->calls->isActive(steer->dom);

    if (active < 0)
        return virGetLastErrorCode() == VIR_ERR_NO_DOMAIN;
    return active == 0;
}


void
vfmigSteerUnlock(vfmigSteer *steer)
{
    g_clear_pointer(&steer->lock, vfmigSteerLockFree);
}


int
vfmigSteerRelease(vfmigSteer *steer)
{
    return vfmigControllerRelease(steer->ctl);
}


vfmigController *
vfmigSteerController(vfmigSteer *steer)
{
    return steer->ctl;
}


vfmigSteerLoop *
vfmigSteerGetLoop(vfmigSteer *steer)
{
    return steer->loop;
}


const char *
vfmigSteerDomainName(const vfmigSteer *steer)
{
    return steer->name;
}


const char *
vfmigSteerDomainUUID(const vfmigSteer *steer)
{
    return steer->uuid;
}


uint64_t
vfmigSteerTargetUs(const vfmigSteer *steer)
{
    return steer->targetUs;
}


vfmigDomainPolicyOnFailure
vfmigSteerOnFailure(const vfmigSteer *steer)
{
    return steer->onFailure;
}


GPtrArray *
vfmigSteerWarnings(const vfmigSteer *steer)
{
    return steer->warnings;
}


size_t
vfmigSteerDeviceCount(const vfmigSteer *steer)
{
    return steer->ndevices;
}


const char *
vfmigSteerDeviceAddress(const vfmigSteer *steer,
                        size_t i)
{
    return i < steer->ndevices ? steer->devices[i].address : NULL;
}


const char *
vfmigSteerAllDirtyDevice(const vfmigSteer *steer)
{
    return steer->allDirtyDevice;
}


const vfmigDevCtlPaths *
vfmigSteerPaths(const vfmigSteer *steer)
{
    return &steer->paths;
}


vfmigSteerJobEnd
vfmigSteerJobEndFromType(int type)
{
    switch ((virDomainJobType) type) {
    case VIR_DOMAIN_JOB_COMPLETED:
        return VFMIG_STEER_JOB_COMPLETED;
    case VIR_DOMAIN_JOB_FAILED:
        return VFMIG_STEER_JOB_FAILED;
    case VIR_DOMAIN_JOB_CANCELLED:
        return VFMIG_STEER_JOB_CANCELLED;
    case VIR_DOMAIN_JOB_NONE:
    case VIR_DOMAIN_JOB_BOUNDED:
    case VIR_DOMAIN_JOB_UNBOUNDED:
        break;
    }
    return VFMIG_STEER_JOB_NONE;
}


bool
vfmigSteerCompletedIsMigrationOut(const vfmigSteerCompleted *completed)
{
    return completed->operation == -1 ||
        completed->operation == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT;
}


void
vfmigSteerParseCompleted(virTypedParameterPtr params,
                         int nparams,
                         vfmigSteerCompleted *completed)
{
    unsigned long long val;
    int op;

    memset(completed, 0, sizeof(*completed));
    completed->end = VFMIG_STEER_JOB_COMPLETED;
    completed->operation = -1;
    if (virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DOWNTIME, &val) == 1 &&
        vfmigDowntimeMsToUs(val, &completed->downtimeUs) == 0)
        completed->hasDowntime = true;
    if (virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_TIME_ELAPSED, &val) == 1)
        completed->elapsedMs = val;
    if (virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op) == 1)
        completed->operation = op;
}


int
vfmigSteerCompletedJob(vfmigSteer *steer,
                       vfmigSteerCompleted *completed)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0;
    int type;

    memset(completed, 0, sizeof(*completed));
    completed->end = VFMIG_STEER_JOB_NONE;
    completed->operation = -1;
    if (steer->calls->getJobStats(steer->dom, &type, &params, &nparams,
                                  VIR_DOMAIN_JOB_STATS_COMPLETED) < 0) {
        VFMIG_DEBUG("no completed job of %s: %s", steer->name,
                    virGetLastErrorMessage());
        return 0;
    }
    vfmigSteerParseCompleted(params, nparams, completed);
    completed->end = vfmigSteerJobEndFromType(type);
    virTypedParamsFree(params, nparams);
    VFMIG_DEBUG("completed job of %s: type %d, operation %d", steer->name,
                type, completed->operation);
    return completed->end == VFMIG_STEER_JOB_NONE ? 0 : 1;
}


int
vfmigSteerJobOperation(const vfmigSteerCalls *calls,
                       virDomainPtr dom)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0;
    int type;
    int op = -1;

    if (!calls)
        calls = &vfmigSteerLibvirt;
    if (calls->getJobStats(dom, &type, &params, &nparams, 0) < 0) {
        vfmigSteerReportLibvirt(_("reading the job"), virDomainGetName(dom));
        return -2;
    }
    if (type == VIR_DOMAIN_JOB_NONE ||
        virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION, &op) != 1)
        op = -1;
    virTypedParamsFree(params, nparams);
    return op;
}
