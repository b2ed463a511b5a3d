/*
 * vm-dirty-guest.c: the init of the benchmark's nested guest
 *
 * The libvirt rig's benchmark domain boots the host's Debian kernel
 * directly (<os><kernel>, <initrd>) into an initramfs whose /init is this
 * program, linked statically.  It dirties guest RAM the way a working
 * guest does, so that QEMU's RAM pre-copy has something to converge (or
 * not): a working set of ws_mib MiB, rewritten page after page, one 8-byte
 * word per 4 KiB page, at rate_kib KiB of pages per second of the guest's
 * own CLOCK_MONOTONIC.  The kernel hands init the command line's
 * "name=value" words without a dot as its environment:
 *
 *   ws_mib=N       working set (MiB, 1..4096; default 16)
 *   rate_kib=N     pages dirtied per second, in KiB (0: none; default 0)
 *   report_s=N     a status line every N s (0: none; default 10)
 *
 * The console (the domain's serial port) gets one line when the working
 * set is allocated and touched, "vfmig-dirty: ready ws=... rate=...", then
 * every report_s seconds "vfmig-dirty: t=... pages=... passes=...
 * behind=..." (behind: pages the loop is late by, against its rate: a
 * guest that cannot keep up with the rate asked says so).  The rig waits
 * for "ready" before it migrates.
 *
 * The pace is kept in the guest's own time: a migration that pauses the
 * guest pauses its clock too (QEMU stops the guest's clocks while it is
 * stopped), so the guest neither catches up nor falls behind across a
 * switch-over.  Being PID 1, it never returns: a fatal error is printed
 * and the guest powered off.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

#define DIRTY_PAGE 4096UL
#define DIRTY_TICK_NS 1000000ULL /* 1 ms between bursts */

static void
dirtyDie(const char *what)
{
    fprintf(stderr, "vfmig-dirty: error: %s: %s\n", what, strerror(errno));
    fflush(NULL);
    sync();
    reboot(RB_POWER_OFF);
    for (;;)
        pause();
}

/* getenv NAME as an unsigned number in [0, max]; DEF when unset */
static unsigned long
dirtyEnv(const char *name,
         unsigned long def,
         unsigned long max)
{
    const char *s = getenv(name);
    char *end = NULL;
    unsigned long v;

    if (!s || !*s)
        return def;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || s[0] == '-' || v > max) {
        fprintf(stderr,
                "vfmig-dirty: %s='%s' is not a number in [0, %lu]; using %lu\n",
                name, s, max, def);
        return def;
    }
    return v;
}

static uint64_t
dirtyNowNs(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        dirtyDie("clock_gettime");
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int
main(void)
{
    unsigned long wsMiB = dirtyEnv("ws_mib", 16, 4096);
    unsigned long rateKiB = dirtyEnv("rate_kib", 0, 16UL * 1024 * 1024);
    unsigned long reportS = dirtyEnv("report_s", 10, 3600);
    size_t npages;
    volatile uint64_t *ws;
    uint64_t start, lastReport, pagesDone = 0, passes = 0;
    size_t next = 0;
    size_t i;

    if (wsMiB == 0)
        wsMiB = 1;
    npages = wsMiB * 1024 * 1024 / DIRTY_PAGE;
    ws = mmap(NULL, npages * DIRTY_PAGE, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (ws == MAP_FAILED)
        dirtyDie("mmap of the working set");
    for (i = 0; i < npages; i++)
        ws[i * (DIRTY_PAGE / sizeof(*ws))] = i;

    printf("vfmig-dirty: ready ws=%lu MiB (%zu pages) rate=%lu KiB/s\n",
           wsMiB, npages, rateKiB);
    fflush(stdout);

    start = lastReport = dirtyNowNs();
    for (;;) {
        uint64_t now = dirtyNowNs();
        /* pages due since the start at the asked rate */
        uint64_t due = (uint64_t)((now - start) / 1000ULL) *
                       (rateKiB * 1024 / DIRTY_PAGE) / 1000000ULL;
        struct timespec tick = { 0, DIRTY_TICK_NS };

        while (pagesDone < due) {
            ws[next * (DIRTY_PAGE / sizeof(*ws))] += npages;
            pagesDone++;
            if (++next == npages) {
                next = 0;
                passes++;
            }
            /* never more than one tick's worth late in one burst: a
             * guest that cannot keep up reports it instead of spinning */
            if (pagesDone + 1 < due &&
                dirtyNowNs() - now > DIRTY_TICK_NS)
                break;
        }
        if (reportS && now - lastReport >= reportS * 1000000000ULL) {
            printf("vfmig-dirty: t=%llu s pages=%llu passes=%llu behind=%llu\n",
                   (unsigned long long)((now - start) / 1000000000ULL),
                   (unsigned long long)pagesDone,
                   (unsigned long long)passes,
                   (unsigned long long)(due > pagesDone ? due - pagesDone : 0));
            fflush(stdout);
            lastReport = now;
        }
        nanosleep(&tick, NULL);
    }
}
