/*
 * vm-testdev-faults.c: faults and the data fd's raw semantics on two
 * vfmig_testdev devices
 *
 * Usage: vm-testdev-faults SOURCE DESTINATION
 *        vm-testdev-faults --plan
 *        vm-testdev-faults --hold BDF
 *
 * Works on the raw uAPI (vfmigVFIO: the data fd is ours to read, poll and
 * close) and the driver's fault knob:
 *
 *   raw       read() of a caught-up PRE_COPY fd fails with ENOMSG, poll()
 *             is not ready; STOP_COPY ends with read() == 0;
 *   close     the data fd closed mid-stream in PRE_COPY and in STOP_COPY:
 *             the state stays, the device goes back to RUNNING and saves
 *             again;
 *   streams   truncated, corrupt (header and payload, and the driver's own
 *             "corrupt" fault) and foreign streams refused with EINVAL, the
 *             destination usable after a reset; "refuse-load";
 *   arcs      "fail-arc" (the device stays where the failing arc started)
 *             and "error-arc" (ERROR, refused requests, reset back);
 *   reset     VFIO_DEVICE_RESET in PRE_COPY: RUNNING, the old fd dead, a
 *             new session starts from the whole initial image.
 *
 * --hold opens BDF, prints "held" and keeps it open until stdin ends (for
 * the suite's "rmmod while open" check).
 *
 * Prints TAP; exits 0 when every check passed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "vm-testlib.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"

#define FLT_STATE_SIZE (1024 * 1024)

#define FLT_CHECKS_RAW 3
#define FLT_CHECKS_CLOSE 4
#define FLT_CHECKS_STREAMS 9
#define FLT_CHECKS_ARCS 6
#define FLT_CHECKS_RESET 3

typedef struct {
    vmTap tap;
    const char *src;
    const char *dst;
    vfmigVFIO *s;
    vfmigVFIO *d;
    GByteArray *good;   /* a stream of the source, its digest below */
    char *goodDigest;
} fltTest;


static void
fltClose(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}


static uint32_t
fltGet(vfmigVFIO *v)
{
    uint32_t state = VFIO_DEVICE_STATE_ERROR;

    if (vfmigVFIOGetState(v, &state) < 0)
        return UINT32_MAX;
    return state;
}


static const char *
fltName(uint32_t state)
{
    return state == UINT32_MAX ? "(GET failed)" : vmStateName(state);
}


static int
fltSet(vfmigVFIO *v, uint32_t state, int *fd, int *err)
{
    int tmp = -1;
    int rc;

    vfmigResetLastError();
    rc = vfmigVFIOSetState(v, state, fd ? fd : &tmp);
    *err = rc < 0 ? vmLastErrno() : 0;
    fltClose(&tmp);
    return rc;
}


static bool
fltReset(vfmigVFIO *v)
{
    return vfmigVFIOReset(v) == 0 && fltGet(v) == VFIO_DEVICE_STATE_RUNNING;
}


/* A whole save RUNNING -> STOP_COPY -> END -> STOP -> RUNNING. */
static gssize
fltSave(const char *bdf, vfmigVFIO *v, GByteArray *stream)
{
    int fd = -1;
    int err;
    gssize n;

    if (fltSet(v, VFIO_DEVICE_STATE_STOP_COPY, &fd, &err) < 0)
        return -1;
    n = vmReadFd(bdf, fd, false, stream, VFMIG_DATA_END);
    fltClose(&fd);
    if (n < 0)
        return -1;
    if (fltSet(v, VFIO_DEVICE_STATE_RUNNING, NULL, &err) < 0)
        return -1;
    return n;
}


/* Loads @len bytes into @v: 0, or the errno of the failing step (*@step). */
static int
fltLoad(const char *bdf, vfmigVFIO *v, const guint8 *buf, gsize len,
        const char **step)
{
    int fd = -1;
    int err = 0;

    *step = "RUNNING -> RESUMING";
    if (fltSet(v, VFIO_DEVICE_STATE_RESUMING, &fd, &err) < 0)
        return err ? err : EIO;
    *step = "write";
    vfmigResetLastError();
    if (vmWriteFd(bdf, fd, buf, len) < 0) {
        err = vmLastErrno();
        fltClose(&fd);
        return err ? err : EIO;
    }
    fltClose(&fd);
    *step = "RESUMING -> STOP";
    if (fltSet(v, VFIO_DEVICE_STATE_STOP, NULL, &err) < 0)
        return err ? err : EIO;
    *step = "STOP -> RUNNING";
    if (fltSet(v, VFIO_DEVICE_STATE_RUNNING, NULL, &err) < 0)
        return err ? err : EIO;
    *step = "loaded";
    return 0;
}


static char *
fltDigest(const char *bdf)
{
    char *d = vmSysfsGet(bdf, "vfmig_testdev/digest");

    return d ? d : g_strdup("(unreadable)");
}


/* ---------- raw --------------------------------------------------------- */

static void
fltRaw(fltTest *t)
{
    g_autofree guint8 *buf = g_new(guint8, 1024 * 1024);
    int until = t->tap.run + FLT_CHECKS_RAW;
    struct pollfd pfd;
    int fd = -1;
    int err;
    ssize_t n;
    gsize total = 0;
    int pr;

    vmTapDiag("--- raw: the data fd as the uAPI defines it");
    if (fltSet(t->s, VFIO_DEVICE_STATE_PRE_COPY, &fd, &err) < 0 || fd < 0) {
        vmTapCheck(&t->tap, false, "RUNNING -> PRE_COPY with a data fd: %s",
                   vmLastError());
        goto out;
    }
    while ((n = read(fd, buf, 1024 * 1024)) > 0)
        total += n;
    err = errno;
    pfd.fd = fd;
    pfd.events = POLLIN;
    pfd.revents = 0;
    pr = poll(&pfd, 1, 0);
    vmTapCheck(&t->tap, n < 0 && err == ENOMSG && total > 0,
               "PRE_COPY: %zu bytes, then read() %s (want -1 ENOMSG)", total,
               n == 0 ? "returned 0" : g_strerror(err));
    vmTapCheck(&t->tap, pr == 0,
               "PRE_COPY, caught up: poll() returns %d revents 0x%x (want 0: "
               "nothing to read)", pr, pfd.revents);

    if (fltSet(t->s, VFIO_DEVICE_STATE_STOP_COPY, NULL, &err) < 0) {
        vmTapCheck(&t->tap, false, "PRE_COPY -> STOP_COPY: %s", vmLastError());
        goto out;
    }
    total = 0;
    while ((n = read(fd, buf, 1024 * 1024)) > 0)
        total += n;
    err = errno;
    {
        ssize_t again = read(fd, buf, 16);

        vmTapCheck(&t->tap, n == 0 && again == 0,
                   "STOP_COPY on the same fd: %zu bytes, then read() %s and "
                   "again %zd (want 0, 0: end of stream)", total,
                   n == 0 ? "returned 0" : g_strerror(err), again);
    }

 out:
    fltClose(&fd);
    if (!fltReset(t->s))
        vmTapDiag("reset after 'raw' failed: %s", vmLastError());
    vmTapFillTo(&t->tap, until, "an earlier step of 'raw' failed");
}


/* ---------- close ------------------------------------------------------- */

static void
fltCloseMid(fltTest *t, uint32_t state)
{
    g_autofree guint8 *buf = g_new(guint8, 4096);
    g_autoptr(GByteArray) again = g_byte_array_new();
    int fd = -1;
    int err;
    ssize_t n;
    uint32_t after, back;
    gssize saved;

    if (fltSet(t->s, state, &fd, &err) < 0 || fd < 0) {
        vmTapCheck(&t->tap, false, "RUNNING -> %s: %s", vmStateName(state),
                   vmLastError());
        vmTapCheck(&t->tap, false, "not reached");
        return;
    }
    n = read(fd, buf, 4096);
    fltClose(&fd);
    after = fltGet(t->s);
    {
        g_autofree char *sys = vmSysfsGet(t->src, "vfio_migration/state");

        vmTapCheck(&t->tap, n == 4096 && after == state &&
                   sys && strcmp(sys, vmStateName(state)) == 0,
                   "%s: read %zd bytes, closed the data fd mid-stream: the "
                   "device stays %s (sysfs %s)", vmStateName(state), n,
                   fltName(after), sys ? sys : "unreadable");
    }
    fltSet(t->s, VFIO_DEVICE_STATE_RUNNING, NULL, &err);
    back = fltGet(t->s);
    saved = back == VFIO_DEVICE_STATE_RUNNING ? fltSave(t->src, t->s, again) : -1;
    vmTapCheck(&t->tap, back == VFIO_DEVICE_STATE_RUNNING && saved > 0,
               "then -> RUNNING: %s (%s), and a whole save works: %zd bytes",
               fltName(back), err ? g_strerror(err) : "ok", saved);
    if (back != VFIO_DEVICE_STATE_RUNNING || saved <= 0)
        fltReset(t->s);
}


static void
fltClosing(fltTest *t)
{
    int until = t->tap.run + FLT_CHECKS_CLOSE;

    vmTapDiag("--- close: the data fd closed mid-stream");
    fltCloseMid(t, VFIO_DEVICE_STATE_PRE_COPY);
    fltCloseMid(t, VFIO_DEVICE_STATE_STOP_COPY);
    vmTapFillTo(&t->tap, until, "plan mismatch in 'close'");
}


/* ---------- streams ----------------------------------------------------- */

static void
fltRefuse(fltTest *t, const guint8 *buf, gsize len, const char *what)
{
    const char *step = NULL;
    int err = fltLoad(t->dst, t->d, buf, len, &step);
    uint32_t state = fltGet(t->d);
    bool reset = fltReset(t->d);

    vmTapCheck(&t->tap, err == EINVAL && reset,
               "destination refuses %s (%zu bytes): %s %s (want EINVAL), left "
               "in %s, reset %s", what, len, step,
               err ? g_strerror(err) : "succeeded", fltName(state),
               reset ? "to RUNNING" : "FAILED");
}


static void
fltStreams(fltTest *t)
{
    g_autoptr(GByteArray) faulty = g_byte_array_new();
    g_autofree guint8 *bad = NULL;
    g_autofree char *digest = NULL;
    int until = t->tap.run + FLT_CHECKS_STREAMS;
    gsize len = t->good->len;
    const char *step = NULL;
    gsize i;
    int err;
    int rc;

    vmTapDiag("--- streams: what a destination must refuse");
    if (len < 64) {
        vmTapFillTo(&t->tap, until, "no good stream to start from");
        return;
    }
    bad = g_memdup2(t->good->data, len);

    fltRefuse(t, bad, len / 2, "a stream cut in half");
    fltRefuse(t, bad, 16, "the first 16 bytes of a stream");
    fltRefuse(t, bad, 0, "an empty stream");

    bad[0] ^= 0xff;
    fltRefuse(t, bad, len, "a stream with its first byte flipped");
    bad[0] ^= 0xff;

    bad[len / 2] ^= 0x01;
    fltRefuse(t, bad, len, "a stream with one payload bit flipped in its middle");
    bad[len / 2] ^= 0x01;

    for (i = 0; i < len; i++)
        bad[i] = (guint8) g_random_int();
    fltRefuse(t, bad, len, "a foreign stream (random bytes of the right length)");

    /* The driver's own corruption of an outgoing stream. */
    {
        g_autofree char *arm = g_strdup_printf("corrupt %zu", len / 3);

        if ((rc = vmSysfsSet(t->src, "vfmig_testdev/fault", arm)) < 0 ||
            fltSave(t->src, t->s, faulty) <= 0) {
            vmTapCheck(&t->tap, false, "source save with '%s': %s", arm,
                       rc < 0 ? g_strerror(-rc) : vmLastError());
        } else {
            fltRefuse(t, faulty->data, faulty->len,
                      "a stream the source corrupted (fault 'corrupt' in the payload)");
        }
    }

    /* refuse-load */
    if ((rc = vmSysfsSet(t->dst, "vfmig_testdev/fault", "refuse-load")) < 0) {
        vmTapCheck(&t->tap, false, "arming refuse-load: %s", g_strerror(-rc));
    } else {
        err = fltLoad(t->dst, t->d, t->good->data, len, &step);
        {
            uint32_t state = fltGet(t->d);
            bool reset = fltReset(t->d);

            vmTapCheck(&t->tap, err == EINVAL && strcmp(step, "RESUMING -> STOP") == 0 &&
                       reset,
                       "fault 'refuse-load': a good stream fails at %s with %s "
                       "(want RESUMING -> STOP, EINVAL), left in %s, reset %s",
                       step, err ? g_strerror(err) : "success", fltName(state),
                       reset ? "to RUNNING" : "FAILED");
        }
    }

    /* usable after all that */
    err = fltLoad(t->dst, t->d, t->good->data, len, &step);
    digest = fltDigest(t->dst);
    vmTapCheck(&t->tap, err == 0 && strcmp(digest, t->goodDigest) == 0,
               "destination then loads the good stream: %s%s%s, digest %.16s... "
               "(source's %.16s...)", step, err ? ": " : "",
               err ? g_strerror(err) : "", digest, t->goodDigest);
    vmSysfsSet(t->src, "vfmig_testdev/fault", "none");
    vmSysfsSet(t->dst, "vfmig_testdev/fault", "none");
    if (err)
        fltReset(t->d);
    vmTapFillTo(&t->tap, until, "plan mismatch in 'streams'");
}


/* ---------- arcs -------------------------------------------------------- */

/* Arms @fault, asks for @target from RUNNING: errno and where it ended. */
static int
fltArm(fltTest *t, const char *fault, uint32_t target, uint32_t *after,
       char **faultAfter)
{
    int fd = -1;
    int err = 0;
    int rc;

    if ((rc = vmSysfsSet(t->src, "vfmig_testdev/fault", fault)) < 0) {
        *after = fltGet(t->s);
        *faultAfter = g_strdup_printf("(arming failed: %s)", g_strerror(-rc));
        return 0;
    }
    if (fltSet(t->s, target, &fd, &err) == 0)
        err = 0;
    fltClose(&fd);
    *after = fltGet(t->s);
    *faultAfter = vmSysfsGet(t->src, "vfmig_testdev/fault");
    if (!*faultAfter)
        *faultAfter = g_strdup("(unreadable)");
    return err;
}


static void
fltArcs(fltTest *t)
{
    g_autoptr(GByteArray) again = g_byte_array_new();
    g_autofree char *f1 = NULL;
    g_autofree char *f2 = NULL;
    g_autofree char *f3 = NULL;
    g_autofree char *f4 = NULL;
    int until = t->tap.run + FLT_CHECKS_ARCS;
    uint32_t after, after2;
    int err, err2;
    gssize saved;

    vmTapDiag("--- arcs: injected transition failures");

    /*
     * The devices offer P2P, so RUNNING -> STOP goes through RUNNING_P2P
     * and PRE_COPY -> STOP_COPY through PRE_COPY_P2P: the faults name
     * single arcs of those paths.
     */

    /* fail-arc on the first arc of a path */
    err = fltArm(t, "fail-arc RUNNING RUNNING_P2P", VFIO_DEVICE_STATE_STOP,
                 &after, &f1);
    vmTapCheck(&t->tap, err == EIO && after == VFIO_DEVICE_STATE_RUNNING &&
               strcmp(f1, "none") == 0,
               "fault 'fail-arc RUNNING RUNNING_P2P', RUNNING -> STOP: %s (want EIO), "
               "stays %s, fault now '%s'", err ? g_strerror(err) : "succeeded",
               fltName(after), f1);
    err2 = 0;
    if (fltSet(t->s, VFIO_DEVICE_STATE_STOP, NULL, &err2) == 0)
        fltSet(t->s, VFIO_DEVICE_STATE_RUNNING, NULL, &err2);
    after2 = fltGet(t->s);
    vmTapCheck(&t->tap, err2 == 0 && after2 == VFIO_DEVICE_STATE_RUNNING,
               "the fault fired once: RUNNING -> STOP -> RUNNING now works (%s)",
               err2 ? g_strerror(err2) : fltName(after2));
    if (after2 != VFIO_DEVICE_STATE_RUNNING)
        fltReset(t->s);

    /* fail-arc inside a combination transition */
    err = fltArm(t, "fail-arc STOP STOP_COPY", VFIO_DEVICE_STATE_STOP_COPY,
                 &after, &f2);
    vmTapCheck(&t->tap, err == EIO && after == VFIO_DEVICE_STATE_STOP,
               "fault 'fail-arc STOP STOP_COPY', RUNNING -> STOP_COPY (via STOP): "
               "%s (want EIO), left in %s (want STOP, where the failing arc "
               "starts)", err ? g_strerror(err) : "succeeded", fltName(after));
    fltSet(t->s, VFIO_DEVICE_STATE_RUNNING, NULL, &err2);
    if (fltGet(t->s) != VFIO_DEVICE_STATE_RUNNING)
        fltReset(t->s);

    /* error-arc */
    err = fltArm(t, "error-arc RUNNING_P2P STOP", VFIO_DEVICE_STATE_STOP,
                 &after, &f3);
    err2 = 0;
    if (fltSet(t->s, VFIO_DEVICE_STATE_RUNNING, NULL, &err2) == 0)
        err2 = 0;
    after2 = fltGet(t->s);
    vmTapCheck(&t->tap, err == EIO && after == VFIO_DEVICE_STATE_ERROR &&
               err2 == EINVAL && after2 == VFIO_DEVICE_STATE_ERROR,
               "fault 'error-arc RUNNING_P2P STOP', RUNNING -> STOP: %s (want "
               "EIO), device in %s "
               "(want ERROR); then -> RUNNING: %s (want EINVAL), still %s",
               err ? g_strerror(err) : "succeeded", fltName(after),
               err2 ? g_strerror(err2) : "succeeded", fltName(after2));
    {
        g_autofree char *sys = vmSysfsGet(t->src, "vfio_migration/state");
        bool reset = fltReset(t->s);

        saved = reset ? fltSave(t->src, t->s, again) : -1;
        vmTapCheck(&t->tap, sys && strcmp(sys, "ERROR") == 0 && reset && saved > 0,
                   "sysfs state in ERROR: %s; VFIO_DEVICE_RESET brings it to "
                   "RUNNING: %s; a whole save then works: %zd bytes",
                   sys ? sys : "unreadable", reset ? "yes" : "NO", saved);
    }

    /* error-arc while saving */
    g_byte_array_set_size(again, 0);
    {
        int fd = -1;

        fltSet(t->s, VFIO_DEVICE_STATE_PRE_COPY, &fd, &err2);
        err = fltArm(t, "error-arc PRE_COPY_P2P STOP_COPY",
                     VFIO_DEVICE_STATE_STOP_COPY, &after, &f4);
        fltClose(&fd);
        {
            bool reset = fltReset(t->s);

            saved = reset ? fltSave(t->src, t->s, again) : -1;
            vmTapCheck(&t->tap, err2 == 0 && err == EIO &&
                       after == VFIO_DEVICE_STATE_ERROR && reset && saved > 0,
                       "fault 'error-arc PRE_COPY_P2P STOP_COPY', PRE_COPY -> "
                       "STOP_COPY: %s "
                       "(want EIO), device in %s (want ERROR), reset %s, a whole "
                       "save then works: %zd bytes",
                       err ? g_strerror(err) : "succeeded", fltName(after),
                       reset ? "to RUNNING" : "FAILED", saved);
        }
    }
    vmSysfsSet(t->src, "vfmig_testdev/fault", "none");
    vmTapFillTo(&t->tap, until, "plan mismatch in 'arcs'");
}


/* ---------- reset ------------------------------------------------------- */

static void
fltResetPrecopy(fltTest *t)
{
    g_autofree guint8 *buf = g_new(guint8, 65536);
    int until = t->tap.run + FLT_CHECKS_RESET;
    uint64_t initial0 = 0, dirty0 = 0, initial1 = 0, dirty1 = 0;
    uint64_t sysInitial = UINT64_MAX;
    g_autofree char *sys = NULL;
    int fd = -1;
    int fd2 = -1;
    int err;
    ssize_t n, late;
    int lateErr;
    int infoRc;
    uint32_t after;

    vmTapDiag("--- reset: VFIO_DEVICE_RESET during PRE_COPY");
    if (fltSet(t->s, VFIO_DEVICE_STATE_PRE_COPY, &fd, &err) < 0 || fd < 0 ||
        vfmigVFIOPrecopyInfo(t->src, fd, &initial0, &dirty0) < 0) {
        vmTapCheck(&t->tap, false, "RUNNING -> PRE_COPY: %s", vmLastError());
        goto out;
    }
    n = read(fd, buf, 65536);
    vmSysfsSetU64(t->src, "vfmig_testdev/dirty_pages", 4);

    if (vfmigVFIOReset(t->s) < 0) {
        vmTapCheck(&t->tap, false, "reset in PRE_COPY: %s", vmLastError());
        goto out;
    }
    after = fltGet(t->s);
    sys = vmSysfsGet(t->src, "vfio_migration/state");
    vmSysfsGetU64(t->src, "vfio_migration/initial_bytes", &sysInitial);
    vmTapCheck(&t->tap, after == VFIO_DEVICE_STATE_RUNNING && sys &&
               strcmp(sys, "RUNNING") == 0 && sysInitial == 0,
               "read %zd bytes in PRE_COPY, dirtied 4 pages, reset: reads back "
               "%s, sysfs state %s, initial_bytes %llu", n, fltName(after),
               sys ? sys : "unreadable", (unsigned long long) sysInitial);

    late = read(fd, buf, 65536);
    lateErr = errno;
    infoRc = vfmigVFIOPrecopyInfo(t->src, fd, &initial1, &dirty1);
    vfmigResetLastError();
    vmTapCheck(&t->tap, late <= 0 && infoRc < 0,
               "the old data fd after the reset: read() %s, precopy info %s "
               "(want no data, and an error)",
               late > 0 ? "RETURNED DATA" : late == 0 ? "0" : g_strerror(lateErr),
               infoRc < 0 ? "fails" : "SUCCEEDS");
    fltClose(&fd);

    if (fltSet(t->s, VFIO_DEVICE_STATE_PRE_COPY, &fd2, &err) < 0 || fd2 < 0 ||
        vfmigVFIOPrecopyInfo(t->src, fd2, &initial1, &dirty1) < 0) {
        vmTapCheck(&t->tap, false, "a new PRE_COPY after the reset: %s",
                   vmLastError());
        goto out;
    }
    vmTapCheck(&t->tap, initial1 == initial0 && dirty1 == 0,
               "a new PRE_COPY session starts over: initial_bytes %llu (was %llu "
               "at the first entry), dirty_bytes %llu",
               (unsigned long long) initial1, (unsigned long long) initial0,
               (unsigned long long) dirty1);

 out:
    fltClose(&fd);
    fltClose(&fd2);
    fltReset(t->s);
    vmTapFillTo(&t->tap, until, "an earlier step of 'reset' failed");
}


static int
fltHold(const char *name)
{
    g_autoptr(vfmigVFIO) v = vfmigVFIOOpen(name, NULL);
    char c;

    if (!v) {
        fprintf(stderr, "error: %s\n", vmLastError());
        return 1;
    }
    printf("held\n");
    fflush(stdout);
    while (read(0, &c, 1) > 0)
        ;
    return 0;
}


int
main(int argc, char **argv)
{
    fltTest t = { 0 };
    g_autofree char *src = NULL;
    g_autofree char *dst = NULL;
    g_autoptr(GByteArray) good = g_byte_array_new();
    int plan = 1 + FLT_CHECKS_RAW + FLT_CHECKS_CLOSE + FLT_CHECKS_STREAMS +
               FLT_CHECKS_ARCS + FLT_CHECKS_RESET;
    const char *bdfs[2];
    size_t i;
    bool ok = true;
    gssize n = -1;

    if (argc == 2 && strcmp(argv[1], "--plan") == 0) {
        printf("%d\n", plan);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--hold") == 0)
        return fltHold(argv[2]);
    if (argc != 3 || argv[1][0] == '-' ||
        vfmigVFIOParseName(argv[1], &src, NULL) < 0 ||
        vfmigVFIOParseName(argv[2], &dst, NULL) < 0 || strcmp(src, dst) == 0) {
        fprintf(stderr, "usage: vm-testdev-faults SOURCE DESTINATION | --plan | --hold BDF\n");
        return 2;
    }
    t.src = src;
    t.dst = dst;
    t.good = good;

    vmTapPlan(&t.tap, plan);
    bdfs[0] = src;
    bdfs[1] = dst;
    for (i = 0; i < 2; i++) {
        if (vmSysfsSetU64(bdfs[i], "vfmig_testdev/state_size", FLT_STATE_SIZE) < 0 ||
            vmSysfsSet(bdfs[i], "vfmig_testdev/p2p", "1") < 0 ||
            vmSysfsSet(bdfs[i], "vfio_migration/precopy", "on") < 0 ||
            vmSysfsSet(bdfs[i], "vfio_migration/multi_load", "1") < 0 ||
            vmSysfsSet(bdfs[i], "vfmig_testdev/dirty_rate", "0") < 0 ||
            vmSysfsSet(bdfs[i], "vfmig_testdev/stop_delay_us", "0") < 0 ||
            vmSysfsSet(bdfs[i], "vfmig_testdev/resume_delay_us", "0") < 0 ||
            vmSysfsSet(bdfs[i], "vfmig_testdev/fault", "none") < 0)
            ok = false;
    }
    if (ok && (!(t.s = vfmigVFIOOpen(src, NULL)) || !(t.d = vfmigVFIOOpen(dst, NULL))))
        ok = false;
    if (ok) {
        vmSysfsSetU64(src, "vfmig_testdev/dirty_pages", 64);
        n = fltSave(src, t.s, good);
        t.goodDigest = fltDigest(src);
    }
    vmTapCheck(&t.tap, ok && n > 0,
               "set up %s and %s (state_size %d) and saved a good stream of the "
               "source: %zd bytes%s%s", src, dst, FLT_STATE_SIZE, n,
               ok && n > 0 ? "" : ": ", ok && n > 0 ? "" : vmLastError());
    if (!ok || n <= 0) {
        vmTapFillTo(&t.tap, plan, "the setup failed");
        goto cleanup;
    }

    fltRaw(&t);
    fltClosing(&t);
    fltStreams(&t);
    fltArcs(&t);
    fltResetPrecopy(&t);

 cleanup:
    if (t.s)
        vfmigVFIOClose(t.s);
    if (t.d)
        vfmigVFIOClose(t.d);
    g_free(t.goodDigest);
    return vmTapDone(&t.tap);
}
