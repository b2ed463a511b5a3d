/*
 * vfmigguard.c: hands held downtime limits back when virt-vfmigd dies
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE     /* pipe2 */
#include <config.h>

#include "vfmigguard.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmigsysfs.h"

struct _vfmigGuard {
    pid_t pid;
    int fd;                         /* the pipe's write end */
};

typedef struct _vfmigGuardHeld vfmigGuardHeld;
struct _vfmigGuardHeld {
    uint64_t heldMs;
    uint64_t fallbackMs;
    GPtrArray *devices;             /* char *: PCI addresses */
};


static void
vfmigGuardHeldFree(void *opaque)
{
    vfmigGuardHeld *h = opaque;

    g_ptr_array_unref(h->devices);
    g_free(h);
}

static volatile sig_atomic_t vfmigGuardStop;


static void
vfmigGuardOnSignal(int sig G_GNUC_UNUSED)
{
    vfmigGuardStop = 1;
}


static void
vfmigGuardLibvirtErrorSink(void *opaque G_GNUC_UNUSED,
                           virErrorPtr err G_GNUC_UNUSED)
{
}


/* One line of the daemon's; a malformed one is ignored (and said). */
static void
vfmigGuardParseLine(GHashTable *held,
                    char *line)
{
    g_auto(GStrv) words = g_strsplit(line, " ", 0);
    guint n = g_strv_length(words);
    vfmigGuardHeld *h = n > 1 ? g_hash_table_lookup(held, words[1]) : NULL;
    guint64 heldMs;
    guint64 fallbackMs;

    if (n == 4 && g_str_equal(words[0], "hold") &&
        strlen(words[1]) == VIR_UUID_STRING_BUFLEN - 1 &&
        strspn(words[1], "0123456789abcdefABCDEF-") == strlen(words[1]) &&
        g_ascii_string_to_unsigned(words[2], 10, 1, G_MAXUINT32, &heldMs, NULL) &&
        g_ascii_string_to_unsigned(words[3], 10, 1, G_MAXUINT32, &fallbackMs, NULL)) {
        /* a new limit keeps the devices already listed */
        if (!h) {
            h = g_new0(vfmigGuardHeld, 1);
            h->devices = g_ptr_array_new_with_free_func(g_free);
            g_hash_table_insert(held, g_strdup(words[1]), h);
        }
        h->heldMs = heldMs;
        h->fallbackMs = fallbackMs;
        return;
    }
    if (n == 3 && g_str_equal(words[0], "device") && h &&
        words[2][0] && strlen(words[2]) < 32 &&
        strspn(words[2], "0123456789abcdefABCDEF:.") == strlen(words[2])) {
        if (!g_ptr_array_find_with_equal_func(h->devices, words[2],
                                              g_str_equal, NULL))
            g_ptr_array_add(h->devices, g_strdup(words[2]));
        return;
    }
    if (n == 2 && g_str_equal(words[0], "drop")) {
        g_hash_table_remove(held, words[1]);
        return;
    }
    fprintf(stderr, _("virt-vfmigd guardian: ignoring a malformed request '%1$s'\n"),
            line);
}


/* Ends the switchover hold of every listed device (hold_ms 0), without
 * libvirt: a device gone since is skipped; returns how many failed. */
static int
vfmigGuardUnholdDevices(const char *sysfsRoot,
                        GHashTable *held)
{
    GHashTableIter iter;
    gpointer value;
    int failed = 0;
    size_t i;

    g_hash_table_iter_init(&iter, held);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        vfmigGuardHeld *h = value;

        for (i = 0; i < h->devices->len; i++) {
            const char *address = g_ptr_array_index(h->devices, i);
            int rc;

            if ((rc = vfmigSysfsWriteHold(sysfsRoot, address, 0)) < 0) {
                fprintf(stderr,
                        _("virt-vfmigd guardian: cannot end the switchover hold of %1$s: %2$s\n"),
                        address, vfmigGetLastErrorMessage());
                failed++;
            } else if (rc > 0) {
                fprintf(stderr,
                        _("virt-vfmigd guardian: the daemon is gone; switchover hold of %1$s ended\n"),
                        address);
            }
        }
    }
    return failed;
}


/* Sets back every limit still held; returns how many failed. */
static int
vfmigGuardRestore(const char *uri,
                  GHashTable *held)
{
    GHashTableIter iter;
    gpointer key;
    gpointer value;
    virConnectPtr conn;
    int failed = 0;

    if (g_hash_table_size(held) == 0)
        return 0;
    virSetErrorFunc(NULL, vfmigGuardLibvirtErrorSink);
    if (!(conn = virConnectOpen(uri))) {
        fprintf(stderr,
                _("virt-vfmigd guardian: cannot connect to libvirt to hand back %1$u downtime limit(s): %2$s\n"),
                g_hash_table_size(held), virGetLastErrorMessage());
        return g_hash_table_size(held);
    }
    g_hash_table_iter_init(&iter, held);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        const char *uuid = key;
        vfmigGuardHeld *h = value;
        virDomainPtr dom;
        unsigned long long cur;

        if (!(dom = virDomainLookupByUUIDString(conn, uuid)))
            continue;       /* gone with its migration */
        if (virDomainMigrateGetMaxDowntime(dom, &cur, 0) < 0) {
            failed++;
        } else if (cur != h->heldMs) {
            fprintf(stderr,
                    _("virt-vfmigd guardian: domain '%1$s': downtime limit %2$llu ms was set by someone else, left as it is\n"),
                    virDomainGetName(dom), cur);
        } else if (virDomainMigrateSetMaxDowntime(dom, h->fallbackMs, 0) < 0) {
            /* no job any more: nothing is held */
            if (virGetLastErrorCode() != VIR_ERR_OPERATION_INVALID)
                failed++;
        } else {
            fprintf(stderr,
                    _("virt-vfmigd guardian: domain '%1$s': the daemon is gone; downtime limit handed back, %2$llu ms -> %3$" PRIu64 " ms\n"),
                    virDomainGetName(dom), cur, h->fallbackMs);
        }
        virDomainFree(dom);
    }
    virConnectClose(conn);
    return failed;
}


G_GNUC_NORETURN static void
vfmigGuardMain(const char *uri,
               const char *sysfsRoot,
               int fd)
{
    g_autoptr(GHashTable) held = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                       g_free, vfmigGuardHeldFree);
    int failed;
    struct sigaction sa = { .sa_handler = vfmigGuardOnSignal };
    char buf[VFMIG_GUARD_LINE_MAX];
    size_t len = 0;
    bool skipping = false;

    /* no SA_RESTART: a signal ends the read */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    while (!vfmigGuardStop) {
        ssize_t got = read(fd, buf + len, sizeof(buf) - len);
        char *nl;

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += got;
        while ((nl = memchr(buf, '\n', len))) {
            size_t linelen = nl - buf;

            *nl = '\0';
            if (!skipping)
                vfmigGuardParseLine(held, buf);
            skipping = false;
            memmove(buf, nl + 1, len - linelen - 1);
            len -= linelen + 1;
        }
        if (len == sizeof(buf)) {
            /* a line longer than any request: drop it to its end */
            skipping = true;
            len = 0;
        }
    }
    /* the devices first: that needs no libvirt, which may be what is
     * gone, and lets QEMU's own rule decide at its next check */
    failed = vfmigGuardUnholdDevices(sysfsRoot, held);
    failed += vfmigGuardRestore(uri, held);
    _exit(failed ? 1 : 0);
}


vfmigGuard *
vfmigGuardStart(const char *uri,
                const char *sysfsRoot)
{
    g_autoptr(vfmigGuard) guard = g_new0(vfmigGuard, 1);
    int fds[2];

    guard->fd = -1;
    if (pipe2(fds, O_CLOEXEC) < 0) {
        vfmigReportSystemError(errno, "%s", _("cannot create the guardian's pipe"));
        return NULL;
    }
    if ((guard->pid = fork()) < 0) {
        vfmigReportSystemError(errno, "%s", _("cannot fork the guardian"));
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (guard->pid == 0) {
        close(fds[1]);
        vfmigGuardMain(uri, sysfsRoot, fds[0]);
    }
    close(fds[0]);
    guard->fd = fds[1];
    VFMIG_DEBUG("guardian started, pid %lld", (long long) guard->pid);
    return g_steal_pointer(&guard);
}


static int
vfmigGuardSend(vfmigGuard *guard,
               const char *line)
{
    size_t len = strlen(line);
    size_t done = 0;

    if (guard->fd < 0) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID, "%s",
                         _("the guardian is gone"));
        return -1;
    }
    while (done < len) {
        ssize_t n = write(guard->fd, line + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            vfmigReportSystemError(errno, _("cannot reach the guardian (pid %1$lld)"),
                                   (long long) guard->pid);
            close(guard->fd);
            guard->fd = -1;
            return -1;
        }
        done += n;
    }
    return 0;
}


int
vfmigGuardHold(vfmigGuard *guard,
               const char *uuid,
               uint64_t heldMs,
               uint64_t fallbackMs)
{
    g_autofree char *line = g_strdup_printf("hold %s %" PRIu64 " %" PRIu64 "\n",
                                            uuid, heldMs, fallbackMs);

    return vfmigGuardSend(guard, line);
}


int
vfmigGuardHoldDevice(vfmigGuard *guard,
                     const char *uuid,
                     const char *address)
{
    g_autofree char *line = g_strdup_printf("device %s %s\n", uuid, address);

    return vfmigGuardSend(guard, line);
}


int
vfmigGuardDrop(vfmigGuard *guard,
               const char *uuid)
{
    g_autofree char *line = g_strdup_printf("drop %s\n", uuid);

    return vfmigGuardSend(guard, line);
}


pid_t
vfmigGuardPid(const vfmigGuard *guard)
{
    return guard->pid;
}


void
vfmigGuardFree(vfmigGuard *guard)
{
    if (!guard)
        return;
    if (guard->fd >= 0)
        close(guard->fd);
    if (guard->pid > 0) {
        while (waitpid(guard->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    g_free(guard);
}
