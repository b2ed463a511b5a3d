/*
 * virt-vfmig-device.c: device commands of virt-vfmig
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>

#include "virt-vfmig.h"
#include "vfmigdevicevfio.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"
#include "vfmigi18n.h"
#include "vfmigstring.h"
#include "vfmigvfio.h"


static void
vfmigPrintField(const char *label, const char *value)
{
    /* the label is translated; pad by characters, not bytes */
    glong width = g_utf8_strlen(label, -1);

    printf("%s:%*s%s\n", label, (int) MAX(1, 16 - width), "", value);
}


static bool
cmdDeviceInfo(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *name = vfmigCmdGetString(cmd, "device");
    g_autoptr(vfmigDevice) dev = NULL;
    g_autofree char *flagsStr = NULL;
    g_autofree char *sizeStr = NULL;
    g_autofree char *driver = NULL;
    vfmigVFIOPaths paths = { 0 };
    uint64_t flags;
    uint64_t stopCopy;
    int rc;
    uint32_t state;

    if (vfmigVFIOParseName(name, NULL, NULL) < 0)
        return vfmigShellUsageErrorLast(ctl);

    vfmigVFIOPathsFromEnv(&paths);

    if (!(dev = vfmigDeviceVFIOOpen(name, &paths)))
        return false;

    if (vfmigDeviceGetFlags(dev, &flags) < 0 ||
        vfmigDeviceGetState(dev, &state) < 0)
        return false;

    flagsStr = vfmigDeviceFlagsString(flags);

    if ((rc = vfmigDeviceStopCopySize(dev, &stopCopy)) < 0)
        return false;
    if (rc > 0)
        sizeStr = g_strdup_printf(_("%1$llu bytes"),
                                  (unsigned long long) stopCopy);
    else
        sizeStr = g_strdup(_("unsupported by this kernel"));

    vfmigPrintField(_("Name"), vfmigDeviceGetName(dev));
    driver = vfmigStringEscapeText(vfmigDeviceGetDriver(dev));
    vfmigPrintField(_("Driver"), driver ? driver : _("unknown"));
    vfmigPrintField(_("Migration"), flagsStr);
    vfmigPrintField(_("State"), vfmig_fsm_state_name(state));
    vfmigPrintField(_("Stop-copy size"), sizeStr);
    return true;
}


static const vfmigCmdOptDef optsDeviceInfo[] = {
    { "device", VFMIG_OPT_ARG, true,
      N_("PCI address (DDDD:BB:SS.F, or BB:SS.F in domain 0000) or mdev UUID of a device bound to a VFIO driver") },
    { NULL, 0, false, NULL }
};

const vfmigCmdDef vfmigDeviceCmds[] = {
    { "device-info", cmdDeviceInfo, optsDeviceInfo,
      N_("show a device's VFIO migration capabilities and state"),
      N_("Opens the device through VFIO, without resetting it, and prints its "
         "migration features (stop-copy, p2p, pre-copy), its current "
         "migration state and the bytes a stop-copy would send now.  A device "
         "that a VM (QEMU) or another program holds is refused, not touched.") },
    { NULL, NULL, NULL, NULL, NULL }
};
