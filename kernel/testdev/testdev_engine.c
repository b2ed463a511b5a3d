// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vfmig engine, compiled into this module: each of our drivers links
 * its own copy (no symbols are exported between modules), and including
 * the sources here keeps one object per module under kbuild.
 */
#include "../vfio/vfio_mig_fsm.c"
#include "../vfio/vfmig_core.c"
#include "../vfio/vfmig_file.c"
#include "../vfio/vfmig_fault.c"
#include "../vfio/vfmig_log.c"
#include "../vfio/vfmig_sysfs.c"
