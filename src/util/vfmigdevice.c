/*
 * vfmigdevice.c: the device interface, checked against the shared FSM
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include "vfmigdevice.h"
#include "vfmigdriver.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"

VFMIG_ENUM_IMPL(vfmigFeature, VFMIG_FEATURE_LAST,
                "stop-copy",
                "p2p",
                "pre-copy",
                "multi-load",
);
G_STATIC_ASSERT(VFIO_MIGRATION_STOP_COPY == 1 << VFMIG_FEATURE_STOP_COPY);
G_STATIC_ASSERT(VFIO_MIGRATION_P2P == 1 << VFMIG_FEATURE_P2P);
G_STATIC_ASSERT(VFIO_MIGRATION_PRE_COPY == 1 << VFMIG_FEATURE_PRE_COPY);


vfmigDevice *
vfmigDeviceNew(const vfmigDeviceOps *ops,
               const char *name,
               void *priv)
{
    vfmigDevice *dev = g_new0(vfmigDevice, 1);

    dev->ops = ops;
    dev->name = g_strdup(name);
    dev->priv = priv;
    return dev;
}


void
vfmigDeviceFree(vfmigDevice *dev)
{
    if (!dev)
        return;
    if (dev->ops && dev->ops->dispose)
        dev->ops->dispose(dev);
    g_free(dev->name);
    g_free(dev->driver);
    g_free(dev);
}


const char *
vfmigDeviceGetName(vfmigDevice *dev)
{
    return dev->name;
}


const char *
vfmigDeviceGetDriver(vfmigDevice *dev)
{
    return dev->driver;
}


bool
vfmigDriverStopCopyIsWholeState(const char *driver)
{
    const vfmigDriverInfo *info = vfmigDriverLookup(driver);

    return info && info->stopCopyWholeState;
}


int
vfmigDeviceGetFlags(vfmigDevice *dev, uint64_t *flags)
{
    if (!dev->haveFlags) {
        if (dev->ops->getFlags(dev, &dev->flags) < 0)
            return -1;
        dev->haveFlags = true;
    }
    *flags = dev->flags;
    return 0;
}


int
vfmigDeviceGetState(vfmigDevice *dev, uint32_t *state)
{
    return dev->ops->getState(dev, state);
}


int
vfmigDeviceSetState(vfmigDevice *dev, uint32_t state)
{
    uint64_t flags;
    uint32_t cur;
    gint64 start;
    gint64 us;
    int rc;

    if (vfmigDeviceGetFlags(dev, &flags) < 0 ||
        vfmigDeviceGetState(dev, &cur) < 0)
        return -1;

    if (vfmigFSMCheckTransition(dev->name, flags, cur, state) < 0) {
        VFMIG_DEBUG("device %s: %s -> %s refused by the FSM",
                    dev->name, vfmig_fsm_state_name(cur),
                    vfmig_fsm_state_name(state));
        return -1;
    }

    if (cur == state) {
        VFMIG_DEBUG("device %s: already %s", dev->name, vfmig_fsm_state_name(cur));
        return 0;
    }

    start = g_get_monotonic_time();
    rc = dev->ops->setState(dev, state);
    us = g_get_monotonic_time() - start;
    if (rc == 0) {
        VFMIG_DEBUG("device %s: %s -> %s in %" G_GINT64_FORMAT " us",
                    dev->name, vfmig_fsm_state_name(cur),
                    vfmig_fsm_state_name(state), us);
    } else {
        VFMIG_DEBUG("device %s: %s -> %s failed after %" G_GINT64_FORMAT " us",
                    dev->name, vfmig_fsm_state_name(cur),
                    vfmig_fsm_state_name(state), us);
    }
    return rc;
}


/* The data session exists only in the saving group and in RESUMING. */
static int
vfmigDeviceCheckSession(vfmigDevice *dev, bool saving)
{
    uint32_t cur;

    if (vfmigDeviceGetState(dev, &cur) < 0)
        return -1;

    if (saving ? !vfmig_fsm_state_is_saving(cur) :
                 cur != VFIO_DEVICE_STATE_RESUMING) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         saving ?
                         _("device '%1$s' has no state to read in the %2$s state") :
                         _("device '%1$s' cannot load state in the %2$s state"),
                         dev->name, vfmig_fsm_state_name(cur));
        return -1;
    }
    return 0;
}


ssize_t
vfmigDeviceRead(vfmigDevice *dev,
                void *buf,
                size_t len,
                vfmigDataStatus *status)
{
    if (len == 0) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("cannot read device state into an empty buffer"));
        return -1;
    }
    return dev->ops->read(dev, buf, len, status);
}


int
vfmigDeviceWriteAll(vfmigDevice *dev, const void *buf, size_t len)
{
    const char *p = buf;

    if (len == 0)
        return 0;

    if (vfmigDeviceCheckSession(dev, false) < 0)
        return -1;

    while (len > 0) {
        ssize_t n = dev->ops->write(dev, p, len);

        if (n < 0)
            return -1;
        if (n == 0 || (size_t) n > len) {
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             _("device '%1$s' accepted %2$zd of %3$zu bytes of state"),
                             dev->name, n, len);
            return -1;
        }
        p += n;
        len -= n;
    }
    return 0;
}


int
vfmigDeviceWaitData(vfmigDevice *dev, int timeoutMs)
{
    return dev->ops->waitData(dev, timeoutMs);
}


int
vfmigDevicePrecopyInfo(vfmigDevice *dev,
                       uint64_t *initialBytes,
                       uint64_t *dirtyBytes)
{
    uint32_t cur;

    if (vfmigDeviceGetState(dev, &cur) < 0)
        return -1;

    if (cur != VFIO_DEVICE_STATE_PRE_COPY &&
        cur != VFIO_DEVICE_STATE_PRE_COPY_P2P) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("device '%1$s' gives pre-copy estimates only in PRE_COPY and PRE_COPY_P2P, not in %2$s"),
                         dev->name, vfmig_fsm_state_name(cur));
        return -1;
    }
    return dev->ops->precopyInfo(dev, initialBytes, dirtyBytes);
}


int
vfmigDeviceStopCopySize(vfmigDevice *dev, uint64_t *bytes)
{
    return dev->ops->stopCopySize(dev, bytes);
}


int
vfmigDeviceStopCopyResidue(vfmigDevice *dev, uint64_t *bytes)
{
    bool whole = false;
    int rc;

    if (dev->ops->stopCopyEstimate &&
        (rc = dev->ops->stopCopyEstimate(dev, bytes, &whole)) != 0) {
        if (rc < 0)
            return -1;
        VFMIG_DEBUG("device %s: stop-copy estimate %" G_GUINT64_FORMAT " (%s)",
                    dev->name, *bytes, whole ? "whole state" : "residue");
        return whole ? 0 : 1;
    }
    if (vfmigDriverStopCopyIsWholeState(dev->driver))
        return 0;
    return dev->ops->stopCopySize(dev, bytes);
}


int
vfmigDeviceReset(vfmigDevice *dev)
{
    gint64 start = g_get_monotonic_time();
    int rc = dev->ops->reset(dev);

    VFMIG_DEBUG("device %s: reset %s after %" G_GINT64_FORMAT " us",
                dev->name, rc == 0 ? "to RUNNING" : "failed",
                g_get_monotonic_time() - start);
    return rc;
}


int
vfmigDeviceGetDigest(vfmigDevice *dev, char **digest)
{
    *digest = NULL;
    if (!dev->ops->digest)
        return 0;
    return dev->ops->digest(dev, digest);
}


char *
vfmigDeviceFlagsString(uint64_t flags)
{
    g_autoptr(GString) str = g_string_new(NULL);
    uint64_t rest = flags;
    int i;

    for (i = 0; i < VFMIG_FEATURE_VFIO_LAST; i++) {
        if (!(flags & (1ULL << i)))
            continue;
        if (str->len)
            g_string_append_c(str, ',');
        g_string_append(str, vfmigFeatureToString(i));
        rest &= ~(1ULL << i);
    }
    if (rest) {
        if (str->len)
            g_string_append_c(str, ',');
        g_string_append_printf(str, "0x%llx", (unsigned long long) rest);
    }
    if (!str->len)
        g_string_append(str, "none");
    return g_string_free(g_steal_pointer(&str), FALSE);
}
