/*
 * vfmigkcompat.h: what the kernel-side sources shared with userspace
 * (kernel/vfio/vfio_mig_fsm.c) expect from the kernel's headers.
 *
 * Force-included (-include) when such a file is compiled into userspace,
 * so the shared file itself stays plain kernel C.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
