/*
 * vfmigmigrate.h: one live migration, started and steered in-process
 *
 * What `virt-vfmig migrate` does, as one library call: the switchover
 * controller (vfmigsteer.h) of the domain's vfmig policy, the migration
 * started through libvirt's public API (virDomainMigrate3 to a
 * destination connection, as `virsh migrate` without --p2p does) in a
 * thread, while the calling thread steps the controller every
 * @intervalMs and reports each step; a time limit and a cancel flag that
 * abort the job (the source keeps running); and a report that sets
 * libvirt's measured downtime (the completed job's statistics) against
 * the controller's prediction at the switch.
 *
 * The steering lock (vfmigsteer.h) is taken before the migration starts,
 * so virt-vfmigd on this host leaves this migration alone ("not steered
 * here").  libvirt's overhead comes from virt-vfmigd's learned samples
 * (read, never written) unless the caller gives one.
 *
 * Where the source's VF has no device dirty tracking (QEMU then counts all
 * guest RAM dirty and never converges on the measured bandwidth),
 * VIR_MIGRATE_PARAM_BANDWIDTH_AVAIL_SWITCHOVER is given: the caller's
 * value, or vfmigMigrateDefaultSwitchoverMiBps.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <libvirt/libvirt.h>

#include "vfmigcontroller.h"
#include "vfmigdevctl.h"
#include "vfmigdomainpolicy.h"
#include "vfmigenum.h"

#define VFMIG_MIGRATE_INTERVAL_MS_DEFAULT 200
/* The most a destination XML file (--xml) may hold. */
#define VFMIG_MIGRATE_XML_MAX (1024 * 1024)

/* How a migration ended. */
typedef enum {
    VFMIG_MIGRATE_MIGRATED = 0,     /* the domain runs on the destination */
    VFMIG_MIGRATE_FAILED,           /* libvirt or QEMU failed it */
    VFMIG_MIGRATE_ABORTED,          /* the controller gave up (on-failure
                                     * abort) and cancelled it */
    VFMIG_MIGRATE_TIMEOUT,          /* cancelled at the time limit */
    VFMIG_MIGRATE_CANCELLED,        /* cancelled by the cancel flag */

    VFMIG_MIGRATE_RESULT_LAST
} vfmigMigrateResult;
VFMIG_ENUM_DECL(vfmigMigrateResult);

/* Where libvirt's switchover overhead came from. */
typedef enum {
    VFMIG_MIGRATE_OVERHEAD_NONE = 0,    /* nothing learned: 0 */
    VFMIG_MIGRATE_OVERHEAD_LEARNED,     /* virt-vfmigd's state file */
    VFMIG_MIGRATE_OVERHEAD_OPTION,      /* the caller's */

    VFMIG_MIGRATE_OVERHEAD_LAST
} vfmigMigrateOverheadSource;
VFMIG_ENUM_DECL(vfmigMigrateOverheadSource);

/* Why VIR_MIGRATE_PARAM_BANDWIDTH_AVAIL_SWITCHOVER was given, or not. */
typedef enum {
    VFMIG_MIGRATE_SWITCHOVER_BW_NONE = 0,   /* not given */
    VFMIG_MIGRATE_SWITCHOVER_BW_OPTION,     /* the caller's value */
    VFMIG_MIGRATE_SWITCHOVER_BW_AUTO,       /* a VF without dirty tracking */

    VFMIG_MIGRATE_SWITCHOVER_BW_LAST
} vfmigMigrateSwitchoverBw;
VFMIG_ENUM_DECL(vfmigMigrateSwitchoverBw);

/* The last step's figures of one device. */
typedef struct _vfmigMigrateDevice vfmigMigrateDevice;
struct _vfmigMigrateDevice {
    char *name;                     /* the hostdev's alias or address */
    bool known;                     /* false: no estimates */
    char *state;                    /* NULL: unknown */
    uint64_t initialBytes;
    uint64_t dirtyBytes;
    uint64_t stopCopyBytes;         /* VFMIG_DOWNTIME_UNKNOWN */
};

/* One change of the controller's phase. */
typedef struct _vfmigMigratePhase vfmigMigratePhase;
struct _vfmigMigratePhase {
    vfmigControllerPhase phase;
    uint64_t atMs;                  /* since the migration started */
};

typedef struct _vfmigMigrateReport vfmigMigrateReport;
struct _vfmigMigrateReport {
    char *domain;
    char *destURI;
    vfmigMigrateResult result;
    char *error;                    /* why it did not migrate; NULL */

    uint64_t targetUs;
    vfmigDomainPolicyOnFailure onFailure;  /* in effect: ABORT or
                                            * BEST_EFFORT */
    uint64_t overheadUs;
    vfmigMigrateOverheadSource overheadSource;
    uint64_t ramBytes;              /* the guest's memory */
    vfmigMigrateSwitchoverBw switchoverBw;
    uint64_t switchoverMiBps;       /* given to libvirt; 0: none */
    char *switchoverDevice;         /* the VF without dirty tracking (AUTO) */

    bool hasFloor;                  /* the pre-flight ran */
    uint64_t floorUs;               /* its floor: the devices' latencies
                                     * and libvirt's overhead */
    bool floorMisses;               /* the floor alone misses the target */
    vfmigControllerAllDirty allDirty;   /* the pre-flight's least downtime
                                         * where all guest RAM is dirty */

    uint64_t totalMs;               /* the migrate call's wall time */
    unsigned int steps;
    unsigned int stepErrors;
    unsigned int overwrites;        /* another client's limits */

    bool switched;                  /* the controller released the limit */
    uint64_t switchAtMs;            /* since the start */
    uint64_t switchLimitMs;
    vfmigDowntimeDecision switchDecision;
    vfmigDowntimeReason switchReason;
    uint64_t predictedUs;           /* at the switch, with the overhead;
                                     * VFMIG_DOWNTIME_UNKNOWN */
    uint64_t policyPredictedUs;     /* the same without it */

    bool hasDowntime;               /* libvirt's completed job told */
    uint64_t downtimeMs;
    bool downtimeFromDestination;   /* else the source's job */
    uint64_t jobElapsedMs;          /* libvirt's, 0: unknown */

    vfmigMigratePhase *phases;
    size_t nphases;
    vfmigMigrateDevice *devices;
    size_t ndevices;
    GPtrArray *warnings;            /* char * */
};

vfmigMigrateReport *vfmigMigrateReportNew(void);
void vfmigMigrateReportFree(vfmigMigrateReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigMigrateReport, vfmigMigrateReportFree);

/* Whether libvirt's downtime met the target: 1 met, 0 missed, -1 not
 * known (no downtime). */
int vfmigMigrateReportMet(const vfmigMigrateReport *report);

/* Called after every controller step, from the calling thread: @line is
 * vfmigControllerStepFormat's. */
typedef void (*vfmigMigrateProgressFunc)(void *opaque,
                                         const vfmigControllerStatus *step,
                                         const char *line);

typedef struct _vfmigMigrateOptions vfmigMigrateOptions;
struct _vfmigMigrateOptions {
    const char *migrateURI;         /* VIR_MIGRATE_PARAM_URI; NULL: none */
    const char *xmlFile;            /* VIR_MIGRATE_PARAM_DEST_XML from it */
    bool persistent;                /* VIR_MIGRATE_PERSIST_DEST */
    bool undefineSource;            /* VIR_MIGRATE_UNDEFINE_SOURCE */
    /* The target and failure rule (not given, DEFAULT: the policy's) and
     * libvirt's overhead (not given: virt-vfmigd's learned one); us. */
    vfmigDowntimeSettings downtime;
    unsigned int timeoutS;          /* 0: none */
    uint64_t switchoverMiBps;       /* 0: automatic */
    const char *stateFile;          /* NULL: VFMIG_DAEMON_STATE_FILE */
    unsigned int intervalMs;        /* 0: VFMIG_MIGRATE_INTERVAL_MS_DEFAULT */
    const vfmigDevCtlPaths *paths;  /* NULL: the system's */
    const char *lockDir;            /* NULL: vfmigsteer.h's */
    vfmigMigrateProgressFunc progress;
    void *opaque;
    gint *cancel;                   /* non-zero: abort; NULL: none */
};

/*
 * Migrates @dom (of @conn, this host's libvirt) to @destURI.  Returns 0
 * with *@report once a migration was attempted, whatever its result (see
 * report->result); -1 with an error and no report when it could not
 * start: a domain without a vfmig policy, one steered already, an
 * unreadable --xml file, an unreachable destination.
 */
int vfmigMigrate(virConnectPtr conn,
                 virDomainPtr dom,
                 const char *destURI,
                 const vfmigMigrateOptions *opts,
                 vfmigMigrateReport **report);

/*
 * The switchover bandwidth given where QEMU counts all guest RAM dirty,
 * MiB/s, for a guest of @ramBytes: half of the RAM per millisecond of
 * held limit (VFMIG_CONTROLLER_HOLD_MS), so that QEMU's own rule never
 * switches while the controller holds the limit (all of RAM is pending)
 * and always switches once it releases it.
 */
uint64_t vfmigMigrateDefaultSwitchoverMiBps(uint64_t ramBytes);

/* The report as text ("Label:   value" lines) and as a JSON document. */
char *vfmigMigrateReportFormatText(const vfmigMigrateReport *report);
char *vfmigMigrateReportFormatJSON(const vfmigMigrateReport *report);
