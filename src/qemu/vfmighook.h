/*
 * vfmighook.h: the decision of vfmig's libvirt QEMU hook
 *
 * libvirt runs every executable of <sysconfdir>/libvirt/hooks/qemu.d/
 * with four arguments (the domain's name, an operation, a sub-operation,
 * an extra argument) and the domain XML on stdin.  On the destination of
 * an incoming migration the first call is "migrate begin -", before any
 * state moves: a hook that fails it cancels the migration, libvirt shows
 * the hook's stderr in its error, and the source keeps running.
 *
 * vfmigHookCheck is the whole decision.  For "migrate begin" it checks
 * every PCI hostdev (or hostdev interface) of the incoming XML that has
 * an entry in the domain's migration policy (vfmigdomainpolicy.h) against
 * the local VF named by the hostdev's <source><address>: on a destination
 * that address is this host's device (Nova and `virsh migrate --xml` put
 * it there), and an entry by alias still names it: a user alias, or in
 * the host default's policy (origin='host', vfmighostdefault.h) the alias
 * libvirt gave the device, which the migratable XML of a running domain
 * keeps.  The local VF is read
 * from sysfs and the node-device cache (vfmignodedevprobe.h); no VFIO
 * device is ever opened, nothing is written, libvirt is never called.
 *
 * A hostdev with managed='yes' is bound by libvirt itself, at Prepare,
 * after this hook (libvirt 10.0 and later: to its <driver model=>, else
 * to the best vfio_pci alias of the kernel's modules.alias, else to
 * vfio-pci; vfmignodedevvariant.h).  Its VF on the driver libvirt binds
 * is checked as any bound VF.  A VF on another driver (its host driver
 * such as mlx5_core, none, or another VFIO driver, which libvirt
 * replaces) is refused when that driver cannot migrate it, this host
 * lacks it, it is not the source VF's driver or the PCI ids are not the
 * source VF's; else it is accepted with what could not be checked before
 * binding (the features and state format the driver publishes only once
 * bound) said in its reason.
 *
 * A hostdev is refused when the local device
 *  - does not exist, or is not bound to a VFIO driver (managed='no');
 *  - is bound to a VFIO driver whose migration features this host cannot
 *    tell without opening the device;
 *  - does not match the source VF's identity of the policy (driver, PCI
 *    ids, firmware, state stream version: vfmignodedevcompare.h), or
 *    cannot load a migration state (no stop-copy);
 *  - cannot pre-copy with the source when the policy requires pre-copy;
 *  - cannot load several images (multi-load) when the source sends
 *    several (its identity says multi-load='yes' and pre-copy is not
 *    'off');
 *  - holds another amount of state than the policy's state-size, where
 *    this host's driver tells its state size (vfmig_testdev's
 *    state_size: it loads only a state of its own size).
 *
 * "prepare begin" runs before every start of a domain on this host, an
 * ordinary start as well as an incoming migration (right after "migrate
 * begin"): it never refuses; the same check runs and what would be
 * refused is a note only (see vfmigHookCheck).  Every other call is
 * ignored without reading anything.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

#include "vfmigdomainpolicy.h"
#include "vfmignodedevprobe.h"

/* The most domain XML the hook reads from stdin: libvirt's largest
 * domains are a few hundred KiB. */
#define VFMIG_HOOK_XML_MAX (16 * 1024 * 1024)

/* What libvirt asked. */
typedef enum {
    VFMIG_HOOK_OP_OTHER = 0,    /* anything the hook does not act on */
    VFMIG_HOOK_OP_MIGRATE,      /* "migrate begin": may refuse */
    VFMIG_HOOK_OP_PREPARE,      /* "prepare begin": notes only */

    VFMIG_HOOK_OP_LAST
} vfmigHookOp;

/* The call, from the hook's operation and sub-operation arguments. */
vfmigHookOp vfmigHookOpFromArgs(const char *operation,
                                const char *subOperation);

typedef enum {
    VFMIG_HOOK_NOTHING = 0,     /* an ignored call, or no policy: silent */
    VFMIG_HOOK_ACCEPTED,        /* every checked hostdev can migrate here */
    VFMIG_HOOK_REFUSED,         /* at least one cannot ("migrate" only) */

    VFMIG_HOOK_LAST
} vfmigHookVerdict;

/* One hostdev of the domain that has a policy entry. */
typedef struct _vfmigHookDevice vfmigHookDevice;
struct _vfmigHookDevice {
    char *alias;                /* the hostdev's <alias name=>, or NULL */
    char *address;              /* the local device, "0000:3b:00.2" */
    bool refused;
    /* refused: every reason, each saying why and what to do; accepted:
     * how the device migrates (translated sentences) */
    GPtrArray *reasons;         /* char * */
};

typedef struct _vfmigHookResult vfmigHookResult;
struct _vfmigHookResult {
    vfmigHookOp op;
    vfmigHookVerdict verdict;
    /* The check found what "migrate begin" would refuse, whether or not
     * it refused (on "prepare begin" it does not). */
    bool wouldRefuse;
    GPtrArray *devices;         /* vfmigHookDevice *, in document order */
    GPtrArray *notes;           /* char *: about the policy, no device's */
};

void vfmigHookDeviceFree(vfmigHookDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigHookDevice, vfmigHookDeviceFree);
void vfmigHookResultFree(vfmigHookResult *res);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigHookResult, vfmigHookResultFree);

/* "hostdev 'ua-vf0' (0000:3b:00.2 on this host)", or "hostdev
 * 0000:3b:00.2 (on this host)" without an alias: how messages name
 * @dev. */
char *vfmigHookDeviceName(const vfmigHookDevice *dev);

/* The reasons of @dev as one sentence list, "a; b". */
char *vfmigHookDeviceReasons(const vfmigHookDevice *dev);

/*
 * The state size this host's device @dev (probed under @paths, NULL: the
 * real system) holds, where its driver tells it in sysfs (vfmig_testdev's
 * state_size).  Returns 1 with *@size, 0 when the driver does not tell
 * it (nothing reported), -1 with an error.  virt-vfmig domain-prepare
 * writes it into the policy's identity, which the hook checks against.
 */
int vfmigHookLocalStateSize(const vfmigNodeDevProbePaths *paths,
                            const vfmigNodeDevPCI *dev,
                            unsigned long long *size);

/*
 * The identity of this host's device @dev (probed under @paths, NULL: the
 * real system; its capability known) for a policy entry, the words the
 * hook compares a destination VF with: its driver, PCI ids, firmware,
 * stream version, multi-load, and the state size where the driver tells
 * it.  virt-vfmig domain-prepare and the host default policy
 * (vfmighostdefault.h) write it.  Returns 0 with *@identity, -1 with an
 * error (the state size unreadable).
 */
int vfmigHookLocalIdentity(const vfmigNodeDevProbePaths *paths,
                           const vfmigNodeDevPCI *dev,
                           vfmigDomainPolicyIdentity **identity);

/*
 * Decides the hook call @operation @subOperation on the domain XML @xml
 * (may be NULL for a call that is ignored: it is not looked at), probing
 * this host's devices under @paths (NULL: the real system).
 *
 * Returns 0 with *@result: VFMIG_HOOK_NOTHING for a call other than
 * "migrate begin" and "prepare begin" and for a domain without a policy
 * (or whose policy names none of its hostdevs); otherwise ACCEPTED, or
 * REFUSED for "migrate begin" when a hostdev cannot migrate here (see the
 * top of this file).  On "prepare begin" the verdict is never REFUSED:
 * @wouldRefuse tells what "migrate begin" would have said.
 * Returns -1 with an error when @xml is not a domain XML, or its policy
 * or hostdevs are malformed; the caller refuses a migration then.
 */
int vfmigHookCheck(const char *operation,
                   const char *subOperation,
                   const char *xml,
                   const vfmigNodeDevProbePaths *paths,
                   vfmigHookResult **result);
