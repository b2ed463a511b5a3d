/*
 * vm-testlib.c: TAP output, sysfs access and stream helpers shared by the
 * test programs that run inside the VM suite's guest
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm-testlib.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"

/* A stream longer than this is a runaway driver, not device state. */
#define VM_MAX_STREAM (512 * 1024 * 1024)
/* Reads in a row that return AGAIN while waiting for END. */
#define VM_MAX_AGAIN 100
#define VM_FD_CHUNK (1024 * 1024)


void
vmTapPlan(vmTap *tap, int planned)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    tap->planned = planned;
    tap->run = 0;
    tap->failed = 0;
    tap->stamp = g_get_monotonic_time();
    printf("1..%d\n", planned);
}


bool
vmTapCheck(vmTap *tap, bool ok, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;
    gint64 now = g_get_monotonic_time();

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    tap->run++;
    if (!ok)
        tap->failed++;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", tap->run, msg);
    printf("#   %.3f ms\n", (now - tap->stamp) / 1000.0);
    tap->stamp = g_get_monotonic_time();
    return ok;
}


void
vmTapDiag(const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    printf("# %s\n", msg);
}


void
vmTapFillTo(vmTap *tap, int until, const char *why)
{
    while (tap->run < until)
        vmTapCheck(tap, false, "not reached: %s", why);
}


int
vmTapDone(vmTap *tap)
{
    if (tap->run != tap->planned) {
        printf("# %d checks ran, %d were planned\n", tap->run, tap->planned);
        return 1;
    }
    printf("# %d of %d checks failed\n", tap->failed, tap->run);
    return tap->failed ? 1 : 0;
}


const char *
vmLastError(void)
{
    const char *msg = vfmigGetLastErrorMessage();

    return msg && *msg ? msg : "unknown error";
}


int
vmLastErrno(void)
{
    const vfmigError *err = vfmigGetLastError();

    return err ? err->errnum : 0;
}


static char *
vmSysfsPath(const char *bdf, const char *file)
{
    return g_strdup_printf("/sys/bus/pci/devices/%s/%s", bdf, file);
}


char *
vmSysfsGet(const char *bdf, const char *file)
{
    g_autofree char *path = vmSysfsPath(bdf, file);
    g_autoptr(GError) err = NULL;
    char *contents = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &contents, &len, &err)) {
        errno = EIO;
        return NULL;
    }
    while (len > 0 && (contents[len - 1] == '\n' || contents[len - 1] == ' '))
        contents[--len] = '\0';
    return contents;
}


bool
vmSysfsGetU64(const char *bdf, const char *file, uint64_t *value)
{
    g_autofree char *str = vmSysfsGet(bdf, file);
    char *end = NULL;

    if (!str || !*str)
        return false;
    errno = 0;
    *value = g_ascii_strtoull(str, &end, 10);
    return errno == 0 && end && *end == '\0';
}


int
vmSysfsSet(const char *bdf, const char *file, const char *value)
{
    g_autofree char *path = vmSysfsPath(bdf, file);
    FILE *fp = fopen(path, "w");
    int err = 0;

    if (!fp)
        return -errno;
    /* unbuffered: the write() carries the driver's verdict */
    setvbuf(fp, NULL, _IONBF, 0);
    if (fputs(value, fp) == EOF)
        err = errno ? errno : EIO;
    if (fclose(fp) != 0 && !err)
        err = errno ? errno : EIO;
    return -err;
}


int
vmSysfsSetU64(const char *bdf, const char *file, uint64_t value)
{
    g_autofree char *str = g_strdup_printf("%llu", (unsigned long long) value);

    return vmSysfsSet(bdf, file, str);
}


gssize
vmReadStream(vfmigDevice *dev,
             GByteArray *stream,
             vfmigDataStatus until,
             gsize chunk)
{
    g_autofree guint8 *buf = g_new(guint8, chunk);
    gsize total = 0;
    int again = 0;

    for (;;) {
        vfmigDataStatus status = VFMIG_DATA_OK;
        ssize_t n = vfmigDeviceRead(dev, buf, chunk, &status);

        if (n < 0)
            return -1;

        if (status == VFMIG_DATA_OK) {
            if (n == 0) {
                vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                                 "read returned no data with status OK");
                return -1;
            }
            total += n;
            if (total > VM_MAX_STREAM) {
                vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                                 "device state exceeds %d bytes", VM_MAX_STREAM);
                return -1;
            }
            if (stream)
                g_byte_array_append(stream, buf, n);
            again = 0;
            continue;
        }

        if (status == until)
            return total;

        if (status == VFMIG_DATA_END) {
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED, "%s",
                             "the stream ended in PRE_COPY");
            return -1;
        }

        /* AGAIN while waiting for END: the driver is still producing. */
        if (++again > VM_MAX_AGAIN) {
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             "no end of stream after %d waits", VM_MAX_AGAIN);
            return -1;
        }
        if (vfmigDeviceWaitData(dev, 100) < 0)
            return -1;
    }
}


gssize
vmReadFd(const char *name,
         int dataFd,
         bool inPrecopy,
         GByteArray *stream,
         vfmigDataStatus until)
{
    g_autofree guint8 *buf = g_new(guint8, VM_FD_CHUNK);
    gsize total = 0;
    int again = 0;

    for (;;) {
        vfmigDataStatus status = VFMIG_DATA_OK;
        ssize_t n = vfmigVFIODataRead(name, dataFd, buf, VM_FD_CHUNK,
                                      inPrecopy, &status);

        if (n < 0)
            return -1;
        if (status == VFMIG_DATA_OK) {
            if (n == 0) {
                vfmigReportError(VFMIG_ERR_INTERNAL_ERROR, "%s",
                                 "read returned no data with status OK");
                return -1;
            }
            total += n;
            if (total > VM_MAX_STREAM) {
                vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                                 "device state exceeds %d bytes", VM_MAX_STREAM);
                return -1;
            }
            if (stream)
                g_byte_array_append(stream, buf, n);
            again = 0;
            continue;
        }
        if (status == until)
            return total;
        if (status == VFMIG_DATA_END) {
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED, "%s",
                             "the stream ended in PRE_COPY");
            return -1;
        }
        if (++again > VM_MAX_AGAIN) {
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             "no end of stream after %d waits", VM_MAX_AGAIN);
            return -1;
        }
        if (vfmigVFIODataWait(name, dataFd, 100) < 0)
            return -1;
    }
}


int
vmWriteFd(const char *name, int dataFd, const guint8 *buf, gsize len)
{
    gsize done = 0;

    while (done < len) {
        ssize_t n = vfmigVFIODataWrite(name, dataFd, buf + done, len - done);

        if (n < 0)
            return -1;
        if (n == 0) {
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             "write of the stream to %s returned 0", name);
            return -1;
        }
        done += n;
    }
    return 0;
}


const char *
vmStateName(uint32_t state)
{
    return vfmig_fsm_state_name(state);
}
