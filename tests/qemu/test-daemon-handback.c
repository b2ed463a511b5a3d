/*
 * test-daemon-handback.c: the guardian's list of held limits
 * (vfmigguard.h) and virt-vfmigd's hand-back of the limits it held when
 * its connection to libvirt was lost (vfmigDaemonHandBacks, vfmigdaemon.h)
 *
 * libvirt's test driver has no downtime limit, so the hand-back runs
 * against limit ops of the test's own (FakeLibvirt); the guardian is a
 * pipe whose other end the test reads (vfmigGuardOpenFd) and feeds to a
 * vfmigGuardList, as the guardian would; the VFs' holds are files of a
 * fake sysfs tree.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib.h>

#include "vfmigdaemon.h"
#include "vfmigerror.h"
#include "vfmigguard.h"
#include "vfmigtestfs.h"

#define UUID1 "5a1e0000-0000-4000-8000-0000000000a1"
#define UUID2 "5a1e0000-0000-4000-8000-0000000000b2"
#define ADDR1 "0000:3b:00.2"
#define ADDR2 "0000:3b:00.3"


/* ---- the guardian's list ---- */

static void
listParse(vfmigGuardList *list,
          const char *line,
          int want)
{
    g_assert_cmpint(vfmigGuardListParse(list, line), ==, want);
}


static void
listCheck(const vfmigGuardList *list,
          const char *want)
{
    g_autofree char *got = vfmigGuardListFormat(list);

    g_assert_cmpstr(got, ==, want);
}


/* Holds, devices, a hold again, drops: a hold of a domain listed takes
 * its new values and keeps its devices, once each; a drop forgets the
 * domain and its devices; a malformed request changes nothing. */
static void
testGuardList(void)
{
    g_autoptr(vfmigGuardList) list = vfmigGuardListNew();

    listCheck(list, "");
    listParse(list, "hold " UUID1 " 1 300", 0);
    listParse(list, "device " UUID1 " " ADDR1, 0);
    listParse(list, "device " UUID1 " " ADDR1, 0);
    listParse(list, "device " UUID1 " " ADDR2, 0);
    listCheck(list, UUID1 " 1 300 " ADDR1 " " ADDR2 "\n");

    /* a new limit: the values replaced, the devices kept, not doubled */
    listParse(list, "hold " UUID1 " 250 500", 0);
    listCheck(list, UUID1 " 250 500 " ADDR1 " " ADDR2 "\n");

    /* malformed, or a device of a domain not listed: nothing changes */
    listParse(list, "device " UUID2 " " ADDR1, -1);
    listParse(list, "hold " UUID1 " 0 300", -1);
    listParse(list, "hold " UUID1 " 1", -1);
    listParse(list, "hold 5a1e 1 300", -1);
    listParse(list, "device " UUID1 " ../../etc", -1);
    listParse(list, "forget " UUID1, -1);
    listParse(list, "", -1);
    listCheck(list, UUID1 " 250 500 " ADDR1 " " ADDR2 "\n");

    listParse(list, "hold " UUID2 " 1 300", 0);
    listParse(list, "device " UUID2 " 0000:5e:00.1", 0);
    listCheck(list,
              UUID1 " 250 500 " ADDR1 " " ADDR2 "\n"
              UUID2 " 1 300 0000:5e:00.1\n");

    /* a drop forgets the domain with its devices; twice is harmless */
    listParse(list, "drop " UUID1, 0);
    listCheck(list, UUID2 " 1 300 0000:5e:00.1\n");
    listParse(list, "drop " UUID1, 0);
    listCheck(list, UUID2 " 1 300 0000:5e:00.1\n");

    /* held again after a drop: a new entry, none of the old devices */
    listParse(list, "hold " UUID1 " 1 300", 0);
    listCheck(list,
              UUID1 " 1 300\n"
              UUID2 " 1 300 0000:5e:00.1\n");
    listParse(list, "drop " UUID2, 0);
    listParse(list, "drop " UUID1, 0);
    listCheck(list, "");
}


/* The guardian itself, over libvirt's test driver (neither domain is
 * there: gone, nothing to set): a domain dropped is forgotten with its
 * VF, so that only the VF of the domain still listed has its hold ended
 * when the daemon's end of the pipe closes. */
static void
testGuardianProcess(void)
{
    g_autofree char *top = g_dir_make_tmp("vfmig-test-guardian-XXXXXX", NULL);
    g_autofree char *dropped = NULL;
    g_autofree char *kept = NULL;
    g_autofree char *got = NULL;
    vfmigGuard *guard;

    g_assert_nonnull(top);
    dropped = g_build_filename(top, "bus", "pci", "devices", ADDR1,
                               "vfio_migration", "hold_ms", NULL);
    kept = g_build_filename(top, "bus", "pci", "devices", ADDR2,
                            "vfio_migration", "hold_ms", NULL);
    vfmigTestWriteFile(dropped, "");
    vfmigTestWriteFile(kept, "");

    guard = vfmigGuardStart("test:///default", top);
    g_assert_nonnull(guard);
    g_assert_cmpint(vfmigGuardPid(guard), >, 0);
    g_assert_cmpint(vfmigGuardHold(guard, UUID1, 1, 300), ==, 0);
    g_assert_cmpint(vfmigGuardHoldDevice(guard, UUID1, ADDR1), ==, 0);
    g_assert_cmpint(vfmigGuardHold(guard, UUID2, 1, 300), ==, 0);
    g_assert_cmpint(vfmigGuardHoldDevice(guard, UUID2, ADDR2), ==, 0);
    g_assert_cmpint(vfmigGuardHold(guard, UUID1, 250, 300), ==, 0);
    g_assert_cmpint(vfmigGuardDrop(guard, UUID1), ==, 0);
    vfmigGuardFree(guard);          /* the daemon's end closes: it acts */

    g_assert_true(g_file_get_contents(dropped, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, "");
    g_clear_pointer(&got, g_free);
    g_assert_true(g_file_get_contents(kept, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, "0");
    vfmigTestRmTree(top);
}


/* ---- the hand-back after a lost connection ---- */

/* One domain as the fake libvirt has it. */
typedef struct {
    const char *uuid;
    bool gone;                      /* no such domain */
    bool noJob;                     /* its migration is over */
    uint64_t limitMs;
    unsigned int failures;          /* calls that fail before one works */
    unsigned int sets;
} FakeDomain;

static FakeDomain *
fakeFind(void *opaque,
         const char *uuid)
{
    FakeDomain *dom = opaque;

    return g_str_equal(dom->uuid, uuid) && !dom->gone ? dom : NULL;
}


static int
fakeGetLimit(void *opaque,
             const char *uuid,
             char **name,
             uint64_t *ms)
{
    FakeDomain *dom = fakeFind(opaque, uuid);

    if (!dom)
        return 0;
    if (dom->failures > 0) {
        dom->failures--;
        vfmigReportError(VFMIG_ERR_LIBVIRT, "%s",
                         "reading the downtime limit of domain 'vm1' failed: Cannot recv data: Connection reset by peer");
        return -1;
    }
    if (name)
        *name = g_strdup("vm1");
    *ms = dom->limitMs;
    return 1;
}


static int
fakeSetLimit(void *opaque,
             const char *uuid,
             uint64_t ms)
{
    FakeDomain *dom = fakeFind(opaque, uuid);

    if (!dom || dom->noJob)
        return 0;
    dom->limitMs = ms;
    dom->sets++;
    return 1;
}


static const vfmigGuardLimitOps fakeOps = {
    .getLimit = fakeGetLimit,
    .setLimit = fakeSetLimit,
};


typedef struct {
    char *top;                      /* the fake sysfs root, removed */
    char *hold1;                    /* ADDR1's hold_ms */
    char *hold2;
    int pipe[2];                    /* the guardian's pipe */
    vfmigGuard *guard;              /* writes to pipe[1] */
    vfmigGuardList *guardList;      /* what the guardian would list */
    GPtrArray *lines;               /* what the daemon reported */
    vfmigDaemonHandBacks *hb;
} HandBackFixture;


static void
handBackReport(void *opaque,
               vfmigDaemonReportLevel level,
               const char *line)
{
    GPtrArray *lines = opaque;
    const char *prefix = "";

    if (level == VFMIG_DAEMON_REPORT_WARNING)
        prefix = "warning: ";
    else if (level == VFMIG_DAEMON_REPORT_PROGRESS)
        prefix = "progress: ";
    g_ptr_array_add(lines, g_strdup_printf("%s%s", prefix, line));
}


static char *
holdPath(const char *top,
         const char *address)
{
    return g_build_filename(top, "bus", "pci", "devices", address,
                            "vfio_migration", "hold_ms", NULL);
}


static void
handBackSetUp(HandBackFixture *f,
              gconstpointer data G_GNUC_UNUSED)
{
    f->top = g_dir_make_tmp("vfmig-test-handback-XXXXXX", NULL);
    g_assert_nonnull(f->top);
    f->hold1 = holdPath(f->top, ADDR1);
    f->hold2 = holdPath(f->top, ADDR2);
    vfmigTestWriteFile(f->hold1, "");
    vfmigTestWriteFile(f->hold2, "");
    g_assert_cmpint(pipe(f->pipe), ==, 0);
    g_assert_cmpint(fcntl(f->pipe[0], F_SETFL, O_NONBLOCK), ==, 0);
    f->guard = vfmigGuardOpenFd(f->pipe[1]);
    g_assert_cmpint(vfmigGuardPid(f->guard), ==, 0);
    f->guardList = vfmigGuardListNew();
    f->lines = g_ptr_array_new_with_free_func(g_free);
    f->hb = vfmigDaemonHandBacksNew(f->guard, f->top, handBackReport, f->lines);
    vfmigResetLastError();
}


static void
handBackTearDown(HandBackFixture *f,
                 gconstpointer data G_GNUC_UNUSED)
{
    vfmigDaemonHandBacksFree(f->hb);
    vfmigGuardFree(f->guard);      /* closes pipe[1] */
    close(f->pipe[0]);
    vfmigGuardListFree(f->guardList);
    g_ptr_array_unref(f->lines);
    vfmigTestRmTree(f->top);
    g_free(f->top);
    g_free(f->hold1);
    g_free(f->hold2);
}


/* What the daemon told the guardian since the last call, each request
 * also taken into f->guardList as the guardian would. */
static char *
guardRead(HandBackFixture *f)
{
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
            g_assert_cmpint(vfmigGuardListParse(f->guardList, requests[i]), ==, 0);
    }
    return g_string_free(g_steal_pointer(&got), FALSE);
}


static void
guardCheck(HandBackFixture *f,
           const char *wantRequests,
           const char *wantList)
{
    g_autofree char *requests = guardRead(f);
    g_autofree char *list = vfmigGuardListFormat(f->guardList);

    g_assert_cmpstr(requests, ==, wantRequests);
    g_assert_cmpstr(list, ==, wantList);
}


static void
holdCheck(const char *path,
          const char *want)
{
    g_autofree char *got = NULL;

    g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, want);
}


static void
linesCheck(GPtrArray *lines,
           const char *const *want)
{
    guint i;

    for (i = 0; want[i] && i < lines->len; i++)
        g_assert_cmpstr(lines->pdata[i], ==, want[i]);
    g_assert_cmpuint(lines->len, ==, g_strv_length((char **) want));
    g_ptr_array_set_size(lines, 0);
}


/* What virt-vfmigd did while it steered domain UUID1 (held at 1 ms, to
 * go back to 300 ms, its two VFs holding too) and when the connection
 * was lost: the guardian lists the domain, and keeps it listed. */
static void
handBackLose(HandBackFixture *f)
{
    static const char *const devices[] = { ADDR1, ADDR2, NULL };
    static const char *const want[] = {
        "warning: domain 'vm1': no longer steered; the downtime limit this daemon set, 1 ms, goes back to 300 ms once connected again",
        NULL
    };

    g_assert_cmpint(vfmigGuardHold(f->guard, UUID1, 1, 300), ==, 0);
    g_assert_cmpint(vfmigGuardHoldDevice(f->guard, UUID1, ADDR1), ==, 0);
    g_assert_cmpint(vfmigGuardHoldDevice(f->guard, UUID1, ADDR2), ==, 0);
    vfmigDaemonHandBacksAdd(f->hb, UUID1, "vm1", 1, 300, devices, NULL);
    linesCheck(f->lines, want);
    g_assert_true(vfmigDaemonHandBacksHas(f->hb, UUID1));
    g_assert_false(vfmigDaemonHandBacksHas(f->hb, UUID2));
    guardCheck(f,
               "hold " UUID1 " 1 300\n"
               "device " UUID1 " " ADDR1 "\n"
               "device " UUID1 " " ADDR2 "\n",
               UUID1 " 1 300 " ADDR1 " " ADDR2 "\n");
}


/* Connected again, the limit still the 1 ms the daemon set: it goes back
 * to 300 ms, the VFs' holds end, and only then the guardian drops it. */
static void
testHandedBack(HandBackFixture *f,
               gconstpointer data G_GNUC_UNUSED)
{
    FakeDomain dom = { .uuid = UUID1, .limitMs = 1 };
    static const char *const want[] = {
        "domain 'vm1': connected again; downtime limit handed back, 1 ms -> 300 ms",
        "progress: domain 'vm1': switchover hold of " ADDR1 " ended",
        "progress: domain 'vm1': switchover hold of " ADDR2 " ended",
        NULL
    };

    handBackLose(f);
    g_assert_cmpuint(vfmigDaemonHandBacksRun(f->hb, &fakeOps, &dom), ==, 0);
    g_assert_cmpuint(dom.limitMs, ==, 300);
    g_assert_cmpuint(dom.sets, ==, 1);
    linesCheck(f->lines, want);
    holdCheck(f->hold1, "0");
    holdCheck(f->hold2, "0");
    guardCheck(f, "drop " UUID1 "\n", "");
    g_assert_false(vfmigDaemonHandBacksHas(f->hb, UUID1));

    /* done with: nothing more is tried */
    g_assert_cmpuint(vfmigDaemonHandBacksRun(f->hb, &fakeOps, &dom), ==, 0);
    g_assert_cmpuint(dom.sets, ==, 1);
    g_assert_cmpuint(f->lines->len, ==, 0);
    guardCheck(f, "", "");
}


/* Another client set 50 ms while the connection was lost: theirs, left
 * as it is; the VFs' holds end, the guardian drops the domain (a
 * guardian that kept it would set 300 ms over a limit of 1 ms that a
 * new holder set). */
static void
testTheirs(HandBackFixture *f,
           gconstpointer data G_GNUC_UNUSED)
{
    FakeDomain dom = { .uuid = UUID1, .limitMs = 50 };
    static const char *const want[] = {
        "domain 'vm1': connected again; downtime limit 50 ms (not the 1 ms this daemon set) was set by someone else, left as it is",
        "progress: domain 'vm1': switchover hold of " ADDR1 " ended",
        "progress: domain 'vm1': switchover hold of " ADDR2 " ended",
        NULL
    };

    handBackLose(f);
    g_assert_cmpuint(vfmigDaemonHandBacksRun(f->hb, &fakeOps, &dom), ==, 0);
    g_assert_cmpuint(dom.limitMs, ==, 50);
    g_assert_cmpuint(dom.sets, ==, 0);
    linesCheck(f->lines, want);
    holdCheck(f->hold1, "0");
    guardCheck(f, "drop " UUID1 "\n", "");
}


/* The migration ended while the connection was lost: nothing held. */
static void
testNoJob(HandBackFixture *f,
          gconstpointer data G_GNUC_UNUSED)
{
    FakeDomain dom = { .uuid = UUID1, .limitMs = 1, .noJob = true };
    static const char *const want[] = {
        "domain 'vm1': connected again; its migration is over, no downtime limit to hand back",
        "progress: domain 'vm1': switchover hold of " ADDR1 " ended",
        "progress: domain 'vm1': switchover hold of " ADDR2 " ended",
        NULL
    };

    handBackLose(f);
    g_assert_cmpuint(vfmigDaemonHandBacksRun(f->hb, &fakeOps, &dom), ==, 0);
    g_assert_cmpuint(dom.sets, ==, 0);
    linesCheck(f->lines, want);
    guardCheck(f, "drop " UUID1 "\n", "");
}


/* The domain left (migrated, or destroyed): dropped; its VFs, no longer
 * its own, are left alone. */
static void
testGone(HandBackFixture *f,
         gconstpointer data G_GNUC_UNUSED)
{
    FakeDomain dom = { .uuid = UUID1, .limitMs = 1, .gone = true };
    static const char *const want[] = {
        "domain 'vm1': connected again; the domain is gone, no downtime limit to hand back",
        NULL
    };

    handBackLose(f);
    g_assert_cmpuint(vfmigDaemonHandBacksRun(f->hb, &fakeOps, &dom), ==, 0);
    linesCheck(f->lines, want);
    holdCheck(f->hold1, "");
    holdCheck(f->hold2, "");
    guardCheck(f, "drop " UUID1 "\n", "");
}


/* libvirt fails twice: the domain stays listed, here and with the
 * guardian, and the third try hands the limit back. */
static void
testRetried(HandBackFixture *f,
            gconstpointer data G_GNUC_UNUSED)
{
    FakeDomain dom = { .uuid = UUID1, .limitMs = 1, .failures = 2 };
    static const char *const want[] = {
        "progress: domain 'vm1': cannot hand the downtime limit back yet (try 1 of 5): reading the downtime limit of domain 'vm1' failed: Cannot recv data: Connection reset by peer",
        "progress: domain 'vm1': cannot hand the downtime limit back yet (try 2 of 5): reading the downtime limit of domain 'vm1' failed: Cannot recv data: Connection reset by peer",
        "domain 'vm1': connected again; downtime limit handed back, 1 ms -> 300 ms",
        "progress: domain 'vm1': switchover hold of " ADDR1 " ended",
        "progress: domain 'vm1': switchover hold of " ADDR2 " ended",
        NULL
    };

    handBackLose(f);
    g_assert_cmpuint(vfmigDaemonHandBacksRun(f->hb, &fakeOps, &dom), ==, 1);
    g_assert_cmpuint(vfmigDaemonHandBacksRun(f->hb, &fakeOps, &dom), ==, 1);
    g_assert_true(vfmigDaemonHandBacksHas(f->hb, UUID1));
    holdCheck(f->hold1, "");
    guardCheck(f, "", UUID1 " 1 300 " ADDR1 " " ADDR2 "\n");
    g_assert_cmpuint(vfmigDaemonHandBacksRun(f->hb, &fakeOps, &dom), ==, 0);
    g_assert_cmpuint(dom.limitMs, ==, 300);
    linesCheck(f->lines, want);
    holdCheck(f->hold1, "0");
    guardCheck(f, "drop " UUID1 "\n", "");
}


/* libvirt fails every time: given up after VFMIG_DAEMON_HAND_BACK_TRIES
 * tries, with a warning that says what to do; the VFs' holds end (that
 * needs no libvirt) and the guardian drops the domain. */
static void
testGivenUp(HandBackFixture *f,
            gconstpointer data G_GNUC_UNUSED)
{
    FakeDomain dom = { .uuid = UUID1, .limitMs = 1, .failures = 100 };
    unsigned int i;

    handBackLose(f);
    for (i = 1; i < VFMIG_DAEMON_HAND_BACK_TRIES; i++)
        g_assert_cmpuint(vfmigDaemonHandBacksRun(f->hb, &fakeOps, &dom), ==, 1);
    guardCheck(f, "", UUID1 " 1 300 " ADDR1 " " ADDR2 "\n");
    g_assert_cmpuint(f->lines->len, ==, VFMIG_DAEMON_HAND_BACK_TRIES - 1);
    g_ptr_array_set_size(f->lines, 0);

    g_assert_cmpuint(vfmigDaemonHandBacksRun(f->hb, &fakeOps, &dom), ==, 0);
    g_assert_cmpuint(f->lines->len, ==, 3);
    g_assert_cmpstr(f->lines->pdata[0], ==,
                    "warning: domain 'vm1': cannot hand the downtime limit back after 5 tries (reading the downtime limit of domain 'vm1' failed: Cannot recv data: Connection reset by peer); giving up: it may stay at 1 ms until the migration ends (virsh migrate-setmaxdowntime sets it back to 300 ms)");
    g_assert_cmpuint(dom.limitMs, ==, 1);
    holdCheck(f->hold1, "0");
    holdCheck(f->hold2, "0");
    guardCheck(f, "drop " UUID1 "\n", "");
}


/* Two domains, one handed back, one failing: each on its own. */
static void
testTwo(HandBackFixture *f,
        gconstpointer data G_GNUC_UNUSED)
{
    FakeDomain dom = { .uuid = UUID1, .limitMs = 1 };

    handBackLose(f);
    g_assert_cmpint(vfmigGuardHold(f->guard, UUID2, 1, 500), ==, 0);
    vfmigDaemonHandBacksAdd(f->hb, UUID2, "vm2", 1, 500, NULL, NULL);
    g_ptr_array_set_size(f->lines, 0);
    g_free(guardRead(f));

    /* UUID2 is not in the fake: gone */
    g_assert_cmpuint(vfmigDaemonHandBacksRun(f->hb, &fakeOps, &dom), ==, 0);
    g_assert_cmpuint(f->lines->len, ==, 4);
    g_assert_cmpstr(f->lines->pdata[3], ==,
                    "domain 'vm2': connected again; the domain is gone, no downtime limit to hand back");
    guardCheck(f, "drop " UUID1 "\ndrop " UUID2 "\n", "");
}


/* Without a guardian, the same hand-back. */
static void
testNoGuardian(HandBackFixture *f,
               gconstpointer data G_GNUC_UNUSED)
{
    static const char *const devices[] = { ADDR1, NULL };
    FakeDomain dom = { .uuid = UUID1, .limitMs = 1 };
    g_autoptr(vfmigDaemonHandBacks) hb = vfmigDaemonHandBacksNew(NULL, f->top,
                                                                 handBackReport,
                                                                 f->lines);

    vfmigDaemonHandBacksAdd(hb, UUID1, "vm1", 1, 300, devices, NULL);
    g_assert_cmpuint(vfmigDaemonHandBacksRun(hb, &fakeOps, &dom), ==, 0);
    g_assert_cmpuint(dom.limitMs, ==, 300);
    holdCheck(f->hold1, "0");
    guardCheck(f, "", "");
}


int
main(int argc,
     char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/daemon-handback/guard-list", testGuardList);
    g_test_add_func("/daemon-handback/guardian-process", testGuardianProcess);
#define ADD(name, fn) \
    g_test_add("/daemon-handback/" name, HandBackFixture, NULL, \
               handBackSetUp, fn, handBackTearDown)
    ADD("handed-back", testHandedBack);
    ADD("theirs", testTheirs);
    ADD("no-job", testNoJob);
    ADD("gone", testGone);
    ADD("retried", testRetried);
    ADD("given-up", testGivenUp);
    ADD("two", testTwo);
    ADD("no-guardian", testNoGuardian);
#undef ADD
    return g_test_run();
}
