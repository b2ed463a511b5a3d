/*
 * test-steerloop.c: the steering loop and its judge against a simulated
 * QEMU (testsim.h): every way a migration ends, as the loop steps it and
 * the judge classifies it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <glib.h>

#include "testsim.h"
#include "vfmigerror.h"
#include "vfmigsteerloop.h"

typedef struct _testLoop testLoop;
struct _testLoop {
    testSim sim;
    vfmigController *ctl;
    vfmigSteerLoop *loop;
    bool gone;                      /* the domain left */
    unsigned int goneAsked;
};


static bool
testLoopGone(void *opaque)
{
    testLoop *t = opaque;

    t->goneAsked++;
    return t->gone;
}


static void
testLoopInit(testLoop *t,
             uint64_t targetMs,
             vfmigDomainPolicyOnFailure onFailure,
             uint64_t overheadUs)
{
    vfmigSteerLoopConfig config = {
        .targetUs = targetMs * MS,
        .gone = testLoopGone,
        .opaque = t,
    };

    t->ctl = testController(&t->sim, targetMs, onFailure, overheadUs, 0);
    t->loop = vfmigSteerLoopNew(t->ctl, &config);
    g_assert_nonnull(t->loop);
}


static void
testLoopClear(testLoop *t)
{
    g_clear_pointer(&t->loop, vfmigSteerLoopFree);
    g_clear_pointer(&t->ctl, vfmigControllerFree);
}


/* Steps the loop and the model until the loop says the job is over;
 * returns how many steps that took. */
static unsigned int
testLoopRun(testLoop *t)
{
    vfmigSteerLoopEvent ev;
    unsigned int i;
    int rc;

    for (i = 0; i < 2000; i++) {
        rc = vfmigSteerLoopStep(t->loop, t->sim.nowUs, &ev);
        if (rc < 0)
            g_error("step: %s", vfmigGetLastErrorMessage());
        g_assert_true(ev.stepped);
        g_assert_nonnull(ev.line);
        if (i == 0)
            g_assert_true(ev.phaseChanged);
        if (rc == 0) {
            g_assert_true(vfmigSteerLoopIsOver(t->loop));
            /* over: further calls step nothing */
            g_assert_cmpint(vfmigSteerLoopStep(t->loop, t->sim.nowUs, &ev), ==, 0);
            g_assert_false(ev.stepped);
            return i + 1;
        }
        g_assert_cmpint(rc, ==, 1);
        testSimAdvance(&t->sim);
    }
    g_error("the migration never ended");
    return 0;
}


/* libvirt's completed job after the model's switch. */
static vfmigSteerCompleted
testLoopCompleted(const testLoop *t)
{
    vfmigSteerCompleted c = {
        .end = VFMIG_STEER_JOB_COMPLETED,
        .hasDowntime = true,
        .downtimeUs = t->sim.downtimeUs,
        .operation = -1,
    };

    return c;
}


/* Steered to meet the target: met, a predicted switch that teaches. */
static void
testEndMet(void)
{
    testLoop t = { 0 };
    vfmigSteerCompleted c;
    vfmigSteerVerdict v;
    const vfmigControllerStatus *sw;

    testSimInit(&t.sim);
    t.sim.overheadUs = 150 * MS;
    testLoopInit(&t, 300, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT, 150 * MS);
    testLoopRun(&t);
    g_assert_true(t.sim.switched);
    g_assert_cmpint(vfmigSteerLoopPhase(t.loop), ==, VFMIG_CONTROLLER_ENDED);
    c = testLoopCompleted(&t);
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &c, 0, &v), ==, VFMIG_STEER_END_MET);
    g_assert_cmpint(v.end, ==, VFMIG_STEER_END_MET);
    g_assert_cmpint(v.met, ==, 1);
    g_assert_cmpint(v.how, ==, VFMIG_STEER_SWITCH_PREDICTED);
    g_assert_cmpint(v.abort, ==, VFMIG_STEER_ABORT_NONE);
    sw = vfmigControllerSwitchStep(t.ctl);
    g_assert_nonnull(sw);
    g_assert_cmpuint(v.predictedUs, ==, sw->predictedUs);
    g_assert_true(v.hasOverheadSample);
    g_assert_cmpint(v.overheadSampleUs, ==,
                    (int64_t) t.sim.downtimeUs - (int64_t) sw->policy.predicted_us);
    /* the model's overhead is what the sample learns, within a tick */
    g_assert_cmpint(v.overheadSampleUs, >=, 100 * (int64_t) MS);
    /* no step saw the switch's RAM: learned less the prediction */
    g_assert_false(sw->tookKnown);

    /* the same, told by the caller that the domain is on the destination */
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &c, VFMIG_STEER_JUDGE_MIGRATED, &v),
                    ==, VFMIG_STEER_END_MET);
    testLoopClear(&t);
}


/* A step saw what QEMU took the switch with: libvirt's overhead is
 * learned as the downtime less that, not less the prediction. */
static void
testEndTook(void)
{
    testLoop t = { 0 };
    vfmigSteerCompleted c;
    vfmigSteerVerdict v;
    const vfmigControllerStatus *sw;

    testSimInit(&t.sim);
    t.sim.overheadUs = 150 * MS;
    t.sim.linger = 2;
    t.sim.lingerRam = 4 * MIB;
    testLoopInit(&t, 300, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT, 150 * MS);
    testLoopRun(&t);
    g_assert_true(t.sim.switched);
    c = testLoopCompleted(&t);
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &c, 0, &v), ==, VFMIG_STEER_END_MET);
    sw = vfmigControllerSwitchStep(t.ctl);
    g_assert_nonnull(sw);
    g_assert_true(sw->tookKnown);
    g_assert_cmpuint(sw->tookUs, !=, sw->policy.predicted_us);
    g_assert_true(v.hasOverheadSample);
    g_assert_cmpint(v.overheadSampleUs, ==,
                    (int64_t) t.sim.downtimeUs - (int64_t) sw->tookUs);
    /* the prediction reported is still the switch step's */
    g_assert_cmpuint(v.predictedUs, ==, sw->predictedUs);
    testLoopClear(&t);
}


/* libvirt's overhead unknown to the controller: the switch misses. */
static void
testEndMissed(void)
{
    testLoop t = { 0 };
    vfmigSteerCompleted c;
    vfmigSteerVerdict v;

    testSimInit(&t.sim);
    t.sim.overheadUs = 400 * MS;
    testLoopInit(&t, 300, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT, 0);
    testLoopRun(&t);
    g_assert_true(t.sim.switched);
    g_assert_cmpuint(t.sim.downtimeUs, >, 300 * MS);
    c = testLoopCompleted(&t);
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &c, 0, &v), ==, VFMIG_STEER_END_MISSED);
    g_assert_cmpint(v.met, ==, 0);
    g_assert_cmpint(v.how, ==, VFMIG_STEER_SWITCH_PREDICTED);
    /* what it teaches covers the overhead the controller did not know */
    g_assert_true(v.hasOverheadSample);
    g_assert_cmpint(v.overheadSampleUs, >=, 300 * (int64_t) MS);

    /* migrated, but libvirt gave no downtime: unmeasured, nothing learned */
    c.hasDowntime = false;
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &c, VFMIG_STEER_JUDGE_MIGRATED, &v),
                    ==, VFMIG_STEER_END_UNMEASURED);
    g_assert_cmpint(v.met, ==, -1);
    g_assert_false(v.hasOverheadSample);
    /* without the caller's word, a completed job without a downtime is
     * not known (the daemon waits for the event) */
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &c, 0, &v), ==, VFMIG_STEER_END_UNKNOWN);
    testLoopClear(&t);
}


/* A fault on the path at the switch (the link cut while the devices were
 * stopped, then back: libvirt's downtime 12 s): the migration completed,
 * but what it took beyond QEMU's part is no libvirt overhead: it is not
 * learned (one such sample made every later prediction miss).  Where the
 * overhead in use is large, the bound grows with it. */
static void
testEndFaulted(void)
{
    testLoop t = { 0 };
    vfmigSteerCompleted c;
    vfmigSteerVerdict v;

    testSimInit(&t.sim);
    t.sim.overheadUs = 12000 * MS;
    testLoopInit(&t, 2000, VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT, 400 * MS);
    testLoopRun(&t);
    g_assert_true(t.sim.switched);
    c = testLoopCompleted(&t);
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &c, 0, &v), ==, VFMIG_STEER_END_MISSED);
    g_assert_cmpint(v.how, ==, VFMIG_STEER_SWITCH_PREDICTED);
    g_assert_false(v.hasOverheadSample);
    g_assert_true(v.faulted);
    g_assert_cmpuint(v.faultBoundUs, ==, VFMIG_STEER_FAULT_MIN_US);
    g_assert_cmpint(v.overheadSampleUs, >, (int64_t) VFMIG_STEER_FAULT_MIN_US);
    testLoopClear(&t);

    /* 6 s of libvirt's work where the controller used 2 s: within four
     * times that, a slow host's overhead, learned */
    testSimInit(&t.sim);
    t.sim.overheadUs = 6000 * MS;
    testLoopInit(&t, 2000, VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT, 2000 * MS);
    testLoopRun(&t);
    g_assert_true(t.sim.switched);
    c = testLoopCompleted(&t);
    vfmigSteerLoopJudge(t.loop, &c, VFMIG_STEER_JUDGE_MIGRATED, &v);
    g_assert_cmpint(v.how, ==, VFMIG_STEER_SWITCH_PREDICTED);
    g_assert_false(v.faulted);
    g_assert_cmpuint(v.faultBoundUs, ==, 4 * 2000 * MS);
    g_assert_true(v.hasOverheadSample);
    g_assert_cmpint(v.overheadSampleUs, >, (int64_t) VFMIG_STEER_FAULT_MIN_US);
    testLoopClear(&t);

    /* the usual overhead is learned, as ever */
    testSimInit(&t.sim);
    t.sim.overheadUs = 600 * MS;
    testLoopInit(&t, 2000, VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT, 0);
    testLoopRun(&t);
    c = testLoopCompleted(&t);
    vfmigSteerLoopJudge(t.loop, &c, VFMIG_STEER_JUDGE_MIGRATED, &v);
    g_assert_false(v.faulted);
    g_assert_true(v.hasOverheadSample);
    testLoopClear(&t);
}


/* The downtime equal to the target meets it. */
static void
testDowntimeMet(void)
{
    g_assert_true(vfmigSteerDowntimeMet(300 * MS, 300 * MS));
    g_assert_false(vfmigSteerDowntimeMet(300 * MS + 1, 300 * MS));
    g_assert_true(vfmigSteerDowntimeMet(0, 1));
}


/* Cancelled by the policy: the pre-flight, and a migration that does not
 * converge. */
static void
testEndAborted(void)
{
    testLoop t = { 0 };
    testLoop t2 = { 0 };
    vfmigSteerCompleted c = { .end = VFMIG_STEER_JOB_CANCELLED, .operation = -1 };
    vfmigSteerVerdict v;

    /* more overhead than target: the first step's pre-flight cancels */
    testSimInit(&t.sim);
    testLoopInit(&t, 300, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT, 400 * MS);
    g_assert_cmpuint(testLoopRun(&t), ==, 1);
    g_assert_true(t.sim.aborted);
    g_assert_cmpint(vfmigSteerLoopPhase(t.loop), ==, VFMIG_CONTROLLER_ABORTED);
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &c, 0, &v), ==, VFMIG_STEER_END_ABORTED);
    g_assert_cmpint(v.abort, ==, VFMIG_STEER_ABORT_PREFLIGHT);
    g_assert_cmpuint(v.floorUs, ==, 500 * MS);
    g_assert_cmpint(v.how, ==, VFMIG_STEER_SWITCH_NONE);
    /* libvirt told nothing yet: still the policy's */
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, NULL, 0, &v), ==, VFMIG_STEER_END_ABORTED);

    /* dirtying outruns the link: the policy gives up */
    testSimInit(&t2.sim);
    t2.sim.ramDirtyRate = 400 * MIB;
    testLoopInit(&t2, 300, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT, 0);
    g_assert_cmpuint(testLoopRun(&t2), >, 1);
    g_assert_true(t2.sim.aborted);
    g_assert_cmpint(vfmigSteerLoopJudge(t2.loop, &c, 0, &v), ==, VFMIG_STEER_END_ABORTED);
    g_assert_cmpint(v.abort, ==, VFMIG_STEER_ABORT_TARGET);
    g_assert_cmpint(v.reason, ==, VFMIG_DOWNTIME_REASON_NOT_CONVERGING);
    g_assert_cmpint(v.met, ==, -1);
    testLoopClear(&t);
    testLoopClear(&t2);
}


/* The guest paused before the device's initial data was sent: cancelled
 * by the policy, and the judge says why. */
static void
testEndAbortedPaused(void)
{
    testLoop t = { 0 };
    vfmigSteerLoopEvent ev;
    vfmigSteerVerdict v;
    unsigned int i;

    testSimInit(&t.sim);
    t.sim.canHold = true;
    t.sim.bandwidth = 4 * MIB;
    testLoopInit(&t, 300, VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT, 0);
    for (i = 0; i < 5; i++) {
        g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, 1);
        testSimAdvance(&t.sim);
    }
    t.sim.paused = true;
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, 0);
    g_assert_true(ev.phaseChanged);
    g_assert_cmpint(ev.step.phase, ==, VFMIG_CONTROLLER_ABORTED);
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, NULL, 0, &v), ==, VFMIG_STEER_END_ABORTED);
    g_assert_cmpint(v.abort, ==, VFMIG_STEER_ABORT_PAUSED);
    testLoopClear(&t);
}


/* Cancelled by someone else: virsh domjobabort (libvirt says cancelled),
 * and the caller's own time limit. */
static void
testEndCancelled(void)
{
    testLoop t = { 0 };
    vfmigSteerCompleted c = { .end = VFMIG_STEER_JOB_CANCELLED, .operation = -1 };
    vfmigSteerLoopEvent ev;
    vfmigSteerVerdict v;
    unsigned int i;

    testSimInit(&t.sim);
    testLoopInit(&t, 300, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT, 0);
    for (i = 0; i < 6; i++) {
        g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, 1);
        testSimAdvance(&t.sim);
    }
    t.sim.aborted = true;           /* not by the controller */
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, 0);
    g_assert_cmpint(ev.step.phase, ==, VFMIG_CONTROLLER_ENDED);
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &c, 0, &v), ==, VFMIG_STEER_END_CANCELLED);
    g_assert_cmpint(v.abort, ==, VFMIG_STEER_ABORT_NONE);
    /* the caller cancelled it: whatever libvirt says after */
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, NULL, VFMIG_STEER_JUDGE_CANCEL_ASKED |
                                        VFMIG_STEER_JUDGE_NOT_MIGRATED, &v),
                    ==, VFMIG_STEER_END_CANCELLED);
    testLoopClear(&t);
}


/* Failed: libvirt says so, or the caller's call failed although the
 * source's job completed; not known without libvirt's word. */
static void
testEndFailed(void)
{
    testLoop t = { 0 };
    vfmigSteerCompleted failed = { .end = VFMIG_STEER_JOB_FAILED, .operation = -1 };
    vfmigSteerCompleted done;
    vfmigSteerVerdict v;

    testSimInit(&t.sim);
    testLoopInit(&t, 300, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT, 0);
    testLoopRun(&t);
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &failed, 0, &v), ==, VFMIG_STEER_END_FAILED);
    g_assert_cmpint(v.met, ==, -1);
    done = testLoopCompleted(&t);
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &done, VFMIG_STEER_JUDGE_NOT_MIGRATED, &v),
                    ==, VFMIG_STEER_END_FAILED);
    /* the downtime is still judged */
    g_assert_cmpint(v.met, >=, 0);
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, NULL, 0, &v), ==, VFMIG_STEER_END_UNKNOWN);
    done.end = VFMIG_STEER_JOB_NONE;
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, &done, 0, &v), ==, VFMIG_STEER_END_UNKNOWN);
    testLoopClear(&t);
}


/* Failed steps: counted, the first kept; too many in a row and the loop
 * hands the limit back and stops. */
static void
testStepErrors(void)
{
    testLoop t = { 0 };
    vfmigSteerLoopConfig config = { .targetUs = 300 * MS, .maxErrors = 3 };
    vfmigSteerLoopEvent ev;
    unsigned int i;

    testSimInit(&t.sim);
    t.ctl = testController(&t.sim, 300, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT, 0, 0);
    t.loop = vfmigSteerLoopNew(t.ctl, &config);
    for (i = 0; i < 4; i++) {
        g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, 1);
        testSimAdvance(&t.sim);
    }
    g_assert_cmpuint(t.sim.limitMs, ==, VFMIG_CONTROLLER_HOLD_MS);
    t.sim.failGet = true;
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, -1);
    g_assert_false(ev.stepped);
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, -1);
    g_assert_cmpuint(vfmigSteerLoopErrorsInRow(t.loop), ==, 2);
    /* a good step clears the row, not the count */
    t.sim.failGet = false;
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, 1);
    g_assert_cmpuint(vfmigSteerLoopErrorsInRow(t.loop), ==, 0);
    g_assert_cmpuint(vfmigSteerLoopErrors(t.loop), ==, 2);
    g_assert_cmpstr(vfmigSteerLoopFirstError(t.loop), ==, "job stats failed");
    t.sim.failGet = true;
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, -1);
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, -1);
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, -2);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, "job stats failed");
    g_assert_true(vfmigSteerLoopGaveUp(t.loop));
    g_assert_true(vfmigSteerLoopIsOver(t.loop));
    /* the limit QEMU had before the controller */
    g_assert_cmpuint(t.sim.limitMs, ==, 300);
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, 0);
    g_assert_cmpuint(vfmigSteerLoopErrors(t.loop), ==, 5);
    g_assert_cmpuint(vfmigSteerLoopSteps(t.loop), ==, 5);
    testLoopClear(&t);

    config.targetUs = 0;
    g_assert_null(vfmigSteerLoopNew(NULL, &config));
}


/* A step that fails because the domain left with its migration: over,
 * not an error. */
static void
testGone(void)
{
    testLoop t = { 0 };
    vfmigSteerLoopEvent ev;
    vfmigSteerVerdict v;

    testSimInit(&t.sim);
    testLoopInit(&t, 300, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT, 0);
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, 1);
    testSimAdvance(&t.sim);
    t.sim.failGet = true;
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, -1);
    g_assert_cmpuint(t.goneAsked, ==, 1);
    t.gone = true;
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, 0);
    g_assert_true(ev.gone);
    g_assert_cmpint(vfmigSteerLoopPhase(t.loop), ==, VFMIG_CONTROLLER_ENDED);
    g_assert_cmpuint(vfmigSteerLoopErrors(t.loop), ==, 1);
    /* the domain left: libvirt's event tells how */
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, NULL, 0, &v), ==, VFMIG_STEER_END_UNKNOWN);
    testLoopClear(&t);
}


/* The caller saw the domain arrive: ended without a step. */
static void
testSetEnded(void)
{
    testLoop t = { 0 };
    vfmigSteerLoopEvent ev;
    vfmigSteerVerdict v;

    testSimInit(&t.sim);
    testLoopInit(&t, 300, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT, 0);
    g_assert_cmpint(vfmigControllerArm(t.ctl), ==, 0);
    vfmigSteerLoopSetEnded(t.loop);
    g_assert_cmpint(vfmigSteerLoopStep(t.loop, t.sim.nowUs, &ev), ==, 0);
    g_assert_false(ev.stepped);
    g_assert_cmpint(vfmigSteerLoopJudge(t.loop, NULL, VFMIG_STEER_JUDGE_MIGRATED, &v),
                    ==, VFMIG_STEER_END_UNMEASURED);
    g_assert_cmpint(v.how, ==, VFMIG_STEER_SWITCH_UNPREDICTED);
    testLoopClear(&t);
}


int
main(int argc,
     char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/steerloop/end/met", testEndMet);
    g_test_add_func("/steerloop/end/missed", testEndMissed);
    g_test_add_func("/steerloop/end/took", testEndTook);
    g_test_add_func("/steerloop/end/faulted", testEndFaulted);
    g_test_add_func("/steerloop/end/aborted", testEndAborted);
    g_test_add_func("/steerloop/end/aborted-paused", testEndAbortedPaused);
    g_test_add_func("/steerloop/end/cancelled", testEndCancelled);
    g_test_add_func("/steerloop/end/failed", testEndFailed);
    g_test_add_func("/steerloop/downtime-met", testDowntimeMet);
    g_test_add_func("/steerloop/step-errors", testStepErrors);
    g_test_add_func("/steerloop/gone", testGone);
    g_test_add_func("/steerloop/set-ended", testSetEnded);
    return g_test_run();
}
