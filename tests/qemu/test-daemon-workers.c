/*
 * test-daemon-workers.c: virt-vfmigd's domain workers (vfmigdaemon.h,
 * vfmigworker.h): one domain whose libvirt call does not return never
 * delays another
 *
 * The domains are libvirt's test driver's (test:///default: their names,
 * UUIDs, state, live XML with a vfmig policy, the listing); what the test
 * driver cannot do, a migration job and its downtime limit, the test's
 * calls stand in for (vfmigSteerCalls), and one domain's call can be
 * made to block until the test lets it go.  The daemon is driven as
 * vfmigDaemonRun drives it, one tick per interval, with the test's clock;
 * after each tick the test waits until every worker but the blocked
 * one's has finished (vfmigDaemonSettle), so that what each tick did
 * does not depend on the machine's speed.  A blocked call that nobody
 * lets go returns by itself after FAKE_SAFETY_S, marked: a daemon that
 * waited for it fails the test instead of hanging it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <fcntl.h>
#include <errno.h>
#include <unistd.h>

#include <glib.h>
#include <libvirt/libvirt.h>

#include "vfmigdaemon.h"
#include "vfmigerror.h"
#include "vfmigguard.h"
#include "testdaemon.h"
#include "vfmigsteer.h"
#include "vfmigtestfs.h"
#include "vfmigworker.h"

#define INTERVAL_US (VFMIG_DAEMON_INTERVAL_MS_DEFAULT * 1000LL)
/* How long the test waits for a worker, or a blocked call for its
 * release: a safety net, never a verdict. */
#define FAKE_SAFETY_S 20

#define POLICY \
    "<metadata>" \
    "<vfmig:migration xmlns:vfmig='http://vfmig.org/xmlns/libvirt/domain/1.0'>" \
    "<vfmig:downtime target-ms='300' on-failure='best-effort'/>" \
    "</vfmig:migration>" \
    "</metadata>"


/* ---- the job and limit of each domain, as the test has them ---- */

typedef struct {
    const char *name;
    bool migrating;                 /* a migration out, QEMU not sending */
    bool block;                     /* its next job read blocks */
    bool blockAfterSet;             /* its next limit set blocks once
                                     * the limit is in */
    unsigned int jobReads;          /* reads of the running job */
    unsigned int blocked;           /* reads blocked now */
    bool timedOut;                  /* a blocked read nobody let go */
    uint64_t limitMs;
    unsigned int limitSets;
} FakeDomain;

/* The calls have libvirt's signatures: no opaque, so one state. */
static struct {
    GMutex lock;
    GCond cond;                     /* a read blocked, or was let go */
    bool released;
    FakeDomain doms[3];
} fake;


static FakeDomain *
fakeFind(virDomainPtr dom)
{
    const char *name = virDomainGetName(dom);
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(fake.doms); i++) {
        if (fake.doms[i].name && g_str_equal(fake.doms[i].name, name))
            return &fake.doms[i];
    }
    return NULL;
}


static void
fakeReset(void)
{
    static const char *names[] = { "vfa", "vfb", "vfc" };
    size_t i;

    g_mutex_lock(&fake.lock);
    fake.released = false;
    memset(fake.doms, 0, sizeof(fake.doms));
    for (i = 0; i < G_N_ELEMENTS(fake.doms); i++) {
        fake.doms[i].name = names[i];
        fake.doms[i].limitMs = 300;
    }
    g_mutex_unlock(&fake.lock);
}


/* A call of @f's blocks, fake.lock held, until the test lets it go (or
 * the safety net ends it). */
static void
fakeBlockLocked(FakeDomain *f)
{
    gint64 deadline = g_get_monotonic_time() + FAKE_SAFETY_S * G_USEC_PER_SEC;

    f->blocked++;
    g_cond_broadcast(&fake.cond);
    while (!fake.released) {
        if (!g_cond_wait_until(&fake.cond, &fake.lock, deadline)) {
            f->timedOut = true;
            break;
        }
    }
    f->blocked--;
}


static int
fakeGetJobStats(virDomainPtr dom,
                int *type,
                virTypedParameterPtr *params,
                int *nparams,
                unsigned int flags)
{
    FakeDomain *f = fakeFind(dom);
    bool migrating = false;
    int max = 0;

    *type = VIR_DOMAIN_JOB_NONE;
    *params = NULL;
    *nparams = 0;
    if ((flags & VIR_DOMAIN_JOB_STATS_COMPLETED) || !f)
        return 0;
    g_mutex_lock(&fake.lock);
    f->jobReads++;
    if (f->block) {
        f->block = false;
        fakeBlockLocked(f);
    }
    migrating = f->migrating;
    g_mutex_unlock(&fake.lock);
    if (!migrating)
        return 0;
    *type = VIR_DOMAIN_JOB_UNBOUNDED;
    g_assert_cmpint(virTypedParamsAddInt(params, nparams, &max,
                                         VIR_DOMAIN_JOB_OPERATION,
                                         VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT), ==, 0);
    return 0;
}


static int
fakeGetMaxDowntime(virDomainPtr dom,
                   unsigned long long *downtime,
                   unsigned int flags G_GNUC_UNUSED)
{
    FakeDomain *f = fakeFind(dom);

    g_mutex_lock(&fake.lock);
    *downtime = f ? f->limitMs : 300;
    g_mutex_unlock(&fake.lock);
    return 0;
}


static int
fakeSetMaxDowntime(virDomainPtr dom,
                   unsigned long long downtime,
                   unsigned int flags G_GNUC_UNUSED)
{
    FakeDomain *f = fakeFind(dom);

    g_mutex_lock(&fake.lock);
    if (f) {
        f->limitMs = downtime;
        f->limitSets++;
    }
    if (f && f->blockAfterSet) {
        /* QEMU has the limit; the daemon never hears back (as when it
         * is killed there) */
        f->blockAfterSet = false;
        fakeBlockLocked(f);
    }
    g_mutex_unlock(&fake.lock);
    return 0;
}


static int
fakeAbortJob(virDomainPtr dom G_GNUC_UNUSED)
{
    g_assert_not_reached();
    return -1;
}


/* The test driver's state, XML and liveness; the test's job and limit. */
static const vfmigSteerCalls fakeCalls = {
    .getJobStats = fakeGetJobStats,
    .getState = virDomainGetState,
    .getXMLDesc = virDomainGetXMLDesc,
    .getMaxDowntime = fakeGetMaxDowntime,
    .setMaxDowntime = fakeSetMaxDowntime,
    .abortJob = fakeAbortJob,
    .isActive = virDomainIsActive,
};


/* A copy of what the test has of @name now. */
static FakeDomain
fakeGet(const char *name)
{
    FakeDomain copy = { 0 };
    size_t i;

    g_mutex_lock(&fake.lock);
    for (i = 0; i < G_N_ELEMENTS(fake.doms); i++) {
        if (g_str_equal(fake.doms[i].name, name))
            copy = fake.doms[i];
    }
    g_mutex_unlock(&fake.lock);
    return copy;
}


static void
fakeSet(const char *name,
        bool migrating,
        bool block)
{
    size_t i;

    g_mutex_lock(&fake.lock);
    for (i = 0; i < G_N_ELEMENTS(fake.doms); i++) {
        if (g_str_equal(fake.doms[i].name, name)) {
            fake.doms[i].migrating = migrating;
            fake.doms[i].block = block;
        }
    }
    g_mutex_unlock(&fake.lock);
}


/* Waits until a read of @name blocks. */
static void
fakeWaitBlocked(const char *name)
{
    gint64 deadline = g_get_monotonic_time() + FAKE_SAFETY_S * G_USEC_PER_SEC;
    size_t i;

    g_mutex_lock(&fake.lock);
    for (i = 0; i < G_N_ELEMENTS(fake.doms); i++) {
        if (!g_str_equal(fake.doms[i].name, name))
            continue;
        while (fake.doms[i].blocked == 0 &&
               g_cond_wait_until(&fake.cond, &fake.lock, deadline))
            ;
        g_assert_cmpuint(fake.doms[i].blocked, ==, 1);
    }
    g_mutex_unlock(&fake.lock);
}


/* Lets every blocked read go. */
static void
fakeRelease(void)
{
    g_mutex_lock(&fake.lock);
    fake.released = true;
    g_cond_broadcast(&fake.cond);
    g_mutex_unlock(&fake.lock);
}


/* ---- the daemon over the test driver ---- */

typedef struct {
    virConnectPtr conn;
    virDomainPtr doms[3];           /* vfa, vfb, vfc: running */
    GPtrArray *lines;               /* what the daemon reported */
    vfmigDaemonConfig config;
    vfmigDaemon *d;
    int64_t now;                    /* the daemon's clock, us */
    int pipe[2];                    /* the guardian's, read by the test */
    vfmigGuard *guard;
} Fixture;



static virDomainPtr
fixtureDomain(virConnectPtr conn,
              const char *name,
              const char *uuid,
              bool policy)
{
    g_autofree char *xml =
        g_strdup_printf("<domain type='test'><name>%s</name><uuid>%s</uuid>"
                        "<memory>65536</memory><os><type>hvm</type></os>%s"
                        "</domain>", name, uuid, policy ? POLICY : "");
    virDomainPtr dom = virDomainCreateXML(conn, xml, 0);

    g_assert_nonnull(dom);
    return dom;
}


static void
fixtureSetUp(Fixture *f,
             gconstpointer data G_GNUC_UNUSED)
{
    fakeReset();
    f->conn = virConnectOpen("test:///default");
    g_assert_nonnull(f->conn);
    f->doms[0] = fixtureDomain(f->conn, "vfa",
                               "5a1e0000-0000-4000-8000-00000000000a", true);
    f->doms[1] = fixtureDomain(f->conn, "vfb",
                               "5a1e0000-0000-4000-8000-00000000000b", true);
    /* vfc has no policy until a test gives it one */
    f->doms[2] = fixtureDomain(f->conn, "vfc",
                               "5a1e0000-0000-4000-8000-00000000000c", false);
    f->lines = g_ptr_array_new_with_free_func(g_free);
    g_assert_cmpint(pipe(f->pipe), ==, 0);
    g_assert_cmpint(fcntl(f->pipe[0], F_SETFL, O_NONBLOCK), ==, 0);
    f->guard = vfmigGuardOpenFd(f->pipe[1]);
    f->config.noGuardian = true;
    f->config.report = testDaemonReport;
    f->config.opaque = f->lines;
    f->config.calls = &fakeCalls;
    f->d = vfmigDaemonNew(&f->config, f->guard);
    vfmigDaemonConnected(f->d, f->conn);
    vfmigResetLastError();
}


static void
fixtureTearDown(Fixture *f,
                gconstpointer data G_GNUC_UNUSED)
{
    size_t i;

    /* whatever still blocks ends, and every worker with it */
    fakeRelease();
    g_assert_true(vfmigDaemonSettle(f->d, NULL, g_get_monotonic_time() +
                                    FAKE_SAFETY_S * G_USEC_PER_SEC));
    vfmigDaemonFree(f->d);
    vfmigGuardFree(f->guard);
    close(f->pipe[0]);
    for (i = 0; i < G_N_ELEMENTS(f->doms); i++) {
        g_assert_cmpint(virDomainDestroy(f->doms[i]), ==, 0);
        virDomainFree(f->doms[i]);
    }
    virConnectClose(f->conn);
    g_ptr_array_unref(f->lines);
}


/* One interval: a tick at the daemon's clock, then every worker has
 * finished what the tick started, but that of @blocking (NULL: none)
 * once a job read of it blocks. */
static void
tick(Fixture *f,
     const char *blocking)
{
    const char *skip[] = { blocking, NULL };
    gint64 deadline = g_get_monotonic_time() + FAKE_SAFETY_S * G_USEC_PER_SEC;

    vfmigDaemonTick(f->d, f->now);
    for (;;) {
        g_assert_true(vfmigDaemonSettle(f->d, skip, deadline));
        if (!blocking || fakeGet(blocking).blocked > 0 ||
            vfmigDaemonSettle(f->d, NULL, g_get_monotonic_time() + 10 * 1000))
            break;
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    }
    f->now += INTERVAL_US;
}



/* Ticks until @name's limit is held (at most @max ticks). */
static void
tickUntilHeld(Fixture *f,
              const char *name,
              unsigned int max)
{
    unsigned int i;

    for (i = 0; i < max && fakeGet(name).limitMs != 1; i++)
        tick(f, NULL);
    g_assert_cmpuint(fakeGet(name).limitMs, ==, 1);
}


/*
 * vfa's first job read blocks; vfb migrates.  Found at the daemon's
 * start (the sweep's listing, their policies read), both have their job
 * read by their workers: vfa's read does not return, vfb's session is
 * stepped at every tick all the same, for 10 s of the daemon's clock
 * (the sweep comes twice meanwhile and waits for neither).  vfa is
 * reported once, after VFMIG_DAEMON_CALL_WARN_MS, and asked nothing
 * more.  Quit hands vfb's limit back and returns while vfa's read still
 * blocks.
 */
static void
testBlockedDomain(Fixture *f,
                  gconstpointer data G_GNUC_UNUSED)
{
    const char *late = "warning: domain 'vfa': libvirt has not answered in 5 s (reading its job); the daemon asks nothing more of this domain until it does, and steers the other domains meanwhile";
    unsigned int steps = 0;
    unsigned int i;
    int64_t blockedAt = -1;

    fakeSet("vfa", false, true);
    fakeSet("vfb", true, false);

    for (i = 0; f->now < 10 * G_USEC_PER_SEC; i++) {
        FakeDomain a;
        FakeDomain b;

        tick(f, "vfa");
        a = fakeGet("vfa");
        b = fakeGet("vfb");
        g_assert_false(a.timedOut);
        /* the tick that started vfa's read returned while it blocks */
        if (blockedAt < 0 && a.blocked > 0)
            blockedAt = f->now - INTERVAL_US;
        if (blockedAt >= 0) {
            /* (b): one read, still blocked, never a second one */
            g_assert_cmpuint(a.jobReads, ==, 1);
            g_assert_cmpuint(fakeGet("vfa").blocked, ==, 1);
            /* reported once, once it is late */
            g_assert_cmpuint(testDaemonLinesWith(f->lines, late), ==,
                             f->now - INTERVAL_US - blockedAt >=
                             VFMIG_DAEMON_CALL_WARN_MS * 1000LL ? 1 : 0);
        }
        /* (a): vfb, once found, is stepped at every tick: one job read
         * each (two at the first: the check and the step) */
        if (steps > 0)
            g_assert_cmpuint(b.jobReads, ==, steps + 1);
        steps = b.jobReads;
        if (steps > 0)
            g_assert_cmpuint(b.limitMs, ==, 1);
    }
    g_assert_cmpint(blockedAt, >=, 0);
    /* found within a few ticks of the start, stepped since */
    g_assert_cmpuint(steps, >=, i - 4);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, late), ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "domain 'vfb': steering its migration: downtime target 300 ms"), ==, 1);

    /* (c): quit returns while vfa's read still blocks; vfb's limit back */
    g_assert_cmpuint(vfmigDaemonQuit(f->d), ==, 0);
    g_assert_cmpuint(fakeGet("vfa").blocked, ==, 1);
    g_assert_false(fakeGet("vfa").timedOut);
    g_assert_cmpuint(fakeGet("vfb").limitMs, ==, 300);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "domain 'vfb': stopping; downtime limit handed back (300 ms)"), ==, 1);
    /* nothing more after quit */
    vfmigDaemonTick(f->d, f->now);
    g_assert_cmpuint(fakeGet("vfa").jobReads, ==, 1);

    /* once let go, vfa's worker ends, for nobody */
    fakeRelease();
    g_assert_true(vfmigDaemonSettle(f->d, NULL, g_get_monotonic_time() +
                                    FAKE_SAFETY_S * G_USEC_PER_SEC));
    g_assert_false(fakeGet("vfa").timedOut);
}


/* What the daemon told the guardian, as the guardian lists it. */
static char *
guardList(Fixture *f)
{
    g_autoptr(vfmigGuardList) list = vfmigGuardListNew();
    g_autoptr(GString) got = g_string_new("");
    g_auto(GStrv) requests = NULL;
    char buf[4096];
    ssize_t n;
    size_t i;

    while ((n = read(f->pipe[0], buf, sizeof(buf))) > 0)
        g_string_append_len(got, buf, n);
    g_assert_true(n == 0 || errno == EAGAIN);
    requests = g_strsplit(got->str, "\n", 0);
    for (i = 0; requests[i]; i++) {
        if (*requests[i])
            g_assert_cmpint(vfmigGuardListParse(list, requests[i]), ==, 0);
    }
    return vfmigGuardListFormat(list);
}


/*
 * vfb's limit is held when its step blocks; quit waits for the step at
 * most VFMIG_DAEMON_QUIT_WAIT_MS, then leaves the limit to the guardian,
 * which still lists it, and says so; vfa, whose session holds nothing,
 * is not waited for.
 */
static void
testStuckHolder(Fixture *f,
                gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *list = NULL;

    fakeSet("vfb", true, false);
    tickUntilHeld(f, "vfb", 10);
    fakeSet("vfb", true, true);
    tick(f, "vfb");
    fakeWaitBlocked("vfb");
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "warning:"), ==, 0);

    g_assert_cmpuint(vfmigDaemonQuit(f->d), ==, 1);
    g_assert_cmpuint(fakeGet("vfb").blocked, ==, 1);
    g_assert_false(fakeGet("vfb").timedOut);
    g_assert_cmpuint(fakeGet("vfb").limitMs, ==, 1);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "domain 'vfb': stopping while libvirt has not answered (a steering step (its job, its downtime limit)); the guardian hands the downtime limit back (1 ms -> 300 ms)"), ==, 1);
    list = guardList(f);
    g_assert_cmpstr(list, ==, "5a1e0000-0000-4000-8000-00000000000b 1 300\n");
}


/*
 * The guardian learns a limit before QEMU has it: vfb's first hold is
 * set and the call never returns to the daemon (a daemon killed right
 * after libvirt applied it looks the same to the guardian), yet the
 * guardian lists the hold and the limit to give back.
 */
static void
testHoldAnnounced(Fixture *f,
                  gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *list = NULL;
    unsigned int i;

    g_mutex_lock(&fake.lock);
    fake.doms[1].blockAfterSet = true;
    g_mutex_unlock(&fake.lock);
    fakeSet("vfb", true, false);
    for (i = 0; i < 10 && fakeGet("vfb").blocked == 0; i++)
        tick(f, "vfb");
    fakeWaitBlocked("vfb");
    g_assert_cmpuint(fakeGet("vfb").limitMs, ==, 1);
    list = guardList(f);
    g_assert_cmpstr(list, ==, "5a1e0000-0000-4000-8000-00000000000b 1 300\n");
}


static void
setPolicy(Fixture *f)
{
    g_assert_cmpint(virDomainSetMetadata(f->doms[2], VIR_DOMAIN_METADATA_ELEMENT,
                                         "<migration><downtime target-ms='300' on-failure='best-effort'/></migration>",
                                         "vfmig", "http://vfmig.org/xmlns/libvirt/domain/1.0",
                                         VIR_DOMAIN_AFFECT_LIVE), ==, 0);
}


/*
 * vfc, without a policy when the daemon started, gets one and migrates
 * without the daemon being told (no event): it is not steered until the
 * sweep, which finds it and steers it at once.
 */
static void
testSweep(Fixture *f,
          gconstpointer data G_GNUC_UNUSED)
{
    unsigned int reads;

    /* known, without a policy: its job is read by the first sweep only */
    tick(f, NULL);
    tick(f, NULL);
    tick(f, NULL);
    reads = fakeGet("vfc").jobReads;
    g_assert_cmpuint(reads, ==, 1);

    setPolicy(f);
    fakeSet("vfc", true, false);
    while (f->now < VFMIG_DAEMON_SWEEP_MS * 1000LL) {
        tick(f, NULL);
        g_assert_cmpuint(fakeGet("vfc").jobReads, ==, reads);
        g_assert_cmpuint(fakeGet("vfc").limitSets, ==, 0);
    }
    /* the sweep's listing, then vfc's check: steered (and said so at the
     * next tick) */
    tick(f, NULL);
    tick(f, NULL);
    g_assert_cmpuint(fakeGet("vfc").limitMs, ==, 1);
    tick(f, NULL);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "domain 'vfc': steering its migration: downtime target 300 ms"), ==, 1);
    g_assert_cmpuint(vfmigDaemonQuit(f->d), ==, 0);
    g_assert_cmpuint(fakeGet("vfc").limitMs, ==, 300);
}


/*
 * The same with libvirt's MIGRATION_ITERATION event: vfc is checked at
 * the next tick, long before the sweep.
 */
static void
testMigrationEvent(Fixture *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    tick(f, NULL);
    tick(f, NULL);
    tick(f, NULL);
    g_assert_cmpuint(fakeGet("vfc").jobReads, ==, 1);

    setPolicy(f);
    fakeSet("vfc", true, false);
    tick(f, NULL);
    g_assert_cmpuint(fakeGet("vfc").limitSets, ==, 0);
    vfmigDaemonMigrationIteration(f->d, f->doms[2], 1);
    tick(f, NULL);
    g_assert_cmpuint(fakeGet("vfc").limitMs, ==, 1);
    tick(f, NULL);
    g_assert_cmpint(f->now, <, VFMIG_DAEMON_SWEEP_MS * 1000LL);
    g_assert_cmpuint(testDaemonLinesWith(f->lines, "domain 'vfc': steering its migration"), ==, 1);
    g_assert_cmpuint(vfmigDaemonQuit(f->d), ==, 0);
}


/* ---- the worker itself ---- */

typedef struct {
    GMutex lock;
    GCond cond;
    bool entered;                   /* the task runs */
    bool go;                        /* it may return */
    bool ran;                       /* it returned */
    bool freed;                     /* its free function ran */
    bool freedAfterRun;
} WorkerTask;


static void
workerTaskRun(void *opaque)
{
    WorkerTask *t = opaque;
    gint64 deadline = g_get_monotonic_time() + FAKE_SAFETY_S * G_USEC_PER_SEC;

    g_mutex_lock(&t->lock);
    t->entered = true;
    g_cond_broadcast(&t->cond);
    while (!t->go && g_cond_wait_until(&t->cond, &t->lock, deadline))
        ;
    t->ran = true;
    g_mutex_unlock(&t->lock);
}


static void
workerTaskFree(void *opaque)
{
    WorkerTask *t = opaque;

    g_mutex_lock(&t->lock);
    t->freed = true;
    t->freedAfterRun = t->ran;
    g_cond_broadcast(&t->cond);
    g_mutex_unlock(&t->lock);
}


/* One task at a time; a worker (and its pool) freed while its task runs
 * abandons it: the task returns later, then its free function frees it. */
static void
testWorkerAbandoned(void)
{
    WorkerTask t = { 0 };
    vfmigWorkerPool *pool = vfmigWorkerPoolNew();
    vfmigWorker *w = vfmigWorkerNew(pool);
    gint64 deadline = g_get_monotonic_time() + FAKE_SAFETY_S * G_USEC_PER_SEC;

    g_mutex_init(&t.lock);
    g_cond_init(&t.cond);
    g_assert_null(vfmigWorkerTakeDone(w));
    g_assert_cmpint(vfmigWorkerStart(w, workerTaskRun, &t, workerTaskFree,
                                     "waiting", 42), ==, 0);
    g_assert_true(vfmigWorkerBusy(w));
    g_assert_cmpstr(vfmigWorkerWhat(w), ==, "waiting");
    g_assert_cmpint(vfmigWorkerStartedUs(w), ==, 42);
    /* a second task waits for the first one to be taken back */
    g_assert_cmpint(vfmigWorkerStart(w, workerTaskRun, &t, workerTaskFree,
                                     "again", 43), ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INTERNAL_ERROR);
    g_assert_false(vfmigWorkerWait(w, g_get_monotonic_time()));
    g_assert_null(vfmigWorkerTakeDone(w));

    /* abandoned while it runs */
    g_mutex_lock(&t.lock);
    while (!t.entered && g_cond_wait_until(&t.cond, &t.lock, deadline))
        ;
    g_assert_true(t.entered);
    g_mutex_unlock(&t.lock);
    vfmigWorkerFree(w);
    vfmigWorkerPoolFree(pool);
    g_mutex_lock(&t.lock);
    g_assert_false(t.freed);
    t.go = true;
    g_cond_broadcast(&t.cond);
    while (!t.freed && g_cond_wait_until(&t.cond, &t.lock, deadline))
        ;
    g_assert_true(t.freed);
    g_assert_true(t.freedAfterRun);
    g_mutex_unlock(&t.lock);
    g_mutex_clear(&t.lock);
    g_cond_clear(&t.cond);
}


/* A finished task is taken back, once; the worker is idle again. */
static void
testWorkerTakeBack(void)
{
    WorkerTask t = { .go = true };
    g_autoptr(vfmigWorkerPool) pool = vfmigWorkerPoolNew();
    g_autoptr(vfmigWorker) w = vfmigWorkerNew(pool);

    g_mutex_init(&t.lock);
    g_cond_init(&t.cond);
    g_assert_cmpint(vfmigWorkerStart(w, workerTaskRun, &t, workerTaskFree,
                                     "quick", 1), ==, 0);
    g_assert_true(vfmigWorkerWait(w, g_get_monotonic_time() +
                                  FAKE_SAFETY_S * G_USEC_PER_SEC));
    g_assert_false(vfmigWorkerRunning(w));
    g_assert_true(vfmigWorkerBusy(w));
    g_assert_true(vfmigWorkerTakeDone(w) == &t);
    g_assert_false(vfmigWorkerBusy(w));
    g_assert_null(vfmigWorkerTakeDone(w));
    g_assert_true(t.ran);
    g_assert_false(t.freed);
    g_mutex_clear(&t.lock);
    g_cond_clear(&t.cond);
}


int
main(int argc,
     char **argv)
{
    /* the steering locks, before any thread */
    g_autofree char *runDir = g_dir_make_tmp("vfmig-test-workers-XXXXXX", NULL);
    int ret;

    g_assert_nonnull(runDir);
    g_setenv("VFMIG_RUN_DIR", runDir, TRUE);
    g_test_init(&argc, &argv, NULL);
    g_mutex_init(&fake.lock);
    g_cond_init(&fake.cond);
    g_test_add_func("/daemon-workers/worker/abandoned", testWorkerAbandoned);
    g_test_add_func("/daemon-workers/worker/take-back", testWorkerTakeBack);
#define ADD(name, func) \
    g_test_add("/daemon-workers/" name, Fixture, NULL, fixtureSetUp, func, \
               fixtureTearDown)
    ADD("blocked-domain", testBlockedDomain);
    ADD("stuck-holder", testStuckHolder);
    ADD("hold-announced", testHoldAnnounced);
    ADD("sweep", testSweep);
    ADD("migration-event", testMigrationEvent);
#undef ADD
    ret = g_test_run();
    vfmigTestRmTree(runDir);
    return ret;
}
