/*
 * test-engine.c: the device-state engine on emulated devices
 *
 * Every way a migration can fail is injected here, and every time the
 * source must end RUNNING with the state it had (same digest), the
 * destination reset, and the error must name the side and the phase.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "vfmigdeviceemu.h"
#include "vfmigengine.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"

#define STATE_SIZE (256 * 1024)
#define PAGE_SIZE 4096

static const vfmigStateIdentity emuId = {
    .driver = "vfmig-emu",
    .multiLoad = true,
};

static const vfmigStateIdentity emuIdSingle = {
    .driver = "vfmig-emu",
    .multiLoad = false,
};


static vfmigDevice *
testDevice(const char *name, uint64_t seed, uint64_t flags, uint64_t dirtyRate)
{
    vfmigEmuConfig cfg;
    vfmigDevice *dev;

    vfmigEmuConfigInit(&cfg);
    cfg.stateSize = STATE_SIZE;
    cfg.pageSize = PAGE_SIZE;
    cfg.seed = seed;
    cfg.dirtyRate = dirtyRate;
    if (flags)
        cfg.flags = flags;
    dev = vfmigEmuDeviceNew(name, &cfg);
    g_assert_nonnull(dev);
    return dev;
}


/* A device dirtying @dirtyRate bytes per second of its own time, in which
 * it moves BUSY_IO_RATE bytes per second (vfmigEmuConfig.ioRate): its
 * whole state takes 3.9 ms of that time to move, on any machine. */
#define BUSY_IO_RATE (64ULL * 1024 * 1024)

static vfmigDevice *
testBusyDevice(const char *name, uint64_t seed, uint64_t dirtyRate)
{
    vfmigEmuConfig cfg;
    vfmigDevice *dev;

    vfmigEmuConfigInit(&cfg);
    cfg.stateSize = STATE_SIZE;
    cfg.pageSize = PAGE_SIZE;
    cfg.seed = seed;
    cfg.dirtyRate = dirtyRate;
    cfg.ioRate = BUSY_IO_RATE;
    dev = vfmigEmuDeviceNew(name, &cfg);
    g_assert_nonnull(dev);
    return dev;
}


static void
testConfig(vfmigEngineConfig *cfg)
{
    vfmigEngineConfigInit(cfg);
    cfg->roundMs = 5;
    cfg->stallTimeoutMs = 2000;
    cfg->bufferSize = 64 * 1024;
    cfg->digest = true;
}


static uint32_t
testState(vfmigDevice *dev)
{
    uint32_t state;

    g_assert_cmpint(vfmigDeviceGetState(dev, &state), ==, 0);
    return state;
}


static char *
testDigest(vfmigDevice *dev)
{
    char *d = vfmigEmuDeviceDigest(dev);

    g_assert_nonnull(d);
    return d;
}


static int
testTmpFile(void)
{
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("vfmig-engine-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    unlink(path);
    return fd;
}


static bool
testArcsVisit(vfmigDevice *dev, uint32_t state)
{
    const GArray *arcs = vfmigEmuDeviceArcLog(dev);
    guint i;

    for (i = 0; i < arcs->len; i++) {
        if (g_array_index(arcs, vfmigEmuArc, i).to == state)
            return true;
    }
    return false;
}


/* The error says @side and @phase, and mentions every one of @words. */
static void
testAssertError(const char *side, const char *phase, int code,
                const char *const *words)
{
    const char *msg = vfmigGetLastErrorMessage();
    g_autofree char *prefix = g_strdup_printf("%s device '", side);
    g_autofree char *inPhase = g_strdup_printf("failed in phase %s:", phase);

    if (g_test_verbose())
        g_printerr("error: %s\n", msg);
    g_assert_true(g_str_has_prefix(msg, prefix));
    g_assert_nonnull(strstr(msg, inPhase));
    if (code)
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, code);
    for (; words && *words; words++) {
        if (!strstr(msg, *words))
            g_error("'%s' not in error: %s", *words, msg);
    }
}


/* Two emulated devices, the source's digest before anything happened, a
 * configuration and the reports of a migration between them. */
typedef struct _testPair testPair;
struct _testPair {
    vfmigDevice *src;
    vfmigDevice *dst;
    char *srcBefore;
    vfmigEngineConfig cfg;
    vfmigEngineReport sr;
    vfmigEngineReport dr;
};


static void
testPairInit(testPair *p)
{
    memset(p, 0, sizeof(*p));
    p->src = testDevice("src", 1, 0, 0);
    p->dst = testDevice("dst", 2, 0, 0);
    p->srcBefore = testDigest(p->src);
    testConfig(&p->cfg);
}


/* The same with a source that dirties @srcDirtyRate in its own time, on
 * which the engine is timed: how much it dirties between two reads and
 * the bandwidth the policy sees do not depend on the machine. */
static void
testPairInitBusy(testPair *p, uint64_t srcDirtyRate)
{
    memset(p, 0, sizeof(*p));
    p->src = testBusyDevice("src", 1, srcDirtyRate);
    p->dst = testDevice("dst", 2, 0, 0);
    p->srcBefore = testDigest(p->src);
    testConfig(&p->cfg);
    p->cfg.clock = vfmigEmuDeviceClock;
    p->cfg.clockOpaque = p->src;
}


static void
testPairClear(testPair *p)
{
    vfmigDeviceFree(p->src);
    vfmigDeviceFree(p->dst);
    g_free(p->srcBefore);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(testPair, testPairClear);


/*
 * Migrates the pair, which must fail with an error from @side in @phase
 * that says every one of @words; then both devices run and the source
 * has the state it had, or, with @sourceChanged (a reset, or a device
 * that dirties itself), another.
 */
static void
testPairMigrateFails(testPair *p,
                     const char *side,
                     const char *phase,
                     int code,
                     const char *const *words,
                     bool sourceChanged)
{
    g_autofree char *after = NULL;

    g_assert_cmpint(vfmigEngineMigrate(p->src, &emuId, p->dst, &emuId, &p->cfg,
                                       VFMIG_ENGINE_LEAVE_STOPPED,
                                       &p->sr, &p->dr), ==, -1);
    testAssertError(side, phase, code, words);
    g_assert_true(p->sr.failed || p->dr.failed);
    g_assert_cmpint(testState(p->src), ==, VFIO_DEVICE_STATE_RUNNING);
    g_assert_cmpint(testState(p->dst), ==, VFIO_DEVICE_STATE_RUNNING);
    after = testDigest(p->src);
    if (sourceChanged)
        g_assert_cmpstr(after, !=, p->srcBefore);
    else
        g_assert_cmpstr(after, ==, p->srcBefore);
}


static void
testSaveLoadFile(void)
{
    g_auto(testPair) p;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    g_autofree char *loaded = NULL;
    struct stat st;
    int fd = testTmpFile();

    testPairInit(&p);
    before = testDigest(p.src);
    g_assert_cmpint(vfmigEngineSave(p.src, &emuId, true, fd, &p.cfg, 0, &p.sr), ==, 0);
    after = testDigest(p.src);
    g_assert_cmpstr(before, ==, after);
    g_assert_cmpint(testState(p.src), ==, VFIO_DEVICE_STATE_RUNNING);
    g_assert_true(testArcsVisit(p.src, VFIO_DEVICE_STATE_PRE_COPY));
    g_assert_cmpint(p.sr.mode, ==, VFMIG_STATE_PRECOPY_MULTI);
    g_assert_false(p.sr.failed);
    g_assert_cmpuint(p.sr.precopyBytes, >=, STATE_SIZE);
    g_assert_cmpuint(p.sr.stopCopyBytes, >, 0);
    g_assert_cmpuint(p.sr.initialBytes, >=, STATE_SIZE);
    g_assert_cmpuint(p.sr.iterations, >=, 1);
    g_assert_true(p.sr.haveDecision);
    g_assert_cmpint(p.sr.decision.decision, ==, VFMIG_DOWNTIME_SWITCH_OVER);
    g_assert_cmpstr(p.sr.digest, ==, before);
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    g_assert_cmpuint(p.sr.streamBytes, ==, (uint64_t) st.st_size);

    g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
    g_assert_cmpint(vfmigEngineLoad(p.dst, &emuId, fd, &p.cfg, 0, &p.dr), ==, 0);
    loaded = testDigest(p.dst);
    g_assert_cmpstr(loaded, ==, before);
    g_assert_cmpstr(p.dr.digest, ==, before);
    g_assert_cmpint(testState(p.dst), ==, VFIO_DEVICE_STATE_RUNNING);
    g_assert_cmpuint(p.dr.precopyBytes, ==, p.sr.precopyBytes);
    g_assert_cmpuint(p.dr.stopCopyBytes, ==, p.sr.stopCopyBytes);
    g_assert_cmpuint(p.dr.streamBytes, ==, p.sr.streamBytes);
    g_assert_cmpuint(p.dr.precopyImages, ==, p.sr.precopyImages);
    close(fd);
}


static void
testMigrate(void)
{
    g_auto(testPair) p;
    g_autofree char *before = NULL;
    g_autofree char *loaded = NULL;

    testPairInit(&p);
    before = testDigest(p.src);
    g_assert_cmpint(vfmigEngineMigrate(p.src, &emuId, p.dst, &emuId, &p.cfg,
                                       VFMIG_ENGINE_LEAVE_STOPPED,
                                       &p.sr, &p.dr), ==, 0);
    loaded = testDigest(p.dst);
    g_assert_cmpstr(loaded, ==, before);
    g_assert_cmpstr(p.sr.digest, ==, p.dr.digest);
    g_assert_cmpint(testState(p.src), ==, VFIO_DEVICE_STATE_STOP);
    g_assert_cmpint(testState(p.dst), ==, VFIO_DEVICE_STATE_RUNNING);
    g_assert_cmpuint(p.sr.downtimeUs, >, 0);
    g_assert_cmpuint(p.sr.downtimeUs, ==, p.dr.downtimeUs);
    g_assert_cmpuint(p.dr.runningUs, >=, p.sr.stopStartUs);
    g_assert_cmpuint(p.dr.precopyBytes + p.dr.stopCopyBytes, ==,
                     p.sr.precopyBytes + p.sr.stopCopyBytes);
}


/* A destination without multi-load gets one image: no PRE_COPY at all. */
static void
testSingleMode(void)
{
    g_auto(testPair) p;
    g_autofree char *before = NULL;
    g_autofree char *loaded = NULL;

    testPairInit(&p);
    before = testDigest(p.src);
    g_assert_cmpint(vfmigEngineMigrate(p.src, &emuId, p.dst, &emuIdSingle, &p.cfg,
                                       0, &p.sr, &p.dr), ==, 0);
    loaded = testDigest(p.dst);
    g_assert_cmpstr(loaded, ==, before);
    g_assert_cmpint(p.sr.mode, ==, VFMIG_STATE_PRECOPY_SINGLE);
    g_assert_cmpint(p.dr.mode, ==, VFMIG_STATE_PRECOPY_SINGLE);
    g_assert_false(testArcsVisit(p.src, VFIO_DEVICE_STATE_PRE_COPY));
    g_assert_cmpuint(p.sr.precopyBytes, ==, 0);
    g_assert_cmpuint(p.dr.precopyBytes, ==, 0);
    g_assert_cmpint(testState(p.src), ==, VFIO_DEVICE_STATE_RUNNING);

    /* pre-copy forced on towards it is refused before anything moves */
    vfmigEmuDeviceClearArcLog(p.src);
    p.cfg.precopy = VFMIG_ENGINE_PRECOPY_ON;
    g_assert_cmpint(vfmigEngineMigrate(p.src, &emuId, p.dst, &emuIdSingle, &p.cfg,
                                       0, &p.sr, &p.dr), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "multi-load"));
    g_assert_cmpuint(vfmigEmuDeviceArcLog(p.src)->len, ==, 0);
    g_assert_cmpint(testState(p.src), ==, VFIO_DEVICE_STATE_RUNNING);
}


/* A file saved with several images is refused by a single-image device
 * before its state is touched. */
static void
testMultiFileOntoSingle(void)
{
    g_auto(testPair) p;
    g_autofree char *dstBefore = NULL;
    g_autofree char *dstAfter = NULL;
    int fd = testTmpFile();
    const char *words[] = { "cannot load more than one", "not touched", NULL };

    testPairInit(&p);
    dstBefore = testDigest(p.dst);
    g_assert_cmpint(vfmigEngineSave(p.src, &emuId, true, fd, &p.cfg, 0, &p.sr), ==, 0);
    g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
    g_assert_cmpint(vfmigEngineLoad(p.dst, &emuIdSingle, fd, &p.cfg, 0, &p.dr), ==, -1);
    testAssertError("destination", "setup",
                    VFMIG_ERR_OPERATION_UNSUPPORTED, words);
    dstAfter = testDigest(p.dst);
    g_assert_cmpstr(dstBefore, ==, dstAfter);
    g_assert_cmpuint(vfmigEmuDeviceArcLog(p.dst)->len, ==, 0);
    close(fd);
}


static void
testNoPrecopyDevice(void)
{
    g_autoptr(vfmigDevice) src = testDevice("src", 1, VFIO_MIGRATION_STOP_COPY, 0);
    g_autoptr(vfmigDevice) dst = testDevice("dst", 2, VFIO_MIGRATION_STOP_COPY, 0);
    g_autofree char *before = testDigest(src);
    g_autofree char *loaded = NULL;
    vfmigStatePrecopyMode mode;
    vfmigEngineConfig cfg;
    vfmigEngineReport sr;
    vfmigEngineReport dr;

    testConfig(&cfg);
    g_assert_cmpint(vfmigEngineMigrate(src, &emuId, dst, &emuId, &cfg,
                                       0, &sr, &dr), ==, 0);
    loaded = testDigest(dst);
    g_assert_cmpstr(loaded, ==, before);
    g_assert_cmpint(sr.mode, ==, VFMIG_STATE_PRECOPY_NONE);
    g_assert_cmpuint(sr.iterations, ==, 0);

    g_assert_cmpint(vfmigEngineChooseMode(VFIO_MIGRATION_STOP_COPY, true,
                                          VFMIG_ENGINE_PRECOPY_ON, &mode), ==, -1);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "PRE_COPY"));
    g_assert_cmpint(vfmigEngineChooseMode(VFIO_MIGRATION_STOP_COPY |
                                          VFIO_MIGRATION_PRE_COPY, true,
                                          VFMIG_ENGINE_PRECOPY_OFF, &mode), ==, 0);
    g_assert_cmpint(mode, ==, VFMIG_STATE_PRECOPY_SINGLE);
    g_assert_cmpint(vfmigEngineChooseMode(VFIO_MIGRATION_STOP_COPY |
                                          VFIO_MIGRATION_PRE_COPY, true,
                                          VFMIG_ENGINE_PRECOPY_AUTO, &mode), ==, 0);
    g_assert_cmpint(mode, ==, VFMIG_STATE_PRECOPY_MULTI);
    g_assert_cmpint(vfmigEnginePrecopyFromString("on"), ==, VFMIG_ENGINE_PRECOPY_ON);
    g_assert_cmpint(vfmigEnginePrecopyFromString("sometimes"), ==, -1);
}


static void
testRoundTrip(void)
{
    g_autoptr(vfmigDevice) dev = testDevice("dev", 7, 0, 0);
    g_autofree char *before = testDigest(dev);
    g_autofree char *after = NULL;
    vfmigEngineConfig cfg;
    vfmigEngineReport sr;
    vfmigEngineReport dr;
    int fd = testTmpFile();

    testConfig(&cfg);
    g_assert_cmpint(vfmigEngineRoundTrip(dev, &emuId, fd, &cfg, &sr, &dr), ==, 0);
    after = testDigest(dev);
    g_assert_cmpstr(after, ==, before);
    g_assert_cmpstr(sr.digest, ==, before);
    g_assert_cmpstr(dr.digest, ==, before);
    g_assert_cmpint(testState(dev), ==, VFIO_DEVICE_STATE_RUNNING);
    g_assert_cmpuint(sr.downtimeUs, >, 0);
    close(fd);
}


/* ---- faults ---- */

typedef struct _testFaultCase testFaultCase;
struct _testFaultCase {
    const char *name;
    bool onSource;
    vfmigEmuFault fault;
    const char *side;
    const char *phase;
    int code;
    const char *words[4];
    bool sourceLost;        /* the source itself broke: reset, state lost */
};


static const testFaultCase faultCases[] = {
    { "short-read", true,
      { .type = VFMIG_EMU_FAULT_TRUNCATE, .offset = 100000 },
      "destination", "resume", 0, { "refused", "reset", "running again" } },
    { "source-eio-precopy", true,
      { .type = VFMIG_EMU_FAULT_READ_EIO, .offset = 50000 },
      "source", "pre-copy", 0, { "running again with its state" } },
    { "destination-eio", false,
      { .type = VFMIG_EMU_FAULT_WRITE_EIO, .offset = 70000 },
      "destination", "load", 0, { "destination device was reset",
                                  "running again with its state" } },
    { "digest-mismatch", true,
      { .type = VFMIG_EMU_FAULT_CORRUPT, .offset = 200000, .mask = 0x40 },
      "destination", "load", VFMIG_ERR_DATA_CORRUPT,
      { "corrupt", "destination device was reset", "running again" } },
    { "destination-refuses", false,
      { .type = VFMIG_EMU_FAULT_REFUSE_LOAD },
      "destination", "resume", 0, { "refused", "destination device was reset" } },
    { "destination-arc-error", false,
      { .type = VFMIG_EMU_FAULT_ARC_ERROR,
        .from = VFIO_DEVICE_STATE_RESUMING, .to = VFIO_DEVICE_STATE_STOP },
      "destination", "resume", 0, { "destination device was reset" } },
    { "destination-cannot-resume", false,
      { .type = VFMIG_EMU_FAULT_ARC_FAIL,
        .from = VFIO_DEVICE_STATE_STOP, .to = VFIO_DEVICE_STATE_RESUMING },
      "destination", "load", 0, { "destination device was reset" } },
    { "source-stop-fails", true,
      { .type = VFMIG_EMU_FAULT_ARC_FAIL,
        .from = VFIO_DEVICE_STATE_PRE_COPY_P2P, .to = VFIO_DEVICE_STATE_STOP_COPY },
      "source", "stop-copy", 0, { "running again with its state" } },
    { "source-error", true,
      { .type = VFMIG_EMU_FAULT_ARC_ERROR,
        .from = VFIO_DEVICE_STATE_PRE_COPY_P2P, .to = VFIO_DEVICE_STATE_STOP_COPY },
      "source", "stop-copy", 0, { "state is lost" }, true },
};


static void
testFault(gconstpointer opaque)
{
    const testFaultCase *fc = opaque;
    g_auto(testPair) p;

    testPairInit(&p);
    g_assert_cmpint(vfmigEmuDeviceInjectFault(fc->onSource ? p.src : p.dst,
                                              &fc->fault), ==, 0);
    testPairMigrateFails(&p, fc->side, fc->phase, fc->code, fc->words,
                         fc->sourceLost);
}


/* A corrupt byte anywhere in the file: refused before the device runs,
 * and the destination reset (or, in the header, never touched). */
static void
testCorruptFile(void)
{
    g_auto(testPair) p;
    g_autofree char *dstBefore = NULL;
    g_autofree guint8 *image = NULL;
    struct stat st;
    uint64_t offsets[] = { 5, 240, 256 + 3, 256 + 24 + 1000, 0 };
    size_t i;
    int fd = testTmpFile();

    testPairInit(&p);
    dstBefore = testDigest(p.dst);
    g_assert_cmpint(vfmigEngineSave(p.src, &emuId, true, fd, &p.cfg, 0, &p.sr), ==, 0);
    g_assert_cmpint(fstat(fd, &st), ==, 0);
    offsets[G_N_ELEMENTS(offsets) - 1] = st.st_size - 10;
    image = g_malloc(st.st_size);
    g_assert_cmpint(pread(fd, image, st.st_size, 0), ==, st.st_size);

    for (i = 0; i < G_N_ELEMENTS(offsets); i++) {
        g_autofree char *dstAfter = NULL;
        int bad = testTmpFile();
        bool inHeader = offsets[i] < 256;

        g_assert_cmpint(pwrite(bad, image, st.st_size, 0), ==, st.st_size);
        image[offsets[i]] ^= 0x01;
        g_assert_cmpint(pwrite(bad, image + offsets[i], 1, offsets[i]), ==, 1);
        image[offsets[i]] ^= 0x01;
        vfmigEmuDeviceClearArcLog(p.dst);

        g_assert_cmpint(vfmigEngineLoad(p.dst, &emuId, bad, &p.cfg, 0, &p.dr), ==, -1);
        testAssertError("destination", inHeader ? "setup" : "load",
                        VFMIG_ERR_DATA_CORRUPT, NULL);
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "byte offset"));
        g_assert_cmpint(testState(p.dst), ==, VFIO_DEVICE_STATE_RUNNING);
        if (inHeader) {
            dstAfter = testDigest(p.dst);
            g_assert_cmpstr(dstAfter, ==, dstBefore);
            g_assert_cmpuint(vfmigEmuDeviceArcLog(p.dst)->len, ==, 0);
        } else {
            g_assert_true(testArcsVisit(p.dst, VFIO_DEVICE_STATE_RESUMING));
            g_assert_false(testArcsVisit(p.dst, VFIO_DEVICE_STATE_RUNNING));
        }
        close(bad);
    }
    close(fd);
}


/* A file from another kind of device is refused before the device is
 * touched, with the reason. */
static void
testForeignFile(void)
{
    g_auto(testPair) p;
    g_autofree char *dstBefore = NULL;
    g_autofree char *dstAfter = NULL;
    vfmigStateIdentity other = emuId;
    int fd = testTmpFile();
    const char *words[] = { "other-driver", "not touched", NULL };

    testPairInit(&p);
    dstBefore = testDigest(p.dst);
    other.driver = "other-driver";
    g_assert_cmpint(vfmigEngineSave(p.src, &other, true, fd, &p.cfg, 0, &p.sr), ==, 0);
    g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
    g_assert_cmpint(vfmigEngineLoad(p.dst, &emuId, fd, &p.cfg, 0, &p.dr), ==, -1);
    testAssertError("destination", "setup", VFMIG_ERR_OPERATION_UNSUPPORTED, words);
    dstAfter = testDigest(p.dst);
    g_assert_cmpstr(dstAfter, ==, dstBefore);
    g_assert_cmpuint(vfmigEmuDeviceArcLog(p.dst)->len, ==, 0);
    close(fd);
}


/* Nobody reads the pipe: the source gives up after the stall timeout. */
static void
testStall(void)
{
    g_autoptr(vfmigDevice) src = testDevice("src", 1, 0, 0);
    g_autofree char *before = testDigest(src);
    g_autofree char *after = NULL;
    vfmigEngineConfig cfg;
    vfmigEngineReport sr;
    const char *words[] = { "no progress for 200 ms", "running again", NULL };
    int p[2];

    g_assert_cmpint(pipe(p), ==, 0);
    testConfig(&cfg);
    cfg.stallTimeoutMs = 200;
    g_assert_cmpint(vfmigEngineSave(src, &emuId, true, p[1], &cfg, 0, &sr), ==, -1);
    testAssertError("source", "pre-copy", VFMIG_ERR_OPERATION_TIMEOUT, words);
    g_assert_cmpint(testState(src), ==, VFIO_DEVICE_STATE_RUNNING);
    after = testDigest(src);
    g_assert_cmpstr(after, ==, before);
    close(p[0]);
    close(p[1]);
}


static gint64 fakeNow;

/* both sides of a migration call it, from two threads */
static gint64
testFakeClock(void *opaque G_GNUC_UNUSED)
{
    return __atomic_add_fetch(&fakeNow, 1000, __ATOMIC_SEQ_CST);
}


/* The whole side's time limit, on a clock that runs 1 ms a call. */
static void
testTimeout(void)
{
    g_auto(testPair) p;
    const char *words[] = { "time limit of 20 ms", "running again", NULL };

    testPairInit(&p);
    p.cfg.clock = testFakeClock;
    p.cfg.timeoutMs = 20;
    p.cfg.bufferSize = 4096;
    testPairMigrateFails(&p, "source", "pre-copy",
                         VFMIG_ERR_OPERATION_TIMEOUT, words, false);
}


static gint cancelFlag;

static void
testSigint(int sig G_GNUC_UNUSED)
{
    g_atomic_int_set(&cancelFlag, 1);
}


/* SIGINT during pre-copy, through a handler that sets the cancel flag,
 * as virt-vfmig does. */
static void
testCancelProgress(const vfmigEngineProgress *p, void *opaque G_GNUC_UNUSED)
{
    if (p->side == VFMIG_ENGINE_SIDE_SOURCE &&
        p->phase == VFMIG_ENGINE_PHASE_PRE_COPY)
        raise(SIGINT);
}


static void
testCancel(void)
{
    g_auto(testPair) p;
    struct sigaction sa = { 0 };
    struct sigaction old;
    const char *words[] = { "cancelled", "running again", NULL };

    sa.sa_handler = testSigint;
    g_assert_cmpint(sigaction(SIGINT, &sa, &old), ==, 0);
    g_atomic_int_set(&cancelFlag, 0);

    testPairInit(&p);
    p.cfg.cancel = &cancelFlag;
    p.cfg.bufferSize = 4096;
    p.cfg.progress = testCancelProgress;
    testPairMigrateFails(&p, "source", "pre-copy",
                         VFMIG_ERR_OPERATION_ABORTED, words, false);
    g_assert_cmpint(sigaction(SIGINT, &old, NULL), ==, 0);
}


/* A device dirtying faster than the engine can move: the policy gives up
 * (abort policy), or switches anyway and says by how much it overshoots.
 * In the device's own time: on the machine's, a fast enough machine
 * would have moved the whole state within the target. */
static void
testNotConverging(void)
{
    g_auto(testPair) p;
    const char *words[] = { "gave up", "running again with its state", NULL };

    /* the source dirties itself all along: its digest cannot stay */
    testPairInitBusy(&p, 64ULL << 30);
    p.cfg.policy.target_us = 1000;
    p.cfg.policy.min_samples = VFMIG_DOWNTIME_MIN_SAMPLES_LOWEST;
    p.cfg.policy.deadline_us = 300 * 1000;
    testPairMigrateFails(&p, "source", "pre-copy",
                         VFMIG_ERR_OPERATION_FAILED, words, true);
    g_assert_true(p.sr.haveDecision);
    g_assert_cmpint(p.sr.decision.decision, ==, VFMIG_DOWNTIME_GIVE_UP);
    g_assert_cmpint(p.sr.decision.reason, ==, VFMIG_DOWNTIME_REASON_NOT_CONVERGING);
    g_assert_cmpuint(p.sr.nevents, >=, 2);
    g_assert_cmpint(p.sr.events[0].decision, ==, VFMIG_DOWNTIME_CONTINUE);

    /* switch anyway: it completes, with the overshoot in the report */
    p.cfg.policy.on_failure = VFMIG_DOWNTIME_ON_FAILURE_SWITCH;
    g_assert_cmpint(vfmigEngineMigrate(p.src, &emuId, p.dst, &emuId, &p.cfg,
                                       VFMIG_ENGINE_LEAVE_STOPPED,
                                       &p.sr, &p.dr), ==, 0);
    g_assert_cmpint(p.sr.decision.decision, ==, VFMIG_DOWNTIME_SWITCH_ANYWAY);
    g_assert_cmpint(p.sr.decision.reason, ==, VFMIG_DOWNTIME_REASON_NOT_CONVERGING);
    g_assert_cmpuint(p.sr.decision.overshoot_us, >, 0);
    g_assert_cmpstr(p.sr.digest, ==, p.dr.digest);
    g_assert_cmpint(testState(p.dst), ==, VFIO_DEVICE_STATE_RUNNING);
}


/* A device that is not RUNNING is not saved, and is left as it is. */
static void
testSourceNotRunning(void)
{
    g_autoptr(vfmigDevice) src = testDevice("src", 1, 0, 0);
    vfmigEngineConfig cfg;
    vfmigEngineReport sr;
    const char *words[] = { "must be RUNNING", NULL };
    int fd = testTmpFile();

    testConfig(&cfg);
    g_assert_cmpint(vfmigDeviceSetState(src, VFIO_DEVICE_STATE_STOP), ==, 0);
    g_assert_cmpint(vfmigEngineSave(src, &emuId, true, fd, &cfg, 0, &sr), ==, -1);
    testAssertError("source", "setup", VFMIG_ERR_OPERATION_INVALID, words);
    g_assert_cmpint(testState(src), ==, VFIO_DEVICE_STATE_STOP);
    close(fd);
}


int
main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/engine/save-load-file", testSaveLoadFile);
    g_test_add_func("/engine/migrate", testMigrate);
    g_test_add_func("/engine/single-mode", testSingleMode);
    g_test_add_func("/engine/multi-file-onto-single", testMultiFileOntoSingle);
    g_test_add_func("/engine/no-precopy-device", testNoPrecopyDevice);
    g_test_add_func("/engine/round-trip", testRoundTrip);
    for (i = 0; i < G_N_ELEMENTS(faultCases); i++) {
        g_autofree char *path = g_strdup_printf("/engine/fault/%s",
                                                faultCases[i].name);

        g_test_add_data_func(path, &faultCases[i], testFault);
    }
    g_test_add_func("/engine/corrupt-file", testCorruptFile);
    g_test_add_func("/engine/foreign-file", testForeignFile);
    g_test_add_func("/engine/stall", testStall);
    g_test_add_func("/engine/timeout", testTimeout);
    g_test_add_func("/engine/cancel-sigint", testCancel);
    g_test_add_func("/engine/not-converging", testNotConverging);
    g_test_add_func("/engine/source-not-running", testSourceNotRunning);

    return g_test_run();
}
