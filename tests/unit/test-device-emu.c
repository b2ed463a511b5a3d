/*
 * test-device-emu.c: the emulated migration device, through the generic
 * vfmigDevice API, with a fake clock
 *
 * Two devices, a source and a destination, migrate with and without
 * pre-copy, with dirtying, with short reads and writes and with every
 * fault the emulation can inject.  The expected sizes come from the
 * stream format documented in vfmigdeviceemu.c and the expected paths
 * from the uAPI text, not from the implementation.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <string.h>

#include <glib.h>

#include "vfmigdevice.h"
#include "vfmigdeviceemu.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"

enum {
    ERROR_ = VFIO_DEVICE_STATE_ERROR,
    STOP = VFIO_DEVICE_STATE_STOP,
    RUNNING = VFIO_DEVICE_STATE_RUNNING,
    STOP_COPY = VFIO_DEVICE_STATE_STOP_COPY,
    RESUMING = VFIO_DEVICE_STATE_RESUMING,
    RUNNING_P2P = VFIO_DEVICE_STATE_RUNNING_P2P,
    PRE_COPY = VFIO_DEVICE_STATE_PRE_COPY,
    PRE_COPY_P2P = VFIO_DEVICE_STATE_PRE_COPY_P2P,
};

#define F_SC VFIO_MIGRATION_STOP_COPY
#define F_P2P VFIO_MIGRATION_P2P
#define F_PRE VFIO_MIGRATION_PRE_COPY
#define F_ALL (F_SC | F_P2P | F_PRE)

#define SRC "emu-src"
#define DST "emu-dst"

/* 16 full pages and a short one of 1000 bytes */
#define STATE_SIZE (16 * 4096 + 1000)
#define PAGE_SIZE 4096
#define NPAGES 17

/* The stream format: 8-byte record headers, a 24-byte HEADER payload,
 * 8 + page bytes per PAGE, 64 bytes of END payload. */
#define HEADER_REC 32
#define PAGE_OVERHEAD 16
#define END_REC 72
#define FULL_REC(page) (PAGE_OVERHEAD + PAGE_SIZE)
#define SHORT_REC (PAGE_OVERHEAD + 1000)

static uint64_t
initialLen(uint64_t stateSize, uint64_t pageSize)
{
    uint64_t npages = (stateSize + pageSize - 1) / pageSize;

    return HEADER_REC + npages * PAGE_OVERHEAD + stateSize;
}


static uint64_t
fullLen(uint64_t stateSize, uint64_t pageSize)
{
    return initialLen(stateSize, pageSize) + END_REC;
}


typedef struct {
    gint64 now;
} FakeClock;

static gint64
fakeClockNow(void *opaque)
{
    return ((FakeClock *) opaque)->now;
}


static void
configFor(vfmigEmuConfig *cfg, FakeClock *clk, uint64_t flags, uint64_t seed)
{
    vfmigEmuConfigInit(cfg);
    cfg->flags = flags;
    cfg->stateSize = STATE_SIZE;
    cfg->pageSize = PAGE_SIZE;
    cfg->seed = seed;
    cfg->clock = fakeClockNow;
    cfg->clockOpaque = clk;
}


static vfmigDevice *
newDev(const char *name, const vfmigEmuConfig *cfg)
{
    vfmigDevice *dev = vfmigEmuDeviceNew(name, cfg);

    if (!dev)
        g_error("cannot create %s: %s", name, vfmigGetLastErrorMessage());
    return dev;
}


static uint32_t
getState(vfmigDevice *dev)
{
    uint32_t state = 0xdead;

    g_assert_cmpint(vfmigDeviceGetState(dev, &state), ==, 0);
    return state;
}


static void
setState(vfmigDevice *dev, uint32_t state)
{
    if (vfmigDeviceSetState(dev, state) < 0)
        g_error("%s -> %s: %s", vfmigDeviceGetName(dev),
                vfmig_fsm_state_name(state), vfmigGetLastErrorMessage());
    g_assert_cmpuint(getState(dev), ==, state);
}


static void
assertError(int code, const char *name)
{
    const char *msg = vfmigGetLastErrorMessage();

    if (vfmigGetLastErrorCode() != code)
        g_error("error code %d (%s), expected %d", vfmigGetLastErrorCode(),
                msg ? msg : "no message", code);
    g_assert_nonnull(msg);
    if (name && !strstr(msg, name))
        g_error("message '%s' does not name '%s'", msg, name);
}


static void
assertRefuses(int rc, int code, const char *name)
{
    g_assert_cmpint(rc, ==, -1);
    assertError(code, name);
    vfmigResetLastError();
}


static char *
digestOf(vfmigDevice *dev)
{
    char *digest = vfmigEmuDeviceDigest(dev);

    g_assert_nonnull(digest);
    g_assert_cmpuint(strlen(digest), ==, 64);
    return digest;
}


static char *
zeroDigest(size_t size)
{
    g_autofree guint8 *zeros = g_malloc0(size);

    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, zeros, size);
}


/* Reads until a read returns 0, which must come with @want. */
static uint64_t
readTo(vfmigDevice *dev, GByteArray *out, size_t chunk, vfmigDataStatus want)
{
    g_autofree guint8 *buf = g_malloc(chunk);
    uint64_t total = 0;

    for (;;) {
        vfmigDataStatus st = 42;
        ssize_t n = vfmigDeviceRead(dev, buf, chunk, &st);

        if (n < 0)
            g_error("read: %s", vfmigGetLastErrorMessage());
        if (n == 0) {
            g_assert_cmpint(st, ==, want);
            return total;
        }
        g_assert_cmpint(st, ==, VFMIG_DATA_OK);
        g_assert_cmpint(n, <=, (ssize_t) chunk);
        if (out)
            g_byte_array_append(out, buf, n);
        total += n;
    }
}


/* Exactly @len bytes, or fewer if the stream pauses or ends. */
static uint64_t
readSome(vfmigDevice *dev, GByteArray *out, size_t len)
{
    g_autofree guint8 *buf = g_malloc(len);
    uint64_t total = 0;

    while (total < len) {
        vfmigDataStatus st;
        ssize_t n = vfmigDeviceRead(dev, buf, len - total, &st);

        g_assert_cmpint(n, >=, 0);
        if (n == 0)
            break;
        if (out)
            g_byte_array_append(out, buf, n);
        total += n;
    }
    return total;
}


static void
assertReadStatus(vfmigDevice *dev, vfmigDataStatus want)
{
    guint8 buf[64];
    vfmigDataStatus st = 42;

    g_assert_cmpint(vfmigDeviceRead(dev, buf, sizeof(buf), &st), ==, 0);
    g_assert_cmpint(st, ==, want);
}


/* From any non-saving state, a STOP_COPY-only save to the end. */
static uint64_t
saveStopCopy(vfmigDevice *src, GByteArray *stream)
{
    uint64_t expect = 0;
    uint64_t got;

    g_assert_cmpint(vfmigDeviceStopCopySize(src, &expect), ==, 1);
    setState(src, STOP_COPY);
    got = readTo(src, stream, 65536, VFMIG_DATA_END);
    g_assert_cmpuint(got, ==, expect);
    assertReadStatus(src, VFMIG_DATA_END);
    return got;
}


/* Writes @stream in @chunk pieces into @dst, RUNNING -> RESUMING.
 * Returns -1 when a write failed (the error is left). */
static int
writeStream(vfmigDevice *dst, const guint8 *data, size_t len, size_t chunk)
{
    size_t off;

    setState(dst, RESUMING);
    for (off = 0; off < len; off += chunk) {
        if (vfmigDeviceWriteAll(dst, data + off, MIN(chunk, len - off)) < 0)
            return -1;
    }
    return 0;
}


static void
loadOK(vfmigDevice *dst, const GByteArray *stream, size_t chunk)
{
    if (writeStream(dst, stream->data, stream->len, chunk) < 0)
        g_error("write: %s", vfmigGetLastErrorMessage());
    setState(dst, STOP);
}


/*
 * The destination must refuse @data: a write fails with DATA_CORRUPT, or
 * RESUMING -> STOP fails with @code.  Either way the destination ends in
 * ERROR, naming itself, and is reset for the next try.
 */
static void
loadRefused(vfmigDevice *dst, const guint8 *data, size_t len, int code)
{
    if (writeStream(dst, data, len, 4000) < 0) {
        assertError(VFMIG_ERR_DATA_CORRUPT, DST);
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "byte"));
        g_assert_cmpuint(getState(dst), ==, RESUMING);
        code = VFMIG_ERR_DATA_CORRUPT;
    }
    vfmigResetLastError();
    assertRefuses(vfmigDeviceSetState(dst, STOP), code, DST);
    g_assert_cmpuint(getState(dst), ==, ERROR_);
    g_assert_cmpint(vfmigDeviceReset(dst), ==, 0);
    g_assert_cmpuint(getState(dst), ==, RUNNING);
}


static void
assertArcs(vfmigDevice *dev, const uint32_t *path, size_t len)
{
    const GArray *log = vfmigEmuDeviceArcLog(dev);
    size_t i;

    g_assert_nonnull(log);
    if (log->len != len - 1) {
        GString *s = g_string_new(NULL);

        for (i = 0; i < log->len; i++) {
            const vfmigEmuArc *a = &g_array_index(log, vfmigEmuArc, i);

            g_string_append_printf(s, " %s->%s", vfmig_fsm_state_name(a->from),
                                   vfmig_fsm_state_name(a->to));
        }
        g_error("%u arcs (%s), expected %zu", log->len, s->str, len - 1);
    }
    for (i = 0; i + 1 < len; i++) {
        const vfmigEmuArc *a = &g_array_index(log, vfmigEmuArc, i);

        g_assert_cmpstr(vfmig_fsm_state_name(a->from), ==,
                        vfmig_fsm_state_name(path[i]));
        g_assert_cmpstr(vfmig_fsm_state_name(a->to), ==,
                        vfmig_fsm_state_name(path[i + 1]));
    }
    vfmigEmuDeviceClearArcLog(dev);
}

#define ASSERT_ARCS(dev, ...) \
    do { \
        static const uint32_t path_[] = { __VA_ARGS__ }; \
        assertArcs(dev, path_, G_N_ELEMENTS(path_)); \
    } while (0)


/* ------------------------------------------------------------------ */

static void
testConfigDefaults(void)
{
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) dev = NULL;
    uint64_t flags = 0, size = 0;

    memset(&cfg, 0xa5, sizeof(cfg));
    vfmigEmuConfigInit(&cfg);
    g_assert_cmpuint(cfg.flags, ==, F_ALL);
    g_assert_cmpuint(cfg.stateSize, ==, 1024 * 1024);
    g_assert_cmpuint(cfg.pageSize, ==, 4096);
    g_assert_cmpuint(cfg.dirtyRate, ==, 0);
    g_assert_cmpuint(cfg.maxIO, ==, 0);
    g_assert_cmpuint(cfg.seed, ==, 1);
    g_assert_null(cfg.clock);
    g_assert_null(cfg.clockOpaque);
    g_assert_cmpuint(cfg.ioRate, ==, 0);

    dev = newDev("emu-default", &cfg);
    g_assert_cmpstr(dev->ops->kind, ==, "emulated");
    g_assert_cmpint(vfmigDeviceGetFlags(dev, &flags), ==, 0);
    g_assert_cmpuint(flags, ==, F_ALL);
    g_assert_cmpuint(getState(dev), ==, RUNNING);
    g_assert_cmpint(vfmigDeviceStopCopySize(dev, &size), ==, 1);
    g_assert_cmpuint(size, ==, fullLen(1024 * 1024, 4096));
    g_assert_cmpuint(vfmigEmuDeviceArcLog(dev)->len, ==, 0);
}


static void
testConfigInvalid(void)
{
    static const struct {
        uint64_t flags;
        uint64_t stateSize;
        uint64_t pageSize;
        uint64_t dirtyRate;
        const char *needle;
    } cases[] = {
        { F_ALL, 0, 4096, 0, "state size" },
        { F_ALL, (1ULL << 30) + 1, 4096, 0, "state size" },
        { F_ALL, 4096, 0, 0, "page size" },
        { F_ALL, 4096, (64ULL << 20) + 1, 0, "page size" },
        { F_P2P, 4096, 4096, 0, "flags" },
        { F_PRE | F_P2P, 4096, 4096, 0, "flags" },
        { F_SC | (1ULL << 7), 4096, 4096, 0, "flags" },
        { F_ALL, 4096, 4096, (1ULL << 41), "dirty rate" },
    };
    vfmigEmuConfig cfg;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        vfmigEmuConfigInit(&cfg);
        cfg.flags = cases[i].flags;
        cfg.stateSize = cases[i].stateSize;
        cfg.pageSize = cases[i].pageSize;
        cfg.dirtyRate = cases[i].dirtyRate;
        vfmigResetLastError();
        g_assert_null(vfmigEmuDeviceNew("emu-bad", &cfg));
        assertError(VFMIG_ERR_INVALID_ARG, "emu-bad");
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), cases[i].needle));
    }

    /* a time of its own: at most 1 TiB/s, and then no clock */
    vfmigEmuConfigInit(&cfg);
    cfg.ioRate = (1ULL << 40) + 1;
    g_assert_null(vfmigEmuDeviceNew("emu-bad", &cfg));
    assertError(VFMIG_ERR_INVALID_ARG, "emu-bad");
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "I/O rate"));
    cfg.ioRate = 1000;
    cfg.clock = fakeClockNow;
    g_assert_null(vfmigEmuDeviceNew("emu-bad", &cfg));
    assertError(VFMIG_ERR_INVALID_ARG, "emu-bad");
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "clock"));

    vfmigEmuConfigInit(&cfg);
    vfmigResetLastError();
    g_assert_null(vfmigEmuDeviceNew(NULL, &cfg));
    assertError(VFMIG_ERR_INVALID_ARG, NULL);
    g_assert_null(vfmigEmuDeviceNew("", &cfg));
    assertError(VFMIG_ERR_INVALID_ARG, NULL);
    g_assert_null(vfmigEmuDeviceNew("emu-nocfg", NULL));
    assertError(VFMIG_ERR_INVALID_ARG, "emu-nocfg");
    vfmigResetLastError();
}


/* A state smaller than a page is one short page, and migrates. */
static void
testTinyState(void)
{
    FakeClock clk = { 1 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) src = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *want = NULL;
    g_autofree char *got = NULL;

    configFor(&cfg, &clk, F_ALL, 7);
    cfg.stateSize = 100;
    src = newDev(SRC, &cfg);
    cfg.seed = 8;
    dst = newDev(DST, &cfg);

    g_assert_cmpuint(saveStopCopy(src, stream), ==, HEADER_REC + 16 + 100 + END_REC);
    want = digestOf(src);
    loadOK(dst, stream, 7);
    got = digestOf(dst);
    g_assert_cmpstr(got, ==, want);
}


static void
testNoMigration(void)
{
    FakeClock clk = { 1 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) dev = NULL;
    g_autofree char *d0 = NULL;
    g_autofree char *d1 = NULL;
    uint64_t flags, size;
    guint8 buf[16];
    vfmigDataStatus st;

    configFor(&cfg, &clk, 0, 1);
    dev = newDev("emu-plain", &cfg);

    assertRefuses(vfmigDeviceGetFlags(dev, &flags),
                  VFMIG_ERR_OPERATION_UNSUPPORTED, "emu-plain");
    assertRefuses(vfmigDeviceSetState(dev, STOP),
                  VFMIG_ERR_OPERATION_UNSUPPORTED, "emu-plain");
    assertRefuses(vfmigDeviceStopCopySize(dev, &size),
                  VFMIG_ERR_OPERATION_UNSUPPORTED, "emu-plain");
    assertRefuses(vfmigDeviceRead(dev, buf, sizeof(buf), &st),
                  VFMIG_ERR_OPERATION_INVALID, "emu-plain");
    g_assert_cmpuint(getState(dev), ==, RUNNING);
    g_assert_cmpuint(vfmigEmuDeviceArcLog(dev)->len, ==, 0);

    /* it is still a device that runs */
    d0 = digestOf(dev);
    g_assert_cmpint(vfmigEmuDeviceMutate(dev, 0, 1), ==, 0);
    d1 = digestOf(dev);
    g_assert_cmpstr(d0, !=, d1);
}


/* The same seed and the same time give the same state, however the time
 * is sliced; the fractions of bytes and pages carry over. */
static void
testDeterminism(void)
{
    FakeClock ca = { 1000 }, cb = { 1000 }, cc = { 1000 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) a = NULL;
    g_autoptr(vfmigDevice) b = NULL;
    g_autoptr(vfmigDevice) c = NULL;
    g_autofree char *a0 = NULL;
    g_autofree char *b0 = NULL;
    g_autofree char *c0 = NULL;
    g_autofree char *a1 = NULL;
    g_autofree char *b1 = NULL;
    g_autofree char *c1 = NULL;
    int i;

    configFor(&cfg, &ca, F_ALL, 42);
    cfg.dirtyRate = 10 * PAGE_SIZE;
    a = newDev("emu-a", &cfg);
    cfg.clockOpaque = &cb;
    b = newDev("emu-b", &cfg);
    cfg.clockOpaque = &cc;
    cfg.seed = 43;
    c = newDev("emu-c", &cfg);

    a0 = digestOf(a);
    b0 = digestOf(b);
    c0 = digestOf(c);
    g_assert_cmpstr(a0, ==, b0);
    g_assert_cmpstr(a0, !=, c0);

    /* one second at once against a thousand slices of a millisecond,
     * each evaluated */
    ca.now += G_USEC_PER_SEC;
    a1 = digestOf(a);
    for (i = 0; i < 1000; i++) {
        g_autofree char *tmp = NULL;

        cb.now += 1000;
        tmp = digestOf(b);
    }
    b1 = digestOf(b);
    g_assert_cmpstr(a1, !=, a0);
    g_assert_cmpstr(a1, ==, b1);

    /* one page per second: nothing for 999 ms, then a page */
    g_assert_cmpint(vfmigEmuDeviceSetDirtyRate(c, PAGE_SIZE), ==, 0);
    for (i = 0; i < 999; i++) {
        g_autofree char *tmp = NULL;

        cc.now += 1000;
        tmp = digestOf(c);
        g_assert_cmpstr(tmp, ==, c0);
    }
    cc.now += 1000;
    c1 = digestOf(c);
    g_assert_cmpstr(c1, !=, c0);
}


/* Only a running device changes; time spent stopped does not count. */
static void
testDirtyOnlyWhileRunning(void)
{
    static const uint32_t quiet[] = { STOP, STOP_COPY };
    FakeClock clk = { 1000 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) dev = NULL;
    size_t i;

    configFor(&cfg, &clk, F_ALL, 3);
    cfg.dirtyRate = 100 * PAGE_SIZE;
    dev = newDev("emu-quiet", &cfg);

    for (i = 0; i < G_N_ELEMENTS(quiet); i++) {
        g_autofree char *d0 = NULL;
        g_autofree char *d1 = NULL;
        g_autofree char *d2 = NULL;
        g_autofree char *d3 = NULL;

        setState(dev, quiet[i]);
        d0 = digestOf(dev);
        clk.now += 10 * G_USEC_PER_SEC;
        d1 = digestOf(dev);
        g_assert_cmpstr(d0, ==, d1);
        g_assert_cmpint(vfmigEmuDeviceMutate(dev, 0, 1), ==, -1);
        assertError(VFMIG_ERR_OPERATION_INVALID, "emu-quiet");

        /* no backlog from the stopped time */
        setState(dev, RUNNING);
        d2 = digestOf(dev);
        g_assert_cmpstr(d2, ==, d0);
        clk.now += G_USEC_PER_SEC / 10;
        d3 = digestOf(dev);
        g_assert_cmpstr(d3, !=, d0);
    }
    vfmigResetLastError();
}


/*
 * The full pre-copy migration: initial image, dirty pages as the clock
 * runs, the temporary end, STOP_COPY, the permanent end, and a
 * destination whose state ends up identical.
 */
static void
testMigratePrecopy(void)
{
    FakeClock clk = { 1000 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) src = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *srcDigest = NULL;
    g_autofree char *dstDigest = NULL;
    g_autofree char *after = NULL;
    uint64_t initial, dirty, prevInitial, size, got;
    bool sawDirty = false;
    int round;

    configFor(&cfg, &clk, F_ALL, 1);
    cfg.dirtyRate = 8 * PAGE_SIZE;
    src = newDev(SRC, &cfg);
    cfg.seed = 2;
    dst = newDev(DST, &cfg);

    srcDigest = digestOf(src);
    dstDigest = digestOf(dst);
    g_assert_cmpstr(srcDigest, !=, dstDigest);
    g_clear_pointer(&srcDigest, g_free);
    g_clear_pointer(&dstDigest, g_free);

    setState(src, PRE_COPY);
    ASSERT_ARCS(src, RUNNING, PRE_COPY);
    g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
    g_assert_cmpuint(initial, ==, initialLen(STATE_SIZE, PAGE_SIZE));
    g_assert_cmpuint(dirty, ==, 0);
    g_assert_cmpint(vfmigDeviceWaitData(src, 0), ==, 1);

    /* the initial image, with the device running */
    prevInitial = initial;
    while (prevInitial > 0) {
        uint64_t n = readSome(src, stream, 5000);

        /* the dirty pages follow the initial image at once */
        g_assert_cmpuint(n, >=, MIN(5000, prevInitial));
        g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
        g_assert_cmpuint(prevInitial - initial, ==, MIN(n, prevInitial));
        sawDirty |= dirty > 0;
        prevInitial = initial;
        clk.now += G_USEC_PER_SEC / 10;
    }
    g_assert_true(sawDirty);

    /* the dirty pages, then the temporary end, three rounds */
    for (round = 0; round < 3; round++) {
        g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
        g_assert_cmpuint(initial, ==, 0);
        g_assert_cmpuint(dirty, >, 0);
        /* at most 8 pages per second of which one may be the short one */
        g_assert_cmpuint(dirty, <=, 8 * FULL_REC(0) + (round ? 0 : 8 * FULL_REC(0)));
        g_assert_cmpint(vfmigDeviceWaitData(src, 0), ==, 1);
        got = readTo(src, stream, 3000, VFMIG_DATA_AGAIN);
        g_assert_cmpuint(got, ==, dirty);

        g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
        g_assert_cmpuint(initial, ==, 0);
        g_assert_cmpuint(dirty, ==, 0);
        assertReadStatus(src, VFMIG_DATA_AGAIN);
        g_assert_cmpint(vfmigDeviceWaitData(src, 0), ==, 0);
        g_assert_cmpint(vfmigDeviceWaitData(src, 200), ==, 0);
        g_assert_cmpint(vfmigDeviceStopCopySize(src, &size), ==, 1);
        g_assert_cmpuint(size, ==, END_REC);

        clk.now += G_USEC_PER_SEC;
    }

    /* some pages are dirty again: STOP_COPY streams them and END */
    g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
    g_assert_cmpuint(dirty, >, 0);
    g_assert_cmpint(vfmigDeviceStopCopySize(src, &size), ==, 1);
    g_assert_cmpuint(size, ==, dirty + END_REC);

    setState(src, STOP_COPY);
    ASSERT_ARCS(src, PRE_COPY, PRE_COPY_P2P, STOP_COPY);
    g_assert_cmpint(vfmigDeviceStopCopySize(src, &size), ==, 1);
    g_assert_cmpuint(size, ==, dirty + END_REC);
    srcDigest = digestOf(src);
    clk.now += 10 * G_USEC_PER_SEC;
    got = readTo(src, stream, 1024, VFMIG_DATA_END);
    g_assert_cmpuint(got, ==, size);
    assertReadStatus(src, VFMIG_DATA_END);
    g_assert_cmpint(vfmigDeviceWaitData(src, 0), ==, 1);
    g_assert_cmpint(vfmigDeviceStopCopySize(src, &size), ==, 1);
    g_assert_cmpuint(size, ==, 0);
    after = digestOf(src);
    g_assert_cmpstr(after, ==, srcDigest);

    /* pages were sent more than once */
    g_assert_cmpuint(stream->len, >, fullLen(STATE_SIZE, PAGE_SIZE) + 3 * PAGE_SIZE);

    loadOK(dst, stream, 7777);
    ASSERT_ARCS(dst, RUNNING, RUNNING_P2P, STOP, RESUMING, STOP);
    dstDigest = digestOf(dst);
    g_assert_cmpstr(dstDigest, ==, srcDigest);
    setState(dst, RUNNING);
    ASSERT_ARCS(dst, STOP, RUNNING_P2P, RUNNING);

    /* the source leaves the saving group: no session any more */
    setState(src, RUNNING);
    ASSERT_ARCS(src, STOP_COPY, STOP, RUNNING_P2P, RUNNING);
    {
        guint8 buf[8];
        vfmigDataStatus st;

        assertRefuses(vfmigDeviceRead(src, buf, sizeof(buf), &st),
                      VFMIG_ERR_OPERATION_INVALID, SRC);
    }
}


static void
testMigrateStopCopyOnly(void)
{
    FakeClock clk = { 1000 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) src = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *srcDigest = NULL;
    g_autofree char *dstDigest = NULL;
    g_autofree char *before = NULL;

    configFor(&cfg, &clk, F_SC, 11);
    cfg.dirtyRate = 50 * PAGE_SIZE;
    src = newDev(SRC, &cfg);
    cfg.seed = 12;
    dst = newDev(DST, &cfg);

    before = digestOf(dst);
    clk.now += G_USEC_PER_SEC;

    assertRefuses(vfmigDeviceSetState(src, PRE_COPY),
                  VFMIG_ERR_OPERATION_UNSUPPORTED, SRC);
    g_assert_cmpuint(getState(src), ==, RUNNING);

    g_assert_cmpuint(saveStopCopy(src, stream), ==,
                     fullLen(STATE_SIZE, PAGE_SIZE));
    ASSERT_ARCS(src, RUNNING, STOP, STOP_COPY);
    srcDigest = digestOf(src);
    g_assert_cmpstr(srcDigest, !=, before);

    loadOK(dst, stream, 65536);
    ASSERT_ARCS(dst, RUNNING, STOP, RESUMING, STOP);
    dstDigest = digestOf(dst);
    g_assert_cmpstr(dstDigest, ==, srcDigest);
}


/* Combination transitions, one arc at a time, along the uAPI's paths. */
static void
testArcs(void)
{
    FakeClock clk = { 1 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) all = NULL;
    g_autoptr(vfmigDevice) nop2p = NULL;
    g_autoptr(vfmigDevice) p2p = NULL;
    g_autoptr(vfmigDevice) plain = NULL;

    configFor(&cfg, &clk, F_ALL, 1);
    all = newDev("emu-all", &cfg);
    cfg.flags = F_SC | F_PRE;
    nop2p = newDev("emu-nop2p", &cfg);
    cfg.flags = F_SC | F_P2P;
    p2p = newDev("emu-p2p", &cfg);
    cfg.flags = F_SC;
    plain = newDev("emu-sc", &cfg);

    setState(all, STOP_COPY);
    ASSERT_ARCS(all, RUNNING, RUNNING_P2P, STOP, STOP_COPY);
    setState(all, RUNNING);
    ASSERT_ARCS(all, STOP_COPY, STOP, RUNNING_P2P, RUNNING);
    setState(all, PRE_COPY_P2P);
    ASSERT_ARCS(all, RUNNING, RUNNING_P2P, PRE_COPY_P2P);
    setState(all, PRE_COPY);
    ASSERT_ARCS(all, PRE_COPY_P2P, PRE_COPY);
    setState(all, RUNNING_P2P);
    ASSERT_ARCS(all, PRE_COPY, RUNNING, RUNNING_P2P);
    setState(all, PRE_COPY);
    ASSERT_ARCS(all, RUNNING_P2P, RUNNING, PRE_COPY);
    setState(all, STOP_COPY);
    ASSERT_ARCS(all, PRE_COPY, PRE_COPY_P2P, STOP_COPY);
    setState(all, RESUMING);
    ASSERT_ARCS(all, STOP_COPY, STOP, RESUMING);
    g_assert_cmpint(vfmigDeviceReset(all), ==, 0);
    g_assert_cmpuint(getState(all), ==, RUNNING);
    g_assert_cmpuint(vfmigEmuDeviceArcLog(all)->len, ==, 0);
    setState(all, RESUMING);
    ASSERT_ARCS(all, RUNNING, RUNNING_P2P, STOP, RESUMING);

    setState(nop2p, STOP_COPY);
    ASSERT_ARCS(nop2p, RUNNING, STOP, STOP_COPY);
    setState(nop2p, RUNNING);
    ASSERT_ARCS(nop2p, STOP_COPY, STOP, RUNNING);
    setState(nop2p, PRE_COPY);
    ASSERT_ARCS(nop2p, RUNNING, PRE_COPY);
    setState(nop2p, STOP_COPY);
    ASSERT_ARCS(nop2p, PRE_COPY, STOP_COPY);
    setState(nop2p, STOP);
    ASSERT_ARCS(nop2p, STOP_COPY, STOP);

    setState(p2p, STOP_COPY);
    ASSERT_ARCS(p2p, RUNNING, RUNNING_P2P, STOP, STOP_COPY);

    setState(plain, RESUMING);
    ASSERT_ARCS(plain, RUNNING, STOP, RESUMING);

    /* a session opened by the first arc survives inside the group: the
     * stream read across PRE_COPY, PRE_COPY_P2P, STOP_COPY is one */
    {
        g_autoptr(vfmigDevice) dst = NULL;
        g_autoptr(GByteArray) stream = g_byte_array_new();
        g_autofree char *want = NULL;
        g_autofree char *got = NULL;

        g_assert_cmpint(vfmigDeviceReset(all), ==, 0);
        g_assert_cmpint(vfmigEmuDeviceMutate(all, 0, STATE_SIZE), ==, 0);
        setState(all, PRE_COPY);
        g_assert_cmpuint(readSome(all, stream, 100), ==, 100);
        setState(all, PRE_COPY_P2P);
        g_assert_cmpuint(readSome(all, stream, 5000), ==, 5000);
        setState(all, STOP_COPY);
        readTo(all, stream, 4096, VFMIG_DATA_END);
        g_assert_cmpuint(stream->len, ==, fullLen(STATE_SIZE, PAGE_SIZE));
        want = digestOf(all);

        cfg.flags = F_ALL;
        cfg.seed = 99;
        dst = newDev(DST, &cfg);
        loadOK(dst, stream, 333);
        got = digestOf(dst);
        g_assert_cmpstr(got, ==, want);
    }
}


static void
testStopCopySize(void)
{
    FakeClock clk = { 1000 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) src = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *want = NULL;
    g_autofree char *got = NULL;
    uint64_t full = fullLen(STATE_SIZE, PAGE_SIZE);
    uint64_t size, initial, dirty;

    configFor(&cfg, &clk, F_ALL, 5);
    src = newDev(SRC, &cfg);
    cfg.seed = 6;
    dst = newDev(DST, &cfg);

    g_assert_cmpint(vfmigDeviceStopCopySize(src, &size), ==, 1);
    g_assert_cmpuint(size, ==, full);

    setState(src, PRE_COPY);
    g_assert_cmpint(vfmigDeviceStopCopySize(src, &size), ==, 1);
    g_assert_cmpuint(size, ==, full);
    g_assert_cmpuint(readSome(src, stream, 12345), ==, 12345);
    g_assert_cmpint(vfmigDeviceStopCopySize(src, &size), ==, 1);
    g_assert_cmpuint(size, ==, full - 12345);

    /* page 0 was sent: it goes again; page 10 was not: no change */
    g_assert_cmpint(vfmigEmuDeviceMutate(src, 10, 1), ==, 0);
    g_assert_cmpint(vfmigEmuDeviceMutate(src, 10 * PAGE_SIZE, 1), ==, 0);
    g_assert_cmpint(vfmigDeviceStopCopySize(src, &size), ==, 1);
    g_assert_cmpuint(size, ==, full - 12345 + FULL_REC(0));
    g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
    g_assert_cmpuint(initial + dirty + END_REC, ==, size);
    g_assert_cmpuint(dirty, ==, FULL_REC(0));

    setState(src, STOP_COPY);
    g_assert_cmpuint(readTo(src, stream, 10000, VFMIG_DATA_END), ==, size);
    g_assert_cmpint(vfmigDeviceStopCopySize(src, &size), ==, 1);
    g_assert_cmpuint(size, ==, 0);
    want = digestOf(src);

    /* out of the group, it is a whole image again */
    setState(src, STOP);
    g_assert_cmpint(vfmigDeviceStopCopySize(src, &size), ==, 1);
    g_assert_cmpuint(size, ==, full);

    loadOK(dst, stream, 1 << 20);
    got = digestOf(dst);
    g_assert_cmpstr(got, ==, want);
}


/* maxIO splits every read and write; the loader takes any split. */
static void
testSplitIO(void)
{
    FakeClock clk = { 1000 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) src = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(vfmigDevice) dst2 = NULL;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autoptr(GRand) rand = g_rand_new_with_seed(1234);
    g_autofree guint8 *buf = g_malloc(65536);
    g_autofree char *want = NULL;
    g_autofree char *got = NULL;
    uint64_t full = fullLen(STATE_SIZE, PAGE_SIZE);
    uint64_t initial, dirty;
    size_t off;
    ssize_t n;
    vfmigDataStatus st;

    configFor(&cfg, &clk, F_ALL, 21);
    cfg.maxIO = 1000;
    cfg.dirtyRate = 2 * PAGE_SIZE;
    src = newDev(SRC, &cfg);
    cfg.seed = 22;
    dst = newDev(DST, &cfg);
    cfg.maxIO = 0;
    cfg.seed = 23;
    dst2 = newDev("emu-dst2", &cfg);

    setState(src, PRE_COPY);
    for (;;) {
        n = vfmigDeviceRead(src, buf, 65536, &st);
        g_assert_cmpint(n, >=, 0);
        if (n == 0)
            break;
        g_assert_cmpint(n, <=, 1000);
        g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
        /* short only at the temporary end */
        if (n < 1000)
            g_assert_cmpuint(initial + dirty, ==, 0);
        g_byte_array_append(stream, buf, n);
        clk.now += G_USEC_PER_SEC / 20;
    }
    g_assert_cmpint(st, ==, VFMIG_DATA_AGAIN);
    g_assert_cmpuint(stream->len, >, full - END_REC);
    setState(src, STOP_COPY);
    while ((n = vfmigDeviceRead(src, buf, 65536, &st)) > 0) {
        g_assert_cmpint(n, <=, 1000);
        g_byte_array_append(stream, buf, n);
    }
    g_assert_cmpint(n, ==, 0);
    g_assert_cmpint(st, ==, VFMIG_DATA_END);
    want = digestOf(src);

    /* the device's write() is short; WriteAll carries on */
    setState(dst, RESUMING);
    g_assert_cmpint(dst->ops->write(dst, stream->data, 4096), ==, 1000);
    g_assert_cmpint(vfmigDeviceWriteAll(dst, stream->data + 1000,
                                        stream->len - 1000), ==, 0);
    setState(dst, STOP);
    got = digestOf(dst);
    g_assert_cmpstr(got, ==, want);
    g_clear_pointer(&got, g_free);

    /* byte by byte for a while, then random splits of 1..80 bytes */
    setState(dst2, RESUMING);
    for (off = 0; off < 300; off++)
        g_assert_cmpint(vfmigDeviceWriteAll(dst2, stream->data + off, 1), ==, 0);
    while (off < stream->len) {
        size_t len = MIN((size_t) g_rand_int_range(rand, 1, 81),
                         stream->len - off);

        g_assert_cmpint(vfmigDeviceWriteAll(dst2, stream->data + off, len), ==, 0);
        off += len;
    }
    setState(dst2, STOP);
    got = digestOf(dst2);
    g_assert_cmpstr(got, ==, want);
}


/* Mutations mark exactly the pages already sent, including the one whose
 * record is being read, and the destination gets the final bytes. */
static void
testMutate(void)
{
    FakeClock clk = { 1000 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) src = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *d0 = NULL;
    g_autofree char *d1 = NULL;
    g_autofree char *want = NULL;
    g_autofree char *got = NULL;
    uint64_t initial, dirty;

    configFor(&cfg, &clk, F_ALL, 31);
    src = newDev(SRC, &cfg);
    cfg.seed = 32;
    dst = newDev(DST, &cfg);

    assertRefuses(vfmigEmuDeviceMutate(src, STATE_SIZE - 10, 11),
                  VFMIG_ERR_INVALID_ARG, SRC);
    assertRefuses(vfmigEmuDeviceMutate(src, G_MAXUINT64, 1),
                  VFMIG_ERR_INVALID_ARG, SRC);
    d0 = digestOf(src);
    g_assert_cmpint(vfmigEmuDeviceMutate(src, STATE_SIZE - 10, 10), ==, 0);
    d1 = digestOf(src);
    g_assert_cmpstr(d0, !=, d1);

    setState(src, PRE_COPY);
    /* header, page 0, and 100 bytes into page 1's record */
    g_assert_cmpuint(readSome(src, stream, HEADER_REC + FULL_REC(0) + 100), ==,
                     HEADER_REC + FULL_REC(0) + 100);
    g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
    g_assert_cmpuint(dirty, ==, 0);

    g_assert_cmpint(vfmigEmuDeviceMutate(src, PAGE_SIZE + 4000, 1), ==, 0);
    g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
    g_assert_cmpuint(dirty, ==, FULL_REC(1));
    g_assert_cmpint(vfmigEmuDeviceMutate(src, 5 * PAGE_SIZE, 2 * PAGE_SIZE), ==, 0);
    g_assert_cmpint(vfmigEmuDeviceMutate(src, 16 * PAGE_SIZE, 1000), ==, 0);
    g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
    g_assert_cmpuint(dirty, ==, FULL_REC(1));
    g_assert_cmpint(vfmigEmuDeviceMutate(src, PAGE_SIZE - 5, 10), ==, 0);
    g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
    g_assert_cmpuint(dirty, ==, 2 * FULL_REC(0));
    g_assert_cmpuint(initial, ==, initialLen(STATE_SIZE, PAGE_SIZE) -
                     (HEADER_REC + FULL_REC(0) + 100));

    g_assert_cmpuint(readSome(src, stream, initial), ==, initial);
    g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
    g_assert_cmpuint(initial, ==, 0);
    g_assert_cmpuint(dirty, ==, 2 * FULL_REC(0));
    g_assert_cmpuint(readTo(src, stream, 999, VFMIG_DATA_AGAIN), ==, 2 * FULL_REC(0));

    g_assert_cmpint(vfmigEmuDeviceMutate(src, STATE_SIZE - 1, 1), ==, 0);
    g_assert_cmpint(vfmigDevicePrecopyInfo(src, &initial, &dirty), ==, 0);
    g_assert_cmpuint(dirty, ==, SHORT_REC);

    setState(src, STOP_COPY);
    g_assert_cmpuint(readTo(src, stream, 999, VFMIG_DATA_END), ==,
                     SHORT_REC + END_REC);
    want = digestOf(src);
    loadOK(dst, stream, 4096);
    got = digestOf(dst);
    g_assert_cmpstr(got, ==, want);
}


static void
testWaitData(void)
{
    FakeClock clk = { 1000 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) dev = NULL;
    g_autoptr(vfmigDevice) real = NULL;
    gint64 t0;

    configFor(&cfg, &clk, F_ALL, 41);
    cfg.dirtyRate = PAGE_SIZE;
    dev = newDev("emu-wait", &cfg);

    assertRefuses(vfmigDeviceWaitData(dev, 0), VFMIG_ERR_OPERATION_INVALID,
                  "emu-wait");
    setState(dev, PRE_COPY);
    g_assert_cmpint(vfmigDeviceWaitData(dev, 0), ==, 1);
    readTo(dev, NULL, 65536, VFMIG_DATA_AGAIN);

    /* a fake clock: no data, and no sleeping */
    t0 = g_get_monotonic_time();
    g_assert_cmpint(vfmigDeviceWaitData(dev, 0), ==, 0);
    g_assert_cmpint(vfmigDeviceWaitData(dev, 5000), ==, 0);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
    clk.now += G_USEC_PER_SEC / 2;
    g_assert_cmpint(vfmigDeviceWaitData(dev, 0), ==, 0);
    clk.now += G_USEC_PER_SEC / 2;
    g_assert_cmpint(vfmigDeviceWaitData(dev, 0), ==, 1);

    setState(dev, STOP_COPY);
    g_assert_cmpint(vfmigDeviceWaitData(dev, 0), ==, 1);
    readTo(dev, NULL, 65536, VFMIG_DATA_END);
    g_assert_cmpint(vfmigDeviceWaitData(dev, 0), ==, 1);

    /* the real clock: waits out the timeout, or sees pages dirtied
     * while it waits */
    vfmigEmuConfigInit(&cfg);
    cfg.stateSize = STATE_SIZE;
    real = newDev("emu-real", &cfg);
    setState(real, PRE_COPY);
    readTo(real, NULL, 65536, VFMIG_DATA_AGAIN);
    t0 = g_get_monotonic_time();
    g_assert_cmpint(vfmigDeviceWaitData(real, 50), ==, 0);
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, 45 * 1000);
    g_assert_cmpint(vfmigEmuDeviceSetDirtyRate(real, 100 * PAGE_SIZE), ==, 0);
    g_assert_cmpint(vfmigDeviceWaitData(real, 10 * 1000), ==, 1);
    g_assert_cmpuint(readTo(real, NULL, 65536, VFMIG_DATA_AGAIN), >, 0);
}


/*
 * A device with a time of its own (ioRate): it moves only as the device
 * works, by the bytes read and written at ioRate, by a wait and by the
 * switchover delays, which are spent, not slept; the device dirties in
 * that time, so by the bytes it moves, however fast the machine is.
 */
static void
testOwnTime(void)
{
    FakeClock clk = { 1234 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) dev = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(vfmigDevice) fake = NULL;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *d0 = NULL;
    g_autofree char *d1 = NULL;
    g_autofree char *d2 = NULL;
    g_autofree char *want = NULL;
    g_autofree char *got = NULL;
    gint64 t0;
    gint64 wall;
    uint64_t n;

    vfmigEmuConfigInit(&cfg);
    cfg.stateSize = STATE_SIZE;
    cfg.pageSize = PAGE_SIZE;
    cfg.seed = 51;
    cfg.ioRate = 1000 * 1000;               /* a byte a microsecond */
    cfg.dirtyRate = 1000 * 1000 / 4;        /* a byte every 4 moved */
    cfg.stopDelayUs = 2 * G_USEC_PER_SEC;
    cfg.resumeDelayUs = 3 * G_USEC_PER_SEC;
    dev = newDev("emu-own", &cfg);
    wall = g_get_monotonic_time();

    /* nothing moves the device's time but the device */
    t0 = vfmigEmuDeviceClock(dev);
    g_assert_cmpint(t0, >, 0);
    d0 = digestOf(dev);
    g_usleep(20 * 1000);
    d1 = digestOf(dev);
    g_assert_cmpstr(d1, ==, d0);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), ==, t0);

    /* 16383 bytes read: 16383 us, 4095.75 bytes dirtied, no page yet;
     * one more byte makes the page */
    setState(dev, PRE_COPY);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), ==, t0);
    g_assert_cmpuint(readSome(dev, NULL, 16383), ==, 16383);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), ==, t0 + 16383);
    g_clear_pointer(&d1, g_free);
    d1 = digestOf(dev);
    g_assert_cmpstr(d1, ==, d0);
    g_assert_cmpuint(readSome(dev, NULL, 1), ==, 1);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), ==, t0 + 16384);
    d2 = digestOf(dev);
    g_assert_cmpstr(d2, !=, d0);

    /* a wait moves it to the next dirtied page, or to the timeout */
    n = readTo(dev, NULL, 65536, VFMIG_DATA_AGAIN);
    t0 = vfmigEmuDeviceClock(dev);
    g_assert_cmpint(t0, >=, G_USEC_PER_SEC + 16384 + (gint64) n);
    g_assert_cmpint(vfmigDeviceWaitData(dev, 0), ==, 0);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), ==, t0);
    g_assert_cmpint(vfmigDeviceWaitData(dev, 5000), ==, 1);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), >, t0);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), <=, t0 + 16384 + 10 * 1000);
    readTo(dev, NULL, 65536, VFMIG_DATA_AGAIN);
    g_assert_cmpint(vfmigEmuDeviceSetDirtyRate(dev, 0), ==, 0);
    t0 = vfmigEmuDeviceClock(dev);
    g_assert_cmpint(vfmigDeviceWaitData(dev, 2000), ==, 0);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), ==, t0 + 2 * G_USEC_PER_SEC);
    g_assert_cmpint(vfmigDeviceWaitData(dev, -1), ==, 0);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), ==, t0 + 2 * G_USEC_PER_SEC);

    /* the stop delay is spent, then the stop-copy data's bytes */
    t0 = vfmigEmuDeviceClock(dev);
    setState(dev, STOP_COPY);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), ==, t0 + 2 * G_USEC_PER_SEC);
    n = readTo(dev, stream, 65536, VFMIG_DATA_END);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), ==, t0 + 2 * G_USEC_PER_SEC + (gint64) n);
    want = digestOf(dev);
    t0 = vfmigEmuDeviceClock(dev);
    setState(dev, RUNNING);
    g_assert_cmpint(vfmigEmuDeviceClock(dev), ==, t0 + 3 * G_USEC_PER_SEC);
    /* 7 s of waits and delays, none of them slept */
    g_assert_cmpint(g_get_monotonic_time() - wall, <, 7 * G_USEC_PER_SEC);

    /* writes take their time too: a stop-copy-only stream, loaded */
    g_byte_array_set_size(stream, 0);
    g_clear_pointer(&want, g_free);
    cfg.seed = 52;
    cfg.dirtyRate = 0;
    cfg.stopDelayUs = 0;
    cfg.resumeDelayUs = 0;
    dst = newDev(DST, &cfg);
    setState(dev, STOP);
    saveStopCopy(dev, stream);
    want = digestOf(dev);
    t0 = vfmigEmuDeviceClock(dst);
    loadOK(dst, stream, 4000);
    g_assert_cmpint(vfmigEmuDeviceClock(dst), ==, t0 + (gint64) stream->len);
    got = digestOf(dst);
    g_assert_cmpstr(got, ==, want);

    /* without a time of its own, the device's clock is the one given */
    configFor(&cfg, &clk, F_ALL, 53);
    fake = newDev("emu-fake", &cfg);
    g_assert_cmpint(vfmigEmuDeviceClock(fake), ==, 1234);
    clk.now += 99;
    g_assert_cmpint(vfmigEmuDeviceClock(fake), ==, 1333);
}


static void
testInvalidRequests(void)
{
    static const vfmigDeviceOps otherOps = { .kind = "other" };
    FakeClock clk = { 1 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) dev = NULL;
    g_autoptr(vfmigDevice) sc = NULL;
    g_autoptr(vfmigDevice) other = NULL;
    vfmigEmuFault fault = { .type = VFMIG_EMU_FAULT_ARC_FAIL };
    uint64_t initial, dirty;
    guint8 buf[16] = { 0 };
    vfmigDataStatus st;

    configFor(&cfg, &clk, F_ALL, 51);
    dev = newDev("emu-inval", &cfg);
    cfg.flags = F_SC;
    sc = newDev("emu-sconly", &cfg);

    assertRefuses(vfmigDeviceSetState(sc, PRE_COPY),
                  VFMIG_ERR_OPERATION_UNSUPPORTED, "emu-sconly");
    assertRefuses(vfmigDeviceSetState(sc, RUNNING_P2P),
                  VFMIG_ERR_OPERATION_UNSUPPORTED, "emu-sconly");
    g_assert_cmpuint(getState(sc), ==, RUNNING);
    g_assert_cmpuint(vfmigEmuDeviceArcLog(sc)->len, ==, 0);

    assertRefuses(vfmigDeviceRead(dev, buf, sizeof(buf), &st),
                  VFMIG_ERR_OPERATION_INVALID, "emu-inval");
    assertRefuses(vfmigDeviceWriteAll(dev, buf, sizeof(buf)),
                  VFMIG_ERR_OPERATION_INVALID, "emu-inval");
    assertRefuses(vfmigDevicePrecopyInfo(dev, &initial, &dirty),
                  VFMIG_ERR_OPERATION_INVALID, "emu-inval");
    assertRefuses(vfmigDeviceSetState(dev, ERROR_),
                  VFMIG_ERR_INVALID_ARG, "emu-inval");

    setState(dev, STOP_COPY);
    vfmigEmuDeviceClearArcLog(dev);
    assertRefuses(vfmigDeviceSetState(dev, PRE_COPY),
                  VFMIG_ERR_OPERATION_INVALID, "emu-inval");
    assertRefuses(vfmigDeviceSetState(dev, PRE_COPY_P2P),
                  VFMIG_ERR_OPERATION_INVALID, "emu-inval");
    assertRefuses(vfmigDevicePrecopyInfo(dev, &initial, &dirty),
                  VFMIG_ERR_OPERATION_INVALID, "emu-inval");
    assertRefuses(vfmigDeviceWriteAll(dev, buf, sizeof(buf)),
                  VFMIG_ERR_OPERATION_INVALID, "emu-inval");
    g_assert_cmpuint(getState(dev), ==, STOP_COPY);
    g_assert_cmpuint(vfmigEmuDeviceArcLog(dev)->len, ==, 0);

    /* faults on arcs the device does not have */
    fault.from = RUNNING;
    fault.to = STOP_COPY;
    assertRefuses(vfmigEmuDeviceInjectFault(dev, &fault),
                  VFMIG_ERR_INVALID_ARG, "emu-inval");
    fault.from = RUNNING;
    fault.to = RUNNING_P2P;
    assertRefuses(vfmigEmuDeviceInjectFault(sc, &fault),
                  VFMIG_ERR_INVALID_ARG, "emu-sconly");
    fault.type = VFMIG_EMU_FAULT_LAST;
    assertRefuses(vfmigEmuDeviceInjectFault(dev, &fault),
                  VFMIG_ERR_INVALID_ARG, "emu-inval");

    /* the helpers refuse a device that is not emulated */
    other = vfmigDeviceNew(&otherOps, "not-emu", NULL);
    g_assert_null(vfmigEmuDeviceDigest(other));
    assertError(VFMIG_ERR_INVALID_ARG, "not-emu");
    g_assert_null(vfmigEmuDeviceArcLog(other));
    assertRefuses(vfmigEmuDeviceMutate(other, 0, 1),
                  VFMIG_ERR_INVALID_ARG, "not-emu");
}


/* A reset device runs, has lost its state and its sessions. */
static void
testReset(void)
{
    FakeClock clk = { 1 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) dev = NULL;
    g_autofree char *zero = zeroDigest(STATE_SIZE);
    g_autofree char *d0 = NULL;
    g_autofree char *d1 = NULL;
    guint8 buf[16];
    vfmigDataStatus st;

    configFor(&cfg, &clk, F_ALL, 61);
    dev = newDev("emu-reset", &cfg);
    d0 = digestOf(dev);
    g_assert_cmpstr(d0, !=, zero);

    setState(dev, PRE_COPY);
    g_assert_cmpuint(readSome(dev, NULL, 100), ==, 100);
    g_assert_cmpint(vfmigDeviceReset(dev), ==, 0);
    g_assert_cmpuint(getState(dev), ==, RUNNING);
    d1 = digestOf(dev);
    g_assert_cmpstr(d1, ==, zero);
    assertRefuses(vfmigDeviceRead(dev, buf, sizeof(buf), &st),
                  VFMIG_ERR_OPERATION_INVALID, "emu-reset");

    /* a new session starts at byte 0 with the new state */
    setState(dev, STOP_COPY);
    g_assert_cmpuint(readTo(dev, NULL, 4096, VFMIG_DATA_END), ==,
                     fullLen(STATE_SIZE, PAGE_SIZE));
}


/* Streams from an incompatible or confused source. */
static void
testLoadMismatch(void)
{
    FakeClock clk = { 1 };
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) src = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(vfmigDevice) small = NULL;
    g_autoptr(vfmigDevice) pages2k = NULL;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autoptr(GByteArray) bad = NULL;
    g_autofree char *want = NULL;
    g_autofree char *got = NULL;
    static const guint8 extra = 0;

    configFor(&cfg, &clk, F_ALL, 71);
    src = newDev(SRC, &cfg);
    cfg.seed = 72;
    dst = newDev(DST, &cfg);
    cfg.stateSize = STATE_SIZE - 1;
    small = newDev("emu-small", &cfg);
    cfg.stateSize = STATE_SIZE;
    cfg.pageSize = 2048;
    pages2k = newDev("emu-2k", &cfg);

    saveStopCopy(src, stream);
    want = digestOf(src);

    g_assert_cmpint(writeStream(small, stream->data, stream->len, 100), ==, -1);
    assertError(VFMIG_ERR_DATA_CORRUPT, "emu-small");
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "state size"));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "byte 24"));
    /* the stream stays refused */
    assertRefuses(vfmigDeviceWriteAll(small, stream->data + 100, 10),
                  VFMIG_ERR_DATA_CORRUPT, "emu-small");
    assertRefuses(vfmigDeviceSetState(small, STOP),
                  VFMIG_ERR_DATA_CORRUPT, "emu-small");
    g_assert_cmpuint(getState(small), ==, ERROR_);

    g_assert_cmpint(writeStream(pages2k, stream->data, stream->len, 100), ==, -1);
    assertError(VFMIG_ERR_DATA_CORRUPT, "emu-2k");
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "page size"));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "byte 20"));
    vfmigResetLastError();

    /* version 2 */
    bad = g_byte_array_new();
    g_byte_array_append(bad, stream->data, stream->len);
    bad->data[16] = 2;
    g_assert_cmpint(writeStream(dst, bad->data, bad->len, 100), ==, -1);
    assertError(VFMIG_ERR_DATA_CORRUPT, DST);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "version 2"));
    g_assert_cmpint(vfmigDeviceReset(dst), ==, 0);

    /* no header first */
    g_assert_cmpint(writeStream(dst, stream->data + HEADER_REC,
                                stream->len - HEADER_REC, 100), ==, -1);
    assertError(VFMIG_ERR_DATA_CORRUPT, DST);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "header"));
    g_assert_cmpint(vfmigDeviceReset(dst), ==, 0);

    /* two headers */
    g_assert_cmpint(writeStream(dst, stream->data, HEADER_REC, 100), ==, 0);
    assertRefuses(vfmigDeviceWriteAll(dst, stream->data, stream->len),
                  VFMIG_ERR_DATA_CORRUPT, DST);
    g_assert_cmpint(vfmigDeviceReset(dst), ==, 0);

    /* nothing at all */
    loadRefused(dst, stream->data, 0, VFMIG_ERR_DATA_CORRUPT);

    /* a byte after END */
    g_assert_cmpint(writeStream(dst, stream->data, stream->len, 65536), ==, 0);
    assertRefuses(vfmigDeviceWriteAll(dst, &extra, 1),
                  VFMIG_ERR_DATA_CORRUPT, DST);
    g_assert_cmpint(vfmigDeviceReset(dst), ==, 0);

    /* and the genuine stream, twice into the same device */
    loadOK(dst, stream, 5000);
    got = digestOf(dst);
    g_assert_cmpstr(got, ==, want);
    g_clear_pointer(&got, g_free);
    assertRefuses(vfmigEmuDeviceMutate(dst, 0, 4),
                  VFMIG_ERR_OPERATION_INVALID, DST);
    setState(dst, RUNNING);
    g_assert_cmpint(vfmigEmuDeviceMutate(dst, 0, 4), ==, 0);
    loadOK(dst, stream, 5001);
    got = digestOf(dst);
    g_assert_cmpstr(got, ==, want);
}


/* ------------------------------------------------------------------ */
/* Faults */

static void
inject(vfmigDevice *dev, vfmigEmuFaultType type, uint32_t from, uint32_t to,
       uint64_t offset, uint8_t mask, bool sticky)
{
    vfmigEmuFault fault = {
        .type = type, .from = from, .to = to, .offset = offset,
        .mask = mask, .sticky = sticky,
    };

    if (vfmigEmuDeviceInjectFault(dev, &fault) < 0)
        g_error("inject: %s", vfmigGetLastErrorMessage());
}


typedef struct {
    FakeClock clk;
    vfmigDevice *src;
    vfmigDevice *dst;
    char *srcDigest;    /* the source's state, untouched by faults */
} Pair;

static void
pairInit(Pair *p, uint64_t stateSize, uint64_t pageSize, uint64_t rate)
{
    vfmigEmuConfig cfg;

    memset(p, 0, sizeof(*p));
    p->clk.now = 1000;
    configFor(&cfg, &p->clk, F_ALL, 81);
    cfg.stateSize = stateSize;
    cfg.pageSize = pageSize;
    cfg.dirtyRate = rate;
    p->src = newDev(SRC, &cfg);
    cfg.seed = 82;
    cfg.dirtyRate = 0;
    p->dst = newDev(DST, &cfg);
    p->srcDigest = digestOf(p->src);
}


static void
pairClear(Pair *p)
{
    vfmigDeviceFree(p->src);
    vfmigDeviceFree(p->dst);
    g_free(p->srcDigest);
}


/* The source goes back to RUNNING with the state it had. */
static void
pairSourceIntact(Pair *p)
{
    g_autofree char *now = NULL;

    setState(p->src, RUNNING);
    now = digestOf(p->src);
    g_assert_cmpstr(now, ==, p->srcDigest);
    vfmigEmuDeviceClearArcLog(p->src);
}


static void
testFaultArcFail(void)
{
    Pair p;
    g_autoptr(GByteArray) stream = g_byte_array_new();

    pairInit(&p, STATE_SIZE, PAGE_SIZE, 16 * PAGE_SIZE);

    inject(p.src, VFMIG_EMU_FAULT_ARC_FAIL, STOP, STOP_COPY, 0, 0, false);
    assertRefuses(vfmigDeviceSetState(p.src, STOP_COPY),
                  VFMIG_ERR_OPERATION_FAILED, SRC);
    g_assert_cmpuint(getState(p.src), ==, STOP);
    ASSERT_ARCS(p.src, RUNNING, RUNNING_P2P, STOP);
    pairSourceIntact(&p);

    /* one-shot: it works now */
    g_assert_cmpuint(saveStopCopy(p.src, stream), ==, fullLen(STATE_SIZE, PAGE_SIZE));
    pairSourceIntact(&p);

    /* sticky: until cleared */
    inject(p.src, VFMIG_EMU_FAULT_ARC_FAIL, PRE_COPY_P2P, STOP_COPY, 0, 0, true);
    setState(p.src, PRE_COPY);
    g_assert_cmpuint(readSome(p.src, NULL, 1000), ==, 1000);
    assertRefuses(vfmigDeviceSetState(p.src, STOP_COPY),
                  VFMIG_ERR_OPERATION_FAILED, SRC);
    g_assert_cmpuint(getState(p.src), ==, PRE_COPY_P2P);
    assertRefuses(vfmigDeviceSetState(p.src, STOP_COPY),
                  VFMIG_ERR_OPERATION_FAILED, SRC);
    g_assert_cmpuint(getState(p.src), ==, PRE_COPY_P2P);
    /* the session survived the failed arc */
    g_assert_cmpuint(readSome(p.src, NULL, 1000), ==, 1000);
    pairSourceIntact(&p);
    vfmigEmuDeviceClearFaults(p.src);
    setState(p.src, STOP_COPY);
    pairSourceIntact(&p);

    /* on the destination: the arc into RESUMING */
    inject(p.dst, VFMIG_EMU_FAULT_ARC_FAIL, STOP, RESUMING, 0, 0, false);
    assertRefuses(vfmigDeviceSetState(p.dst, RESUMING),
                  VFMIG_ERR_OPERATION_FAILED, DST);
    g_assert_cmpuint(getState(p.dst), ==, STOP);

    pairClear(&p);
}


static void
testFaultArcError(void)
{
    Pair p;
    g_autofree char *zero = zeroDigest(STATE_SIZE);
    g_autofree char *d = NULL;
    guint8 buf[16];
    vfmigDataStatus st;

    pairInit(&p, STATE_SIZE, PAGE_SIZE, 0);

    inject(p.src, VFMIG_EMU_FAULT_ARC_ERROR, PRE_COPY_P2P, STOP_COPY, 0, 0, false);
    setState(p.src, PRE_COPY);
    g_assert_cmpuint(readSome(p.src, NULL, 1000), ==, 1000);
    assertRefuses(vfmigDeviceSetState(p.src, STOP_COPY),
                  VFMIG_ERR_OPERATION_FAILED, SRC);
    g_assert_cmpuint(getState(p.src), ==, ERROR_);
    assertRefuses(vfmigDeviceSetState(p.src, RUNNING),
                  VFMIG_ERR_DEVICE_ERROR, SRC);
    assertRefuses(vfmigDeviceRead(p.src, buf, sizeof(buf), &st),
                  VFMIG_ERR_OPERATION_INVALID, SRC);

    g_assert_cmpint(vfmigDeviceReset(p.src), ==, 0);
    g_assert_cmpuint(getState(p.src), ==, RUNNING);
    d = digestOf(p.src);
    g_assert_cmpstr(d, ==, zero);

    /* one-shot: the next attempt goes through */
    vfmigEmuDeviceClearArcLog(p.src);
    setState(p.src, PRE_COPY);
    setState(p.src, STOP_COPY);
    ASSERT_ARCS(p.src, RUNNING, PRE_COPY, PRE_COPY_P2P, STOP_COPY);

    pairClear(&p);
}


/* Cuts the source's STOP_COPY stream at @n: the destination refuses it. */
static void
truncateAt(Pair *p, uint64_t n, bool checkSource)
{
    g_autoptr(GByteArray) stream = g_byte_array_new();
    uint64_t size;

    inject(p->src, VFMIG_EMU_FAULT_TRUNCATE, 0, 0, n, 0, false);
    g_assert_cmpint(vfmigDeviceStopCopySize(p->src, &size), ==, 1);
    g_assert_cmpuint(size, ==, n);
    setState(p->src, STOP_COPY);
    g_assert_cmpuint(readTo(p->src, stream, 3000, VFMIG_DATA_END), ==, n);
    assertReadStatus(p->src, VFMIG_DATA_END);
    g_assert_cmpint(vfmigDeviceWaitData(p->src, 0), ==, 1);

    loadRefused(p->dst, stream->data, stream->len, VFMIG_ERR_DATA_CORRUPT);
    if (checkSource)
        pairSourceIntact(p);
    else
        setState(p->src, RUNNING);
}


static void
testFaultTruncate(void)
{
    Pair p;
    uint64_t full = fullLen(STATE_SIZE, PAGE_SIZE);
    uint64_t cuts[] = { 0, 1, 7, 8, 31, 32, 33, 5000, full - END_REC,
                        full - END_REC + 8, full - 1 };
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *got = NULL;
    uint64_t initial, dirty, size;
    size_t i;

    pairInit(&p, STATE_SIZE, PAGE_SIZE, 0);

    for (i = 0; i < G_N_ELEMENTS(cuts); i++)
        truncateAt(&p, cuts[i], true);

    /* one-shot: the next stream is whole and loads */
    g_assert_cmpuint(saveStopCopy(p.src, stream), ==, full);
    loadOK(p.dst, stream, 4096);
    got = digestOf(p.dst);
    g_assert_cmpstr(got, ==, p.srcDigest);
    pairSourceIntact(&p);
    setState(p.dst, RUNNING);

    /* cut during pre-copy: the stream pauses and never resumes */
    inject(p.src, VFMIG_EMU_FAULT_TRUNCATE, 0, 0, 1000, 0, false);
    setState(p.src, PRE_COPY);
    g_assert_cmpint(vfmigDevicePrecopyInfo(p.src, &initial, &dirty), ==, 0);
    g_assert_cmpuint(initial, ==, 1000);
    g_assert_cmpuint(readTo(p.src, NULL, 300, VFMIG_DATA_AGAIN), ==, 1000);
    g_assert_cmpint(vfmigDevicePrecopyInfo(p.src, &initial, &dirty), ==, 0);
    g_assert_cmpuint(initial + dirty, ==, 0);
    g_assert_cmpint(vfmigDeviceWaitData(p.src, 0), ==, 0);
    setState(p.src, STOP_COPY);
    g_assert_cmpint(vfmigDeviceStopCopySize(p.src, &size), ==, 1);
    g_assert_cmpuint(size, ==, 0);
    assertReadStatus(p.src, VFMIG_DATA_END);
    pairSourceIntact(&p);

    pairClear(&p);

    /* every possible cut of a small device's stream is refused */
    pairInit(&p, 3000, 1024, 0);
    full = fullLen(3000, 1024);
    for (i = 0; i < full; i++)
        truncateAt(&p, i, false);
    pairSourceIntact(&p);
    pairClear(&p);
}


static void
testFaultReadEIO(void)
{
    Pair p;
    uint64_t full = fullLen(STATE_SIZE, PAGE_SIZE);
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *got = NULL;
    g_autofree guint8 *buf = g_malloc(8000);
    vfmigDataStatus st;
    const vfmigError *err;
    int i;

    pairInit(&p, STATE_SIZE, PAGE_SIZE, 0);

    inject(p.src, VFMIG_EMU_FAULT_READ_EIO, 0, 0, 5000, 0, false);
    setState(p.src, STOP_COPY);
    /* a short read up to the fault, then the error */
    g_assert_cmpint(vfmigDeviceRead(p.src, buf, 8000, &st), ==, 5000);
    g_assert_cmpint(st, ==, VFMIG_DATA_OK);
    g_byte_array_append(stream, buf, 5000);
    g_assert_cmpint(vfmigDeviceRead(p.src, buf, 8000, &st), ==, -1);
    err = vfmigGetLastError();
    g_assert_nonnull(err);
    g_assert_cmpint(err->code, ==, VFMIG_ERR_SYSTEM_ERROR);
    g_assert_cmpint(err->errnum, ==, EIO);
    g_assert_nonnull(strstr(err->message, SRC));
    g_assert_nonnull(strstr(err->message, "5000"));
    vfmigResetLastError();

    /* one-shot: the stream goes on where it stopped and is whole */
    readTo(p.src, stream, 4096, VFMIG_DATA_END);
    g_assert_cmpuint(stream->len, ==, full);
    loadOK(p.dst, stream, 65536);
    got = digestOf(p.dst);
    g_assert_cmpstr(got, ==, p.srcDigest);
    pairSourceIntact(&p);

    /* sticky: every read at the offset fails, in every session */
    inject(p.src, VFMIG_EMU_FAULT_READ_EIO, 0, 0, 100, 0, true);
    for (i = 0; i < 2; i++) {
        setState(p.src, STOP_COPY);
        g_assert_cmpint(vfmigDeviceRead(p.src, buf, 200, &st), ==, 100);
        assertRefuses(vfmigDeviceRead(p.src, buf, 200, &st),
                      VFMIG_ERR_SYSTEM_ERROR, SRC);
        assertRefuses(vfmigDeviceRead(p.src, buf, 200, &st),
                      VFMIG_ERR_SYSTEM_ERROR, SRC);
        pairSourceIntact(&p);
    }
    vfmigEmuDeviceClearFaults(p.src);
    setState(p.src, STOP_COPY);
    g_assert_cmpuint(readTo(p.src, NULL, 4096, VFMIG_DATA_END), ==, full);
    pairSourceIntact(&p);

    pairClear(&p);
}


static void
testFaultWriteEIO(void)
{
    Pair p;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *got = NULL;
    const vfmigError *err;

    pairInit(&p, STATE_SIZE, PAGE_SIZE, 0);
    saveStopCopy(p.src, stream);

    inject(p.dst, VFMIG_EMU_FAULT_WRITE_EIO, 0, 0, 7000, 0, false);
    setState(p.dst, RESUMING);
    g_assert_cmpint(vfmigDeviceWriteAll(p.dst, stream->data, stream->len), ==, -1);
    err = vfmigGetLastError();
    g_assert_cmpint(err->code, ==, VFMIG_ERR_SYSTEM_ERROR);
    g_assert_cmpint(err->errnum, ==, EIO);
    g_assert_nonnull(strstr(err->message, DST));
    vfmigResetLastError();
    g_assert_cmpuint(getState(p.dst), ==, RESUMING);

    /* exactly 7000 bytes went in: the rest completes the stream */
    g_assert_cmpint(vfmigDeviceWriteAll(p.dst, stream->data + 7000,
                                        stream->len - 7000), ==, 0);
    setState(p.dst, STOP);
    got = digestOf(p.dst);
    g_assert_cmpstr(got, ==, p.srcDigest);
    pairSourceIntact(&p);

    /* abandoning the load: a reset */
    setState(p.dst, RUNNING);
    inject(p.dst, VFMIG_EMU_FAULT_WRITE_EIO, 0, 0, 10, 0, true);
    g_assert_cmpint(writeStream(p.dst, stream->data, stream->len, 4), ==, -1);
    assertError(VFMIG_ERR_SYSTEM_ERROR, DST);
    assertRefuses(vfmigDeviceWriteAll(p.dst, stream->data + 8, 4),
                  VFMIG_ERR_SYSTEM_ERROR, DST);
    g_assert_cmpint(vfmigDeviceReset(p.dst), ==, 0);
    g_assert_cmpuint(getState(p.dst), ==, RUNNING);

    pairClear(&p);
}


/*
 * A pre-copy save with dirtying: initial image, a second of dirtying,
 * the dirty pages, STOP_COPY.  The same each time for the same Pair
 * setup, so a corrupted copy can be compared with a clean one.
 */
static void
savePrecopy(Pair *p, GByteArray *stream)
{
    setState(p->src, PRE_COPY);
    readTo(p->src, stream, 2000, VFMIG_DATA_AGAIN);
    p->clk.now += G_USEC_PER_SEC;
    readTo(p->src, stream, 2000, VFMIG_DATA_AGAIN);
    p->clk.now += G_USEC_PER_SEC;
    setState(p->src, STOP_COPY);
    readTo(p->src, stream, 2000, VFMIG_DATA_END);
}


/* Every corruption at @offset of the source's stream is caught. */
static void
corruptAt(Pair *p, bool precopy, const GByteArray *clean,
          uint64_t offset, uint8_t mask)
{
    g_autoptr(GByteArray) stream = g_byte_array_new();
    size_t i;

    inject(p->src, VFMIG_EMU_FAULT_CORRUPT, 0, 0, offset, mask, false);
    if (precopy)
        savePrecopy(p, stream);
    else
        saveStopCopy(p->src, stream);

    /* the stream is the clean one with that one byte flipped */
    g_assert_cmpuint(stream->len, ==, clean->len);
    for (i = 0; i < stream->len; i++) {
        guint8 want = clean->data[i];

        if (i == offset)
            want ^= mask ? mask : 0xff;
        if (stream->data[i] != want)
            g_error("byte %zu is 0x%02x, expected 0x%02x (corrupt at %llu)",
                    i, stream->data[i], want, (unsigned long long) offset);
    }

    loadRefused(p->dst, stream->data, stream->len, VFMIG_ERR_DATA_CORRUPT);
}


static void
testFaultCorrupt(void)
{
    Pair p;
    g_autoptr(GByteArray) clean = g_byte_array_new();
    g_autofree char *got = NULL;
    uint64_t full = fullLen(STATE_SIZE, PAGE_SIZE);
    const uint64_t page1 = HEADER_REC + FULL_REC(0);
    const uint64_t offsets[] = {
        0, 3, 4, 8, 15, 16, 20, 24, 31,             /* header record */
        HEADER_REC, HEADER_REC + 4,                 /* page 0 record header */
        HEADER_REC + 8, HEADER_REC + 15,            /* page 0 index */
        HEADER_REC + 16, HEADER_REC + 2000,         /* page 0 data */
        page1 + 8,                                  /* page 1 index: 1 -> 0 */
        full - END_REC - 1,                         /* last byte of the short page */
        full - END_REC, full - END_REC + 4,         /* END record header */
        full - END_REC + 8, full - END_REC + 39,    /* state digest */
        full - END_REC + 40, full - 1,              /* stream digest */
    };
    const uint8_t masks[] = { 0, 0x01, 0x80 };
    size_t i, j;

    pairInit(&p, STATE_SIZE, PAGE_SIZE, 0);

    saveStopCopy(p.src, clean);
    g_assert_cmpuint(clean->len, ==, full);
    pairSourceIntact(&p);

    for (i = 0; i < G_N_ELEMENTS(offsets); i++) {
        for (j = 0; j < G_N_ELEMENTS(masks); j++) {
            corruptAt(&p, false, clean, offsets[i], masks[j]);
            pairSourceIntact(&p);
        }
    }

    /* sticky: corrupt in every session until cleared */
    inject(p.src, VFMIG_EMU_FAULT_CORRUPT, 0, 0, 5000, 0x10, true);
    for (i = 0; i < 2; i++) {
        g_autoptr(GByteArray) stream = g_byte_array_new();

        saveStopCopy(p.src, stream);
        g_assert_cmpuint(stream->data[5000], ==, clean->data[5000] ^ 0x10);
        loadRefused(p.dst, stream->data, stream->len, VFMIG_ERR_DATA_CORRUPT);
        pairSourceIntact(&p);
    }
    vfmigEmuDeviceClearFaults(p.src);

    /* beyond the end: never fires, the stream is clean and loads */
    inject(p.src, VFMIG_EMU_FAULT_CORRUPT, 0, 0, full, 0, false);
    {
        g_autoptr(GByteArray) stream = g_byte_array_new();

        saveStopCopy(p.src, stream);
        g_assert_cmpmem(stream->data, stream->len, clean->data, clean->len);
        loadOK(p.dst, stream, 4096);
        got = digestOf(p.dst);
        g_assert_cmpstr(got, ==, p.srcDigest);
        pairSourceIntact(&p);
    }

    pairClear(&p);
}


/* Every byte of a small stream, both as a plain STOP_COPY stream and as
 * a pre-copy stream in which pages repeat, with a whole-byte and a
 * single-bit flip. */
static void
testFaultCorruptEverywhere(void)
{
    const uint8_t masks[] = { 0, 0x01 };
    size_t m;
    uint64_t i;

    for (m = 0; m < G_N_ELEMENTS(masks); m++) {
        Pair p;
        g_autoptr(GByteArray) clean = g_byte_array_new();

        pairInit(&p, 3000, 1024, 0);
        saveStopCopy(p.src, clean);
        g_assert_cmpuint(clean->len, ==, fullLen(3000, 1024));
        pairSourceIntact(&p);
        for (i = 0; i < clean->len; i++) {
            corruptAt(&p, false, clean, i, masks[m]);
            setState(p.src, RUNNING);
        }
        pairSourceIntact(&p);
        pairClear(&p);
    }

    for (m = 0; m < G_N_ELEMENTS(masks); m++) {
        Pair p;
        g_autoptr(GByteArray) clean = g_byte_array_new();
        g_autofree char *got = NULL;
        g_autofree char *want = NULL;

        /* a fresh source per try, so that the dirtying repeats */
        pairInit(&p, 3000, 1024, 2 * 1024);
        savePrecopy(&p, clean);
        want = digestOf(p.src);
        g_assert_cmpuint(clean->len, >, fullLen(3000, 1024));
        loadOK(p.dst, clean, 100);
        got = digestOf(p.dst);
        g_assert_cmpstr(got, ==, want);
        pairClear(&p);

        for (i = 0; i < clean->len; i++) {
            pairInit(&p, 3000, 1024, 2 * 1024);
            corruptAt(&p, true, clean, i, masks[m]);
            pairClear(&p);
        }
    }
}


static void
testFaultRefuseLoad(void)
{
    Pair p;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *got = NULL;

    pairInit(&p, STATE_SIZE, PAGE_SIZE, 0);
    saveStopCopy(p.src, stream);
    pairSourceIntact(&p);

    inject(p.dst, VFMIG_EMU_FAULT_REFUSE_LOAD, 0, 0, 0, 0, false);
    g_assert_cmpint(writeStream(p.dst, stream->data, stream->len, 4096), ==, 0);
    assertRefuses(vfmigDeviceSetState(p.dst, STOP),
                  VFMIG_ERR_OPERATION_FAILED, DST);
    g_assert_cmpuint(getState(p.dst), ==, ERROR_);
    /* the refused state was not applied */
    got = digestOf(p.dst);
    g_assert_cmpstr(got, !=, p.srcDigest);
    g_clear_pointer(&got, g_free);
    g_assert_cmpint(vfmigDeviceReset(p.dst), ==, 0);

    /* one-shot: the same stream now loads */
    loadOK(p.dst, stream, 4096);
    got = digestOf(p.dst);
    g_assert_cmpstr(got, ==, p.srcDigest);
    g_clear_pointer(&got, g_free);
    setState(p.dst, RUNNING);

    /* sticky */
    inject(p.dst, VFMIG_EMU_FAULT_REFUSE_LOAD, 0, 0, 0, 0, true);
    loadRefused(p.dst, stream->data, stream->len, VFMIG_ERR_OPERATION_FAILED);
    loadRefused(p.dst, stream->data, stream->len, VFMIG_ERR_OPERATION_FAILED);
    vfmigEmuDeviceClearFaults(p.dst);
    loadOK(p.dst, stream, 4096);

    pairClear(&p);
}


/* Whose MIG_DATA_SIZE is the whole state (mlx5), not the residue. */
static void
testStopCopyWholeState(void)
{
    g_assert_true(vfmigDriverStopCopyIsWholeState("mlx5_vfio_pci"));
    g_assert_true(vfmigDriverStopCopyIsWholeState("vfmig_mlx5model"));
    g_assert_false(vfmigDriverStopCopyIsWholeState("vfmig_testdev"));
    g_assert_false(vfmigDriverStopCopyIsWholeState("vfio-pci"));
    g_assert_false(vfmigDriverStopCopyIsWholeState("mlx5"));
    g_assert_false(vfmigDriverStopCopyIsWholeState(NULL));
}


/* The residue for a prediction: MIG_DATA_SIZE where the driver says
 * nothing of its own, none where that is the whole state. */
static void
testStopCopyResidue(void)
{
    vfmigEmuConfig cfg;
    g_autoptr(vfmigDevice) dev = NULL;
    uint64_t size = 0;
    uint64_t residue = 0;

    vfmigEmuConfigInit(&cfg);
    dev = newDev("emu-residue", &cfg);
    g_assert_cmpint(vfmigDeviceStopCopySize(dev, &size), ==, 1);
    g_assert_cmpint(vfmigDeviceStopCopyResidue(dev, &residue), ==, 1);
    g_assert_cmpuint(residue, ==, size);

    /* an emulated device has no estimate of its own: by the name */
    dev->driver = g_strdup("mlx5_vfio_pci");
    residue = 7;
    g_assert_cmpint(vfmigDeviceStopCopyResidue(dev, &residue), ==, 0);
    g_assert_cmpuint(residue, ==, 7);
}


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/device-emu/config/defaults", testConfigDefaults);
    g_test_add_func("/device-emu/config/invalid", testConfigInvalid);
    g_test_add_func("/device-emu/config/tiny-state", testTinyState);
    g_test_add_func("/device-emu/no-migration", testNoMigration);
    g_test_add_func("/device-emu/dirty/determinism", testDeterminism);
    g_test_add_func("/device-emu/dirty/only-while-running", testDirtyOnlyWhileRunning);
    g_test_add_func("/device-emu/migrate/precopy", testMigratePrecopy);
    g_test_add_func("/device-emu/migrate/stop-copy-only", testMigrateStopCopyOnly);
    g_test_add_func("/device-emu/arcs", testArcs);
    g_test_add_func("/device-emu/stop-copy-size", testStopCopySize);
    g_test_add_func("/device-emu/split-io", testSplitIO);
    g_test_add_func("/device-emu/mutate", testMutate);
    g_test_add_func("/device-emu/wait-data", testWaitData);
    g_test_add_func("/device-emu/own-time", testOwnTime);
    g_test_add_func("/device-emu/invalid-requests", testInvalidRequests);
    g_test_add_func("/device-emu/reset", testReset);
    g_test_add_func("/device-emu/load/mismatch", testLoadMismatch);
    g_test_add_func("/device-emu/fault/arc-fail", testFaultArcFail);
    g_test_add_func("/device-emu/fault/arc-error", testFaultArcError);
    g_test_add_func("/device-emu/fault/truncate", testFaultTruncate);
    g_test_add_func("/device-emu/fault/read-eio", testFaultReadEIO);
    g_test_add_func("/device-emu/fault/write-eio", testFaultWriteEIO);
    g_test_add_func("/device-emu/fault/corrupt", testFaultCorrupt);
    g_test_add_func("/device-emu/fault/corrupt-everywhere", testFaultCorruptEverywhere);
    g_test_add_func("/device-emu/fault/refuse-load", testFaultRefuseLoad);
    g_test_add_func("/device/stop-copy-whole-state", testStopCopyWholeState);
    g_test_add_func("/device/stop-copy-residue", testStopCopyResidue);

    return g_test_run();
}
