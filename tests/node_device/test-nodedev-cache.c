/*
 * test-nodedev-cache.c: the node-device cache directory is trusted only
 * when nobody else can write to it, and its files only when they are what
 * they claim to be
 *
 * The cache file and the qualification record of a device decide what
 * `nodedev-list` shows as "qualified" and which latencies device-save
 * plans with, and root reads them.  Each case plants what another user (or
 * a mistake) could: a directory owned by someone else or writable by
 * others, a FIFO (a reader that blocks on it hangs), a symbolic link to
 * /dev/zero (a reader without a bound grows without end), an oversized
 * file, a record forged for another device or driver.  An alarm ends the
 * program if any read blocks.  The tests run as root: a directory of
 * another user is one chown()ed to 65534.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vfmignodedevcachedir.h"
#include "vfmignodedevprobe.h"
#include "vfmignodedevqualify.h"

#define ADDR "0000:3b:00.2"
#define DRIVER "mlx5_vfio_pci"

/* Any read that blocks ends the program here, a failure, not a hang. */
#define ALARM_SEC 30

/* A record as device-qualify writes it, valid in every way. */
#define RECORD \
    "<nodedev-qualification address='" ADDR "' driver='" DRIVER "'>\n" \
    "  <qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='300000' " \
    "downtime-us='1' stop-latency-us='1' drain-us='1' load-commit-us='1' " \
    "resume-latency-us='1'/>\n" \
    "</nodedev-qualification>\n"

#define CACHED \
    "<nodedev-cache address='" ADDR "'>\n" \
    "  <capability type='vfio-migration'>\n" \
    "    <driver name='" DRIVER "' variant='yes'/>\n" \
    "    <features source='sysfs'>\n" \
    "      <stop-copy/>\n" \
    "    </features>\n" \
    "    <dirty-tracking type='device'/>\n" \
    "    <identity vendor='0x15b3' device='0x101e'/>\n" \
    "  </capability>\n" \
    "</nodedev-cache>\n"

typedef struct {
    char *root;
    char *cache;        /* <root>/cache, not made */
    char *cacheFile;
    char *record;
} Fixture;


static void
fixtureSetUp(Fixture *f,
             gconstpointer data G_GNUC_UNUSED)
{
    f->root = g_dir_make_tmp("vfmig-nodedev-cache-XXXXXX", NULL);
    g_assert_nonnull(f->root);
    f->cache = g_build_filename(f->root, "cache", NULL);
    f->cacheFile = vfmigNodeDevCachePath(f->cache, ADDR);
    f->record = vfmigNodeDevQualifiedPath(f->cache, ADDR);
    vfmigResetLastError();
}


static void
fixtureTearDown(Fixture *f,
                gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->root);

    g_assert_cmpint(system(cmd), ==, 0);
    g_free(f->root);
    g_free(f->cache);
    g_free(f->cacheFile);
    g_free(f->record);
}


static void
makeCache(Fixture *f,
          mode_t mode)
{
    g_assert_cmpint(g_mkdir(f->cache, 0700), ==, 0);
    g_assert_cmpint(chmod(f->cache, mode), ==, 0);
}


static void
writeFile(const char *path,
          const char *contents)
{
    g_autoptr(GError) err = NULL;

    g_file_set_contents(path, contents, -1, &err);
    g_assert_no_error(err);
}


/* The last error has @code and every NULL-terminated string; reset. */
static void
assertError(int code,
            ...)
{
    const char *msg = vfmigGetLastErrorMessage();
    const char *want;
    va_list ap;

    g_test_message("error: %s", msg);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, code);
    va_start(ap, code);
    while ((want = va_arg(ap, const char *))) {
        if (!strstr(msg, want))
            g_error("error '%s' lacks '%s'", msg, want);
    }
    va_end(ap);
    vfmigResetLastError();
}


static vfmigNodeDevCapVFIOMig *
capNew(void)
{
    vfmigNodeDevCapVFIOMig *cap = g_new0(vfmigNodeDevCapVFIOMig, 1);

    cap->driver = g_strdup(DRIVER);
    cap->variant = true;
    cap->features = VFMIG_NODEDEV_FEATURE_STOP_COPY | VFMIG_NODEDEV_FEATURE_PRE_COPY;
    cap->precopy = VFMIG_NODEDEV_PRECOPY_ON;
    cap->source = VFMIG_NODEDEV_SOURCE_SYSFS;
    cap->dirty = VFMIG_NODEDEV_DIRTY_DEVICE;
    cap->vendor = 0x15b3;
    cap->device = 0x101e;
    cap->firmware = g_strdup("28.41.1000 'quoted' & <angled>");
    cap->streamVersion = 2;
    return cap;
}


static vfmigNodeDevQualified *
qualifiedNew(void)
{
    vfmigNodeDevQualified *q = g_new0(vfmigNodeDevQualified, 1);

    q->at = 1795514400;         /* 2026-11-24T10:00:00Z */
    q->verdict = VFMIG_NODEDEV_VERDICT_QUALIFIED_WITH_WARNINGS;
    q->targetUs = 300000;
    q->peer = g_strdup("0000:3b:00.3");
    q->measured = true;
    q->downtimeUs = 96902;
    q->stopLatencyUs = 420;
    q->drainUs = 48046;
    q->loadCommitUs = 48205;
    q->resumeLatencyUs = 231;
    return q;
}


/* Every reader and writer refuses the directory, saying @want. */
static void
assertDirRefused(Fixture *f,
                 const char *want)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = capNew();
    g_autoptr(vfmigNodeDevCapVFIOMig) cached = NULL;
    g_autoptr(vfmigNodeDevQualified) q = qualifiedNew();
    g_autoptr(vfmigNodeDevQualified) back = NULL;
    g_autofree char *driver = NULL;

    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, ADDR, &cached), ==, -1);
    g_assert_null(cached);
    assertError(VFMIG_ERR_INVALID_ARG, "node-device cache directory", f->cache,
                want, "refusing to use it", NULL);

    /* the forged record is not shown as "qualified" */
    g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, ADDR, &back, &driver), ==, -1);
    g_assert_null(back);
    g_assert_null(driver);
    assertError(VFMIG_ERR_INVALID_ARG, f->cache, want, NULL);
    g_assert_cmpint(vfmigNodeDevQualifiedLoad(f->cache, ADDR, DRIVER, &back), ==, -1);
    g_assert_null(back);
    assertError(VFMIG_ERR_INVALID_ARG, f->cache, want, NULL);

    /* and nothing is written into it */
    g_assert_cmpint(vfmigNodeDevCacheWrite(f->cache, "0000:3b:00.4", cap), ==, -1);
    assertError(VFMIG_ERR_INVALID_ARG, "cannot write the cache file", want, NULL);
    g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, "0000:3b:00.4", DRIVER, q), ==, -1);
    assertError(VFMIG_ERR_INVALID_ARG, "cannot write the qualification record",
                want, NULL);
}


/* A directory of another user, holding a forged "qualified" record. */
static void
testDirOtherOwner(Fixture *f,
                  gconstpointer data G_GNUC_UNUSED)
{
    makeCache(f, 0755);
    writeFile(f->record, RECORD);
    writeFile(f->cacheFile, CACHED);
    g_assert_cmpint(chown(f->cache, 65534, 65534), ==, 0);
    assertDirRefused(f, "owned by uid 65534");
}


static void
testDirGroupWritable(Fixture *f,
                     gconstpointer data G_GNUC_UNUSED)
{
    makeCache(f, 0775);
    writeFile(f->record, RECORD);
    writeFile(f->cacheFile, CACHED);
    assertDirRefused(f, "can be written by its group or others (mode 0775)");
}


static void
testDirWorldWritable(Fixture *f,
                     gconstpointer data G_GNUC_UNUSED)
{
    /* sticky like /tmp: others still plant files in it */
    makeCache(f, 01777);
    writeFile(f->record, RECORD);
    writeFile(f->cacheFile, CACHED);
    assertDirRefused(f, "(mode 1777)");
}


/* The directory a symbolic link to a good one: whoever can change the
 * link's directory can point it elsewhere. */
static void
testDirSymlink(Fixture *f,
               gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *real = g_build_filename(f->root, "real", NULL);
    g_autofree char *realRecord = vfmigNodeDevQualifiedPath(real, ADDR);

    g_assert_cmpint(g_mkdir(real, 0755), ==, 0);
    writeFile(realRecord, RECORD);
    g_assert_cmpint(symlink(real, f->cache), ==, 0);
    assertDirRefused(f, "a symbolic link");
}


/* A FIFO in place of each file: refused at once, never waited on. */
static void
testFIFO(Fixture *f,
         gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) cached = NULL;
    g_autoptr(vfmigNodeDevQualified) q = NULL;

    makeCache(f, 0755);
    g_assert_cmpint(mkfifo(f->cacheFile, 0644), ==, 0);
    g_assert_cmpint(mkfifo(f->record, 0644), ==, 0);

    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, ADDR, &cached), ==, -1);
    g_assert_null(cached);
    assertError(VFMIG_ERR_INVALID_ARG, "cache file", f->cacheFile,
                "a FIFO, not a regular file", NULL);
    g_assert_cmpint(vfmigNodeDevQualifiedLoad(f->cache, ADDR, DRIVER, &q), ==, -1);
    g_assert_null(q);
    assertError(VFMIG_ERR_INVALID_ARG, "qualification record", f->record,
                "a FIFO, not a regular file", NULL);

    /* a writer replaces it (and is not blocked comparing it either) */
    {
        g_autoptr(vfmigNodeDevCapVFIOMig) cap = capNew();
        g_autoptr(vfmigNodeDevQualified) w = qualifiedNew();

        g_assert_cmpint(vfmigNodeDevCacheWrite(f->cache, ADDR, cap), ==, 0);
        g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, ADDR, DRIVER, w), ==, 0);
        g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, ADDR, &cached), ==, 1);
        g_assert_cmpint(vfmigNodeDevQualifiedLoad(f->cache, ADDR, DRIVER, &q), ==, 1);
    }
}


/* A symbolic link to /dev/zero in place of each file: not followed. */
static void
testSymlinkDevZero(Fixture *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) cached = NULL;
    g_autoptr(vfmigNodeDevQualified) q = NULL;
    g_autofree char *real = g_build_filename(f->root, "real.xml", NULL);

    makeCache(f, 0755);
    g_assert_cmpint(symlink("/dev/zero", f->cacheFile), ==, 0);
    g_assert_cmpint(symlink("/dev/zero", f->record), ==, 0);

    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, ADDR, &cached), ==, -1);
    assertError(VFMIG_ERR_INVALID_ARG, f->cacheFile,
                "symbolic link: refusing to follow it", NULL);
    g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, ADDR, &q, NULL), ==, -1);
    assertError(VFMIG_ERR_INVALID_ARG, f->record,
                "symbolic link: refusing to follow it", NULL);

    /* nor a link to a valid record elsewhere */
    g_assert_cmpint(g_unlink(f->record), ==, 0);
    writeFile(real, RECORD);
    g_assert_cmpint(symlink(real, f->record), ==, 0);
    g_assert_cmpint(vfmigNodeDevQualifiedLoad(f->cache, ADDR, DRIVER, &q), ==, -1);
    g_assert_null(q);
    assertError(VFMIG_ERR_INVALID_ARG, f->record, "symbolic link", NULL);
}


/* A file past the bound is not read, however well-formed. */
static void
testOversized(Fixture *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) cached = NULL;
    g_autoptr(vfmigNodeDevQualified) q = NULL;
    g_autoptr(GString) big = g_string_new(NULL);
    g_autofree char *bound = g_strdup_printf("larger than %d bytes",
                                             VFMIG_NODEDEV_CACHE_FILE_MAX);

    makeCache(f, 0755);
    /* a valid record with a long comment */
    g_string_append(big, "<!-- ");
    while (big->len < VFMIG_NODEDEV_CACHE_FILE_MAX)
        g_string_append(big, "padding ");
    g_string_append(big, "-->\n" RECORD);
    writeFile(f->record, big->str);
    g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, ADDR, &q, NULL), ==, -1);
    g_assert_null(q);
    assertError(VFMIG_ERR_INVALID_ARG, "qualification record", f->record, bound,
                NULL);

    g_string_truncate(big, 0);
    g_string_append(big, "<!-- ");
    while (big->len < VFMIG_NODEDEV_CACHE_FILE_MAX)
        g_string_append(big, "padding ");
    g_string_append(big, "-->\n" CACHED);
    writeFile(f->cacheFile, big->str);
    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, ADDR, &cached), ==, -1);
    g_assert_null(cached);
    assertError(VFMIG_ERR_INVALID_ARG, "cache file", f->cacheFile, bound, NULL);

    /* within the bound: read */
    writeFile(f->record, RECORD);
    g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, ADDR, &q, NULL), ==, 1);
}


/* Corrupt files are refused with their name; a NUL byte too. */
static void
testCorrupt(Fixture *f,
            gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) cached = NULL;
    g_autoptr(vfmigNodeDevQualified) q = NULL;
    g_autoptr(GError) err = NULL;
    static const char nul[] = "<nodedev-cache address='" ADDR "'/>\0<x/>";

    makeCache(f, 0755);
    writeFile(f->record, "<nodedev-qualification address='" ADDR "' driver='" DRIVER "'>"
              "<qualified at='yesterday' verdict='qualified' target-us='1'/>"
              "</nodedev-qualification>");
    g_assert_cmpint(vfmigNodeDevQualifiedLoad(f->cache, ADDR, DRIVER, &q), ==, -1);
    g_assert_null(q);
    assertError(VFMIG_ERR_DATA_CORRUPT, "corrupt qualification record", f->record,
                "invalid value 'yesterday' of attribute 'at'", NULL);

    writeFile(f->record, "<nodedev-qualification address='" ADDR "' driver='" DRIVER "'>");
    g_assert_cmpint(vfmigNodeDevQualifiedLoad(f->cache, ADDR, DRIVER, &q), ==, -1);
    assertError(VFMIG_ERR_DATA_CORRUPT, "corrupt qualification record", f->record,
                "malformed qualification record XML at line 1", NULL);

    g_file_set_contents(f->cacheFile, nul, sizeof(nul) - 1, &err);
    g_assert_no_error(err);
    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, ADDR, &cached), ==, -1);
    g_assert_null(cached);
    assertError(VFMIG_ERR_DATA_CORRUPT, "corrupt cache file", f->cacheFile,
                "NUL byte", NULL);
}


/* A record of another driver (the device was rebound) or of another
 * device (a copied file) is stale, and says so. */
static void
testStale(Fixture *f,
          gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevQualified) q = NULL;
    g_autoptr(vfmigNodeDevQualified) w = qualifiedNew();
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = capNew();
    g_autoptr(vfmigNodeDevCapVFIOMig) cached = NULL;
    g_autofree char *other = vfmigNodeDevQualifiedPath(f->cache, "0000:3b:00.3");
    g_autofree char *otherCache = vfmigNodeDevCachePath(f->cache, "0000:3b:00.3");
    g_autofree char *driver = NULL;

    g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, ADDR, "vfio-pci", w), ==, 0);
    g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, ADDR, &q, &driver), ==, 1);
    g_assert_cmpstr(driver, ==, "vfio-pci");
    g_clear_pointer(&q, vfmigNodeDevQualifiedFree);
    g_assert_cmpint(vfmigNodeDevQualifiedLoad(f->cache, ADDR, DRIVER, &q), ==, -1);
    g_assert_null(q);
    assertError(VFMIG_ERR_OPERATION_INVALID, "stale qualification record", f->record,
                "qualified with driver vfio-pci, it is bound to " DRIVER " now; ignored",
                NULL);

    /* ADDR's record and cache copied to another device's names */
    g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, ADDR, DRIVER, w), ==, 0);
    g_assert_cmpint(rename(f->record, other), ==, 0);
    g_assert_cmpint(vfmigNodeDevQualifiedLoad(f->cache, "0000:3b:00.3", DRIVER, &q), ==, -1);
    assertError(VFMIG_ERR_OPERATION_INVALID, "stale qualification record", other,
                "written for device '" ADDR "', not '0000:3b:00.3'", NULL);
    g_assert_cmpint(vfmigNodeDevCacheWrite(f->cache, ADDR, cap), ==, 0);
    g_assert_cmpint(rename(f->cacheFile, otherCache), ==, 0);
    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, "0000:3b:00.3", &cached), ==, -1);
    g_assert_null(cached);
    assertError(VFMIG_ERR_OPERATION_INVALID, "stale cache file", otherCache,
                "written for device '" ADDR "', not '0000:3b:00.3'", NULL);
}


/* Written, read back equal; the directory made owner-writable only. */
static void
testRoundtrip(Fixture *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = capNew();
    g_autoptr(vfmigNodeDevCapVFIOMig) cached = NULL;
    g_autoptr(vfmigNodeDevQualified) q = qualifiedNew();
    g_autoptr(vfmigNodeDevQualified) back = NULL;
    g_autofree char *driver = NULL;
    struct stat sb;
    mode_t mask = umask(0);

    /* nothing yet: absent, nothing reported */
    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, ADDR, &cached), ==, 0);
    g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, ADDR, &back, &driver), ==, 0);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);

    /* made without group or other write, whatever the umask */
    g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, ADDR, DRIVER, q), ==, 0);
    umask(mask);
    g_assert_cmpint(lstat(f->cache, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 07777, ==, 0755);
    g_assert_cmpint(lstat(f->record, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 07777, ==, 0644);

    g_assert_cmpint(vfmigNodeDevCacheWrite(f->cache, ADDR, cap), ==, 0);
    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, ADDR, &cached), ==, 1);
    g_assert_cmpint(cached->source, ==, VFMIG_NODEDEV_SOURCE_CACHE);
    g_assert_cmpstr(cached->driver, ==, DRIVER);
    g_assert_true(cached->variant);
    g_assert_cmpuint(cached->features, ==, cap->features);
    g_assert_cmpint(cached->precopy, ==, VFMIG_NODEDEV_PRECOPY_ON);
    g_assert_cmpint(cached->dirty, ==, VFMIG_NODEDEV_DIRTY_DEVICE);
    g_assert_cmphex(cached->vendor, ==, 0x15b3);
    g_assert_cmphex(cached->device, ==, 0x101e);
    g_assert_cmpstr(cached->firmware, ==, cap->firmware);
    g_assert_cmpuint(cached->streamVersion, ==, 2);
    g_assert_null(cached->qualified);
    g_assert_null(cached->live);

    g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, ADDR, &back, &driver), ==, 1);
    g_assert_cmpstr(driver, ==, DRIVER);
    g_assert_cmpint(back->at, ==, q->at);
    g_assert_cmpint(back->verdict, ==, q->verdict);
    g_assert_cmpuint(back->targetUs, ==, q->targetUs);
    g_assert_cmpstr(back->peer, ==, q->peer);
    g_assert_true(back->measured);
    g_assert_cmpuint(back->downtimeUs, ==, q->downtimeUs);
    g_assert_cmpuint(back->stopLatencyUs, ==, q->stopLatencyUs);
    g_assert_cmpuint(back->drainUs, ==, q->drainUs);
    g_assert_cmpuint(back->loadCommitUs, ==, q->loadCommitUs);
    g_assert_cmpuint(back->resumeLatencyUs, ==, q->resumeLatencyUs);

    /* a cached capability's record is not cached with it */
    g_clear_pointer(&cached, vfmigNodeDevCapVFIOMigFree);
    cap->qualified = vfmigNodeDevQualifiedCopy(q);
    g_assert_cmpint(vfmigNodeDevCacheWrite(f->cache, ADDR, cap), ==, 0);
    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, ADDR, &cached), ==, 1);
    g_assert_null(cached->qualified);
}


/* Sets the times of @path @ago seconds into the past. */
static void
age(const char *path,
    time_t ago)
{
    struct utimbuf t;

    t.actime = t.modtime = time(NULL) - ago;
    g_assert_cmpint(utime(path, &t), ==, 0);
}


/* Temporary files of a writer killed midway are removed by the next
 * writer once they are old; a fresh one (a writer at work) is kept. */
static void
testStaleTemporary(Fixture *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevQualified) q = qualifiedNew();
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = capNew();
    g_autofree char *oldRec = g_build_filename(f->cache, "." ADDR ".qualified.xml.vfmig-a1b2c3", NULL);
    g_autofree char *oldCache = g_build_filename(f->cache, "." ADDR ".xml.vfmig-d4e5f6", NULL);
    g_autofree char *fresh = g_build_filename(f->cache, ".0000:3b:00.3.xml.vfmig-Zz0911", NULL);
    g_autofree char *other = g_build_filename(f->cache, ".keep-me", NULL);

    makeCache(f, 0755);
    writeFile(oldRec, "<nodedev-qualification");
    writeFile(oldCache, "<nodedev-cache");
    writeFile(fresh, "<nodedev-cache");
    writeFile(other, "not ours");
    age(oldRec, VFMIG_NODEDEV_CACHE_STALE_SEC + 60);
    age(oldCache, VFMIG_NODEDEV_CACHE_STALE_SEC + 60);
    age(other, VFMIG_NODEDEV_CACHE_STALE_SEC + 60);

    g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, ADDR, DRIVER, q), ==, 0);
    g_assert_false(g_file_test(oldRec, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(oldCache, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(fresh, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(other, G_FILE_TEST_EXISTS));

    /* the cache writer too */
    writeFile(oldCache, "<nodedev-cache");
    age(oldCache, VFMIG_NODEDEV_CACHE_STALE_SEC + 60);
    g_assert_cmpint(vfmigNodeDevCacheWrite(f->cache, ADDR, cap), ==, 0);
    g_assert_false(g_file_test(oldCache, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(fresh, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(f->cacheFile, G_FILE_TEST_IS_REGULAR));
}


int
main(int argc,
     char **argv)
{
    g_test_init(&argc, &argv, NULL);

    if (geteuid() != 0)
        g_error("test-nodedev-cache needs root: it chown()s a directory to another user");
    alarm(ALARM_SEC);

#define ADD(name, fn) \
    g_test_add(name, Fixture, NULL, fixtureSetUp, fn, fixtureTearDown)
    ADD("/nodedev/cache-dir/other-owner", testDirOtherOwner);
    ADD("/nodedev/cache-dir/group-writable", testDirGroupWritable);
    ADD("/nodedev/cache-dir/world-writable", testDirWorldWritable);
    ADD("/nodedev/cache-dir/symlink", testDirSymlink);
    ADD("/nodedev/cache-file/fifo", testFIFO);
    ADD("/nodedev/cache-file/symlink-dev-zero", testSymlinkDevZero);
    ADD("/nodedev/cache-file/oversized", testOversized);
    ADD("/nodedev/cache-file/corrupt", testCorrupt);
    ADD("/nodedev/cache-file/stale", testStale);
    ADD("/nodedev/cache-file/roundtrip", testRoundtrip);
    ADD("/nodedev/cache-file/stale-temporary", testStaleTemporary);
#undef ADD

    return g_test_run();
}
