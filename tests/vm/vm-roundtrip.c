/*
 * vm-roundtrip.c: one migration of device state through a real kernel
 *
 * Usage: vm-roundtrip SOURCE DESTINATION
 *
 * SOURCE and DESTINATION name two VFIO devices of the same kind (PCI
 * addresses or mdev UUIDs), both RUNNING and bound to a driver with VFIO
 * migration support.  The program moves the source's state to the
 * destination the way a migration does, through vfmig's VFIO client and the
 * kernel's VFIO migration uAPI:
 *
 *   source       RUNNING -> PRE_COPY (if offered): read the initial data
 *                until the driver says "no more for now", check the
 *                pre-copy estimates; STOP_COPY: read to the end, compare
 *                with the stop-copy size the kernel announced; STOP
 *   destination  RUNNING -> RESUMING: write the stream; STOP; RUNNING
 *   source       STOP -> RUNNING
 *
 * then feeds the destination a corrupted and a truncated copy of the
 * stream, which its driver must refuse, resets it and checks it still
 * loads the good stream.
 *
 * Prints TAP ("1..N", "ok N - ...", "not ok N - ...", "# ..."), exits 0
 * when every check passed, 1 on a failed check or when the devices cannot
 * be used (message on stderr, "error: ..."), 2 on a usage error.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "vfmigdevicevfio.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"
#include "vm-testlib.h"

#define VM_RT_CHUNK 65536

/* Checks, counted for the TAP plan; keep in step with main(). */
#define VM_RT_CHECKS_PRECOPY 3
#define VM_RT_CHECKS_COMMON 17


/* Like vmTapCheck for an API call that failed: the library's message. */
static bool
vmRtFail(vmTap *tap, const char *what)
{
    return vmTapCheck(tap, false, "%s: %s", what, vmLastError());
}


/* Moves @dev to @state and checks that it reads back as @state. */
static bool
vmRtSetState(vmTap *tap,
             vfmigDevice *dev,
             const char *role,
             uint32_t state)
{
    uint32_t from = VFIO_DEVICE_STATE_ERROR;
    uint32_t now = VFIO_DEVICE_STATE_ERROR;
    g_autofree char *what = NULL;

    if (vfmigDeviceGetState(dev, &from) < 0)
        return vmRtFail(tap, "get state");

    what = g_strdup_printf("%s %s -> %s", role,
                           vmStateName(from), vmStateName(state));

    if (vfmigDeviceSetState(dev, state) < 0)
        return vmRtFail(tap, what);

    if (vfmigDeviceGetState(dev, &now) < 0)
        return vmRtFail(tap, what);

    return vmTapCheck(tap, now == state, "%s (reads back %s)",
                     what, vmStateName(now));
}


/* Where vmRtLoad stopped. */
typedef enum {
    VM_RT_LOADED,
    VM_RT_NO_RESUMING,  /* could not even enter RESUMING */
    VM_RT_WRITE_FAILED,
    VM_RT_STOP_FAILED,
} vmRtLoadResult;


/*
 * Loads @len bytes of @stream into @dst: RESUMING, write, STOP.  When a
 * step fails, @refusal gets the step and the error.
 */
static vmRtLoadResult
vmRtLoad(vfmigDevice *dst,
         const guint8 *stream,
         gsize len,
         char **refusal)
{
    if (vfmigDeviceSetState(dst, VFIO_DEVICE_STATE_RESUMING) < 0) {
        *refusal = g_strdup_printf("RUNNING -> RESUMING failed: %s",
                                   vmLastError());
        return VM_RT_NO_RESUMING;
    }
    if (vfmigDeviceWriteAll(dst, stream, len) < 0) {
        *refusal = g_strdup_printf("the write failed: %s", vmLastError());
        return VM_RT_WRITE_FAILED;
    }
    if (vfmigDeviceSetState(dst, VFIO_DEVICE_STATE_STOP) < 0) {
        *refusal = g_strdup_printf("RESUMING -> STOP failed: %s",
                                   vmLastError());
        return VM_RT_STOP_FAILED;
    }
    return VM_RT_LOADED;
}


/* Resets @dev and checks it is RUNNING again. */
static bool
vmRtReset(vmTap *tap, vfmigDevice *dev, const char *role)
{
    uint32_t state = VFIO_DEVICE_STATE_ERROR;
    uint32_t after = VFIO_DEVICE_STATE_ERROR;

    if (vfmigDeviceGetState(dev, &state) < 0)
        vfmigResetLastError();

    if (vfmigDeviceReset(dev) < 0)
        return vmRtFail(tap, "reset");
    if (vfmigDeviceGetState(dev, &after) < 0)
        return vmRtFail(tap, "get state after reset");
    return vmTapCheck(tap, after == VFIO_DEVICE_STATE_RUNNING,
                     "%s reset from %s (reads back %s)",
                     role, vmStateName(state), vmStateName(after));
}


static bool
vmRtIsState(vmTap *tap, vfmigDevice *dev, const char *role,
            uint32_t want, const char *why)
{
    uint32_t state = VFIO_DEVICE_STATE_ERROR;

    if (vfmigDeviceGetState(dev, &state) < 0)
        return vmRtFail(tap, "get state");
    return vmTapCheck(tap, state == want, "%s is %s %s",
                     role, vmStateName(state), why);
}


/* Feeds @dst a bad stream, which must be refused, then resets it. */
static void
vmRtRefuse(vmTap *tap,
           vfmigDevice *src,
           vfmigDevice *dst,
           const guint8 *stream,
           gsize len,
           const char *what)
{
    g_autofree char *refusal = NULL;

    switch (vmRtLoad(dst, stream, len, &refusal)) {
    case VM_RT_LOADED:
        vmTapCheck(tap, false, "destination accepted %s", what);
        break;
    case VM_RT_NO_RESUMING:
        vmTapCheck(tap, false, "destination cannot be offered %s: %s",
                  what, refusal);
        break;
    case VM_RT_WRITE_FAILED:
    case VM_RT_STOP_FAILED:
        vmTapCheck(tap, true, "destination refuses %s: %s", what, refusal);
        break;
    }

    vmRtReset(tap, dst, "destination");
    vmRtIsState(tap, src, "source", VFIO_DEVICE_STATE_RUNNING,
                "(untouched by the destination's failure)");
}


/* After a failed check, leaves both devices RUNNING if it can. */
static void
vmRtRecover(vfmigDevice *dev)
{
    if (vfmigDeviceSetState(dev, VFIO_DEVICE_STATE_RUNNING) < 0 &&
        vfmigDeviceReset(dev) < 0) {
        fprintf(stderr, "warning: cannot bring %s back to RUNNING: %s\n",
                vfmigDeviceGetName(dev), vmLastError());
    }
    vfmigResetLastError();
}


static vfmigDevice *
vmRtOpen(const char *name, const char *role, uint64_t *flags)
{
    g_autoptr(vfmigDevice) dev = NULL;
    uint32_t state;

    if (!(dev = vfmigDeviceVFIOOpen(name, NULL)) ||
        vfmigDeviceGetFlags(dev, flags) < 0 ||
        vfmigDeviceGetState(dev, &state) < 0) {
        fprintf(stderr, "error: %s %s: %s\n", role, name, vmLastError());
        return NULL;
    }
    if (!(*flags & VFIO_MIGRATION_STOP_COPY)) {
        fprintf(stderr,
                "error: %s %s: the driver does not offer STOP_COPY\n",
                role, name);
        return NULL;
    }
    if (state != VFIO_DEVICE_STATE_RUNNING) {
        fprintf(stderr, "error: %s %s is %s, not RUNNING\n",
                role, name, vmStateName(state));
        return NULL;
    }
    return g_steal_pointer(&dev);
}


static void
vmRtUsage(bool full)
{
    FILE *out = full ? stdout : stderr;

    fprintf(out, "usage: vm-roundtrip SOURCE DESTINATION\n");
    if (!full) {
        fprintf(out, "Try 'vm-roundtrip --help' for more information.\n");
        return;
    }
    fprintf(out,
            "\n"
            "Migrates the VFIO device state of SOURCE to DESTINATION through\n"
            "the kernel (PCI addresses or mdev UUIDs of two RUNNING devices\n"
            "with VFIO migration support), then checks that the destination\n"
            "refuses a corrupted and a truncated stream.  Prints TAP; exits 0\n"
            "when every check passed, 1 otherwise, 2 on a usage error.\n");
}


int
main(int argc, char **argv)
{
    g_autoptr(vfmigDevice) src = NULL;
    g_autoptr(vfmigDevice) dst = NULL;
    g_autoptr(GByteArray) stream = g_byte_array_new();
    g_autofree char *srcFlagsStr = NULL;
    g_autofree char *dstFlagsStr = NULL;
    g_autofree char *refusal = NULL;
    g_autofree guint8 *bad = NULL;
    vmTap tap = { 0 };
    uint64_t srcFlags = 0;
    uint64_t dstFlags = 0;
    uint64_t initial = 0;
    uint64_t dirty = 0;
    uint64_t estimate = 0;
    int rc;
    bool haveEstimate = false;
    bool precopy;
    gssize preBytes = 0;
    gssize stopBytes;

    setvbuf(stdout, NULL, _IOLBF, 0);

    if (argc == 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        vmRtUsage(true);
        return 0;
    }
    if (argc != 3 || !*argv[1] || !*argv[2] ||
        argv[1][0] == '-' || argv[2][0] == '-') {
        vmRtUsage(false);
        return 2;
    }
    if (strcmp(argv[1], argv[2]) == 0) {
        fprintf(stderr,
                "error: source and destination must be two devices, not both %s\n",
                argv[1]);
        return 2;
    }

    if (!(src = vmRtOpen(argv[1], "source", &srcFlags)) ||
        !(dst = vmRtOpen(argv[2], "destination", &dstFlags)))
        return 1;

    srcFlagsStr = vfmigDeviceFlagsString(srcFlags);
    dstFlagsStr = vfmigDeviceFlagsString(dstFlags);
    precopy = !!(srcFlags & VFIO_MIGRATION_PRE_COPY);

    printf("1..%d\n", VM_RT_CHECKS_COMMON +
           (precopy ? VM_RT_CHECKS_PRECOPY : 0));
    vmTapDiag("source %s (migration: %s), destination %s (migration: %s)",
             argv[1], srcFlagsStr, argv[2], dstFlagsStr);
    tap.stamp = g_get_monotonic_time();

    /* Source: the pre-copy phase, while the device keeps running. */
    if (precopy) {
        if (!vmRtSetState(&tap, src, "source", VFIO_DEVICE_STATE_PRE_COPY))
            goto bail;

        if (vfmigDevicePrecopyInfo(src, &initial, &dirty) < 0) {
            vmRtFail(&tap, "source pre-copy info on entry");
            goto bail;
        }
        vmTapDiag("pre-copy info on entry: initial_bytes %llu, dirty_bytes %llu",
                 (unsigned long long) initial, (unsigned long long) dirty);

        if ((preBytes = vmReadStream(src, stream, VFMIG_DATA_AGAIN,
                                     VM_RT_CHUNK)) < 0) {
            vmRtFail(&tap, "source reads its initial data");
            goto bail;
        }
        vmTapCheck(&tap, (uint64_t) preBytes >= initial && preBytes > 0,
                  "source PRE_COPY: read %zd bytes of initial data until the "
                  "driver said \"no more for now\" (pre-copy info announced %llu)",
                  preBytes, (unsigned long long) initial);

        if (vfmigDevicePrecopyInfo(src, &initial, &dirty) < 0) {
            vmRtFail(&tap, "source pre-copy info after the initial data");
            goto bail;
        }
        vmTapCheck(&tap, initial == 0,
                  "source pre-copy info after reading: initial_bytes %llu "
                  "(want 0), dirty_bytes %llu",
                  (unsigned long long) initial, (unsigned long long) dirty);
    }

    if ((rc = vfmigDeviceStopCopySize(src, &estimate)) > 0) {
        haveEstimate = true;
        vmTapCheck(&tap, true,
                  "source announces a stop-copy size of %llu bytes",
                  (unsigned long long) estimate);
    } else if (rc == 0) {
        vmTapCheck(&tap, true,
                  "source stop-copy size # SKIP the kernel or driver has no MIG_DATA_SIZE");
    } else {
        vmRtFail(&tap, "source stop-copy size");
        goto bail;
    }

    /* Source: stop and copy the rest. */
    if (!vmRtSetState(&tap, src, "source", VFIO_DEVICE_STATE_STOP_COPY))
        goto bail;

    if ((stopBytes = vmReadStream(src, stream, VFMIG_DATA_END, VM_RT_CHUNK)) < 0) {
        vmRtFail(&tap, "source reads its stop-copy data");
        goto bail;
    }
    vmTapCheck(&tap, true,
              "source STOP_COPY: read %zd bytes to the end of the stream "
              "(%u in all)", stopBytes, stream->len);

    if (haveEstimate) {
        vmTapCheck(&tap, (uint64_t) stopBytes <= estimate,
                  "stop-copy data read (%zd bytes) is within the announced "
                  "stop-copy size (%llu bytes)%s",
                  stopBytes, (unsigned long long) estimate,
                  (uint64_t) stopBytes == estimate ? ", exactly" : "");
    } else {
        vmTapCheck(&tap, true,
                  "stop-copy data read: %zd bytes # SKIP no announced size "
                  "to compare with", stopBytes);
    }

    if (!vmRtSetState(&tap, src, "source", VFIO_DEVICE_STATE_STOP))
        goto bail;

    /* Destination: load it. */
    if (!vmRtSetState(&tap, dst, "destination", VFIO_DEVICE_STATE_RESUMING))
        goto bail;

    if (vfmigDeviceWriteAll(dst, stream->data, stream->len) < 0) {
        vmRtFail(&tap, "destination write");
        goto bail;
    }
    vmTapCheck(&tap, true, "destination RESUMING: wrote all %u bytes",
              stream->len);

    if (!vmRtSetState(&tap, dst, "destination", VFIO_DEVICE_STATE_STOP) ||
        !vmRtSetState(&tap, dst, "destination", VFIO_DEVICE_STATE_RUNNING) ||
        !vmRtSetState(&tap, src, "source", VFIO_DEVICE_STATE_RUNNING))
        goto bail;

    /* Bad streams: the driver has to refuse them. */
    bad = g_memdup2(stream->data, stream->len);
    bad[0] ^= 0xff;
    vmRtRefuse(&tap, src, dst, bad, stream->len,
               "a stream with its first header byte flipped");
    vmRtRefuse(&tap, src, dst, stream->data, stream->len / 2,
               "a stream cut in half");

    /* And still takes a good one after the resets. */
    if (vmRtLoad(dst, stream->data, stream->len, &refusal) != VM_RT_LOADED ||
        vfmigDeviceSetState(dst, VFIO_DEVICE_STATE_RUNNING) < 0) {
        vmTapCheck(&tap, false,
                  "destination loads the good stream again after the resets: %s",
                  refusal ? refusal : vmLastError());
    } else {
        vmTapCheck(&tap, true,
                  "destination loads the good stream again after the resets "
                  "and runs");
    }

    if (tap.run != VM_RT_CHECKS_COMMON + (precopy ? VM_RT_CHECKS_PRECOPY : 0)) {
        printf("Bail out! %d checks ran, the plan is out of date\n", tap.run);
        return 1;
    }
    return tap.failed ? 1 : 0;

 bail:
    printf("Bail out! %d of the checks ran, the rest depend on the failed one\n",
           tap.run);
    vmRtRecover(src);
    vmRtRecover(dst);
    return 1;
}
