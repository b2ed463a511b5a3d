/*
 * vfmigerror.h: error reporting, in the shape of libvirt's virerror
 *
 * Functions return 0 or -1; on -1 they have reported an error with a code
 * and a translated message, kept per thread until the next report or reset.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

typedef enum {
    VFMIG_ERR_OK = 0,
    VFMIG_ERR_INTERNAL_ERROR,       /* a bug in vfmig */
    VFMIG_ERR_SYSTEM_ERROR,         /* an OS call failed; errno attached */
    VFMIG_ERR_INVALID_ARG,          /* bad input from the caller or user */
    VFMIG_ERR_NO_DEVICE,            /* no such device */
    VFMIG_ERR_DEVICE_BUSY,          /* the device is held by someone else */
    VFMIG_ERR_OPERATION_UNSUPPORTED,/* the device or kernel cannot do it */
    VFMIG_ERR_OPERATION_INVALID,    /* not valid in the current state */
    VFMIG_ERR_OPERATION_FAILED,     /* the device refused or failed it */
    VFMIG_ERR_DEVICE_ERROR,         /* the device is in the ERROR state */
    VFMIG_ERR_DATA_CORRUPT,         /* a state stream failed validation */
    VFMIG_ERR_LIBVIRT,              /* libvirt reported an error */
    VFMIG_ERR_OPERATION_ABORTED,    /* cancelled by the user or a signal */
    VFMIG_ERR_OPERATION_TIMEOUT,    /* a time limit passed */

    VFMIG_ERR_LAST
} vfmigErrorCode;

typedef struct _vfmigError vfmigError;
struct _vfmigError {
    int code;           /* vfmigErrorCode */
    int errnum;         /* errno for VFMIG_ERR_SYSTEM_ERROR, else 0 */
    char *message;      /* translated, complete */
    const char *file;
    const char *func;
    size_t line;
};

void vfmigReportErrorFull(int code,
                          int errnum,
                          const char *file,
                          const char *func,
                          size_t line,
                          const char *fmt,
                          ...)
    G_GNUC_PRINTF(6, 7);

#define vfmigReportError(code, ...) \
    vfmigReportErrorFull((code), 0, __FILE__, __func__, __LINE__, __VA_ARGS__)

/* Appends ": strerror(errnum)" to the message, like virReportSystemError. */
#define vfmigReportSystemError(errnum, ...) \
    vfmigReportErrorFull(VFMIG_ERR_SYSTEM_ERROR, (errnum), \
                         __FILE__, __func__, __LINE__, __VA_ARGS__)

const vfmigError *vfmigGetLastError(void);
int vfmigGetLastErrorCode(void);
const char *vfmigGetLastErrorMessage(void);
void vfmigResetLastError(void);

/* Keep the first error across cleanup that may report more (rollback). */
vfmigError *vfmigSaveLastError(void);
void vfmigRestoreLastError(vfmigError **err);
void vfmigErrorFree(vfmigError *err);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigError, vfmigErrorFree);

/* A short translated name of @code, e.g. "device busy". */
const char *vfmigErrorCodeName(int code);
