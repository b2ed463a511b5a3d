/*
 * virt-vfmig-nodedev-compare.c: virt-vfmig nodedev-compare
 *
 * The handler parses options, calls vfmigNodeDevCompareArgs and prints
 * the comparison.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>

#include "virt-vfmig-nodedev.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmigjson.h"
#include "vfmignodedevquery.h"
#include "vfmigstring.h"


static const char *
vfmigNodeDevQEMUText(vfmigNodeDevQEMU qemu)
{
    switch (qemu) {
    case VFMIG_NODEDEV_QEMU_BLOCKED:
        return _("blocked: QEMU refuses to migrate the VM");
    case VFMIG_NODEDEV_QEMU_ALL_DIRTY:
        return _("allowed only with enable-migration=on; QEMU then counts all guest RAM dirty");
    case VFMIG_NODEDEV_QEMU_ALLOWED:
        return _("allowed");
    case VFMIG_NODEDEV_QEMU_LAST:
        break;
    }
    return "?";
}


static void
vfmigNodeDevComparePrintJSON(const vfmigNodeDevCompareResult *res)
{
    g_autoptr(vfmigJSONWriter) w = vfmigJSONWriterNew();
    g_autofree char *out = NULL;
    size_t i;

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "verdict", vfmigNodeDevCompareVerdictTypeToString(res->verdict));
    vfmigJSONString(w, "pre-copy", vfmigNodeDevPrecopyTypeToString(res->precopy));
    vfmigJSONString(w, "qemu", vfmigNodeDevQEMUTypeToString(res->qemu));
    vfmigJSONBeginArray(w, "reasons");
    for (i = 0; i < res->reasons->len; i++) {
        vfmigNodeDevCompareReason *r = g_ptr_array_index(res->reasons, i);

        vfmigJSONBeginObject(w, NULL);
        vfmigJSONString(w, "code", vfmigNodeDevReasonTypeToString(r->code));
        vfmigJSONString(w, "side", vfmigNodeDevSideTypeToString(r->side));
        vfmigJSONBool(w, "fatal", r->fatal);
        vfmigJSONString(w, "message", r->message);
        vfmigJSONEndObject(w);
    }
    vfmigJSONEndArray(w);
    vfmigJSONEndObject(w);
    out = vfmigJSONWriterFinish(w);
    fputs(out, stdout);
}


static void
vfmigNodeDevComparePrintText(const vfmigNodeDevCompareResult *res)
{
    size_t i;

    switch (res->verdict) {
    case VFMIG_NODEDEV_COMPARE_COMPATIBLE:
        printf(_("Compatible: the device state can move from source to destination.\n"));
        break;
    case VFMIG_NODEDEV_COMPARE_DEGRADED:
        printf(_("Compatible with limits: the device state can move, but not at its best.\n"));
        break;
    case VFMIG_NODEDEV_COMPARE_INCOMPATIBLE:
    case VFMIG_NODEDEV_COMPARE_LAST:
        printf(_("Incompatible: the device state cannot move from source to destination.\n"));
        break;
    }
    if (res->verdict != VFMIG_NODEDEV_COMPARE_INCOMPATIBLE) {
        printf(_("Pre-copy: %1$s\n"),
               res->precopy == VFMIG_NODEDEV_PRECOPY_ON ?
               _("on (state streams while the VM runs)") :
               res->precopy == VFMIG_NODEDEV_PRECOPY_SINGLE ?
               _("single (the source sends its state as one image at stop-copy: the destination loads only one)") :
               _("off (the whole state moves while the VM is stopped)"));
    }
    printf(_("QEMU on the source: %1$s\n"), vfmigNodeDevQEMUText(res->qemu));
    for (i = 0; i < res->reasons->len; i++) {
        vfmigNodeDevCompareReason *r = g_ptr_array_index(res->reasons, i);
        g_autofree char *msg = vfmigStringEscapeText(r->message);

        /* the messages quote the XML's strings */
        printf("  - %s%s\n", r->fatal ? _("[refused] ") : "", msg);
    }
}


bool
cmdNodeDevCompare(vfmigCtl *ctl, const vfmigCmd *cmd)
{
    const char *srcArg = vfmigCmdGetString(cmd, "source");
    const char *dstArg = vfmigCmdGetString(cmd, "destination");
    g_autoptr(vfmigNodeDevCompareRun) run = NULL;
    vfmigNodeDevProbePaths paths;
    int rc;

    vfmigNodeDevProbePathsFromEnv(&paths);
    rc = vfmigNodeDevCompareArgs(&paths, vfmigNodeDevCmdProbeFlags(cmd),
                                 srcArg, dstArg, &run);
    vfmigNodeDevPrintErrors(run->warnings);
    if (rc < 0) {
        /* neither a file nor a device is the command line's error */
        if (run->badArg)
            return vfmigShellUsageErrorLast(ctl);
        return false;
    }

    if (vfmigCmdGetBool(cmd, "json")) {
        vfmigNodeDevComparePrintJSON(run->res);
        ctl->jsonPrinted = true;
    } else
        vfmigNodeDevComparePrintText(run->res);

    if (run->res->verdict == VFMIG_NODEDEV_COMPARE_INCOMPATIBLE) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("the device state cannot migrate from '%1$s' to '%2$s'"),
                         srcArg, dstArg);
        return false;
    }
    return true;
}


const vfmigCmdOptDef vfmigNodeDevOptsCompare[] = {
    { "source", VFMIG_OPT_ARG, true,
      N_("the source: a node-device XML file, or a device of this host") },
    { "destination", VFMIG_OPT_ARG, true,
      N_("the destination: a node-device XML file, or a device of this host") },
    VFMIG_COMMON_OPT_JSON,
    { "vfio-query", VFMIG_OPT_BOOL, false,
      N_("for devices of this host, as in nodedev-dumpxml") },
    { NULL, 0, false, NULL }
};
