/*
 * vfmigdomainprepare.h: what a domain needs to live-migrate its VFs
 *
 * `virt-vfmig domain-prepare` decides here; it only fetches the XML from
 * libvirt and defines the result.  From a domain's persistent XML and
 * this host's devices (vfmignodedevprobe.h), every PCI hostdev (and
 * <interface type='hostdev'>) gets:
 *
 *  - a user alias, <alias name='ua-vfmig-N'/> (the lowest N no device of
 *    the domain uses), unless it has a user alias already: libvirt keeps
 *    a user alias in the persistent XML and across a migration, while
 *    the alias it assigns itself (hostdevN) exists only while the domain
 *    runs; the policy entry and the QEMU override name the hostdev by it;
 *  - an entry in the migration policy (vfmigdomainpolicy.h), by that
 *    alias (an entry by source address is turned into one by alias: on a
 *    destination the address is rewritten and would name nothing), with
 *    a pre-copy mode and the identity of this host's VF, which the
 *    destination's hook checks (driver, PCI ids, firmware, stream
 *    version, multi-load, and the state size where the driver tells it);
 *  - where the VF has no DMA dirty tracking (Debian's 6.12 kernels), the
 *    vfio-pci property enable-migration=on in the domain's
 *    <qemu:override>, without which QEMU refuses to migrate the VM; its
 *    explanation gives the least downtime that costs the domain (all its
 *    RAM, <memory> or <currentMemory>, over the link:
 *    vfmigNodeDevAllDirtyLeastUs);
 *  - where the domain's QEMU has it (9.1 and later), the vfio-pci
 *    property migration-events=on, with which QEMU reports every
 *    migration state change of the device as a VFIO_MIGRATION event.
 *
 * The domain's default downtime is set from the options, or written with
 * the defaults when the domain had no policy.  A policy of the host
 * default (origin='host', vfmighostdefault.h), which a migration with
 * --persistent copies from the live metadata into the definition, is
 * replaced by one of the domain's own, as if there were none.
 *
 * A VF that is not on a VFIO migration driver (unbound, a host driver,
 * plain vfio-pci, features unknown without opening the device) is an
 * error: the identity is never guessed.  Except for a hostdev with
 * managed='yes', whose VF libvirt binds when the domain starts
 * (vfmignodedevvariant.h): one libvirt binds to a driver that can migrate
 * it gets its alias, its policy entry (pre-copy 'preferred' unless the
 * options say otherwise) and migration-events, and a note: its identity
 * and whether it needs enable-migration=on are read from that driver once
 * it is bound (a run while the domain runs adds them); one libvirt binds
 * to a driver that cannot migrate it (plain vfio-pci, no alias for it in
 * the kernel's modules.alias) is an error that says why.
 *
 * Idempotent: what is in place already is no change, so a second run
 * finds nothing to do.  Nothing is written and libvirt is never called.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vfmigdomainpolicy.h"
#include "vfmignodedevprobe.h"

/* libvirt's namespace of <qemu:override> and <qemu:commandline>. */
#define VFMIG_QEMU_DOMAIN_NS_URI "http://libvirt.org/schemas/domain/qemu/1.0"

/* How long the QEMU binary may take to list the vfio-pci properties, and
 * the most it may print. */
#define VFMIG_QEMU_PROBE_TIMEOUT_MS 10000
#define VFMIG_QEMU_PROBE_OUTPUT_MAX (1024 * 1024)

/* What prepare knows of the properties of the domain's QEMU's vfio-pci. */
typedef enum {
    VFMIG_DOMAIN_PREPARE_QEMU_UNKNOWN = 0,  /* not asked, or no answer */
    VFMIG_DOMAIN_PREPARE_QEMU_KNOWN,        /* @properties is the list */
} vfmigDomainPrepareQEMUState;

typedef struct _vfmigDomainPrepareQEMU vfmigDomainPrepareQEMU;
struct _vfmigDomainPrepareQEMU {
    vfmigDomainPrepareQEMUState state;
    const char *emulator;       /* for messages; may be NULL */
    GStrv properties;           /* vfio-pci's property names, when KNOWN */
    const char *why;            /* why UNKNOWN (translated), may be NULL */
};

typedef struct _vfmigDomainPrepareOptions vfmigDomainPrepareOptions;
struct _vfmigDomainPrepareOptions {
    const vfmigNodeDevProbePaths *paths;    /* NULL: the real system */
    unsigned int targetMs;                  /* 0: keep (new policy: 300) */
    vfmigDomainPolicyOnFailure onFailure;   /* DEFAULT: keep (new: abort) */
    vfmigDomainPolicyPrecopy precopy;       /* DEFAULT: keep an entry's;
                                             * a new one: preferred when
                                             * the VF can pre-copy, else off */
    vfmigDomainPrepareQEMU qemu;
    /* The migration link's bandwidth, bytes/s, at which the explanation
     * of enable-migration=on states the least downtime (all guest RAM at
     * the switch-over); 0: VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED, and the
     * explanation says it is assumed. */
    uint64_t linkBps;
};

/* One change, and why. */
typedef struct _vfmigDomainPrepareChange vfmigDomainPrepareChange;
struct _vfmigDomainPrepareChange {
    char *what;                 /* "hostdev 0000:3b:00.2: user alias ..." */
    char *why;                  /* the explanation, sentences */
};

typedef struct _vfmigDomainPrepareResult vfmigDomainPrepareResult;
struct _vfmigDomainPrepareResult {
    /* The input and the prepared domain, both formatted by
     * vfmigDomainPrepareFormatXML (for a diff); equal when nothing
     * changes. */
    char *oldXML;
    char *newXML;
    GPtrArray *changes;         /* vfmigDomainPrepareChange *, in order */
    GPtrArray *notes;           /* char *: what was left as it is, and why */
};

void vfmigDomainPrepareChangeFree(vfmigDomainPrepareChange *change);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDomainPrepareChange, vfmigDomainPrepareChangeFree);
void vfmigDomainPrepareResultFree(vfmigDomainPrepareResult *res);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigDomainPrepareResult, vfmigDomainPrepareResultFree);

/*
 * Prepares the domain XML @xml (its persistent definition: libvirt's
 * virDomainGetXMLDesc with VIR_DOMAIN_XML_INACTIVE, and _SECURE when the
 * result is to be defined, or the passwords in it would be lost).
 * Returns 0 with *@result, or -1 with an error: @xml is not a domain XML,
 * its policy is malformed or names no hostdev of it, a hostdev's VF is
 * missing, not on a VFIO migration driver or cannot migrate, the options
 * ask what the VF cannot do (pre-copy 'required' of a VF without
 * pre-copy), or the VF needs enable-migration and the domain's QEMU has
 * no such property.
 */
int vfmigDomainPrepare(const char *xml,
                       const vfmigDomainPrepareOptions *opts,
                       vfmigDomainPrepareResult **result);

/*
 * The domain XML @xml formatted as libvirt formats it (attributes in
 * single quotes, the whitespace kept), so that a diff shows only what
 * changed.  NULL with an error when @xml is not well-formed.
 */
char *vfmigDomainPrepareFormatXML(const char *xml);

/*
 * The <emulator> of the domain XML @xml.  Returns 1 with *@emulator, 0
 * when it has none (nothing reported), -1 with an error.
 */
int vfmigDomainPrepareGetEmulator(const char *xml,
                                  char **emulator);

/*
 * Asks the QEMU binary @emulator for its vfio-pci properties (`-device
 * vfio-pci,help`, with no machine and no defaults, stdin from /dev/null),
 * waiting at most @timeoutMs and reading at most
 * VFMIG_QEMU_PROBE_OUTPUT_MAX bytes.  Returns 0 with *@properties (the
 * names, possibly none), or -1 with an error: the binary cannot run,
 * fails, times out (it is killed) or prints too much.
 */
int vfmigDomainPrepareProbeQEMU(const char *emulator,
                                unsigned int timeoutMs,
                                GStrv *properties);
