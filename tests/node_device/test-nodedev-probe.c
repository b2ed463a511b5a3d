/*
 * test-nodedev-probe.c: the node-device prober against fake sysfs trees
 *
 * Every test builds its own tree in a temporary directory: the device
 * directories under devices/pci0000:XX/, the bus/pci/devices links to
 * them, driver and iommu_group links, PF/VF links (physfn, virtfnN,
 * sriov_numvfs), our drivers' vfio_migration/ files, a debugfs tree, a
 * /dev with stand-in files, a /proc with fd links, a kernel config and a
 * cache directory.  Nothing here opens a real device.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vfmigtestfs.h"
#include "vfmignodedevprobe.h"
#include "vfmignodedevqualify.h"

#define PF_A "0000:3b:00.0"
#define PF_B "0000:3c:00.0"
#define VF_A0 "0000:3b:00.2"    /* mlx5_vfio_pci, ABI, idle */
#define VF_A1 "0000:3b:00.3"    /* mlx5_vfio_pci, ABI, PRE_COPY */
#define VF_A2 "0000:3b:00.4"    /* vfio-pci, no ABI */
#define VF_B0 "0000:3c:00.2"    /* mlx5_core */
#define VF_B1 "0000:3c:00.3"    /* unbound */
#define VF_B2 "0000:3c:00.4"    /* mlx5_vfio_pci, ABI without dma-logging */

#define KCONFIG_612 \
    "#\n# Automatically generated file; DO NOT EDIT.\n" \
    "# Linux/x86 6.12.95 Kernel Configuration\n#\n" \
    "CONFIG_VFIO=m\n# CONFIG_VFIO_DEBUGFS is not set\n" \
    "# CONFIG_IOMMUFD is not set\n"
#define KCONFIG_612_IOMMUFD \
    "# Linux/x86 6.12.95 Kernel Configuration\n" \
    "CONFIG_IOMMUFD=m\nCONFIG_IOMMUFD_DRIVER=y\n"
#define KCONFIG_61 \
    "# Linux/x86 6.1.192 Kernel Configuration\nCONFIG_VFIO=m\n"

typedef struct {
    char *root;
    char *sys;
    char *debugfs;
    char *dev;
    char *proc;
    char *cache;
    char *kconfig;
    vfmigNodeDevProbePaths paths;
} Fake;


static char *
devDir(Fake *f,
       const char *addr)
{
    g_autofree char *bus = g_strndup(addr + 5, 2);
    g_autofree char *parent = g_strdup_printf("pci0000:%s", bus);

    return g_build_filename(f->sys, "devices", parent, addr, NULL);
}


/* How the prober names the device's files in its messages. */
static char *
busPath(Fake *f,
        const char *addr,
        const char *name)
{
    return g_build_filename(f->sys, "bus", "pci", "devices", addr, name, NULL);
}


static void
attr(Fake *f,
     const char *addr,
     const char *name,
     const char *contents)
{
    g_autofree char *dir = devDir(f, addr);
    g_autofree char *path = g_build_filename(dir, name, NULL);

    vfmigTestWriteFile(path, contents);
}


static void
rmAttr(Fake *f,
       const char *addr,
       const char *name)
{
    g_autofree char *dir = devDir(f, addr);
    g_autofree char *path = g_build_filename(dir, name, NULL);

    g_assert_cmpint(g_unlink(path), ==, 0);
}


/* A PCI function: ids, enable, the bus link, driver and group links. */
static void
fakePCI(Fake *f,
        const char *addr,
        const char *vendor,
        const char *device,
        const char *driver,
        int group)
{
    g_autofree char *dir = devDir(f, addr);
    g_autofree char *busLink = g_build_filename(f->sys, "bus", "pci",
                                                "devices", addr, NULL);

    vfmigTestMkdirs(dir);
    vfmigTestLink(dir, busLink);
    attr(f, addr, "vendor", vendor);
    attr(f, addr, "device", device);
    attr(f, addr, "enable", "0\n");
    if (driver) {
        g_autofree char *drv = g_build_filename(f->sys, "bus", "pci",
                                                "drivers", driver, NULL);
        g_autofree char *link = g_build_filename(dir, "driver", NULL);

        vfmigTestMkdirs(drv);
        vfmigTestLink(drv, link);
        /* a VFIO driver's device: VFIO registered it (the vfioN entry
         * itself only where a test opens the device) */
        if (strstr(driver, "vfio")) {
            g_autofree char *vfioDev = g_build_filename(dir, "vfio-dev", NULL);

            vfmigTestMkdirs(vfioDev);
        }
    }
    if (group >= 0) {
        g_autofree char *num = g_strdup_printf("%d", group);
        g_autofree char *grp = g_build_filename(f->sys, "kernel",
                                                "iommu_groups", num, NULL);
        g_autofree char *link = g_build_filename(dir, "iommu_group", NULL);

        vfmigTestMkdirs(grp);
        vfmigTestLink(grp, link);
    }
}


/* @vf is VF number @idx of @pf. */
static void
fakeVF(Fake *f,
       const char *pf,
       unsigned int idx,
       const char *vf)
{
    g_autofree char *pfDir = devDir(f, pf);
    g_autofree char *vfDir = devDir(f, vf);
    g_autofree char *physfn = g_build_filename(vfDir, "physfn", NULL);
    g_autofree char *name = g_strdup_printf("virtfn%u", idx);
    g_autofree char *virtfn = g_build_filename(pfDir, name, NULL);
    g_autofree char *num = g_strdup_printf("%u\n", idx + 1);

    vfmigTestLink(pfDir, physfn);
    vfmigTestLink(vfDir, virtfn);
    attr(f, pf, "sriov_numvfs", num);
}


/* Our drivers' vfio_migration/ (docs/abi/sysfs-bus-pci-devices-vfio_migration). */
static void
fakeABI(Fake *f,
        const char *addr,
        const char *features,
        const char *precopy,
        const char *multiLoad,
        const char *state,
        const char *firmware)
{
    attr(f, addr, "vfio_migration/features", features);
    attr(f, addr, "vfio_migration/precopy", precopy);
    attr(f, addr, "vfio_migration/multi_load", multiLoad);
    attr(f, addr, "vfio_migration/state", state);
    attr(f, addr, "vfio_migration/initial_bytes", "0\n");
    attr(f, addr, "vfio_migration/dirty_bytes", "0\n");
    attr(f, addr, "vfio_migration/stop_copy_bytes", "4096\n");
    attr(f, addr, "vfio_migration/stop_latency_us", "0\n");
    attr(f, addr, "vfio_migration/resume_latency_us", "0\n");
    attr(f, addr, "vfio_migration/stream_version", "2\n");
    if (firmware)
        attr(f, addr, "vfio_migration/firmware", firmware);
}


static void
fakeSetup(Fake *f,
          gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(GError) err = NULL;

    f->root = g_dir_make_tmp("vfmig-nodedev-XXXXXX", &err);
    g_assert_no_error(err);
    f->sys = g_build_filename(f->root, "sys", NULL);
    f->debugfs = g_build_filename(f->root, "debug", NULL);
    f->dev = g_build_filename(f->root, "dev", NULL);
    f->proc = g_build_filename(f->root, "proc", NULL);
    f->cache = g_build_filename(f->root, "cache", NULL);
    f->kconfig = g_build_filename(f->root, "config-6.12.95", NULL);
    vfmigTestMkdirs(f->debugfs);
    vfmigTestMkdirs(f->dev);
    vfmigTestMkdirs(f->proc);
    vfmigTestWriteFile(f->kconfig, KCONFIG_612);
    f->paths.sysfsRoot = f->sys;
    f->paths.debugfsRoot = f->debugfs;
    f->paths.devRoot = f->dev;
    f->paths.procRoot = f->proc;
    f->paths.cacheDir = f->cache;
    f->paths.kernelConfig = f->kconfig;
    vfmigResetLastError();
}


static void
fakeTeardown(Fake *f,
             gconstpointer data G_GNUC_UNUSED)
{
    vfmigTestRmTree(f->root);
    g_free(f->root);
    g_free(f->sys);
    g_free(f->debugfs);
    g_free(f->dev);
    g_free(f->proc);
    g_free(f->cache);
    g_free(f->kconfig);
}


/* Two PFs, six VFs, every kind of binding. */
static void
fakeStandard(Fake *f)
{
    fakePCI(f, PF_A, "0x15b3\n", "0x101d\n", "mlx5_core", 10);
    fakePCI(f, PF_B, "0x15b3\n", "0x101d\n", "mlx5_core", 20);

    fakePCI(f, VF_A0, "0x15b3\n", "0x101e\n", "mlx5_vfio_pci", 11);
    fakeVF(f, PF_A, 0, VF_A0);
    fakeABI(f, VF_A0, "stop-copy p2p pre-copy dma-logging\n", "on\n", "1\n",
            "RUNNING\n", "28.41.1000\n");

    fakePCI(f, VF_A1, "0x15b3\n", "0x101e\n", "mlx5_vfio_pci", 12);
    fakeVF(f, PF_A, 1, VF_A1);
    fakeABI(f, VF_A1, "stop-copy p2p pre-copy dma-logging\n", "single\n",
            "0\n", "PRE_COPY\n", "28.41.1000\n");
    attr(f, VF_A1, "enable", "1\n");
    attr(f, VF_A1, "vfio_migration/initial_bytes", "1048576\n");
    attr(f, VF_A1, "vfio_migration/dirty_bytes", "8192\n");
    attr(f, VF_A1, "vfio_migration/stop_latency_us", "120\n");
    attr(f, VF_A1, "vfio_migration/resume_latency_us", "80\n");

    fakePCI(f, VF_A2, "0x15b3\n", "0x101e\n", "vfio-pci", 13);
    fakeVF(f, PF_A, 2, VF_A2);

    fakePCI(f, VF_B0, "0x15b3\n", "0x101e\n", "mlx5_core", 21);
    fakeVF(f, PF_B, 0, VF_B0);

    fakePCI(f, VF_B1, "0x15b3\n", "0x101e\n", NULL, 22);
    fakeVF(f, PF_B, 1, VF_B1);

    fakePCI(f, VF_B2, "0x15b3\n", "0x101e\n", "mlx5_vfio_pci", 23);
    fakeVF(f, PF_B, 2, VF_B2);
    fakeABI(f, VF_B2, "stop-copy p2p pre-copy\n", "off\n", "1\n",
            "RUNNING\n", NULL);
    /* "pre-copy" absent with precopy off, as the ABI says */
    attr(f, VF_B2, "vfio_migration/features", "stop-copy p2p\n");
}


static vfmigNodeDevList *
probeAll(Fake *f,
         unsigned int flags)
{
    vfmigNodeDevList *list = NULL;

    if (vfmigNodeDevProbeAll(&f->paths, flags, &list) < 0)
        g_error("probe failed: %s", vfmigGetLastErrorMessage());
    g_assert_nonnull(list);
    return list;
}


static vfmigNodeDevPCI *
find(vfmigNodeDevList *list,
     const char *addr)
{
    vfmigNodeDevPCI *dev = vfmigNodeDevListFind(list, addr);

    if (!dev)
        g_error("device %s not enumerated", addr);
    return dev;
}


/* A device that must have a capability. */
static vfmigNodeDevPCI *
findCap(vfmigNodeDevList *list,
        const char *addr)
{
    vfmigNodeDevPCI *dev = find(list, addr);

    if (!dev->cap)
        g_error("device %s has no capability: %s", addr,
                dev->note ? dev->note : "(no note)");
    return dev;
}


/* The device's errors, one per line, for matching and for failures. */
static char *
errorsOf(const vfmigNodeDevPCI *dev)
{
    g_autoptr(GString) buf = g_string_new(NULL);
    size_t i;

    for (i = 0; i < dev->errors->len; i++) {
        const vfmigError *e = g_ptr_array_index(dev->errors, i);

        g_string_append_printf(buf, "%s\n", e->message);
    }
    return g_string_free(g_steal_pointer(&buf), FALSE);
}


static void
assertNoErrors(const vfmigNodeDevPCI *dev)
{
    g_autofree char *errs = errorsOf(dev);

    if (dev->errors->len)
        g_error("unexpected errors on %s:\n%s", dev->address, errs);
}


/* Exactly one error on @dev, containing every NULL-terminated string. */
/* The last error is corruption of @path, saying @want; case @i. */
static void
assertCorrupt(size_t i, const char *path, const char *want)
{
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_DATA_CORRUPT);
    if (!strstr(vfmigGetLastErrorMessage(), want) ||
        !strstr(vfmigGetLastErrorMessage(), path))
        g_error("case %zu: '%s' lacks '%s' or the path", i,
                vfmigGetLastErrorMessage(), want);
    vfmigResetLastError();
}


static void
assertOneError(const vfmigNodeDevPCI *dev,
               int code,
               ...)
{
    g_autofree char *errs = errorsOf(dev);
    const vfmigError *e;
    const char *want;
    va_list ap;

    if (dev->errors->len != 1)
        g_error("%s: expected one error, got %u:\n%s", dev->address,
                dev->errors->len, errs);
    e = g_ptr_array_index(dev->errors, 0);
    if (code >= 0)
        g_assert_cmpint(e->code, ==, code);
    va_start(ap, code);
    while ((want = va_arg(ap, const char *))) {
        if (!strstr(e->message, want))
            g_error("%s: error '%s' lacks '%s'", dev->address, e->message, want);
    }
    va_end(ap);
}


static void
testEnumerate(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevList) list = NULL;
    vfmigNodeDevPCI *dev;
    size_t i;

    fakeStandard(f);
    list = probeAll(f, 0);

    g_assert_cmpuint(list->devices->len, ==, 8);
    g_assert_cmpuint(list->nerrors, ==, 0);
    for (i = 1; i < list->devices->len; i++) {
        vfmigNodeDevPCI *a = g_ptr_array_index(list->devices, i - 1);
        vfmigNodeDevPCI *b = g_ptr_array_index(list->devices, i);

        g_assert_cmpstr(a->address, <, b->address);
    }

    /* PFs */
    dev = find(list, PF_A);
    g_assert_cmpstr(dev->driver, ==, "mlx5_core");
    g_assert_cmphex(dev->vendor, ==, 0x15b3);
    g_assert_cmphex(dev->device, ==, 0x101d);
    g_assert_cmpint(dev->iommuGroup, ==, 10);
    g_assert_null(dev->physfn);
    g_assert_nonnull(dev->virtfns);
    g_assert_cmpuint(g_strv_length(dev->virtfns), ==, 3);
    g_assert_cmpstr(dev->virtfns[0], ==, VF_A0);
    g_assert_cmpstr(dev->virtfns[1], ==, VF_A1);
    g_assert_cmpstr(dev->virtfns[2], ==, VF_A2);
    g_assert_false(dev->vfio);
    g_assert_null(dev->cap);
    dev = find(list, PF_B);
    g_assert_cmpuint(g_strv_length(dev->virtfns), ==, 3);
    g_assert_cmpstr(dev->virtfns[1], ==, VF_B1);

    /* mlx5_vfio_pci with our ABI, idle */
    dev = find(list, VF_A0);
    assertNoErrors(dev);
    g_assert_cmpstr(dev->physfn, ==, PF_A);
    g_assert_null(dev->virtfns);
    g_assert_cmpint(dev->iommuGroup, ==, 11);
    g_assert_true(dev->vfio);
    g_assert_false(dev->inUse);
    g_assert_nonnull(dev->cap);
    g_assert_cmpstr(dev->cap->driver, ==, "mlx5_vfio_pci");
    g_assert_true(dev->cap->variant);
    g_assert_cmpuint(dev->cap->features, ==,
                     VFMIG_NODEDEV_FEATURE_STOP_COPY | VFMIG_NODEDEV_FEATURE_P2P |
                     VFMIG_NODEDEV_FEATURE_PRE_COPY |
                     VFMIG_NODEDEV_FEATURE_MULTI_LOAD);
    g_assert_cmpint(dev->cap->source, ==, VFMIG_NODEDEV_SOURCE_SYSFS);
    g_assert_cmpint(dev->cap->precopy, ==, VFMIG_NODEDEV_PRECOPY_ON);
    g_assert_cmpint(dev->cap->dirty, ==, VFMIG_NODEDEV_DIRTY_DEVICE);
    g_assert_null(dev->cap->dirtyReason);
    g_assert_cmphex(dev->cap->vendor, ==, 0x15b3);
    g_assert_cmphex(dev->cap->device, ==, 0x101e);
    g_assert_cmpstr(dev->cap->firmware, ==, "28.41.1000");
    g_assert_cmpuint(dev->cap->streamVersion, ==, 2);
    g_assert_null(dev->cap->live);
    g_assert_null(dev->note);

    /* in PRE_COPY: live estimates, in use */
    dev = findCap(list, VF_A1);
    assertNoErrors(dev);
    g_assert_true(dev->inUse);
    g_assert_nonnull(strstr(dev->inUseReason, "enable=1"));
    g_assert_cmpint(dev->cap->precopy, ==, VFMIG_NODEDEV_PRECOPY_SINGLE);
    g_assert_false(dev->cap->features & VFMIG_NODEDEV_FEATURE_MULTI_LOAD);
    g_assert_nonnull(dev->cap->live);
    g_assert_cmpstr(dev->cap->live->state, ==, "PRE_COPY");
    g_assert_cmpuint(dev->cap->live->initialBytes, ==, 1048576);
    g_assert_cmpuint(dev->cap->live->dirtyBytes, ==, 8192);
    g_assert_cmpuint(dev->cap->live->stopCopyBytes, ==, 4096);
    g_assert_cmpuint(dev->cap->live->stopLatencyUs, ==, 120);
    g_assert_cmpuint(dev->cap->live->resumeLatencyUs, ==, 80);

    /* vfio-pci without ABI, no debugfs, no query asked, no cache */
    dev = find(list, VF_A2);
    assertNoErrors(dev);
    g_assert_true(dev->vfio);
    g_assert_false(dev->inUse);
    g_assert_null(dev->cap);
    g_assert_nonnull(strstr(dev->note, "unknown"));
    g_assert_nonnull(strstr(dev->note, "not requested"));

    /* a VF on its PF's driver, an unbound VF */
    dev = find(list, VF_B0);
    assertNoErrors(dev);
    g_assert_cmpstr(dev->driver, ==, "mlx5_core");
    g_assert_cmpstr(dev->physfn, ==, PF_B);
    g_assert_false(dev->vfio);
    g_assert_null(dev->cap);
    dev = find(list, VF_B1);
    assertNoErrors(dev);
    g_assert_null(dev->driver);
    g_assert_false(dev->vfio);
    g_assert_null(dev->cap);
    g_assert_cmpint(dev->iommuGroup, ==, 22);

    /* no dma-logging, no firmware file, precopy off */
    dev = findCap(list, VF_B2);
    assertNoErrors(dev);
    g_assert_cmpuint(dev->cap->features, ==,
                     VFMIG_NODEDEV_FEATURE_STOP_COPY | VFMIG_NODEDEV_FEATURE_P2P |
                     VFMIG_NODEDEV_FEATURE_MULTI_LOAD);
    g_assert_cmpint(dev->cap->precopy, ==, VFMIG_NODEDEV_PRECOPY_OFF);
    g_assert_cmpint(dev->cap->dirty, ==, VFMIG_NODEDEV_DIRTY_NONE);
    g_assert_nonnull(dev->cap->dirtyReason);
    g_assert_null(dev->cap->firmware);
}


static void
testVFIODevDir(Fake *f,
               gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevList) list = NULL;
    vfmigNodeDevPCI *dev;

    /* a driver without "vfio" in its name that registered with VFIO */
    fakePCI(f, VF_A0, "0x8086\n", "0x1889\n", "acme_vf_migr", 5);
    attr(f, VF_A0, "vfio-dev/vfio3/dev", "511:3\n");
    fakeABI(f, VF_A0, "stop-copy\n", "off\n", "0\n", "RUNNING\n", NULL);
    list = probeAll(f, 0);
    dev = findCap(list, VF_A0);
    assertNoErrors(dev);
    g_assert_true(dev->vfio);
    g_assert_true(dev->cap->variant);
    g_assert_cmpuint(dev->cap->features, ==, VFMIG_NODEDEV_FEATURE_STOP_COPY);
    g_assert_cmpuint(dev->cap->streamVersion, ==, 2);
}


/*
 * Upstream mlx5_vfio_pci (as built by a distribution with it): a VFIO
 * variant driver without vfmig's vfio_migration/ files, and no debugfs:
 * listed as a VFIO device whose features are unknown, not left out.
 */
static void
testUpstreamVariant(Fake *f,
                    gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevList) list = NULL;
    vfmigNodeDevPCI *dev;

    fakePCI(f, PF_A, "0x15b3\n", "0x101d\n", "mlx5_core", 10);
    fakePCI(f, VF_A0, "0x15b3\n", "0x101e\n", "mlx5_vfio_pci", 11);
    fakeVF(f, PF_A, 0, VF_A0);
    attr(f, VF_A0, "vfio-dev/vfio0/dev", "511:0\n");
    list = probeAll(f, 0);
    dev = find(list, VF_A0);
    assertNoErrors(dev);
    g_assert_true(dev->vfio);
    g_assert_false(dev->inUse);
    g_assert_null(dev->cap);
    g_assert_cmpstr(dev->driver, ==, "mlx5_vfio_pci");
    g_assert_cmpstr(dev->physfn, ==, PF_A);
    g_assert_cmpuint(dev->pci.bus, ==, 0x3b);
    g_assert_cmpuint(dev->pci.function, ==, 2);
    g_assert_nonnull(dev->note);
    g_assert_true(g_str_has_prefix(dev->note, "migration features unknown: "));
    g_assert_false(find(list, PF_A)->vfio);
}


/* An entry of the bus directory that is no PCI function is skipped. */
static void
testBusJunk(Fake *f,
            gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autofree char *junk = g_build_filename(f->sys, "bus", "pci", "devices",
                                             "0000:3b:00.2x", NULL);
    const vfmigError *e;

    fakePCI(f, VF_A0, "0x15b3\n", "0x101e\n", "mlx5_core", 11);
    vfmigTestMkdirs(junk);
    list = probeAll(f, 0);
    g_assert_cmpuint(list->devices->len, ==, 1);
    g_assert_nonnull(find(list, VF_A0));
    g_assert_cmpuint(list->errors->len, ==, 1);
    e = g_ptr_array_index(list->errors, 0);
    g_assert_cmpint(e->code, ==, VFMIG_ERR_DATA_CORRUPT);
    g_assert_nonnull(strstr(e->message, junk));
    g_assert_nonnull(strstr(e->message, "is not named as a PCI function"));
}


static void
testDirtyReason(Fake *f,
                gconstpointer data G_GNUC_UNUSED)
{
    struct {
        const char *config;     /* NULL: no such file */
        const char *want[4];
        const char *notWant;
        bool kernelNoDirty;     /* the kernel is why */
    } cases[] = {
        { KCONFIG_612, { "Linux 6.12.95", "CONFIG_IOMMUFD_DRIVER",
                         "enable-migration=on", "all guest RAM" }, NULL, true },
        { KCONFIG_612_IOMMUFD, { "driver mlx5_vfio_pci offers no DMA dirty logging",
                                 "enable-migration=on", NULL }, "CONFIG_IOMMUFD", false },
        { KCONFIG_61, { "driver mlx5_vfio_pci offers no DMA dirty logging",
                        NULL }, "CONFIG_IOMMUFD", false },
        { NULL, { "driver mlx5_vfio_pci offers no DMA dirty logging",
                  "all guest RAM", NULL }, "CONFIG_IOMMUFD", false },
    };
    size_t i;

    fakePCI(f, VF_B2, "0x15b3\n", "0x101e\n", "mlx5_vfio_pci", 23);
    fakeABI(f, VF_B2, "stop-copy p2p pre-copy\n", "on\n", "1\n",
            "RUNNING\n", NULL);

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(vfmigNodeDevList) list = NULL;
        vfmigNodeDevPCI *dev;
        size_t j;

        if (cases[i].config)
            vfmigTestWriteFile(f->kconfig, cases[i].config);
        else
            g_unlink(f->kconfig);
        list = probeAll(f, VFMIG_NODEDEV_PROBE_NO_CACHE);
        dev = findCap(list, VF_B2);
        assertNoErrors(dev);
        g_assert_cmpint(dev->cap->dirty, ==, VFMIG_NODEDEV_DIRTY_NONE);
        for (j = 0; j < G_N_ELEMENTS(cases[i].want) && cases[i].want[j]; j++) {
            if (!strstr(dev->cap->dirtyReason, cases[i].want[j]))
                g_error("case %zu: reason '%s' lacks '%s'", i,
                        dev->cap->dirtyReason, cases[i].want[j]);
        }
        if (cases[i].notWant)
            g_assert_null(strstr(dev->cap->dirtyReason, cases[i].notWant));
        g_assert_cmpint(dev->kernelNoDirty, ==, cases[i].kernelNoDirty);
    }

    /* dma-logging: device tracking, whatever the kernel config says */
    {
        g_autoptr(vfmigNodeDevList) list = NULL;
        vfmigNodeDevPCI *dev;

        vfmigTestWriteFile(f->kconfig, KCONFIG_612);
        attr(f, VF_B2, "vfio_migration/features",
             "stop-copy p2p pre-copy dma-logging\n");
        list = probeAll(f, VFMIG_NODEDEV_PROBE_NO_CACHE);
        dev = findCap(list, VF_B2);
        g_assert_cmpint(dev->cap->dirty, ==, VFMIG_NODEDEV_DIRTY_DEVICE);
        g_assert_null(dev->cap->dirtyReason);
        g_assert_false(dev->kernelNoDirty);
    }
}


static void
testDebugfs(Fake *f,
            gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autofree char *feat = g_build_filename(f->debugfs, "vfio", VF_A2,
                                             "migration", "features", NULL);
    g_autofree char *feat2 = g_build_filename(f->debugfs, "vfio", VF_A0,
                                              "migration", "features", NULL);
    g_autofree char *feat3 = g_build_filename(f->debugfs, "vfio", VF_A1,
                                              "migration", "features", NULL);
    vfmigNodeDevPCI *dev;

    fakePCI(f, VF_A0, "0x15b3\n", "0x101e\n", "vfio-pci", 11);
    fakePCI(f, VF_A1, "0x15b3\n", "0x101e\n", "vfio-pci", 12);
    fakePCI(f, VF_A2, "0x15b3\n", "0x101e\n", "mlx5_vfio_pci", 13);
    /* the 6.18 format: one word a line; and an unknown future word */
    vfmigTestWriteFile(feat, "stop-copy\np2p\npre-copy\ndirty-tracking\nfuture-thing\n");
    vfmigTestWriteFile(feat2, "stop-copy\n");
    vfmigTestWriteFile(feat3, "stop-copy\nwarp drive!\n");

    list = probeAll(f, 0);

    dev = findCap(list, VF_A2);
    assertNoErrors(dev);
    g_assert_cmpint(dev->cap->source, ==, VFMIG_NODEDEV_SOURCE_DEBUGFS);
    g_assert_cmpuint(dev->cap->features, ==,
                     VFMIG_NODEDEV_FEATURE_STOP_COPY | VFMIG_NODEDEV_FEATURE_P2P |
                     VFMIG_NODEDEV_FEATURE_PRE_COPY);
    g_assert_cmpint(dev->cap->dirty, ==, VFMIG_NODEDEV_DIRTY_DEVICE);
    g_assert_cmpint(dev->cap->precopy, ==, VFMIG_NODEDEV_PRECOPY_DEFAULT);
    g_assert_true(dev->cap->variant);

    dev = findCap(list, VF_A0);
    assertNoErrors(dev);
    g_assert_false(dev->cap->variant);
    g_assert_cmpuint(dev->cap->features, ==, VFMIG_NODEDEV_FEATURE_STOP_COPY);
    g_assert_cmpint(dev->cap->dirty, ==, VFMIG_NODEDEV_DIRTY_NONE);
    g_assert_nonnull(strstr(dev->cap->dirtyReason, "vfio-pci"));

    dev = find(list, VF_A1);
    assertOneError(dev, VFMIG_ERR_DATA_CORRUPT, feat3, "'drive!'", NULL);
    g_assert_null(dev->cap);
    g_assert_nonnull(strstr(dev->note, "debugfs"));

    /* the sysfs ABI comes first */
    g_clear_pointer(&list, vfmigNodeDevListFree);
    fakeABI(f, VF_A2, "stop-copy\n", "off\n", "0\n", "RUNNING\n", NULL);
    list = probeAll(f, 0);
    dev = findCap(list, VF_A2);
    g_assert_cmpint(dev->cap->source, ==, VFMIG_NODEDEV_SOURCE_SYSFS);
    g_assert_cmpuint(dev->cap->features, ==, VFMIG_NODEDEV_FEATURE_STOP_COPY);
}


static void
testCacheRoundtrip(Fake *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autoptr(vfmigNodeDevCapVFIOMig) cached = NULL;
    g_autofree char *path = vfmigNodeDevCachePath(f->cache, VF_A0);
    g_autofree char *pathB = vfmigNodeDevCachePath(f->cache, VF_B2);
    g_autofree char *pathA2 = vfmigNodeDevCachePath(f->cache, VF_A2);
    g_autofree char *text = NULL;
    vfmigNodeDevPCI *dev;
    struct stat before;
    struct stat after;

    fakeStandard(f);
    list = probeAll(f, 0);
    g_assert_cmpuint(list->nerrors, ==, 0);

    /* written for every device probed live, none for the others */
    g_assert_true(g_str_has_suffix(path, "/" VF_A0 ".xml"));
    g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    g_assert_true(g_file_test(pathB, G_FILE_TEST_IS_REGULAR));
    g_assert_false(g_file_test(pathA2, G_FILE_TEST_EXISTS));

    /* the capability's own XML, as probed, in a wrapper naming the device */
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_true(g_str_has_prefix(text,
                                   "<nodedev-cache address='" VF_A0 "'>\n"
                                   "  <capability type='vfio-migration'>\n"
                                   "    <driver name='mlx5_vfio_pci' variant='yes'/>\n"
                                   "    <features source='sysfs'>\n"));
    g_assert_true(g_str_has_suffix(text, "  </capability>\n</nodedev-cache>\n"));
    g_assert_null(strstr(text, "<live"));

    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, VF_A0, &cached), ==, 1);
    dev = findCap(list, VF_A0);
    g_assert_cmpint(cached->source, ==, VFMIG_NODEDEV_SOURCE_CACHE);
    g_assert_cmpstr(cached->driver, ==, dev->cap->driver);
    g_assert_true(cached->variant);
    g_assert_cmpuint(cached->features, ==, dev->cap->features);
    g_assert_cmpint(cached->precopy, ==, dev->cap->precopy);
    g_assert_cmpint(cached->dirty, ==, dev->cap->dirty);
    g_assert_cmphex(cached->vendor, ==, 0x15b3);
    g_assert_cmphex(cached->device, ==, 0x101e);
    g_assert_cmpstr(cached->firmware, ==, "28.41.1000");
    g_assert_cmpuint(cached->streamVersion, ==, 2);
    g_assert_null(cached->live);
    g_clear_pointer(&cached, vfmigNodeDevCapVFIOMigFree);

    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, VF_B2, &cached), ==, 1);
    g_assert_cmpint(cached->dirty, ==, VFMIG_NODEDEV_DIRTY_NONE);
    g_assert_nonnull(strstr(cached->dirtyReason, "CONFIG_IOMMUFD_DRIVER"));
    g_assert_null(cached->firmware);
    g_clear_pointer(&cached, vfmigNodeDevCapVFIOMigFree);

    /* unchanged: not rewritten (same inode); changed: replaced */
    g_assert_cmpint(stat(path, &before), ==, 0);
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, 0);
    g_assert_cmpint(stat(path, &after), ==, 0);
    g_assert_cmpuint(before.st_ino, ==, after.st_ino);

    attr(f, VF_A0, "vfio_migration/firmware", "28.42.1000\n");
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, 0);
    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, VF_A0, &cached), ==, 1);
    g_assert_cmpstr(cached->firmware, ==, "28.42.1000");
    g_clear_pointer(&cached, vfmigNodeDevCapVFIOMigFree);

    /* NO_CACHE_WRITE leaves it alone */
    attr(f, VF_A0, "vfio_migration/firmware", "28.43.1000\n");
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, VFMIG_NODEDEV_PROBE_NO_CACHE_WRITE);
    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, VF_A0, &cached), ==, 1);
    g_assert_cmpstr(cached->firmware, ==, "28.42.1000");
    g_clear_pointer(&cached, vfmigNodeDevCapVFIOMigFree);

    /* no file: 0, nothing reported */
    g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, VF_A2, &cached), ==, 0);
    g_assert_null(cached);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);
}


/*
 * The sysfs ABI goes away (the device is rebound to a build without it,
 * or a VM holds a plain vfio-pci device): the cache answers.
 */
static void
testCacheFallback(Fake *f,
                  gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = g_new0(vfmigNodeDevCapVFIOMig, 1);
    g_autofree char *dir = devDir(f, VF_A2);
    g_autofree char *drvLink = g_build_filename(dir, "driver", NULL);
    g_autofree char *mlx5Drv = g_build_filename(f->sys, "bus", "pci", "drivers",
                                                "mlx5_vfio_pci", NULL);
    g_autofree char *vfioDrv = g_build_filename(f->sys, "bus", "pci", "drivers",
                                                "vfio-pci", NULL);
    vfmigNodeDevPCI *dev;

    fakePCI(f, VF_A2, "0x15b3\n", "0x101e\n", "vfio-pci", 13);
    attr(f, VF_A2, "enable", "1\n");

    cap->driver = g_strdup("vfio-pci");
    cap->features = VFMIG_NODEDEV_FEATURE_STOP_COPY | VFMIG_NODEDEV_FEATURE_P2P;
    cap->source = VFMIG_NODEDEV_SOURCE_VFIO;
    cap->dirty = VFMIG_NODEDEV_DIRTY_NONE;
    cap->dirtyReason = g_strdup("a reason\nwith a newline");
    cap->vendor = 0x15b3;
    cap->device = 0x101e;
    g_assert_cmpint(vfmigNodeDevCacheWrite(f->cache, VF_A2, cap), ==, 0);

    list = probeAll(f, 0);
    dev = findCap(list, VF_A2);
    assertNoErrors(dev);
    g_assert_true(dev->inUse);
    g_assert_nonnull(dev->cap);
    g_assert_cmpint(dev->cap->source, ==, VFMIG_NODEDEV_SOURCE_CACHE);
    g_assert_cmpuint(dev->cap->features, ==,
                     VFMIG_NODEDEV_FEATURE_STOP_COPY | VFMIG_NODEDEV_FEATURE_P2P);
    g_assert_false(dev->cap->variant);
    g_assert_cmpstr(dev->cap->dirtyReason, ==, "a reason\nwith a newline");
    g_assert_nonnull(strstr(dev->note, "cache"));

    /* idle again: what the device says now wins over the cache */
    attr(f, VF_A2, "enable", "0\n");
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, 0);
    dev = find(list, VF_A2);
    assertNoErrors(dev);
    g_assert_false(dev->inUse);
    g_assert_null(dev->cap);
    g_assert_nonnull(strstr(dev->note, "migration features unknown"));
    attr(f, VF_A2, "enable", "1\n");

    /* NO_CACHE: not read either */
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, VFMIG_NODEDEV_PROBE_NO_CACHE);
    dev = find(list, VF_A2);
    g_assert_null(dev->cap);

    /* a cache of another driver or card is stale */
    rmAttr(f, VF_A2, "driver");
    vfmigTestLink(mlx5Drv, drvLink);
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, 0);
    dev = find(list, VF_A2);
    assertOneError(dev, VFMIG_ERR_OPERATION_INVALID, "stale", "vfio-pci",
                   "mlx5_vfio_pci", NULL);
    g_assert_null(dev->cap);

    attr(f, VF_A2, "device", "0x1021\n");
    rmAttr(f, VF_A2, "driver");
    vfmigTestLink(vfioDrv, drvLink);
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, 0);
    dev = find(list, VF_A2);
    assertOneError(dev, VFMIG_ERR_OPERATION_INVALID, "stale", "15b3:101e",
                   "15b3:1021", NULL);
    g_assert_null(dev->cap);
}


/* A cache file of VF_A2 around the capability elements @body. */
#define CACHED(body) \
    "<nodedev-cache address='0000:3b:00.4'>" \
    "<capability type='vfio-migration'>" body "</capability></nodedev-cache>"
#define C_DRIVER "<driver name='vfio-pci' variant='no'/>"
#define C_FEATURES "<features source='vfio'><stop-copy/></features>"
#define C_DIRTY "<dirty-tracking type='none'/>"
#define C_IDENTITY "<identity vendor='0x15b3' device='0x101e'/>"

static void
testCacheCorrupt(Fake *f,
                 gconstpointer data G_GNUC_UNUSED)
{
    static const struct {
        const char *contents;
        const char *want;
    } cases[] = {
        { "\x01\x02garbage\n", "corrupt cache file" },
        { "", "empty" },
        { "[vfio-migration]\nformat=1\naddress=0000:3b:00.4\n", "malformed" },
        { CACHED(C_DRIVER C_FEATURES C_DIRTY C_IDENTITY) "<x/>", "malformed" },
        { "<nodedev-qualification address='0000:3b:00.4' driver='vfio-pci'/>",
          "expected a <nodedev-cache> document, got <nodedev-qualification>" },
        { "<nodedev-cache><capability/></nodedev-cache>",
          "missing attribute 'address' of element <nodedev-cache>" },
        { "<nodedev-cache address=''/>", "invalid value '' of attribute 'address'" },
        { "<nodedev-cache address='0000:3b:00.4'/>",
          "missing element <capability> in <nodedev-cache>" },
        { "<nodedev-cache address='0000:3b:00.4'><device/></nodedev-cache>",
          "unknown element <device> in <nodedev-cache>" },
        { "<nodedev-cache address='0000:3b:00.4'>"
          "<capability type='vfio-migration'>" C_DRIVER C_FEATURES C_DIRTY C_IDENTITY "</capability>"
          "<capability type='vfio-migration'>" C_DRIVER C_FEATURES C_DIRTY C_IDENTITY "</capability>"
          "</nodedev-cache>", "duplicate element <capability> in <nodedev-cache>" },
        { CACHED(C_FEATURES C_DIRTY C_IDENTITY), "missing element <driver>" },
        { CACHED("<driver name='vfio-pci' variant='maybe'/>" C_FEATURES C_DIRTY C_IDENTITY),
          "'variant'" },
        { CACHED(C_DRIVER "<features source='vfio'><stop-copy/><teleport/></features>"
                 C_DIRTY C_IDENTITY), "<teleport>" },
        { CACHED(C_DRIVER C_FEATURES "<dirty-tracking type='psychic'/>" C_IDENTITY),
          "'psychic'" },
        { CACHED(C_DRIVER C_FEATURES C_DIRTY "<identity vendor='15b3' device='0x101e'/>"),
          "'15b3'" },
        { CACHED(C_DRIVER C_FEATURES C_DIRTY
                 "<identity vendor='0x15b3' device='0x101e' stream-version='-1'/>"),
          "'stream-version'" },
        /* a record is not taken from the cache, nor a live value */
        { CACHED(C_DRIVER C_FEATURES C_DIRTY C_IDENTITY
                 "<qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='1'/>"),
          "element <qualified> in <nodedev-cache>" },
        { CACHED(C_DRIVER C_FEATURES C_DIRTY C_IDENTITY
                 "<live state='STOP' initial-bytes='0' dirty-bytes='0' stop-copy-bytes='0' "
                 "stop-latency-us='0' resume-latency-us='0'/>"),
          "element <live> in <nodedev-cache>" },
    };
    g_autofree char *path = vfmigNodeDevCachePath(f->cache, VF_A2);
    size_t i;

    fakePCI(f, VF_A2, "0x15b3\n", "0x101e\n", "vfio-pci", 13);
    /* in use: the cache is read only for a device someone holds */
    attr(f, VF_A2, "enable", "1\n");
    fakePCI(f, VF_A0, "0x15b3\n", "0x101e\n", "mlx5_vfio_pci", 11);
    fakeABI(f, VF_A0, "stop-copy\n", "on\n", "1\n", "RUNNING\n", NULL);

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(vfmigNodeDevList) list = NULL;
        g_autoptr(vfmigNodeDevCapVFIOMig) cap = NULL;
        vfmigNodeDevPCI *dev;

        vfmigTestWriteFile(path, cases[i].contents);
        g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, VF_A2, &cap), ==, -1);
        g_assert_null(cap);
        assertCorrupt(i, path, cases[i].want);

        /* the enumeration reports it on the device and goes on */
        list = probeAll(f, 0);
        dev = find(list, VF_A2);
        assertOneError(dev, VFMIG_ERR_DATA_CORRUPT, path, NULL);
        g_assert_null(dev->cap);
        g_assert_nonnull(dev->note);
        dev = find(list, VF_A0);
        assertNoErrors(dev);
        g_assert_nonnull(dev->cap);
    }

    /* a cache file written for another device (copied, or renamed) */
    vfmigTestWriteFile(path, "<nodedev-cache address='0000:3b:00.3'>"
              "<capability type='vfio-migration'>" C_DRIVER C_FEATURES C_DIRTY
              C_IDENTITY "</capability></nodedev-cache>");
    {
        g_autoptr(vfmigNodeDevCapVFIOMig) cap = NULL;
        g_autofree char *want =
            g_strdup_printf("stale cache file '%s': it was written for device '0000:3b:00.3', not '0000:3b:00.4'; ignored",
                            path);

        g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, VF_A2, &cap), ==, -1);
        g_assert_null(cap);
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OPERATION_INVALID);
        g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);
        vfmigResetLastError();
    }

    /* a directory where the file should be */
    g_assert_cmpint(g_unlink(path), ==, 0);
    vfmigTestMkdirs(path);
    {
        g_autoptr(vfmigNodeDevCapVFIOMig) cap = NULL;

        g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, VF_A2, &cap), ==, -1);
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), path));
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "a directory, not a regular file"));
    }
}
#undef C_IDENTITY
#undef C_DIRTY
#undef C_FEATURES
#undef C_DRIVER
#undef CACHED


static void
testCacheUnwritable(Fake *f,
                    gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autofree char *file = g_build_filename(f->root, "not-a-dir", NULL);
    g_autofree char *cache = g_build_filename(file, "nodedev", NULL);
    const vfmigError *e;

    fakeStandard(f);
    vfmigTestWriteFile(file, "");
    f->paths.cacheDir = cache;
    list = probeAll(f, 0);

    /* said once, for the whole enumeration; the devices are fine */
    g_assert_cmpuint(list->errors->len, ==, 1);
    g_assert_cmpuint(list->nerrors, ==, 1);
    e = g_ptr_array_index(list->errors, 0);
    g_assert_nonnull(strstr(e->message, cache));
    g_assert_nonnull(find(list, VF_A0)->cap);
    f->paths.cacheDir = f->cache;
}


static char *listNames(const char *dir);


/*
 * A cache directory others can write to, or that another user owns: a
 * forged record in it must not show the device as qualified, nor a
 * forged cache file describe a busy device.  Said once, for the whole
 * enumeration; nothing is written into it.
 */
static void
testCacheUntrusted(Fake *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    static const struct {
        mode_t mode;
        uid_t uid;
        const char *want;
    } cases[] = {
        { 0777, 0, "can be written by its group or others (mode 0777)" },
        { 0755, 65534, "is owned by uid 65534" },
    };
    g_autofree char *record = g_build_filename(f->cache, VF_A0 ".qualified.xml", NULL);
    g_autofree char *cached = g_build_filename(f->cache, VF_A2 ".xml", NULL);
    size_t i;

    fakeStandard(f);
    attr(f, VF_A2, "enable", "1\n");
    vfmigTestMkdirs(f->cache);
    vfmigTestWriteFile(record,
              "<nodedev-qualification address='" VF_A0 "' driver='mlx5_vfio_pci'>"
              "<qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='300000'/>"
              "</nodedev-qualification>");
    vfmigTestWriteFile(cached,
              "<nodedev-cache address='" VF_A2 "'><capability type='vfio-migration'>"
              "<driver name='vfio-pci' variant='no'/><features source='vfio'><stop-copy/></features>"
              "<dirty-tracking type='none'/><identity vendor='0x15b3' device='0x101e'/>"
              "</capability></nodedev-cache>");

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        unsigned int flags[] = { 0, VFMIG_NODEDEV_PROBE_NO_CACHE,
                                 VFMIG_NODEDEV_PROBE_NO_CACHE_WRITE };
        size_t j;

        g_assert_cmpint(chmod(f->cache, cases[i].mode), ==, 0);
        g_assert_cmpint(chown(f->cache, cases[i].uid, cases[i].uid), ==, 0);
        for (j = 0; j < G_N_ELEMENTS(flags); j++) {
            g_autoptr(vfmigNodeDevList) list = probeAll(f, flags[j]);
            g_autofree char *names = NULL;
            const vfmigError *e;

            g_assert_cmpuint(list->nerrors, ==, 1);
            g_assert_cmpuint(list->errors->len, ==, 1);
            e = g_ptr_array_index(list->errors, 0);
            g_assert_nonnull(strstr(e->message, f->cache));
            g_assert_nonnull(strstr(e->message, cases[i].want));
            g_assert_nonnull(strstr(e->message, "refusing to use it"));

            g_assert_null(findCap(list, VF_A0)->cap->qualified);
            g_assert_null(find(list, VF_A2)->cap);
            names = listNames(f->cache);
            g_assert_cmpstr(names, ==, VF_A0 ".qualified.xml " VF_A2 ".xml");
        }
    }
}


/* A record as device-qualify writes it after a completed run. */
static vfmigNodeDevQualified *
qualifiedNew(void)
{
    vfmigNodeDevQualified *q = g_new0(vfmigNodeDevQualified, 1);

    q->at = 1795514400;         /* 2026-11-24T10:00:00Z */
    q->verdict = VFMIG_NODEDEV_VERDICT_QUALIFIED;
    q->targetUs = 300000;
    q->measured = true;
    q->downtimeUs = 96902;
    q->stopLatencyUs = 420;
    q->drainUs = 48046;
    q->loadCommitUs = 48205;
    q->resumeLatencyUs = 231;
    return q;
}


static void
assertQualifiedEqual(const vfmigNodeDevQualified *a,
                     const vfmigNodeDevQualified *b)
{
    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_cmpint(a->at, ==, b->at);
    g_assert_cmpint(a->verdict, ==, b->verdict);
    g_assert_cmpuint(a->targetUs, ==, b->targetUs);
    g_assert_cmpstr(a->peer, ==, b->peer);
    g_assert_cmpint(a->measured, ==, b->measured);
    g_assert_cmpuint(a->downtimeUs, ==, b->downtimeUs);
    g_assert_cmpuint(a->stopLatencyUs, ==, b->stopLatencyUs);
    g_assert_cmpuint(a->drainUs, ==, b->drainUs);
    g_assert_cmpuint(a->loadCommitUs, ==, b->loadCommitUs);
    g_assert_cmpuint(a->resumeLatencyUs, ==, b->resumeLatencyUs);
}


static gint
compareNames(gconstpointer a,
             gconstpointer b)
{
    return g_strcmp0(*(char *const *) a, *(char *const *) b);
}


/* Names in @dir, sorted and joined by spaces. */
static char *
listNames(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *ent;

    g_assert_nonnull(d);
    while ((ent = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(ent));
    g_ptr_array_sort(names, compareNames);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(" ", (char **) names->pdata);
}


static void
testQualifiedRoundtrip(Fake *f,
                       gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevQualified) q = qualifiedNew();
    g_autoptr(vfmigNodeDevQualified) back = NULL;
    g_autofree char *driver = NULL;
    g_autofree char *path = g_build_filename(f->cache, VF_A0 ".qualified.xml", NULL);
    g_autofree char *names = NULL;
    g_autofree char *text = NULL;
    struct stat before;
    struct stat after;

    /* no cache directory, no file: no record, nothing reported */
    g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, VF_A0, &back, &driver), ==, 0);
    g_assert_null(back);
    g_assert_null(driver);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);

    /* the directory is made on first use; the file sits beside the cache */
    g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, VF_A0, "mlx5_vfio_pci", q), ==, 0);
    g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    {
        g_autofree char *p = vfmigNodeDevQualifiedPath(f->cache, VF_A0);

        g_assert_cmpstr(p, ==, path);
    }
    /* the capability's <qualified/>, in a wrapper naming device and driver */
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpstr(text, ==,
                    "<nodedev-qualification address='" VF_A0 "' driver='mlx5_vfio_pci'>\n"
                    "  <qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='300000' "
                    "downtime-us='96902' stop-latency-us='420' drain-us='48046' "
                    "load-commit-us='48205' resume-latency-us='231'/>\n"
                    "</nodedev-qualification>\n");

    g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, VF_A0, &back, &driver), ==, 1);
    assertQualifiedEqual(back, q);
    g_assert_cmpstr(driver, ==, "mlx5_vfio_pci");
    g_clear_pointer(&back, vfmigNodeDevQualifiedFree);
    g_clear_pointer(&driver, g_free);

    /* replaced by rename(): a new inode, no temporary file left behind */
    g_assert_cmpint(stat(path, &before), ==, 0);
    q->verdict = VFMIG_NODEDEV_VERDICT_NOT_QUALIFIED;
    q->measured = false;
    q->downtimeUs = q->stopLatencyUs = q->drainUs = 0;
    q->loadCommitUs = q->resumeLatencyUs = 0;
    q->peer = g_strdup(VF_A1);
    g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, VF_A0, "mlx5_vfio_pci", q), ==, 0);
    g_assert_cmpint(stat(path, &after), ==, 0);
    g_assert_cmpuint(before.st_ino, !=, after.st_ino);
    names = listNames(f->cache);
    g_assert_cmpstr(names, ==, VF_A0 ".qualified.xml");

    g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, VF_A0, &back, NULL), ==, 1);
    assertQualifiedEqual(back, q);
    g_clear_pointer(&back, vfmigNodeDevQualifiedFree);

    /* the record of another driver is stale */
    g_assert_cmpint(vfmigNodeDevQualifiedLoad(f->cache, VF_A0, "mlx5_vfio_pci", &back), ==, 1);
    g_clear_pointer(&back, vfmigNodeDevQualifiedFree);
    g_assert_cmpint(vfmigNodeDevQualifiedLoad(f->cache, VF_A0, "vfio-pci", &back), ==, -1);
    g_assert_null(back);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OPERATION_INVALID);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "stale"));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), path));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "vfio-pci"));
    vfmigResetLastError();

    /* the capability cache and the record do not disturb each other */
    {
        g_autoptr(vfmigNodeDevList) list = NULL;
        g_autoptr(vfmigNodeDevCapVFIOMig) cached = NULL;

        fakeStandard(f);
        list = probeAll(f, 0);
        g_assert_cmpint(vfmigNodeDevCacheRead(f->cache, VF_A0, &cached), ==, 1);
        g_assert_null(cached->qualified);
        g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, VF_A0, &back, NULL), ==, 1);
        assertQualifiedEqual(back, q);
    }
}


static void
testQualifiedCorrupt(Fake *f,
                     gconstpointer data G_GNUC_UNUSED)
{
#define QHEAD "<nodedev-qualification address='0000:3b:00.2' driver='mlx5_vfio_pci'>"
#define QTAIL "</nodedev-qualification>"
#define QAT "at='2026-11-24T10:00:00Z' "
#define QBODY QAT "verdict='qualified' target-us='300000' "
    static const struct {
        const char *contents;
        const char *want;
    } cases[] = {
        { "\x01\x02garbage\n", "corrupt qualification record" },
        { "", "empty" },
        { "[qualification]\nformat=1\naddress=0000:3b:00.2\n", "malformed" },
        { QHEAD "<qualified " QBODY "/>", "malformed" },
        { "<nodedev-cache address='0000:3b:00.2'/>",
          "expected a <nodedev-qualification> document, got <nodedev-cache>" },
        { "<nodedev-qualification driver='mlx5_vfio_pci'/>",
          "missing attribute 'address' of element <nodedev-qualification>" },
        { "<nodedev-qualification address='0000:3b:00.2'/>",
          "missing attribute 'driver' of element <nodedev-qualification>" },
        { "<nodedev-qualification address='0000:3b:00.2' driver=''/>",
          "invalid value '' of attribute 'driver'" },
        { QHEAD QTAIL, "missing element <qualified> in <nodedev-qualification>" },
        { QHEAD "<qualified " QBODY "/><qualified " QBODY "/>" QTAIL,
          "duplicate element <qualified> in <nodedev-qualification>" },
        { QHEAD "<capability type='vfio-migration'/>" QTAIL,
          "unknown element <capability> in <nodedev-qualification>" },
        { QHEAD "<qualified verdict='qualified' target-us='1'/>" QTAIL,
          "missing attribute 'at'" },
        { QHEAD "<qualified at='2026-11-24 10:00:00' verdict='qualified' target-us='1'/>" QTAIL,
          "invalid value '2026-11-24 10:00:00' of attribute 'at'" },
        { QHEAD "<qualified " QAT "verdict='good' target-us='1'/>" QTAIL,
          "invalid value 'good' of attribute 'verdict'" },
        { QHEAD "<qualified " QAT "verdict='qualified'/>" QTAIL,
          "missing attribute 'target-us'" },
        { QHEAD "<qualified " QAT "verdict='qualified' target-us='-1'/>" QTAIL,
          "invalid value '-1' of attribute 'target-us'" },
        { QHEAD "<qualified " QBODY "peer=''/>" QTAIL,
          "invalid value '' of attribute 'peer'" },
        { QHEAD "<qualified " QBODY "downtime-us='1' stop-latency-us='1'/>" QTAIL,
          "'stop-latency-us' of element <qualified> in the vfio-migration capability needs the other measured figures too: 'drain-us' is missing" },
        { QHEAD "<qualified " QBODY "downtime-us='1' stop-latency-us='1' drain-us='1' "
          "load-commit-us='1' resume-latency-us='1.5'/>" QTAIL,
          "invalid value '1.5' of attribute 'resume-latency-us'" },
        { QHEAD "<qualified " QBODY "downtime-us='1' stop-latency-us='1' drain-us='+1' "
          "load-commit-us='1' resume-latency-us='1'/>" QTAIL,
          "invalid value '+1' of attribute 'drain-us'" },
        { QHEAD "<qualified " QBODY "downtime-us='1' stop-latency-us='1' drain-us='1' "
          "load-commit-us='18446744073709551616' resume-latency-us='1'/>" QTAIL,
          "'load-commit-us'" },
    };
#undef QBODY
#undef QAT
    g_autofree char *path = g_build_filename(f->cache, VF_A0 ".qualified.xml", NULL);
    size_t i;

    fakeStandard(f);
    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(vfmigNodeDevQualified) q = NULL;
        g_autoptr(vfmigNodeDevList) list = NULL;
        vfmigNodeDevPCI *dev;

        vfmigTestWriteFile(path, cases[i].contents);
        g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, VF_A0, &q, NULL), ==, -1);
        g_assert_null(q);
        assertCorrupt(i, path, cases[i].want);

        /* the probe says so on the device and shows the capability
         * without the record */
        list = probeAll(f, 0);
        dev = findCap(list, VF_A0);
        assertOneError(dev, VFMIG_ERR_DATA_CORRUPT, path, NULL);
        g_assert_null(dev->cap->qualified);
    }

    /* a complete record with no figures: a run that failed midway */
    vfmigTestWriteFile(path, QHEAD "<qualified at='2026-11-24T10:00:00Z' verdict='not-qualified' "
              "target-us='300000' peer='0000:3b:00.4'/>" QTAIL);
    {
        g_autoptr(vfmigNodeDevQualified) q = NULL;

        g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, VF_A0, &q, NULL), ==, 1);
        g_assert_false(q->measured);
        g_assert_cmpint(q->verdict, ==, VFMIG_NODEDEV_VERDICT_NOT_QUALIFIED);
        g_assert_cmpstr(q->peer, ==, VF_A2);
    }

    /* a record written for another device (copied, or renamed) is stale */
    vfmigTestWriteFile(path, "<nodedev-qualification address='0000:3b:00.3' driver='mlx5_vfio_pci'>"
              "<qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='1'/>"
              QTAIL);
    {
        g_autoptr(vfmigNodeDevQualified) q = NULL;
        g_autoptr(vfmigNodeDevList) list = NULL;
        g_autofree char *want =
            g_strdup_printf("stale qualification record '%s': it was written for device '0000:3b:00.3', not '0000:3b:00.2'; ignored",
                            path);

        g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, VF_A0, &q, NULL), ==, -1);
        g_assert_null(q);
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OPERATION_INVALID);
        g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, want);
        vfmigResetLastError();
        list = probeAll(f, 0);
        assertOneError(findCap(list, VF_A0), VFMIG_ERR_OPERATION_INVALID, want, NULL);
        g_assert_null(findCap(list, VF_A0)->cap->qualified);
    }
#undef QTAIL
#undef QHEAD

    /* a directory where the file should be */
    g_assert_cmpint(g_unlink(path), ==, 0);
    vfmigTestMkdirs(path);
    {
        g_autoptr(vfmigNodeDevQualified) q = NULL;
        g_autoptr(vfmigNodeDevQualified) w = qualifiedNew();

        g_assert_cmpint(vfmigNodeDevQualifiedRead(f->cache, VF_A0, &q, NULL), ==, -1);
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), path));
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "a directory, not a regular file"));
        vfmigResetLastError();
        g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, VF_A0, "x", w), ==, -1);
        g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), path));
        vfmigResetLastError();
    }
}


static void
testQualifiedUnwritable(Fake *f,
                        gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevQualified) q = qualifiedNew();
    g_autoptr(vfmigNodeDevQualified) back = NULL;
    g_autofree char *file = g_build_filename(f->root, "not-a-dir", NULL);
    g_autofree char *cache = g_build_filename(file, "nodedev", NULL);

    vfmigTestWriteFile(file, "");
    g_assert_cmpint(vfmigNodeDevQualifiedWrite(cache, VF_A0, "mlx5_vfio_pci", q), ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_SYSTEM_ERROR);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), cache));
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), VF_A0));
    vfmigResetLastError();
    /* no directory can be there: an error naming it, not "no record" */
    g_assert_cmpint(vfmigNodeDevQualifiedRead(cache, VF_A0, &back, NULL), ==, -1);
    g_assert_null(back);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_SYSTEM_ERROR);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), cache));
    vfmigResetLastError();

    /* the probe says so once, for the enumeration, not once a device */
    {
        g_autoptr(vfmigNodeDevList) list = NULL;

        fakeStandard(f);
        f->paths.cacheDir = cache;
        list = probeAll(f, VFMIG_NODEDEV_PROBE_NO_CACHE);
        f->paths.cacheDir = f->cache;
        g_assert_cmpuint(list->nerrors, ==, 1);
        g_assert_cmpuint(list->errors->len, ==, 1);
        g_assert_nonnull(findCap(list, VF_A0)->cap);
        g_assert_null(findCap(list, VF_A0)->cap->qualified);
    }
}


/* The probe attaches the record to the capability, however it was found. */
static void
testQualifiedProbe(Fake *f,
                   gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevQualified) q = qualifiedNew();
    g_autoptr(vfmigNodeDevCapVFIOMig) cap = g_new0(vfmigNodeDevCapVFIOMig, 1);
    g_autoptr(vfmigNodeDevList) list = NULL;
    vfmigNodeDevPCI *dev;

    fakeStandard(f);
    g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, VF_A0, "mlx5_vfio_pci", q), ==, 0);
    /* a record for a device bound to another driver now */
    g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, VF_B2, "vfmig_testdev", q), ==, 0);

    list = probeAll(f, 0);
    dev = findCap(list, VF_A0);
    assertNoErrors(dev);
    assertQualifiedEqual(dev->cap->qualified, q);
    dev = findCap(list, VF_A1);
    g_assert_null(dev->cap->qualified);
    dev = findCap(list, VF_B2);
    assertOneError(dev, VFMIG_ERR_OPERATION_INVALID, "stale", "vfmig_testdev",
                   "mlx5_vfio_pci", NULL);
    g_assert_null(dev->cap->qualified);

    /* the record is not the cache: NO_CACHE keeps it, NO_QUALIFIED not */
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, VFMIG_NODEDEV_PROBE_NO_CACHE);
    assertQualifiedEqual(findCap(list, VF_A0)->cap->qualified, q);
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, VFMIG_NODEDEV_PROBE_NO_QUALIFIED);
    dev = findCap(list, VF_A0);
    g_assert_null(dev->cap->qualified);
    assertNoErrors(findCap(list, VF_B2));

    /* a busy device described from the cache gets its record too */
    attr(f, VF_A2, "enable", "1\n");
    cap->driver = g_strdup("vfio-pci");
    cap->features = VFMIG_NODEDEV_FEATURE_STOP_COPY;
    cap->source = VFMIG_NODEDEV_SOURCE_VFIO;
    cap->vendor = 0x15b3;
    cap->device = 0x101e;
    g_assert_cmpint(vfmigNodeDevCacheWrite(f->cache, VF_A2, cap), ==, 0);
    q->peer = g_strdup(VF_A0);
    g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, VF_A2, "vfio-pci", q), ==, 0);
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, 0);
    dev = findCap(list, VF_A2);
    g_assert_cmpint(dev->cap->source, ==, VFMIG_NODEDEV_SOURCE_CACHE);
    assertQualifiedEqual(dev->cap->qualified, q);

    /* and a device without a capability has none to carry it */
    g_assert_cmpint(vfmigNodeDevQualifiedWrite(f->cache, VF_B0, "mlx5_core", q), ==, 0);
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, 0);
    dev = find(list, VF_B0);
    g_assert_null(dev->cap);
    assertNoErrors(dev);
}


static void
testInUseProc(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autofree char *group = g_build_filename(f->dev, "vfio", "13", NULL);
    g_autofree char *cdev = g_build_filename(f->dev, "vfio", "devices",
                                             "vfio7", NULL);
    g_autofree char *fd3 = g_build_filename(f->proc, "4242", "fd", "3", NULL);
    g_autofree char *fd4 = g_build_filename(f->proc, "4343", "fd", "4", NULL);
    g_autofree char *fd5 = g_build_filename(f->proc, "4343", "fd", "5", NULL);
    g_autofree char *selfish = g_build_filename(f->proc, "self", "fd", "0",
                                                NULL);
    vfmigNodeDevPCI *dev;

    fakePCI(f, VF_A2, "0x15b3\n", "0x101e\n", "vfio-pci", 13);
    fakePCI(f, VF_B1, "0x15b3\n", "0x101e\n", "vfio-pci", 22);
    attr(f, VF_B1, "vfio-dev/vfio7/dev", "511:7\n");
    vfmigTestWriteFile(group, "");
    vfmigTestWriteFile(cdev, "");
    vfmigTestLink(group, fd3);
    vfmigTestLink("/dev/null", fd4);
    vfmigTestLink(cdev, fd5);
    vfmigTestLink(group, selfish);     /* not a pid: skipped */

    list = probeAll(f, VFMIG_NODEDEV_PROBE_VFIO);

    /* held: never opened (an open of the stand-ins would fail loudly) */
    dev = find(list, VF_A2);
    assertNoErrors(dev);
    g_assert_true(dev->inUse);
    g_assert_nonnull(strstr(dev->inUseReason, "4242"));
    g_assert_nonnull(strstr(dev->inUseReason, group));
    g_assert_null(dev->cap);
    g_assert_nonnull(strstr(dev->note, "in use"));

    dev = find(list, VF_B1);
    assertNoErrors(dev);
    g_assert_true(dev->inUse);
    g_assert_nonnull(strstr(dev->inUseReason, "4343"));
    g_assert_nonnull(strstr(dev->inUseReason, cdev));
}


static void
testVFIOQuery(Fake *f,
              gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autofree char *group = g_build_filename(f->dev, "vfio", "13", NULL);
    g_autofree char *container = g_build_filename(f->dev, "vfio", "vfio", NULL);
    vfmigNodeDevPCI *dev;

    fakeStandard(f);
    attr(f, VF_A2, "vfio-dev/vfio5/dev", "511:5\n");    /* VFIO's device */
    vfmigTestWriteFile(group, "");
    vfmigTestWriteFile(container, "");

    /* not asked: not touched, no error */
    list = probeAll(f, 0);
    dev = find(list, VF_A2);
    assertNoErrors(dev);
    g_assert_null(dev->cap);

    /* asked: the VFIO client opens the stand-ins and its first ioctl fails;
     * that is this device's error, the others are unaffected */
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, VFMIG_NODEDEV_PROBE_VFIO);
    dev = find(list, VF_A2);
    assertOneError(dev, -1, container, NULL);
    g_assert_false(dev->inUse);
    g_assert_null(dev->cap);
    g_assert_nonnull(strstr(dev->note, "VFIO query failed"));
    g_assert_cmpuint(list->nerrors, ==, 1);
    assertNoErrors(find(list, VF_A0));
    g_assert_nonnull(find(list, VF_A0)->cap);

    /* in use by enable: the query is not even tried */
    attr(f, VF_A2, "enable", "2\n");
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, VFMIG_NODEDEV_PROBE_VFIO);
    dev = find(list, VF_A2);
    assertNoErrors(dev);
    g_assert_true(dev->inUse);
    g_assert_nonnull(strstr(dev->inUseReason, "enable=2"));
}


typedef struct {
    const char *file;           /* relative to the device directory */
    const char *contents;       /* NULL: remove the file */
    int code;
    const char *want;
    bool capKept;               /* the device still has a capability */
} GarbageCase;

static const GarbageCase garbageCases[] = {
    { "vendor", "zzz\n", VFMIG_ERR_DATA_CORRUPT, "'zzz', not a PCI id", true },
    { "vendor", NULL, VFMIG_ERR_OPERATION_FAILED, "is missing", true },
    { "device", "0x1234567\n", VFMIG_ERR_DATA_CORRUPT, "not a PCI id", true },
    { "vfio_migration/features", NULL, VFMIG_ERR_OPERATION_FAILED, "is missing", false },
    { "vfio_migration/features", "", VFMIG_ERR_DATA_CORRUPT, "lacks stop-copy", false },
    { "vfio_migration/features", "p2p pre-copy\n", VFMIG_ERR_DATA_CORRUPT, "lacks stop-copy", false },
    { "vfio_migration/features", "stop-copy p2p;rm\n", VFMIG_ERR_DATA_CORRUPT, "p2p;rm", false },
    /* stop-copy, a NUL, p2p (written with its length in testGarbage) */
    { "vfio_migration/features", "stop-copy\0p2p\n", VFMIG_ERR_DATA_CORRUPT, "binary data", false },
    { "vfio_migration/precopy", "maybe\n", VFMIG_ERR_DATA_CORRUPT, "'maybe', not one of on, single, off", false },
    { "vfio_migration/multi_load", "2\n", VFMIG_ERR_DATA_CORRUPT, "'2', not a decimal number up to 1", false },
    { "vfio_migration/multi_load", "yes\n", VFMIG_ERR_DATA_CORRUPT, "'yes'", false },
    { "vfio_migration/stream_version", "v2\n", VFMIG_ERR_DATA_CORRUPT, "'v2'", false },
    { "vfio_migration/state", "FLYING\n", VFMIG_ERR_DATA_CORRUPT, "'FLYING', not a VFIO migration state", false },
    { "vfio_migration/state", NULL, VFMIG_ERR_OPERATION_FAILED, "is missing", false },
    { "vfio_migration/state",
      "RUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNING"
      "RUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNING"
      "RUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNING"
      "RUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNINGRUNNING\n",
      VFMIG_ERR_DATA_CORRUPT, "more than 255 bytes", false },
    { "iommu_group", "12\n", VFMIG_ERR_DATA_CORRUPT, "not a symbolic link", true },
    { "enable", "on\n", VFMIG_ERR_DATA_CORRUPT, "'on'", true },
    { "sriov_numvfs", "lots\n", VFMIG_ERR_DATA_CORRUPT, "'lots'", true },
    { "sriov_numvfs", "1\n", VFMIG_ERR_DATA_CORRUPT, "virtfn0' is missing although", true },
};


static void
testGarbage(Fake *f,
            gconstpointer data)
{
    const GarbageCase *c = data;
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autofree char *path = NULL;
    vfmigNodeDevPCI *dev;
    size_t i;

    fakeStandard(f);
    path = busPath(f, VF_A0, c->file);
    if (!c->contents) {
        g_assert_cmpint(g_unlink(path), ==, 0);
    } else if (g_str_equal(c->file, "vfio_migration/features") &&
               strlen(c->contents) == strlen("stop-copy")) {
        /* with an embedded NUL */
        g_assert_true(g_file_set_contents(path, "stop-copy\0p2p\n", 14, NULL));
    } else {
        g_unlink(path);
        vfmigTestWriteFile(path, c->contents);
    }

    list = probeAll(f, 0);
    dev = find(list, VF_A0);
    assertOneError(dev, c->code, path, c->want, NULL);
    g_assert_true(c->capKept ? dev->cap != NULL : dev->cap == NULL);
    if (!dev->cap)
        g_assert_nonnull(strstr(dev->note, "broken"));

    /* the others are unaffected */
    g_assert_cmpuint(list->devices->len, ==, 8);
    g_assert_cmpuint(list->nerrors, ==, 1);
    for (i = 0; i < list->devices->len; i++) {
        vfmigNodeDevPCI *other = g_ptr_array_index(list->devices, i);

        if (other != dev)
            assertNoErrors(other);
    }
}


/* The live estimates are checked in a migration state only. */
static void
testGarbageLive(Fake *f,
                gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(vfmigNodeDevList) list = NULL;
    g_autofree char *path = NULL;
    vfmigNodeDevPCI *dev;

    fakeStandard(f);
    attr(f, VF_A0, "vfio_migration/dirty_bytes", "-5\n");
    list = probeAll(f, 0);
    assertNoErrors(find(list, VF_A0));

    attr(f, VF_A0, "vfio_migration/state", "STOP_COPY\n");
    g_clear_pointer(&list, vfmigNodeDevListFree);
    list = probeAll(f, 0);
    path = busPath(f, VF_A0, "vfio_migration/dirty_bytes");
    dev = findCap(list, VF_A0);
    assertOneError(dev, VFMIG_ERR_DATA_CORRUPT, path, "'-5'", NULL);
    /* broken ABI, but the first probe cached it */
    g_assert_nonnull(dev->cap);
    g_assert_cmpint(dev->cap->source, ==, VFMIG_NODEDEV_SOURCE_CACHE);
}


/* What the stop-copy size is: as the driver says (stop_copy_estimate, in
 * one read with the size), else from the driver's name. */
static void
testLiveStopCopy(Fake *f,
                 gconstpointer data G_GNUC_UNUSED)
{
    static const char *const bad[] = {
        "4096\n", "4096 most\n", "x residue\n", "4096 residue whole\n",
        "-1 whole\n", "4096  residue\n", "18446744073709551616 whole\n",
    };
    g_autofree char *path = NULL;
    size_t i;

    fakeStandard(f);
    path = busPath(f, VF_A1, "vfio_migration/stop_copy_estimate");

    {
        /* an older vfmig driver named mlx5_vfio_pci: the whole state */
        g_autoptr(vfmigNodeDevLive) live = NULL;

        g_assert_cmpint(vfmigNodeDevReadLive(&f->paths, VF_A1, &live), ==, 1);
        g_assert_cmpstr(live->driver, ==, "mlx5_vfio_pci");
        g_assert_cmpuint(live->stopCopyBytes, ==, 4096);
        g_assert_cmpint(live->stopCopyKind, ==, VFMIG_NODEDEV_STOP_COPY_UNSAID);
        g_assert_false(vfmigNodeDevLiveStopCopyIsResidue(live));
        g_clear_pointer(&live->driver, g_free);
        live->driver = g_strdup("vfmig_testdev");
        g_assert_true(vfmigNodeDevLiveStopCopyIsResidue(live));
    }
    {
        /* mlx5 saying its residue (an incremental image): trusted */
        g_autoptr(vfmigNodeDevLive) live = NULL;

        attr(f, VF_A1, "vfio_migration/stop_copy_estimate", "61656 residue\n");
        g_assert_cmpint(vfmigNodeDevReadLive(&f->paths, VF_A1, &live), ==, 1);
        g_assert_cmpuint(live->stopCopyBytes, ==, 61656);
        g_assert_cmpint(live->stopCopyKind, ==, VFMIG_NODEDEV_STOP_COPY_RESIDUE);
        g_assert_true(vfmigNodeDevLiveStopCopyIsResidue(live));
    }
    {
        /* ... or its whole state: not the residue, whatever the name */
        g_autoptr(vfmigNodeDevLive) live = NULL;

        attr(f, VF_A1, "vfio_migration/stop_copy_estimate", "8388608 whole\n");
        g_assert_cmpint(vfmigNodeDevReadLive(&f->paths, VF_A1, &live), ==, 1);
        g_assert_cmpuint(live->stopCopyBytes, ==, 8388608);
        g_assert_cmpint(live->stopCopyKind, ==, VFMIG_NODEDEV_STOP_COPY_WHOLE);
        g_clear_pointer(&live->driver, g_free);
        live->driver = g_strdup("vfmig_testdev");
        g_assert_false(vfmigNodeDevLiveStopCopyIsResidue(live));
    }
    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(vfmigNodeDevLive) live = NULL;
        g_autofree char *want = g_strdup_printf("'%s' holds '", path);

        attr(f, VF_A1, "vfio_migration/stop_copy_estimate", bad[i]);
        vfmigResetLastError();
        g_assert_cmpint(vfmigNodeDevReadLive(&f->paths, VF_A1, &live), ==, -1);
        g_assert_null(live);
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_DATA_CORRUPT);
        g_assert_true(g_str_has_prefix(vfmigGetLastErrorMessage(), want));
        g_assert_true(g_str_has_suffix(vfmigGetLastErrorMessage(),
                                       "', not a byte count followed by 'residue' or 'whole'"));
    }
}


static void
testNoBus(Fake *f,
          gconstpointer data G_GNUC_UNUSED)
{
    vfmigNodeDevList *list = NULL;
    g_autofree char *bus = g_build_filename(f->sys, "bus", "pci", "devices",
                                            NULL);

    g_assert_cmpint(vfmigNodeDevProbeAll(&f->paths, 0, &list), ==, -1);
    g_assert_null(list);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_NO_DEVICE);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), bus));

    /* an empty bus is fine */
    vfmigTestMkdirs(bus);
    g_assert_cmpint(vfmigNodeDevProbeAll(&f->paths, 0, &list), ==, 0);
    g_assert_cmpuint(list->devices->len, ==, 0);
    vfmigNodeDevListFree(list);
}


static void
testProbeOne(Fake *f,
             gconstpointer data G_GNUC_UNUSED)
{
    vfmigNodeDevPCI *dev = NULL;

    fakeStandard(f);
    g_assert_cmpint(vfmigNodeDevProbeOne(&f->paths, "0000:3B:00.2", 0, &dev),
                    ==, 0);
    g_assert_cmpstr(dev->address, ==, VF_A0);
    g_assert_nonnull(dev->cap);
    g_assert_cmpstr(dev->physfn, ==, PF_A);
    vfmigNodeDevPCIFree(dev);

    /* lspci's short form is domain 0000 */
    g_assert_cmpint(vfmigNodeDevProbeOne(&f->paths, "3b:00.2", 0, &dev), ==, 0);
    g_assert_cmpstr(dev->address, ==, VF_A0);
    g_assert_nonnull(dev->cap);
    vfmigNodeDevPCIFree(dev);

    g_assert_cmpint(vfmigNodeDevProbeOne(&f->paths, "0000:99:00.0", 0, &dev),
                    ==, -1);
    g_assert_null(dev);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_NO_DEVICE);
    g_assert_nonnull(strstr(vfmigGetLastErrorMessage(), "0000:99:00.0"));

    g_assert_cmpint(vfmigNodeDevProbeOne(&f->paths, "../../etc", 0, &dev),
                    ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
    g_assert_cmpint(vfmigNodeDevProbeOne(&f->paths,
                                         "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
                                         0, &dev), ==, -1);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
}


static void
testFeaturesToString(void)
{
    g_autofree char *all = vfmigNodeDevFeaturesToString(0xf);
    g_autofree char *none = vfmigNodeDevFeaturesToString(0);

    g_assert_cmpstr(all, ==, "stop-copy p2p pre-copy multi-load");
    g_assert_cmpstr(none, ==, "");
}


#define ADD(name, fn) \
    g_test_add(name, Fake, NULL, fakeSetup, fn, fakeTeardown)

int
main(int argc,
     char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);

    ADD("/nodedev/enumerate", testEnumerate);
    ADD("/nodedev/vfio-dev-dir", testVFIODevDir);
    ADD("/nodedev/upstream-variant", testUpstreamVariant);
    ADD("/nodedev/bus-junk", testBusJunk);
    ADD("/nodedev/dirty-reason", testDirtyReason);
    ADD("/nodedev/debugfs", testDebugfs);
    ADD("/nodedev/cache/roundtrip", testCacheRoundtrip);
    ADD("/nodedev/cache/fallback", testCacheFallback);
    ADD("/nodedev/cache/corrupt", testCacheCorrupt);
    ADD("/nodedev/cache/unwritable", testCacheUnwritable);
    ADD("/nodedev/cache/untrusted", testCacheUntrusted);
    ADD("/nodedev/qualified/roundtrip", testQualifiedRoundtrip);
    ADD("/nodedev/qualified/corrupt", testQualifiedCorrupt);
    ADD("/nodedev/qualified/unwritable", testQualifiedUnwritable);
    ADD("/nodedev/qualified/probe", testQualifiedProbe);
    ADD("/nodedev/in-use/proc", testInUseProc);
    ADD("/nodedev/vfio-query", testVFIOQuery);
    for (i = 0; i < G_N_ELEMENTS(garbageCases); i++) {
        g_autofree char *name = g_strdup_printf("/nodedev/garbage/%zu", i);

        g_test_add(name, Fake, &garbageCases[i], fakeSetup, testGarbage,
                   fakeTeardown);
    }
    ADD("/nodedev/garbage/live", testGarbageLive);
    ADD("/nodedev/live/stop-copy", testLiveStopCopy);
    ADD("/nodedev/no-bus", testNoBus);
    ADD("/nodedev/probe-one", testProbeOne);
    g_test_add_func("/nodedev/features-to-string", testFeaturesToString);

    return g_test_run();
}
