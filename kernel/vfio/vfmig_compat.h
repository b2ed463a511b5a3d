/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every difference between the kernels vfmig supports (Debian's 6.1 and
 * 6.12) that the variant drivers meet, in one place.  Detection is by
 * LINUX_VERSION_CODE and config macros only.
 *
 *  - PRE_COPY uAPI names (states 6/7, struct vfio_precopy_info, the
 *    ioctl, feature 9): vfio_mig_uapi.h, shared with userspace.
 *  - struct vfio_migration_ops gained migration_get_data_size in 6.2, and
 *    the core answers VFIO_DEVICE_FEATURE_MIG_DATA_SIZE itself from then
 *    on.  On 6.1 feature 9 falls through to ops->device_feature, so the
 *    engine wraps vfio_pci_core_ioctl_feature() and answers it there.
 *  - struct vfio_device_ops gained the iommufd callbacks in 6.2; they are
 *    mandatory with CONFIG_IOMMUFD (Debian: unset, the names are NULL).
 *  - no_llseek was removed in 6.12; it always was NULL, so the migration
 *    file leaves .llseek unset and calls stream_open() on every kernel.
 *  - iova_bitmap_set() is in vfio.ko on 6.1; from 6.2 it exists only with
 *    CONFIG_IOMMUFD_DRIVER (namespace IOMMUFD), otherwise the header has
 *    a stub and the core's DMA_LOGGING_REPORT fails with -EOPNOTSUPP
 *    after START succeeded.  Debian's 6.12 lacks it: DMA logging is then
 *    not offered at all (log_ops stay NULL).  A module that may register
 *    log_ops says VFMIG_IMPORT_IOVA_BITMAP() once, at file scope, with no
 *    semicolon after it.
 */
#ifndef VFMIG_COMPAT_H
#define VFMIG_COMPAT_H

#include <linux/version.h>
#include <linux/module.h>
#include <linux/vfio.h>

#include "vfio_mig_uapi.h"

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VFMIG_HAVE_GET_DATA_SIZE_OP	1
#else
#define VFMIG_HAVE_GET_DATA_SIZE_OP	0
#endif

/* The driver's device_feature op must answer feature 9 itself. */
#define VFMIG_DRIVER_ANSWERS_DATA_SIZE	(!VFMIG_HAVE_GET_DATA_SIZE_OP)

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VFMIG_IOMMUFD_OPS					\
	.bind_iommufd = vfio_iommufd_physical_bind,		\
	.unbind_iommufd = vfio_iommufd_physical_unbind,		\
	.attach_ioas = vfio_iommufd_physical_attach_ioas,	\
	.detach_ioas = vfio_iommufd_physical_detach_ioas,
#else
#define VFMIG_IOMMUFD_OPS
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define VFMIG_HAVE_DMA_LOGGING		1
#define VFMIG_IMPORT_IOVA_BITMAP()
#elif IS_ENABLED(CONFIG_IOMMUFD_DRIVER)
#define VFMIG_HAVE_DMA_LOGGING		1
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define VFMIG_IMPORT_IOVA_BITMAP()	MODULE_IMPORT_NS("IOMMUFD");
#else
#define VFMIG_IMPORT_IOVA_BITMAP()	MODULE_IMPORT_NS(IOMMUFD);
#endif
#else
#define VFMIG_HAVE_DMA_LOGGING		0
#define VFMIG_IMPORT_IOVA_BITMAP()
#endif

#endif /* VFMIG_COMPAT_H */
