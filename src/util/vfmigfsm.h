/*
 * vfmigfsm.h: the shared migration FSM, seen from userspace
 *
 * The FSM itself is kernel/vfio/vfio_mig_fsm.c, compiled unchanged into the
 * modules and into this library; this adds translated error reports.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdint.h>

#include "vfmigkcompat.h"
#include "vfio_mig_fsm.h"

/*
 * Checks that a device named @name with @flags in state @cur may be asked
 * for @target.  Returns 0, or -1 with an error that says which rule of the
 * uAPI refuses it.
 */
int vfmigFSMCheckTransition(const char *name,
                            uint64_t flags,
                            uint32_t cur,
                            uint32_t target);

/* Parses "RUNNING", "pre_copy", "pre-copy" or a number; -1 if unknown. */
int vfmigFSMStateFromString(const char *str);

/*
 * The state whose uAPI name (vfmig_fsm_state_name(): "STOP_COPY", exactly
 * so) is @str, or -1: the strict form that sysfs and XML carry.
 */
int vfmigFSMStateFromName(const char *str);
