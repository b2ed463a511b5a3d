/*
 * vfmignodedevnova.h: what OpenStack Nova is told about this host's VFs
 *
 * The decisions behind `virt-vfmig nodedev-nova-spec`, for every front
 * end: which devices get a [pci] device_spec (those bound to a VFIO
 * driver), whether each is live migratable and why not (what QEMU does
 * with its capability: vfmigNodeDevCapVFIOMigCompare's verdict on the
 * source), its Nova device_type, the [pci] alias entries (one per PCI id,
 * device type and migratability, with their names), and the warnings:
 * the devices, the [libvirt] settings of nova.conf (or of the options
 * that stand for them) and the device_spec lines already in nova.conf
 * that break or degrade VF migration, each with a stable code.  No
 * output, no exit(): errors go through vfmigerror.h.
 *
 * What Nova does is Nova 2025.1's and later (openstack/nova
 * nova/pci/devspec.py, whitelist.py, nova/virt/libvirt/driver.py,
 * migration.py): the sources are named where the rules are.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vfmigenum.h"
#include "vfmignodedevcompare.h"
#include "vfmignodedevprobe.h"

#define VFMIG_NODEDEV_NOVA_CONF "/etc/nova/nova.conf"
/* nova.conf is a few KiB; this is far more than any. */
#define VFMIG_NODEDEV_NOVA_CONF_MAX (1024 * 1024)

/*
 * Whether Nova may live-migrate a VM with @dev: whether QEMU migrates it
 * as Nova defines the domain, without a <qemu:override> (stop-copy, and
 * DMA dirty tracking: the device's, as vfmig's tracker on Linux 6.1, or
 * the IOMMU's).  Returns true, or false
 * with *@why (translated; it quotes the probe's note and the capability's
 * reason, so a front end escapes it before printing).  For a device
 * without DMA dirty tracking the reason gives what all guest RAM dirty
 * costs, per GiB of guest RAM at VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED
 * (vfmigNodeDevAllDirtyLeastUs), and, where the running kernel is why
 * (@dev->kernelNoDirty), recommends Linux 6.1 for ConnectX hosts.
 */
bool vfmigNodeDevNovaMigratable(const vfmigNodeDevPCI *dev,
                                char **why);

/* Nova's device_type of a PCI function: "type-VF", "type-PF" or
 * "type-PCI". */
const char *vfmigNodeDevNovaType(const vfmigNodeDevPCI *dev);

/* One [pci] alias entry. */
typedef struct _vfmigNodeDevNovaAlias vfmigNodeDevNovaAlias;
struct _vfmigNodeDevNovaAlias {
    unsigned int vendor;
    unsigned int device;
    const char *type;               /* vfmigNodeDevNovaType() */
    bool migratable;                /* its live_migratable */
    char *name;                     /* "vfmig-15b3-101e-vf", "...-nomig" */
};

/* One [pci] device_spec entry: a device bound to a VFIO driver. */
typedef struct _vfmigNodeDevNovaDevice vfmigNodeDevNovaDevice;
struct _vfmigNodeDevNovaDevice {
    const vfmigNodeDevPCI *dev;     /* in the spec's list */
    bool migratable;                /* its live_migratable */
    char *why;                      /* when not: vfmigNodeDevNovaMigratable */
    /* What QEMU does with it (vfmigNodeDevCapVFIOMigCompare on the
     * source); VFMIG_NODEDEV_QEMU_LAST when its features are unknown. */
    vfmigNodeDevQEMU qemu;
    /* ALL_DIRTY: the least downtime per GiB of guest RAM, all of it sent
     * at the switch-over over VFMIG_NODEDEV_ALL_DIRTY_LINK_ASSUMED
     * (vfmigNodeDevAllDirtyLeastUs); 0 otherwise */
    uint64_t allDirtyLeastUs;
    bool notQualified;              /* its last device-qualify did not
                                     * qualify it (dev->cap->qualified) */
    size_t alias;                   /* its entry in the spec's aliases */
};

/* The warnings, with their stable names (vfmigNodeDevNovaWarnTypeToString:
 * the "code" of nodedev-nova-spec --json). */
typedef enum {
    /* a device Nova must not migrate: no stop-copy, no DMA dirty
     * tracking, unknown features */
    VFMIG_NODEDEV_NOVA_WARN_NOT_MIGRATABLE = 0,
    /* a device its last device-qualify did not qualify */
    VFMIG_NODEDEV_NOVA_WARN_NOT_QUALIFIED,
    /* nova.conf could not be read or parsed: nothing in it was checked */
    VFMIG_NODEDEV_NOVA_WARN_CONF_UNREADABLE,
    /* a value in nova.conf that Nova itself refuses */
    VFMIG_NODEDEV_NOVA_WARN_CONF_INVALID,
    /* live_migration_permit_post_copy */
    VFMIG_NODEDEV_NOVA_WARN_POST_COPY,
    /* live_migration_timeout_action force_complete without post-copy:
     * Nova pauses the guest */
    VFMIG_NODEDEV_NOVA_WARN_FORCE_COMPLETE,
    /* live_migration_tunnelled: no return path, so no switchover-ack */
    VFMIG_NODEDEV_NOVA_WARN_TUNNELLED,
    /* tunnelled with parallel connections: libvirt refuses */
    VFMIG_NODEDEV_NOVA_WARN_TUNNELLED_PARALLEL,
    /* live_migration_downtime below the policy's target */
    VFMIG_NODEDEV_NOVA_WARN_DOWNTIME_BELOW_TARGET,
    /* a device_spec with physical_network: Neutron's unplug path */
    VFMIG_NODEDEV_NOVA_WARN_PHYSICAL_NETWORK,
    /* a device_spec that tags a device live_migratable that is not */
    VFMIG_NODEDEV_NOVA_WARN_SPEC_NOT_MIGRATABLE,

    VFMIG_NODEDEV_NOVA_WARN_LAST
} vfmigNodeDevNovaWarn;

VFMIG_ENUM_DECL(vfmigNodeDevNovaWarnType);

typedef struct _vfmigNodeDevNovaWarning vfmigNodeDevNovaWarning;
struct _vfmigNodeDevNovaWarning {
    vfmigNodeDevNovaWarn code;
    /* translated, complete; it quotes nova.conf, options and sysfs, so a
     * front end escapes it before printing it as text */
    char *message;
};

typedef struct _vfmigNodeDevNovaSpec vfmigNodeDevNovaSpec;
struct _vfmigNodeDevNovaSpec {
    vfmigNodeDevList *list;         /* every PCI device probed */
    GPtrArray *devices;             /* vfmigNodeDevNovaDevice *, in the
                                     * order of @list */
    GPtrArray *aliases;             /* vfmigNodeDevNovaAlias *, in the order
                                     * their first device came */
    GPtrArray *warnings;            /* vfmigNodeDevNovaWarning *, in the
                                     * order of their codes; empty until
                                     * vfmigNodeDevNovaSpecCheck */
};

void vfmigNodeDevNovaSpecFree(vfmigNodeDevNovaSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevNovaSpec, vfmigNodeDevNovaSpecFree);

/* The entries for the devices of @list, which the spec takes.  Never
 * fails. */
vfmigNodeDevNovaSpec *vfmigNodeDevNovaSpecNew(vfmigNodeDevList *list);

/*
 * Probes every PCI device (@paths may be NULL; @flags are
 * vfmigNodeDevProbeFlags) and decides the entries.  Returns 0, or -1 with
 * an error when the bus cannot be listed (vfmigNodeDevProbeAll).
 */
int vfmigNodeDevNovaSpecProbe(const vfmigNodeDevProbePaths *paths,
                              unsigned int flags,
                              vfmigNodeDevNovaSpec **spec);


/* ---- nova.conf */

/*
 * The [libvirt] settings of nova.conf that VF migration depends on, as
 * Nova names them (nova/conf/libvirt.py); nodedev-nova-spec's option for
 * each is its name with '-' for '_'.  One row each in the table of
 * vfmignodedevnova.c: its kind, its range and Nova's default.
 */
typedef enum {
    VFMIG_NODEDEV_NOVA_PERMIT_POST_COPY = 0,  /* bool, False */
    VFMIG_NODEDEV_NOVA_TIMEOUT_ACTION,        /* abort|force_complete */
    VFMIG_NODEDEV_NOVA_TUNNELLED,             /* bool, False */
    VFMIG_NODEDEV_NOVA_PARALLEL_CONNECTIONS,  /* int, 1 (Nova 33.0.0+) */
    VFMIG_NODEDEV_NOVA_DOWNTIME,              /* int ms >= 100, 500 */

    VFMIG_NODEDEV_NOVA_SETTING_LAST
} vfmigNodeDevNovaSetting;

/* "live_migration_permit_post_copy", ... */
VFMIG_ENUM_DECL(vfmigNodeDevNovaSettingType);

/* live_migration_timeout_action's choices */
typedef enum {
    VFMIG_NODEDEV_NOVA_TIMEOUT_ABORT = 0,
    VFMIG_NODEDEV_NOVA_TIMEOUT_FORCE_COMPLETE,

    VFMIG_NODEDEV_NOVA_TIMEOUT_LAST
} vfmigNodeDevNovaTimeoutAction;

/* "abort", "force_complete" */
VFMIG_ENUM_DECL(vfmigNodeDevNovaTimeoutActionType);

/* One setting's value, and where it came from. */
typedef struct _vfmigNodeDevNovaValue vfmigNodeDevNovaValue;
struct _vfmigNodeDevNovaValue {
    long long value;    /* 0/1, a vfmigNodeDevNovaTimeoutAction, a number */
    char *text;         /* as written (white space stripped); Nova's
                         * default as Nova spells it when @from is NULL */
    char *from;         /* the option ("--live-migration-tunnelled") or
                         * the nova.conf that set it; NULL: Nova's default */
};

/* How a device_spec names addresses (nova/pci/devspec.py). */
typedef enum {
    /* "address": "[[[domain]:]bus]:][slot][.[function]]" with '*', or no
     * address (every one) */
    VFMIG_NODEDEV_NOVA_ADDR_GLOB = 0,
    /* "address": {"domain": RE, "bus": RE, "slot": RE, "function": RE},
     * each matched from the start (Python's re.match) */
    VFMIG_NODEDEV_NOVA_ADDR_REGEX,
    /* "devname": a network interface's name, which Nova resolves on the
     * host; never matched here (a VF bound to a VFIO driver has none) */
    VFMIG_NODEDEV_NOVA_ADDR_DEVNAME,
} vfmigNodeDevNovaAddrKind;

/* The four fields of an address, in Nova's order. */
#define VFMIG_NODEDEV_NOVA_ADDR_FIELDS 4

/* One entry of a [pci] device_spec value (a value may be a list). */
typedef struct _vfmigNodeDevNovaDeviceSpec vfmigNodeDevNovaDeviceSpec;
struct _vfmigNodeDevNovaDeviceSpec {
    char *text;         /* the device_spec value it came from, as given */
    char *from;         /* "--device-spec-line" or the nova.conf */
    int vendor;         /* vendor_id; -1: any */
    int device;         /* product_id; -1: any */
    vfmigNodeDevNovaAddrKind kind;
    /* GLOB: domain, bus, slot, function as Nova normalises them
     * ("0000", "3b", "00", "2"), NULL for '*'.  REGEX: the patterns. */
    char *field[VFMIG_NODEDEV_NOVA_ADDR_FIELDS];
    GRegex *regex[VFMIG_NODEDEV_NOVA_ADDR_FIELDS];      /* REGEX */
    /* the function the address names when every field is hexadecimal
     * digits: Nova matches a PF's VFs by it too */
    char *single;
    char *physicalNetwork;  /* its physical_network tag, or NULL */
    int liveMigratable;     /* its live_migratable tag: -1 none, 0, 1 */
};

void vfmigNodeDevNovaDeviceSpecFree(vfmigNodeDevNovaDeviceSpec *ds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevNovaDeviceSpec,
                              vfmigNodeDevNovaDeviceSpecFree);

/* What Nova is configured with, from the options and nova.conf. */
typedef struct _vfmigNodeDevNovaConf vfmigNodeDevNovaConf;
struct _vfmigNodeDevNovaConf {
    vfmigNodeDevNovaValue settings[VFMIG_NODEDEV_NOVA_SETTING_LAST];
    /* vfmigNodeDevNovaDeviceSpec *, in the order Nova tries them (the
     * first that matches a device is its entry) */
    GPtrArray *deviceSpecs;
    bool deviceSpecsGiven;  /* by options: nova.conf's are not read */
    char *path;             /* the nova.conf read, or NULL */
    /* the downtime target of vfmig's policy that live_migration_downtime
     * is compared with: VFMIG_DOMAIN_POLICY_DEFAULT_TARGET_MS unless
     * @targetFrom (an option) says */
    unsigned int targetMs;
    char *targetFrom;
};

/* Nova's defaults everywhere, no device_spec. */
vfmigNodeDevNovaConf *vfmigNodeDevNovaConfNew(void);
void vfmigNodeDevNovaConfFree(vfmigNodeDevNovaConf *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevNovaConf, vfmigNodeDevNovaConfFree);

/*
 * Sets @setting from @value as written in nova.conf or given as an option
 * (@from names which, for messages), checked as Nova checks it (oslo.config:
 * true/false/yes/no/on/off/1/0 for booleans, any case; the choices of
 * live_migration_timeout_action; a whole number, at least 100 for
 * live_migration_downtime).  Returns 0, or -1 with an error
 * (VFMIG_ERR_INVALID_ARG) that names @from, the setting and the value.
 */
int vfmigNodeDevNovaConfSet(vfmigNodeDevNovaConf *conf,
                            vfmigNodeDevNovaSetting setting,
                            const char *value,
                            const char *from);

/*
 * Adds the entries of a [pci] device_spec value @text: a JSON object or a
 * list of them (a whole nova.conf line "device_spec = ..." is taken too),
 * read as Nova reads it (nova/pci/whitelist.py, devspec.py: vendor_id and
 * product_id in hexadecimal, '*' for any; the address forms of
 * vfmigNodeDevNovaAddrKind; live_migratable as oslo's bool_from_string).
 * @from names where it came from.  Returns 0, or -1 with an error
 * (VFMIG_ERR_INVALID_ARG) that quotes @text and says what is wrong.
 */
int vfmigNodeDevNovaConfAddDeviceSpec(vfmigNodeDevNovaConf *conf,
                                      const char *text,
                                      const char *from);

/*
 * Reads Nova's configuration @path (NULL: VFMIG_NODEDEV_NOVA_CONF, which
 * need not exist) into @conf: each [libvirt] setting an option did not
 * set already, and, unless options gave them, the [pci] device_spec (and
 * its old name passthrough_whitelist) values.  The file is read only when
 * it is a regular one, up to VFMIG_NODEDEV_NOVA_CONF_MAX bytes: a FIFO or
 * a device is refused, not waited on or read without end.  A value Nova
 * would refuse is left at what it was and added to @warnings
 * (vfmigNodeDevNovaWarning *, VFMIG_NODEDEV_NOVA_WARN_CONF_INVALID).
 *
 * Returns 1 when read, 0 when @path is NULL and the default file does not
 * exist (nothing reported), -1 with an error when the file cannot be read
 * or parsed.
 */
int vfmigNodeDevNovaConfLoad(vfmigNodeDevNovaConf *conf,
                             const char *path,
                             GPtrArray *warnings);

/*
 * Whether Nova takes @ds for @dev (devspec.py PciDeviceSpec.match): its
 * vendor_id and product_id, and its address matches @dev's or, when it
 * names a PF of @list (one with VFs), @dev's PF's.
 */
bool vfmigNodeDevNovaDeviceSpecMatch(const vfmigNodeDevNovaDeviceSpec *ds,
                                     const vfmigNodeDevList *list,
                                     const vfmigNodeDevPCI *dev);

/*
 * Adds to @spec's warnings what @conf means for VF migration, reading
 * @novaConf first (vfmigNodeDevNovaConfLoad; NULL: the default file when
 * it exists; a file that cannot be read is a warning,
 * VFMIG_NODEDEV_NOVA_WARN_CONF_UNREADABLE, and the options are still
 * checked).  One rule per warning, in the order of vfmigNodeDevNovaWarn.
 * Never fails.
 */
void vfmigNodeDevNovaSpecCheck(vfmigNodeDevNovaSpec *spec,
                               vfmigNodeDevNovaConf *conf,
                               const char *novaConf);
