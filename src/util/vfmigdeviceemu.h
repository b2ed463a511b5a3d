/*
 * vfmigdeviceemu.h: an emulated device that speaks the VFIO migration
 * protocol v2, in process, for fast tests of everything above the device
 *
 * The device holds a block of internal state that it dirties at a
 * configurable rate while it runs (in the machine's time, or in a time of
 * its own that moves only as the device works, so that a test's verdict
 * does not depend on how fast the machine runs it), executes combination
 * transitions one arc at a time through the shared FSM exactly as a
 * kernel variant driver does, streams its state in a self-validating
 * format (see vfmigdeviceemu.c) with the PRE_COPY semantics of the Linux
 * uAPI, loads such a stream with incremental validation, and can be told
 * to fail in the ways real devices and transports fail.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vfmigdevice.h"

/* Monotonic time in microseconds; tests pass a fake clock. */
typedef gint64 (*vfmigEmuClockFunc)(void *opaque);

typedef struct _vfmigEmuConfig vfmigEmuConfig;
struct _vfmigEmuConfig {
    /* VFIO_MIGRATION_* bits; 0 means no migration support at all, like
     * a plain vfio-pci device */
    uint64_t flags;
    /* bytes of internal state, at most 1 GiB */
    uint64_t stateSize;
    /* dirty-tracking granule; the last page may be short; at most 64 MiB */
    uint64_t pageSize;
    /* bytes per second dirtied while the device runs (RUNNING,
     * RUNNING_P2P, PRE_COPY, PRE_COPY_P2P), at most 1 TiB/s; every
     * pageSize bytes dirty one pseudo-randomly chosen page */
    uint64_t dirtyRate;
    /* largest chunk one read() or write() serves; 0 = no limit */
    size_t maxIO;
    /* seeds the PRNG that fills the initial state and picks and fills
     * the dirtied pages */
    uint64_t seed;
    /* What the device costs at switchover, slept in real time as
     * vfmig_testdev's stop_delay_us, resume_delay_us and its state hashes
     * do: on the arc that stops a running device, on the first read of
     * its stop-copy data, when RESUMING -> STOP commits a load, on the
     * arc that starts a stopped device (with ioRate, spent in the
     * device's own time instead).  0: none. */
    uint64_t stopDelayUs;
    uint64_t drainDelayUs;
    uint64_t commitDelayUs;
    uint64_t resumeDelayUs;
    /* NULL: g_get_monotonic_time() */
    vfmigEmuClockFunc clock;
    void *clockOpaque;
    /* The device's own time.  0: the device lives in the time of @clock,
     * so how much it dirties between two reads depends on how fast the
     * machine runs them.  Otherwise the device keeps a clock of its own
     * (vfmigEmuDeviceClock) that moves only as the device works: by
     * len / ioRate seconds for every read() and write() of len bytes, by
     * a wait for data up to the data or the timeout, and by the switchover
     * delays above, which are then not slept.  The device then dirties
     * dirtyRate / ioRate bytes for every byte it moves, on any machine,
     * and an engine timed on vfmigEmuDeviceClock sees a bandwidth of
     * ioRate.  Bytes per second, at most 1 TiB/s; not with @clock. */
    uint64_t ioRate;
};

/* STOP_COPY|P2P|PRE_COPY, 1 MiB of state in 4 KiB pages, no dirtying,
 * no I/O limit, seed 1, the real clock (no time of its own). */
void vfmigEmuConfigInit(vfmigEmuConfig *cfg);

/*
 * A new emulated device called @name (used in messages only, it is not
 * part of the stream), in RUNNING with its state filled from the seed.
 * Returns NULL with an error reported when @cfg is invalid.
 */
vfmigDevice *vfmigEmuDeviceNew(const char *name,
                               const vfmigEmuConfig *cfg);

/* Changes the dirty rate from now on (time so far counts at the old one). */
int vfmigEmuDeviceSetDirtyRate(vfmigDevice *dev, uint64_t dirtyRate);

/*
 * The time of the emulated device @opaque (a vfmigDevice *) in us: its
 * own with cfg->ioRate, else its cfg->clock's.  Shaped as a
 * vfmigEngineClockFunc, so that an engine or a qualification is timed on
 * the device's time; any thread may call it, outside the device's ops.
 */
gint64 vfmigEmuDeviceClock(void *opaque);


/* Every single FSM arc the device has executed, oldest first. */
typedef struct _vfmigEmuArc vfmigEmuArc;
struct _vfmigEmuArc {
    uint32_t from;
    uint32_t to;
};

/* A GArray of vfmigEmuArc, owned by the device; NULL if @dev is not an
 * emulated device. */
const GArray *vfmigEmuDeviceArcLog(vfmigDevice *dev);
void vfmigEmuDeviceClearArcLog(vfmigDevice *dev);


typedef enum {
    /* the single arc from -> to fails; the device stays in from */
    VFMIG_EMU_FAULT_ARC_FAIL,
    /* the single arc from -> to fails and the device enters ERROR */
    VFMIG_EMU_FAULT_ARC_ERROR,
    /* the saving stream ends for good after offset bytes */
    VFMIG_EMU_FAULT_TRUNCATE,
    /* read() fails with EIO once the saving stream reaches offset */
    VFMIG_EMU_FAULT_READ_EIO,
    /* write() fails with EIO once the resuming stream reaches offset */
    VFMIG_EMU_FAULT_WRITE_EIO,
    /* the byte at offset of the saving stream is XORed with mask as it
     * leaves the device (after the device computed its digests) */
    VFMIG_EMU_FAULT_CORRUPT,
    /* RESUMING -> STOP refuses whatever was loaded; the device enters
     * ERROR */
    VFMIG_EMU_FAULT_REFUSE_LOAD,

    VFMIG_EMU_FAULT_LAST
} vfmigEmuFaultType;

typedef struct _vfmigEmuFault vfmigEmuFault;
struct _vfmigEmuFault {
    vfmigEmuFaultType type;
    /* ARC_FAIL, ARC_ERROR: a single arc of the device's FSM */
    uint32_t from;
    uint32_t to;
    /* TRUNCATE, READ_EIO, WRITE_EIO, CORRUPT: byte offset in the data
     * session's stream (0 = its first byte), in every session until the
     * fault fires */
    uint64_t offset;
    /* CORRUPT: the bits to flip; 0 means 0xff */
    uint8_t mask;
    /* fire every time, not just once */
    bool sticky;
};

int vfmigEmuDeviceInjectFault(vfmigDevice *dev,
                              const vfmigEmuFault *fault);
void vfmigEmuDeviceClearFaults(vfmigDevice *dev);


/* SHA-256 of the device's current state, in lowercase hex; NULL on error. */
char *vfmigEmuDeviceDigest(vfmigDevice *dev);

/*
 * Changes every byte in [@offset, @offset + @len) as the running device
 * would, marking the pages dirty for a pre-copy in progress.  Refused
 * unless the device runs (RUNNING, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P).
 */
int vfmigEmuDeviceMutate(vfmigDevice *dev,
                         uint64_t offset,
                         size_t len);
