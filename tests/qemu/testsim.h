/*
 * testsim.h: a model of QEMU 10's migration loop for the controller's
 * tests (test-controller.c) and the steering loop's (test-steerloop.c)
 *
 * The simulation is a model of QEMU 10's migration loop, not QEMU: every
 * 100 ms it sends bandwidth x 100 ms (the devices' initial pre-copy data
 * first, then RAM, which the guest dirties again at its rate), and it
 * switches over when its pending bytes (RAM + the devices' initial and
 * dirty bytes) fit in bandwidth x downtime-limit and, with switchover-ack,
 * no device has initial data left; with the guest paused (its devices in
 * STOP_COPY, their state left for the switch) the bandwidth in that rule
 * is what the tick sent, QEMU's own estimate, which falls to
 * VFMIG_SIM_IDLE_BANDWIDTH once RAM is sent.  The downtime it then causes is the
 * pending bytes' transfer plus the devices' stop and resume latencies plus
 * libvirt's own overhead.  Like QEMU's, the rule also fires when nothing
 * at all is pending, whatever the limit; a device that holds (the
 * drivers' vfio_migration/hold_ms lease) adds VFMIG_SIM_HOLD_BYTES to
 * the pending bytes, as MIG_DATA_SIZE does for QEMU.
 *
 * With allDirty (a device without DMA dirty tracking), every pass sends
 * all guest RAM and its end (a bitmap sync, counted in iteration) finds
 * all of it dirty again; QEMU's rule, which syncs before it decides, then
 * always sees all RAM pending, and the switch sends all of it: its zero
 * pages (1 - normalShare of it) cost nothing on the wire.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "vfmigcontroller.h"

#define MS 1000ULL                  /* us */
#define TICK (100 * MS)
#define MIB (1024ULL * 1024ULL)
#define VFMIG_SIM_HOLD_BYTES (1ULL << 50)  /* the drivers' VFMIG_HOLD_BYTES */
/* QEMU's bandwidth estimate when a tick sends nothing (section headers
 * and end-of-section marks only), bytes/s: the rig saw 4-7 KB/s with a
 * paused guest whose VF had left pre-copy. */
#define VFMIG_SIM_IDLE_BANDWIDTH (5ULL * 1024)

typedef struct _testSim testSim;
struct _testSim {
    /* the model */
    uint64_t nowUs;
    unsigned int prepTicks;         /* ticks before QEMU sends anything */
    uint64_t ramTotal;
    uint64_t ramRemaining;
    uint64_t ramDirtyRate;
    uint64_t bandwidth;
    uint64_t initial;               /* one device */
    uint64_t dirty;
    uint64_t stopLatUs;
    uint64_t resumeLatUs;
    uint64_t overheadUs;            /* libvirt's part */
    bool switchoverAck;
    uint64_t limitMs;

    /* what happened */
    bool switched;
    bool aborted;
    uint64_t downtimeUs;
    unsigned int sets;
    unsigned int linger;            /* steps the job still shows after the
                                     * switch, the device in STOP_COPY */
    uint64_t lingerRam;             /* the RAM those steps show left (what
                                     * QEMU's last sync found) */
    unsigned int heldWithInitial;   /* steps that released while initial
                                     * data remained */
    bool failGet;
    bool gone;                      /* the domain left (migrated): its
                                     * limit cannot be read */

    /* the device's hold (vfio_migration/hold_ms) */
    bool canHold;                   /* the driver has it */
    uint64_t holdUntilUs;           /* lease end; 0: not held */
    unsigned int holdWrites;
    unsigned int heldTicks;         /* QEMU iterations the hold bound */
    bool failHold;
    uint64_t whole;                 /* MIG_DATA_SIZE is the whole state
                                     * (mlx5): QEMU adds it to its pending;
                                     * 0: MIG_DATA_SIZE is the residue */
    bool paused;                    /* the guest paused during the job:
                                     * the devices in STOP_COPY */
    bool allDirty;                  /* every sync finds all RAM dirty */

    /* the write-ahead (announceLimit): what a guardian would know */
    unsigned int announces;
    uint64_t announcedMs;
    uint64_t announcedFallbackMs;
    unsigned int unannouncedSets;   /* limits set that were neither
                                     * announced nor the fallback */
    bool failAnnounce;
    bool pauseAtJobRead;            /* the guest pauses just after the
                                     * next job read (which sees it
                                     * running) */
    bool lingerPaused;              /* the guest is paused while the job
                                     * lingers after the switch, as at
                                     * QEMU's switchover */
    unsigned int normalPercent;     /* allDirty: the RAM that is not zero
                                     * pages; 0 means 100 */
    uint64_t iteration;             /* bitmap syncs (memory_iteration) */

    /* Nova: overwrites the limit every novaEvery ticks */
    unsigned int novaEvery;
    uint64_t novaMs;
    unsigned int ticks;
};

extern const vfmigControllerOps testSimOps;

/* 64 MiB of RAM dirtied at 2 MiB/s, 8 MiB of device state dirtied at
 * 256 KiB/s, 32 MiB/s, 50 + 50 ms latencies, libvirt's default limit. */
void testSimInit(testSim *sim);
/* Whether the device holds now (only a device in pre-copy holds). */
bool testSimHeld(const testSim *sim);
/* What a pass or the switch sends of @ram bytes of RAM on the wire. */
uint64_t testSimWire(const testSim *sim, uint64_t ram);
/* What QEMU counts as pending. */
uint64_t testSimPending(const testSim *sim);
/* One tick of the model: send, dirty, maybe switch. */
void testSimAdvance(testSim *sim);
/* Runs the controller and the model to the end (at most @maxTicks);
 * returns the last status's phase. */
vfmigControllerPhase testSimRun(testSim *sim,
                                vfmigController *ctl,
                                unsigned int maxTicks);
/* A controller of one device ("hostdev0") on @sim. */
vfmigController *testController(testSim *sim,
                                uint64_t targetMs,
                                vfmigDomainPolicyOnFailure onFailure,
                                uint64_t overheadUs,
                                uint64_t loadUs);
