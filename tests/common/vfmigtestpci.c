/*
 * vfmigtestpci.c: fake PCI functions in a fake sysfs tree
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigtestpci.h"
#include "vfmigtestfs.h"

#include <glib/gstdio.h>


char *
vfmigTestPCIDir(const char *sys,
                const char *addr)
{
    return g_build_filename(sys, "devices", "pci0000:00", addr, NULL);
}


void
vfmigTestPCIAttr(const char *sys,
                 const char *addr,
                 const char *name,
                 const char *contents)
{
    g_autofree char *dir = vfmigTestPCIDir(sys, addr);
    g_autofree char *path = g_build_filename(dir, name, NULL);

    vfmigTestWriteFile(path, contents);
}


void
vfmigTestPCIRemove(const char *sys,
                   const char *addr,
                   const char *name)
{
    g_autofree char *dir = vfmigTestPCIDir(sys, addr);
    g_autofree char *path = g_build_filename(dir, name, NULL);

    vfmigTestRmTree(path);
    g_unlink(path);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}


void
vfmigTestPCI(const char *sys,
             const char *addr,
             const char *vendor,
             const char *device,
             const char *driver,
             bool vfio,
             int group)
{
    g_autofree char *dir = vfmigTestPCIDir(sys, addr);
    g_autofree char *busLink = g_build_filename(sys, "bus", "pci", "devices", addr, NULL);
    g_autofree char *num = g_strdup_printf("%d", group);
    g_autofree char *grp = g_build_filename(sys, "kernel", "iommu_groups", num, NULL);
    g_autofree char *grpLink = g_build_filename(dir, "iommu_group", NULL);
    g_autofree char *modalias =
        g_strdup_printf("pci:v%08Xd%08X" VFMIG_TEST_MODALIAS_REST "\n",
                        (unsigned int) g_ascii_strtoull(vendor, NULL, 16),
                        (unsigned int) g_ascii_strtoull(device, NULL, 16));

    vfmigTestMkdirs(dir);
    vfmigTestLink(dir, busLink);
    vfmigTestPCIAttr(sys, addr, "vendor", vendor);
    vfmigTestPCIAttr(sys, addr, "device", device);
    vfmigTestPCIAttr(sys, addr, "modalias", modalias);
    vfmigTestPCIAttr(sys, addr, "enable", "0\n");
    if (driver) {
        g_autofree char *drv = g_build_filename(sys, "bus", "pci", "drivers", driver, NULL);
        g_autofree char *link = g_build_filename(dir, "driver", NULL);

        vfmigTestMkdirs(drv);
        vfmigTestLink(drv, link);
    }
    if (vfio) {
        g_autofree char *vfioDev = g_build_filename(dir, "vfio-dev", NULL);

        vfmigTestMkdirs(vfioDev);
    }
    vfmigTestMkdirs(grp);
    vfmigTestLink(grp, grpLink);
}


void
vfmigTestTestdev(const char *sys,
                 const char *addr,
                 const char *features,
                 const char *precopy,
                 int group)
{
    static const struct {
        const char *name;
        const char *contents;
    } files[] = {
        { "vfio_migration/multi_load", "1\n" },
        { "vfio_migration/state", "RUNNING\n" },
        { "vfio_migration/initial_bytes", "0\n" },
        { "vfio_migration/dirty_bytes", "0\n" },
        { "vfio_migration/stop_copy_bytes", "8388720\n" },
        { "vfio_migration/stop_latency_us", "0\n" },
        { "vfio_migration/resume_latency_us", "0\n" },
        { "vfio_migration/stream_version", "1\n" },
        { "vfmig_testdev/state_size", VFMIG_TEST_STATE_SIZE "\n" },
    };
    size_t i;

    vfmigTestPCI(sys, addr, "0x1b36\n", "0x0005\n", "vfmig_testdev", true, group);
    vfmigTestPCIAttr(sys, addr, "vfio_migration/features", features);
    vfmigTestPCIAttr(sys, addr, "vfio_migration/precopy", precopy);
    for (i = 0; i < G_N_ELEMENTS(files); i++)
        vfmigTestPCIAttr(sys, addr, files[i].name, files[i].contents);
}
