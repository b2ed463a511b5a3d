/*
 * vfmighostdefault.h: the host default policy of a running domain
 *
 * OpenStack Nova writes a domain's definition anew at every power-on
 * (managed='yes' hostdevs, no user alias, no vfmig metadata), so the
 * policy virt-vfmig domain-prepare put there does not last.  The host's
 * default policy (vfmighostpolicy.h, /etc/vfmig/host-policy.xml) gives
 * such a domain one while it runs: virt-vfmigd sets it as the domain's
 * live metadata (virDomainSetMetadata with VIR_DOMAIN_AFFECT_LIVE, the
 * definition untouched), at the domain's start and on its sweep.
 *
 * vfmigHostDefaultDecide is the whole decision, from the running domain's
 * live XML, the host policy and this host's VFs (read from sysfs and the
 * node-device cache under the probe's paths; no device is opened and
 * nothing is written).  In this order:
 *
 *  1. a domain with a policy of its own (no origin='host') keeps it:
 *     NOTHING;
 *  2. without a host policy, or a PCI hostdev or hostdev interface:
 *     NOTHING;
 *  3. a hostdev without an alias of libvirt's: the XML is no running
 *     domain's (only a running domain's devices have libvirt's aliases,
 *     which name them in the policy): NOTHING;
 *  4. the host policy's entry for the domain's Nova flavor (<nova:flavor
 *     name=> of <nova:instance>, namespace 1.1 or 1.0), else its
 *     <default>; neither: NOTHING;
 *  5. one entry per hostdev whose VF migrates on this host (bound to a
 *     VFIO driver that offers stop-copy or, where the driver publishes its
 *     features nowhere that can be read without opening the device, a
 *     driver vfmig knows to migrate: vfmigdriver.h; a VF whose features
 *     cannot be read for an error has none), by libvirt's alias, with the
 *     entry's pre-copy mode
 *     and the VF's identity (vfmigHookLocalIdentity; none where its
 *     features are unknown); the domain's downtime from the entry; none
 *     migrates: NOTHING;
 *  6. the policy with origin='host' the domain has already is that one:
 *     KEEP; else WRITE it (a new one, or one that is stale: after a
 *     migration here the identity is the source host's VF's, the flavor
 *     or the host policy may have changed).
 *
 * A policy with origin='host' that the host policy no longer gives (rule
 * 4 or 5) is left as it is: NOTHING, and the reason says so.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

#include "vfmigdomainpolicy.h"
#include "vfmighostpolicy.h"
#include "vfmignodedevprobe.h"

typedef enum {
    VFMIG_HOST_DEFAULT_NOTHING = 0, /* leave the domain's metadata alone */
    VFMIG_HOST_DEFAULT_WRITE,       /* set @metadata as its live metadata */
    VFMIG_HOST_DEFAULT_KEEP,        /* what it has is what would be set */

    VFMIG_HOST_DEFAULT_LAST
} vfmigHostDefaultAction;

/* Why: one reason per rule of the decision. */
typedef enum {
    VFMIG_HOST_DEFAULT_REASON_EXPLICIT = 0, /* NOTHING: a policy of its own */
    VFMIG_HOST_DEFAULT_REASON_NO_HOST_POLICY, /* NOTHING: this host has none */
    VFMIG_HOST_DEFAULT_REASON_NO_HOSTDEV,   /* NOTHING: no PCI hostdev */
    VFMIG_HOST_DEFAULT_REASON_NOT_RUNNING,  /* NOTHING: no libvirt aliases */
    VFMIG_HOST_DEFAULT_REASON_NO_ENTRY,     /* NOTHING: neither the flavor's
                                             * entry nor a default */
    VFMIG_HOST_DEFAULT_REASON_NO_MIGRATING_VF, /* NOTHING: no VF migrates */
    VFMIG_HOST_DEFAULT_REASON_NEW,          /* WRITE: it has no policy */
    VFMIG_HOST_DEFAULT_REASON_CHANGED,      /* WRITE: its origin='host'
                                             * policy differs */
    VFMIG_HOST_DEFAULT_REASON_UP_TO_DATE,   /* KEEP */

    VFMIG_HOST_DEFAULT_REASON_LAST
} vfmigHostDefaultReason;

VFMIG_ENUM_DECL(vfmigHostDefaultActionType);
VFMIG_ENUM_DECL(vfmigHostDefaultReasonType);

/* One PCI hostdev or hostdev interface of the domain. */
typedef struct _vfmigHostDefaultDevice vfmigHostDefaultDevice;
struct _vfmigHostDefaultDevice {
    char *alias;                /* libvirt's <alias name=>, NULL: none */
    char *address;              /* its VF on this host, "0000:3b:00.2" */
    bool interface;             /* an <interface type='hostdev'> */
    char *driver;               /* the VF's driver; NULL: unbound, or not
                                 * probed (the decision ended before) */
    bool entry;                 /* the policy has an entry for it */
    /* translated: why it has no entry, or what the entry lacks (no
     * identity, pre-copy required of a VF without); NULL: nothing */
    char *why;
};

typedef struct _vfmigHostDefaultResult vfmigHostDefaultResult;
struct _vfmigHostDefaultResult {
    vfmigHostDefaultAction action;
    vfmigHostDefaultReason reason;
    char *why;                  /* the reason in words (translated) */
    char *flavor;               /* the domain's Nova flavor, NULL: none */
    /* WRITE, KEEP: the host default's policy for the domain (origin
     * 'host'; its flavor= the entry's, NULL for the default) and, for
     * virDomainSetMetadata(VIR_DOMAIN_METADATA_ELEMENT) with the key
     * VFMIG_DOMAIN_POLICY_NS_PREFIX and the uri VFMIG_DOMAIN_POLICY_NS_URI,
     * the element without namespace (vfmigDomainPolicyFormatMetadata) */
    vfmigDomainPolicy *policy;
    char *metadata;
    /* every PCI hostdev and hostdev interface in document order (empty
     * when the decision ended before looking at them: rules 1 and 2) */
    GPtrArray *devices;         /* vfmigHostDefaultDevice * */
};

void vfmigHostDefaultDeviceFree(vfmigHostDefaultDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigHostDefaultDevice, vfmigHostDefaultDeviceFree);
void vfmigHostDefaultResultFree(vfmigHostDefaultResult *res);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigHostDefaultResult, vfmigHostDefaultResultFree);

/*
 * Reads the host policy file @path (NULL: VFMIG_HOST_POLICY_PATH,
 * /etc/vfmig/host-policy.xml), a regular file of at most
 * VFMIG_HOST_POLICY_SIZE_MAX bytes.  Returns 1 with *@policy, 0 when
 * there is no such file (nothing reported: the host has no host policy),
 * -1 with an error that names the file (unreadable, too large, not a
 * regular file, or an invalid policy).
 */
int vfmigHostDefaultLoadPolicy(const char *path,
                               vfmigHostPolicy **policy);

/*
 * Decides the host default policy of the running domain whose live XML
 * (virDomainGetXMLDesc without flags) is @xml, from the host policy
 * @hostPolicy (NULL: this host has none), probing this host's VFs under
 * @paths (NULL: the real system).  Returns 0 with *@result (see the top
 * of this file); -1 with an error when @xml is not a domain XML, or its
 * policy, hostdevs or Nova metadata are malformed.  A VF that cannot be
 * probed is no error: its hostdev has no entry, and the device says why.
 */
int vfmigHostDefaultDecide(const char *xml,
                           const vfmigHostPolicy *hostPolicy,
                           const vfmigNodeDevProbePaths *paths,
                           vfmigHostDefaultResult **result);
