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

/* The guardian's process id. */
pid_t vfmigGuardPid(const vfmigGuard *guard);

/*
 * Closes the pipe and waits for the guardian to exit: a daemon that
 * released every limit itself has dropped them all, and the guardian
 * then has nothing to do.
 */
void vfmigGuardFree(vfmigGuard *guard);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigGuard, vfmigGuardFree);
