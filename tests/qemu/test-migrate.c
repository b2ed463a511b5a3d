/*
 * test-migrate.c: virt-vfmig migrate's report (text and JSON) from
 * synthetic reports, the default switchover bandwidth, the steering
 * lock that both migrate and virt-vfmigd take (vfmigsteer.h), and
 * virt-vfmigd's state file, which both read (vfmigdaemon.h)
 *
 * The migration itself needs two libvirt hosts: the VM suite
 * tests/vm/suites/vfmigd.sh runs it; tests/cli/test-cli-migrate.sh runs
 * the refusals and a migration libvirt's test driver fails.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vfmigdaemon.h"
#include "vfmigerror.h"
#include "vfmigmigrate.h"
#include "vfmigsteer.h"
#include "vfmigtestfs.h"

#define MIB (1024ULL * 1024ULL)


/* A migration that met its target: a device, three phases. */
static vfmigMigrateReport *
testReportMigrated(void)
{
    vfmigMigrateReport *r = vfmigMigrateReportNew();

    r->domain = g_strdup("vm1");
    r->destURI = g_strdup("qemu+tcp://10.99.0.1/system");
    r->result = VFMIG_MIGRATE_MIGRATED;
    r->targetUs = 2000 * 1000;
    r->onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT;
    r->overheadUs = 150 * 1000;
    r->overheadSource = VFMIG_MIGRATE_OVERHEAD_LEARNED;
    r->ramBytes = 64 * MIB;
    r->switchoverBw = VFMIG_MIGRATE_SWITCHOVER_BW_AUTO;
    r->switchoverMiBps = 32000;
    r->switchoverDevice = g_strdup("0000:00:05.0");
    r->totalMs = 21345;
    r->steps = 90;
    r->overwrites = 2;
    r->switched = true;
    r->switchAtMs = 17800;
    r->switchLimitMs = 812;
    r->switchDecision = VFMIG_DOWNTIME_SWITCH_OVER;
    r->switchReason = VFMIG_DOWNTIME_REASON_CONVERGED;
    r->predictedUs = 912345;
    r->policyPredictedUs = 762345;
    r->hasDowntime = true;
    r->downtimeMs = 1034;
    r->downtimeFromDestination = true;
    r->jobElapsedMs = 21000;
    r->hasFloor = true;
    r->floorUs = 100250;
    r->nphases = 3;
    r->phases = g_new0(vfmigMigratePhase, 3);
    r->phases[0] = (vfmigMigratePhase) { VFMIG_CONTROLLER_WAITING, 0 };
    r->phases[1] = (vfmigMigratePhase) { VFMIG_CONTROLLER_HOLDING, 9000 };
    r->phases[2] = (vfmigMigratePhase) { VFMIG_CONTROLLER_RELEASED, 17800 };
    r->ndevices = 1;
    r->devices = g_new0(vfmigMigrateDevice, 1);
    r->devices[0].name = g_strdup("0000:00:05.0");
    r->devices[0].known = true;
    r->devices[0].state = g_strdup("PRE_COPY");
    r->devices[0].initialBytes = 0;
    r->devices[0].dirtyBytes = 65536;
    r->devices[0].stopCopyBytes = VFMIG_DOWNTIME_UNKNOWN;
    g_ptr_array_add(r->warnings, g_strdup("a \"quoted\" warning"));
    return r;
}


static void
testJSONMigrated(void)
{
    g_autoptr(vfmigMigrateReport) r = testReportMigrated();
    g_autofree char *json = vfmigMigrateReportFormatJSON(r);
    const char *want =
        "{\n"
        "  \"domain\": \"vm1\",\n"
        "  \"destination\": \"qemu+tcp://10.99.0.1/system\",\n"
        "  \"result\": \"migrated\",\n"
        "  \"error\": null,\n"
        "  \"target-ms\": 2000,\n"
        "  \"on-failure\": \"best-effort\",\n"
        "  \"downtime-ms\": 1034,\n"
        "  \"downtime-from\": \"destination\",\n"
        "  \"predicted-ms\": 912,\n"
        "  \"predicted-us\": 912345,\n"
        "  \"policy-predicted-us\": 762345,\n"
        "  \"met\": true,\n"
        "  \"total-ms\": 21345,\n"
        "  \"job-elapsed-ms\": 21000,\n"
        "  \"preflight\": {\n"
        "    \"floor-us\": 100250,\n"
        "    \"misses-target\": false,\n"
        "    \"all-dirty\": null\n"
        "  },\n"
        "  \"overhead\": {\n"
        "    \"us\": 150000,\n"
        "    \"source\": \"learned\"\n"
        "  },\n"
        "  \"switchover-bandwidth\": {\n"
        "    \"mibps\": 32000,\n"
        "    \"source\": \"automatic\",\n"
        "    \"device\": \"0000:00:05.0\",\n"
        "    \"ram-bytes\": 67108864\n"
        "  },\n"
        "  \"switch\": {\n"
        "    \"at-ms\": 17800,\n"
        "    \"limit-ms\": 812,\n"
        "    \"decision\": \"switch-over\",\n"
        "    \"reason\": \"converged\"\n"
        "  },\n"
        "  \"steps\": 90,\n"
        "  \"step-errors\": 0,\n"
        "  \"overwrites\": 2,\n"
        "  \"phases\": [\n"
        "    {\n"
        "      \"phase\": \"waiting\",\n"
        "      \"at-ms\": 0\n"
        "    },\n"
        "    {\n"
        "      \"phase\": \"holding\",\n"
        "      \"at-ms\": 9000\n"
        "    },\n"
        "    {\n"
        "      \"phase\": \"released\",\n"
        "      \"at-ms\": 17800\n"
        "    }\n"
        "  ],\n"
        "  \"devices\": [\n"
        "    {\n"
        "      \"address\": \"0000:00:05.0\",\n"
        "      \"estimates\": true,\n"
        "      \"state\": \"PRE_COPY\",\n"
        "      \"initial-bytes\": 0,\n"
        "      \"dirty-bytes\": 65536,\n"
        "      \"stop-copy-bytes\": null\n"
        "    }\n"
        "  ],\n"
        "  \"warnings\": [\n"
        "    \"a \\\"quoted\\\" warning\"\n"
        "  ]\n"
        "}\n";

    g_assert_cmpstr(json, ==, want);
}


/* A migration that failed before the controller released: no downtime,
 * no prediction, the error; "met" is null, not false. */
static void
testJSONFailed(void)
{
    g_autoptr(vfmigMigrateReport) r = vfmigMigrateReportNew();
    g_autofree char *json = NULL;

    r->domain = g_strdup("vm1");
    r->destURI = g_strdup("qemu+tcp://h/system");
    r->result = VFMIG_MIGRATE_TIMEOUT;
    r->error = g_strdup("operation aborted: migration out job: canceled by client");
    r->targetUs = 300000;
    r->onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT;
    r->switchoverBw = VFMIG_MIGRATE_SWITCHOVER_BW_OPTION;
    r->switchoverMiBps = 1024;
    json = vfmigMigrateReportFormatJSON(r);

    g_assert_nonnull(strstr(json, "\"result\": \"timeout\",\n"));
    g_assert_nonnull(strstr(json, "\"error\": \"operation aborted: migration out job: canceled by client\",\n"));
    g_assert_nonnull(strstr(json, "\"on-failure\": \"abort\",\n"));
    g_assert_nonnull(strstr(json, "\"downtime-ms\": null,\n"));
    g_assert_nonnull(strstr(json, "\"downtime-from\": null,\n"));
    g_assert_nonnull(strstr(json, "\"predicted-ms\": null,\n"));
    g_assert_nonnull(strstr(json, "\"met\": null,\n"));
    g_assert_nonnull(strstr(json, "\"switch\": null,\n"));
    g_assert_nonnull(strstr(json, "\"mibps\": 1024,\n    \"source\": \"option\",\n    \"device\": null,"));
    g_assert_nonnull(strstr(json, "\"overhead\": {\n    \"us\": 0,\n    \"source\": \"none\"\n  }"));
    g_assert_nonnull(strstr(json, "\"phases\": [],\n"));
}


static void
testMet(void)
{
    g_autoptr(vfmigMigrateReport) r = testReportMigrated();

    g_assert_cmpint(vfmigMigrateReportMet(r), ==, 1);
    r->downtimeMs = 2000;           /* the target itself is met */
    g_assert_cmpint(vfmigMigrateReportMet(r), ==, 1);
    r->downtimeMs = 2001;
    g_assert_cmpint(vfmigMigrateReportMet(r), ==, 0);
    r->hasDowntime = false;
    g_assert_cmpint(vfmigMigrateReportMet(r), ==, -1);
}


static void
testText(void)
{
    g_autoptr(vfmigMigrateReport) r = testReportMigrated();
    g_autofree char *text = vfmigMigrateReportFormatText(r);
    g_autofree char *missed = NULL;

    g_assert_nonnull(strstr(text, "Domain:                vm1\n"));
    g_assert_nonnull(strstr(text, "Result:                migrated\n"));
    g_assert_null(strstr(text, "Error:"));
    g_assert_nonnull(strstr(text, "Target:                2000 ms (on failure: best-effort)\n"));
    g_assert_nonnull(strstr(text, "Downtime:              1034 ms (libvirt, the destination's completed job)\n"));
    g_assert_nonnull(strstr(text, "Predicted:             912.345 ms at the switch (762.345 ms and libvirt's overhead 150.000 ms)\n"));
    g_assert_nonnull(strstr(text, "Target met:            yes\n"));
    g_assert_nonnull(strstr(text, "Total time:            21345 ms\n"));
    g_assert_nonnull(strstr(text, "Pre-flight:            floor 100.250 ms: leaves room for the target\n"));
    g_assert_nonnull(strstr(text, "Overhead:              150 ms (learned)\n"));
    g_assert_nonnull(strstr(text, "Switchover bandwidth:  32000 MiB/s: 0000:00:05.0 has no device dirty tracking, so QEMU counts all guest RAM (64 MiB) dirty"));
    g_assert_nonnull(strstr(text, "Switch:                after 17800 ms: limit 812 ms (switch-over, converged)\n"));
    g_assert_nonnull(strstr(text, "Steps:                 90 (0 failed); limit overwritten 2 time(s)\n"));
    g_assert_nonnull(strstr(text, "Phases:                waiting 0 ms, holding 9000 ms, released 17800 ms\n"));
    g_assert_nonnull(strstr(text, "Device:                0000:00:05.0: last seen PRE_COPY, initial 0 B, dirty 65536 B\n"));
    g_assert_nonnull(strstr(text, "Warning:               a \"quoted\" warning\n"));

    r->downtimeMs = 2500;
    r->hasDowntime = true;
    r->downtimeFromDestination = false;
    r->result = VFMIG_MIGRATE_FAILED;
    r->error = g_strdup("boom");
    r->switched = false;
    r->predictedUs = VFMIG_DOWNTIME_UNKNOWN;
    missed = vfmigMigrateReportFormatText(r);
    g_assert_nonnull(strstr(missed, "Result:                failed\nError:                 boom\n"));
    g_assert_nonnull(strstr(missed, "Downtime:              2500 ms (libvirt, the source's completed job)\n"));
    g_assert_nonnull(strstr(missed, "Predicted:             none: the controller never released the switchover\n"));
    g_assert_nonnull(strstr(missed, "Target met:            no\n"));
    g_assert_null(strstr(missed, "Switch:"));
}


/* Where all guest RAM is dirty and that misses the target, the
 * pre-flight says what it costs: 4 GiB at 10 Gbit/s assumed. */
static void
testPreflightAllDirty(void)
{
    g_autoptr(vfmigMigrateReport) r = testReportMigrated();
    g_autofree char *text = NULL;
    g_autofree char *json = NULL;

    r->allDirty.known = true;
    r->allDirty.ramBytes = 4096 * MIB;
    r->allDirty.linkBps = 1250000000;
    r->allDirty.link = VFMIG_CONTROLLER_LINK_ASSUMED;
    r->allDirty.leastUs = 3435974;
    r->allDirty.misses = true;
    text = vfmigMigrateReportFormatText(r);
    g_assert_nonnull(strstr(text, "Pre-flight:            floor 100.250 ms: leaves room for the target; "
                            "all guest RAM is dirty at every pass (a VF without DMA dirty tracking): "
                            "the switch-over copies all 4.0 GiB of it, at least 3.4 s at 10 Gbit/s "
                            "(the link speed assumed) on top of the floor, so the downtime cannot "
                            "meet the target of 2000 ms\n"));
    json = vfmigMigrateReportFormatJSON(r);
    g_assert_nonnull(strstr(json,
                            "    \"all-dirty\": {\n"
                            "      \"ram-bytes\": 4294967296,\n"
                            "      \"link-bps\": 1250000000,\n"
                            "      \"link\": \"assumed\",\n"
                            "      \"least-us\": 3435974,\n"
                            "      \"misses-target\": true\n"
                            "    }\n"));
}


static void
testDefaultSwitchover(void)
{
    uint64_t bw = vfmigMigrateDefaultSwitchoverMiBps(64 * MIB);

    /* half of 64 MiB per 1 ms of held limit */
    g_assert_cmpuint(bw, ==, 32000);
    /* QEMU's rule while held: bandwidth x 1 ms < all of RAM pending */
    g_assert_cmpuint(bw * MIB / 1000 * VFMIG_CONTROLLER_HOLD_MS, <, 64 * MIB);
    g_assert_cmpuint(vfmigMigrateDefaultSwitchoverMiBps(4096 * MIB), ==, 2048000);
    /* never 0, which would mean "not given" */
    g_assert_cmpuint(vfmigMigrateDefaultSwitchoverMiBps(0), ==, 1);
}


/* ---- the steering lock */

#define LOCK_UUID "5a1e0000-0000-4000-8000-0000000000aa"

typedef struct {
    char *top;                      /* removed at the end */
    char *dir;                      /* the lock directory, not made */
    char *path;                     /* its lock file */
} LockFixture;


static void
lockSetUp(LockFixture *f,
          gconstpointer data G_GNUC_UNUSED)
{
    f->top = g_dir_make_tmp("vfmig-test-lock-XXXXXX", NULL);
    g_assert_nonnull(f->top);
    f->dir = g_build_filename(f->top, "run", "steer", NULL);
    f->path = g_build_filename(f->dir, LOCK_UUID ".lock", NULL);
    vfmigResetLastError();
}


static void
lockTearDown(LockFixture *f,
             gconstpointer data G_GNUC_UNUSED)
{
    vfmigTestRmTree(f->top);
    g_free(f->top);
    g_free(f->dir);
    g_free(f->path);
}


static unsigned int
lockMode(const char *path)
{
    struct stat sb;

    g_assert_cmpint(lstat(path, &sb), ==, 0);
    return sb.st_mode & 07777;
}


/* A lock taken: the directory 0700, the file 0600 of ours with our pid;
 * given up: the file gone, the directory left. */
static void
testLockModes(LockFixture *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigSteerLock) lock = NULL;
    g_autofree char *pid = g_strdup_printf("%lld\n", (long long) getpid());
    g_autofree char *content = NULL;
    struct stat sb;

    g_assert_cmpint(vfmigSteerLockTake(f->dir, LOCK_UUID, &lock, NULL), ==, 1);
    g_assert_nonnull(lock);
    g_assert_cmpuint(lockMode(f->dir), ==, 0700);
    g_assert_cmpuint(lockMode(f->path), ==, 0600);
    g_assert_cmpint(lstat(f->path, &sb), ==, 0);
    g_assert_true(S_ISREG(sb.st_mode));
    g_assert_cmpuint(sb.st_uid, ==, geteuid());
    g_assert_true(g_file_get_contents(f->path, &content, NULL, NULL));
    g_assert_cmpstr(content, ==, pid);
    /* held: busy, and asking leaves it as it is */
    g_assert_cmpint(vfmigSteerLockBusy(f->dir, LOCK_UUID), ==, 1);
    g_assert_true(g_file_test(f->path, G_FILE_TEST_EXISTS));

    g_clear_pointer(&lock, vfmigSteerLockFree);
    g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(lockMode(f->dir), ==, 0700);
    /* free: not busy, and asking leaves no file behind */
    g_assert_cmpint(vfmigSteerLockBusy(f->dir, LOCK_UUID), ==, 0);
    g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
}


/* Two takers in one process (two open files): the second finds it held,
 * with the holder's pid, and takes it once the first gave it up. */
static void
testLockTwice(LockFixture *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigSteerLock) first = NULL;
    g_autoptr(vfmigSteerLock) second = NULL;
    g_autofree char *holder = NULL;
    g_autofree char *pid = g_strdup_printf("%lld", (long long) getpid());

    g_assert_cmpint(vfmigSteerLockTake(f->dir, LOCK_UUID, &first, NULL), ==, 1);
    g_assert_cmpint(vfmigSteerLockTake(f->dir, LOCK_UUID, &second, &holder), ==, 0);
    g_assert_null(second);
    g_assert_cmpstr(holder, ==, pid);
    g_assert_true(g_file_test(f->path, G_FILE_TEST_EXISTS));

    g_clear_pointer(&first, vfmigSteerLockFree);
    g_clear_pointer(&holder, g_free);
    g_assert_cmpint(vfmigSteerLockTake(f->dir, LOCK_UUID, &second, &holder), ==, 1);
    g_assert_nonnull(second);
    g_assert_null(holder);
    g_assert_cmpuint(lockMode(f->path), ==, 0600);
    g_clear_pointer(&second, vfmigSteerLockFree);
    g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
}


/* A lock directory others could reach into is refused, and left alone. */
static void
testLockDirRefused(LockFixture *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    static const unsigned int modes[] = { 0755, 0777, 0710, 0701 };
    g_autoptr(vfmigSteerLock) lock = NULL;
    g_autofree char *link = g_build_filename(f->top, "link", NULL);
    g_autofree char *want = NULL;
    size_t i;

    vfmigTestMkdirs(f->dir);
    for (i = 0; i < G_N_ELEMENTS(modes); i++) {
        g_autofree char *msg =
            g_strdup_printf("steering lock directory '%s' is open to its group or others (mode %04o), who could then open what is in it: refusing to use it (it must be mode 0700: chmod 0700 it)",
                            f->dir, modes[i]);

        g_assert_cmpint(g_chmod(f->dir, modes[i]), ==, 0);
        g_assert_cmpint(vfmigSteerLockTake(f->dir, LOCK_UUID, &lock, NULL), ==, -1);
        g_assert_null(lock);
        g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, msg);
        g_assert_cmpint(vfmigSteerLockBusy(f->dir, LOCK_UUID), ==, -1);
        g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, msg);
        g_assert_cmpuint(lockMode(f->dir), ==, modes[i]);
        g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
    }

    /* a symbolic link, even to a private directory */
    g_assert_cmpint(g_chmod(f->dir, 0700), ==, 0);
    vfmigTestLink(f->dir, link);
    g_assert_cmpint(vfmigSteerLockTake(link, LOCK_UUID, &lock, NULL), ==, -1);
    want = g_strdup_printf("steering lock directory '%s' is a symbolic link, not a directory: refusing to use it",
                           link);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);

    /* owned by someone else: only root can make one to test with */
    if (geteuid() == 0) {
        g_clear_pointer(&want, g_free);
        g_assert_cmpint(chown(f->dir, 65534, 65534), ==, 0);
        g_assert_cmpint(vfmigSteerLockTake(f->dir, LOCK_UUID, &lock, NULL), ==, -1);
        want = g_strdup_printf("steering lock directory '%s' is owned by uid 65534, not by uid 0 that runs vfmig: refusing to use it (remove it, or chown it)",
                               f->dir);
        g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);
    }
}


/* A lock file others could open (and hold) is refused, not trusted as
 * held, and left alone. */
static void
testLockFileRefused(LockFixture *f,
                    gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigSteerLock) lock = NULL;
    g_autofree char *want = NULL;
    g_autofree char *holder = NULL;
    g_autofree char *elsewhere = g_build_filename(f->top, "elsewhere", NULL);
    int fd;

    /* pre-made by another user of the old 0755 directory, and held */
    vfmigTestMkdirs(f->dir);
    g_assert_cmpint(g_chmod(f->dir, 0700), ==, 0);
    vfmigTestWriteFile(f->path, "4242\n");
    g_assert_cmpint(g_chmod(f->path, 0644), ==, 0);
    fd = open(f->path, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(flock(fd, LOCK_EX | LOCK_NB), ==, 0);
    g_assert_cmpint(vfmigSteerLockTake(f->dir, LOCK_UUID, &lock, &holder), ==, -1);
    g_assert_null(lock);
    g_assert_null(holder);
    want = g_strdup_printf("steering lock '%s' has mode 0644: refusing to trust it, as its group or others could open and hold it (it must be mode 0600: remove it)",
                           f->path);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);
    g_assert_cmpint(vfmigSteerLockBusy(f->dir, LOCK_UUID), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);
    close(fd);
    g_assert_cmpuint(lockMode(f->path), ==, 0644);

    g_clear_pointer(&want, g_free);
    g_assert_cmpint(g_chmod(f->path, 0660), ==, 0);
    g_assert_cmpint(vfmigSteerLockTake(f->dir, LOCK_UUID, &lock, NULL), ==, -1);
    want = g_strdup_printf("steering lock '%s' has mode 0660: refusing to trust it, as its group or others could open and hold it (it must be mode 0600: remove it)",
                           f->path);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);

    /* owned by someone else: only root can make one to test with */
    if (geteuid() == 0) {
        g_clear_pointer(&want, g_free);
        g_assert_cmpint(g_chmod(f->path, 0600), ==, 0);
        g_assert_cmpint(chown(f->path, 65534, 65534), ==, 0);
        g_assert_cmpint(vfmigSteerLockTake(f->dir, LOCK_UUID, &lock, NULL), ==, -1);
        want = g_strdup_printf("steering lock '%s' is owned by uid 65534, not by uid 0 that runs vfmig: refusing to trust it, as its owner could hold it (remove it)",
                               f->path);
        g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);
    }

    /* a symbolic link is not followed */
    g_assert_cmpint(g_unlink(f->path), ==, 0);
    vfmigTestLink(elsewhere, f->path);
    g_assert_cmpint(vfmigSteerLockTake(f->dir, LOCK_UUID, &lock, NULL), ==, -1);
    g_clear_pointer(&want, g_free);
    want = g_strdup_printf("cannot open the steering lock '%s': %s",
                           f->path, g_strerror(ELOOP));
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);
    g_assert_false(g_file_test(elsewhere, G_FILE_TEST_EXISTS));
}


/* Takers that each give the lock up at once (removing its file) never
 * hold it together: one that locked a file its holder removed meanwhile
 * opens it again.  Each holder proves it is alone by making a marker
 * that must not exist; each taker says how often it took the lock. */
#define LOCK_RACERS 3
#define LOCK_ROUNDS 400

static void
testLockRace(LockFixture *f,
             gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *marker = g_build_filename(f->top, "holder", NULL);
    pid_t pids[LOCK_RACERS];
    unsigned int total = 0;
    int counts[2];
    size_t i;

    vfmigTestMkdirs(f->dir);
    g_assert_cmpint(g_chmod(f->dir, 0700), ==, 0);
    g_assert_cmpint(pipe(counts), ==, 0);
    for (i = 0; i < LOCK_RACERS; i++) {
        pids[i] = fork();
        g_assert_cmpint(pids[i], >=, 0);
        if (pids[i] == 0) {
            unsigned int taken = 0;
            unsigned int round;

            close(counts[0]);
            for (round = 0; round < LOCK_ROUNDS; round++) {
                vfmigSteerLock *lock = NULL;
                int rc = vfmigSteerLockTake(f->dir, LOCK_UUID, &lock, NULL);
                int fd;

                if (rc < 0)
                    _exit(2);
                if (rc == 0)
                    continue;
                if ((fd = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
                    _exit(3);       /* another holder at the same time */
                close(fd);
                taken++;
                if (unlink(marker) < 0)
                    _exit(4);
                vfmigSteerLockFree(lock);
            }
            if (write(counts[1], &taken, sizeof(taken)) != sizeof(taken))
                _exit(5);
            _exit(0);
        }
    }
    close(counts[1]);
    for (i = 0; i < LOCK_RACERS; i++) {
        unsigned int taken;
        int status;

        g_assert_cmpint(waitpid(pids[i], &status, 0), ==, pids[i]);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        g_assert_cmpint(read(counts[0], &taken, sizeof(taken)), ==, sizeof(taken));
        total += taken;
    }
    close(counts[0]);
    g_assert_cmpuint(total, >, 0);
    g_assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
}

/* ---- virt-vfmigd's state file (vfmigdaemon.h), which migrate reads too */

/* The tests' clock (2025-06-15), s since 1970: vfmigDaemonLoadOverhead
 * is given it, the daemon gets it through its nowS hook. */
#define STATE_NOW 1750000000LL
#define STATE_OVERHEAD_MS 7

typedef enum {
    STATE_AS_IS = 0,                /* the file 0644 in a directory 0700 */
    STATE_FILE_MODE,                /* the file of mode @mode */
    STATE_DIR_MODE,                 /* its directory of mode @mode */
    STATE_SYMLINK,                  /* a symbolic link to such a file */
    STATE_FILE_OWNER,               /* the file owned by uid 65534 (root) */
    STATE_DIR_OWNER,                /* its directory owned by 65534 (root) */
} StateSetup;

typedef struct {
    const char *name;
    const char *contents;           /* NULL: a good file past the bound */
    StateSetup setup;
    unsigned int mode;
    const char *error;              /* @FILE@, @DIR@: the paths */
} StateCase;

typedef struct {
    char *top;                      /* removed at the end */
    char *dir;                      /* the state directory */
    char *path;                     /* its state file */
} StateFixture;

#define STATE_GOOD "[overhead]\nsamples-us=100000,200000\nsampled-at=1749999940,1749999950\n"

static const StateCase stateCases[] = {
    { "sample-too-high",
      "[overhead]\nsamples-us=100000,60000001\nsampled-at=1749999940,1749999950\n",
      STATE_AS_IS, 0,
      "daemon state file '@FILE@': overhead sample 60000001 us is out of range (-60000000 to 60000000 us)" },
    { "sample-too-low",
      "[overhead]\nsamples-us=-60000001\nsampled-at=1749999950\n",
      STATE_AS_IS, 0,
      "daemon state file '@FILE@': overhead sample -60000001 us is out of range (-60000000 to 60000000 us)" },
    { "date-in-future",
      "[overhead]\nsamples-us=100000,200000\nsampled-at=1749999940,1750000301\n",
      STATE_AS_IS, 0,
      "daemon state file '@FILE@': overhead sample date 1750000301 is 301 s in the future (at most 300 s allowed)" },
    { "date-before-2020",
      "[overhead]\nsamples-us=100000,200000\nsampled-at=1000,1749999950\n",
      STATE_AS_IS, 0,
      "daemon state file '@FILE@': overhead sample date 1000 is before 1577836800 (2020-01-01), which no virt-vfmigd wrote" },
    { "lists-unequal",
      "[overhead]\nsamples-us=100000,200000\nsampled-at=1749999950\n",
      STATE_AS_IS, 0,
      "daemon state file '@FILE@' holds 2 overhead samples (samples-us) but 1 dates (sampled-at): virt-vfmigd writes one date per sample" },
    { "too-many-samples",
      "[overhead]\nsamples-us=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n"
      "sampled-at=1749999940,1749999940,1749999940,1749999940,1749999940,1749999940,"
      "1749999940,1749999940,1749999940,1749999940,1749999940,1749999940,1749999940,"
      "1749999940,1749999940,1749999940,1749999940\n",
      STATE_AS_IS, 0,
      "daemon state file '@FILE@' holds 17 overhead samples, more than the 16 virt-vfmigd keeps" },
    { "empty-sample",
      "[overhead]\nsamples-us=100000,,200000\n",
      STATE_AS_IS, 0,
      "daemon state file '@FILE@': overhead sample '' is not a number of microseconds" },
    { "unknown-key",
      STATE_GOOD "weight=9\n",
      STATE_AS_IS, 0,
      "daemon state file '@FILE@' holds a key 'weight' in [overhead], which virt-vfmigd never writes" },
    { "unknown-group",
      STATE_GOOD "[extra]\nx=1\n",
      STATE_AS_IS, 0,
      "daemon state file '@FILE@' holds a group [extra], which virt-vfmigd never writes" },
    { "no-group",
      "# nothing learned\n",
      STATE_AS_IS, 0,
      "daemon state file '@FILE@' has no [overhead] group" },
    { "too-large",
      NULL,
      STATE_AS_IS, 0,
      "daemon state file '@FILE@' is larger than 4096 bytes: refusing to read it" },
    { "group-writable",
      STATE_GOOD, STATE_FILE_MODE, 0664,
      "daemon state file '@FILE@' can be written by its group or others (mode 0664): refusing to use it (chmod go-w it)" },
    { "world-writable",
      STATE_GOOD, STATE_FILE_MODE, 0646,
      "daemon state file '@FILE@' can be written by its group or others (mode 0646): refusing to use it (chmod go-w it)" },
    { "directory-writable",
      STATE_GOOD, STATE_DIR_MODE, 0770,
      "daemon state directory '@DIR@' can be written by its group or others (mode 0770): refusing to use it (chmod go-w it)" },
    { "symlink",
      STATE_GOOD, STATE_SYMLINK, 0,
      "daemon state file '@FILE@' is a symbolic link: refusing to follow it" },
    { "owner",
      STATE_GOOD, STATE_FILE_OWNER, 0,
      "daemon state file '@FILE@' is owned by uid 65534, not by uid 0 that runs vfmig: refusing to use it (remove it, or chown it)" },
    { "directory-owner",
      STATE_GOOD, STATE_DIR_OWNER, 0,
      "daemon state directory '@DIR@' is owned by uid 65534, not by uid 0 that runs vfmig: refusing to use it (remove it, or chown it)" },
};


static void
stateSetUp(StateFixture *f,
           gconstpointer data G_GNUC_UNUSED)
{
    f->top = g_dir_make_tmp("vfmig-test-state-XXXXXX", NULL);
    g_assert_nonnull(f->top);
    f->dir = g_build_filename(f->top, "state", NULL);
    f->path = g_build_filename(f->dir, "vfmigd.state", NULL);
    g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
    g_assert_cmpint(chmod(f->dir, 0700), ==, 0);
    vfmigResetLastError();
}


static void
stateTearDown(StateFixture *f,
              gconstpointer data G_GNUC_UNUSED)
{
    vfmigTestRmTree(f->top);
    g_free(f->top);
    g_free(f->dir);
    g_free(f->path);
}


/* @path holding @contents, mode 0644 */
static void
stateWrite(const char *path,
           const char *contents)
{
    g_assert_true(g_file_set_contents(path, contents, -1, NULL));
    g_assert_cmpint(chmod(path, 0644), ==, 0);
}


static void
stateReportLine(void *opaque,
                vfmigDaemonReportLevel level,
                const char *line)
{
    GPtrArray *lines = opaque;

    /* what virt-vfmigd prints without --verbose */
    if (level == VFMIG_DAEMON_REPORT_PROGRESS)
        return;
    g_ptr_array_add(lines, g_strdup_printf("%s%s",
                                           level == VFMIG_DAEMON_REPORT_WARNING ?
                                           "warning: " : "", line));
}


static int64_t
stateNow(void *opaque G_GNUC_UNUSED)
{
    return STATE_NOW;
}


/* virt-vfmigd started on @stateFile (libvirt's test driver, no guardian,
 * --overhead-ms 7) and stopped at once: what it reported, one line each */
static GPtrArray *
stateRunDaemon(const char *stateFile)
{
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    vfmigDaemonConfig config = {
        .uri = "test:///default",
        .stateFile = stateFile,
        .noGuardian = true,
        .report = stateReportLine,
        .nowS = stateNow,
        .opaque = lines,
    };
    volatile sig_atomic_t quit = 1;

    g_assert_cmpint(vfmigDowntimeSettingsSetMs(&config.downtime,
                                               VFMIG_DOWNTIME_PARAM_OVERHEAD,
                                               STATE_OVERHEAD_MS), ==, 0);
    g_assert_cmpint(vfmigDaemonRun(&config, &quit), ==, 0);
    return lines;
}


/* What a good file gives: the samples of the last 24 hours, with their
 * dates (one a little ahead of the clock: taken as now), the expired one
 * counted; the daemon learns them and writes them back dated. */
static void
testStateLoaded(StateFixture *f,
                gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(GArray) samples = NULL;
    g_autoptr(GArray) dates = NULL;
    g_autoptr(GPtrArray) lines = NULL;
    g_autofree char *saved = NULL;
    unsigned int expired = 9;

    stateWrite(f->path, "# a comment\n[overhead]\nsamples-us=100000,200000,300000\n"
               "sampled-at=1700000000,1749999940,1750000300\n");
    g_assert_cmpint(vfmigDaemonLoadOverhead(f->path, STATE_NOW, &samples, &dates,
                                            &expired), ==, 1);
    g_assert_cmpuint(samples->len, ==, 2);
    g_assert_cmpint(g_array_index(samples, int64_t, 0), ==, 200000);
    g_assert_cmpint(g_array_index(samples, int64_t, 1), ==, 300000);
    g_assert_cmpint(g_array_index(dates, int64_t, 0), ==, 1749999940);
    g_assert_cmpint(g_array_index(dates, int64_t, 1), ==, STATE_NOW);
    g_assert_cmpuint(expired, ==, 1);

    /* two samples: the largest, plus a quarter per sample missing */
    lines = stateRunDaemon(f->path);
    g_assert_cmpuint(lines->len, ==, 1);
    g_assert_cmpstr(lines->pdata[0], ==,
                    "watching migrations at 'test:///default' every 200 ms; libvirt overhead 450 ms (2 learned sample(s)); guardian off");
    g_assert_true(g_file_get_contents(f->path, &saved, NULL, NULL));
    g_assert_true(g_str_has_suffix(saved, "\n[overhead]\nsamples-us=200000,300000\n"
                                   "sampled-at=1749999940,1750000000\n"));
    /* what the daemon saves, it loads */
    g_clear_pointer(&samples, g_array_unref);
    g_clear_pointer(&dates, g_array_unref);
    g_assert_cmpint(vfmigDaemonLoadOverhead(f->path, STATE_NOW, &samples, &dates,
                                            &expired), ==, 1);
    g_assert_cmpuint(samples->len, ==, 2);
    g_assert_cmpuint(expired, ==, 0);

    /* a file of an older virt-vfmigd, without dates: taken now */
    stateWrite(f->path, "[overhead]\nsamples-us=100000\n");
    g_clear_pointer(&samples, g_array_unref);
    g_clear_pointer(&dates, g_array_unref);
    g_assert_cmpint(vfmigDaemonLoadOverhead(f->path, STATE_NOW, &samples, &dates,
                                            &expired), ==, 1);
    g_assert_cmpuint(samples->len, ==, 1);
    g_assert_cmpint(g_array_index(dates, int64_t, 0), ==, STATE_NOW);

    /* no file, or no directory: nothing learned, nothing said */
    g_assert_cmpint(g_unlink(f->path), ==, 0);
    g_clear_pointer(&samples, g_array_unref);
    g_assert_cmpint(vfmigDaemonLoadOverhead(f->path, STATE_NOW, &samples, NULL,
                                            NULL), ==, 0);
    g_assert_cmpuint(samples->len, ==, 0);
    g_assert_cmpint(g_rmdir(f->dir), ==, 0);
    g_clear_pointer(&samples, g_array_unref);
    g_assert_cmpint(vfmigDaemonLoadOverhead(f->path, STATE_NOW, &samples, NULL,
                                            NULL), ==, 0);
    g_assert_null(vfmigGetLastError());
}


/* A state file that breaks one rule: refused whole with an error that
 * names it and the rule; virt-vfmigd warns with that error, starts with
 * the overhead configured (no learned sample), and leaves the file as it
 * is. */
static void
testStateRefused(StateFixture *f,
                 gconstpointer data)
{
    const StateCase *c = data;
    g_autoptr(GArray) samples = NULL;
    g_autoptr(GArray) dates = NULL;
    g_autoptr(GPtrArray) lines = NULL;
    g_autoptr(GString) error = g_string_new(c->error);
    g_autofree char *contents = NULL;
    g_autofree char *warning = NULL;
    g_autofree char *after = NULL;
    g_autofree char *real = NULL;
    unsigned int expired = 9;
    struct stat sb;

    if ((c->setup == STATE_FILE_OWNER || c->setup == STATE_DIR_OWNER) &&
        geteuid() != 0) {
        g_test_skip("changing a file's owner needs root");
        return;
    }
    if (c->contents) {
        contents = g_strdup(c->contents);
    } else {
        /* a good file, padded past the bound with a comment */
        g_autoptr(GString) big = g_string_new(STATE_GOOD "#");

        while (big->len < VFMIG_DAEMON_STATE_MAX)
            g_string_append_c(big, 'x');
        g_string_append_c(big, '\n');
        contents = g_string_free(g_steal_pointer(&big), FALSE);
    }
    if (c->setup == STATE_SYMLINK) {
        real = g_build_filename(f->top, "real.state", NULL);
        stateWrite(real, contents);
        g_assert_cmpint(symlink(real, f->path), ==, 0);
    } else {
        stateWrite(f->path, contents);
    }
    if (c->setup == STATE_FILE_MODE)
        g_assert_cmpint(chmod(f->path, c->mode), ==, 0);
    if (c->setup == STATE_DIR_MODE)
        g_assert_cmpint(chmod(f->dir, c->mode), ==, 0);
    if (c->setup == STATE_FILE_OWNER)
        g_assert_cmpint(chown(f->path, 65534, 65534), ==, 0);
    if (c->setup == STATE_DIR_OWNER)
        g_assert_cmpint(chown(f->dir, 65534, 65534), ==, 0);
    g_string_replace(error, "@FILE@", f->path, 0);
    g_string_replace(error, "@DIR@", f->dir, 0);

    g_assert_cmpint(vfmigDaemonLoadOverhead(f->path, STATE_NOW, &samples, &dates,
                                            &expired), ==, -1);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, error->str);
    g_assert_cmpuint(samples->len, ==, 0);
    g_assert_cmpuint(dates->len, ==, 0);
    g_assert_cmpuint(expired, ==, 0);

    lines = stateRunDaemon(f->path);
    warning = g_strdup_printf("warning: %s; starting without learned overhead (libvirt overhead %d ms, as configured), and the file is left as it is until a learned sample is saved in its place",
                              error->str, STATE_OVERHEAD_MS);
    g_assert_cmpuint(lines->len, ==, 2);
    g_assert_cmpstr(lines->pdata[0], ==, warning);
    g_assert_cmpstr(lines->pdata[1], ==,
                    "watching migrations at 'test:///default' every 200 ms; libvirt overhead 7 ms (0 learned sample(s)); guardian off");

    /* the evidence is kept */
    g_assert_cmpint(lstat(f->path, &sb), ==, 0);
    g_assert_true(c->setup == STATE_SYMLINK ? S_ISLNK(sb.st_mode) : S_ISREG(sb.st_mode));
    g_assert_true(g_file_get_contents(f->path, &after, NULL, NULL));
    g_assert_cmpstr(after, ==, contents);
    if (c->setup == STATE_FILE_MODE)
        g_assert_cmpuint(sb.st_mode & 07777, ==, c->mode);
}


int
main(int argc,
     char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migrate/json-migrated", testJSONMigrated);
    g_test_add_func("/migrate/json-failed", testJSONFailed);
    g_test_add_func("/migrate/met", testMet);
    g_test_add_func("/migrate/text", testText);
    g_test_add_func("/migrate/preflight-all-dirty", testPreflightAllDirty);
    g_test_add_func("/migrate/default-switchover", testDefaultSwitchover);
    g_test_add("/migrate/lock/modes", LockFixture, NULL, lockSetUp,
               testLockModes, lockTearDown);
    g_test_add("/migrate/lock/twice", LockFixture, NULL, lockSetUp,
               testLockTwice, lockTearDown);
    g_test_add("/migrate/lock/dir-refused", LockFixture, NULL, lockSetUp,
               testLockDirRefused, lockTearDown);
    g_test_add("/migrate/lock/file-refused", LockFixture, NULL, lockSetUp,
               testLockFileRefused, lockTearDown);
    g_test_add("/migrate/lock/race", LockFixture, NULL, lockSetUp,
               testLockRace, lockTearDown);
    g_test_add("/migrate/daemon-state/loaded", StateFixture, NULL, stateSetUp,
               testStateLoaded, stateTearDown);
    for (i = 0; i < G_N_ELEMENTS(stateCases); i++) {
        g_autofree char *name = g_strdup_printf("/migrate/daemon-state/refused/%s",
                                                stateCases[i].name);

        g_test_add(name, StateFixture, &stateCases[i], stateSetUp,
                   testStateRefused, stateTearDown);
    }
    return g_test_run();
}
