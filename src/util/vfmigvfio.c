/*
 * vfmigvfio.c: a userspace client of the VFIO device uAPI
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfmigvfio.h"
#include "vfmigerror.h"
#include "vfmigfsm.h"
#include "vfmigi18n.h"
#include "vfmiglog.h"
#include "vfmigpci.h"
#include "vfmigsysfs.h"
#include "vfio_mig_uapi.h"

#if defined(__has_include)
# if __has_include(<linux/iommufd.h>)
#  include <linux/iommufd.h>
# endif
#endif

/*
 * The device cdev and iommufd uAPI (Linux >= 6.6 for the vfio part, 6.2
 * for iommufd); Debian 12's linux-libc-dev (6.1) has neither.  Values
 * from the 6.12 uAPI headers.
 */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
    __u32 argsz;
    __u32 flags;
    __s32 iommufd;
    __u32 out_devid;
};
# define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#endif

#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
struct vfio_device_attach_iommufd_pt {
    __u32 argsz;
    __u32 flags;
    __u32 pt_id;
};
# define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

#ifndef IOMMU_IOAS_ALLOC
struct iommu_ioas_alloc {
    __u32 size;
    __u32 flags;
    __u32 out_ioas_id;
};
# define VFMIG_IOMMUFD_TYPE ';'
# define VFMIG_IOMMUFD_CMD_IOAS_ALLOC 0x81
# define IOMMU_IOAS_ALLOC _IO(VFMIG_IOMMUFD_TYPE, VFMIG_IOMMUFD_CMD_IOAS_ALLOC)
#endif

/* Linux's value; <poll.h> names it only with _GNU_SOURCE.  mlx5's data fd
 * reports an error with it alone. */
#ifndef POLLRDHUP
# define POLLRDHUP 0x2000
#endif

struct _vfmigVFIO {
    char *name;         /* normalized PCI address or mdev UUID */
    char *driver;       /* bound driver, or NULL when adopted blind */
    vfmigVFIOAccess access;
    int group;          /* IOMMU group number, -1 on the cdev path */
    int containerFd;    /* group path */
    int groupFd;        /* group path */
    int iommuFd;        /* cdev path */
    int deviceFd;
};


/*
 * The debug line of an ioctl on @fd of device @dev that returned @rc
 * (errno @err when negative): the request, its argument as @fmt
 * describes it, the result.  What @fmt puts after "->" is what the
 * kernel answered, left out when the ioctl failed.
 */
static void G_GNUC_PRINTF(7, 8)
vfmigVFIOTraceIoctl(const char *func,
                    const char *dev,
                    int fd,
                    const char *request,
                    int rc,
                    int err,
                    const char *fmt,
                    ...)
{
    g_autofree char *arg = NULL;
    va_list ap;

    va_start(ap, fmt);
    arg = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    if (rc < 0) {
        char *answer = strstr(arg, "->");

        if (answer) {
            while (answer > arg && answer[-1] == ' ')
                answer--;
            *answer = '\0';
        }
        if (!*arg) {
            g_free(arg);
            arg = g_strdup("-");
        }
        vfmigLogDebug(func, "device %s: ioctl(fd %d, %s, %s) = %d, errno %d (%s)",
                      dev ? dev : "-", fd, request, arg, rc, err, g_strerror(err));
    } else {
        vfmigLogDebug(func, "device %s: ioctl(fd %d, %s, %s) = %d",
                      dev ? dev : "-", fd, request, arg, rc);
    }
}

/* Logs the ioctl just made (see vfmigVFIOTraceIoctl); keeps errno. */
#define VFMIG_VFIO_TRACE(dev, fd, request, rc, ...) \
    do { \
        int vfmigTraceErrno = errno; \
        if (vfmigLogDebugEnabled()) \
            vfmigVFIOTraceIoctl(__func__, dev, fd, request, rc, \
                                vfmigTraceErrno, __VA_ARGS__); \
        errno = vfmigTraceErrno; \
    } while (0)

static void
vfmigVFIOForceClose(int *fd)
{
    int saved = errno;

    if (*fd >= 0)
        close(*fd);
    *fd = -1;
    errno = saved;
}


int
vfmigVFIOParseName(const char *name,
                   char **normalized,
                   bool *isMdev)
{
    vfmigPCIAddress pci;
    bool mdev;

    if (!name || !*name) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG, "%s",
                         _("no device given: expected a PCI address (DDDD:BB:DD.F) or a mediated device UUID"));
        return -1;
    }

    if (vfmigPCIAddressIsValid(name, 0, &pci)) {
        mdev = false;
    } else if (g_uuid_string_is_valid(name)) {
        mdev = true;
    } else if (strchr(name, ':')) {
        /* meant as a PCI address: say what is wrong with it */
        return vfmigPCIAddressParse(name, 0, &pci);
    } else {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("'%1$s' is neither a PCI address (DDDD:BB:SS.F such as 0000:3b:00.2, or BB:SS.F such as 3b:00.2) nor a mediated device UUID"),
                         name);
        return -1;
    }

    if (normalized)
        *normalized = mdev ? g_ascii_strdown(name, -1) : vfmigPCIAddressFormat(&pci);
    if (isMdev)
        *isMdev = mdev;
    return 0;
}


vfmigVFIO *
vfmigVFIOAdoptFD(const char *name,
                 const char *driver,
                 int deviceFd)
{
    vfmigVFIO *vfio = g_new0(vfmigVFIO, 1);

    vfio->name = g_strdup(name);
    vfio->driver = g_strdup(driver);
    vfio->access = VFMIG_VFIO_ACCESS_GROUP;
    vfio->group = -1;
    vfio->containerFd = -1;
    vfio->groupFd = -1;
    vfio->iommuFd = -1;
    vfio->deviceFd = deviceFd;
    return vfio;
}


void
vfmigVFIOClose(vfmigVFIO *vfio)
{
    if (!vfio)
        return;
    /* the device first: it holds the group, the group the container */
    vfmigVFIOForceClose(&vfio->deviceFd);
    vfmigVFIOForceClose(&vfio->groupFd);
    vfmigVFIOForceClose(&vfio->containerFd);
    vfmigVFIOForceClose(&vfio->iommuFd);
    g_free(vfio->name);
    g_free(vfio->driver);
    g_free(vfio);
}


/*
 * The name "vfioN" of the VFIO device that VFIO registered for the device
 * at @sysfsDev, from its vfio-dev/ directory.  Every VFIO driver (vfio-pci,
 * the variant drivers, mdev drivers) registers one (Linux >= 6.1), whether
 * or not the kernel also offers it as the cdev /dev/vfio/devices/vfioN;
 * no other driver does.  Returns 1 and sets *@name, 0 when there is none,
 * -1 with an error when the directory cannot be read.
 */
static int
vfmigVFIOFindVFIODev(const char *sysfsDev,
                     const char *devName,
                     char **name)
{
    g_autofree char *dir = g_build_filename(sysfsDev, "vfio-dev", NULL);
    struct dirent *ent;
    DIR *d;

    *name = NULL;
    if (!(d = opendir(dir))) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        vfmigReportSystemError(errno, _("cannot read '%1$s' of device '%2$s'"),
                               dir, devName);
        return -1;
    }
    while ((ent = readdir(d))) {
        const char *n = ent->d_name;

        if (g_str_has_prefix(n, "vfio") && n[4] &&
            strspn(n + 4, "0123456789") == strlen(n + 4)) {
            *name = g_strdup(n);
            break;
        }
    }
    closedir(d);
    return *name ? 1 : 0;
}


static int
vfmigVFIOOpenCdev(vfmigVFIO *vfio,
                  const char *cdevPath,
                  const char *iommuPath)
{
    struct vfio_device_bind_iommufd bind = { 0 };
    struct iommu_ioas_alloc ioas = { 0 };
    struct vfio_device_attach_iommufd_pt attach = { 0 };
    int rc;

    vfio->access = VFMIG_VFIO_ACCESS_CDEV;

    if ((vfio->deviceFd = open(cdevPath, O_RDWR | O_CLOEXEC)) < 0) {
        int err = errno;

        if (err == EBUSY) {
            vfmigReportError(VFMIG_ERR_DEVICE_BUSY,
                             _("device '%1$s' (%2$s) is in use by another process, e.g. QEMU; refusing to touch it"),
                             vfio->name, cdevPath);
        } else {
            vfmigReportSystemError(err,
                                   _("cannot open VFIO device '%1$s' of device '%2$s'"),
                                   cdevPath, vfio->name);
        }
        return -1;
    }

    if ((vfio->iommuFd = open(iommuPath, O_RDWR | O_CLOEXEC)) < 0) {
        int err = errno;

        vfmigReportSystemError(err,
                               _("cannot open iommufd '%1$s' for device '%2$s'"),
                               iommuPath, vfio->name);
        return -1;
    }

    bind.argsz = sizeof(bind);
    bind.flags = 0;
    bind.iommufd = vfio->iommuFd;
    rc = ioctl(vfio->deviceFd, VFIO_DEVICE_BIND_IOMMUFD, &bind);
    VFMIG_VFIO_TRACE(vfio->name, vfio->deviceFd, "VFIO_DEVICE_BIND_IOMMUFD", rc,
                     "iommufd=%d -> devid=%u", bind.iommufd, bind.out_devid);
    if (rc < 0) {
        int err = errno;

        if (err == EBUSY) {
            vfmigReportError(VFMIG_ERR_DEVICE_BUSY,
                             _("device '%1$s' (%2$s) is in use by another process, e.g. QEMU; refusing to touch it"),
                             vfio->name, cdevPath);
        } else {
            vfmigReportSystemError(err,
                                   _("VFIO_DEVICE_BIND_IOMMUFD of '%1$s' to '%2$s' failed for device '%3$s'"),
                                   cdevPath, iommuPath, vfio->name);
        }
        return -1;
    }

    ioas.size = sizeof(ioas);
    ioas.flags = 0;
    rc = ioctl(vfio->iommuFd, IOMMU_IOAS_ALLOC, &ioas);
    VFMIG_VFIO_TRACE(vfio->name, vfio->iommuFd, "IOMMU_IOAS_ALLOC", rc,
                     "-> ioas_id=%u", ioas.out_ioas_id);
    if (rc < 0) {
        int err = errno;

        vfmigReportSystemError(err,
                               _("IOMMU_IOAS_ALLOC on '%1$s' failed for device '%2$s'"),
                               iommuPath, vfio->name);
        return -1;
    }

    attach.argsz = sizeof(attach);
    attach.flags = 0;
    attach.pt_id = ioas.out_ioas_id;
    rc = ioctl(vfio->deviceFd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
    VFMIG_VFIO_TRACE(vfio->name, vfio->deviceFd, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", rc,
                     "pt_id=%u", attach.pt_id);
    if (rc < 0) {
        int err = errno;

        vfmigReportSystemError(err,
                               _("VFIO_DEVICE_ATTACH_IOMMUFD_PT of '%1$s' to IOAS %2$u failed for device '%3$s'"),
                               cdevPath, ioas.out_ioas_id, vfio->name);
        return -1;
    }
    return 0;
}


/* VFIO_CHECK_EXTENSION @ext (named @name) on the container. */
static int
vfmigVFIOCheckExtension(vfmigVFIO *vfio, int ext, const char *name)
{
    int rc = ioctl(vfio->containerFd, VFIO_CHECK_EXTENSION, ext);

    VFMIG_VFIO_TRACE(vfio->name, vfio->containerFd, "VFIO_CHECK_EXTENSION", rc,
                     "%s", name);
    return rc;
}


static int
vfmigVFIOOpenGroup(vfmigVFIO *vfio,
                   const char *sysfsDev,
                   const char *devRoot)
{
    g_autofree char *groupName = NULL;
    g_autofree char *groupPath = NULL;
    g_autofree char *containerPath = NULL;
    struct vfio_group_status status = { 0 };
    struct stat sb;
    const char *iommuName;
    int iommuType;
    int version;
    guint64 num;
    int rc;

    vfio->access = VFMIG_VFIO_ACCESS_GROUP;

    if ((rc = vfmigSysfsReadLink(AT_FDCWD, sysfsDev, "iommu_group",
                                 &groupName)) <= 0) {
        if (rc == 0) {
            g_autofree char *link = g_build_filename(sysfsDev, "iommu_group", NULL);

            vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                             _("device '%1$s' has no IOMMU group (no '%2$s'): is the IOMMU enabled (intel_iommu=on, amd_iommu=on)?"),
                             vfio->name, link);
        }
        return -1;
    }

    if (!g_ascii_string_to_unsigned(groupName, 10, 0, G_MAXINT, &num, NULL)) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("device '%1$s' is in IOMMU group '%2$s', which is not a number VFIO can open"),
                         vfio->name, groupName);
        return -1;
    }
    vfio->group = (int) num;

    groupPath = g_build_filename(devRoot, "vfio", groupName, NULL);
    containerPath = g_build_filename(devRoot, "vfio", "vfio", NULL);

    /* VFIO creates the group's char dev when a VFIO driver takes one of
     * its devices, so it exists unless /dev is not the kernel's. */
    if (stat(groupPath, &sb) < 0) {
        int err = errno;

        if (err == ENOENT) {
            vfmigReportError(VFMIG_ERR_NO_DEVICE,
                             _("device '%1$s' is bound to %2$s but its VFIO group device '%3$s' does not exist"),
                             vfio->name, vfio->driver, groupPath);
        } else {
            vfmigReportSystemError(err,
                                   _("cannot access VFIO group '%1$s' of device '%2$s'"),
                                   groupPath, vfio->name);
        }
        return -1;
    }

    if ((vfio->containerFd = open(containerPath, O_RDWR | O_CLOEXEC)) < 0) {
        int err = errno;

        vfmigReportSystemError(err,
                               _("cannot open VFIO container '%1$s' for device '%2$s' (is the vfio module loaded?)"),
                               containerPath, vfio->name);
        return -1;
    }

    version = ioctl(vfio->containerFd, VFIO_GET_API_VERSION);
    VFMIG_VFIO_TRACE(vfio->name, vfio->containerFd, "VFIO_GET_API_VERSION", version,
                     "no argument; version %d expected", VFIO_API_VERSION);
    if (version < 0) {
        int err = errno;

        vfmigReportSystemError(err,
                               _("VFIO_GET_API_VERSION on container '%1$s' failed for device '%2$s'"),
                               containerPath, vfio->name);
        return -1;
    }
    if (version != VFIO_API_VERSION) {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("VFIO container '%1$s' speaks API version %2$d, not %3$d (device '%4$s')"),
                         containerPath, version, VFIO_API_VERSION, vfio->name);
        return -1;
    }

    if (vfmigVFIOCheckExtension(vfio, VFIO_TYPE1v2_IOMMU, "VFIO_TYPE1v2_IOMMU") > 0) {
        iommuType = VFIO_TYPE1v2_IOMMU;
        iommuName = "VFIO_TYPE1v2_IOMMU";
    } else if (vfmigVFIOCheckExtension(vfio, VFIO_TYPE1_IOMMU, "VFIO_TYPE1_IOMMU") > 0) {
        iommuType = VFIO_TYPE1_IOMMU;
        iommuName = "VFIO_TYPE1_IOMMU";
    } else {
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("VFIO container '%1$s' offers no type1 IOMMU (VFIO_CHECK_EXTENSION) for device '%2$s'"),
                         containerPath, vfio->name);
        return -1;
    }

    if ((vfio->groupFd = open(groupPath, O_RDWR | O_CLOEXEC)) < 0) {
        int err = errno;

        if (err == EBUSY) {
            vfmigReportError(VFMIG_ERR_DEVICE_BUSY,
                             _("device '%1$s' (IOMMU group %2$d) is in use by another process, e.g. QEMU; refusing to touch it"),
                             vfio->name, vfio->group);
        } else {
            vfmigReportSystemError(err,
                                   _("cannot open VFIO group '%1$s' of device '%2$s'"),
                                   groupPath, vfio->name);
        }
        return -1;
    }

    status.argsz = sizeof(status);
    rc = ioctl(vfio->groupFd, VFIO_GROUP_GET_STATUS, &status);
    VFMIG_VFIO_TRACE(vfio->name, vfio->groupFd, "VFIO_GROUP_GET_STATUS", rc,
                     "-> flags=0x%x", status.flags);
    if (rc < 0) {
        int err = errno;

        vfmigReportSystemError(err,
                               _("VFIO_GROUP_GET_STATUS on '%1$s' failed for device '%2$s'"),
                               groupPath, vfio->name);
        return -1;
    }
    if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("IOMMU group %1$d of device '%2$s' is not viable: all devices of group %1$d must be bound to vfio drivers (or to none)"),
                         vfio->group, vfio->name);
        return -1;
    }

    rc = ioctl(vfio->groupFd, VFIO_GROUP_SET_CONTAINER, &vfio->containerFd);
    VFMIG_VFIO_TRACE(vfio->name, vfio->groupFd, "VFIO_GROUP_SET_CONTAINER", rc,
                     "container fd %d", vfio->containerFd);
    if (rc < 0) {
        int err = errno;

        vfmigReportSystemError(err,
                               _("VFIO_GROUP_SET_CONTAINER of '%1$s' to '%2$s' failed for device '%3$s'"),
                               groupPath, containerPath, vfio->name);
        return -1;
    }

    rc = ioctl(vfio->containerFd, VFIO_SET_IOMMU, iommuType);
    VFMIG_VFIO_TRACE(vfio->name, vfio->containerFd, "VFIO_SET_IOMMU", rc,
                     "%s", iommuName);
    if (rc < 0) {
        int err = errno;

        vfmigReportSystemError(err,
                               _("VFIO_SET_IOMMU (%1$s) on container '%2$s' failed for device '%3$s'"),
                               iommuName, containerPath, vfio->name);
        return -1;
    }

    vfio->deviceFd = ioctl(vfio->groupFd, VFIO_GROUP_GET_DEVICE_FD, vfio->name);
    VFMIG_VFIO_TRACE(vfio->name, vfio->groupFd, "VFIO_GROUP_GET_DEVICE_FD",
                     vfio->deviceFd, "\"%s\"", vfio->name);
    if (vfio->deviceFd < 0) {
        int err = errno;

        vfio->deviceFd = -1;
        if (err == EBUSY) {
            vfmigReportError(VFMIG_ERR_DEVICE_BUSY,
                             _("device '%1$s' (IOMMU group %2$d) is in use by another process, e.g. QEMU; refusing to touch it"),
                             vfio->name, vfio->group);
        } else {
            vfmigReportSystemError(err,
                                   _("VFIO_GROUP_GET_DEVICE_FD on '%1$s' failed for device '%2$s'"),
                                   groupPath, vfio->name);
        }
        return -1;
    }
    return 0;
}


void
vfmigVFIOPathsFromEnv(vfmigVFIOPaths *paths)
{
    memset(paths, 0, sizeof(*paths));
    paths->sysfsRoot = g_getenv("VFMIG_SYSFS_ROOT");
    paths->devRoot = g_getenv("VFMIG_DEV_ROOT");
}


vfmigVFIO *
vfmigVFIOOpen(const char *name,
              const vfmigVFIOPaths *paths)
{
    const char *sysfsRoot = vfmigSysfsRoot(paths ? paths->sysfsRoot : NULL);
    const char *devRoot = VFMIG_DEV_ROOT;
    g_autoptr(vfmigVFIO) vfio = NULL;
    g_autofree char *norm = NULL;
    g_autofree char *sysfsDev = NULL;
    g_autofree char *driver = NULL;
    g_autofree char *cdev = NULL;
    bool isMdev;
    int rc;

    if (paths && paths->devRoot)
        devRoot = paths->devRoot;

    if (vfmigVFIOParseName(name, &norm, &isMdev) < 0)
        return NULL;

    sysfsDev = g_build_filename(sysfsRoot, "bus", isMdev ? "mdev" : "pci",
                                "devices", norm, NULL);
    if (!g_file_test(sysfsDev, G_FILE_TEST_IS_DIR)) {
        vfmigReportError(VFMIG_ERR_NO_DEVICE,
                         isMdev ?
                         _("mediated device '%1$s' does not exist (no '%2$s')") :
                         _("PCI device '%1$s' does not exist (no '%2$s')"),
                         norm, sysfsDev);
        return NULL;
    }

    if ((rc = vfmigSysfsReadLink(AT_FDCWD, sysfsDev, "driver", &driver)) <= 0) {
        if (rc == 0)
            vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                             _("device '%1$s' is not bound to any driver; bind it to vfio-pci or a VFIO variant driver first"),
                             norm);
        return NULL;
    }

    vfio = vfmigVFIOAdoptFD(norm, driver, -1);

    /* Bound to a VFIO driver exactly when VFIO registered the device. */
    if ((rc = vfmigVFIOFindVFIODev(sysfsDev, norm, &cdev)) < 0)
        return NULL;
    if (rc == 0) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("device '%1$s' is bound to driver %2$s, which is not a VFIO driver: VFIO registered no device for it (no vfio-dev/vfioN in '%3$s'); bind it to vfio-pci or a VFIO variant driver first"),
                         norm, driver, sysfsDev);
        return NULL;
    }

    /* The cdev where the kernel offers it and has iommufd; like QEMU,
     * fall back to the group otherwise. */
    {
        g_autofree char *cdevPath = g_build_filename(devRoot, "vfio", "devices",
                                                     cdev, NULL);
        g_autofree char *iommuPath = g_build_filename(devRoot, "iommu", NULL);

        if (access(cdevPath, F_OK) == 0 && access(iommuPath, F_OK) == 0) {
            if (vfmigVFIOOpenCdev(vfio, cdevPath, iommuPath) < 0)
                return NULL;
            return g_steal_pointer(&vfio);
        }
    }

    if (vfmigVFIOOpenGroup(vfio, sysfsDev, devRoot) < 0)
        return NULL;

    return g_steal_pointer(&vfio);
}


const char *
vfmigVFIOGetName(vfmigVFIO *vfio)
{
    return vfio->name;
}


const char *
vfmigVFIOGetDriver(vfmigVFIO *vfio)
{
    return vfio->driver;
}


vfmigVFIOAccess
vfmigVFIOGetAccess(vfmigVFIO *vfio)
{
    return vfio->access;
}


int
vfmigVFIOGetGroup(vfmigVFIO *vfio)
{
    return vfio->group;
}


int
vfmigVFIOGetDeviceFD(vfmigVFIO *vfio)
{
    return vfio->deviceFd;
}


/*
 * "SET MIG_DEVICE_STATE device_state=STOP_COPY -> data_fd=7": the feature
 * request @feat, and what the device answered when @rc says it did.
 */
static char *
vfmigVFIOFeatureDescribe(const struct vfio_device_feature *feat, int rc)
{
    uint32_t index = feat->flags & VFIO_DEVICE_FEATURE_MASK;
    bool set = feat->flags & VFIO_DEVICE_FEATURE_SET;
    const char *op = set ? "SET" : "GET";

    switch (index) {
    case VFIO_DEVICE_FEATURE_MIGRATION: {
        const struct vfio_device_feature_migration *mig = (const void *) feat->data;
        g_autofree char *flags = rc < 0 ? NULL : vfmigDeviceFlagsString(mig->flags);

        if (rc < 0)
            return g_strdup_printf("%s MIGRATION", op);
        return g_strdup_printf("%s MIGRATION -> flags=%s", op, flags);
    }
    case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: {
        const struct vfio_device_feature_mig_state *mig = (const void *) feat->data;

        if (set && rc < 0)
            return g_strdup_printf("SET MIG_DEVICE_STATE device_state=%s",
                                   vfmig_fsm_state_name(mig->device_state));
        if (set)
            return g_strdup_printf("SET MIG_DEVICE_STATE device_state=%s -> data_fd=%d",
                                   vfmig_fsm_state_name(mig->device_state),
                                   mig->data_fd);
        if (rc < 0)
            return g_strdup("GET MIG_DEVICE_STATE");
        return g_strdup_printf("GET MIG_DEVICE_STATE -> device_state=%s",
                               vfmig_fsm_state_name(mig->device_state));
    }
    case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: {
        const struct vfio_device_feature_mig_data_size *size = (const void *) feat->data;

        if (rc < 0)
            return g_strdup_printf("%s MIG_DATA_SIZE", op);
        return g_strdup_printf("%s MIG_DATA_SIZE -> stop_copy_length=%llu", op,
                               (unsigned long long) size->stop_copy_length);
    }
    }
    return g_strdup_printf("%s feature %u, argsz %u", op, index, feat->argsz);
}


/*
 * VFIO_DEVICE_FEATURE with @size bytes of payload in @data (copied in for
 * SET, out for GET).  Returns 0 or a negative errno; reports nothing.
 */
static int
vfmigVFIOFeature(vfmigVFIO *vfio,
                 uint32_t flags,
                 void *data,
                 size_t size)
{
    /* the payloads hold __aligned_u64: keep the buffer 8-byte aligned */
    uint64_t buf[(sizeof(struct vfio_device_feature) + 64) / sizeof(uint64_t)];
    struct vfio_device_feature *feat = (struct vfio_device_feature *) buf;
    int rc;

    if (size > sizeof(buf) - sizeof(*feat))
        return -EINVAL;

    memset(buf, 0, sizeof(buf));
    feat->argsz = sizeof(*feat) + size;
    feat->flags = flags;
    if (flags & VFIO_DEVICE_FEATURE_SET)
        memcpy(feat->data, data, size);

    rc = ioctl(vfio->deviceFd, VFIO_DEVICE_FEATURE, feat);
    if (vfmigLogDebugEnabled()) {
        int err = errno;
        g_autofree char *desc = vfmigVFIOFeatureDescribe(feat, rc);

        vfmigVFIOTraceIoctl(__func__, vfio->name, vfio->deviceFd,
                            "VFIO_DEVICE_FEATURE", rc, err, "%s", desc);
        errno = err;
    }
    if (rc < 0)
        return -errno;

    memcpy(data, feat->data, size);
    return 0;
}


/* The driver has no migration ops: the core answers ENOTTY. */
static int
vfmigVFIOReportNoMigration(vfmigVFIO *vfio)
{
    vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                     _("device '%1$s' does not support VFIO migration (its driver %2$s has no migration support)"),
                     vfio->name, vfio->driver ? vfio->driver : _("(unknown)"));
    return -1;
}


int
vfmigVFIOGetMigrationFlags(vfmigVFIO *vfio, uint64_t *flags)
{
    struct vfio_device_feature_migration mig = { 0 };
    int rc;

    rc = vfmigVFIOFeature(vfio,
                          VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
                          &mig, sizeof(mig));
    if (rc == -ENOTTY)
        return vfmigVFIOReportNoMigration(vfio);
    if (rc < 0) {
        vfmigReportSystemError(-rc,
                               _("cannot read the migration flags of device '%1$s' (VFIO_DEVICE_FEATURE_MIGRATION)"),
                               vfio->name);
        return -1;
    }
    *flags = mig.flags;
    return 0;
}


int
vfmigVFIOGetState(vfmigVFIO *vfio, uint32_t *state)
{
    struct vfio_device_feature_mig_state mig = { 0 };
    int rc;

    mig.data_fd = -1;
    rc = vfmigVFIOFeature(vfio,
                          VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
                          &mig, sizeof(mig));
    if (rc == -ENOTTY)
        return vfmigVFIOReportNoMigration(vfio);
    if (rc < 0) {
        vfmigReportSystemError(-rc,
                               _("cannot read the migration state of device '%1$s' (VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE)"),
                               vfio->name);
        return -1;
    }
    *state = mig.device_state;
    return 0;
}


int
vfmigVFIOSetState(vfmigVFIO *vfio, uint32_t state, int *dataFd)
{
    struct vfio_device_feature_mig_state mig = { 0 };
    int rc;

    *dataFd = -1;
    mig.device_state = state;
    mig.data_fd = -1;
    rc = vfmigVFIOFeature(vfio,
                          VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
                          &mig, sizeof(mig));
    if (rc < 0) {
        vfmigReportSystemError(-rc,
                               _("cannot move device '%1$s' to the %2$s state (VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE)"),
                               vfio->name, vfmig_fsm_state_name(state));
        return -1;
    }
    *dataFd = mig.data_fd >= 0 ? mig.data_fd : -1;
    return 0;
}


int
vfmigVFIOGetStopCopySize(vfmigVFIO *vfio, uint64_t *bytes)
{
    struct vfio_device_feature_mig_data_size size = { 0 };
    int rc;

    rc = vfmigVFIOFeature(vfio,
                          VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
                          &size, sizeof(size));
    if (rc == -ENOTTY || rc == -EINVAL) {
        VFMIG_DEBUG("device %s: the kernel or its driver %s predates VFIO_DEVICE_FEATURE_MIG_DATA_SIZE",
                    vfio->name, vfio->driver ? vfio->driver : "(unknown)");
        return 0;
    }
    if (rc < 0) {
        vfmigReportSystemError(-rc,
                               _("cannot read the stop-copy size of device '%1$s' (VFIO_DEVICE_FEATURE_MIG_DATA_SIZE)"),
                               vfio->name);
        return -1;
    }
    *bytes = size.stop_copy_length;
    return 1;
}


int
vfmigVFIOReset(vfmigVFIO *vfio)
{
    int rc = ioctl(vfio->deviceFd, VFIO_DEVICE_RESET);

    VFMIG_VFIO_TRACE(vfio->name, vfio->deviceFd, "VFIO_DEVICE_RESET", rc,
                     "%s", "no argument");
    if (rc < 0) {
        int err = errno;

        if (err == EINVAL || err == ENOTTY) {
            vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                             _("device '%1$s' cannot be reset: VFIO_DEVICE_RESET failed with '%2$s' (the device has no usable reset method)"),
                             vfio->name, g_strerror(err));
        } else {
            vfmigReportSystemError(err,
                                   _("cannot reset device '%1$s' (VFIO_DEVICE_RESET)"),
                                   vfio->name);
        }
        return -1;
    }
    return 0;
}


static const char *
vfmigVFIODataName(const char *name)
{
    return name ? name : _("(unnamed)");
}


int
vfmigVFIOPrecopyInfo(const char *name,
                     int dataFd,
                     uint64_t *initialBytes,
                     uint64_t *dirtyBytes)
{
    struct vfio_precopy_info info;
    int rc;

    /* Drivers before the REINIT opt-in echo flags back: zero them going
     * in, and ignore them coming out. */
    memset(&info, 0, sizeof(info));
    info.argsz = sizeof(info);
    info.flags = 0;

    rc = ioctl(dataFd, VFIO_MIG_GET_PRECOPY_INFO, &info);
    VFMIG_VFIO_TRACE(name, dataFd, "VFIO_MIG_GET_PRECOPY_INFO", rc,
                     "-> initial_bytes=%llu dirty_bytes=%llu",
                     (unsigned long long) info.initial_bytes,
                     (unsigned long long) info.dirty_bytes);
    if (rc < 0) {
        int err = errno;

        vfmigReportSystemError(err,
                               _("cannot get the pre-copy estimates of device '%1$s' (VFIO_MIG_GET_PRECOPY_INFO on data fd %2$d)"),
                               vfmigVFIODataName(name), dataFd);
        return -1;
    }
    *initialBytes = info.initial_bytes;
    *dirtyBytes = info.dirty_bytes;
    return 0;
}


int
vfmigVFIODataClassify(ssize_t n,
                      int err,
                      bool inPrecopy,
                      vfmigDataStatus *status)
{
    if (n > 0) {
        *status = VFMIG_DATA_OK;
        return 0;
    }
    if (n == 0) {
        *status = inPrecopy ? VFMIG_DATA_AGAIN : VFMIG_DATA_END;
        return 0;
    }

    switch (err) {
    case EINTR:
        return 1;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        *status = VFMIG_DATA_AGAIN;
        return 0;
    case ENOMSG:
        if (!inPrecopy)
            return -1;
        *status = VFMIG_DATA_AGAIN;
        return 0;
    default:
        return -1;
    }
}


ssize_t
vfmigVFIODataRead(const char *name,
                  int dataFd,
                  void *buf,
                  size_t len,
                  bool inPrecopy,
                  vfmigDataStatus *status)
{
    for (;;) {
        ssize_t n = read(dataFd, buf, len);
        int err = n < 0 ? errno : 0;
        int rc = vfmigVFIODataClassify(n, err, inPrecopy, status);

        if (rc > 0)
            continue;
        if (rc == 0)
            return n > 0 ? n : 0;

        if (n < 0 && err == ENOMSG) {
            vfmigReportError(VFMIG_ERR_OPERATION_FAILED,
                             _("the driver of device '%1$s' ended a stop-copy read with ENOMSG (data fd %2$d), which the VFIO uAPI allows only in the PRE_COPY states"),
                             vfmigVFIODataName(name), dataFd);
        } else {
            vfmigReportSystemError(n < 0 ? err : EIO,
                                   _("cannot read the migration data of device '%1$s' (data fd %2$d)"),
                                   vfmigVFIODataName(name), dataFd);
        }
        return -1;
    }
}


ssize_t
vfmigVFIODataWrite(const char *name,
                   int dataFd,
                   const void *buf,
                   size_t len)
{
    for (;;) {
        ssize_t n = write(dataFd, buf, len);
        int err;

        if (n >= 0)
            return n;
        if ((err = errno) == EINTR)
            continue;
        vfmigReportSystemError(err,
                               _("cannot write the migration data of device '%1$s' (data fd %2$d)"),
                               vfmigVFIODataName(name), dataFd);
        return -1;
    }
}


int
vfmigVFIODataWait(const char *name,
                  int dataFd,
                  int timeoutMs)
{
    gint64 deadline = timeoutMs >= 0 ?
        g_get_monotonic_time() + (gint64) timeoutMs * 1000 : -1;
    struct pollfd pfd = { .fd = dataFd, .events = POLLIN | POLLRDHUP };
    int waitMs = timeoutMs;

    if (dataFd < 0) {
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("device '%1$s' has no migration data stream to wait on"),
                         vfmigVFIODataName(name));
        return -1;
    }

    for (;;) {
        int rc;

        pfd.revents = 0;
        rc = poll(&pfd, 1, waitMs);
        if (rc < 0 && errno == EINTR) {
            if (deadline >= 0) {
                gint64 left = deadline - g_get_monotonic_time();

                waitMs = left > 0 ? (int) ((left + 999) / 1000) : 0;
            }
            continue;
        }
        if (rc < 0) {
            int err = errno;

            vfmigReportSystemError(err,
                                   _("cannot poll the migration data of device '%1$s' (data fd %2$d)"),
                                   vfmigVFIODataName(name), dataFd);
            return -1;
        }
        if (rc == 0)
            return 0;
        if (pfd.revents & POLLNVAL) {
            vfmigReportSystemError(EBADF,
                                   _("cannot poll the migration data of device '%1$s' (data fd %2$d)"),
                                   vfmigVFIODataName(name), dataFd);
            return -1;
        }
        /* data, end of stream (HUP) or an error read() will report */
        return 1;
    }
}
