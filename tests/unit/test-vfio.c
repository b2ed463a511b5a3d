/*
 * test-vfio.c: the VFIO uAPI client without a VFIO device
 *
 * Device opening runs against fake sysfs and /dev trees in a temporary
 * directory: every refusal that happens before the first VFIO ioctl, and
 * the first ioctl itself failing on a stand-in file (ENOTTY), with no fd
 * leaked.  The data fd semantics run on real pipes.  The ioctls against a
 * real device are exercised by the VM suites.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>

#include "vfmigdevicevfio.h"
#include "vfmigerror.h"
#include "vfmigvfio.h"

#define MDEV_UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"

static char *fakeRoot;
static char *sysRoot;


static void
mkdirs(const char *path)
{
    g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
}


static void
touch(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);

    mkdirs(dir);
    g_assert_true(g_file_set_contents(path, "", 0, NULL));
}


static void
linkTo(const char *target, const char *path)
{
    g_assert_cmpint(symlink(target, path), ==, 0);
}


/*
 * A device the way sysfs shows it: the real directory under
 * devices/<parent>/, the bus link to it, and optional driver and
 * iommu_group links.  @group < 0: no iommu_group link.
 */
static void
fakeDevice(const char *bus,
           const char *parent,
           const char *name,
           const char *driver,
           int group)
{
    g_autofree char *devDir = g_build_filename(sysRoot, "devices", parent,
                                               name, NULL);
    g_autofree char *busDir = g_build_filename(sysRoot, "bus", bus,
                                               "devices", NULL);
    g_autofree char *busLink = g_build_filename(busDir, name, NULL);
    g_autofree char *busTarget = g_build_filename("..", "..", "..", "devices",
                                                  parent, name, NULL);

    mkdirs(devDir);
    mkdirs(busDir);
    linkTo(busTarget, busLink);

    if (driver) {
        g_autofree char *drvDir = g_build_filename(sysRoot, "bus", bus,
                                                   "drivers", driver, NULL);
        g_autofree char *link = g_build_filename(devDir, "driver", NULL);
        g_autofree char *target = g_build_filename(sysRoot, "bus", bus,
                                                   "drivers", driver, NULL);

        mkdirs(drvDir);
        linkTo(target, link);
    }
    if (group >= 0) {
        g_autofree char *num = g_strdup_printf("%d", group);
        g_autofree char *grpDir = g_build_filename(sysRoot, "kernel",
                                                   "iommu_groups", num, NULL);
        g_autofree char *link = g_build_filename(devDir, "iommu_group", NULL);

        mkdirs(grpDir);
        linkTo(grpDir, link);
    }
}


/* A /dev with the given files as stand-ins for char devices. */
static char *
fakeDevRoot(const char *label, ...)
{
    char *root = g_build_filename(fakeRoot, label, NULL);
    const char *rel;
    va_list ap;

    mkdirs(root);
    va_start(ap, label);
    while ((rel = va_arg(ap, const char *))) {
        g_autofree char *path = g_build_filename(root, rel, NULL);

        touch(path);
    }
    va_end(ap);
    return root;
}


/* <sysfs>/devices/@devPath/vfio-dev/@name */
static void
fakeVFIODev(const char *devPath, const char *name)
{
    g_autofree char *dir = g_build_filename(sysRoot, "devices", devPath,
                                            "vfio-dev", name, NULL);

    mkdirs(dir);
}


static void
fakeTreeBuild(void)
{
    fakeRoot = g_dir_make_tmp("vfmig-test-vfio-XXXXXX", NULL);
    g_assert_nonnull(fakeRoot);
    sysRoot = g_build_filename(fakeRoot, "sys", NULL);

    fakeDevice("pci", "pci0000:00", "0000:01:00.0", "vfio-pci", 12);
    fakeDevice("pci", "pci0000:00", "0000:02:00.0", NULL, 16);
    fakeDevice("pci", "pci0000:00", "0000:03:00.0", "e1000e", 13);
    fakeDevice("pci", "pci0000:00", "0000:03:00.1", "foo_nic", 17);
    fakeDevice("pci", "pci0000:00", "0000:04:00.0", "vfio-pci", 14);
    fakeDevice("pci", "pci0000:00", "0000:05:00.0", "vfio-pci", -1);
    fakeDevice("pci", "pci0000:00", "0000:06:00.0", "mlx5_vfio_pci", 18);
    /* a VFIO-sounding name, but not a VFIO driver: no vfio-dev/ */
    fakeDevice("pci", "pci0000:00", "0000:07:00.0", "myvfiofake", 19);
    /* a variant driver whose name does not say VFIO */
    fakeDevice("pci", "pci0000:00", "0000:08:00.0", "acme_migpci", 20);
    fakeDevice("mdev", "pci0000:00/0000:00:1f.0", MDEV_UUID, "mtty", 15);

    /* VFIO registers a device, vfio-dev/vfioN, for each device a VFIO
     * driver binds; 0000:04:00.0's is also a cdev in the /dev trees of
     * the cdev tests */
    fakeVFIODev("pci0000:00/0000:04:00.0", "vfio0");
    fakeVFIODev("pci0000:00/0000:01:00.0", "vfio1");
    fakeVFIODev("pci0000:00/0000:05:00.0", "vfio2");
    fakeVFIODev("pci0000:00/0000:06:00.0", "vfio3");
    fakeVFIODev("pci0000:00/0000:08:00.0", "vfio4");
    fakeVFIODev("pci0000:00/0000:00:1f.0/" MDEV_UUID, "vfio5");
}


static int
rmTree(const char *path)
{
    GStatBuf sb;

    if (g_lstat(path, &sb) < 0)
        return -1;
    if (S_ISDIR(sb.st_mode)) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *ent;

        while (dir && (ent = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, ent, NULL);

            rmTree(child);
        }
        return g_rmdir(path);
    }
    return g_unlink(path);
}


static int
countFds(void)
{
    g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
    int n = 0;

    g_assert_nonnull(dir);
    while (g_dir_read_name(dir))
        n++;
    return n;
}


static void
makePipe(int fds[2])
{
    g_assert_true(g_unix_open_pipe(fds, FD_CLOEXEC, NULL));
}


/* The last error has @code and contains every string of the NULL-ended
 * list; it names what it should. */
static void
checkError(int code, ...)
{
    const char *msg = vfmigGetLastErrorMessage();
    const char *needle;
    va_list ap;

    g_test_message("error: %s", msg);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, code);
    va_start(ap, code);
    while ((needle = va_arg(ap, const char *))) {
        if (!strstr(msg, needle))
            g_error("error '%s' does not contain '%s'", msg, needle);
    }
    va_end(ap);
}


/*
 * Opens @name against the fake sysfs and @devRoot, expects a refusal,
 * and that no fd stayed open; through vfmigDeviceVFIOOpen too.
 */
static void
openFails(const char *name, const char *devRoot, int code)
{
    vfmigVFIOPaths paths = { .sysfsRoot = sysRoot, .devRoot = devRoot };
    g_autofree char *firstMsg = NULL;
    int before = countFds();

    vfmigResetLastError();
    g_assert_null(vfmigVFIOOpen(name, &paths));
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, code);
    g_assert_cmpint(countFds(), ==, before);
    firstMsg = g_strdup(vfmigGetLastErrorMessage());

    vfmigResetLastError();
    g_assert_null(vfmigDeviceVFIOOpen(name, &paths));
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, code);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, firstMsg);
    g_assert_cmpint(countFds(), ==, before);
}


static void
testNameValid(void)
{
    static const struct {
        const char *in;
        const char *norm;
        bool mdev;
    } cases[] = {
        { "0000:01:00.1", "0000:01:00.1", false },
        { "0000:AB:1F.7", "0000:ab:1f.7", false },
        { "10000:e0:00.0", "10000:e0:00.0", false },  /* VMD domain */
        { "ffff:ff:1f.0", "ffff:ff:1f.0", false },
        { "3b:00.2", "0000:3b:00.2", false },         /* lspci's short form */
        { MDEV_UUID, MDEV_UUID, true },
        { "83B8F4F2-509F-382F-3C1E-E6BFE0FA1001", MDEV_UUID, true },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *norm = NULL;
        bool mdev = !cases[i].mdev;

        vfmigResetLastError();
        g_assert_cmpint(vfmigVFIOParseName(cases[i].in, &norm, &mdev), ==, 0);
        g_assert_cmpstr(norm, ==, cases[i].norm);
        g_assert_cmpint(mdev, ==, cases[i].mdev);
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);
    }
    g_assert_cmpint(vfmigVFIOParseName("0000:01:00.1", NULL, NULL), ==, 0);
}


static void
testNameInvalid(void)
{
    static const char *const bad[] = {
        "0000:01:00",       /* no function */
        "000:01:00.1",      /* short domain */
        "000000000:01:00.1",/* long domain */
        "0000:01:00.8",     /* function > 7 */
        "0000:01:20.0",     /* device > 0x1f */
        "0000:1:00.1",
        "0000:01:0.1",
        "0000:01:00.1x",
        "0000:01:00.1 ",
        "zzzz:01:00.1",
        "0000-01-00.1",
        "0000:01:00.1/../../..",
        "../../etc",
        "83b8f4f2-509f-382f-3c1e-e6bfe0fa100",      /* short UUID */
        "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001/x",
        "eth0",
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *norm = NULL;

        vfmigResetLastError();
        g_assert_cmpint(vfmigVFIOParseName(bad[i], &norm, NULL), ==, -1);
        g_assert_null(norm);
        checkError(VFMIG_ERR_INVALID_ARG, bad[i], "PCI address", NULL);

        openFails(bad[i], NULL, VFMIG_ERR_INVALID_ARG);
        checkError(VFMIG_ERR_INVALID_ARG, bad[i], "DDDD:BB:SS.F", NULL);
    }

    vfmigResetLastError();
    g_assert_null(vfmigVFIOOpen("", NULL));
    checkError(VFMIG_ERR_INVALID_ARG, "no device given", NULL);
    vfmigResetLastError();
    g_assert_null(vfmigVFIOOpen(NULL, NULL));
    checkError(VFMIG_ERR_INVALID_ARG, "no device given", NULL);
}


static void
testOpenMissing(void)
{
    g_autofree char *dev = fakeDevRoot("dev-missing", "vfio/vfio", NULL);

    openFails("0000:09:00.0", dev, VFMIG_ERR_NO_DEVICE);
    checkError(VFMIG_ERR_NO_DEVICE, "PCI device '0000:09:00.0' does not exist",
               "/bus/pci/devices/0000:09:00.0", NULL);

    openFails("0000:09:00.0", NULL, VFMIG_ERR_NO_DEVICE);

    openFails("11111111-2222-3333-4444-555555555555", dev, VFMIG_ERR_NO_DEVICE);
    checkError(VFMIG_ERR_NO_DEVICE, "mediated device",
               "/bus/mdev/devices/11111111-2222-3333-4444-555555555555",
               NULL);

    /* the real /sys: no such device on any machine */
    vfmigResetLastError();
    g_assert_null(vfmigVFIOOpen("ffff:ff:1f.7", NULL));
    checkError(VFMIG_ERR_NO_DEVICE, VFMIG_SYSFS_ROOT "/bus/pci/devices/ffff:ff:1f.7",
               NULL);
}


static void
testOpenUnbound(void)
{
    g_autofree char *dev = fakeDevRoot("dev-unbound", "vfio/vfio", "vfio/16",
                                       NULL);

    openFails("0000:02:00.0", dev, VFMIG_ERR_OPERATION_INVALID);
    checkError(VFMIG_ERR_OPERATION_INVALID, "'0000:02:00.0'",
               "not bound to any driver", NULL);
}


static void
testOpenNonVFIODriver(void)
{
    /* group devices present, so only vfio-dev/ can tell */
    g_autofree char *dev = fakeDevRoot("dev-nonvfio", "vfio/vfio", "vfio/13",
                                       "vfio/17", "vfio/19", NULL);

    openFails("0000:03:00.0", dev, VFMIG_ERR_OPERATION_INVALID);
    checkError(VFMIG_ERR_OPERATION_INVALID,
               "device '0000:03:00.0' is bound to driver e1000e, which is not a VFIO driver",
               "no vfio-dev/vfioN in '", "/sys/bus/pci/devices/0000:03:00.0'",
               NULL);

    openFails("0000:03:00.1", dev, VFMIG_ERR_OPERATION_INVALID);
    checkError(VFMIG_ERR_OPERATION_INVALID,
               "device '0000:03:00.1' is bound to driver foo_nic, which is not a VFIO driver",
               NULL);

    /* "vfio" in its name does not make a driver a VFIO driver */
    openFails("0000:07:00.0", dev, VFMIG_ERR_OPERATION_INVALID);
    checkError(VFMIG_ERR_OPERATION_INVALID,
               "device '0000:07:00.0' is bound to driver myvfiofake, which is not a VFIO driver",
               "no vfio-dev/vfioN in '", "/sys/bus/pci/devices/0000:07:00.0'",
               NULL);
}


static void
testOpenVFIODriverByVFIODev(void)
{
    g_autofree char *dev = fakeDevRoot("dev-variant", "vfio/vfio", "vfio/20",
                                       NULL);

    /* a VFIO driver whatever its name: the open goes on to the group and
     * its container (a plain file here) */
    openFails("0000:08:00.0", dev, VFMIG_ERR_SYSTEM_ERROR);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "VFIO_GET_API_VERSION",
               "/dev-variant/vfio/vfio", "'0000:08:00.0'", NULL);
}


static void
testOpenNoIOMMUGroup(void)
{
    g_autofree char *dev = fakeDevRoot("dev-nogroup", "vfio/vfio", NULL);

    openFails("0000:05:00.0", dev, VFMIG_ERR_OPERATION_UNSUPPORTED);
    checkError(VFMIG_ERR_OPERATION_UNSUPPORTED, "'0000:05:00.0'",
               "no IOMMU group", "iommu_group", NULL);
}


static void
testOpenNoGroupDevice(void)
{
    g_autofree char *dev = fakeDevRoot("dev-nogroupdev", "vfio/vfio", NULL);

    openFails("0000:06:00.0", dev, VFMIG_ERR_NO_DEVICE);
    checkError(VFMIG_ERR_NO_DEVICE, "'0000:06:00.0'", "mlx5_vfio_pci",
               "/dev-nogroupdev/vfio/18", NULL);
}


static void
testOpenNoContainer(void)
{
    g_autofree char *dev = fakeDevRoot("dev-nocontainer", "vfio/12", "vfio/15",
                                       NULL);
    const vfmigError *err;

    openFails("0000:01:00.0", dev, VFMIG_ERR_SYSTEM_ERROR);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "'0000:01:00.0'",
               "VFIO container", "/dev-nocontainer/vfio/vfio",
               g_strerror(ENOENT), NULL);
    err = vfmigGetLastError();
    g_assert_cmpint(err->errnum, ==, ENOENT);

    /* the mdev resolves through bus/mdev and its own group */
    openFails(MDEV_UUID, dev, VFMIG_ERR_SYSTEM_ERROR);
    checkError(VFMIG_ERR_SYSTEM_ERROR, MDEV_UUID,
               "/dev-nocontainer/vfio/vfio", NULL);
}


static void
testOpenContainerNotVFIO(void)
{
    g_autofree char *dev = fakeDevRoot("dev-filecontainer", "vfio/vfio",
                                       "vfio/12", "vfio/15", NULL);

    openFails("0000:01:00.0", dev, VFMIG_ERR_SYSTEM_ERROR);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "VFIO_GET_API_VERSION",
               "/dev-filecontainer/vfio/vfio", "'0000:01:00.0'",
               g_strerror(ENOTTY), NULL);
    g_assert_cmpint(vfmigGetLastError()->errnum, ==, ENOTTY);

    openFails(MDEV_UUID, dev, VFMIG_ERR_SYSTEM_ERROR);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "VFIO_GET_API_VERSION", MDEV_UUID, NULL);
}


static void
testOpenCdevPreferred(void)
{
    g_autofree char *dev = fakeDevRoot("dev-cdev", "iommu", "vfio/devices/vfio0",
                                       "vfio/vfio", "vfio/14", NULL);

    /* device cdev and iommufd open, then the bind ioctl fails: the group
     * and container were never looked at */
    openFails("0000:04:00.0", dev, VFMIG_ERR_SYSTEM_ERROR);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "VFIO_DEVICE_BIND_IOMMUFD",
               "/dev-cdev/vfio/devices/vfio0", "/dev-cdev/iommu",
               "'0000:04:00.0'", g_strerror(ENOTTY), NULL);

    /* a device without vfio-dev/ keeps using its group */
    openFails("0000:01:00.0", dev, VFMIG_ERR_NO_DEVICE);
    checkError(VFMIG_ERR_NO_DEVICE, "/dev-cdev/vfio/12", NULL);
}


static void
testOpenCdevFallback(void)
{
    g_autofree char *noIommu = fakeDevRoot("dev-cdev-noiommu",
                                           "vfio/devices/vfio0",
                                           "vfio/vfio", "vfio/14", NULL);
    g_autofree char *noCdev = fakeDevRoot("dev-cdev-nocdev", "iommu",
                                          "vfio/vfio", "vfio/14", NULL);

    /* no /dev/iommu: the group path, which fails at the container */
    openFails("0000:04:00.0", noIommu, VFMIG_ERR_SYSTEM_ERROR);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "VFIO_GET_API_VERSION",
               "/dev-cdev-noiommu/vfio/vfio", NULL);

    /* no /dev/vfio/devices/vfio0 (no udev): the group path too */
    openFails("0000:04:00.0", noCdev, VFMIG_ERR_SYSTEM_ERROR);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "VFIO_GET_API_VERSION",
               "/dev-cdev-nocdev/vfio/vfio", NULL);
}


static void
testAdoptedNotVFIO(void)
{
    int before = countFds();
    int fds[2];
    g_autoptr(vfmigVFIO) vfio = NULL;
    uint64_t u64 = 0xdead;
    uint32_t u32 = 0xdead;
    int dataFd = 42;

    makePipe(fds);
    close(fds[1]);
    vfio = vfmigVFIOAdoptFD("0000:01:00.0", "vfio-pci", fds[0]);
    g_assert_cmpstr(vfmigVFIOGetName(vfio), ==, "0000:01:00.0");
    g_assert_cmpstr(vfmigVFIOGetDriver(vfio), ==, "vfio-pci");
    g_assert_cmpint(vfmigVFIOGetDeviceFD(vfio), ==, fds[0]);
    g_assert_cmpint(vfmigVFIOGetGroup(vfio), ==, -1);

    /* ENOTTY from the feature ioctl: a driver without migration */
    vfmigResetLastError();
    g_assert_cmpint(vfmigVFIOGetMigrationFlags(vfio, &u64), ==, -1);
    checkError(VFMIG_ERR_OPERATION_UNSUPPORTED,
               "device '0000:01:00.0' does not support VFIO migration (its driver vfio-pci has no migration support)",
               NULL);
    g_assert_cmpuint(u64, ==, 0xdead);

    vfmigResetLastError();
    g_assert_cmpint(vfmigVFIOGetState(vfio, &u32), ==, -1);
    checkError(VFMIG_ERR_OPERATION_UNSUPPORTED, "'0000:01:00.0'", "vfio-pci",
               NULL);
    g_assert_cmpuint(u32, ==, 0xdead);

    vfmigResetLastError();
    g_assert_cmpint(vfmigVFIOSetState(vfio, VFIO_DEVICE_STATE_STOP_COPY,
                                      &dataFd), ==, -1);
    g_assert_cmpint(dataFd, ==, -1);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "'0000:01:00.0'", "STOP_COPY",
               "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE", g_strerror(ENOTTY),
               NULL);

    vfmigResetLastError();
    /* no MIG_DATA_SIZE: the size is unknown, which is no error */
    g_assert_cmpint(vfmigVFIOGetStopCopySize(vfio, &u64), ==, 0);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_OK);

    vfmigResetLastError();
    g_assert_cmpint(vfmigVFIOReset(vfio), ==, -1);
    checkError(VFMIG_ERR_OPERATION_UNSUPPORTED, "'0000:01:00.0'",
               "VFIO_DEVICE_RESET", NULL);

    g_clear_pointer(&vfio, vfmigVFIOClose);
    g_assert_cmpint(countFds(), ==, before);
}


static void
testClassify(void)
{
    static const int errnos[] = {
        0, EINTR, EAGAIN, EWOULDBLOCK, ENOMSG, EIO, EBADF, EINVAL, ENODEV,
        EFAULT, ENOSPC,
    };
    static const ssize_t counts[] = { 1, 4096, SSIZE_MAX };
    size_t i, j;
    int pre;

    for (pre = 0; pre <= 1; pre++) {
        bool inPrecopy = pre;
        vfmigDataStatus st;

        /* bytes: data, whatever errno says */
        for (i = 0; i < G_N_ELEMENTS(counts); i++) {
            for (j = 0; j < G_N_ELEMENTS(errnos); j++) {
                st = 99;
                g_assert_cmpint(vfmigVFIODataClassify(counts[i], errnos[j],
                                                      inPrecopy, &st), ==, 0);
                g_assert_cmpint(st, ==, VFMIG_DATA_OK);
            }
        }

        /* 0: temporary end in PRE_COPY (mtty, hisi, qat), else the end */
        st = 99;
        g_assert_cmpint(vfmigVFIODataClassify(0, 0, inPrecopy, &st), ==, 0);
        g_assert_cmpint(st, ==, inPrecopy ? VFMIG_DATA_AGAIN : VFMIG_DATA_END);

        for (j = 0; j < G_N_ELEMENTS(errnos); j++) {
            int err = errnos[j];
            int want;
            vfmigDataStatus wantSt = 99;

            if (err == EINTR) {
                want = 1;
            } else if (err == EAGAIN || err == EWOULDBLOCK) {
                want = 0;
                wantSt = VFMIG_DATA_AGAIN;
            } else if (err == ENOMSG && inPrecopy) {
                want = 0;
                wantSt = VFMIG_DATA_AGAIN;
            } else {
                /* ENOMSG in STOP_COPY is forbidden by the uAPI; a -1
                 * without errno is nonsense */
                want = -1;
            }

            st = 99;
            g_assert_cmpint(vfmigVFIODataClassify(-1, err, inPrecopy, &st),
                            ==, want);
            g_assert_cmpint(st, ==, wantSt);
        }
    }
}


static void
testDataRead(void)
{
    int fds[2];
    char buf[16];
    vfmigDataStatus st;
    int pre;

    for (pre = 0; pre <= 1; pre++) {
        makePipe(fds);
        g_assert_cmpint(write(fds[1], "state", 5), ==, 5);

        st = 99;
        g_assert_cmpint(vfmigVFIODataRead("dev", fds[0], buf, sizeof(buf),
                                          pre, &st), ==, 5);
        g_assert_cmpint(st, ==, VFMIG_DATA_OK);
        g_assert_cmpmem(buf, 5, "state", 5);

        /* a short buffer gets what fits, the rest stays */
        g_assert_cmpint(write(fds[1], "abcdef", 6), ==, 6);
        g_assert_cmpint(vfmigVFIODataRead("dev", fds[0], buf, 4, pre, &st),
                        ==, 4);
        g_assert_cmpmem(buf, 4, "abcd", 4);
        g_assert_cmpint(vfmigVFIODataRead("dev", fds[0], buf, sizeof(buf),
                                          pre, &st), ==, 2);
        g_assert_cmpmem(buf, 2, "ef", 2);

        /* non-blocking and empty: EAGAIN, a temporary end */
        g_assert_cmpint(fcntl(fds[0], F_SETFL, O_NONBLOCK), ==, 0);
        st = 99;
        g_assert_cmpint(vfmigVFIODataRead("dev", fds[0], buf, sizeof(buf),
                                          pre, &st), ==, 0);
        g_assert_cmpint(st, ==, VFMIG_DATA_AGAIN);

        /* read() of 0: AGAIN in PRE_COPY, END in STOP_COPY */
        close(fds[1]);
        st = 99;
        g_assert_cmpint(vfmigVFIODataRead("dev", fds[0], buf, sizeof(buf),
                                          pre, &st), ==, 0);
        g_assert_cmpint(st, ==, pre ? VFMIG_DATA_AGAIN : VFMIG_DATA_END);
        close(fds[0]);
    }

    /* a real error names the device and the fd */
    makePipe(fds);
    vfmigResetLastError();
    g_assert_cmpint(vfmigVFIODataRead("0000:01:00.1", fds[1], buf, sizeof(buf),
                                      false, &st), ==, -1);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "'0000:01:00.1'", "data fd",
               g_strerror(EBADF), NULL);
    close(fds[0]);
    close(fds[1]);
}


static void
testDataWrite(void)
{
    g_autofree char *big = g_malloc0(4 * 1024 * 1024);
    char buf[8];
    int fds[2];
    ssize_t n;

    makePipe(fds);
    g_assert_cmpint(vfmigVFIODataWrite("dev", fds[1], "state", 5), ==, 5);
    g_assert_cmpint(read(fds[0], buf, sizeof(buf)), ==, 5);
    g_assert_cmpmem(buf, 5, "state", 5);

    /* a full non-blocking pipe takes part: the short count comes back */
    g_assert_cmpint(fcntl(fds[1], F_SETFL, O_NONBLOCK), ==, 0);
    n = vfmigVFIODataWrite("dev", fds[1], big, 4 * 1024 * 1024);
    g_assert_cmpint(n, >, 0);
    g_assert_cmpint(n, <, 4 * 1024 * 1024);

    /* ... and then nothing: EAGAIN is an error for a writer */
    vfmigResetLastError();
    g_assert_cmpint(vfmigVFIODataWrite("0000:01:00.1", fds[1], big, 4096), ==, -1);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "'0000:01:00.1'", "data fd", NULL);

    /* the reader is gone (SIGPIPE is ignored) */
    close(fds[0]);
    vfmigResetLastError();
    g_assert_cmpint(vfmigVFIODataWrite("0000:01:00.1", fds[1], "x", 1), ==, -1);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "'0000:01:00.1'",
               g_strerror(EPIPE), NULL);
    close(fds[1]);
}


static void
testDataWait(void)
{
    int fds[2];
    gint64 start;
    char c;

    makePipe(fds);

    /* nothing yet: times out, after about the time asked */
    start = g_get_monotonic_time();
    g_assert_cmpint(vfmigVFIODataWait("dev", fds[0], 30), ==, 0);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, 25 * 1000);
    g_assert_cmpint(vfmigVFIODataWait("dev", fds[0], 0), ==, 0);

    /* data */
    g_assert_cmpint(write(fds[1], "x", 1), ==, 1);
    g_assert_cmpint(vfmigVFIODataWait("dev", fds[0], -1), ==, 1);
    g_assert_cmpint(vfmigVFIODataWait("dev", fds[0], 0), ==, 1);
    g_assert_cmpint(read(fds[0], &c, 1), ==, 1);

    /* end of stream: read() will not block either */
    close(fds[1]);
    g_assert_cmpint(vfmigVFIODataWait("dev", fds[0], -1), ==, 1);

    /* a closed fd */
    close(fds[0]);
    vfmigResetLastError();
    g_assert_cmpint(vfmigVFIODataWait("0000:01:00.1", fds[0], 10), ==, -1);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "'0000:01:00.1'", "data fd",
               g_strerror(EBADF), NULL);

    /* no stream at all */
    vfmigResetLastError();
    g_assert_cmpint(vfmigVFIODataWait("0000:01:00.1", -1, 10), ==, -1);
    checkError(VFMIG_ERR_OPERATION_INVALID, "'0000:01:00.1'", NULL);
}


static void
testPrecopyInfoNotVFIO(void)
{
    uint64_t initial = 7, dirty = 7;
    int fds[2];

    makePipe(fds);
    vfmigResetLastError();
    g_assert_cmpint(vfmigVFIOPrecopyInfo("0000:01:00.1", fds[0],
                                         &initial, &dirty), ==, -1);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "'0000:01:00.1'",
               "VFIO_MIG_GET_PRECOPY_INFO", g_strerror(ENOTTY), NULL);
    g_assert_cmpint(vfmigGetLastError()->errnum, ==, ENOTTY);
    g_assert_cmpuint(initial, ==, 7);
    g_assert_cmpuint(dirty, ==, 7);

    /* without a name the message still says what failed */
    vfmigResetLastError();
    g_assert_cmpint(vfmigVFIOPrecopyInfo(NULL, fds[0], &initial, &dirty), ==, -1);
    checkError(VFMIG_ERR_SYSTEM_ERROR, "VFIO_MIG_GET_PRECOPY_INFO", NULL);
    close(fds[0]);
    close(fds[1]);
}


int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);

    fakeTreeBuild();

    g_test_add_func("/vfio/name/valid", testNameValid);
    g_test_add_func("/vfio/name/invalid", testNameInvalid);
    g_test_add_func("/vfio/open/missing", testOpenMissing);
    g_test_add_func("/vfio/open/unbound", testOpenUnbound);
    g_test_add_func("/vfio/open/non-vfio-driver", testOpenNonVFIODriver);
    g_test_add_func("/vfio/open/vfio-driver-by-vfio-dev", testOpenVFIODriverByVFIODev);
    g_test_add_func("/vfio/open/no-iommu-group", testOpenNoIOMMUGroup);
    g_test_add_func("/vfio/open/no-group-device", testOpenNoGroupDevice);
    g_test_add_func("/vfio/open/no-container", testOpenNoContainer);
    g_test_add_func("/vfio/open/container-not-vfio", testOpenContainerNotVFIO);
    g_test_add_func("/vfio/open/cdev-preferred", testOpenCdevPreferred);
    g_test_add_func("/vfio/open/cdev-fallback", testOpenCdevFallback);
    g_test_add_func("/vfio/ioctl/not-vfio", testAdoptedNotVFIO);
    g_test_add_func("/vfio/data/classify", testClassify);
    g_test_add_func("/vfio/data/read", testDataRead);
    g_test_add_func("/vfio/data/write", testDataWrite);
    g_test_add_func("/vfio/data/wait", testDataWait);
    g_test_add_func("/vfio/data/precopy-info", testPrecopyInfoNotVFIO);

    ret = g_test_run();

    rmTree(fakeRoot);
    g_free(sysRoot);
    g_free(fakeRoot);
    return ret;
}
