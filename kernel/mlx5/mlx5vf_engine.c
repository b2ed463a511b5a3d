// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vfmig engine, compiled into mlx5_vfio_pci (see
 * testdev/testdev_engine.c for why each module has its own copy).
 */
#include "../vfio/vfio_mig_fsm.c"
#include "../vfio/vfmig_core.c"
#include "../vfio/vfmig_file.c"
#include "../vfio/vfmig_fault.c"
#include "../vfio/vfmig_log.c"
#include "../vfio/vfmig_sysfs.c"
