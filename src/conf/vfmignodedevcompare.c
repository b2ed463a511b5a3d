/*
 * vfmignodedevcompare.c: can a VF's migration state move to another VF?
 *
 * The rules, from the VFIO uAPI and QEMU's vfio migration code:
 *  - the state stream is the driver's own format: both ends must run the
 *    same driver on the same PCI id, and, where they report them, the
 *    same firmware and stream format version;
 *  - both ends need STOP_COPY (without it QEMU adds a migration blocker on
 *    the source, and the destination cannot enter RESUMING usefully);
 *  - PRE_COPY is used only when both ends offer it; a destination that
 *    loads a single image (no multi-load) gets the source's 'single' mode,
 *    which keeps PRE_COPY advertised but sends everything at stop-copy;
 *  - without DMA dirty tracking on the source (device or IOMMU), QEMU
 *    migrates only with enable-migration=on and counts all guest RAM
 *    dirty; the switch-over then sends all of it, which bounds the
 *    downtime from below (vfmigNodeDevAllDirtyLeastUs).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdarg.h>
#include <string.h>

#include "vfmignodedevcompare.h"
#include "vfmigenum.h"
#include "vfmigi18n.h"

VFMIG_ENUM_IMPL(vfmigNodeDevCompareVerdictType, VFMIG_NODEDEV_COMPARE_LAST,
                "incompatible",
                "degraded",
                "compatible",
);

VFMIG_ENUM_IMPL(vfmigNodeDevQEMUType, VFMIG_NODEDEV_QEMU_LAST,
                "blocked",
                "all-dirty",
                "allowed",
);

VFMIG_ENUM_IMPL(vfmigNodeDevReasonType, VFMIG_NODEDEV_REASON_LAST,
                "no-capability",
                "driver",
                "id",
                "firmware",
                "stream-version",
                "no-stop-copy",
                "no-pre-copy",
                "no-multi-load",
                "no-dirty-tracking",
);

VFMIG_ENUM_IMPL(vfmigNodeDevSideType, VFMIG_NODEDEV_SIDE_LAST,
                "both",
                "source",
                "destination",
);


static void
reasonFree(gpointer opaque)
{
    vfmigNodeDevCompareReason *reason = opaque;

    g_free(reason->message);
    g_free(reason);
}


void
vfmigNodeDevCompareResultFree(vfmigNodeDevCompareResult *res)
{
    if (!res)
        return;
    if (res->reasons)
        g_ptr_array_unref(res->reasons);
    g_free(res);
}


static void
addReason(vfmigNodeDevCompareResult *res,
          vfmigNodeDevReason code,
          vfmigNodeDevSide side,
          bool fatal,
          const char *fmt,
          ...)
    G_GNUC_PRINTF(5, 6);

static void
addReason(vfmigNodeDevCompareResult *res,
          vfmigNodeDevReason code,
          vfmigNodeDevSide side,
          bool fatal,
          const char *fmt,
          ...)
{
    vfmigNodeDevCompareReason *reason = g_new0(vfmigNodeDevCompareReason, 1);
    va_list ap;

    reason->code = code;
    reason->side = side;
    reason->fatal = fatal;
    va_start(ap, fmt);
    reason->message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(res->reasons, reason);
}


static const char *
str(const char *s)
{
    return s ? s : "";
}


static void
compareIdentity(vfmigNodeDevCompareResult *res,
                const vfmigNodeDevCapVFIOMig *src,
                const vfmigNodeDevCapVFIOMig *dst)
{
    if (g_strcmp0(src->driver, dst->driver) != 0) {
        addReason(res, VFMIG_NODEDEV_REASON_DRIVER, VFMIG_NODEDEV_SIDE_BOTH, true,
                  _("the devices are bound to different drivers (source '%1$s', destination '%2$s'): a driver loads only its own state format"),
                  str(src->driver), str(dst->driver));
    }

    if (src->vendor != dst->vendor || src->device != dst->device) {
        addReason(res, VFMIG_NODEDEV_REASON_ID, VFMIG_NODEDEV_SIDE_BOTH, true,
                  _("the devices have different PCI ids (source %1$04x:%2$04x, destination %3$04x:%4$04x)"),
                  src->vendor, src->device, dst->vendor, dst->device);
    }

    if (src->firmware && dst->firmware &&
        strcmp(src->firmware, dst->firmware) != 0) {
        addReason(res, VFMIG_NODEDEV_REASON_FIRMWARE, VFMIG_NODEDEV_SIDE_BOTH, true,
                  _("the devices run different firmware (source '%1$s', destination '%2$s')"),
                  src->firmware, dst->firmware);
    }

    if (src->streamVersion && dst->streamVersion &&
        src->streamVersion != dst->streamVersion) {
        addReason(res, VFMIG_NODEDEV_REASON_STREAM_VERSION, VFMIG_NODEDEV_SIDE_BOTH, true,
                  _("the devices use different state stream versions (source %1$u, destination %2$u)"),
                  src->streamVersion, dst->streamVersion);
    }
}


static void
compareStopCopy(vfmigNodeDevCompareResult *res,
                const vfmigNodeDevCapVFIOMig *src,
                const vfmigNodeDevCapVFIOMig *dst)
{
    if (!(src->features & VFMIG_NODEDEV_FEATURE_STOP_COPY)) {
        addReason(res, VFMIG_NODEDEV_REASON_NO_STOP_COPY, VFMIG_NODEDEV_SIDE_SOURCE, true,
                  _("the source device ('%1$s') does not offer stop-copy: QEMU blocks migrating the VM"),
                  str(src->driver));
    }
    if (!(dst->features & VFMIG_NODEDEV_FEATURE_STOP_COPY)) {
        addReason(res, VFMIG_NODEDEV_REASON_NO_STOP_COPY, VFMIG_NODEDEV_SIDE_DESTINATION, true,
                  _("the destination device ('%1$s') does not offer stop-copy: it cannot load a migration state"),
                  str(dst->driver));
    }
}


static void
addNoPrecopy(vfmigNodeDevCompareResult *res,
             const vfmigNodeDevCapVFIOMig *cap,
             vfmigNodeDevSide side)
{
    bool source = side == VFMIG_NODEDEV_SIDE_SOURCE;

    if (cap->precopy == VFMIG_NODEDEV_PRECOPY_OFF) {
        addReason(res, VFMIG_NODEDEV_REASON_NO_PRE_COPY, side, false, "%s",
                  source ?
                  _("the source device has pre-copy switched off (mode 'off'): the state is sent only while the VM is stopped") :
                  _("the destination device has pre-copy switched off (mode 'off'): the state is sent only while the VM is stopped"));
    } else {
        addReason(res, VFMIG_NODEDEV_REASON_NO_PRE_COPY, side, false, "%s",
                  source ?
                  _("the source device does not offer pre-copy: the state is sent only while the VM is stopped") :
                  _("the destination device does not offer pre-copy: the state is sent only while the VM is stopped"));
    }
}


static void
comparePrecopy(vfmigNodeDevCompareResult *res,
               const vfmigNodeDevCapVFIOMig *src,
               const vfmigNodeDevCapVFIOMig *dst)
{
    bool srcPre = src->features & VFMIG_NODEDEV_FEATURE_PRE_COPY;
    bool dstPre = dst->features & VFMIG_NODEDEV_FEATURE_PRE_COPY;

    res->precopy = VFMIG_NODEDEV_PRECOPY_OFF;
    if (!srcPre)
        addNoPrecopy(res, src, VFMIG_NODEDEV_SIDE_SOURCE);
    if (!dstPre)
        addNoPrecopy(res, dst, VFMIG_NODEDEV_SIDE_DESTINATION);
    if (!srcPre || !dstPre)
        return;

    if (dst->features & VFMIG_NODEDEV_FEATURE_MULTI_LOAD) {
        res->precopy = VFMIG_NODEDEV_PRECOPY_ON;
        return;
    }
    res->precopy = VFMIG_NODEDEV_PRECOPY_SINGLE;
    addReason(res, VFMIG_NODEDEV_REASON_NO_MULTI_LOAD, VFMIG_NODEDEV_SIDE_DESTINATION, false, "%s",
              _("the destination device cannot load several images (no multi-load): the source must use pre-copy mode 'single' and sends its whole state while the VM is stopped"));
}


static void
compareDirty(vfmigNodeDevCompareResult *res,
             const vfmigNodeDevCapVFIOMig *src)
{
    if (!(src->features & VFMIG_NODEDEV_FEATURE_STOP_COPY)) {
        res->qemu = VFMIG_NODEDEV_QEMU_BLOCKED;
        return;
    }
    if (src->dirty != VFMIG_NODEDEV_DIRTY_NONE) {
        res->qemu = VFMIG_NODEDEV_QEMU_ALLOWED;
        return;
    }

    res->qemu = VFMIG_NODEDEV_QEMU_ALL_DIRTY;
    if (src->dirtyReason) {
        addReason(res, VFMIG_NODEDEV_REASON_NO_DIRTY_TRACKING, VFMIG_NODEDEV_SIDE_SOURCE, false,
                  _("the source device has no DMA dirty tracking (%1$s): QEMU migrates it only with enable-migration=on and counts all guest RAM as dirty"),
                  src->dirtyReason);
    } else {
        addReason(res, VFMIG_NODEDEV_REASON_NO_DIRTY_TRACKING, VFMIG_NODEDEV_SIDE_SOURCE, false, "%s",
                  _("the source device has no DMA dirty tracking: QEMU migrates it only with enable-migration=on and counts all guest RAM as dirty"));
    }
}


vfmigNodeDevCompareResult *
vfmigNodeDevCapVFIOMigCompare(const vfmigNodeDevCapVFIOMig *src,
                              const vfmigNodeDevCapVFIOMig *dst)
{
    g_autoptr(vfmigNodeDevCompareResult) res = g_new0(vfmigNodeDevCompareResult, 1);
    size_t i;

    res->reasons = g_ptr_array_new_with_free_func(reasonFree);
    res->precopy = VFMIG_NODEDEV_PRECOPY_OFF;
    res->qemu = VFMIG_NODEDEV_QEMU_BLOCKED;

    if (!src) {
        addReason(res, VFMIG_NODEDEV_REASON_NO_CAPABILITY, VFMIG_NODEDEV_SIDE_SOURCE, true, "%s",
                  _("the source device has no vfio-migration capability (no VFIO migration driver is bound to it): QEMU blocks migrating the VM"));
    }
    if (!dst) {
        addReason(res, VFMIG_NODEDEV_REASON_NO_CAPABILITY, VFMIG_NODEDEV_SIDE_DESTINATION, true, "%s",
                  _("the destination device has no vfio-migration capability (no VFIO migration driver is bound to it)"));
    }

    if (src && dst) {
        compareIdentity(res, src, dst);
        compareStopCopy(res, src, dst);
        comparePrecopy(res, src, dst);
    }
    if (src)
        compareDirty(res, src);

    res->verdict = VFMIG_NODEDEV_COMPARE_COMPATIBLE;
    if (res->reasons->len > 0)
        res->verdict = VFMIG_NODEDEV_COMPARE_DEGRADED;
    for (i = 0; i < res->reasons->len; i++) {
        vfmigNodeDevCompareReason *reason = g_ptr_array_index(res->reasons, i);

        if (reason->fatal)
            res->verdict = VFMIG_NODEDEV_COMPARE_INCOMPATIBLE;
    }
    /* Nothing moves: no pre-copy mode to choose. */
    if (res->verdict == VFMIG_NODEDEV_COMPARE_INCOMPATIBLE)
        res->precopy = VFMIG_NODEDEV_PRECOPY_OFF;

    return g_steal_pointer(&res);
}


uint64_t
vfmigNodeDevAllDirtyLeastUs(uint64_t ramBytes,
                            uint64_t linkBps)
{
    const uint64_t usPerS = 1000 * 1000;
    uint64_t whole;
    uint64_t rest;
    uint64_t frac;

    if (ramBytes == 0)
        return 0;
    if (linkBps == 0)
        return UINT64_MAX;

    /* whole seconds, then the rest of a second, each exact and rounded up
     * once; a product that cannot overflow by construction */
    whole = ramBytes / linkBps;
    rest = ramBytes % linkBps;
    if (whole > (UINT64_MAX - usPerS) / usPerS)
        return UINT64_MAX;
    if (rest == 0)
        frac = 0;
    else if (rest <= UINT64_MAX / usPerS)
        frac = rest * usPerS / linkBps + (rest * usPerS % linkBps != 0);
    else    /* a link beyond 18 TB/s: a microsecond's precision suffices */
        frac = (uint64_t) ((double) rest / (double) linkBps * (double) usPerS) + 1;
    return whole * usPerS + MIN(frac, usPerS);
}


char *
vfmigNodeDevAllDirtyFormatTime(uint64_t us)
{
    double s = us / 1e6;

    if (us == UINT64_MAX)
        return g_strdup(_("unknown"));
    if (s >= 9.95)
        return g_strdup_printf(_("%1$.0f s"), s);
    if (s >= 0.995)
        return g_strdup_printf(_("%1$.1f s"), s);
    if (s >= 0.0995)
        return g_strdup_printf(_("%1$.2f s"), s);
    if (us >= 9950)
        return g_strdup_printf(_("%1$.0f ms"), us / 1e3);
    return g_strdup_printf(_("%1$.1f ms"), us / 1e3);
}


char *
vfmigNodeDevAllDirtyFormatRAM(uint64_t bytes)
{
    const uint64_t mib = 1024 * 1024;

    if (bytes >= 1024 * mib)
        return g_strdup_printf(_("%1$.1f GiB"), bytes / (1024.0 * mib));
    if (bytes >= mib)
        return g_strdup_printf(_("%1$.0f MiB"), (double) bytes / mib);
    return g_strdup_printf(_("%1$llu bytes"), (unsigned long long) bytes);
}


char *
vfmigNodeDevAllDirtyFormatLink(uint64_t linkBps)
{
    /* decimal units, as links are sold and ethtool reports them */
    double mbit = linkBps * 8.0 / 1e6;

    if (mbit >= 1000.0) {
        if (linkBps % 125000000 == 0)
            return g_strdup_printf(_("%1$llu Gbit/s"),
                                   (unsigned long long) (linkBps / 125000000));
        return g_strdup_printf(_("%1$.1f Gbit/s"), mbit / 1000.0);
    }
    return g_strdup_printf(_("%1$.0f Mbit/s"), mbit);
}
