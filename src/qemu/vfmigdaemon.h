/*
 * vfmigdaemon.h: virt-vfmigd's work, as one library call
 *
 * Watches the libvirt daemon at @uri and steers every outgoing migration
 * of a domain that has a vfmig policy, whoever started it (virsh, Nova,
 * virt-vfmig migrate), driving a controller (vfmigsteer.h) for it, one
 * step every @intervalMs, until the job ends.  libvirt's JOB_COMPLETED
 * event gives the downtime libvirt measured; its difference to the
 * controller's prediction at the switch (without overhead) is libvirt's
 * own switchover overhead, learned per host (the upper quartile of the
 * last VFMIG_CONTROLLER_OVERHEAD_SAMPLES, kept in @stateFile) and added
 * to the next predictions.
 *
 * One domain never delays another.  Every libvirt call on a domain (its
 * job, its XML, the steering steps of its session, the hand-back of its
 * limit) is made by that domain's worker (vfmigworker.h: a thread of a
 * pool, one task in flight per domain), never by the thread that runs
 * libvirt's event loop, which keeps the books alone: the domains, their
 * sessions, the guardian's list, the hand-backs, the reports.  A call
 * that blocks (libvirt waits up to 30 s for the job of a domain whose
 * QEMU does not answer) stalls its domain only: after
 * VFMIG_DAEMON_CALL_WARN_MS it is reported once, as a warning that names
 * the domain and what it waits for; nothing else is asked of the domain
 * until it returns; the other domains are stepped at every interval
 * meanwhile.
 *
 * How a migration is found:
 *  - libvirt's events: MIGRATION_ITERATION (QEMU's first pass, at the
 *    start of the migration on the source) has the domain's job read at
 *    the next interval; LIFECYCLE records a domain that starts
 *    (vfmigDaemonDomainStarted) and forgets one that stopped;
 *    METADATA_CHANGE of vfmig's namespace has its policy read again;
 *  - a domain with a vfmig policy has its job read at every interval, by
 *    its worker, so that its migration is found in libvirt's Begin
 *    phase, before QEMU sends anything (the pre-flight cancels there);
 *  - the slow sweep: every VFMIG_DAEMON_SWEEP_MS the running domains
 *    are listed (on a worker too) and each one's job read by its worker,
 *    for a migration whose event was missed (the daemon started or
 *    connected again while it ran); a worker that is busy is not waited
 *    for.
 *
 * The host default policy (@hostPolicyPath, vfmigdaemonhost.h,
 * vfmighostdefault.h): a domain's live XML is read, and the host default
 * decided for it on its worker, when the daemon first sees it running,
 * when it starts, when it resumes after an incoming migration (not while
 * that runs: vfmigDaemonDomainIncoming), at its METADATA_CHANGE, and
 * when the policy in force changes (the file is looked at every sweep).
 * Where the decision says so, the policy is set as its live metadata,
 * and said; a failure is said once and tried again at every sweep.
 *
 * A guardian process (vfmigguard.h) hands every held limit back if the
 * daemon dies; on a quit request the daemon hands them back itself, each
 * domain's on its worker, and returns within VFMIG_DAEMON_QUIT_WAIT_MS
 * plus the hand-backs of the domains that answer (each bounded by
 * VFMIG_DAEMON_CALL_WARN_MS).  A domain whose call has not returned by
 * then is left: its limit to the guardian, which still lists it (without
 * one, a warning says the limit may stay), and its worker abandoned.
 * That is safe: the task holds a reference to all it uses (the domain,
 * the session's steer, the connection; the pool lives until its last
 * task ended) and frees it when the call returns, and it reports and
 * touches nothing of the daemon.  vfmigDaemonRun then does not wait for
 * the guardian, which may itself wait on that domain: the process ends
 * at once, and the abandoned call with it, which could otherwise still
 * step the migration after the guardian handed its limit back.  A limit
 * held when the connection to libvirt
 * is lost is handed back once the daemon is connected again
 * (vfmigDaemonHandBacks below), and only then dropped from the
 * guardian's list.
 *
 * Everything the daemon decides or sees is passed to @report as one
 * translated line, from the event loop's thread; the front end prints
 * it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <libvirt/libvirt.h>

#include "vfmigdevctl.h"
#include "vfmigdowntimeparams.h"
#include "vfmigguard.h"
#include "vfmigsteer.h"

#define VFMIG_DAEMON_INTERVAL_MS_DEFAULT 200
/* How often the running domains are listed and each one's job read. */
#define VFMIG_DAEMON_SWEEP_MS 5000
/* How long a domain's call may run before it is reported (once), and
 * the bound of each hand-back on the way out. */
#define VFMIG_DAEMON_CALL_WARN_MS 5000
/* On the way out, how long a call in flight of a domain whose limit is
 * held is waited for before the limit is left to the guardian. */
#define VFMIG_DAEMON_QUIT_WAIT_MS 2000
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
    /* libvirt's calls on a domain; NULL: libvirt's own (the tests stand
     * in for a migration job).  Must outlive the daemon: a call still
     * blocked when vfmigDaemonRun returns goes on with it, as with the
     * strings of @paths. */
    const vfmigSteerCalls *calls;
    /* The host default policy file (vfmighostdefault.h): running domains
     * that have migrating VFs and no policy of their own get theirs as
     * live metadata; NULL: none is given. */
    const char *hostPolicyPath;
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
 * The daemon without libvirt's event loop and connection, which
 * vfmigDaemonRun adds: exported for the tests, which call it as
 * vfmigDaemonRun does, from one thread, with a clock of their own.
 */
typedef struct _vfmigDaemon vfmigDaemon;

/* Loads the state file as vfmigDaemonRun says.  @guard (NULL: none) is
 * borrowed; @config must outlive the daemon. */
vfmigDaemon *vfmigDaemonNew(const vfmigDaemonConfig *config,
                            vfmigGuard *guard);
/* Abandons the tasks still running (they end by themselves). */
void vfmigDaemonFree(vfmigDaemon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDaemon, vfmigDaemonFree);

/* Connected to libvirt through @conn (borrowed until
 * vfmigDaemonConnectionLost): every domain is looked at anew at the next
 * tick, and the limits held when the last connection was lost are handed
 * back. */
void vfmigDaemonConnected(vfmigDaemon *d,
                          virConnectPtr conn);
/* The connection is lost: the sessions go, their held limits wait to be
 * handed back, every task in flight is abandoned. */
void vfmigDaemonConnectionLost(vfmigDaemon *d);

/*
 * One interval at @nowUs (the caller's monotonic clock, for the
 * interval's decisions: the sweep, a call reported late, how long an
 * ended migration waits for its completion): each domain whose worker is
 * idle has what its last task found acted on, and its next task started
 * (a step of its session, a check of its job...); one whose worker is
 * still busy is not waited for.  Never blocks.
 */
void vfmigDaemonTick(vfmigDaemon *d,
                     int64_t nowUs);

/* libvirt's events, from the event loop.  A domain that starts (or
 * resumes after an incoming migration): its XML is read at the next tick,
 * and the host default policy decided for it. */
void vfmigDaemonDomainStarted(vfmigDaemon *d,
                              virDomainPtr dom);
/* An incoming migration's domain started: its XML is read once it
 * resumes (vfmigDaemonDomainStarted), not while the migration runs. */
void vfmigDaemonDomainIncoming(vfmigDaemon *d,
                               virDomainPtr dom);
void vfmigDaemonDomainStopped(vfmigDaemon *d,
                              virDomainPtr dom);
/* QEMU's migration pass @iteration of @dom: its job is read at the next
 * tick (the first arrives as its migration starts). */
void vfmigDaemonMigrationIteration(vfmigDaemon *d,
                                   virDomainPtr dom,
                                   int iteration);
/* @dom's vfmig policy changed: read again at the next tick. */
void vfmigDaemonMetadataChanged(vfmigDaemon *d,
                                virDomainPtr dom);
/* A job of @dom ended, as libvirt says (JOB_COMPLETED). */
void vfmigDaemonJobCompleted(vfmigDaemon *d,
                             virDomainPtr dom,
                             const vfmigSteerCompleted *stats);

/*
 * Stops: hands back every limit held, each on its domain's worker.  A
 * call in flight of a domain whose limit is held is waited for at most
 * VFMIG_DAEMON_QUIT_WAIT_MS, each hand-back at most
 * VFMIG_DAEMON_CALL_WARN_MS; a domain whose call has not returned then is
 * left to the guardian, and said so.  Returns how many were left so
 * (0: the guardian has nothing of this daemon's to wait for).  Ticks do
 * nothing after it.
 */
unsigned int vfmigDaemonQuit(vfmigDaemon *d);

/*
 * For the tests: waits until every worker (the listing's, and each
 * domain's but those named in @skip, NULL-terminated; NULL: none) has
 * finished its task, at most until @deadlineUs (g_get_monotonic_time's
 * clock): whether they have.
 */
bool vfmigDaemonSettle(vfmigDaemon *d,
                       const char *const *skip,
                       int64_t deadlineUs);

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
 * steers that domain again, the daemon hands each back as the guardian
 * does (vfmigGuardHandBack, on the domain's worker), ends its VFs' switchover holds (their lease would
 * lapse by itself, VFMIG_CONTROLLER_HOLD_LEASE_MS after the last step),
 * and drops it from the guardian's list.  A migration listed here is not
 * steered until then: a limit handed back first is read as the one
 * before by the session that steers it next.
 *
 * vfmigDaemonRun keeps one; exported for the tests, which drive it with
 * limit ops of their own and a guardian over a pipe (vfmigGuardOpenFd).
 * vfmigDaemonHandBacksRun, which hands back every listed limit in turn,
 * is theirs: the daemon hands back each on its domain's worker.
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
