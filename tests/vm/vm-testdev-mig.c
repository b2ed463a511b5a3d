/*
 * vm-testdev-mig.c: migrations of device state between two vfmig_testdev
 * devices through vfmig's VFIO client
 *
 * Usage: vm-testdev-mig [--state-size BYTES] SOURCE DESTINATION
 *        vm-testdev-mig --plan
 *
 * SOURCE and DESTINATION are PCI addresses of two pci-testdevs bound to
 * vfmig_testdev and not open.  Three migrations:
 *
 *   precopy   pre-copy "on": RUNNING -> PRE_COPY, the initial image read
 *             in chunks while VFIO_MIG_GET_PRECOPY_INFO's initial_bytes
 *             falls to 0, AGAIN when caught up, pages dirtied (dirty_pages)
 *             raise dirty_bytes, the dirty image read, the device's own
 *             activity (dirty_rate) wakes poll(); MIG_DATA_SIZE equals what
 *             STOP_COPY then streams; sysfs shows what the ioctls return;
 *             the destination loads the stream (RESUMING -> STOP ->
 *             RUNNING) and shows the source's digest; the stop and resume
 *             latencies in sysfs cover the configured delays;
 *   single    pre-copy "single": PRE_COPY streams nothing, STOP_COPY the
 *             whole state as one image; the mode cannot change while
 *             saving;
 *   one-load  a destination with multi_load 0 refuses a multi-image
 *             stream with EINVAL and, after a reset, loads a single-image
 *             one.
 *
 * Prints TAP ("# precopy_bytes=..." lines for the record); exits 0 when
 * every check passed.  --plan prints the number of checks.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "vm-testlib.h"
#include "vfmigdevicevfio.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"

#define MIG_CHUNK 65536
#define MIG_PAGE 4096
#define MIG_DIRTY_PAGES 32
#define MIG_RESIDUE_PAGES 16
#define MIG_STOP_DELAY_US 20000
#define MIG_RESUME_DELAY_US 30000
#define MIG_RATE 409600     /* 100 pages/s */

#define MIG_CHECKS_PRECOPY 14
#define MIG_CHECKS_SINGLE 6
#define MIG_CHECKS_ONELOAD 5

typedef struct {
    vmTap tap;
    const char *src;
    const char *dst;
    uint64_t stateSize;
} migTest;


static vfmigDevice *
migOpen(const char *bdf)
{
    vfmigDevice *dev = vfmigDeviceVFIOOpen(bdf, NULL);
    uint64_t flags;

    if (dev && vfmigDeviceGetFlags(dev, &flags) < 0)
        g_clear_pointer(&dev, vfmigDeviceFree);
    return dev;
}


static char *
migDigest(const char *bdf)
{
    char *d = vmSysfsGet(bdf, "vfmig_testdev/digest");

    return d ? d : g_strdup("(unreadable)");
}


static char *
migSysfsStr(const char *bdf, const char *file)
{
    char *s = vmSysfsGet(bdf, file);

    return s ? s : g_strdup_printf("(unreadable: %s)", g_strerror(errno));
}


/* Precopy info from the ioctl and from sysfs; false on an ioctl error. */
static bool
migInfo(vfmigDevice *dev, const char *bdf,
        uint64_t *initial, uint64_t *dirty, bool *sysfsSame)
{
    uint64_t si = UINT64_MAX;
    uint64_t sd = UINT64_MAX;

    if (vfmigDevicePrecopyInfo(dev, initial, dirty) < 0)
        return false;
    if (sysfsSame) {
        *sysfsSame = vmSysfsGetU64(bdf, "vfio_migration/initial_bytes", &si) &&
                     vmSysfsGetU64(bdf, "vfio_migration/dirty_bytes", &sd) &&
                     si == *initial && sd == *dirty;
        if (!*sysfsSame)
            vmTapDiag("sysfs initial_bytes %llu dirty_bytes %llu, ioctl %llu %llu",
                      (unsigned long long) si, (unsigned long long) sd,
                      (unsigned long long) *initial, (unsigned long long) *dirty);
    }
    return true;
}


static bool
migSetState(migTest *t, vfmigDevice *dev, const char *role, uint32_t state,
            const char *bdf)
{
    uint32_t from = VFIO_DEVICE_STATE_ERROR;
    uint32_t now = VFIO_DEVICE_STATE_ERROR;
    g_autofree char *sys = NULL;

    vfmigDeviceGetState(dev, &from);
    if (vfmigDeviceSetState(dev, state) < 0)
        return vmTapCheck(&t->tap, false, "%s %s -> %s: %s", role,
                          vmStateName(from), vmStateName(state), vmLastError());
    vfmigDeviceGetState(dev, &now);
    sys = migSysfsStr(bdf, "vfio_migration/state");
    return vmTapCheck(&t->tap, now == state && strcmp(sys, vmStateName(state)) == 0,
                      "%s %s -> %s: reads back %s, sysfs state %s", role,
                      vmStateName(from), vmStateName(state),
                      vmStateName(now), sys);
}


/* Writes @stream to @dst and brings it to RUNNING; *@why on failure. */
static bool
migLoad(vfmigDevice *dst, const guint8 *data, gsize len, char **why, int *err)
{
    *err = 0;
    vfmigResetLastError();
    if (vfmigDeviceSetState(dst, VFIO_DEVICE_STATE_RESUMING) < 0) {
        *why = g_strdup_printf("RUNNING -> RESUMING: %s", vmLastError());
        *err = vmLastErrno();
        return false;
    }
    if (vfmigDeviceWriteAll(dst, data, len) < 0) {
        *why = g_strdup_printf("write: %s", vmLastError());
        *err = vmLastErrno();
        return false;
    }
    if (vfmigDeviceSetState(dst, VFIO_DEVICE_STATE_STOP) < 0) {
        *why = g_strdup_printf("RESUMING -> STOP: %s", vmLastError());
        *err = vmLastErrno();
        return false;
    }
    if (vfmigDeviceSetState(dst, VFIO_DEVICE_STATE_RUNNING) < 0) {
        *why = g_strdup_printf("STOP -> RUNNING: %s", vmLastError());
        *err = vmLastErrno();
        return false;
    }
    return true;
}


static void
migRecover(vfmigDevice *dev)
{
    if (dev && vfmigDeviceSetState(dev, VFIO_DEVICE_STATE_RUNNING) < 0)
        vfmigDeviceReset(dev);
    vfmigResetLastError();
}


/* ---------- precopy ----------------------------------------------------- */

static void
migPrecopy(migTest *t)
{
    g_autoptr(vfmigDevice) src = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree guint8 *buf = g_new(guint8, MIG_CHUNK);
    g_autofree char *why = NULL;
    g_autofree char *srcDigest = NULL;
    g_autofree char *dstDigest = NULL;
    g_autofree char *dstBefore = NULL;
    int until = t->tap.run + MIG_CHECKS_PRECOPY;
    uint64_t initial = 0, dirty = 0, initial0 = 0;
    uint64_t stopSize = 0, sysStop = UINT64_MAX;
    uint64_t lat = 0;
    bool same = false, falls = true;
    gsize initialRead = 0, dirtyRead = 0;
    gssize n;
    gint64 t0;
    int waited;
    int err;
    int rc;

    vmTapDiag("--- precopy: pre-copy 'on', %llu bytes of state",
              (unsigned long long) t->stateSize);
    if (!(src = migOpen(t->src)) || !(dst = migOpen(t->dst))) {
        vmTapCheck(&t->tap, false, "open %s and %s: %s", t->src, t->dst,
                   vmLastError());
        goto out;
    }
    dstBefore = migDigest(t->dst);

    /* 1 */
    if (!migSetState(t, src, "source", VFIO_DEVICE_STATE_PRE_COPY, t->src))
        goto out;

    /* 2 */
    if (!migInfo(src, t->src, &initial, &dirty, &same)) {
        vmTapCheck(&t->tap, false, "precopy info on entry: %s", vmLastError());
        goto out;
    }
    initial0 = initial;
    vmTapCheck(&t->tap, initial >= t->stateSize && dirty == 0 && same,
               "precopy info on entry: initial_bytes %llu (want >= the state "
               "size %llu), dirty_bytes %llu (want 0), sysfs %s",
               (unsigned long long) initial, (unsigned long long) t->stateSize,
               (unsigned long long) dirty, same ? "the same" : "DIFFERS");

    /* 3: initial_bytes falls by what each read returns */
    for (;;) {
        vfmigDataStatus status;
        uint64_t before = initial;

        n = vfmigDeviceRead(src, buf, MIG_CHUNK, &status);
        if (n < 0) {
            why = g_strdup_printf("read: %s", vmLastError());
            break;
        }
        if (status != VFMIG_DATA_OK)
            break;
        g_byte_array_append(stream, buf, n);
        if (!migInfo(src, t->src, &initial, &dirty, NULL)) {
            why = g_strdup_printf("precopy info: %s", vmLastError());
            break;
        }
        if (before >= (uint64_t) n ? initial != before - n : initial != 0)
            falls = false;
        if (before > 0)
            initialRead += n;
        else
            dirtyRead += n;
    }
    if (why) {
        vmTapCheck(&t->tap, false, "reading the initial image: %s", why);
        goto out;
    }
    vmTapCheck(&t->tap, falls && initial == 0 && initialRead == initial0,
               "initial image read in %d-byte chunks: %zu bytes, initial_bytes "
               "fell by each read's size to %llu",
               MIG_CHUNK, initialRead, (unsigned long long) initial);

    /* 4 */
    if (!migInfo(src, t->src, &initial, &dirty, &same)) {
        vmTapCheck(&t->tap, false, "precopy info: %s", vmLastError());
        goto out;
    }
    waited = vfmigDeviceWaitData(src, 0);
    vmTapCheck(&t->tap, initial == 0 && dirty == 0 && same && waited == 0 &&
               dirtyRead == 0,
               "caught up: read says AGAIN, initial_bytes %llu dirty_bytes %llu, "
               "sysfs %s, poll() %s",
               (unsigned long long) initial, (unsigned long long) dirty,
               same ? "the same" : "DIFFERS",
               waited == 0 ? "not ready" : "READY");

    /* 5: explicit writes of pages */
    rc = vmSysfsSetU64(t->src, "vfmig_testdev/dirty_pages", MIG_DIRTY_PAGES);
    if (rc < 0 || !migInfo(src, t->src, &initial, &dirty, &same)) {
        vmTapCheck(&t->tap, false, "dirty_pages %d: %s", MIG_DIRTY_PAGES,
                   rc < 0 ? g_strerror(-rc) : vmLastError());
        goto out;
    }
    vmTapCheck(&t->tap, dirty > 0 && dirty <= (MIG_DIRTY_PAGES + 1) * MIG_PAGE &&
               initial == 0 && same,
               "%d pages dirtied (dirty_pages): dirty_bytes %llu (want 1..%d), "
               "initial_bytes %llu, sysfs %s", MIG_DIRTY_PAGES,
               (unsigned long long) dirty, (MIG_DIRTY_PAGES + 1) * MIG_PAGE,
               (unsigned long long) initial, same ? "the same" : "DIFFERS");

    /* 6 */
    {
        uint64_t announced = dirty;

        if ((n = vmReadStream(src, stream, VFMIG_DATA_AGAIN, MIG_CHUNK)) < 0 ||
            !migInfo(src, t->src, &initial, &dirty, NULL)) {
            vmTapCheck(&t->tap, false, "reading the dirty image: %s", vmLastError());
            goto out;
        }
        dirtyRead += n;
        vmTapCheck(&t->tap, (uint64_t) n >= announced && dirty == 0,
                   "dirty image read: %zd bytes (dirty_bytes announced %llu), "
                   "dirty_bytes now %llu", n, (unsigned long long) announced,
                   (unsigned long long) dirty);
    }

    /* 7: the device's own activity wakes poll() */
    if ((rc = vmSysfsSetU64(t->src, "vfmig_testdev/dirty_rate", MIG_RATE)) < 0) {
        vmTapCheck(&t->tap, false, "dirty_rate %d: %s", MIG_RATE, g_strerror(-rc));
        goto out;
    }
    t0 = g_get_monotonic_time();
    waited = vfmigDeviceWaitData(src, 5000);
    {
        gint64 ms = (g_get_monotonic_time() - t0) / 1000;
        bool gotDirty = migInfo(src, t->src, &initial, &dirty, NULL) && dirty > 0;
        uint64_t seen = dirty;

        vmSysfsSetU64(t->src, "vfmig_testdev/dirty_rate", 0);
        n = vmReadStream(src, stream, VFMIG_DATA_AGAIN, MIG_CHUNK);
        if (n > 0)
            dirtyRead += n;
        vmTapCheck(&t->tap, waited == 1 && gotDirty && n >= 0,
                   "dirty_rate %d B/s: poll() woke after %lld ms (timeout 5000), "
                   "dirty_bytes %llu, %zd bytes read after the rate went to 0",
                   MIG_RATE, (long long) ms, (unsigned long long) seen, n);
    }

    /* 8: the residue and MIG_DATA_SIZE */
    rc = vmSysfsSetU64(t->src, "vfmig_testdev/dirty_pages", MIG_RESIDUE_PAGES);
    if (rc < 0 || vfmigDeviceStopCopySize(src, &stopSize) <= 0) {
        vmTapCheck(&t->tap, false, "stop-copy size: %s",
                   rc < 0 ? g_strerror(-rc) : vmLastError());
        goto out;
    }
    vmSysfsGetU64(t->src, "vfio_migration/stop_copy_bytes", &sysStop);
    vmTapCheck(&t->tap, stopSize > 0 && stopSize < t->stateSize && sysStop == stopSize,
               "MIG_DATA_SIZE after %d more dirty pages: %llu bytes (want the "
               "residue, below the state size %llu), sysfs stop_copy_bytes %llu",
               MIG_RESIDUE_PAGES, (unsigned long long) stopSize,
               (unsigned long long) t->stateSize, (unsigned long long) sysStop);

    /* 9 */
    if (!migSetState(t, src, "source", VFIO_DEVICE_STATE_STOP_COPY, t->src))
        goto out;
    /* 10 */
    if ((n = vmReadStream(src, stream, VFMIG_DATA_END, MIG_CHUNK)) < 0) {
        vmTapCheck(&t->tap, false, "reading the stop-copy image: %s", vmLastError());
        goto out;
    }
    vmTapCheck(&t->tap, (uint64_t) n == stopSize,
               "STOP_COPY streamed %zd bytes to the end (MIG_DATA_SIZE said %llu)",
               n, (unsigned long long) stopSize);
    vmTapDiag("precopy_bytes=%zu (initial %zu + dirty %zu) stopcopy_bytes=%zd "
              "state_size=%llu", initialRead + dirtyRead, initialRead, dirtyRead,
              n, (unsigned long long) t->stateSize);

    /* 11 */
    if (!migSetState(t, src, "source", VFIO_DEVICE_STATE_STOP, t->src))
        goto out;
    srcDigest = migDigest(t->src);
    vmSysfsGetU64(t->src, "vfio_migration/stop_latency_us", &lat);
    vmTapDiag("source stop_latency_us=%llu (stop_delay_us %d)",
              (unsigned long long) lat, MIG_STOP_DELAY_US);

    /* 12 */
    if (!migLoad(dst, stream->data, stream->len, &why, &err)) {
        vmTapCheck(&t->tap, false, "destination loads the %u-byte stream: %s",
                   stream->len, why);
        goto out;
    }
    {
        uint64_t rlat = 0;

        vmSysfsGetU64(t->dst, "vfio_migration/resume_latency_us", &rlat);
        vmTapCheck(&t->tap, lat >= MIG_STOP_DELAY_US && rlat >= MIG_RESUME_DELAY_US,
                   "destination loaded %u bytes and runs; source stop_latency_us "
                   "%llu (delay %d), destination resume_latency_us %llu (delay %d)",
                   stream->len, (unsigned long long) lat, MIG_STOP_DELAY_US,
                   (unsigned long long) rlat, MIG_RESUME_DELAY_US);
        vmTapDiag("destination resume_latency_us=%llu", (unsigned long long) rlat);
    }

    /* 13 */
    dstDigest = migDigest(t->dst);
    vmTapCheck(&t->tap, strcmp(srcDigest, dstDigest) == 0 &&
               strcmp(dstBefore, srcDigest) != 0,
               "destination digest %.16s... equals the source's %.16s... "
               "(it was %.16s... before)", dstDigest, srcDigest, dstBefore);

    /* 14 */
    migSetState(t, src, "source", VFIO_DEVICE_STATE_RUNNING, t->src);

 out:
    migRecover(src);
    migRecover(dst);
    vmTapFillTo(&t->tap, until, "an earlier step of 'precopy' failed");
}


/* ---------- single ------------------------------------------------------ */

/*
 * Saves the source's whole stream in its current pre-copy mode (with
 * @dirtyBetween, pages dirtied during pre-copy and before stop-copy: a
 * stream of several images in mode "on"), leaving it in STOP; *@why on
 * failure.
 */
static bool
migSave(const char *bdf, vfmigDevice *src, GByteArray *stream,
        bool dirtyBetween, char **why)
{
    gssize n;

    if (vfmigDeviceSetState(src, VFIO_DEVICE_STATE_PRE_COPY) < 0 ||
        vmReadStream(src, stream, VFMIG_DATA_AGAIN, MIG_CHUNK) < 0) {
        *why = g_strdup_printf("pre-copy: %s", vmLastError());
        return false;
    }
    if (dirtyBetween) {
        vmSysfsSetU64(bdf, "vfmig_testdev/dirty_pages", 8);
        if (vmReadStream(src, stream, VFMIG_DATA_AGAIN, MIG_CHUNK) < 0) {
            *why = g_strdup_printf("dirty data: %s", vmLastError());
            return false;
        }
        vmSysfsSetU64(bdf, "vfmig_testdev/dirty_pages", 8);
    }
    if (vfmigDeviceSetState(src, VFIO_DEVICE_STATE_STOP_COPY) < 0 ||
        (n = vmReadStream(src, stream, VFMIG_DATA_END, MIG_CHUNK)) < 0 ||
        vfmigDeviceSetState(src, VFIO_DEVICE_STATE_STOP) < 0) {
        *why = g_strdup_printf("stop-copy: %s", vmLastError());
        return false;
    }
    return true;
}


static void
migSingle(migTest *t)
{
    g_autoptr(vfmigDevice) src = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *why = NULL;
    g_autofree char *mode = NULL;
    g_autofree char *features = NULL;
    g_autofree char *srcDigest = NULL;
    g_autofree char *dstDigest = NULL;
    int until = t->tap.run + MIG_CHECKS_SINGLE;
    uint64_t initial = 0, dirty = 0, stopSize = 0;
    bool same = false;
    gssize n;
    int rc;
    int err;

    vmTapDiag("--- single: pre-copy 'single'");
    if (!(src = migOpen(t->src)) || !(dst = migOpen(t->dst))) {
        vmTapCheck(&t->tap, false, "open: %s", vmLastError());
        goto out;
    }

    /* 1 */
    rc = vmSysfsSet(t->src, "vfio_migration/precopy", "single");
    mode = migSysfsStr(t->src, "vfio_migration/precopy");
    features = migSysfsStr(t->src, "vfio_migration/features");
    vmTapCheck(&t->tap, rc == 0 && strcmp(mode, "single") == 0 &&
               strstr(features, "pre-copy"),
               "precopy 'single' written while open and RUNNING: %s, reads '%s', "
               "features '%s' (pre-copy still advertised)",
               rc == 0 ? "accepted" : g_strerror(-rc), mode, features);

    /* 2 */
    if (vfmigDeviceSetState(src, VFIO_DEVICE_STATE_PRE_COPY) < 0) {
        vmTapCheck(&t->tap, false, "RUNNING -> PRE_COPY: %s", vmLastError());
        goto out;
    }
    vmSysfsSetU64(t->src, "vfmig_testdev/dirty_pages", 8);
    if (!migInfo(src, t->src, &initial, &dirty, &same) ||
        (n = vmReadStream(src, stream, VFMIG_DATA_AGAIN, MIG_CHUNK)) < 0) {
        vmTapCheck(&t->tap, false, "PRE_COPY in single mode: %s", vmLastError());
        goto out;
    }
    vmTapCheck(&t->tap, initial == 0 && dirty == 0 && same && n == 0,
               "PRE_COPY in single mode, 8 pages dirtied: initial_bytes %llu, "
               "dirty_bytes %llu, sysfs %s, %zd bytes before AGAIN (want all 0)",
               (unsigned long long) initial, (unsigned long long) dirty,
               same ? "the same" : "DIFFERS", n);

    /* 3 */
    rc = vmSysfsSet(t->src, "vfio_migration/precopy", "on");
    g_free(mode);
    mode = migSysfsStr(t->src, "vfio_migration/precopy");
    vmTapCheck(&t->tap, rc == -EBUSY && strcmp(mode, "single") == 0,
               "precopy 'on' written while saving: %s (want EBUSY), still '%s'",
               rc == 0 ? "accepted" : g_strerror(-rc), mode);

    /* 4 */
    if (vfmigDeviceStopCopySize(src, &stopSize) <= 0 ||
        vfmigDeviceSetState(src, VFIO_DEVICE_STATE_STOP_COPY) < 0 ||
        (n = vmReadStream(src, stream, VFMIG_DATA_END, MIG_CHUNK)) < 0 ||
        vfmigDeviceSetState(src, VFIO_DEVICE_STATE_STOP) < 0) {
        vmTapCheck(&t->tap, false, "stop-copy in single mode: %s", vmLastError());
        goto out;
    }
    vmTapCheck(&t->tap, (uint64_t) n == stopSize && stopSize >= t->stateSize,
               "STOP_COPY in single mode streamed %zd bytes, the whole state "
               "(MIG_DATA_SIZE said %llu, state size %llu)", n,
               (unsigned long long) stopSize, (unsigned long long) t->stateSize);
    vmTapDiag("single_stopcopy_bytes=%zd", n);
    srcDigest = migDigest(t->src);

    /* 5 */
    if (!migLoad(dst, stream->data, stream->len, &why, &err)) {
        vmTapCheck(&t->tap, false, "destination loads the single image: %s", why);
        goto out;
    }
    dstDigest = migDigest(t->dst);
    vmTapCheck(&t->tap, strcmp(srcDigest, dstDigest) == 0,
               "destination loaded the single image: digest %.16s... (source "
               "%.16s...)", dstDigest, srcDigest);

    /* 6 */
    if (vfmigDeviceSetState(src, VFIO_DEVICE_STATE_RUNNING) < 0) {
        vmTapCheck(&t->tap, false, "source back to RUNNING: %s", vmLastError());
        goto out;
    }
    rc = vmSysfsSet(t->src, "vfio_migration/precopy", "on");
    vmTapCheck(&t->tap, rc == 0, "source RUNNING again, precopy 'on' written: %s",
               rc == 0 ? "accepted" : g_strerror(-rc));

 out:
    migRecover(src);
    migRecover(dst);
    vmSysfsSet(t->src, "vfio_migration/precopy", "on");
    vmTapFillTo(&t->tap, until, "an earlier step of 'single' failed");
}


/* ---------- one-load ---------------------------------------------------- */

static void
migOneLoad(migTest *t)
{
    g_autoptr(vfmigDevice) src = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(GByteArray) multi = g_byte_array_new();
    g_autoptr(GByteArray) single = g_byte_array_new();
    g_autofree char *why = NULL;
    g_autofree char *srcDigest = NULL;
    g_autofree char *dstDigest = NULL;
    int until = t->tap.run + MIG_CHECKS_ONELOAD;
    uint32_t state = VFIO_DEVICE_STATE_ERROR;
    int rc;
    int err;

    vmTapDiag("--- one-load: a destination with multi_load 0");

    /* 1 */
    rc = vmSysfsSet(t->dst, "vfio_migration/multi_load", "0");
    {
        g_autoptr(vfmigDevice) held = migOpen(t->dst);
        int busy = held ? vmSysfsSet(t->dst, "vfio_migration/multi_load", "1") : 0;
        g_autofree char *ml = migSysfsStr(t->dst, "vfio_migration/multi_load");

        vmTapCheck(&t->tap, rc == 0 && held && busy == -EBUSY && strcmp(ml, "0") == 0,
                   "destination multi_load 0 written while not open: %s; "
                   "multi_load 1 while open: %s (want EBUSY); reads %s",
                   rc == 0 ? "accepted" : g_strerror(-rc),
                   !held ? vmLastError() : busy == 0 ? "accepted" : g_strerror(-busy),
                   ml);
    }

    if (!(src = migOpen(t->src)) || !(dst = migOpen(t->dst))) {
        vmTapFillTo(&t->tap, until, vmLastError());
        goto out;
    }

    /* 2 */
    if (!migSave(t->src, src, multi, true, &why)) {
        vmTapCheck(&t->tap, false, "source saves a multi-image stream: %s", why);
        goto out;
    }
    vfmigDeviceSetState(src, VFIO_DEVICE_STATE_RUNNING);
    if (migLoad(dst, multi->data, multi->len, &why, &err)) {
        vmTapCheck(&t->tap, false,
                   "destination with multi_load 0 ACCEPTED a %u-byte multi-image "
                   "stream", multi->len);
    } else {
        vmTapCheck(&t->tap, err == EINVAL,
                   "destination with multi_load 0 refuses a %u-byte multi-image "
                   "stream: %s (want EINVAL)", multi->len, why);
    }
    g_clear_pointer(&why, g_free);

    /* 3 */
    if (vfmigDeviceReset(dst) < 0 || vfmigDeviceGetState(dst, &state) < 0) {
        vmTapCheck(&t->tap, false, "destination reset: %s", vmLastError());
        goto out;
    }
    vmTapCheck(&t->tap, state == VFIO_DEVICE_STATE_RUNNING,
               "destination reset: reads back %s", vmStateName(state));

    /* 4 */
    if ((rc = vmSysfsSet(t->src, "vfio_migration/precopy", "single")) < 0 ||
        !migSave(t->src, src, single, false, &why)) {
        vmTapCheck(&t->tap, false, "source saves a single image: %s",
                   why ? why : g_strerror(-rc));
        goto out;
    }
    srcDigest = migDigest(t->src);
    if (!migLoad(dst, single->data, single->len, &why, &err)) {
        vmTapCheck(&t->tap, false,
                   "destination with multi_load 0 loads a single image: %s", why);
        goto out;
    }
    dstDigest = migDigest(t->dst);
    vmTapCheck(&t->tap, strcmp(srcDigest, dstDigest) == 0,
               "destination with multi_load 0 loads a %u-byte single image "
               "(pre-copy 'single'): digest %.16s... (source %.16s...)",
               single->len, dstDigest, srcDigest);

    /* 5 */
    vfmigDeviceSetState(src, VFIO_DEVICE_STATE_RUNNING);
    g_clear_pointer(&dst, vfmigDeviceFree);
    rc = vmSysfsSet(t->dst, "vfio_migration/multi_load", "1");
    vmTapCheck(&t->tap, rc == 0, "destination closed, multi_load 1 again: %s",
               rc == 0 ? "accepted" : g_strerror(-rc));

 out:
    migRecover(src);
    migRecover(dst);
    g_clear_pointer(&src, vfmigDeviceFree);
    g_clear_pointer(&dst, vfmigDeviceFree);
    vmSysfsSet(t->src, "vfio_migration/precopy", "on");
    vmSysfsSet(t->dst, "vfio_migration/multi_load", "1");
    vmTapFillTo(&t->tap, until, "an earlier step of 'one-load' failed");
}


static bool
migSetup(migTest *t)
{
    const char *bdfs[] = { t->src, t->dst };
    size_t i;
    int rc = 0;

    for (i = 0; i < G_N_ELEMENTS(bdfs); i++) {
        const char *b = bdfs[i];

        if ((rc = vmSysfsSetU64(b, "vfmig_testdev/state_size", t->stateSize)) < 0 ||
            (rc = vmSysfsSet(b, "vfmig_testdev/p2p", "1")) < 0 ||
            (rc = vmSysfsSet(b, "vfio_migration/precopy", "on")) < 0 ||
            (rc = vmSysfsSet(b, "vfio_migration/multi_load", "1")) < 0 ||
            (rc = vmSysfsSet(b, "vfmig_testdev/dirty_rate", "0")) < 0 ||
            (rc = vmSysfsSet(b, "vfmig_testdev/fault", "none")) < 0 ||
            (rc = vmSysfsSetU64(b, "vfmig_testdev/stop_delay_us",
                                b == t->src ? MIG_STOP_DELAY_US : 0)) < 0 ||
            (rc = vmSysfsSetU64(b, "vfmig_testdev/resume_delay_us",
                                b == t->dst ? MIG_RESUME_DELAY_US : 0)) < 0) {
            vmTapDiag("setting up %s: %s", b, g_strerror(-rc));
            return false;
        }
    }
    return true;
}


int
main(int argc, char **argv)
{
    migTest t = { 0 };
    g_autofree char *src = NULL;
    g_autofree char *dst = NULL;
    int plan = MIG_CHECKS_PRECOPY + MIG_CHECKS_SINGLE + MIG_CHECKS_ONELOAD + 1;
    int argi = 1;

    if (argc == 2 && strcmp(argv[1], "--plan") == 0) {
        printf("%d\n", plan);
        return 0;
    }
    t.stateSize = 4 * 1024 * 1024;
    if (argc > 2 && strcmp(argv[1], "--state-size") == 0) {
        t.stateSize = g_ascii_strtoull(argv[2], NULL, 10);
        argi = 3;
    }
    if (argc - argi != 2 || t.stateSize < 65536 ||
        vfmigVFIOParseName(argv[argi], &src, NULL) < 0 ||
        vfmigVFIOParseName(argv[argi + 1], &dst, NULL) < 0 ||
        strcmp(src, dst) == 0) {
        fprintf(stderr, "usage: vm-testdev-mig [--state-size BYTES] SOURCE DESTINATION | --plan\n");
        return 2;
    }
    t.src = src;
    t.dst = dst;

    vmTapPlan(&t.tap, plan);
    vmTapCheck(&t.tap, migSetup(&t),
               "source %s and destination %s set up: state_size %llu, p2p 1, "
               "precopy on, multi_load 1, source stop delay %d us, destination "
               "resume delay %d us", src, dst, (unsigned long long) t.stateSize,
               MIG_STOP_DELAY_US, MIG_RESUME_DELAY_US);
    {
        g_autofree char *ds = migDigest(src);
        g_autofree char *dd = migDigest(dst);

        vmTapDiag("digests before: source %s, destination %s", ds, dd);
    }

    migPrecopy(&t);
    migSingle(&t);
    migOneLoad(&t);
    return vmTapDone(&t.tap);
}
