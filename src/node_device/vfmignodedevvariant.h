/*
 * vfmignodedevvariant.h: the VFIO driver libvirt binds a managed hostdev to
 *
 * libvirt binds the VF of a PCI hostdev (or <interface type='hostdev'>)
 * with managed='yes' itself: when the domain starts, and on the
 * destination of an incoming migration at Prepare, after the hook's
 * "migrate begin".  libvirt 10.0 and later choose the driver as
 * virPCIDeviceBindToStub and virPCIDeviceFindBestVFIOVariant do
 * (libvirt's src/util/virpci.c; commit 82e2fac29710, "qemu:
 * automatically bind to a vfio variant driver, if available"):
 *
 *   1. the hostdev's <driver model='NAME'/>, when it has one: NAME, no
 *      lookup (<driver model='vfio-pci'/> forces plain vfio-pci);
 *   2. else the module of the best "vfio_pci:" alias for the device in
 *      the running kernel's /lib/modules/$(uname -r)/modules.alias, which
 *      depmod writes from the modules' MODULE_DEVICE_TABLE (a variant
 *      driver declares its ids with PCI_DRIVER_OVERRIDE_DEVICE_VFIO, as
 *      mlx5_vfio_pci, vfmig_testdev and vfmig_mlx5model do):
 *       - the device's side is its sysfs modalias,
 *         "pci:vVVVVVVVVdDDDDDDDDsvSSSSSSSSsdSSSSSSSSbcBBscSSiII";
 *       - every line "alias vfio_pci:PATTERN MODULE" that follows a
 *         newline is a candidate (libvirt looks for "\nalias vfio_pci:":
 *         an alias on the file's first line, where depmod writes a
 *         comment, is never seen);
 *       - PATTERN has the same seven fields v, d, sv, sd, bc, sc, i, each
 *         running to the next field's name (to a blank for i); a field
 *         that is exactly "*" matches anything and is a wildcard, any
 *         other must equal the device's exactly (case and all: both are
 *         upper-case hex);
 *       - a PATTERN that does not split into the seven fields is skipped
 *         (a field's value runs to the next field's name wherever it is,
 *         a later line included); a match's MODULE runs from the first
 *         blank after the PATTERN (on a later line if its own has none)
 *         to the end of that line, and a match with no blank after it at
 *         all is skipped;
 *       - the match with the fewest wildcards wins; of equal ones, the
 *         first in the file;
 *       - the file is read whole, at most 8 MiB (virFileReadAll): a
 *         larger or unreadable file, or an unreadable or malformed
 *         modalias, and libvirt fails to start the domain;
 *   3. else vfio-pci.
 *
 * libvirt then loads the module when its driver is not registered yet
 * (modprobe) and binds the device to it through driver_override, also a
 * device bound to another driver (another VFIO driver included).
 * libvirt before 10.0 binds every managed PCI hostdev to vfio-pci.
 *
 * vfmigNodeDevBindPredict tells that driver, read-only, and whether it
 * can migrate the device: a driver vfmig knows to have VFIO migration
 * (vfmigdriver.h) and that this host has (registered in sysfs, or its
 * module in modules.dep).  What the driver tells only once it is bound
 * (its migration features, firmware, state format and size) is not
 * known before.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

#include "vfmignodedevprobe.h"

#define VFMIG_NODEDEV_MODULES_ROOT "/lib/modules"

/* The most of modules.alias libvirt reads (virPCIDeviceFindBestVFIOVariant),
 * and of modules.dep. */
#define VFMIG_NODEDEV_MODULES_FILE_MAX (8 * 1024 * 1024)

/* The driver libvirt binds when no alias matches. */
#define VFMIG_NODEDEV_VFIO_PCI "vfio-pci"

typedef enum {
    VFMIG_NODEDEV_BIND_MODEL = 0,   /* the hostdev's <driver model=> */
    VFMIG_NODEDEV_BIND_ALIAS,       /* the best vfio_pci alias's module */
    VFMIG_NODEDEV_BIND_DEFAULT,     /* no alias matches: vfio-pci */

    VFMIG_NODEDEV_BIND_LAST
} vfmigNodeDevBindFrom;

typedef struct _vfmigNodeDevBind vfmigNodeDevBind;
struct _vfmigNodeDevBind {
    char *driver;               /* "mlx5_vfio_pci", "vfio-pci" */
    vfmigNodeDevBindFrom from;
    char *modulesDir;           /* the module tree looked in */
    char *aliasFile;            /* its modules.alias (ALIAS, DEFAULT) */
    char *modalias;             /* the device's, without "pci:" (ALIAS,
                                 * DEFAULT) */
    unsigned int vendor;        /* its ids, from it (ALIAS, DEFAULT) */
    unsigned int device;
    char *pattern;              /* the alias that won (ALIAS) */
    unsigned int wildcards;     /* its wildcard fields (ALIAS) */
    /* @driver has VFIO migration and this host has it: libvirt binds the
     * device to a driver that can migrate it */
    bool migration;
    /* !@migration: why, and what to do (translated) */
    char *reason;
};

void vfmigNodeDevBindFree(vfmigNodeDevBind *bind);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigNodeDevBind, vfmigNodeDevBindFree);

/*
 * The best vfio_pci alias of @aliases (the text of a modules.alias) for
 * the device modalias @modalias (without "pci:"), by libvirt's rule
 * above.  Returns 1 with *@module (the alias's MODULE), *@pattern and
 * *@wildcards; 0 when no alias matches (the three untouched); -1 when
 * @modalias does not split into the seven fields (an error reported).
 */
int vfmigNodeDevBestVFIOVariant(const char *modalias,
                                const char *aliases,
                                char **module,
                                char **pattern,
                                unsigned int *wildcards);

/*
 * The driver libvirt binds the PCI device @address under @paths (NULL:
 * the real system) to as a managed hostdev with <driver model=@model/>
 * (NULL: none), and whether that driver can migrate it.  Reads the
 * device's modalias, <modulesDir>/modules.alias (both only without
 * @model) and, for a driver with migration that is not registered in
 * sysfs, <modulesDir>/modules.dep.  Returns 0 with *@bind; -1 with an
 * error where libvirt would fail to start the domain (the modalias or
 * modules.alias unreadable, malformed or too large), or modules.dep
 * cannot be read.
 */
int vfmigNodeDevBindPredict(const vfmigNodeDevProbePaths *paths,
                            const char *address,
                            const char *model,
                            vfmigNodeDevBind **bind);

/*
 * "'mlx5_vfio_pci' (its best vfio_pci alias in
 * '/lib/modules/6.1.0-37-amd64/modules.alias',
 * 'v000015B3d0000101Esv*sd*bc*sc*i*')": the driver of @bind and where
 * it comes from, for messages (translated).
 */
char *vfmigNodeDevBindDescribe(const vfmigNodeDevBind *bind);
