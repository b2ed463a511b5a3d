/*
 * vfmigerror.c: error reporting
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include "vfmigerror.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"

static void
vfmigErrorFreeNotify(gpointer data)
{
    vfmigErrorFree(data);
}

static GPrivate vfmigLastError = G_PRIVATE_INIT(vfmigErrorFreeNotify);


void
vfmigErrorFree(vfmigError *err)
{
    if (!err)
        return;
    g_free(err->message);
    g_free(err);
}


static vfmigError *
vfmigErrorCopy(const vfmigError *err)
{
    vfmigError *copy = g_new0(vfmigError, 1);

    *copy = *err;
    copy->message = g_strdup(err->message);
    return copy;
}


void
vfmigReportErrorFull(int code,
                     int errnum,
                     const char *file,
                     const char *func,
                     size_t line,
                     const char *fmt,
                     ...)
{
    g_autoptr(vfmigError) err = g_new0(vfmigError, 1);
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    err->code = code;
    err->errnum = errnum;
    err->file = file;
    err->func = func;
    err->line = line;
    if (errnum)
        err->message = g_strdup_printf("%s: %s", msg, g_strerror(errnum));
    else
        err->message = g_steal_pointer(&msg);

    if (vfmigLogDebugEnabled())
        vfmigLogDebug(func, "error (%s:%zu): %s", file, line, err->message);

    g_private_replace(&vfmigLastError, g_steal_pointer(&err));
}


const vfmigError *
vfmigGetLastError(void)
{
    return g_private_get(&vfmigLastError);
}


int
vfmigGetLastErrorCode(void)
{
    const vfmigError *err = vfmigGetLastError();

    return err ? err->code : VFMIG_ERR_OK;
}


const char *
vfmigGetLastErrorMessage(void)
{
    const vfmigError *err = vfmigGetLastError();

    return err ? err->message : _("no error");
}


void
vfmigResetLastError(void)
{
    g_private_replace(&vfmigLastError, NULL);
}


vfmigError *
vfmigSaveLastError(void)
{
    const vfmigError *err = vfmigGetLastError();

    return err ? vfmigErrorCopy(err) : NULL;
}


void
vfmigRestoreLastError(vfmigError **err)
{
    if (!err || !*err)
        return;
    g_private_replace(&vfmigLastError, g_steal_pointer(err));
}


const char *
vfmigErrorCodeName(int code)
{
    switch ((vfmigErrorCode) code) {
    case VFMIG_ERR_OK:
        return _("no error");
    case VFMIG_ERR_INTERNAL_ERROR:
        return _("internal error");
    case VFMIG_ERR_SYSTEM_ERROR:
        return _("system error");
    case VFMIG_ERR_INVALID_ARG:
        return _("invalid argument");
    case VFMIG_ERR_NO_DEVICE:
        return _("no such device");
    case VFMIG_ERR_DEVICE_BUSY:
        return _("device busy");
    case VFMIG_ERR_OPERATION_UNSUPPORTED:
        return _("operation not supported");
    case VFMIG_ERR_OPERATION_INVALID:
        return _("operation not valid in this state");
    case VFMIG_ERR_OPERATION_FAILED:
        return _("operation failed");
    case VFMIG_ERR_DEVICE_ERROR:
        return _("device in error state");
    case VFMIG_ERR_DATA_CORRUPT:
        return _("corrupt data");
    case VFMIG_ERR_LIBVIRT:
        return _("libvirt error");
    case VFMIG_ERR_OPERATION_ABORTED:
        return _("operation aborted");
    case VFMIG_ERR_OPERATION_TIMEOUT:
        return _("operation timed out");
    case VFMIG_ERR_LAST:
        break;
    }
    return _("unknown error");
}
