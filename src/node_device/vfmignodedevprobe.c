/*
 * vfmignodedevprobe.c: PCI node devices and their VF migration capability
 *
 * Speed: a probe of 1,000 VFs must stay well under 100 ms, so every device
 * is read through one descriptor of its sysfs directory (openat()
 * and readlinkat() resolve one name, not the whole path), attributes go
 * through a stack buffer, and anything that costs more than a few system
 * calls per device is done at most once per enumeration: the debugfs
 * check, the kernel config, the cache directory, the /proc scan.
 *
 * "In use", without opening anything:
 *  1. <dev>/enable: vfio-pci (and every variant driver, through
 *     vfio_pci_core_enable()) enables the PCI function when its first user
 *     opens the device and disables it on the last close, so a non-zero
 *     enable count on a device bound to a VFIO driver means a VMM has the
 *     device fd.  One read per device.
 *  2. vfio_migration/state of our drivers: anything but RUNNING is a
 *     migration in progress, so the device is open.
 *  3. Only before a VFIO query (opt-in), one scan of <proc>/<pid>/fd for
 *     links to <dev>/vfio/<group> or <dev>/vfio/devices/vfioN: a process
 *     may hold the group or cdev without having opened the device yet
 *     (QEMU starting, libvirt passing a cdev fd).  The scan costs one
 *     readlink per open fd on the host, which is why it runs once per
 *     enumeration, lazily, and never when no VFIO query is wanted; a
 *     per-device scan would cost devices x fds.
 *  4. The open itself: a held group refuses a second open (EBUSY) before
 *     any device is opened, so nothing is reset; the prober records the
 *     device as in use and falls back to the cache.
 * What remains is a race with a VMM that grabs the device between 3 and
 * the probe's close; that VMM's open fails with EBUSY for that instant,
 * which is why the query is opt-in and meant for bind time (udev) or
 * maintenance windows.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vfmignodedevprobe.h"
#include "vfmignodedevqualify.h"
#include "vfmigfile.h"
#include "vfmigstring.h"
#include "vfmigsysfs.h"
#include "vfmigfsm.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmigvfio.h"
#include "vfio_mig_uapi.h"

/* Longest attribute we read; sysfs pages are bigger, our values are not. */

typedef enum {
    VFMIG_NODEDEV_KERNEL_UNKNOWN = 0,   /* no config to read */
    VFMIG_NODEDEV_KERNEL_DIRTY_OK,      /* CONFIG_IOMMUFD_DRIVER=y, or 6.1 */
    VFMIG_NODEDEV_KERNEL_DIRTY_NONE,    /* >= 6.2 without IOMMUFD_DRIVER */
} vfmigNodeDevKernelDirty;

typedef struct _vfmigNodeDevProber vfmigNodeDevProber;
struct _vfmigNodeDevProber {
    const char *sysfsRoot;
    const char *debugfsRoot;
    const char *devRoot;
    const char *procRoot;
    const char *cacheDir;
    const char *kernelConfig;   /* NULL: /boot/config-$(uname -r) */
    unsigned int flags;

    char *busDir;               /* <sysfs>/bus/pci/devices */
    int busFd;

    bool debugfsChecked;
    bool debugfsPresent;        /* <debugfs>/vfio exists */

    bool kernelChecked;
    vfmigNodeDevKernelDirty kernelDirty;
    char *kernelRelease;

    bool cacheChecked;
    bool cacheUsable;

    bool holdersScanned;
    GHashTable *holders;        /* <dev>/vfio/... path -> pid string */
    unsigned int holdersUnreadable;

    GPtrArray *errors;          /* vfmigError *: not of one device */
};


static void
vfmigNodeDevErrorFreeFunc(gpointer err)
{
    vfmigErrorFree(err);
}


static GPtrArray *
vfmigNodeDevErrorsNew(void)
{
    return g_ptr_array_new_with_free_func(vfmigNodeDevErrorFreeFunc);
}


/* Moves the last reported error to @errors. */
static void
vfmigNodeDevKeepError(GPtrArray *errors)
{
    vfmigError *err = vfmigSaveLastError();

    if (!err) {
        vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                         _("a probe step failed without reporting why"));
        err = vfmigSaveLastError();
    }
    g_ptr_array_add(errors, err);
    vfmigResetLastError();
}


void
vfmigNodeDevPCIFree(vfmigNodeDevPCI *dev)
{
    if (!dev)
        return;
    g_free(dev->address);
    g_free(dev->driver);
    g_free(dev->physfn);
    g_strfreev(dev->virtfns);
    g_free(dev->inUseReason);
    vfmigNodeDevCapVFIOMigFree(dev->cap);
    g_free(dev->note);
    if (dev->errors)
        g_ptr_array_unref(dev->errors);
    g_free(dev);
}


void
vfmigNodeDevListFree(vfmigNodeDevList *list)
{
    if (!list)
        return;
    if (list->devices)
        g_ptr_array_unref(list->devices);
    if (list->errors)
        g_ptr_array_unref(list->errors);
    g_free(list);
}


vfmigNodeDevPCI *
vfmigNodeDevListFind(vfmigNodeDevList *list,
                     const char *address)
{
    size_t i;

    for (i = 0; i < list->devices->len; i++) {
        vfmigNodeDevPCI *dev = g_ptr_array_index(list->devices, i);

        if (g_ascii_strcasecmp(dev->address, address) == 0)
            return dev;
    }
    return NULL;
}



static void
vfmigNodeDevProberClear(vfmigNodeDevProber *p)
{
    if (p->busFd >= 0)
        close(p->busFd);
    p->busFd = -1;
    g_clear_pointer(&p->busDir, g_free);
    g_clear_pointer(&p->kernelRelease, g_free);
    g_clear_pointer(&p->holders, g_hash_table_unref);
    g_clear_pointer(&p->errors, g_ptr_array_unref);
}


static int
vfmigNodeDevProberInit(vfmigNodeDevProber *p,
                       const vfmigNodeDevProbePaths *paths,
                       unsigned int flags)
{
    memset(p, 0, sizeof(*p));
    p->busFd = -1;
    p->sysfsRoot = vfmigSysfsRoot(paths ? paths->sysfsRoot : NULL);
    p->debugfsRoot = paths && paths->debugfsRoot ? paths->debugfsRoot :
        VFMIG_NODEDEV_DEBUGFS_ROOT;
    p->devRoot = paths && paths->devRoot ? paths->devRoot : VFMIG_DEV_ROOT;
    p->procRoot = paths && paths->procRoot ? paths->procRoot :
        VFMIG_NODEDEV_PROC_ROOT;
    p->cacheDir = paths && paths->cacheDir ? paths->cacheDir :
        VFMIG_NODEDEV_CACHE_DIR;
    p->kernelConfig = paths ? paths->kernelConfig : NULL;
    p->flags = flags;
    p->errors = vfmigNodeDevErrorsNew();

    p->busDir = g_build_filename(p->sysfsRoot, "bus", "pci", "devices", NULL);
    if ((p->busFd = open(p->busDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int err = errno;

        if (err == ENOENT) {
            vfmigReportError(VFMIG_ERR_NO_DEVICE,
                             _("no PCI bus in sysfs: '%1$s' does not exist (is '%2$s' a sysfs mount?)"),
                             p->busDir, p->sysfsRoot);
        } else {
            vfmigReportSystemError(err, _("cannot open the PCI device directory '%1$s'"),
                                   p->busDir);
        }
        return -1;
    }
    return 0;
}


/*
 * The running kernel's config, read once and only to say why a device has
 * no dirty tracking.  Linux >= 6.2 builds the IOVA bitmap that reports
 * device dirty pages only with CONFIG_IOMMUFD_DRIVER (Debian's 6.12 lacks
 * it); 6.1 has it in vfio.ko.  The config of a kernel that knows iommufd
 * mentions CONFIG_IOMMUFD, set or not; 6.1's does not.
 */
static void
vfmigNodeDevProberCheckKernel(vfmigNodeDevProber *p)
{
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;
    g_auto(GStrv) lines = NULL;
    bool iommufdKnown = false;
    bool iommufdDriver = false;
    struct utsname uts;
    size_t i;

    if (p->kernelChecked)
        return;
    p->kernelChecked = true;

    if (p->kernelConfig) {
        path = g_strdup(p->kernelConfig);
    } else if (uname(&uts) == 0) {
        path = g_strdup_printf("/boot/config-%s", uts.release);
        p->kernelRelease = g_strdup(uts.release);
    } else {
        return;
    }

    if (!g_file_get_contents(path, &data, NULL, NULL))
        return;

    lines = g_strsplit(data, "\n", -1);
    for (i = 0; lines[i]; i++) {
        const char *l = lines[i];

        if (g_str_has_prefix(l, "CONFIG_IOMMUFD_DRIVER=y")) {
            iommufdDriver = true;
        } else if (g_str_has_prefix(l, "CONFIG_IOMMUFD=") ||
                   g_str_has_prefix(l, "# CONFIG_IOMMUFD is not set")) {
            iommufdKnown = true;
        } else if (!p->kernelRelease && g_str_has_prefix(l, "# Linux/")) {
            /* "# Linux/x86 6.12.95 Kernel Configuration" */
            const char *sp = strchr(l + 2, ' ');
            const char *end;

            if (sp && (end = strstr(sp + 1, " Kernel Configuration")))
                p->kernelRelease = g_strndup(sp + 1, end - (sp + 1));
        }
    }

    if (iommufdDriver || !iommufdKnown)
        p->kernelDirty = VFMIG_NODEDEV_KERNEL_DIRTY_OK;
    else
        p->kernelDirty = VFMIG_NODEDEV_KERNEL_DIRTY_NONE;
}


/* Why a device has no dirty tracking, as QEMU will see it. */
static char *
vfmigNodeDevDirtyReason(vfmigNodeDevProber *p,
                        const char *driver)
{
    vfmigNodeDevProberCheckKernel(p);

    if (p->kernelDirty == VFMIG_NODEDEV_KERNEL_DIRTY_NONE) {
        return g_strdup_printf(_("the running kernel (Linux %1$s) is built without CONFIG_IOMMUFD_DRIVER, so it cannot report device dirty pages and %2$s offers no DMA dirty logging; QEMU migrates the device only with enable-migration=on and then counts all guest RAM as dirty"),
                               p->kernelRelease ? p->kernelRelease : _("unknown"),
                               driver);
    }
    return g_strdup_printf(_("driver %1$s offers no DMA dirty logging; QEMU migrates the device only with enable-migration=on and then counts all guest RAM as dirty"),
                           driver);
}


static void
vfmigNodeDevSetDirty(vfmigNodeDevProber *p,
                     vfmigNodeDevCapVFIOMig *cap,
                     bool deviceLogging)
{
    g_clear_pointer(&cap->dirtyReason, g_free);
    if (deviceLogging) {
        cap->dirty = VFMIG_NODEDEV_DIRTY_DEVICE;
    } else {
        cap->dirty = VFMIG_NODEDEV_DIRTY_NONE;
        cap->dirtyReason = vfmigNodeDevDirtyReason(p, cap->driver);
    }
}


/*
 * Parses the space or newline separated feature words of @path.  The VFIO
 * uAPI's feature words (vfmigFeature) set bits; other lower-case words are
 * features this prober does not know yet and are skipped; anything else is
 * garbage.  stop-copy is mandatory in VFIO migration.
 */
static int
vfmigNodeDevParseFeatures(const char *path,
                          const char *text,
                          const char *loggingWord,
                          unsigned int *features,
                          bool *logging)
{
    g_auto(GStrv) words = g_strsplit_set(text, " \t\n", -1);
    size_t i;

    *features = 0;
    *logging = false;
    for (i = 0; words[i]; i++) {
        const char *w = words[i];
        int f;

        if (!*w)
            continue;
        if (g_str_equal(w, loggingWord)) {
            *logging = true;
            continue;
        }
        if ((f = vfmigFeatureFromString(w)) >= 0 && f < VFMIG_FEATURE_VFIO_LAST) {
            *features |= 1u << f;
            continue;
        }
        if (strspn(w, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(w)) {
            g_autofree char *quoted = vfmigStringEscapeText(w);

            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("'%1$s' lists '%2$s', which is not a migration feature (expected words such as stop-copy, p2p, pre-copy, %3$s)"),
                             path, quoted, loggingWord);
            return -1;
        }
    }
    if (!(*features & VFMIG_NODEDEV_FEATURE_STOP_COPY)) {
        g_autofree char *quoted = vfmigStringEscapeText(text);

        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("'%1$s' holds '%2$s', which lacks stop-copy, the feature every VFIO migration driver has"),
                         path, quoted);
        return -1;
    }
    return 0;
}


/*
 * (a) our drivers' vfio_migration/.  Returns 1 with @cap filled, 0 when
 * the driver publishes no such directory, -1 with an error.
 */

/* vfio_migration/state (the directory open as @fd, @dir in messages)
 * into @buf: a uAPI state name, or -1 with an error. */
static int
vfmigNodeDevReadState(int fd,
                      const char *dir,
                      char *buf,
                      size_t size)
{
    if (vfmigSysfsReadAttr(fd, dir, "state", false, buf, size) < 0)
        return -1;
    if (vfmigFSMStateFromName(buf) < 0) {
        g_autofree char *path = g_build_filename(dir, "state", NULL);
        g_autofree char *quoted = vfmigStringEscapeText(buf);

        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("'%1$s' holds '%2$s', not a VFIO migration state (ERROR, STOP, RUNNING, STOP_COPY, RESUMING, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P)"),
                         path, quoted);
        return -1;
    }
    return 0;
}


/* The estimates of vfio_migration/ (open as @fd, @dir in messages) of a
 * device whose state, already read, is @state. */
static int
vfmigNodeDevReadLiveAt(int fd,
                       const char *dir,
                       const char *state,
                       vfmigNodeDevLive **live)
{
    static const char *const names[] = {
        "initial_bytes", "dirty_bytes", "stop_copy_bytes",
        "stop_latency_us", "resume_latency_us",
    };
    g_autoptr(vfmigNodeDevLive) ret = g_new0(vfmigNodeDevLive, 1);
    guint64 vals[G_N_ELEMENTS(names)];
    bool whole;
    size_t i;
    int rc;

    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        if (vfmigSysfsReadU64(fd, dir, names[i], false,
                              G_MAXUINT64, &vals[i]) < 0)
            return -1;
    }
    ret->initialBytes = vals[0];
    ret->dirtyBytes = vals[1];
    ret->stopCopyBytes = vals[2];
    ret->stopLatencyUs = vals[3];
    ret->resumeLatencyUs = vals[4];
    /* what that size is, where the driver says (an older one does not) */
    if ((rc = vfmigSysfsReadStopCopyEstimate(fd, dir, &vals[0], &whole)) < 0)
        return -1;
    if (rc > 0) {
        ret->stopCopyBytes = vals[0];
        ret->stopCopyKind = whole ? VFMIG_NODEDEV_STOP_COPY_WHOLE :
                                    VFMIG_NODEDEV_STOP_COPY_RESIDUE;
    }
    /* a hint for the controller: a driver that cannot answer now (mlx5's
     * firmware outside a migration) or an older one has none */
    ret->migDataSize = ULLONG_MAX;
    if (vfmigSysfsReadU64(fd, dir, "mig_data_size", true, G_MAXUINT64,
                          &vals[0]) > 0) {
        ret->migDataSize = vals[0];
    } else {
        VFMIG_DEBUG("%s: no mig_data_size: %s", dir,
                    vfmigGetLastErrorMessage());
        vfmigResetLastError();
    }
    ret->state = g_strdup(state);
    *live = g_steal_pointer(&ret);
    return 0;
}


int
vfmigNodeDevReadLive(const vfmigNodeDevProbePaths *paths,
                     const char *address,
                     vfmigNodeDevLive **live)
{
    g_autofree char *devDir = vfmigSysfsPCIDevicePath(paths ? paths->sysfsRoot : NULL,
                                                      address);
    g_autofree char *dir = g_build_filename(devDir, "vfio_migration", NULL);
    char state[VFMIG_SYSFS_ATTR_MAX];
    int fd;
    int ret = -1;

    *live = NULL;
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int err = errno;

        if (err == ENOENT)
            return 0;
        vfmigReportSystemError(err, _("cannot open '%1$s'"), dir);
        return -1;
    }
    if (vfmigNodeDevReadState(fd, dir, state, sizeof(state)) < 0)
        goto cleanup;
    if (vfmigNodeDevReadLiveAt(fd, dir, state, live) < 0)
        goto cleanup;
    if (vfmigSysfsReadLink(AT_FDCWD, devDir, "driver", &(*live)->driver) < 0) {
        g_clear_pointer(live, vfmigNodeDevLiveFree);
        goto cleanup;
    }
    ret = 1;

 cleanup:
    close(fd);
    return ret;
}

static int
vfmigNodeDevReadABI(vfmigNodeDevProber *p,
                    vfmigNodeDevPCI *dev,
                    int devFd,
                    const char *devDir,
                    vfmigNodeDevCapVFIOMig *cap)
{
    g_autofree char *dir = g_build_filename(devDir, "vfio_migration", NULL);
    g_autofree char *path = NULL;
    char buf[VFMIG_SYSFS_ATTR_MAX];
    unsigned int features;
    bool logging;
    guint64 num;
    int fd;
    int rc;
    int ret = -1;

    if ((fd = openat(devFd, "vfio_migration",
                     O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int err = errno;

        if (err == ENOENT)
            return 0;
        vfmigReportSystemError(err, _("cannot open '%1$s'"), dir);
        return -1;
    }

    if (vfmigSysfsReadAttr(fd, dir, "features", false, buf, sizeof(buf)) < 0)
        goto cleanup;
    path = g_build_filename(dir, "features", NULL);
    if (vfmigNodeDevParseFeatures(path, buf, "dma-logging",
                                  &features, &logging) < 0)
        goto cleanup;
    cap->features = features;

    if ((rc = vfmigSysfsReadAttr(fd, dir, "precopy", true,
                                 buf, sizeof(buf))) < 0)
        goto cleanup;
    cap->precopy = VFMIG_NODEDEV_PRECOPY_DEFAULT;
    if (rc > 0) {
        if (g_str_equal(buf, "on")) {
            cap->precopy = VFMIG_NODEDEV_PRECOPY_ON;
        } else if (g_str_equal(buf, "single")) {
            cap->precopy = VFMIG_NODEDEV_PRECOPY_SINGLE;
        } else if (g_str_equal(buf, "off")) {
            cap->precopy = VFMIG_NODEDEV_PRECOPY_OFF;
        } else {
            g_autofree char *p2 = g_build_filename(dir, "precopy", NULL);
            g_autofree char *quoted = vfmigStringEscapeText(buf);

            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("'%1$s' holds '%2$s', not one of on, single, off"),
                             p2, quoted);
            goto cleanup;
        }
    }

    if ((rc = vfmigSysfsReadU64(fd, dir, "multi_load", true, 1, &num)) < 0)
        goto cleanup;
    if (rc > 0 && num == 1)
        cap->features |= VFMIG_NODEDEV_FEATURE_MULTI_LOAD;

    if ((rc = vfmigSysfsReadU64(fd, dir, "stream_version", true,
                                G_MAXUINT, &num)) < 0)
        goto cleanup;
    cap->streamVersion = rc > 0 ? num : 0;

    if ((rc = vfmigSysfsReadAttr(fd, dir, "firmware", true,
                                 buf, sizeof(buf))) < 0)
        goto cleanup;
    if (rc > 0 && *buf)
        cap->firmware = g_strdup(buf);

    if (vfmigNodeDevReadState(fd, dir, buf, sizeof(buf)) < 0)
        goto cleanup;

    /* RUNNING is also what a closed device reads: no estimates then */
    if (!g_str_equal(buf, "RUNNING")) {
        g_autoptr(vfmigNodeDevLive) live = NULL;

        /* in use, even if the estimates below turn out broken */
        if (!dev->inUse) {
            dev->inUse = true;
            dev->inUseReason = g_strdup_printf(_("the driver reports migration state %1$s"),
                                               buf);
        }
        if (vfmigNodeDevReadLiveAt(fd, dir, buf, &live) < 0)
            goto cleanup;
        cap->live = g_steal_pointer(&live);
    }

    cap->source = VFMIG_NODEDEV_SOURCE_SYSFS;
    vfmigNodeDevSetDirty(p, cap, logging);
    ret = 1;

 cleanup:
    close(fd);
    return ret;
}


/*
 * (b) <debugfs>/vfio/<dev>/migration/features (Linux >= 6.18).  Returns 1
 * with @cap filled, 0 when there is no such file, -1 with an error.
 */
static int
vfmigNodeDevReadDebugfs(vfmigNodeDevProber *p,
                        vfmigNodeDevPCI *dev,
                        vfmigNodeDevCapVFIOMig *cap)
{
    g_autofree char *dir = NULL;
    g_autofree char *path = NULL;
    char buf[VFMIG_SYSFS_ATTR_MAX];
    unsigned int features;
    bool logging;
    int fd;
    int rc;

    if (!p->debugfsChecked) {
        g_autofree char *root = g_build_filename(p->debugfsRoot, "vfio", NULL);

        p->debugfsChecked = true;
        /* root-only: a user who cannot see it gets the other sources */
        p->debugfsPresent = g_file_test(root, G_FILE_TEST_IS_DIR);
    }
    if (!p->debugfsPresent)
        return 0;

    dir = g_build_filename(p->debugfsRoot, "vfio", dev->address, "migration",
                           NULL);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int err = errno;

        /* no migration ops, or a kernel before 6.8 */
        if (err == ENOENT)
            return 0;
        vfmigReportSystemError(err, _("cannot open '%1$s'"), dir);
        return -1;
    }
    rc = vfmigSysfsReadAttr(fd, dir, "features", true, buf, sizeof(buf));
    close(fd);
    /* 6.8 to 6.17 have migration/state but no features */
    if (rc <= 0)
        return rc;

    path = g_build_filename(dir, "features", NULL);
    if (vfmigNodeDevParseFeatures(path, buf, "dirty-tracking",
                                  &features, &logging) < 0)
        return -1;

    cap->features = features;
    cap->source = VFMIG_NODEDEV_SOURCE_DEBUGFS;
    vfmigNodeDevSetDirty(p, cap, logging);
    return 1;
}


/*
 * Who holds a VFIO group or device cdev: one pass over <proc>/<pid>/fd,
 * done at most once per enumeration and only before a VFIO query.
 */
static void
vfmigNodeDevScanHolders(vfmigNodeDevProber *p)
{
    g_autofree char *prefix = NULL;
    g_autoptr(GDir) procDir = NULL;
    const char *pid;
    size_t prefixLen;

    if (p->holdersScanned)
        return;
    p->holdersScanned = true;
    p->holders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    prefix = g_build_filename(p->devRoot, "vfio", "", NULL);
    if (!g_str_has_suffix(prefix, "/")) {
        g_autofree char *tmp = g_steal_pointer(&prefix);

        prefix = g_strconcat(tmp, "/", NULL);
    }
    prefixLen = strlen(prefix);

    if (!(procDir = g_dir_open(p->procRoot, 0, NULL)))
        return;

    while ((pid = g_dir_read_name(procDir))) {
        g_autofree char *fdPath = NULL;
        struct dirent *ent;
        DIR *fdDir;

        if (strspn(pid, "0123456789") != strlen(pid))
            continue;
        fdPath = g_build_filename(p->procRoot, pid, "fd", NULL);
        if (!(fdDir = opendir(fdPath))) {
            if (errno == EACCES || errno == EPERM)
                p->holdersUnreadable++;
            continue;
        }
        while ((ent = readdir(fdDir))) {
            char target[PATH_MAX];
            ssize_t n;

            if (ent->d_name[0] == '.')
                continue;
            n = readlinkat(dirfd(fdDir), ent->d_name, target,
                           sizeof(target) - 1);
            if (n <= 0 || (size_t) n <= prefixLen)
                continue;
            target[n] = '\0';
            if (strncmp(target, prefix, prefixLen) != 0 ||
                g_str_equal(target + prefixLen, "vfio"))
                continue;
            g_hash_table_replace(p->holders, g_strdup(target), g_strdup(pid));
        }
        closedir(fdDir);
    }
}


/*
 * Whether a process holds @dev's group or cdev; sets the reason.  Only
 * what the scan could see: the group open refuses what it could not.
 */
static bool
vfmigNodeDevIsHeld(vfmigNodeDevProber *p,
                   vfmigNodeDevPCI *dev)
{
    const char *pid;

    vfmigNodeDevScanHolders(p);
    if (g_hash_table_size(p->holders) == 0)
        return false;

    if (dev->iommuGroup >= 0) {
        g_autofree char *num = g_strdup_printf("%d", dev->iommuGroup);
        g_autofree char *path = g_build_filename(p->devRoot, "vfio", num, NULL);

        if ((pid = g_hash_table_lookup(p->holders, path))) {
            dev->inUseReason = g_strdup_printf(_("process %1$s holds its VFIO group %2$s"),
                                               pid, path);
            return true;
        }
    }

    /* <dev>/vfio-dev/vfioN: the cdev /dev/vfio/devices/vfioN */
    {
        g_autoptr(GDir) d = NULL;
        g_autofree char *vfioDev = g_build_filename(p->busDir, dev->address,
                                                    "vfio-dev", NULL);
        const char *ent;

        if ((d = g_dir_open(vfioDev, 0, NULL))) {
            while ((ent = g_dir_read_name(d))) {
                g_autofree char *path = NULL;

                if (!g_str_has_prefix(ent, "vfio"))
                    continue;
                path = g_build_filename(p->devRoot, "vfio", "devices", ent, NULL);
                if ((pid = g_hash_table_lookup(p->holders, path))) {
                    dev->inUseReason = g_strdup_printf(_("process %1$s holds its VFIO device %2$s"),
                                                       pid, path);
                    return true;
                }
            }
        }
    }
    return false;
}


/*
 * (c) VFIO_DEVICE_FEATURE on the device itself: MIGRATION for the flags,
 * and a PROBE of DMA_LOGGING_START for device dirty tracking (the probe
 * starts nothing).  Returns 1 with @cap filled, 0 when the device turned
 * out to be busy (dev->inUse set), -1 with an error.
 */
static int
vfmigNodeDevQueryVFIO(vfmigNodeDevProber *p,
                      vfmigNodeDevPCI *dev,
                      vfmigNodeDevCapVFIOMig *cap)
{
    vfmigVFIOPaths vp = { .sysfsRoot = p->sysfsRoot, .devRoot = p->devRoot };
    g_autoptr(vfmigVFIO) vfio = NULL;
    struct vfio_device_feature probe = { 0 };
    uint64_t flags;

    if (!(vfio = vfmigVFIOOpen(dev->address, &vp))) {
        if (vfmigGetLastErrorCode() == VFMIG_ERR_DEVICE_BUSY) {
            dev->inUse = true;
            dev->inUseReason = g_strdup(vfmigGetLastErrorMessage());
            vfmigResetLastError();
            return 0;
        }
        return -1;
    }

    if (vfmigVFIOGetMigrationFlags(vfio, &flags) < 0) {
        if (vfmigGetLastErrorCode() != VFMIG_ERR_OPERATION_UNSUPPORTED)
            return -1;
        /* a VFIO driver without migration: that is an answer too */
        vfmigResetLastError();
        flags = 0;
    }

    cap->features = 0;
    if (flags & VFIO_MIGRATION_STOP_COPY)
        cap->features |= VFMIG_NODEDEV_FEATURE_STOP_COPY;
    if (flags & VFIO_MIGRATION_P2P)
        cap->features |= VFMIG_NODEDEV_FEATURE_P2P;
    if (flags & VFIO_MIGRATION_PRE_COPY)
        cap->features |= VFMIG_NODEDEV_FEATURE_PRE_COPY;

    probe.argsz = sizeof(probe);
    probe.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
        VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
    cap->source = VFMIG_NODEDEV_SOURCE_VFIO;
    vfmigNodeDevSetDirty(p, cap,
                         ioctl(vfmigVFIOGetDeviceFD(vfio), VFIO_DEVICE_FEATURE,
                               &probe) == 0);
    return 1;
}


/*
 * The cache directory, checked (and made, when the cache may be written)
 * once per enumeration, so a bad or untrusted --cache-dir is one error,
 * not one a device.  It holds the qualification records too, which are
 * read even with VFMIG_NODEDEV_PROBE_NO_CACHE: true when it exists and is
 * one only we can write to.
 */
static bool
vfmigNodeDevCacheDirOK(vfmigNodeDevProber *p)
{
    if (!p->cacheChecked) {
        bool mayWrite = !(p->flags & (VFMIG_NODEDEV_PROBE_NO_CACHE |
                                      VFMIG_NODEDEV_PROBE_NO_CACHE_WRITE));
        const char *kind = _("node-device cache directory");
        int rc;

        p->cacheChecked = true;
        if (mayWrite)
            rc = vfmigFileMakeDir(kind, p->cacheDir) < 0 ? -1 : 1;
        else
            rc = vfmigFileCheckDir(kind, p->cacheDir);
        /* missing, and nothing to write: nothing cached, not an error */
        if (rc < 0)
            vfmigNodeDevKeepError(p->errors);
        p->cacheUsable = rc > 0;
    }
    return p->cacheUsable;
}


/* Whether the cache is to be read (or, with @write, written). */
static bool
vfmigNodeDevCacheUsable(vfmigNodeDevProber *p,
                        bool write)
{
    if (p->flags & VFMIG_NODEDEV_PROBE_NO_CACHE)
        return false;
    if (write && (p->flags & VFMIG_NODEDEV_PROBE_NO_CACHE_WRITE))
        return false;
    return vfmigNodeDevCacheDirOK(p);
}


/*
 * (d) the cache.  The capability it holds must still fit the device: same
 * driver and PCI ids, else it is stale.
 */
static int
vfmigNodeDevReadCache(vfmigNodeDevProber *p,
                      vfmigNodeDevPCI *dev,
                      vfmigNodeDevCapVFIOMig **cap)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) cached = NULL;
    int rc;

    *cap = NULL;
    if ((rc = vfmigNodeDevCacheRead(p->cacheDir, dev->address, &cached)) <= 0)
        return rc;

    if (!g_str_equal(cached->driver, dev->driver)) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("stale cache file of device '%1$s' in '%2$s': written for driver %3$s, the device is bound to %4$s now; ignored"),
                         dev->address, p->cacheDir, cached->driver, dev->driver);
        return -1;
    }
    if (cached->vendor != dev->vendor || cached->device != dev->device) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("stale cache file of device '%1$s' in '%2$s': written for PCI id %3$04x:%4$04x, the device is %5$04x:%6$04x now; ignored"),
                         dev->address, p->cacheDir, cached->vendor,
                         cached->device, dev->vendor, dev->device);
        return -1;
    }
    *cap = g_steal_pointer(&cached);
    return 1;
}


/* What a capability says before any source is read. */
static vfmigNodeDevCapVFIOMig *
vfmigNodeDevCapNew(const vfmigNodeDevPCI *dev)
{
    vfmigNodeDevCapVFIOMig *cap = g_new0(vfmigNodeDevCapVFIOMig, 1);

    cap->driver = g_strdup(dev->driver);
    cap->variant = !g_str_equal(dev->driver, "vfio-pci");
    cap->vendor = dev->vendor;
    cap->device = dev->device;
    return cap;
}


/*
 * The record of the device's last qualification, on a capability however
 * it was found: not a live value, it holds until the next qualification.
 * A corrupt or stale record is the device's error, and no record.
 */
static void
vfmigNodeDevAttachQualified(vfmigNodeDevProber *p,
                            vfmigNodeDevPCI *dev)
{
    if (!dev->cap || (p->flags & VFMIG_NODEDEV_PROBE_NO_QUALIFIED))
        return;
    g_clear_pointer(&dev->cap->qualified, vfmigNodeDevQualifiedFree);
    /* no directory, or one already reported as unusable */
    if (!vfmigNodeDevCacheDirOK(p))
        return;
    if (vfmigNodeDevQualifiedLoad(p->cacheDir, dev->address, dev->driver,
                                  &dev->cap->qualified) < 0)
        vfmigNodeDevKeepError(dev->errors);
}


/* Whether the running kernel is why @dev has no DMA dirty tracking. */
static void
vfmigNodeDevSetKernelNoDirty(vfmigNodeDevProber *p,
                             vfmigNodeDevPCI *dev)
{
    if (dev->cap->dirty != VFMIG_NODEDEV_DIRTY_NONE)
        return;
    vfmigNodeDevProberCheckKernel(p);
    dev->kernelNoDirty = p->kernelDirty == VFMIG_NODEDEV_KERNEL_DIRTY_NONE;
}


/* The capability of a device bound to a VFIO driver: (a) to (d). */
static void
vfmigNodeDevProbeCap(vfmigNodeDevProber *p,
                     vfmigNodeDevPCI *dev,
                     int devFd,
                     const char *devDir)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = vfmigNodeDevCapNew(dev);
    const char *why = NULL;
    int rc;

    if ((rc = vfmigNodeDevReadABI(p, dev, devFd, devDir, cap)) < 0) {
        vfmigNodeDevKeepError(dev->errors);
        why = _("its vfio_migration/ files are broken");
    }
    if (rc <= 0) {
        int rc2;

        /* nothing of a broken source survives into the next */
        vfmigNodeDevCapVFIOMigFree(cap);
        cap = vfmigNodeDevCapNew(dev);
        if ((rc2 = vfmigNodeDevReadDebugfs(p, dev, cap)) < 0) {
            vfmigNodeDevKeepError(dev->errors);
            why = _("its debugfs features file is broken");
        }
        rc = rc2;
    }
    if (rc <= 0) {
        vfmigNodeDevCapVFIOMigFree(cap);
        cap = vfmigNodeDevCapNew(dev);
        if (!(p->flags & VFMIG_NODEDEV_PROBE_VFIO)) {
            if (!why)
                why = _("neither its driver's sysfs nor debugfs publishes its migration features, and a VFIO query (which resets an idle function) was not requested");
        } else if (dev->inUse || vfmigNodeDevIsHeld(p, dev)) {
            dev->inUse = true;
            why = _("it is in use, and a VFIO query would need it idle");
        } else if ((rc = vfmigNodeDevQueryVFIO(p, dev, cap)) < 0) {
            vfmigNodeDevKeepError(dev->errors);
            why = _("the VFIO query failed");
        } else if (rc == 0) {
            why = _("it is in use, and a VFIO query would need it idle");
        }
    }

    if (rc > 0) {
        if (vfmigNodeDevCacheUsable(p, true) &&
            vfmigNodeDevCacheWrite(p->cacheDir, dev->address, cap) < 0)
            vfmigNodeDevKeepError(dev->errors);
        dev->cap = g_steal_pointer(&cap);
        vfmigNodeDevAttachQualified(p, dev);
        vfmigNodeDevSetKernelNoDirty(p, dev);
        return;
    }

    /*
     * The cache stands in for live sources only while the device is in
     * use (QEMU holds it): an idle device is described by what it says
     * now, not by what a driver loaded earlier said.
     */
    if (dev->inUse && vfmigNodeDevCacheUsable(p, false)) {
        g_autoptr(vfmigNodeDevCapVFIOMig) cached = NULL;

        if ((rc = vfmigNodeDevReadCache(p, dev, &cached)) < 0) {
            vfmigNodeDevKeepError(dev->errors);
        } else if (rc > 0) {
            dev->note = g_strdup_printf(_("features from the cache of an earlier probe: %1$s"),
                                        why);
            dev->cap = g_steal_pointer(&cached);
            vfmigNodeDevAttachQualified(p, dev);
            vfmigNodeDevSetKernelNoDirty(p, dev);
            return;
        }
    }
    dev->note = g_strdup_printf(_("migration features unknown: %1$s"), why);
}


/*
 * Everything about the device @name of the bus directory.  Only failures
 * to read the device at all (its directory vanished) make this return
 * NULL with an error; problems with its files land in dev->errors.
 */
static vfmigNodeDevPCI *
vfmigNodeDevProbeDevice(vfmigNodeDevProber *p,
                        const char *name)
{
    g_autoptr(vfmigNodeDevPCI) dev = g_new0(vfmigNodeDevPCI, 1);
    g_autofree char *devDir = g_build_filename(p->busDir, name, NULL);
    g_autofree char *group = NULL;
    guint64 numvfs = 0;
    int devFd;
    int rc;

    /* the kernel names every function canonically; anything else in the
     * directory is not a PCI function */
    if (!vfmigPCIAddressIsValid(name, 0, &dev->pci)) {
        vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                         _("'%1$s' is not named as a PCI function (DDDD:BB:SS.F); skipped"),
                         devDir);
        return NULL;
    }
    dev->address = vfmigPCIAddressFormat(&dev->pci);
    dev->iommuGroup = -1;
    dev->errors = vfmigNodeDevErrorsNew();

    if ((devFd = openat(p->busFd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int err = errno;

        if (err == ENOENT) {
            vfmigReportError(VFMIG_ERR_NO_DEVICE,
                             _("PCI device '%1$s' does not exist (no '%2$s')"),
                             name, devDir);
        } else {
            vfmigReportSystemError(err, _("cannot open the sysfs directory '%1$s'"),
                                   devDir);
        }
        return NULL;
    }

    if (vfmigSysfsReadPCIId(devFd, devDir, "vendor", &dev->vendor) < 0)
        vfmigNodeDevKeepError(dev->errors);
    if (vfmigSysfsReadPCIId(devFd, devDir, "device", &dev->device) < 0)
        vfmigNodeDevKeepError(dev->errors);

    if (vfmigSysfsReadLink(devFd, devDir, "driver", &dev->driver) < 0)
        vfmigNodeDevKeepError(dev->errors);

    if ((rc = vfmigSysfsReadLink(devFd, devDir, "iommu_group", &group)) < 0) {
        vfmigNodeDevKeepError(dev->errors);
    } else if (rc > 0) {
        guint64 num;

        if (g_ascii_string_to_unsigned(group, 10, 0, G_MAXINT, &num, NULL)) {
            dev->iommuGroup = num;
        } else {
            g_autofree char *link = g_build_filename(devDir, "iommu_group", NULL);

            vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                             _("'%1$s' points to IOMMU group '%2$s', which is not a number"),
                             link, group);
            vfmigNodeDevKeepError(dev->errors);
        }
    }

    if (vfmigSysfsReadLink(devFd, devDir, "physfn", &dev->physfn) < 0)
        vfmigNodeDevKeepError(dev->errors);

    /* a PF: virtfn0 .. virtfn<sriov_numvfs - 1> */
    if ((rc = vfmigSysfsReadU64(devFd, devDir, "sriov_numvfs", true,
                                65535, &numvfs)) < 0) {
        vfmigNodeDevKeepError(dev->errors);
    } else if (rc > 0 && numvfs > 0) {
        g_autoptr(GPtrArray) vfs = g_ptr_array_new_with_free_func(g_free);
        guint64 i;

        for (i = 0; i < numvfs; i++) {
            char link[32];
            char *vf = NULL;

            g_snprintf(link, sizeof(link), "virtfn%" G_GUINT64_FORMAT, i);
            if ((rc = vfmigSysfsReadLink(devFd, devDir, link, &vf)) < 0) {
                vfmigNodeDevKeepError(dev->errors);
            } else if (rc == 0) {
                g_autofree char *path = g_build_filename(devDir, link, NULL);
                g_autofree char *nPath = g_build_filename(devDir, "sriov_numvfs",
                                                          NULL);

                vfmigReportError(VFMIG_ERR_DATA_CORRUPT,
                                 _("'%1$s' is missing although '%2$s' is %3$" PRIu64),
                                 path, nPath, (uint64_t) numvfs);
                vfmigNodeDevKeepError(dev->errors);
            } else {
                g_ptr_array_add(vfs, vf);
            }
        }
        g_ptr_array_add(vfs, NULL);
        dev->virtfns = (char **) g_ptr_array_free(g_steal_pointer(&vfs), FALSE);
    }

    /* a VFIO driver, whatever its name, is one VFIO registered a device
     * for: vfio-dev/ (as vfmigVFIOOpen decides) */
    if (dev->driver)
        dev->vfio = faccessat(devFd, "vfio-dev", F_OK, 0) == 0;

    if (dev->vfio) {
        guint64 enabled;

        if ((rc = vfmigSysfsReadU64(devFd, devDir, "enable", true,
                                    G_MAXUINT, &enabled)) < 0) {
            vfmigNodeDevKeepError(dev->errors);
        } else if (rc > 0 && enabled > 0) {
            dev->inUse = true;
            dev->inUseReason = g_strdup_printf(_("the PCI function is enabled (enable=%1$" PRIu64 "): a VFIO user such as QEMU has the device open"),
                                               (uint64_t) enabled);
        }
        vfmigNodeDevProbeCap(p, dev, devFd, devDir);
    }

    close(devFd);
    return g_steal_pointer(&dev);
}


static int
vfmigNodeDevCompare(gconstpointer a,
                    gconstpointer b)
{
    const vfmigNodeDevPCI *da = *(const vfmigNodeDevPCI *const *) a;
    const vfmigNodeDevPCI *db = *(const vfmigNodeDevPCI *const *) b;

    return strcmp(da->address, db->address);
}


static void
vfmigNodeDevPCIFreeFunc(gpointer dev)
{
    vfmigNodeDevPCIFree(dev);
}


void
vfmigNodeDevProbePathsFromEnv(vfmigNodeDevProbePaths *paths)
{
    memset(paths, 0, sizeof(*paths));
    paths->sysfsRoot = g_getenv("VFMIG_SYSFS_ROOT");
    paths->devRoot = g_getenv("VFMIG_DEV_ROOT");
    paths->debugfsRoot = g_getenv("VFMIG_DEBUGFS_ROOT");
    paths->procRoot = g_getenv("VFMIG_PROC_ROOT");
    paths->cacheDir = g_getenv("VFMIG_CACHE_DIR");
    paths->kernelConfig = g_getenv("VFMIG_KERNEL_CONFIG");
    paths->modulesDir = g_getenv("VFMIG_MODULES_DIR");
}


int
vfmigNodeDevProbeAll(const vfmigNodeDevProbePaths *paths,
                     unsigned int flags,
                     vfmigNodeDevList **list)
{
    g_autoptr(vfmigNodeDevList) ret = g_new0(vfmigNodeDevList, 1);
    vfmigNodeDevProber p;
    struct dirent *ent;
    DIR *dir;
    int dupFd;
    size_t i;

    *list = NULL;
    if (vfmigNodeDevProberInit(&p, paths, flags) < 0) {
        vfmigNodeDevProberClear(&p);
        return -1;
    }

    if ((dupFd = dup(p.busFd)) < 0 || !(dir = fdopendir(dupFd))) {
        int err = errno;

        if (dupFd >= 0)
            close(dupFd);
        vfmigReportSystemError(err, _("cannot list the PCI device directory '%1$s'"),
                               p.busDir);
        vfmigNodeDevProberClear(&p);
        return -1;
    }

    ret->devices = g_ptr_array_new_with_free_func(vfmigNodeDevPCIFreeFunc);
    while ((errno = 0, ent = readdir(dir))) {
        vfmigNodeDevPCI *dev;

        if (ent->d_name[0] == '.')
            continue;
        if ((dev = vfmigNodeDevProbeDevice(&p, ent->d_name)))
            g_ptr_array_add(ret->devices, dev);
        else
            vfmigNodeDevKeepError(p.errors);    /* vanished meanwhile */
    }
    if (errno != 0) {
        vfmigReportSystemError(errno, _("cannot list the PCI device directory '%1$s'"),
                               p.busDir);
        vfmigNodeDevKeepError(p.errors);
    }
    closedir(dir);

    g_ptr_array_sort(ret->devices, vfmigNodeDevCompare);

    ret->errors = g_steal_pointer(&p.errors);
    ret->nerrors = ret->errors->len;
    for (i = 0; i < ret->devices->len; i++) {
        vfmigNodeDevPCI *dev = g_ptr_array_index(ret->devices, i);

        ret->nerrors += dev->errors->len;
    }

    vfmigNodeDevProberClear(&p);
    *list = g_steal_pointer(&ret);
    return 0;
}


int
vfmigNodeDevProbeOne(const vfmigNodeDevProbePaths *paths,
                     const char *address,
                     unsigned int flags,
                     vfmigNodeDevPCI **dev)
{
    g_autofree char *norm = NULL;
    vfmigNodeDevProber p;
    bool isMdev;

    *dev = NULL;
    if (vfmigVFIOParseName(address, &norm, &isMdev) < 0)
        return -1;
    if (isMdev) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("'%1$s' is a mediated device, not a PCI device"),
                         address);
        return -1;
    }

    if (vfmigNodeDevProberInit(&p, paths, flags) < 0) {
        vfmigNodeDevProberClear(&p);
        return -1;
    }
    *dev = vfmigNodeDevProbeDevice(&p, norm);

    /* problems of no one device belong to this one here */
    if (*dev) {
        while (p.errors->len > 0)
            g_ptr_array_add((*dev)->errors,
                            g_ptr_array_steal_index(p.errors, 0));
    }
    vfmigNodeDevProberClear(&p);
    return *dev ? 0 : -1;
}
