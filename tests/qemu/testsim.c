/*
 * testsim.c: a model of QEMU 10's migration loop (testsim.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "testsim.h"

#include "vfmigerror.h"

static int
testSimGetJob(void *opaque,
              vfmigControllerJob *job)
{
    testSim *sim = opaque;

    if (sim->failGet) {
        vfmigReportError(VFMIG_ERR_LIBVIRT, "%s", "job stats failed");
        return -1;
    }
    if (sim->switched && sim->linger > 0) {
        sim->linger--;
        memset(job, 0, sizeof(*job));
        job->migrating = true;
        job->hasRam = true;
        job->ramTotal = sim->ramTotal;
        job->ramRemaining = sim->lingerRam;
        job->bandwidth = sim->bandwidth;
        job->paused = sim->paused || sim->lingerPaused;
        return 1;
    }
    if (sim->switched || sim->aborted)
        return 0;
    memset(job, 0, sizeof(*job));
    job->paused = sim->paused;
    if (sim->ticks < sim->prepTicks)
        return 1;
    job->migrating = true;
    job->hasRam = true;
    job->ramTotal = sim->ramTotal;
    job->ramRemaining = sim->ramRemaining;
    job->ramDirtyRate = sim->ramDirtyRate;
    job->bandwidth = sim->bandwidth;
    job->ramIteration = sim->iteration;
    job->paused = sim->paused;
    if (sim->pauseAtJobRead) {
        sim->pauseAtJobRead = false;
        sim->paused = true;
    }
    return 1;
}


static int
testSimGetDevices(void *opaque,
                  vfmigControllerDevice *devices,
                  size_t ndevices)
{
    testSim *sim = opaque;

    g_assert_cmpuint(ndevices, ==, 1);
    g_free(devices[0].state);
    devices[0].state = g_strdup(sim->switched || sim->paused ?
                                "STOP_COPY" : "PRE_COPY");
    devices[0].known = true;
    devices[0].sample.initial_bytes = sim->initial;
    devices[0].sample.dirty_bytes = sim->dirty;
    devices[0].sample.stop_copy_bytes = VFMIG_DOWNTIME_UNKNOWN;
    devices[0].sample.stop_latency_us = sim->stopLatUs;
    devices[0].sample.resume_latency_us = sim->resumeLatUs;
    devices[0].qemuBytes = sim->whole + sim->initial + sim->dirty;
    return 0;
}


static int
testSimGetMaxDowntime(void *opaque,
                      uint64_t *ms)
{
    testSim *sim = opaque;

    if (sim->gone) {
        vfmigReportError(VFMIG_ERR_LIBVIRT, "%s", "domain not found");
        return -1;
    }
    *ms = sim->limitMs;
    return 0;
}


static int
testSimSetMaxDowntime(void *opaque,
                      uint64_t ms)
{
    testSim *sim = opaque;

    if (ms != sim->announcedMs && ms != sim->announcedFallbackMs)
        sim->unannouncedSets++;
    sim->limitMs = ms;
    sim->sets++;
    return 0;
}


static int
testSimAnnounceLimit(void *opaque,
                     uint64_t ms,
                     uint64_t fallbackMs)
{
    testSim *sim = opaque;

    if (sim->failAnnounce) {
        vfmigReportError(VFMIG_ERR_SYSTEM_ERROR, "%s", "the guardian is gone");
        return -1;
    }
    sim->announces++;
    sim->announcedMs = ms;
    sim->announcedFallbackMs = fallbackMs;
    return 0;
}


static int
testSimAbort(void *opaque)
{
    testSim *sim = opaque;

    sim->aborted = true;
    return 0;
}


static int
testSimHoldDevices(void *opaque,
                   unsigned int leaseMs)
{
    testSim *sim = opaque;

    if (sim->failHold) {
        vfmigReportError(VFMIG_ERR_SYSTEM_ERROR, "%s", "hold_ms: permission denied");
        return -1;
    }
    if (!sim->canHold)
        return 0;
    sim->holdWrites++;
    sim->holdUntilUs = leaseMs ? sim->nowUs + leaseMs * MS : 0;
    return 1;
}


/* Only a device in pre-copy holds (a paused guest's are in STOP_COPY). */
bool
testSimHeld(const testSim *sim)
{
    return sim->holdUntilUs > sim->nowUs && !sim->paused;
}


const vfmigControllerOps testSimOps = {
    .getJob = testSimGetJob,
    .getDevices = testSimGetDevices,
    .getMaxDowntime = testSimGetMaxDowntime,
    .setMaxDowntime = testSimSetMaxDowntime,
    .abortJob = testSimAbort,
    .holdDevices = testSimHoldDevices,
    .announceLimit = testSimAnnounceLimit,
};


/* 64 MiB of RAM dirtied at 2 MiB/s, 8 MiB of device state dirtied at
 * 256 KiB/s, 32 MiB/s, 50 + 50 ms latencies, libvirt's default limit. */
void
testSimInit(testSim *sim)
{
    memset(sim, 0, sizeof(*sim));
    sim->prepTicks = 3;
    sim->ramTotal = 64 * MIB;
    sim->ramRemaining = 64 * MIB;
    sim->ramDirtyRate = 2 * MIB;
    sim->bandwidth = 32 * MIB;
    sim->initial = 8 * MIB;
    sim->dirty = 0;
    sim->stopLatUs = 50 * MS;
    sim->resumeLatUs = 50 * MS;
    sim->switchoverAck = true;
    sim->limitMs = 300;
}


uint64_t
testSimWire(const testSim *sim,
            uint64_t ram)
{
    if (!sim->allDirty || sim->normalPercent == 0)
        return ram;
    return ram / 100 * sim->normalPercent;
}


uint64_t
testSimPending(const testSim *sim)
{
    /* all dirty: QEMU's exact pending follows a sync */
    return (sim->allDirty ? sim->ramTotal : sim->ramRemaining) +
        sim->initial + sim->dirty;
}


/* One tick of the model: send, dirty, maybe switch. */
void
testSimAdvance(testSim *sim)
{
    uint64_t budget = sim->bandwidth * (TICK / MS) / 1000;
    uint64_t dirtied = sim->paused ? 0 : sim->ramDirtyRate * (TICK / MS) / 1000;
    uint64_t devDirtied = sim->paused ? 0 : 256 * 1024 * (TICK / MS) / 1000;
    uint64_t floor = sim->paused ? 0 : sim->ramDirtyRate / 10; /* what a
                                                                 * pass leaves */
    uint64_t sent;
    uint64_t bandwidth;
    uint64_t n;

    sim->ticks++;
    sim->nowUs += TICK;
    if (sim->switched || sim->aborted || sim->ticks <= sim->prepTicks)
        return;
    if (sim->iteration == 0)
        sim->iteration = 1;

    if (sim->novaEvery && sim->ticks % sim->novaEvery == 0)
        sim->limitMs = sim->novaMs;

    sent = budget;
    if (!sim->paused) {
        /* a paused guest's devices are in STOP_COPY: QEMU leaves their
         * state for the switch */
        n = MIN(budget, sim->initial);
        sim->initial -= n;
        budget -= n;
        n = MIN(budget, sim->dirty);
        sim->dirty -= n;
        budget -= n;
    }
    if (sim->allDirty) {
        /* the budget is wire bytes: zero pages cost nothing */
        uint64_t ram = sim->normalPercent ?
            budget / sim->normalPercent * 100 : budget;

        sim->ramRemaining -= MIN(ram, sim->ramRemaining);
        if (sim->ramRemaining == 0) {
            sim->ramRemaining = sim->ramTotal;
            sim->iteration++;
        }
        budget = 0;                 /* there is always more */
    } else {
        n = MIN(budget, sim->ramRemaining);
        sim->ramRemaining -= n;
        budget -= n;
        sim->ramRemaining = MAX(sim->ramRemaining, MIN(floor, sim->ramTotal));
        sim->ramRemaining = MIN(sim->ramRemaining + dirtied / 4, sim->ramTotal);
    }
    if (sim->initial == 0)
        sim->dirty += devDirtied / 4;

    /* QEMU's estimate of the bandwidth: what the tick sent; all of the
     * link while there is more to send than it carries */
    sent -= budget;
    bandwidth = sim->paused ?
        MAX(sent * 1000000 / TICK, VFMIG_SIM_IDLE_BANDWIDTH) : sim->bandwidth;

    /* QEMU's rule, with MIG_DATA_SIZE's answer while the device holds */
    if (testSimHeld(sim))
        sim->heldTicks++;
    if ((testSimPending(sim) + sim->whole == 0 ||
         (testSimPending(sim) + sim->whole +
          (testSimHeld(sim) ? VFMIG_SIM_HOLD_BYTES : 0)) * 1000 <=
         bandwidth * sim->limitMs) &&
        (!sim->switchoverAck || sim->initial == 0)) {
        uint64_t ram = sim->allDirty ? sim->ramTotal : sim->ramRemaining;

        sim->switched = true;
        sim->downtimeUs = (testSimWire(sim, ram) + sim->initial + sim->dirty) *
            1000000 / sim->bandwidth +
            sim->stopLatUs + sim->resumeLatUs + sim->overheadUs;
    }
}


/* Runs the controller and the model to the end (at most @maxTicks);
 * returns the last status's phase. */
vfmigControllerPhase
testSimRun(testSim *sim,
           vfmigController *ctl,
           unsigned int maxTicks)
{
    vfmigControllerStatus st;
    unsigned int i;

    for (i = 0; i < maxTicks; i++) {
        if (vfmigControllerStep(ctl, sim->nowUs, &st) < 0)
            g_error("step: %s", vfmigGetLastErrorMessage());
        if (st.phase == VFMIG_CONTROLLER_ENDED ||
            st.phase == VFMIG_CONTROLLER_ABORTED)
            return st.phase;
        if (st.phase == VFMIG_CONTROLLER_RELEASED && sim->initial > 0 &&
            sim->switchoverAck == false)
            sim->heldWithInitial++;
        /* while held, QEMU must not be able to switch */
        if (st.phase == VFMIG_CONTROLLER_HOLDING ||
            st.phase == VFMIG_CONTROLLER_WAITING)
            g_assert_cmpuint(sim->limitMs, ==, VFMIG_CONTROLLER_HOLD_MS);
        testSimAdvance(sim);
    }
    return st.phase;
}


vfmigController *
testController(testSim *sim,
               uint64_t targetMs,
               vfmigDomainPolicyOnFailure onFailure,
               uint64_t overheadUs,
               uint64_t loadUs)
{
    const char *names[] = { "hostdev0" };
    vfmigControllerConfig config = { .adoptFallbackMs = 0 };
    vfmigController *ctl;

    g_assert_cmpint(vfmigDowntimeSettingsSetMs(&config.downtime,
                                               VFMIG_DOWNTIME_PARAM_TARGET,
                                               targetMs), ==, 0);
    vfmigDowntimeSettingsSetUs(&config.downtime, VFMIG_DOWNTIME_PARAM_OVERHEAD,
                               overheadUs);
    vfmigDowntimeSettingsSetUs(&config.downtime, VFMIG_DOWNTIME_PARAM_LOAD, loadUs);
    config.downtime.onFailure = onFailure;
    /* the steer's probe: a device without DMA dirty tracking */
    config.ramAllDirty = sim->allDirty;
    /* and the domain's memory */
    if (sim->allDirty)
        config.ramBytes = sim->ramTotal;
    ctl = vfmigControllerNew(&testSimOps, sim, &config, names, 1);

    g_assert_nonnull(ctl);
    return ctl;
}

