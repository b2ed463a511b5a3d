/*
 * vfmigguard.h: hands held downtime limits back when virt-vfmigd dies
 *
 * While the controller holds a migration's downtime-limit at 1 ms, QEMU
 * cannot switch over on its own: a daemon that is killed then (SIGKILL,
 * a crash, the OOM killer) would leave the migration running until it
 * is cancelled, never switching.  The guardian is a small process the
 * daemon forks before it opens any libvirt connection; the daemon tells
 * it, over a pipe, each limit it holds and the value to hand back.  When
 * the pipe closes (the daemon exited in any way) or the guardian is asked
 * to stop (SIGTERM, SIGINT, SIGHUP: what systemd sends the whole unit),
 * it ends the switchover hold of each listed domain's VFs (their
 * vfio_migration/hold_ms lease: otherwise QEMU stays held until it runs
 * out), then connects to libvirt and, for each domain still listed, sets
 * the limit back where it is still the one the daemon set (compare, then
 * set: a value another client set since is theirs), then exits.
 *
 * The pipe carries lines of at most VFMIG_GUARD_LINE_MAX bytes:
 *   hold <uuid> <held-ms> <fallback-ms>
 *   device <uuid> <pci-address>        (after its domain's hold)
 *   drop <uuid>
 * A hold for a domain already listed replaces its two values and keeps
 * its devices; a drop forgets the domain and its devices.
 *
 * The hand-back itself (vfmigGuardHandBack) is shared with virt-vfmigd,
 * which hands back the limits it held when its connection to libvirt was
 * lost once it is connected again (vfmigdaemon.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#define VFMIG_GUARD_LINE_MAX 128

typedef struct _vfmigGuard vfmigGuard;

/*
 * Forks the guardian for the libvirt connection @uri (NULL: libvirt's
 * default) and the devices under @sysfsRoot (NULL: /sys).  Call it before
 * the process opens any libvirt connection or starts a thread.  Returns
 * the handle, or NULL with an error.
 */
vfmigGuard *vfmigGuardStart(const char *uri,
                            const char *sysfsRoot);

/* Tells the guardian that the limit of domain @uuid is held at @heldMs
 * and goes back to @fallbackMs.  0, or -1 with an error (the guardian is
 * gone: the caller warns that a kill would now leave the limit held). */
int vfmigGuardHold(vfmigGuard *guard,
                   const char *uuid,
                   uint64_t heldMs,
                   uint64_t fallbackMs);

/* The domain @uuid's VF @address holds the switchover too (its lease in
 * vfio_migration/hold_ms); after vfmigGuardHold.  0, or -1 with an error. */
int vfmigGuardHoldDevice(vfmigGuard *guard,
                         const char *uuid,
                         const char *address);

/* The limit of @uuid is no longer held (released, or the job ended). */
int vfmigGuardDrop(vfmigGuard *guard,
                   const char *uuid);

/*
 * A handle that writes the requests to @fd (it owns it from now on), with
 * no guardian process behind it: for the tests, which read what the
 * daemon tells the guardian from the pipe's other end (and may feed it to
 * a vfmigGuardList).  vfmigGuardPid is 0.
 */
vfmigGuard *vfmigGuardOpenFd(int fd);

/* The guardian's process id. */
pid_t vfmigGuardPid(const vfmigGuard *guard);

/*
 * Closes the pipe and waits for the guardian to exit: a daemon that
 * released every limit itself has dropped them all, and the guardian
 * then has nothing to do.
 */
void vfmigGuardFree(vfmigGuard *guard);

/*
 * Closes the pipe and lets the guardian be: it goes on after this
 * process, handing back what it still lists (a limit of a domain libvirt
 * does not answer for), and vfmigGuardFree then returns at once.
 */
void vfmigGuardLeave(vfmigGuard *guard);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigGuard, vfmigGuardFree);


/*
 * The guardian's list of held limits: what the requests above left
 * listed.  The guardian keeps one; exported so that the tests can read
 * what a series of requests leaves.
 */
typedef struct _vfmigGuardList vfmigGuardList;

vfmigGuardList *vfmigGuardListNew(void);
void vfmigGuardListFree(vfmigGuardList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigGuardList, vfmigGuardListFree);

/* One request @line (without its newline): 0, or -1 when it is
 * malformed (or a device for a domain not listed): the list is then
 * unchanged, nothing is reported. */
int vfmigGuardListParse(vfmigGuardList *list,
                        const char *line);

/* The list as text, one line per domain, by UUID:
 * "<uuid> <held-ms> <fallback-ms>[ <pci-address>...]\n", the devices in
 * the order they came; "" when nothing is listed. */
char *vfmigGuardListFormat(const vfmigGuardList *list);


/* The two libvirt calls of a hand-back, on the domain of UUID @uuid; an
 * ops table so that the tests can stand in for libvirt. */
typedef struct _vfmigGuardLimitOps vfmigGuardLimitOps;
struct _vfmigGuardLimitOps {
    /* The downtime limit now, ms, and the domain's name into *@name (the
     * caller frees it; NULL: not wanted): 1; 0 when there is no such
     * domain running here; -1 with an error. */
    int (*getLimit)(void *opaque, const char *uuid, char **name,
                    uint64_t *ms);
    /* Sets the limit: 1; 0 when the domain runs no migration job any
     * more (or is gone): nothing is held; -1 with an error. */
    int (*setLimit)(void *opaque, const char *uuid, uint64_t ms);
};

/* The ops over libvirt: @opaque is the virConnectPtr. */
const vfmigGuardLimitOps *vfmigGuardLibvirtLimitOps(void);

typedef enum {
    VFMIG_GUARD_HAND_BACK_DONE = 0, /* the limit is the fallback now */
    VFMIG_GUARD_HAND_BACK_THEIRS,   /* another client set it since: left */
    VFMIG_GUARD_HAND_BACK_NO_JOB,   /* the job is over: nothing held */
    VFMIG_GUARD_HAND_BACK_GONE,     /* the domain is gone */
    VFMIG_GUARD_HAND_BACK_FAILED,   /* libvirt failed: an error is set */
} vfmigGuardHandBackResult;

/*
 * Hands back the limit of domain @uuid that was set to @heldMs: where it
 * is still @heldMs, sets @fallbackMs (compare, then set: a value another
 * client set since is theirs).  The limit read is put into *@curMs (0
 * when none was read), the domain's name into *@name (NULL: not wanted;
 * set when a limit was read).  The devices' holds are the caller's.
 */
vfmigGuardHandBackResult vfmigGuardHandBack(const vfmigGuardLimitOps *ops,
                                            void *opaque,
                                            const char *uuid,
                                            uint64_t heldMs,
                                            uint64_t fallbackMs,
                                            char **name,
                                            uint64_t *curMs);
