/*
 * vfmigdevctl.h: the device state commands as library calls
 *
 * What `virt-vfmig device-qualify`, `device-save` and `device-restore`
 * decide, for every front end (the CLI, the libvirt hook, the daemon):
 * which device may be touched (the "in use" rules), how it is opened and
 * what its state identity is, which latency hints the downtime policy
 * gets and where each came from, what a qualification records, and the
 * reports the front ends print.  The front ends parse options and print;
 * they decide nothing.
 *
 * No globals, no exit(), no output: errors go through vfmigerror.h, what
 * a front end should show besides (a broken record) is in the reports'
 * warnings, and a run stops when the caller's cancel flag becomes
 * non-zero (a signal handler may set it).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vfmigdevice.h"
#include "vfmigengine.h"
#include "vfmignodedevprobe.h"
#include "vfmigqualify.h"
#include "vfmigstatefile.h"
#include "vfmigvfio.h"

/* Where to look; every NULL member takes the system default.  The probe's
 * cacheDir also holds the qualification records. */
typedef struct _vfmigDevCtlPaths vfmigDevCtlPaths;
struct _vfmigDevCtlPaths {
    vfmigVFIOPaths vfio;
    vfmigNodeDevProbePaths probe;
};

/* Where a latency hint, or a figure of a report, came from. */
typedef enum {
    VFMIG_DEVCTL_HINT_NONE = 0,     /* nothing tells: 0 */
    VFMIG_DEVCTL_HINT_SYSFS,        /* the driver's sysfs (its last
                                     * transitions) */
    VFMIG_DEVCTL_HINT_MEASURED,     /* measured now, in this run */
    VFMIG_DEVCTL_HINT_RECORD,       /* the device's qualification record */

    VFMIG_DEVCTL_HINT_LAST
} vfmigDevCtlHintSource;

typedef struct _vfmigDevCtlHint vfmigDevCtlHint;
struct _vfmigDevCtlHint {
    vfmigDevCtlHintSource source;
    uint64_t us;
    gint64 recordAt;                /* RECORD: when that qualification ran
                                     * (UTC seconds) */
};

/*
 * One device, for a state command: probed, then opened.  The hints are
 * what the downtime policy counts besides the residue's transfer: the stop
 * part on a source (the stop transition, and the stop-copy drain's own
 * cost where it was measured), the resume part on a destination (the
 * load commit and the resume).
 */
typedef struct _vfmigDevCtlDev vfmigDevCtlDev;
struct _vfmigDevCtlDev {
    char *name;                 /* normalized */
    vfmigNodeDevPCI *pci;       /* the probe; NULL for an mdev or a device
                                 * given by vfmigDevCtlDevWrap */
    vfmigDevice *dev;           /* NULL until opened */
    vfmigStateIdentity id;      /* strings borrowed from pci or dev */
    vfmigDevCtlHint stopHint;
    vfmigDevCtlHint resumeHint;
    GPtrArray *warnings;        /* char *: for the front end to show */
};

void vfmigDevCtlDevFree(vfmigDevCtlDev *md);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDevCtlDev, vfmigDevCtlDevFree);

/*
 * Probes the device @arg (a PCI address or an mdev UUID) for a state
 * command without opening it, and refuses one that is in use
 * (VFMIG_ERR_DEVICE_BUSY: QEMU or anyone else has it open, or it is in a
 * migration state).  NULL with an error.
 */
vfmigDevCtlDev *vfmigDevCtlProbe(const vfmigDevCtlPaths *paths,
                                 const char *arg);

typedef enum {
    /* Take the latency hints from the device's qualification record when
     * it has one (device-save, device-restore); without it, the driver's
     * sysfs only (device-qualify: a record never feeds a verdict). */
    VFMIG_DEVCTL_OPEN_RECORD_HINTS = 1 << 0,
} vfmigDevCtlOpenFlags;

/*
 * Opens the probed device through VFIO (which refuses a device someone
 * else holds), fills its state identity from the probe and its latency
 * hints.  A broken or stale record is a warning, not a failure.
 * 0, or -1 with an error.
 */
int vfmigDevCtlOpen(const vfmigDevCtlPaths *paths,
                    vfmigDevCtlDev *md,
                    unsigned int flags);

/* Probe and open. */
vfmigDevCtlDev *vfmigDevCtlProbeOpen(const vfmigDevCtlPaths *paths,
                                     const char *arg,
                                     unsigned int flags);

/* A device that is already open (an emulated one, a hook's), taking @dev;
 * its identity is copied (the strings stay the caller's).  No hints. */
vfmigDevCtlDev *vfmigDevCtlDevWrap(vfmigDevice *dev,
                                   const vfmigStateIdentity *id);

/*
 * The latency hints of the device @address for a controller that steers
 * a migration QEMU drives (the device is in use: nothing is opened):
 * its qualification record's when it has one, else the driver's sysfs
 * values of its last transitions, else none (0, source NONE).  A broken
 * record is a warning in *@warnings (char *; may be NULL).
 * 0, or -1 with an error (no such device).
 */
int vfmigDevCtlLatencyHints(const vfmigDevCtlPaths *paths,
                            const char *address,
                            vfmigDevCtlHint *stop,
                            vfmigDevCtlHint *resume,
                            GPtrArray **warnings);

/* The device's migration state now ("RUNNING"), or NULL. */
const char *vfmigDevCtlDevStateName(vfmigDevCtlDev *md);

const char *vfmigDevCtlHintSourceToString(int source);


/* ---- qualification ---- */

typedef struct _vfmigDevCtlQualifyParams vfmigDevCtlQualifyParams;
struct _vfmigDevCtlQualifyParams {
    uint64_t targetUs;          /* 0: 300 ms */
    uint64_t timeoutMs;         /* 0: none */
    /* Pre-copy deadline; 0: 10 s, or half the timeout when shorter. */
    uint64_t deadlineUs;
    /* Keep what the run measured in the device's qualification record. */
    bool record;
    unsigned int roundMs;       /* 0: the engine's default */
    const gint *cancel;
    vfmigEngineProgressFunc progress;
    void *progressOpaque;
    const char *tmpDir;         /* NULL: g_get_tmp_dir() */
};

typedef struct _vfmigDevCtlQualifyReport vfmigDevCtlQualifyReport;
struct _vfmigDevCtlQualifyReport {
    vfmigQualifyResult *res;    /* what the run saw, the verdict */
    /* The hints the first run used (the driver's sysfs, or none) and the
     * ones the run that gave the verdict used (measured in this
     * qualification, when it measured first). */
    vfmigDevCtlHint givenStop;
    vfmigDevCtlHint givenResume;
    vfmigDevCtlHint stop;
    vfmigDevCtlHint resume;
    /* The policy's prediction against the measured downtime. */
    bool havePrediction;
    uint64_t predictedUs;
    uint64_t measuredUs;
    double predictionErrorPercent;
    char *record;               /* the record written, or NULL */
    GPtrArray *warnings;        /* char * */
};

void vfmigDevCtlQualifyReportFree(vfmigDevCtlQualifyReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDevCtlQualifyReport, vfmigDevCtlQualifyReportFree);

/*
 * Qualifies the device @device, onto @peer (NULL: onto itself): both are
 * probed (idle) before either is opened.  The run measures the device's
 * switchover costs first and predicts with them; nothing is read from an
 * earlier qualification.  Returns 0 with *@report whatever the verdict,
 * -1 with an error when there is none (a device refused, the run
 * cancelled).
 */
int vfmigDevCtlQualify(const vfmigDevCtlPaths *paths,
                       const char *device,
                       const char *peer,
                       const vfmigDevCtlQualifyParams *params,
                       vfmigDevCtlQualifyReport **report);

/* The same on opened devices; @paths NULL: no record is written. */
int vfmigDevCtlQualifyDevices(const vfmigDevCtlPaths *paths,
                              vfmigDevCtlDev *md,
                              vfmigDevCtlDev *peer,
                              const vfmigDevCtlQualifyParams *params,
                              vfmigDevCtlQualifyReport **report);

/*
 * Writes the record of a run that moved state, for a PCI device.  Returns
 * 1 with *@path, 0 when there is nothing to record (nothing moved, not a
 * PCI device), -1 with an error.
 */
int vfmigDevCtlQualifyRecord(const vfmigDevCtlPaths *paths,
                             const vfmigDevCtlDev *md,
                             const vfmigQualifyResult *res,
                             char **path);


/* ---- save and restore ---- */

typedef struct _vfmigDevCtlStateParams vfmigDevCtlStateParams;
struct _vfmigDevCtlStateParams {
    vfmigEnginePrecopy precopy;     /* save */
    uint64_t targetUs;              /* save; 0: 300 ms */
    uint64_t timeoutMs;             /* 0: none */
    bool leaveStopped;              /* restore: leave the device in STOP */
    const gint *cancel;
    vfmigEngineProgressFunc progress;
    void *progressOpaque;
};

typedef struct _vfmigDevCtlStateReport vfmigDevCtlStateReport;
struct _vfmigDevCtlStateReport {
    char *device;
    vfmigDevCtlHint stop;           /* save: the hints its policy used */
    vfmigDevCtlHint resume;
    vfmigEngineReport engine;
    char *state;                    /* the device's state after, or NULL */
    char *error;                    /* when it failed */
    /* restore: the device was put in RESUMING (a failure reset it) */
    bool touched;
    GPtrArray *warnings;            /* char * */
};

void vfmigDevCtlStateReportFree(vfmigDevCtlStateReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDevCtlStateReport, vfmigDevCtlStateReportFree);

/*
 * Saves @device into @file, a new file (never overwritten: an existing
 * one is refused), or into @fd when @file is NULL.  The file is written
 * under a temporary name beside it and renamed only after the end record
 * and an fsync: a failure or a cancel removes the temporary file, a
 * SIGKILL leaves only ".<file>.vfmig-XXXXXX", never @file.
 *
 * Returns 0 with *@report; -1 with an error, and *@report when the device
 * was opened (for a report of the failure), else NULL.
 */
int vfmigDevCtlSave(const vfmigDevCtlPaths *paths,
                    const char *device,
                    const char *file,
                    int fd,
                    const vfmigDevCtlStateParams *params,
                    vfmigDevCtlStateReport **report);

/* The same for an opened device. */
int vfmigDevCtlSaveDevice(vfmigDevCtlDev *md,
                          const char *file,
                          int fd,
                          const vfmigDevCtlStateParams *params,
                          vfmigDevCtlStateReport **report);

/* Loads @file (or @fd when @file is NULL) into @device; as
 * vfmigDevCtlSave for the report. */
int vfmigDevCtlRestore(const vfmigDevCtlPaths *paths,
                       const char *device,
                       const char *file,
                       int fd,
                       const vfmigDevCtlStateParams *params,
                       vfmigDevCtlStateReport **report);
