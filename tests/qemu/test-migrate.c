/*
 * test-migrate.c: virt-vfmig migrate's report (text and JSON) from
 * synthetic reports, and the default switchover bandwidth
 *
 * The migration itself needs two libvirt hosts: the VM suite
 * tests/vm/suites/vfmigd.sh runs it; tests/cli/test-cli-migrate.sh runs
 * the refusals and a migration libvirt's test driver fails.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <glib.h>

#include "vfmigmigrate.h"

#define MIB (1024ULL * 1024ULL)


/* A migration that met its target: a device, three phases. */
static vfmigMigrateReport *
testReportMigrated(void)
{
    vfmigMigrateReport *r = vfmigMigrateReportNew();

    r->domain = g_strdup("vm1");
    r->destURI = g_strdup("qemu+tcp://10.99.0.1/system");
    r->result = VFMIG_MIGRATE_MIGRATED;
    r->targetUs = 2000 * 1000;
    r->onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT;
    r->overheadUs = 150 * 1000;
    r->overheadSource = VFMIG_MIGRATE_OVERHEAD_LEARNED;
    r->ramBytes = 64 * MIB;
    r->switchoverBw = VFMIG_MIGRATE_SWITCHOVER_BW_AUTO;
    r->switchoverMiBps = 32000;
    r->switchoverDevice = g_strdup("0000:00:05.0");
    r->totalMs = 21345;
    r->steps = 90;
    r->overwrites = 2;
    r->switched = true;
    r->switchAtMs = 17800;
    r->switchLimitMs = 812;
    r->switchDecision = VFMIG_DOWNTIME_SWITCH_OVER;
    r->switchReason = VFMIG_DOWNTIME_REASON_CONVERGED;
    r->predictedUs = 912345;
    r->policyPredictedUs = 762345;
    r->hasDowntime = true;
    r->downtimeMs = 1034;
    r->downtimeFromDestination = true;
    r->jobElapsedMs = 21000;
    r->hasFloor = true;
    r->floorUs = 100250;
    r->nphases = 3;
    r->phases = g_new0(vfmigMigratePhase, 3);
    r->phases[0] = (vfmigMigratePhase) { VFMIG_CONTROLLER_WAITING, 0 };
    r->phases[1] = (vfmigMigratePhase) { VFMIG_CONTROLLER_HOLDING, 9000 };
    r->phases[2] = (vfmigMigratePhase) { VFMIG_CONTROLLER_RELEASED, 17800 };
    r->ndevices = 1;
    r->devices = g_new0(vfmigMigrateDevice, 1);
    r->devices[0].name = g_strdup("0000:00:05.0");
    r->devices[0].known = true;
    r->devices[0].state = g_strdup("PRE_COPY");
    r->devices[0].initialBytes = 0;
    r->devices[0].dirtyBytes = 65536;
    r->devices[0].stopCopyBytes = VFMIG_DOWNTIME_UNKNOWN;
    g_ptr_array_add(r->warnings, g_strdup("a \"quoted\" warning"));
    return r;
}


static void
testJSONMigrated(void)
{
    g_autoptr(vfmigMigrateReport) r = testReportMigrated();
    g_autofree char *json = vfmigMigrateReportFormatJSON(r);
    const char *want =
        "{\n"
        "  \"domain\": \"vm1\",\n"
        "  \"destination\": \"qemu+tcp://10.99.0.1/system\",\n"
        "  \"result\": \"migrated\",\n"
        "  \"error\": null,\n"
        "  \"target-ms\": 2000,\n"
        "  \"on-failure\": \"best-effort\",\n"
        "  \"downtime-ms\": 1034,\n"
        "  \"downtime-from\": \"destination\",\n"
        "  \"predicted-ms\": 912,\n"
        "  \"predicted-us\": 912345,\n"
        "  \"policy-predicted-us\": 762345,\n"
        "  \"met\": true,\n"
        "  \"total-ms\": 21345,\n"
        "  \"job-elapsed-ms\": 21000,\n"
        "  \"preflight\": {\n"
        "    \"floor-us\": 100250,\n"
        "    \"misses-target\": false,\n"
        "    \"all-dirty\": null\n"
        "  },\n"
        "  \"overhead\": {\n"
        "    \"us\": 150000,\n"
        "    \"source\": \"learned\"\n"
        "  },\n"
        "  \"switchover-bandwidth\": {\n"
        "    \"mibps\": 32000,\n"
        "    \"source\": \"automatic\",\n"
        "    \"device\": \"0000:00:05.0\",\n"
        "    \"ram-bytes\": 67108864\n"
        "  },\n"
        "  \"switch\": {\n"
        "    \"at-ms\": 17800,\n"
        "    \"limit-ms\": 812,\n"
        "    \"decision\": \"switch-over\",\n"
        "    \"reason\": \"converged\"\n"
        "  },\n"
        "  \"steps\": 90,\n"
        "  \"step-errors\": 0,\n"
        "  \"overwrites\": 2,\n"
        "  \"phases\": [\n"
        "    {\n"
        "      \"phase\": \"waiting\",\n"
        "      \"at-ms\": 0\n"
        "    },\n"
        "    {\n"
        "      \"phase\": \"holding\",\n"
        "      \"at-ms\": 9000\n"
        "    },\n"
        "    {\n"
        "      \"phase\": \"released\",\n"
        "      \"at-ms\": 17800\n"
        "    }\n"
        "  ],\n"
        "  \"devices\": [\n"
        "    {\n"
        "      \"address\": \"0000:00:05.0\",\n"
        "      \"estimates\": true,\n"
        "      \"state\": \"PRE_COPY\",\n"
        "      \"initial-bytes\": 0,\n"
        "      \"dirty-bytes\": 65536,\n"
        "      \"stop-copy-bytes\": null\n"
        "    }\n"
        "  ],\n"
        "  \"warnings\": [\n"
        "    \"a \\\"quoted\\\" warning\"\n"
        "  ]\n"
        "}\n";

    g_assert_cmpstr(json, ==, want);
}


/* A migration that failed before the controller released: no downtime,
 * no prediction, the error; "met" is null, not false. */
static void
testJSONFailed(void)
{
    g_autoptr(vfmigMigrateReport) r = vfmigMigrateReportNew();
    g_autofree char *json = NULL;

    r->domain = g_strdup("vm1");
    r->destURI = g_strdup("qemu+tcp://h/system");
    r->result = VFMIG_MIGRATE_TIMEOUT;
    r->error = g_strdup("operation aborted: migration out job: canceled by client");
    r->targetUs = 300000;
    r->onFailure = VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT;
    r->switchoverBw = VFMIG_MIGRATE_SWITCHOVER_BW_OPTION;
    r->switchoverMiBps = 1024;
    json = vfmigMigrateReportFormatJSON(r);

    g_assert_nonnull(strstr(json, "\"result\": \"timeout\",\n"));
    g_assert_nonnull(strstr(json, "\"error\": \"operation aborted: migration out job: canceled by client\",\n"));
    g_assert_nonnull(strstr(json, "\"on-failure\": \"abort\",\n"));
    g_assert_nonnull(strstr(json, "\"downtime-ms\": null,\n"));
    g_assert_nonnull(strstr(json, "\"downtime-from\": null,\n"));
    g_assert_nonnull(strstr(json, "\"predicted-ms\": null,\n"));
    g_assert_nonnull(strstr(json, "\"met\": null,\n"));
    g_assert_nonnull(strstr(json, "\"switch\": null,\n"));
    g_assert_nonnull(strstr(json, "\"mibps\": 1024,\n    \"source\": \"option\",\n    \"device\": null,"));
    g_assert_nonnull(strstr(json, "\"overhead\": {\n    \"us\": 0,\n    \"source\": \"none\"\n  }"));
    g_assert_nonnull(strstr(json, "\"phases\": [],\n"));
}


static void
testMet(void)
{
    g_autoptr(vfmigMigrateReport) r = testReportMigrated();

    g_assert_cmpint(vfmigMigrateReportMet(r), ==, 1);
    r->downtimeMs = 2000;           /* the target itself is met */
    g_assert_cmpint(vfmigMigrateReportMet(r), ==, 1);
    r->downtimeMs = 2001;
    g_assert_cmpint(vfmigMigrateReportMet(r), ==, 0);
    r->hasDowntime = false;
    g_assert_cmpint(vfmigMigrateReportMet(r), ==, -1);
}


static void
testText(void)
{
    g_autoptr(vfmigMigrateReport) r = testReportMigrated();
    g_autofree char *text = vfmigMigrateReportFormatText(r);
    g_autofree char *missed = NULL;

    g_assert_nonnull(strstr(text, "Domain:                vm1\n"));
    g_assert_nonnull(strstr(text, "Result:                migrated\n"));
    g_assert_null(strstr(text, "Error:"));
    g_assert_nonnull(strstr(text, "Target:                2000 ms (on failure: best-effort)\n"));
    g_assert_nonnull(strstr(text, "Downtime:              1034 ms (libvirt, the destination's completed job)\n"));
    g_assert_nonnull(strstr(text, "Predicted:             912.345 ms at the switch (762.345 ms and libvirt's overhead 150.000 ms)\n"));
    g_assert_nonnull(strstr(text, "Target met:            yes\n"));
    g_assert_nonnull(strstr(text, "Total time:            21345 ms\n"));
    g_assert_nonnull(strstr(text, "Pre-flight:            floor 100.250 ms: leaves room for the target\n"));
    g_assert_nonnull(strstr(text, "Overhead:              150 ms (learned)\n"));
    g_assert_nonnull(strstr(text, "Switchover bandwidth:  32000 MiB/s: 0000:00:05.0 has no device dirty tracking, so QEMU counts all guest RAM (64 MiB) dirty"));
    g_assert_nonnull(strstr(text, "Switch:                after 17800 ms: limit 812 ms (switch-over, converged)\n"));
    g_assert_nonnull(strstr(text, "Steps:                 90 (0 failed); limit overwritten 2 time(s)\n"));
    g_assert_nonnull(strstr(text, "Phases:                waiting 0 ms, holding 9000 ms, released 17800 ms\n"));
    g_assert_nonnull(strstr(text, "Device:                0000:00:05.0: last seen PRE_COPY, initial 0 B, dirty 65536 B\n"));
    g_assert_nonnull(strstr(text, "Warning:               a \"quoted\" warning\n"));

    r->downtimeMs = 2500;
    r->hasDowntime = true;
    r->downtimeFromDestination = false;
    r->result = VFMIG_MIGRATE_FAILED;
    r->error = g_strdup("boom");
    r->switched = false;
    r->predictedUs = VFMIG_DOWNTIME_UNKNOWN;
    missed = vfmigMigrateReportFormatText(r);
    g_assert_nonnull(strstr(missed, "Result:                failed\nError:                 boom\n"));
    g_assert_nonnull(strstr(missed, "Downtime:              2500 ms (libvirt, the source's completed job)\n"));
    g_assert_nonnull(strstr(missed, "Predicted:             none: the controller never released the switchover\n"));
    g_assert_nonnull(strstr(missed, "Target met:            no\n"));
    g_assert_null(strstr(missed, "Switch:"));
}


/* Where all guest RAM is dirty and that misses the target, the
 * pre-flight says what it costs: 4 GiB at 10 Gbit/s assumed. */
static void
testPreflightAllDirty(void)
{
    g_autoptr(vfmigMigrateReport) r = testReportMigrated();
    g_autofree char *text = NULL;
    g_autofree char *json = NULL;

    r->allDirty.known = true;
    r->allDirty.ramBytes = 4096 * MIB;
    r->allDirty.linkBps = 1250000000;
    r->allDirty.link = VFMIG_CONTROLLER_LINK_ASSUMED;
    r->allDirty.leastUs = 3435974;
    r->allDirty.misses = true;
    text = vfmigMigrateReportFormatText(r);
    g_assert_nonnull(strstr(text, "Pre-flight:            floor 100.250 ms: leaves room for the target; "
                            "all guest RAM is dirty at every pass (a VF without DMA dirty tracking): "
                            "the switch-over copies all 4.0 GiB of it, at least 3.4 s at 10 Gbit/s "
                            "(the link speed assumed) on top of the floor, so the downtime cannot "
                            "meet the target of 2000 ms\n"));
    json = vfmigMigrateReportFormatJSON(r);
    g_assert_nonnull(strstr(json,
                            "    \"all-dirty\": {\n"
                            "      \"ram-bytes\": 4294967296,\n"
                            "      \"link-bps\": 1250000000,\n"
                            "      \"link\": \"assumed\",\n"
                            "      \"least-us\": 3435974,\n"
                            "      \"misses-target\": true\n"
                            "    }\n"));
}


static void
testDefaultSwitchover(void)
{
    uint64_t bw = vfmigMigrateDefaultSwitchoverMiBps(64 * MIB);

    /* half of 64 MiB per 1 ms of held limit */
    g_assert_cmpuint(bw, ==, 32000);
    /* QEMU's rule while held: bandwidth x 1 ms < all of RAM pending */
    g_assert_cmpuint(bw * MIB / 1000 * VFMIG_CONTROLLER_HOLD_MS, <, 64 * MIB);
    g_assert_cmpuint(vfmigMigrateDefaultSwitchoverMiBps(4096 * MIB), ==, 2048000);
    /* never 0, which would mean "not given" */
    g_assert_cmpuint(vfmigMigrateDefaultSwitchoverMiBps(0), ==, 1);
}


int
main(int argc,
     char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/migrate/json-migrated", testJSONMigrated);
    g_test_add_func("/migrate/json-failed", testJSONFailed);
    g_test_add_func("/migrate/met", testMet);
    g_test_add_func("/migrate/text", testText);
    g_test_add_func("/migrate/preflight-all-dirty", testPreflightAllDirty);
    g_test_add_func("/migrate/default-switchover", testDefaultSwitchover);
    return g_test_run();
}
