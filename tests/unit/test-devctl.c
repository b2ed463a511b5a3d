/*
 * test-devctl.c: device-save through the library, on an emulated device
 *
 * The file appears under its name only when it is complete and on disk:
 * a save killed with SIGKILL mid-stream leaves only its temporary file
 * (".<name>.vfmig-XXXXXX"), never <name>; a save cancelled by SIGINT (the
 * handler sets the caller's cancel flag) leaves nothing at all.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vfmigdevctl.h"
#include "vfmigdeviceemu.h"
#include "vfmigerror.h"
#include "vfmigfile.h"

#define STATE_SIZE (1024 * 1024)
/* How long the device hashes its state when the stop-copy drain begins:
 * long enough to kill or interrupt the save there. */
#define SLOW_DRAIN_US (3 * 1000 * 1000)
/* The child's exit status when the save was cancelled. */
#define EXIT_CANCELLED 3

static const vfmigStateIdentity emuId = {
    .driver = "vfmig-emu",
    .havePciIds = true,
    .pciVendor = 0x1b36,
    .pciDevice = 0x0005,
    .haveStreamVersion = true,
    .streamVersion = 1,
    .multiLoad = true,
};

static gint testCancel;


static vfmigDevCtlDev *
testDevice(uint64_t drainDelayUs)
{
    vfmigEmuConfig cfg;
    vfmigDevice *dev;

    vfmigEmuConfigInit(&cfg);
    cfg.stateSize = STATE_SIZE;
    cfg.drainDelayUs = drainDelayUs;
    dev = vfmigEmuDeviceNew("emu", &cfg);
    g_assert_nonnull(dev);
    return vfmigDevCtlDevWrap(dev, &emuId);
}


static int
testSave(vfmigDevCtlDev *md,
         const char *file,
         vfmigDevCtlStateReport **rep)
{
    vfmigDevCtlStateParams params = { 0 };

    params.cancel = &testCancel;
    return vfmigDevCtlSaveDevice(md, file, -1, &params, rep);
}


static void
testOnSignal(int sig G_GNUC_UNUSED)
{
    g_atomic_int_set(&testCancel, 1);
}


/* A child saving a slow device into @file; it exits 0 when the save
 * completed, EXIT_CANCELLED when it was cancelled, 1 otherwise. */
static pid_t
testStartSave(const char *file)
{
    pid_t pid = fork();

    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        g_autoptr(vfmigDevCtlDev) md = testDevice(SLOW_DRAIN_US);
        g_autoptr(vfmigDevCtlStateReport) rep = NULL;
        struct sigaction sa;
        int rc;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = testOnSignal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        rc = testSave(md, file, &rep);
        if (rc == 0)
            _exit(0);
        _exit(vfmigGetLastErrorCode() == VFMIG_ERR_OPERATION_ABORTED ?
              EXIT_CANCELLED : 1);
    }
    return pid;
}


/* The names in @dir, sorted. */
static GPtrArray *
testList(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(name));
    return names;
}


/* Waits (5 s at most) for a file in @dir to hold the device's state: the
 * save is then mid-stream.  Returns its name, which must be a temporary
 * one beside @base (checked by the caller, after the save is ended). */
static char *
testWaitData(const char *dir)
{
    int i;

    for (i = 0; i < 500; i++) {
        g_autoptr(GPtrArray) names = testList(dir);
        size_t j;

        for (j = 0; j < names->len; j++) {
            const char *name = g_ptr_array_index(names, j);
            g_autofree char *path = g_build_filename(dir, name, NULL);
            GStatBuf sb;

            if (g_stat(path, &sb) == 0 && sb.st_size >= STATE_SIZE)
                return g_strdup(name);
        }
        g_usleep(10 * 1000);
    }
    g_assert_not_reached();
    return NULL;
}


static void
testSaveComplete(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-devctl-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "state", NULL);
    g_autoptr(vfmigDevCtlDev) md = testDevice(0);
    g_autoptr(vfmigDevCtlStateReport) rep = NULL;
    g_autoptr(vfmigDevCtlStateReport) again = NULL;
    g_autoptr(GPtrArray) names = NULL;
    GStatBuf sb;

    g_assert_cmpint(testSave(md, file, &rep), ==, 0);
    g_assert_nonnull(rep);
    g_assert_null(rep->error);
    g_assert_cmpstr(rep->state, ==, "RUNNING");
    g_assert_cmpuint(rep->engine.streamBytes, >, STATE_SIZE);
    g_assert_cmpint(g_stat(file, &sb), ==, 0);
    g_assert_cmpuint(sb.st_size, ==, rep->engine.streamBytes);
    g_assert_cmpuint(sb.st_mode & 0777, ==, 0600);
    /* the file only: no temporary stays */
    names = testList(dir);
    g_assert_cmpuint(names->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(names, 0), ==, "state");

    /* never overwritten */
    g_assert_cmpint(testSave(md, file, &again), ==, -1);
    g_assert_null(again);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "never overwrites"));
    vfmigResetLastError();
    g_assert_cmpint(g_stat(file, &sb), ==, 0);
    g_assert_cmpuint(sb.st_size, ==, rep->engine.streamBytes);

    g_assert_cmpint(g_unlink(file), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}


static void
testSaveKilled(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-devctl-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "state", NULL);
    g_autofree char *temp = NULL;
    g_autofree char *tempPath = NULL;
    g_autoptr(GPtrArray) names = NULL;
    pid_t pid = testStartSave(file);
    int status;

    temp = testWaitData(dir);
    g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFSIGNALED(status));
    g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);

    /* no partial file under the final name; only the temporary one */
    g_assert_false(g_file_test(file, G_FILE_TEST_EXISTS));
    g_assert_true(g_str_has_prefix(temp, ".state" VFMIG_FILE_TEMP_TAG));
    names = testList(dir);
    g_assert_cmpuint(names->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(names, 0), ==, temp);

    /* which the stale-file sweep removes */
    g_assert_cmpint(vfmigFileRemoveStale(dir, 0), ==, 1);
    tempPath = g_build_filename(dir, temp, NULL);
    g_assert_false(g_file_test(tempPath, G_FILE_TEST_EXISTS));
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}


static void
testSaveInterrupted(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-devctl-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "state", NULL);
    g_autofree char *temp = NULL;
    g_autoptr(GPtrArray) names = NULL;
    pid_t pid = testStartSave(file);
    int status;

    temp = testWaitData(dir);
    g_assert_true(g_str_has_prefix(temp, ".state" VFMIG_FILE_TEMP_TAG));
    g_assert_cmpint(kill(pid, SIGINT), ==, 0);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, EXIT_CANCELLED);

    /* nothing at all is left */
    names = testList(dir);
    g_assert_cmpuint(names->len, ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}


static void
testSaveMissingDir(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-devctl-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "nodir", "state", NULL);
    g_autoptr(vfmigDevCtlDev) md = testDevice(0);
    g_autoptr(vfmigDevCtlStateReport) rep = NULL;

    g_assert_cmpint(testSave(md, file, &rep), ==, -1);
    g_assert_null(rep);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), file));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "No such file or directory"));
    vfmigResetLastError();
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/devctl/save/complete", testSaveComplete);
    g_test_add_func("/devctl/save/killed", testSaveKilled);
    g_test_add_func("/devctl/save/interrupted", testSaveInterrupted);
    g_test_add_func("/devctl/save/missing-dir", testSaveMissingDir);

    return g_test_run();
}
