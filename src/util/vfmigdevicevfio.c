/*
 * vfmigdevicevfio.c: vfmigDevice over a real VFIO device
 *
 * The generic layer (vfmigdevice.c) has checked every request against the
 * FSM; this keeps the data session the kernel hands out and knows whether
 * the device is in a PRE_COPY state, which decides what a read() of 0
 * means.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "vfmigdevicevfio.h"
#include "vfmigdriver.h"
#include "vfmigsysfs.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"

typedef struct _vfmigDeviceVFIOPriv vfmigDeviceVFIOPriv;
struct _vfmigDeviceVFIOPriv {
    vfmigVFIO *vfio;
    char *sysfsRoot;
    int dataFd;         /* the current data session, or -1 */
    bool haveState;
    uint32_t state;     /* the last state the device reported or took */
};


static vfmigDeviceVFIOPriv *
vfmigDeviceVFIOGetPriv(vfmigDevice *dev)
{
    return dev->priv;
}


static void
vfmigDeviceVFIOCloseData(vfmigDeviceVFIOPriv *priv)
{
    if (priv->dataFd >= 0) {
        VFMIG_DEBUG("device %s: closing migration data fd %d",
                    vfmigVFIOGetName(priv->vfio), priv->dataFd);
        close(priv->dataFd);
    }
    priv->dataFd = -1;
}


/* The device is now in @state: drop the session if @state has none. */
static void
vfmigDeviceVFIOEnterState(vfmigDeviceVFIOPriv *priv, uint32_t state)
{
    priv->state = state;
    priv->haveState = true;
    if (!vfmig_fsm_state_is_saving(state) &&
        state != VFIO_DEVICE_STATE_RESUMING)
        vfmigDeviceVFIOCloseData(priv);
}


static bool
vfmigDeviceVFIOInPrecopy(vfmigDeviceVFIOPriv *priv)
{
    return priv->haveState &&
           (priv->state == VFIO_DEVICE_STATE_PRE_COPY ||
            priv->state == VFIO_DEVICE_STATE_PRE_COPY_P2P);
}


static int
vfmigDeviceVFIOCheckData(vfmigDevice *dev, vfmigDeviceVFIOPriv *priv)
{
    if (priv->dataFd >= 0)
        return 0;
    if (priv->haveState) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("device '%1$s' has no migration data stream in the %2$s state"),
                         dev->name, vfmig_fsm_state_name(priv->state));
    } else {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("device '%1$s' has no migration data stream"),
                         dev->name);
    }
    return -1;
}


static int
vfmigDeviceVFIOGetFlags(vfmigDevice *dev, uint64_t *flags)
{
    return vfmigVFIOGetMigrationFlags(vfmigDeviceVFIOGetPriv(dev)->vfio, flags);
}


static int
vfmigDeviceVFIOGetState(vfmigDevice *dev, uint32_t *state)
{
    vfmigDeviceVFIOPriv *priv = vfmigDeviceVFIOGetPriv(dev);

    if (vfmigVFIOGetState(priv->vfio, state) < 0)
        return -1;
    priv->state = *state;
    priv->haveState = true;
    return 0;
}


static int
vfmigDeviceVFIOSetState(vfmigDevice *dev, uint32_t state)
{
    vfmigDeviceVFIOPriv *priv = vfmigDeviceVFIOGetPriv(dev);
    int newFd = -1;

    if (vfmigVFIOSetState(priv->vfio, state, &newFd) < 0) {
        g_autoptr(vfmigError) saved = vfmigSaveLastError();
        uint32_t now;

        /* A combination transition may have stopped anywhere on its
         * path, ERROR included: find out where, keep the first error. */
        if (vfmigVFIOGetState(priv->vfio, &now) == 0) {
            VFMIG_DEBUG("device %s: the move to %s stopped at %s",
                        dev->name, vfmig_fsm_state_name(state),
                        vfmig_fsm_state_name(now));
            vfmigDeviceVFIOEnterState(priv, now);
        } else {
            VFMIG_DEBUG("device %s: the move to %s failed; state unknown",
                        dev->name, vfmig_fsm_state_name(state));
            priv->haveState = false;
        }
        vfmigRestoreLastError(&saved);
        return -1;
    }

    if (newFd >= 0) {
        vfmigDeviceVFIOCloseData(priv);
        priv->dataFd = newFd;
        VFMIG_DEBUG("device %s: migration data fd %d opened for %s",
                    dev->name, newFd, vfmig_fsm_state_name(state));
    }
    vfmigDeviceVFIOEnterState(priv, state);
    return 0;
}


static ssize_t
vfmigDeviceVFIORead(vfmigDevice *dev,
                    void *buf,
                    size_t len,
                    vfmigDataStatus *status)
{
    vfmigDeviceVFIOPriv *priv = vfmigDeviceVFIOGetPriv(dev);

    if (vfmigDeviceVFIOCheckData(dev, priv) < 0)
        return -1;
    return vfmigVFIODataRead(dev->name, priv->dataFd, buf, len,
                             vfmigDeviceVFIOInPrecopy(priv), status);
}


static ssize_t
vfmigDeviceVFIOWrite(vfmigDevice *dev, const void *buf, size_t len)
{
    vfmigDeviceVFIOPriv *priv = vfmigDeviceVFIOGetPriv(dev);

    if (vfmigDeviceVFIOCheckData(dev, priv) < 0)
        return -1;
    return vfmigVFIODataWrite(dev->name, priv->dataFd, buf, len);
}


static int
vfmigDeviceVFIOWaitData(vfmigDevice *dev, int timeoutMs)
{
    vfmigDeviceVFIOPriv *priv = vfmigDeviceVFIOGetPriv(dev);

    if (vfmigDeviceVFIOCheckData(dev, priv) < 0)
        return -1;
    return vfmigVFIODataWait(dev->name, priv->dataFd, timeoutMs);
}


static int
vfmigDeviceVFIOPrecopyInfo(vfmigDevice *dev,
                           uint64_t *initialBytes,
                           uint64_t *dirtyBytes)
{
    vfmigDeviceVFIOPriv *priv = vfmigDeviceVFIOGetPriv(dev);

    if (vfmigDeviceVFIOCheckData(dev, priv) < 0)
        return -1;
    return vfmigVFIOPrecopyInfo(dev->name, priv->dataFd,
                                initialBytes, dirtyBytes);
}


static int
vfmigDeviceVFIOStopCopySize(vfmigDevice *dev, uint64_t *bytes)
{
    return vfmigVFIOGetStopCopySize(vfmigDeviceVFIOGetPriv(dev)->vfio, bytes);
}


static int
vfmigDeviceVFIOStopCopyEstimate(vfmigDevice *dev,
                                uint64_t *bytes,
                                bool *whole)
{
    vfmigDeviceVFIOPriv *priv = vfmigDeviceVFIOGetPriv(dev);
    g_autofree char *devDir = vfmigSysfsPCIDevicePath(priv->sysfsRoot,
                                                      dev->name);
    g_autofree char *dir = g_build_filename(devDir, "vfio_migration", NULL);
    guint64 val;
    int fd;
    int rc;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        int err = errno;

        /* a driver without vfmig's sysfs ABI (vfio-pci, upstream's) */
        if (err == ENOENT)
            return 0;
        vfmigReportSystemError(err, _("cannot open '%1$s'"), dir);
        return -1;
    }
    rc = vfmigSysfsReadStopCopyEstimate(fd, dir, &val, whole);
    close(fd);
    if (rc > 0)
        *bytes = val;
    return rc;
}


static int
vfmigDeviceVFIOReset(vfmigDevice *dev)
{
    vfmigDeviceVFIOPriv *priv = vfmigDeviceVFIOGetPriv(dev);

    if (vfmigVFIOReset(priv->vfio) < 0)
        return -1;
    /* the kernel has torn the session down and the device is RUNNING */
    vfmigDeviceVFIOEnterState(priv, VFIO_DEVICE_STATE_RUNNING);
    return 0;
}


static int
vfmigDeviceVFIODigest(vfmigDevice *dev, char **digest)
{
    vfmigDeviceVFIOPriv *priv = vfmigDeviceVFIOGetPriv(dev);
    const vfmigDriverInfo *info = vfmigDriverLookup(dev->driver);
    g_autofree char *dir = NULL;
    char text[VFMIG_SYSFS_ATTR_MAX];

    /* only our software test devices tell a digest of their state */
    if (!info || !info->digestFile)
        return 0;
    dir = vfmigSysfsPCIDevicePath(priv->sysfsRoot, dev->name);
    if (vfmigSysfsReadAttrPath(dir, info->digestFile, false, text, sizeof(text)) < 0)
        return -1;
    *digest = g_strdup(g_strstrip(text));
    return 0;
}


static void
vfmigDeviceVFIODispose(vfmigDevice *dev)
{
    vfmigDeviceVFIOPriv *priv = vfmigDeviceVFIOGetPriv(dev);

    if (!priv)
        return;
    vfmigDeviceVFIOCloseData(priv);
    vfmigVFIOClose(priv->vfio);
    g_free(priv->sysfsRoot);
    g_free(priv);
    dev->priv = NULL;
}


static const vfmigDeviceOps vfmigDeviceVFIOOps = {
    .kind = "vfio",
    .getFlags = vfmigDeviceVFIOGetFlags,
    .getState = vfmigDeviceVFIOGetState,
    .setState = vfmigDeviceVFIOSetState,
    .read = vfmigDeviceVFIORead,
    .write = vfmigDeviceVFIOWrite,
    .waitData = vfmigDeviceVFIOWaitData,
    .precopyInfo = vfmigDeviceVFIOPrecopyInfo,
    .stopCopySize = vfmigDeviceVFIOStopCopySize,
    .stopCopyEstimate = vfmigDeviceVFIOStopCopyEstimate,
    .reset = vfmigDeviceVFIOReset,
    .digest = vfmigDeviceVFIODigest,
    .dispose = vfmigDeviceVFIODispose,
};


vfmigDevice *
vfmigDeviceVFIOOpen(const char *name,
                    const vfmigVFIOPaths *paths)
{
    vfmigDeviceVFIOPriv *priv;
    vfmigDevice *dev;
    vfmigVFIO *vfio;

    if (!(vfio = vfmigVFIOOpen(name, paths)))
        return NULL;

    priv = g_new0(vfmigDeviceVFIOPriv, 1);
    priv->vfio = vfio;
    priv->sysfsRoot = g_strdup(vfmigSysfsRoot(paths ? paths->sysfsRoot : NULL));
    priv->dataFd = -1;

    dev = vfmigDeviceNew(&vfmigDeviceVFIOOps, vfmigVFIOGetName(vfio), priv);
    dev->driver = g_strdup(vfmigVFIOGetDriver(vfio));
    return dev;
}
