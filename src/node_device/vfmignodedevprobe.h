/*
 * vfmignodedevprobe.h: PCI node devices and their VF migration capability
 *
 * Walks <sysfs>/bus/pci/devices the way libvirt's node-device driver does
 * (address, ids, PF/VF links, bound driver, IOMMU group) and, for every
 * device bound to a VFIO driver, builds the vfio-migration capability from,
 * in order:
 *   (a) our drivers' vfio_migration/ sysfs ABI
 *       (docs/abi/sysfs-bus-pci-devices-vfio_migration);
 *   (b) <debugfs>/vfio/<dev>/migration/features (Linux >= 6.18 with
 *       CONFIG_VFIO_DEBUGFS; no Debian kernel has it);
 *   (c) a VFIO_DEVICE_FEATURE query, only with VFMIG_NODEDEV_PROBE_VFIO and
 *       only on a device nobody holds: opening a VFIO device makes vfio-pci
 *       reset the function, so the prober never does it unasked;
 *   (d) the cache of an earlier probe (<cacheDir>/<address>.xml), which
 *       (a)-(c) refresh.
 * A capability gets the record of the device's last qualification
 * (<cacheDir>/<address>.qualified.xml, vfmignodedevqualify.h) when there
 * is one.
 *
 * A device is "in use" when its PCI function is enabled (vfio-pci enables
 * it in open_device and disables it on the last close), when our driver
 * reports a migration state, or, only when a VFIO query is about to be
 * made, when a process holds its group or cdev (one scan of
 * <proc>/<pid>/fd per enumeration).  See docs/benchmarks.rst and the
 * comments in vfmignodedevprobe.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

#include "vfmignodedevconf.h"
#include "vfmigerror.h"
#include "vfmigpci.h"

#define VFMIG_NODEDEV_DEBUGFS_ROOT "/sys/kernel/debug"
#define VFMIG_NODEDEV_PROC_ROOT "/proc"
#define VFMIG_NODEDEV_CACHE_DIR "/var/lib/vfmig/nodedev"

/* Where to look; every NULL member takes the system default. */
typedef struct _vfmigNodeDevProbePaths vfmigNodeDevProbePaths;
struct _vfmigNodeDevProbePaths {
    const char *sysfsRoot;      /* NULL: "/sys" */
    const char *debugfsRoot;    /* NULL: "/sys/kernel/debug" */
    const char *devRoot;        /* NULL: "/dev" */
    const char *procRoot;       /* NULL: "/proc" */
    const char *cacheDir;       /* NULL: "/var/lib/vfmig/nodedev" */
    const char *kernelConfig;   /* NULL: "/boot/config-$(uname -r)"; read
                                 * only to explain a missing dirty tracking */
    const char *modulesDir;     /* NULL: "/lib/modules/$(uname -r)"; its
                                 * modules.alias and modules.dep say which
                                 * driver libvirt binds a managed hostdev
                                 * to (vfmignodedevvariant.h) */
};

typedef enum {
    /* Allow a VFIO feature query (opens the device: vfio-pci resets an
     * idle function) on idle VFIO devices that (a) and (b) do not cover. */
    VFMIG_NODEDEV_PROBE_VFIO = 1 << 0,
    /* Neither read nor write the cache. */
    VFMIG_NODEDEV_PROBE_NO_CACHE = 1 << 1,
    /* Read the cache but never write it. */
    VFMIG_NODEDEV_PROBE_NO_CACHE_WRITE = 1 << 2,
    /* Do not attach the qualification record (the record is not the
     * cache: VFMIG_NODEDEV_PROBE_NO_CACHE leaves it in). */
    VFMIG_NODEDEV_PROBE_NO_QUALIFIED = 1 << 3,
} vfmigNodeDevProbeFlags;

typedef struct _vfmigNodeDevPCI vfmigNodeDevPCI;
struct _vfmigNodeDevPCI {
    char *address;              /* "0000:3b:00.2", as sysfs names it */
    vfmigPCIAddress pci;        /* the same, parsed */
    unsigned int vendor;        /* 0 when unreadable (see errors) */
    unsigned int device;
    char *driver;               /* bound driver, NULL: unbound */
    int iommuGroup;             /* -1: none */
    char *physfn;               /* a VF's PF address, else NULL */
    char **virtfns;             /* a PF's VF addresses by index, or NULL */

    bool vfio;                  /* bound to a VFIO driver */
    bool inUse;                 /* opened by a VFIO user (see above) */
    char *inUseReason;          /* how that was seen, when inUse */

    /* The vfio-migration capability, NULL when the device is not bound to
     * a VFIO driver or nothing could tell its features (see @note). */
    vfmigNodeDevCapVFIOMig *cap;
    char *note;                 /* why @cap is NULL or came from the cache */
    /* @cap has no DMA dirty tracking, and the running kernel could not
     * report device dirty pages anyway: a Linux after 6.1 built without
     * CONFIG_IOMMUFD_DRIVER, as Debian's 6.12 (its configuration read
     * from @paths' kernelConfig) */
    bool kernelNoDirty;

    GPtrArray *errors;          /* vfmigError *: this device's problems */
};

void vfmigNodeDevPCIFree(vfmigNodeDevPCI *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevPCI, vfmigNodeDevPCIFree);

typedef struct _vfmigNodeDevList vfmigNodeDevList;
struct _vfmigNodeDevList {
    GPtrArray *devices;         /* vfmigNodeDevPCI *, sorted by address */
    GPtrArray *errors;          /* vfmigError *: problems of no one device */
    size_t nerrors;             /* all errors, the devices' included */
};

void vfmigNodeDevListFree(vfmigNodeDevList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevList, vfmigNodeDevListFree);

/*
 * Enumerates every PCI device.  @paths may be NULL; @flags are
 * vfmigNodeDevProbeFlags.  A device whose files are missing or garbage is
 * still listed, with its errors; only a failure to list the bus at all
 * (no <sysfs>/bus/pci/devices) returns -1 with an error reported.
 */
/*
 * The probe's paths from the environment (VFMIG_SYSFS_ROOT, _DEV_ROOT,
 * _DEBUGFS_ROOT, _PROC_ROOT, _CACHE_DIR, _KERNEL_CONFIG, _MODULES_DIR),
 * which the test suites use for fake trees; unset, every path is the
 * system's.
 */
void vfmigNodeDevProbePathsFromEnv(vfmigNodeDevProbePaths *paths);

int vfmigNodeDevProbeAll(const vfmigNodeDevProbePaths *paths,
                         unsigned int flags,
                         vfmigNodeDevList **list);

/*
 * Probes the one device @address (normalized like vfmigVFIOParseName).
 * Returns -1 with an error reported when @address is not a PCI address or
 * no such device exists; otherwise 0, with the device's own problems in
 * (*@dev)->errors.
 */
int vfmigNodeDevProbeOne(const vfmigNodeDevProbePaths *paths,
                         const char *address,
                         unsigned int flags,
                         vfmigNodeDevPCI **dev);

/*
 * The live estimates of the device @address from our drivers' sysfs ABI
 * (vfio_migration/: state, initial_bytes, dirty_bytes, stop_copy_bytes,
 * the latencies), without probing anything else: cheap enough for a
 * migration controller to call several times a second.  Returns 1 with
 * *@live; 0 when the device has no such ABI (another driver, or no such
 * device: *@live NULL, nothing reported); -1 with an error naming the
 * file.  In RUNNING (also a device nobody opened) the estimates are 0.
 */
int vfmigNodeDevReadLive(const vfmigNodeDevProbePaths *paths,
                         const char *address,
                         vfmigNodeDevLive **live);

/* The device @address of @list, or NULL. */
vfmigNodeDevPCI *vfmigNodeDevListFind(vfmigNodeDevList *list,
                                      const char *address);

/*
 * The cache: one XML document per device, <cacheDir>/<address>.xml, the
 * capability as last probed live (vfmignodedevstore.h), replaced
 * atomically (temporary file + rename).  Live estimates and the
 * qualification record are never cached.  The directory and the files are
 * checked before they are trusted (vfmignodedevcachedir.h).
 */

#define VFMIG_NODEDEV_CACHE_SUFFIX ".xml"

/* <cacheDir>/<address>.xml; @cacheDir NULL: the default. */
char *vfmigNodeDevCachePath(const char *cacheDir,
                            const char *address);

/* Writes @cap for @address unless the file already says the same. */
int vfmigNodeDevCacheWrite(const char *cacheDir,
                           const char *address,
                           const vfmigNodeDevCapVFIOMig *cap);

/*
 * Reads the cache of @address into *@cap (source 'cache').  Returns 1 when
 * read, 0 when there is no cache file or directory (*@cap NULL, nothing
 * reported), -1 with an error naming the file or directory and what is
 * wrong with it (an untrusted directory, a file that is not a regular
 * one, too large, corrupt, or written for another device).
 */
int vfmigNodeDevCacheRead(const char *cacheDir,
                          const char *address,
                          vfmigNodeDevCapVFIOMig **cap);
