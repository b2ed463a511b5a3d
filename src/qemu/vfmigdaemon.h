/*
 * vfmigdaemon.h: virt-vfmigd's work, as one library call
 *
 * Watches the libvirt daemon at @uri and steers every outgoing migration
 * of a domain that has a vfmig policy, whoever started it (virsh, Nova,
 * virt-vfmig migrate): every @intervalMs it lists the running domains,
 * notices a job of operation "migration out", and drives a controller
 * (vfmigsteer.h) for it until the job ends.  libvirt's JOB_COMPLETED event
 * gives the downtime libvirt measured; its difference to the controller's
 * prediction at the switch (without overhead) is libvirt's own switchover
 * overhead, learned per host (the upper quartile of the last
 * VFMIG_CONTROLLER_OVERHEAD_SAMPLES, kept in @stateFile) and added to the
 * next predictions.
 *
 * A guardian process (vfmigguard.h) hands every held limit back if the
 * daemon dies; on a quit request the daemon hands them back itself.  A
 * limit held when the connection to libvirt is lost is handed back once
 * the daemon is connected again (vfmigDaemonHandBacks below), and only
 * then dropped from the guardian's list.
 *
 * Everything the daemon decides or sees is passed to @report as one
 * translated line; the front end prints it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vfmigdevctl.h"
#include "vfmigdowntimeparams.h"
#include "vfmigguard.h"
#include "vfmigsteer.h"

#define VFMIG_DAEMON_INTERVAL_MS_DEFAULT 200
#define VFMIG_DAEMON_STATE_FILE "/var/lib/vfmig/vfmigd.state"
/* How long a learned overhead sample counts, s. */
#define VFMIG_DAEMON_OVERHEAD_MAX_AGE_S (24 * 3600)
/* How far in the future a sample's date may be, s (a clock set back a
 * little since: the sample counts as taken now); further is refused. */
#define VFMIG_DAEMON_OVERHEAD_CLOCK_SKEW_S 300
/* The earliest date a sample may have, s since 1970 (2020-01-01): no
 * virt-vfmigd with a right clock wrote an earlier one. */
#define VFMIG_DAEMON_OVERHEAD_DATE_MIN 1577836800LL
/* The most a state file may hold: what vfmigDaemonSaveOverhead writes
 * for VFMIG_CONTROLLER_OVERHEAD_SAMPLES samples is under 1 KiB. */
#define VFMIG_DAEMON_STATE_MAX 4096

typedef enum {
    VFMIG_DAEMON_REPORT_INFO = 0,   /* a decision, a migration's outcome */
    VFMIG_DAEMON_REPORT_WARNING,    /* something does not work as it should */
    VFMIG_DAEMON_REPORT_PROGRESS,   /* every step (--verbose) */
} vfmigDaemonReportLevel;

typedef void (*vfmigDaemonReportFunc)(void *opaque,
                                      vfmigDaemonReportLevel level,
                                      const char *line);

typedef struct _vfmigDaemonConfig vfmigDaemonConfig;
struct _vfmigDaemonConfig {
    const char *uri;                /* NULL: libvirt's default */
    unsigned int intervalMs;        /* 0: VFMIG_DAEMON_INTERVAL_MS_DEFAULT */
    const char *stateFile;          /* NULL: nothing learned is kept */
    /* libvirt's overhead before anything was learned, the destination's
     * load time (not given: rely on switchover-ack); us */
    vfmigDowntimeSettings downtime;
    bool noGuardian;
    vfmigDevCtlPaths paths;
    vfmigDaemonReportFunc report;
    /* The wall clock, s since 1970, for the learned samples' age; NULL:
     * the system's (the tests inject theirs). */
    int64_t (*nowS)(void *opaque);
    void *opaque;
};

/*
 * Runs until *@quit becomes non-zero (a signal handler sets it), then
 * hands back every limit it holds.  Returns 0, or -1 with an error when
 * it could not start (libvirt unreachable at the start); a connection
 * lost later is reopened.  A state file vfmigDaemonLoadOverhead refuses
 * is reported as a warning and the daemon starts without learned
 * overhead; the file is left as it is until a learned sample is saved in
 * its place.
 */
int vfmigDaemonRun(const vfmigDaemonConfig *config,
                   volatile sig_atomic_t *quit);

/*
 * The learned overhead samples of @stateFile (int64_t us, oldest first)
 * that are at most VFMIG_DAEMON_OVERHEAD_MAX_AGE_S old at @nowS (s since
 * 1970), with when each was taken into *@dates (int64_t s; NULL: not
 * wanted) and how many were too old into *@expired (NULL: not wanted).
 * A sample without a date (a file of an older virt-vfmigd, without the
 * sampled-at key) counts as taken at @nowS.
 *
 * The file is read only when it can be trusted: its directory and the
 * file are owned by the effective user and writable by nobody else, and
 * neither is a symbolic link.  It must hold what vfmigDaemonSaveOverhead
 * writes and nothing else: at most VFMIG_DAEMON_STATE_MAX bytes, one
 * [overhead] group with samples-us and (optionally) sampled-at, at most
 * VFMIG_CONTROLLER_OVERHEAD_SAMPLES samples, as many dates as samples,
 * every sample the rule vfmigDaemonLearn keeps to (within the range of
 * --overhead-ms either way, dated from VFMIG_DAEMON_OVERHEAD_DATE_MIN to
 * VFMIG_DAEMON_OVERHEAD_CLOCK_SKEW_S after @nowS).  A file that breaks
 * one rule is refused whole.
 *
 * Returns 1 when there are samples, 0 when there are none (no file),
 * -1 with an error naming the file and the rule it breaks, *@samples
 * and *@dates then empty (for virt-vfmigd, `virt-vfmig migrate` and the
 * tests).
 */
int vfmigDaemonLoadOverhead(const char *stateFile,
                            int64_t nowS,
                            GArray **samples,
                            GArray **dates,
                            unsigned int *expired);


/*
 * The limits held when the connection to libvirt was lost.
 *
 * When the connection is lost, every migration whose downtime limit the
 * daemon set (and has not handed back) is listed here with that value,
 * the value to hand back, and its VFs; its session is gone, its entry in
 * the guardian's list stays (a daemon killed before it is connected again
 * still has the limit handed back).  Once connected again, before it
 * looks for migrations, the daemon hands each back as the guardian does
 * (vfmigGuardHandBack), ends its VFs' switchover holds (their lease would
 * lapse by itself, VFMIG_CONTROLLER_HOLD_LEASE_MS after the last step),
 * and drops it from the guardian's list.  A migration listed here is not
 * steered until then: a limit handed back first is read as the one
 * before by the session that steers it next.
 *
 * vfmigDaemonRun keeps one; exported for the tests, which drive it with
 * limit ops of their own and a guardian over a pipe (vfmigGuardOpenFd).
 */

/* How many times in a row a hand-back libvirt fails is tried (one per
 * tick) before the daemon gives up on it, says so, and drops it. */
#define VFMIG_DAEMON_HAND_BACK_TRIES 5

typedef struct _vfmigDaemonHandBacks vfmigDaemonHandBacks;

/* The list, empty.  @guard (NULL: no guardian) and @sysfsRoot (NULL:
 * /sys) are borrowed for its lifetime; what it does goes to @report
 * (NULL: nowhere) with @opaque. */
vfmigDaemonHandBacks *vfmigDaemonHandBacksNew(vfmigGuard *guard,
                                              const char *sysfsRoot,
                                              vfmigDaemonReportFunc report,
                                              void *opaque);
void vfmigDaemonHandBacksFree(vfmigDaemonHandBacks *hb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDaemonHandBacks, vfmigDaemonHandBacksFree);

/*
 * Lists the limit of domain @uuid (@name, for the report) that the
 * daemon set to @heldMs and that goes back to @fallbackMs, with the VFs
 * that held the switchover too (@devices, NULL-terminated; NULL: none),
 * and says so (a warning).  @steer (NULL: none) is kept until the limit
 * is handed back, with its steering lock, so that no other process
 * steers the migration meanwhile.  @uuid must not be listed already.
 */
void vfmigDaemonHandBacksAdd(vfmigDaemonHandBacks *hb,
                             const char *uuid,
                             const char *name,
                             uint64_t heldMs,
                             uint64_t fallbackMs,
                             const char *const *devices,
                             vfmigSteer *steer);

/* Whether the limit of domain @uuid waits to be handed back. */
bool vfmigDaemonHandBacksHas(const vfmigDaemonHandBacks *hb,
                             const char *uuid);

/*
 * Hands back every listed limit through @ops (@opaque): set back where
 * it is still the held value; left where another client set another
 * (theirs); nothing to do where the job or the domain is gone.  Each
 * outcome is reported, the VFs' holds end (not for a domain gone), the
 * guardian drops the domain, and it leaves the list; a libvirt error
 * keeps it listed for the next call, at most VFMIG_DAEMON_HAND_BACK_TRIES
 * times, then it is dropped with a warning.  Returns how many are left.
 */
unsigned int vfmigDaemonHandBacksRun(vfmigDaemonHandBacks *hb,
                                     const vfmigGuardLimitOps *ops,
                                     void *opaque);
