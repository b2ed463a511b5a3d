/*
 * bench-engine.c: the engine's data path against a plain copy
 *
 * Saves the state of an emulated device through a pipe with the engine
 * (device reads, SHA-256 framing of the state file, the writer thread),
 * and, on the same device and the same kind of pipe, copies the same
 * device stream with a plain read()/write() loop, as a VMM without
 * framing would.  A reader thread drains the pipe in both cases.  Runs
 * alternate, so that both see the same machine; the ratio of the two
 * throughputs is the figure (goal: >= 0.9).  See docs/benchmarks.rst.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "vfmigdeviceemu.h"
#include "vfmigengine.h"
#include "vfmigerror.h"

#define MIB (1024.0 * 1024.0)

typedef struct _benchDrain benchDrain;
struct _benchDrain {
    int fd;
    uint64_t bytes;
};


static gpointer
benchDrainRun(gpointer opaque)
{
    benchDrain *d = opaque;
    g_autofree guint8 *buf = g_malloc(1 << 20);

    for (;;) {
        ssize_t n = read(d->fd, buf, 1 << 20);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        d->bytes += n;
    }
    return NULL;
}


/* A pipe of 1 MiB (as large as unprivileged processes get by default),
 * drained by a thread. */
static void
benchPipeOpen(int p[2], benchDrain *d, GThread **thread)
{
    if (pipe2(p, O_CLOEXEC) < 0) {
        perror("pipe2");
        exit(1);
    }
    fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    d->fd = p[0];
    d->bytes = 0;
    *thread = g_thread_new("drain", benchDrainRun, d);
}


static void
benchPipeClose(int p[2], GThread *thread)
{
    close(p[1]);
    g_thread_join(thread);
    close(p[0]);
}


static double
benchEngine(vfmigDevice *dev, vfmigEnginePrecopy precopy, size_t bufSize,
            uint64_t *deviceBytes, uint64_t *streamBytes)
{
    static const vfmigStateIdentity id = { .driver = "vfmig-emu", .multiLoad = true };
    vfmigEngineConfig cfg;
    vfmigEngineReport report;
    benchDrain d;
    GThread *thread;
    gint64 t0;
    gint64 t1;
    int p[2];

    vfmigEngineConfigInit(&cfg);
    cfg.precopy = precopy;
    cfg.bufferSize = bufSize;
    benchPipeOpen(p, &d, &thread);
    t0 = g_get_monotonic_time();
    if (vfmigEngineSave(dev, &id, true, p[1], &cfg, 0, &report) < 0) {
        fprintf(stderr, "engine: %s\n", vfmigGetLastErrorMessage());
        exit(1);
    }
    t1 = g_get_monotonic_time();
    benchPipeClose(p, thread);
    *deviceBytes = report.precopyBytes + report.stopCopyBytes;
    *streamBytes = d.bytes;
    return (double) *deviceBytes / ((double) (t1 - t0) / 1e6);
}


static double
benchPlain(vfmigDevice *dev, size_t bufSize, uint64_t *deviceBytes)
{
    g_autofree guint8 *buf = g_malloc(bufSize);
    benchDrain d;
    GThread *thread;
    gint64 t0;
    gint64 t1;
    int p[2];

    *deviceBytes = 0;
    benchPipeOpen(p, &d, &thread);
    t0 = g_get_monotonic_time();
    if (vfmigDeviceSetState(dev, VFIO_DEVICE_STATE_STOP_COPY) < 0)
        goto error;
    for (;;) {
        vfmigDataStatus status;
        ssize_t n = vfmigDeviceRead(dev, buf, bufSize, &status);
        ssize_t done = 0;

        if (n < 0)
            goto error;
        if (status != VFMIG_DATA_OK)
            break;
        while (done < n) {
            ssize_t w = write(p[1], buf + done, n - done);

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                perror("write");
                exit(1);
            }
            done += w;
        }
        *deviceBytes += n;
    }
    if (vfmigDeviceSetState(dev, VFIO_DEVICE_STATE_RUNNING) < 0)
        goto error;
    t1 = g_get_monotonic_time();
    benchPipeClose(p, thread);
    if (d.bytes != *deviceBytes) {
        fprintf(stderr, "plain copy: %llu bytes read, %llu arrived\n",
                (unsigned long long) *deviceBytes, (unsigned long long) d.bytes);
        exit(1);
    }
    return (double) *deviceBytes / ((double) (t1 - t0) / 1e6);

 error:
    fprintf(stderr, "plain copy: %s\n", vfmigGetLastErrorMessage());
    exit(1);
}


static int
benchCompareDouble(const void *a, const void *b)
{
    double x = *(const double *) a;
    double y = *(const double *) b;

    return x < y ? -1 : x > y;
}


static double
benchMedian(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), benchCompareDouble);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}


int
main(int argc, char **argv)
{
    gint sizeMiB = 256;
    gint runs = 5;
    gint bufKiB = 1024;
    gint pageKiB = 64;
    gboolean check = FALSE;
    gdouble goal = 0.9;
    GOptionEntry entries[] = {
        { "size", 0, 0, G_OPTION_ARG_INT, &sizeMiB, "device state, MiB (1..1024; default 256)", "N" },
        { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "runs of each kind (1..100; default 5)", "N" },
        { "buffer", 0, 0, G_OPTION_ARG_INT, &bufKiB, "bytes per device read, KiB (4..16384; default 1024)", "N" },
        { "page", 0, 0, G_OPTION_ARG_INT, &pageKiB, "emulated device page, KiB (4..65536; default 64)", "N" },
        { "check", 0, 0, G_OPTION_ARG_NONE, &check, "exit 1 when the median ratio is below the goal", NULL },
        { "goal", 0, 0, G_OPTION_ARG_DOUBLE, &goal, "the ratio to reach (default 0.9)", "R" },
        { NULL, 0, 0, 0, NULL, NULL, NULL }
    };
    g_autoptr(GOptionContext) octx = g_option_context_new("- engine data path against a plain copy");
    g_autoptr(GError) gerr = NULL;
    g_autoptr(vfmigDevice) dev = NULL;
    g_autofree double *engine = NULL;
    g_autofree double *engineOn = NULL;
    g_autofree double *plain = NULL;
    g_autofree double *ratio = NULL;
    uint64_t devBytes = 0;
    uint64_t streamBytes = 0;
    uint64_t plainBytes = 0;
    vfmigEmuConfig ecfg;
    double med;
    gint i;

    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, &argc, &argv, &gerr)) {
        fprintf(stderr, "bench-engine: %s\n", gerr->message);
        return 2;
    }
    if (sizeMiB < 1 || sizeMiB > 1024 || runs < 1 || runs > 100 ||
        bufKiB < 4 || bufKiB > 16384 || pageKiB < 4 || pageKiB > 65536 ||
        goal <= 0) {
        fprintf(stderr, "bench-engine: an option is out of range (see --help)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    vfmigEmuConfigInit(&ecfg);
    ecfg.stateSize = (uint64_t) sizeMiB << 20;
    ecfg.pageSize = (uint64_t) pageKiB << 10;
    if (!(dev = vfmigEmuDeviceNew("bench", &ecfg))) {
        fprintf(stderr, "bench-engine: %s\n", vfmigGetLastErrorMessage());
        return 1;
    }

    engine = g_new0(double, runs);
    engineOn = g_new0(double, runs);
    plain = g_new0(double, runs);
    ratio = g_new0(double, runs);
    printf("state %d MiB in %d KiB pages, %d KiB reads, pipe of 1 MiB, %d runs each\n",
           sizeMiB, pageKiB, bufKiB, runs);
    printf("%-4s %14s %14s %14s %8s\n", "run", "plain MiB/s",
           "engine MiB/s", "pre-copy MiB/s", "ratio");
    for (i = 0; i < runs; i++) {
        plain[i] = benchPlain(dev, (size_t) bufKiB << 10, &plainBytes);
        engine[i] = benchEngine(dev, VFMIG_ENGINE_PRECOPY_OFF,
                                (size_t) bufKiB << 10, &devBytes, &streamBytes);
        engineOn[i] = benchEngine(dev, VFMIG_ENGINE_PRECOPY_ON,
                                  (size_t) bufKiB << 10, &devBytes, &streamBytes);
        ratio[i] = engine[i] / plain[i];
        printf("%-4d %14.0f %14.0f %14.0f %8.3f\n", i + 1, plain[i] / MIB,
               engine[i] / MIB, engineOn[i] / MIB, ratio[i]);
    }
    if (devBytes != plainBytes) {
        fprintf(stderr, "bench-engine: the engine moved %llu device bytes, the plain copy %llu\n",
                (unsigned long long) devBytes, (unsigned long long) plainBytes);
        return 1;
    }
    med = benchMedian(ratio, runs);
    printf("device stream %llu bytes, state file %llu bytes (framing %.3f %%)\n",
           (unsigned long long) devBytes, (unsigned long long) streamBytes,
           100.0 * (double) (streamBytes - devBytes) / (double) devBytes);
    printf("median: plain %.0f MiB/s, engine %.0f MiB/s (pre-copy on: %.0f MiB/s), ratio %.3f (goal >= %.2f)\n",
           benchMedian(plain, runs) / MIB, benchMedian(engine, runs) / MIB,
           benchMedian(engineOn, runs) / MIB, med, goal);
    if (check && med < goal) {
        printf("goal not met\n");
        return 1;
    }
    return 0;
}
