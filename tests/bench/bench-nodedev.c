/*
 * bench-nodedev.c: how long enumerating 1,000 VFs takes
 *
 * Builds a fake sysfs tree of --vfs VFs (default 1,000) on --pfs PFs
 * (default 8), every VF bound to mlx5_vfio_pci with our vfio_migration/
 * ABI files (one in ten in PRE_COPY, so the live estimates are read too;
 * half without dma-logging, so the dirty-tracking reason is built), and
 * times vfmigNodeDevProbeAll() over it: best and median of --runs runs,
 * with the cache read and written (the default), without writing it, and
 * without it at all.  With --virsh it also times
 * `virsh -c URI nodedev-list --cap pci` on this machine as a reference,
 * or says why it cannot.  See docs/benchmarks.rst.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "vfmignodedevprobe.h"

static int optVFs = 1000;
static int optPFs = 8;
static int optRuns = 10;
static double optTargetMs = 100.0;
static gboolean optCheck;
static gboolean optVirsh;
static gboolean optKeep;
static char *optURI;
static char *optDir;

static GOptionEntry entries[] = {
    { "vfs", 0, 0, G_OPTION_ARG_INT, &optVFs, "VFs in the fake tree (1000)", "N" },
    { "pfs", 0, 0, G_OPTION_ARG_INT, &optPFs, "PFs they hang off (8)", "N" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &optRuns, "runs per measurement; the best counts (10)", "N" },
    { "target-ms", 0, 0, G_OPTION_ARG_DOUBLE, &optTargetMs, "target for the default probe (100)", "MS" },
    { "check", 0, 0, G_OPTION_ARG_NONE, &optCheck, "exit 1 when the best default probe misses the target", NULL },
    { "virsh", 0, 0, G_OPTION_ARG_NONE, &optVirsh, "also time `virsh nodedev-list --cap pci`", NULL },
    { "uri", 0, 0, G_OPTION_ARG_STRING, &optURI, "libvirt URI for --virsh (qemu:///system)", "URI" },
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &optDir, "build the tree under DIR (a new temporary directory)", "DIR" },
    { "keep", 0, 0, G_OPTION_ARG_NONE, &optKeep, "keep the tree afterwards", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
};


static void
die(const char *what,
    const char *path)
{
    g_printerr("bench-nodedev: %s %s: %s\n", what, path, g_strerror(errno));
    exit(2);
}


static void
mkdirs(const char *path)
{
    if (g_mkdir_with_parents(path, 0755) < 0)
        die("cannot create", path);
}


static void
put(const char *dir,
    const char *name,
    const char *contents)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

    if (!g_file_set_contents(path, contents, -1, NULL))
        die("cannot write", path);
}


static void
linkTo(const char *target,
       const char *dir,
       const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

    if (symlink(target, path) < 0)
        die("cannot link", path);
}


static void
rmTree(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *ent;

    if (d) {
        while ((ent = g_dir_read_name(d))) {
            g_autofree char *child = g_build_filename(path, ent, NULL);

            if (g_file_test(child, G_FILE_TEST_IS_SYMLINK) ||
                !g_file_test(child, G_FILE_TEST_IS_DIR))
                g_unlink(child);
            else
                rmTree(child);
        }
    }
    g_rmdir(path);
}


/* A PCI function under devices/pci0000:BB/ with its bus link. */
static char *
fakeFunction(const char *sys,
             const char *addr,
             const char *device,
             const char *driver,
             int group)
{
    g_autofree char *bus = g_strndup(addr + 5, 2);
    g_autofree char *parent = g_strdup_printf("pci0000:%s", bus);
    g_autofree char *busDir = g_build_filename(sys, "bus", "pci", "devices", NULL);
    g_autofree char *drv = g_build_filename(sys, "bus", "pci", "drivers",
                                            driver, NULL);
    g_autofree char *num = g_strdup_printf("%d", group);
    g_autofree char *grp = g_build_filename(sys, "kernel", "iommu_groups",
                                            num, NULL);
    char *dir = g_build_filename(sys, "devices", parent, addr, NULL);

    mkdirs(dir);
    mkdirs(busDir);
    mkdirs(drv);
    mkdirs(grp);
    linkTo(dir, busDir, addr);
    put(dir, "vendor", "0x15b3\n");
    put(dir, "device", device);
    put(dir, "enable", "0\n");
    linkTo(drv, dir, "driver");
    linkTo(grp, dir, "iommu_group");
    if (strstr(driver, "vfio")) {
        g_autofree char *vfioDev = g_build_filename(dir, "vfio-dev", NULL);

        mkdirs(vfioDev);
    }
    return dir;
}


static void
buildTree(const char *root)
{
    g_autofree char *sys = g_build_filename(root, "sys", NULL);
    int perPF = (optVFs + optPFs - 1) / optPFs;
    int vf = 0;
    int pf;

    put(root, "config",
        "# Linux/x86 6.12.95 Kernel Configuration\n# CONFIG_IOMMUFD is not set\n");

    for (pf = 0; pf < optPFs; pf++) {
        g_autofree char *pfAddr = g_strdup_printf("0000:%02x:00.0", 0x10 + pf);
        g_autofree char *pfDir = fakeFunction(sys, pfAddr, "0x101d\n",
                                              "mlx5_core", 1000 + pf);
        int i;

        for (i = 0; i < perPF && vf < optVFs; i++, vf++) {
            g_autofree char *addr = g_strdup_printf("0000:%02x:%02x.%d",
                                                    0x10 + pf, 1 + i / 8, i % 8);
            g_autofree char *dir = fakeFunction(sys, addr, "0x101e\n",
                                                "mlx5_vfio_pci", vf);
            g_autofree char *mig = g_build_filename(dir, "vfio_migration", NULL);
            g_autofree char *virtfn = g_strdup_printf("virtfn%d", i);
            bool precopy = vf % 10 == 0;

            linkTo(pfDir, dir, "physfn");
            linkTo(dir, pfDir, virtfn);
            mkdirs(mig);
            put(mig, "features", vf % 2 ? "stop-copy p2p pre-copy dma-logging\n" :
                "stop-copy p2p pre-copy\n");
            put(mig, "precopy", "on\n");
            put(mig, "multi_load", "1\n");
            put(mig, "state", precopy ? "PRE_COPY\n" : "RUNNING\n");
            put(mig, "initial_bytes", precopy ? "1048576\n" : "0\n");
            put(mig, "dirty_bytes", precopy ? "4096\n" : "0\n");
            put(mig, "stop_copy_bytes", "2097152\n");
            put(mig, "stop_latency_us", "0\n");
            put(mig, "resume_latency_us", "0\n");
            put(mig, "stream_version", "1\n");
            put(mig, "firmware", "28.41.1000\n");
        }
        {
            g_autofree char *n = g_strdup_printf("%d\n", i);

            put(pfDir, "sriov_totalvfs", n);
            put(pfDir, "sriov_numvfs", n);
        }
    }
}


static int
cmpDouble(const void *a,
          const void *b)
{
    double x = *(const double *) a;
    double y = *(const double *) b;

    return x < y ? -1 : x > y;
}


typedef struct {
    double best;
    double median;
} Timing;


static Timing
summarize(double *ms,
          int n)
{
    Timing t;

    qsort(ms, n, sizeof(*ms), cmpDouble);
    t.best = ms[0];
    t.median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    return t;
}


static Timing
timeProbe(const vfmigNodeDevProbePaths *paths,
          unsigned int flags)
{
    g_autofree double *ms = g_new0(double, optRuns);
    int r;

    for (r = 0; r < optRuns; r++) {
        g_autoptr(vfmigNodeDevList) list = NULL;
        gint64 start = g_get_monotonic_time();
        size_t caps = 0;
        size_t i;

        if (vfmigNodeDevProbeAll(paths, flags, &list) < 0) {
            g_printerr("bench-nodedev: probe failed: %s\n",
                       vfmigGetLastErrorMessage());
            exit(2);
        }
        ms[r] = (g_get_monotonic_time() - start) / 1000.0;

        for (i = 0; i < list->devices->len; i++) {
            vfmigNodeDevPCI *dev = g_ptr_array_index(list->devices, i);

            if (dev->cap)
                caps++;
        }
        if (list->nerrors != 0 || caps != (size_t) optVFs ||
            list->devices->len != (size_t) (optVFs + optPFs)) {
            g_printerr("bench-nodedev: wrong result: %u devices, %zu capabilities, %zu errors\n",
                       list->devices->len, caps, list->nerrors);
            exit(2);
        }
    }
    return summarize(ms, optRuns);
}


/* `virsh nodedev-list --cap pci`: 0, or -1 having said why not. */
static int
timeVirsh(Timing *t,
          unsigned int *count)
{
    g_autofree char *virsh = g_find_program_in_path("virsh");
    g_autofree double *ms = g_new0(double, optRuns);
    const char *uri = optURI ? optURI : "qemu:///system";
    int r;

    if (!virsh) {
        g_print("virsh: not installed; no reference measurement\n");
        return -1;
    }

    for (r = 0; r < optRuns; r++) {
        const char *argv[] = { virsh, "-q", "-c", uri, "nodedev-list",
                               "--cap", "pci", NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(GError) gerr = NULL;
        gint64 start = g_get_monotonic_time();
        int status;

        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT,
                          NULL, NULL, &out, &err, &status, &gerr)) {
            g_print("virsh: cannot run %s: %s\n", virsh, gerr->message);
            return -1;
        }
        ms[r] = (g_get_monotonic_time() - start) / 1000.0;
        if (!g_spawn_check_wait_status(status, NULL)) {
            g_strstrip(err);
            g_print("virsh: `virsh -c %s nodedev-list --cap pci` failed (is libvirtd running?): %s\n",
                    uri, err);
            return -1;
        }
        {
            g_auto(GStrv) lines = g_strsplit(g_strstrip(out), "\n", -1);

            *count = *out ? g_strv_length(lines) : 0;
        }
    }
    *t = summarize(ms, optRuns);
    return 0;
}


int
main(int argc,
     char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("- time the node-device probe");
    g_autoptr(GError) gerr = NULL;
    g_autofree char *root = NULL;
    g_autofree char *sys = NULL;
    g_autofree char *cache = NULL;
    g_autofree char *kconfig = NULL;
    g_autofree char *empty = NULL;
    vfmigNodeDevProbePaths paths = { 0 };
    Timing cached;
    Timing noWrite;
    Timing noCache;
    Timing virshT;
    unsigned int virshCount = 0;
    gint64 start;
    int ret = 0;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
        g_printerr("bench-nodedev: %s\n", gerr->message);
        return 2;
    }
    if (optVFs < 1 || optPFs < 1 || optRuns < 1 ||
        (optVFs + optPFs - 1) / optPFs > 8 * 31) {
        g_printerr("bench-nodedev: need --vfs, --pfs, --runs >= 1 and at most 248 VFs a PF\n");
        return 2;
    }

    if (optDir) {
        root = g_build_filename(optDir, "vfmig-bench-XXXXXX", NULL);
        if (!g_mkdtemp(root))
            die("cannot create", root);
    } else if (!(root = g_dir_make_tmp("vfmig-bench-XXXXXX", &gerr))) {
        g_printerr("bench-nodedev: %s\n", gerr->message);
        return 2;
    }
    sys = g_build_filename(root, "sys", NULL);
    cache = g_build_filename(root, "cache", NULL);
    kconfig = g_build_filename(root, "config", NULL);
    empty = g_build_filename(root, "empty", NULL);
    mkdirs(empty);

    start = g_get_monotonic_time();
    buildTree(root);
    g_print("tree: %d VFs on %d PFs, mlx5_vfio_pci with vfio_migration/, under %s (built in %.0f ms)\n",
            optVFs, optPFs, root, (g_get_monotonic_time() - start) / 1000.0);

    paths.sysfsRoot = sys;
    paths.debugfsRoot = empty;    /* no vfio/ there, as on Debian */
    paths.devRoot = empty;
    paths.procRoot = empty;
    paths.cacheDir = cache;
    paths.kernelConfig = kconfig;

    /* the first run writes the cache; those after it compare and keep it */
    cached = timeProbe(&paths, 0);
    noWrite = timeProbe(&paths, VFMIG_NODEDEV_PROBE_NO_CACHE_WRITE);
    noCache = timeProbe(&paths, VFMIG_NODEDEV_PROBE_NO_CACHE);

    g_print("probe, cache kept up to date:  best %7.2f ms  median %7.2f ms  (%d runs, %d devices)\n",
            cached.best, cached.median, optRuns, optVFs + optPFs);
    g_print("probe, cache read-only:        best %7.2f ms  median %7.2f ms\n",
            noWrite.best, noWrite.median);
    g_print("probe, no cache:               best %7.2f ms  median %7.2f ms\n",
            noCache.best, noCache.median);
    g_print("target: %.0f ms for the default probe: %s\n", optTargetMs,
            cached.best <= optTargetMs ? "met" : "MISSED");
    if (optCheck && cached.best > optTargetMs)
        ret = 1;

    if (optVirsh) {
        if (timeVirsh(&virshT, &virshCount) == 0) {
            g_print("reference, virsh -c %s nodedev-list --cap pci (%u devices of this host):  best %7.2f ms  median %7.2f ms\n",
                    optURI ? optURI : "qemu:///system", virshCount,
                    virshT.best, virshT.median);
        }
    } else {
        g_print("virsh: not timed (pass --virsh)\n");
    }

    if (optKeep)
        g_print("kept %s\n", root);
    else
        rmTree(root);
    return ret;
}
