/*
 * test-log.c: debug logging (VFMIG_DEBUG, --debug): the line format, the
 * switch, and the lines of VFIO ioctls, device state changes, engine
 * phases and downtime decisions
 *
 * Each check runs in a subprocess, whose stderr it reads.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <fcntl.h>
#include <unistd.h>

#include <glib.h>

#include "vfmigdeviceemu.h"
#include "vfmigengine.h"
#include "vfmigerror.h"
#include "vfmiglog.h"
#include "vfmigvfio.h"

static const vfmigStateIdentity emuId = {
    .driver = "vfmig-emu",
    .multiLoad = true,
};


static void
childLine(void)
{
    vfmigLogSetDebug(true);
    VFMIG_DEBUG("hello %d", 42);
}


static void
testLine(void)
{
    g_test_trap_subprocess("/log/line/subprocess", 0, 0);
    g_test_trap_assert_passed();
    /* "vfmig: <s>.<us> <function>: <message>" */
    g_test_trap_assert_stderr("vfmig: *.?????? childLine: hello 42\n");
}


static void
childEnvOn(void)
{
    g_setenv("VFMIG_DEBUG", "1", TRUE);
    g_assert_true(vfmigLogDebugEnabled());
    VFMIG_DEBUG("on");
}


static void
childEnvZero(void)
{
    g_setenv("VFMIG_DEBUG", "0", TRUE);
    g_assert_false(vfmigLogDebugEnabled());
    VFMIG_DEBUG("zero");
}


static void
childEnvUnset(void)
{
    g_unsetenv("VFMIG_DEBUG");
    g_assert_false(vfmigLogDebugEnabled());
    VFMIG_DEBUG("unset");
    /* what the tools' --debug does, whatever the environment */
    vfmigLogSetDebug(true);
    VFMIG_DEBUG("forced");
    vfmigLogSetDebug(false);
    VFMIG_DEBUG("off again");
}


static void
testEnv(void)
{
    g_test_trap_subprocess("/log/env/subprocess/on", 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("vfmig: * childEnvOn: on\n");

    g_test_trap_subprocess("/log/env/subprocess/zero", 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("");

    g_test_trap_subprocess("/log/env/subprocess/unset", 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("vfmig: * childEnvUnset: forced\n");
}


/* A VFIO device whose fd is a plain file: every ioctl fails (ENOTTY). */
static void
childIoctl(void)
{
    g_autofree char *path = NULL;
    vfmigVFIO *vfio;
    uint64_t flags;
    int fd = g_file_open_tmp("vfmig-test-log-XXXXXX", &path, NULL);

    g_assert_cmpint(fd, >=, 0);
    unlink(path);
    vfmigLogSetDebug(true);
    vfio = vfmigVFIOAdoptFD("0000:01:00.0", "vfio-pci", fd);
    g_assert_cmpint(vfmigVFIOGetMigrationFlags(vfio, &flags), ==, -1);
    g_assert_cmpint(vfmigVFIOReset(vfio), ==, -1);
    vfmigVFIOClose(vfio);
}


static void
testIoctl(void)
{
    g_autofree char *enotty = g_strdup_printf("errno %d (%s)", ENOTTY,
                                              g_strerror(ENOTTY));
    g_autofree char *feature = g_strdup_printf(
        "*vfmigVFIOFeature: device 0000:01:00.0: ioctl(fd *, VFIO_DEVICE_FEATURE, GET MIGRATION) = -1, %s\n*",
        enotty);
    g_autofree char *reset = g_strdup_printf(
        "*vfmigVFIOReset: device 0000:01:00.0: ioctl(fd *, VFIO_DEVICE_RESET, no argument) = -1, %s\n*",
        enotty);

    g_test_trap_subprocess("/log/ioctl/subprocess", 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr(feature);
    g_test_trap_assert_stderr(reset);
    /* and the errors reported, with where they were reported */
    g_test_trap_assert_stderr("*vfmigVFIOReportNoMigration: error (*vfmigvfio.c:*): device '0000:01:00.0' does not support VFIO migration*");
}


static vfmigDevice *
emuDevice(const char *name, uint64_t seed)
{
    vfmigEmuConfig cfg;
    vfmigDevice *dev;

    vfmigEmuConfigInit(&cfg);
    cfg.stateSize = 64 * 1024;
    cfg.pageSize = 4096;
    cfg.seed = seed;
    dev = vfmigEmuDeviceNew(name, &cfg);
    g_assert_nonnull(dev);
    return dev;
}


static void
migrate(bool debug)
{
    vfmigDevice *src = emuDevice("src", 1);
    vfmigDevice *dst = emuDevice("dst", 2);
    vfmigEngineConfig cfg;
    vfmigEngineReport sr;
    vfmigEngineReport dr;

    vfmigLogSetDebug(debug);
    vfmigEngineConfigInit(&cfg);
    cfg.roundMs = 5;
    cfg.bufferSize = 16 * 1024;
    g_assert_cmpint(vfmigEngineMigrate(src, &emuId, dst, &emuId, &cfg,
                                       VFMIG_ENGINE_LEAVE_STOPPED,
                                       &sr, &dr), ==, 0);
    vfmigDeviceFree(src);
    vfmigDeviceFree(dst);
}


static void
childMigrate(void)
{
    migrate(true);
}


static void
childMigrateQuiet(void)
{
    g_unsetenv("VFMIG_DEBUG");
    migrate(false);
}


static void
testMigration(void)
{
    g_test_trap_subprocess("/log/migration/subprocess/debug", 0, 0);
    g_test_trap_assert_passed();
    /* state changes with their duration */
    g_test_trap_assert_stderr("*vfmigDeviceSetState: device src: RUNNING -> PRE_COPY in * us\n*");
    g_test_trap_assert_stderr("*vfmigDeviceSetState: device src: PRE_COPY -> STOP_COPY in * us\n*");
    g_test_trap_assert_stderr("*vfmigDeviceSetState: device dst: RUNNING -> RESUMING in * us\n*");
    g_test_trap_assert_stderr("*vfmigDeviceSetState: device dst: STOP -> RUNNING in * us\n*");
    /* engine phases */
    g_test_trap_assert_stderr("*vfmigEngineSetPhase: source device src: phase setup -> pre-copy at * us*");
    g_test_trap_assert_stderr("*vfmigEngineSetPhase: source device src: phase pre-copy -> stop-copy at * us*");
    g_test_trap_assert_stderr("*vfmigEngineSetPhase: destination device dst: phase load -> resume at * us*");
    /* policy decisions with their inputs */
    g_test_trap_assert_stderr("*vfmigDowntimeDebug: sample 1 at * us: policy target 300000 us, *");
    g_test_trap_assert_stderr("*vfmigDowntimeDebug: sample 1: device 0: initial * bytes; stop * us, resume * us\n*");
    g_test_trap_assert_stderr("*vfmigDowntimeDebug: sample *: switch-over (converged): predicted * us = RAM 0 + devices * + latency *");

    g_test_trap_subprocess("/log/migration/subprocess/quiet", 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("");
}


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/log/line", testLine);
    g_test_add_func("/log/line/subprocess", childLine);
    g_test_add_func("/log/env", testEnv);
    g_test_add_func("/log/env/subprocess/on", childEnvOn);
    g_test_add_func("/log/env/subprocess/zero", childEnvZero);
    g_test_add_func("/log/env/subprocess/unset", childEnvUnset);
    g_test_add_func("/log/ioctl", testIoctl);
    g_test_add_func("/log/ioctl/subprocess", childIoctl);
    g_test_add_func("/log/migration", testMigration);
    g_test_add_func("/log/migration/subprocess/debug", childMigrate);
    g_test_add_func("/log/migration/subprocess/quiet", childMigrateQuiet);
    return g_test_run();
}
