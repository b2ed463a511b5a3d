/*
 * vfmignodedevquery.c: what the node-device commands decide
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include "vfmignodedevquery.h"
#include "vfmignodedevxml.h"
#include "vfmigerror.h"
#include "vfmigfile.h"
#include "vfmigi18n.h"


bool
vfmigNodeDevListMatch(const vfmigNodeDevPCI *dev,
                      unsigned int filter)
{
    if (!(filter & VFMIG_NODEDEV_LIST_ALL_PCI) && !dev->vfio)
        return false;
    if ((filter & VFMIG_NODEDEV_LIST_PRE_COPY) &&
        (!dev->cap || !(dev->cap->features & VFMIG_NODEDEV_FEATURE_PRE_COPY)))
        return false;
    return true;
}


const char *
vfmigNodeDevCapState(const vfmigNodeDevCapVFIOMig *cap)
{
    return cap->live && cap->live->state ? cap->live->state : "RUNNING";
}


char *
vfmigNodeDevHowToLearn(const char *address)
{
    return g_strdup_printf(_("run 'virt-vfmig device-qualify %1$s', or 'virt-vfmig nodedev-list --vfio-query' (the VFIO feature query): both need the device idle, and vfio-pci resets a function it opens"),
                           address);
}


const char *
vfmigNodeDevUnknownNote(const vfmigNodeDevPCI *dev)
{
    return dev->note ? dev->note : _("migration features unknown");
}


void
vfmigNodeDevCompareRunFree(vfmigNodeDevCompareRun *run)
{
    if (!run)
        return;
    vfmigNodeDevCapVFIOMigFree(run->src);
    vfmigNodeDevCapVFIOMigFree(run->dst);
    vfmigNodeDevCompareResultFree(run->res);
    g_ptr_array_unref(run->warnings);
    g_free(run);
}


/* The capability in the node-device XML file @path. */
static vfmigNodeDevCapVFIOMig *
vfmigNodeDevCompareLoadFile(const char *path)
{
    g_autofree char *content = NULL;
    vfmigNodeDevCapVFIOMig *cap = NULL;

    if (vfmigFileRead(_("node-device XML file"), path,
                      VFMIG_NODEDEV_COMPARE_FILE_MAX, 0,
                      &content, NULL) < 0)
        return NULL;
    if (strstr(content, "<device")) {
        if (vfmigNodeDevXMLExtractCap(content, &cap) < 0)
            return NULL;
    } else if (!(cap = vfmigNodeDevCapVFIOMigParseString(content))) {
        return NULL;
    }
    if (!cap)
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("'%1$s' has no vfio-migration capability: the device cannot migrate its state"),
                         path);
    return cap;
}


/* The capability of the device @arg of this host, probed. */
static vfmigNodeDevCapVFIOMig *
vfmigNodeDevCompareLoadDevice(const vfmigNodeDevProbePaths *paths,
                              unsigned int flags,
                              const char *arg,
                              vfmigNodeDevCompareRun *run)
{
    g_autoptr(vfmigNodeDevPCI) dev = NULL;
    g_autofree char *address = NULL;
    vfmigPCIAddress addr;

    if (vfmigPCIAddressParse(arg, VFMIG_PCI_ADDRESS_NODEDEV_NAME, &addr) < 0) {
        g_autofree char *why = g_strdup(vfmigGetLastErrorMessage());

        /* meant as a file, maybe: say both */
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("no file '%1$s' (a file name without '/' is read only when it exists), and %2$s"),
                         arg, why);
        run->badArg = true;
        return NULL;
    }
    address = vfmigPCIAddressFormat(&addr);
    if (vfmigNodeDevProbeOne(paths, address, flags, &dev) < 0)
        return NULL;
    if (dev->errors)
        g_ptr_array_extend_and_steal(run->warnings,
                                     g_steal_pointer(&dev->errors));
    if (!dev->cap) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("device '%1$s' has no vfio-migration capability: %2$s"),
                         address, dev->note ? dev->note : _("not bound to a VFIO driver"));
        return NULL;
    }
    return g_steal_pointer(&dev->cap);
}


static vfmigNodeDevCapVFIOMig *
vfmigNodeDevCompareLoad(const vfmigNodeDevProbePaths *paths,
                        unsigned int flags,
                        const char *arg,
                        vfmigNodeDevCompareRun *run)
{
    if (g_file_test(arg, G_FILE_TEST_IS_REGULAR) || strchr(arg, '/'))
        return vfmigNodeDevCompareLoadFile(arg);
    return vfmigNodeDevCompareLoadDevice(paths, flags, arg, run);
}


int
vfmigNodeDevCompareArgs(const vfmigNodeDevProbePaths *paths,
                        unsigned int flags,
                        const char *srcArg,
                        const char *dstArg,
                        vfmigNodeDevCompareRun **run)
{
    vfmigNodeDevCompareRun *r = g_new0(vfmigNodeDevCompareRun, 1);

    r->warnings = g_ptr_array_new_with_free_func((GDestroyNotify) vfmigErrorFree);
    *run = r;

    if (!(r->src = vfmigNodeDevCompareLoad(paths, flags, srcArg, r)) ||
        !(r->dst = vfmigNodeDevCompareLoad(paths, flags, dstArg, r)))
        return -1;

    r->res = vfmigNodeDevCapVFIOMigCompare(r->src, r->dst);
    return 0;
}
