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
#include <stdlib.h>
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
    GMutex lock;                    /* the daemon's threads all send */
    int fd;                         /* the pipe's write end */
};

typedef struct _vfmigGuardHeld vfmigGuardHeld;
struct _vfmigGuardHeld {
    uint64_t heldMs;
    uint64_t fallbackMs;
    GPtrArray *devices;             /* char *: PCI addresses */
};

struct _vfmigGuardList {
    GHashTable *held;               /* uuid -> vfmigGuardHeld */
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


/* ---- the list of held limits ---- */

vfmigGuardList *
vfmigGuardListNew(void)
{
    vfmigGuardList *list = g_new0(vfmigGuardList, 1);

    list->held = g_hash_table_new_full(g_str_hash, g_str_equal,
                                       g_free, vfmigGuardHeldFree);
    return list;
}


void
vfmigGuardListFree(vfmigGuardList *list)
{
    if (!list)
        return;
    g_hash_table_unref(list->held);
    g_free(list);
}


int
vfmigGuardListParse(vfmigGuardList *list,
                    const char *line)
{
    g_auto(GStrv) words = g_strsplit(line, " ", 0);
    guint n = g_strv_length(words);
    vfmigGuardHeld *h = n > 1 ? g_hash_table_lookup(list->held, words[1]) : NULL;
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
            g_hash_table_insert(list->held, g_strdup(words[1]), h);
        }
        h->heldMs = heldMs;
        h->fallbackMs = fallbackMs;
        return 0;
    }
    if (n == 3 && g_str_equal(words[0], "device") && h &&
        words[2][0] && strlen(words[2]) < 32 &&
        strspn(words[2], "0123456789abcdefABCDEF:.") == strlen(words[2])) {
        if (!g_ptr_array_find_with_equal_func(h->devices, words[2],
                                              g_str_equal, NULL))
            g_ptr_array_add(h->devices, g_strdup(words[2]));
        return 0;
    }
    if (n == 2 && g_str_equal(words[0], "drop")) {
        /* the domain and its devices */
        g_hash_table_remove(list->held, words[1]);
        return 0;
    }
    return -1;
}


static int
vfmigGuardCompareStr(const void *a,
                     const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}


char *
vfmigGuardListFormat(const vfmigGuardList *list)
{
    g_autofree const char **uuids = NULL;
    GString *str = g_string_new("");
    guint n;
    guint i;
    guint j;

    uuids = (const char **) g_hash_table_get_keys_as_array(list->held, &n);
    qsort(uuids, n, sizeof(*uuids), vfmigGuardCompareStr);
    for (i = 0; i < n; i++) {
        vfmigGuardHeld *h = g_hash_table_lookup(list->held, uuids[i]);

        g_string_append_printf(str, "%s %" PRIu64 " %" PRIu64, uuids[i],
                               h->heldMs, h->fallbackMs);
        for (j = 0; j < h->devices->len; j++)
            g_string_append_printf(str, " %s",
                                   (const char *) g_ptr_array_index(h->devices, j));
        g_string_append_c(str, '\n');
    }
    return g_string_free(str, FALSE);
}


/* ---- the hand-back ---- */

static int
vfmigGuardLibvirtGetLimit(void *opaque,
                          const char *uuid,
                          char **name,
                          uint64_t *ms)
{
    virConnectPtr conn = opaque;
    virDomainPtr dom;
    unsigned long long cur;
    int ret = -1;

    if (!(dom = virDomainLookupByUUIDString(conn, uuid))) {
        if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
            return 0;
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot look up domain %1$s: %2$s"),
                         uuid, virGetLastErrorMessage());
        return -1;
    }
    if (virDomainMigrateGetMaxDowntime(dom, &cur, 0) < 0) {
        /* no longer running here: nothing is held */
        if (virGetLastErrorCode() == VIR_ERR_OPERATION_INVALID ||
            virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
            ret = 0;
        } else {
            vfmigReportError(VFMIG_ERR_LIBVIRT,
                             _("reading the downtime limit of domain '%1$s' failed: %2$s"),
                             virDomainGetName(dom), virGetLastErrorMessage());
        }
    } else {
        *ms = cur;
        if (name)
            *name = g_strdup(virDomainGetName(dom));
        ret = 1;
    }
    virDomainFree(dom);
    return ret;
}


static int
vfmigGuardLibvirtSetLimit(void *opaque,
                          const char *uuid,
                          uint64_t ms)
{
    virConnectPtr conn = opaque;
    virDomainPtr dom;
    int ret = 1;

    if (!(dom = virDomainLookupByUUIDString(conn, uuid))) {
        if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
            return 0;
        vfmigReportError(VFMIG_ERR_LIBVIRT,
                         _("cannot look up domain %1$s: %2$s"),
                         uuid, virGetLastErrorMessage());
        return -1;
    }
    if (virDomainMigrateSetMaxDowntime(dom, ms, 0) < 0) {
        /* no job any more: nothing is held */
        if (virGetLastErrorCode() == VIR_ERR_OPERATION_INVALID ||
            virGetLastErrorCode() == VIR_ERR_NO_DOMAIN) {
            ret = 0;
        } else {
            vfmigReportError(VFMIG_ERR_LIBVIRT,
                             _("setting the downtime limit of domain '%1$s' failed: %2$s"),
                             virDomainGetName(dom), virGetLastErrorMessage());
            ret = -1;
        }
    }
    virDomainFree(dom);
    return ret;
}


static const vfmigGuardLimitOps vfmigGuardLibvirtOps = {
    .getLimit = vfmigGuardLibvirtGetLimit,
    .setLimit = vfmigGuardLibvirtSetLimit,
};


const vfmigGuardLimitOps *
vfmigGuardLibvirtLimitOps(void)
{
    return &vfmigGuardLibvirtOps;
}


vfmigGuardHandBackResult
vfmigGuardHandBack(const vfmigGuardLimitOps *ops,
                   void *opaque,
                   const char *uuid,
                   uint64_t heldMs,
                   uint64_t fallbackMs,
                   char **name,
                   uint64_t *curMs)
{
    uint64_t cur = 0;
    int rc;

    *curMs = 0;
    if ((rc = ops->getLimit(opaque, uuid, name, &cur)) < 0)
        return VFMIG_GUARD_HAND_BACK_FAILED;
    if (rc == 0)
        return VFMIG_GUARD_HAND_BACK_GONE;
    *curMs = cur;
    if (cur != heldMs) {
        VFMIG_DEBUG("domain %s: downtime limit %" PRIu64 " ms, not the %"
                    PRIu64 " ms held: left", uuid, cur, heldMs);
        return VFMIG_GUARD_HAND_BACK_THEIRS;
    }
    if ((rc = ops->setLimit(opaque, uuid, fallbackMs)) < 0)
        return VFMIG_GUARD_HAND_BACK_FAILED;
    if (rc == 0)
        return VFMIG_GUARD_HAND_BACK_NO_JOB;
    VFMIG_DEBUG("domain %s: downtime limit %" PRIu64 " ms -> %" PRIu64 " ms",
                uuid, cur, fallbackMs);
    return VFMIG_GUARD_HAND_BACK_DONE;
}


/* ---- the guardian ---- */

/* Ends the switchover hold of every listed device (hold_ms 0), without
 * libvirt: a device gone since is skipped; returns how many failed. */
static int
vfmigGuardUnholdDevices(const char *sysfsRoot,
                        vfmigGuardList *list)
{
    GHashTableIter iter;
    gpointer value;
    int failed = 0;
    size_t i;

    g_hash_table_iter_init(&iter, list->held);
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
                  vfmigGuardList *list)
{
    GHashTableIter iter;
    gpointer key;
    gpointer value;
    virConnectPtr conn;
    guint n = g_hash_table_size(list->held);
    int failed = 0;

    if (n == 0)
        return 0;
    virSetErrorFunc(NULL, vfmigGuardLibvirtErrorSink);
    if (!(conn = virConnectOpen(uri))) {
        fprintf(stderr,
                _("virt-vfmigd guardian: cannot connect to libvirt to hand back %1$u downtime limit(s): %2$s\n"),
                n, virGetLastErrorMessage());
        return n;
    }
    g_hash_table_iter_init(&iter, list->held);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        const char *uuid = key;
        vfmigGuardHeld *h = value;
        g_autofree char *name = NULL;
        uint64_t cur;

        switch (vfmigGuardHandBack(&vfmigGuardLibvirtOps, conn, uuid,
                                   h->heldMs, h->fallbackMs, &name, &cur)) {
        case VFMIG_GUARD_HAND_BACK_DONE:
            fprintf(stderr,
                    _("virt-vfmigd guardian: domain '%1$s': the daemon is gone; downtime limit handed back, %2$" PRIu64 " ms -> %3$" PRIu64 " ms\n"),
                    name, cur, h->fallbackMs);
            break;
        case VFMIG_GUARD_HAND_BACK_THEIRS:
            fprintf(stderr,
                    _("virt-vfmigd guardian: domain '%1$s': downtime limit %2$" PRIu64 " ms was set by someone else, left as it is\n"),
                    name, cur);
            break;
        case VFMIG_GUARD_HAND_BACK_NO_JOB:
        case VFMIG_GUARD_HAND_BACK_GONE:
            break;      /* gone with its migration */
        case VFMIG_GUARD_HAND_BACK_FAILED:
            fprintf(stderr,
                    _("virt-vfmigd guardian: cannot hand back the downtime limit of domain %1$s: %2$s\n"),
                    uuid, vfmigGetLastErrorMessage());
            failed++;
            break;
        }
    }
    virConnectClose(conn);
    return failed;
}


G_GNUC_NORETURN static void
vfmigGuardMain(const char *uri,
               const char *sysfsRoot,
               int fd)
{
    g_autoptr(vfmigGuardList) list = vfmigGuardListNew();
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
            if (!skipping && vfmigGuardListParse(list, buf) < 0)
                fprintf(stderr, _("virt-vfmigd guardian: ignoring a malformed request '%1$s'\n"),
                        buf);
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
    failed = vfmigGuardUnholdDevices(sysfsRoot, list);
    failed += vfmigGuardRestore(uri, list);
    _exit(failed ? 1 : 0);
}


vfmigGuard *
vfmigGuardStart(const char *uri,
                const char *sysfsRoot)
{
    g_autoptr(vfmigGuard) guard = g_new0(vfmigGuard, 1);
    int fds[2];

    g_mutex_init(&guard->lock);
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
vfmigGuardSendLocked(vfmigGuard *guard,
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


/* Any of the daemon's threads: the lock keeps each line whole. */
static int
vfmigGuardSend(vfmigGuard *guard,
               const char *line)
{
    int ret;

    g_mutex_lock(&guard->lock);
    ret = vfmigGuardSendLocked(guard, line);
    g_mutex_unlock(&guard->lock);
    return ret;
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


vfmigGuard *
vfmigGuardOpenFd(int fd)
{
    vfmigGuard *guard = g_new0(vfmigGuard, 1);

    g_mutex_init(&guard->lock);
    guard->fd = fd;
    return guard;
}


pid_t
vfmigGuardPid(const vfmigGuard *guard)
{
    return guard->pid;
}


void
vfmigGuardLeave(vfmigGuard *guard)
{
    g_mutex_lock(&guard->lock);
    if (guard->fd >= 0)
        close(guard->fd);
    guard->fd = -1;
    g_mutex_unlock(&guard->lock);
    if (guard->pid > 0)
        VFMIG_DEBUG("guardian %lld left to itself", (long long) guard->pid);
    guard->pid = 0;
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
    g_mutex_clear(&guard->lock);
    g_free(guard);
}
