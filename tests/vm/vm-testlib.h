/*
 * vm-testlib.h: TAP output, sysfs access and stream helpers shared by the
 * test programs that run inside the VM suite's guest
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vfmigdevice.h"
#include "vfmigvfio.h"

typedef struct _vmTap vmTap;
struct _vmTap {
    int planned;
    int run;
    int failed;
    gint64 stamp;
};

/* Prints "1..@planned". */
void vmTapPlan(vmTap *tap, int planned);

/* "ok N - ..." or "not ok N - ...", then "#   T ms" since the last one. */
bool vmTapCheck(vmTap *tap, bool ok, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/* "# ..." */
void vmTapDiag(const char *fmt, ...)
    G_GNUC_PRINTF(1, 2);

/*
 * Fails the checks a scenario that stopped early did not reach, so that
 * exactly @until checks have run; @why says where it stopped.
 */
void vmTapFillTo(vmTap *tap, int until, const char *why);

/* 0 when every planned check ran and passed, 1 otherwise. */
int vmTapDone(vmTap *tap);

/* The last error of the vfmig library, never NULL. */
const char *vmLastError(void);
/* Its errno (0 when it carried none). */
int vmLastErrno(void);

/*
 * /sys/bus/pci/devices/@bdf/@file (e.g. "vfio_migration/state"): the
 * contents without the trailing newline, or NULL with errno set.
 */
char *vmSysfsGet(const char *bdf, const char *file);
bool vmSysfsGetU64(const char *bdf, const char *file, uint64_t *value);
/* Writes @value; 0, or -errno. */
int vmSysfsSet(const char *bdf, const char *file, const char *value);
int vmSysfsSetU64(const char *bdf, const char *file, uint64_t value);

/*
 * Reads the data session of @dev into @stream (may be NULL: discard)
 * until the driver reports @until, at most @chunk bytes a read.  Returns
 * the bytes read, -1 with an error reported.
 */
gssize vmReadStream(vfmigDevice *dev,
                    GByteArray *stream,
                    vfmigDataStatus until,
                    gsize chunk);

/* Like vmReadStream on a raw data fd of the vfmigVFIO layer. */
gssize vmReadFd(const char *name,
                int dataFd,
                bool inPrecopy,
                GByteArray *stream,
                vfmigDataStatus until);

/* Writes all of @buf to @dataFd; 0, or -1 with an error reported. */
int vmWriteFd(const char *name, int dataFd, const guint8 *buf, gsize len);

const char *vmStateName(uint32_t state);
