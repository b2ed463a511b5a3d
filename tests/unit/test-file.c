/*
 * test-file.c: bounded, non-blocking reads, trusted directories, atomic
 * replacement
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vfmigerror.h"
#include "vfmigfile.h"


typedef struct {
    char *dir;
} Fixture;


static void
fixtureSetUp(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    f->dir = g_dir_make_tmp("vfmig-test-file-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
    g_assert_cmpint(g_chmod(f->dir, 0755), ==, 0);
    vfmigResetLastError();
}


static void
fixtureTearDown(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);

    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->dir);
}


static char *
fixturePath(Fixture *f, const char *name)
{
    return g_build_filename(f->dir, name, NULL);
}


static void
assertError(const char *needle)
{
    const char *msg = vfmigGetLastErrorMessage();

    if (!strstr(msg, needle))
        g_error("error '%s' does not contain '%s'", msg, needle);
    vfmigResetLastError();
}


static void
testReadRegular(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *path = fixturePath(f, "a");
    g_autofree char *out = NULL;
    size_t len = 0;

    g_assert_true(g_file_set_contents(path, "hello", 5, NULL));
    g_assert_cmpint(vfmigFileRead("test file", path, 5, 0, &out, &len), ==, 1);
    g_assert_cmpstr(out, ==, "hello");
    g_assert_cmpuint(len, ==, 5);
    g_clear_pointer(&out, g_free);

    /* one byte over the bound */
    g_assert_cmpint(vfmigFileRead("test file", path, 4, 0, &out, &len), ==, -1);
    g_assert_null(out);
    assertError("larger than 4 bytes");
}


static void
testReadAbsent(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *path = fixturePath(f, "missing");
    g_autofree char *out = NULL;

    g_assert_cmpint(vfmigFileRead("test file", path, 10, VFMIG_FILE_OPTIONAL,
                                  &out, NULL), ==, 0);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);
    g_assert_cmpint(vfmigFileRead("test file", path, 10, 0, &out, NULL), ==, -1);
    assertError("cannot open test file");
}


/* A FIFO with no writer would block a plain open() forever. */
static void
testReadFIFO(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *path = fixturePath(f, "fifo");
    g_autofree char *out = NULL;

    g_assert_cmpint(mkfifo(path, 0600), ==, 0);
    alarm(10);
    g_assert_cmpint(vfmigFileRead("test file", path, 10, 0, &out, NULL), ==, -1);
    alarm(0);
    assertError("is a FIFO, not a regular file");
}


/* A symbolic link to /dev/zero: refused by NOFOLLOW, and refused as a
 * device when followed. */
static void
testReadSymlinkDevice(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *path = fixturePath(f, "zero");
    g_autofree char *out = NULL;

    g_assert_cmpint(symlink("/dev/zero", path), ==, 0);
    g_assert_cmpint(vfmigFileRead("test file", path, 1 << 20,
                                  VFMIG_FILE_NOFOLLOW, &out, NULL), ==, -1);
    assertError("is a symbolic link");
    g_assert_cmpint(vfmigFileRead("test file", path, 1 << 20, 0, &out, NULL),
                    ==, -1);
    assertError("is a character device");
}


static void
testReadFDBound(Fixture *f G_GNUC_UNUSED, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *out = NULL;
    size_t len = 0;
    int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(vfmigFileReadFD("test input", "-", fd, 1000, &out, &len),
                    ==, -1);
    assertError("larger than 1000 bytes");
    close(fd);
}


static void
testCheckDir(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *sub = fixturePath(f, "cache");
    g_autofree char *link = fixturePath(f, "link");
    g_autofree char *file = fixturePath(f, "file");

    g_assert_cmpint(vfmigFileCheckDir("test dir", sub), ==, 0);
    g_assert_cmpint(vfmigFileMakeDir("test dir", sub), ==, 0);
    g_assert_cmpint(vfmigFileCheckDir("test dir", sub), ==, 1);

    g_assert_cmpint(g_chmod(sub, 0777), ==, 0);
    g_assert_cmpint(vfmigFileCheckDir("test dir", sub), ==, -1);
    assertError("(mode 0777)");
    g_assert_cmpint(g_chmod(sub, 0775), ==, 0);
    g_assert_cmpint(vfmigFileCheckDir("test dir", sub), ==, -1);
    assertError("can be written by its group or others");
    g_assert_cmpint(g_chmod(sub, 0755), ==, 0);

    g_assert_cmpint(symlink(sub, link), ==, 0);
    g_assert_cmpint(vfmigFileCheckDir("test dir", link), ==, -1);
    assertError("is a symbolic link, not a directory");

    g_assert_true(g_file_set_contents(file, "", 0, NULL));
    g_assert_cmpint(vfmigFileCheckDir("test dir", file), ==, -1);
    assertError("not a directory");

    /* owned by someone else: only root can make one to test with */
    if (geteuid() == 0) {
        g_assert_cmpint(chown(sub, 65534, 65534), ==, 0);
        g_assert_cmpint(vfmigFileCheckDir("test dir", sub), ==, -1);
        assertError("is owned by uid 65534");
    }
}


static void
testReplace(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *path = fixturePath(f, "rec");
    g_autofree char *out = NULL;
    struct stat sb;

    g_assert_cmpint(vfmigFileReplace(path, "one", 3, 0644), ==, 0);
    g_assert_cmpint(vfmigFileReplace(path, "two!", 4, 0600), ==, 0);
    g_assert_cmpint(vfmigFileRead("test file", path, 10, 0, &out, NULL), ==, 1);
    g_assert_cmpstr(out, ==, "two!");
    g_assert_cmpint(stat(path, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 0777, ==, 0600);
    /* no temporary left */
    g_assert_cmpint(vfmigFileRemoveStale(f->dir, 0), ==, 0);
}


/* A file made under the final name while we wrote is never replaced. */
static void
testCommitNew(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *path = fixturePath(f, "save");
    g_autofree char *out = NULL;

    {
        g_autoptr(vfmigFileAtomic) file = vfmigFileAtomicNew(path, 0600);

        g_assert_nonnull(file);
        g_assert_cmpint(write(vfmigFileAtomicFD(file), "ours", 4), ==, 4);
        g_assert_true(g_file_set_contents(path, "theirs", 6, NULL));
        g_assert_cmpint(vfmigFileAtomicCommitNew(file), ==, -1);
        assertError("exists (made while it was being written)");
    }
    g_assert_cmpint(vfmigFileRead("test file", path, 10, 0, &out, NULL), ==, 1);
    g_assert_cmpstr(out, ==, "theirs");
    g_assert_cmpint(vfmigFileRemoveStale(f->dir, 0), ==, 0);
    g_clear_pointer(&out, g_free);
    g_assert_cmpint(unlink(path), ==, 0);

    {
        g_autoptr(vfmigFileAtomic) file = vfmigFileAtomicNew(path, 0600);

        g_assert_nonnull(file);
        g_assert_cmpint(write(vfmigFileAtomicFD(file), "ours", 4), ==, 4);
        g_assert_cmpint(vfmigFileAtomicCommitNew(file), ==, 0);
    }
    g_assert_cmpint(vfmigFileRead("test file", path, 10, 0, &out, NULL), ==, 1);
    g_assert_cmpstr(out, ==, "ours");
}


/* A writer killed before it commits leaves nothing under the final name,
 * and its temporary file is removed as stale once old enough. */
static void
testKilledWriter(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *path = fixturePath(f, "state");
    g_autofree char *other = fixturePath(f, ".notours.tmp");
    int pipefd[2];
    pid_t pid;
    char c;
    int status;

    g_assert_cmpint(pipe(pipefd), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        vfmigFileAtomic *file = vfmigFileAtomicNew(path, 0600);

        if (!file || write(vfmigFileAtomicFD(file), "partial", 7) != 7)
            _exit(1);
        if (write(pipefd[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(pipefd[1]);
    g_assert_cmpint(read(pipefd[0], &c, 1), ==, 1);
    close(pipefd[0]);
    g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFSIGNALED(status));

    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_set_contents(other, "", 0, NULL));

    /* young: kept, a writer may still be at work */
    g_assert_cmpint(vfmigFileRemoveStale(f->dir, 3600), ==, 0);
    g_assert_cmpint(vfmigFileRemoveStale(f->dir, 0), ==, 1);
    g_assert_true(g_file_test(other, G_FILE_TEST_EXISTS));
    g_assert_cmpint(vfmigFileRemoveStale(f->dir, 0), ==, 0);
}


static void
testAbandoned(Fixture *f, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *path = fixturePath(f, "state");
    g_autofree char *tmp = NULL;

    {
        g_autoptr(vfmigFileAtomic) file = vfmigFileAtomicNew(path, 0600);

        g_assert_nonnull(file);
        tmp = g_strdup(vfmigFileAtomicTempPath(file));
        g_assert_true(g_file_test(tmp, G_FILE_TEST_EXISTS));
    }
    g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

#define ADD(name, fn) \
    g_test_add(name, Fixture, NULL, fixtureSetUp, fn, fixtureTearDown)
    ADD("/file/read/regular", testReadRegular);
    ADD("/file/read/absent", testReadAbsent);
    ADD("/file/read/fifo", testReadFIFO);
    ADD("/file/read/symlink-device", testReadSymlinkDevice);
    ADD("/file/read/fd-bound", testReadFDBound);
    ADD("/file/dir/check", testCheckDir);
    ADD("/file/atomic/replace", testReplace);
    ADD("/file/atomic/commit-new", testCommitNew);
    ADD("/file/atomic/killed", testKilledWriter);
    ADD("/file/atomic/abandoned", testAbandoned);
#undef ADD

    return g_test_run();
}
