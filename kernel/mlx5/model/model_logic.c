// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfmig_mlx5model's copy of the engine and of the mlx5 driver's logic:
 * the same sources as mlx5_vfio_pci, so that the tests on the firmware
 * model run the real driver's code.  One object, because kbuild puts an
 * object into one module only.
 */
#include "../../vfio/vfio_mig_fsm.c"
#include "../../vfio/vfmig_core.c"
#include "../../vfio/vfmig_file.c"
#include "../../vfio/vfmig_fault.c"
#include "../../vfio/vfmig_log.c"
#include "../../vfio/vfmig_sysfs.c"
#include "../mlx5vf_cmd.c"
#include "../mlx5vf_buf.c"
#include "../mlx5vf_save.c"
#include "../mlx5vf_load.c"
#include "../mlx5vf_arcs.c"
#include "../mlx5vf_pci.c"
#include "../mlx5vf_track.c"
