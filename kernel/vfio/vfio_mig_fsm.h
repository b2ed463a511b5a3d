/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VFIO migration protocol v2 state machine with the PRE_COPY states.
 *
 * One implementation for every kernel we support and for userspace: the
 * modules compile vfio_mig_fsm.c directly; userspace compiles the same file
 * with src/util/vfmigkcompat.h force-included.  It has no kernel
 * dependencies beyond <linux/types.h> and <linux/errno.h>, no locking and no
 * state: the caller owns the device state.
 *
 * Linux 6.1's vfio_mig_get_next_state() knows only 6 states and WARNs when
 * the current state is PRE_COPY; neither kernel's helper may be called from
 * ERROR.  Our drivers therefore never call the core helper and use this one.
 */
#ifndef VFIO_MIG_FSM_H
#define VFIO_MIG_FSM_H

#include <linux/types.h>
#include "vfio_mig_uapi.h"

/*
 * Why a transition is refused.  When several apply, the first in this
 * order is reported: BAD_FLAGS, BAD_STATE, TO_ERROR, FROM_ERROR,
 * UNSUPPORTED, BLOCKED.
 */
enum vfmig_fsm_verdict {
	VFMIG_FSM_OK = 0,
	/* the flags are not one of the four sets the uAPI defines */
	VFMIG_FSM_BAD_FLAGS,
	/* a state value outside enum vfio_device_mig_state */
	VFMIG_FSM_BAD_STATE,
	/* ERROR can never be requested */
	VFMIG_FSM_TO_ERROR,
	/* the device is in ERROR: only VFIO_DEVICE_RESET leaves it */
	VFMIG_FSM_FROM_ERROR,
	/* an optional state the device's flags do not offer */
	VFMIG_FSM_UNSUPPORTED,
	/* STOP_COPY -> PRE_COPY or PRE_COPY_P2P, which the uAPI forbids */
	VFMIG_FSM_BLOCKED,
};

/*
 * vfmig_fsm_next_state - the first arc on the way from @cur to @target
 * @flags: the device's VFIO_MIGRATION_* flags; bits the uAPI does not
 *	   define yet are ignored
 * @cur: the device's current state
 * @target: the state the user asked for
 * @next: set to the state the device must enter next; equals @target when
 *	  a single arc (or none, when @cur == @target) is left
 *
 * The path is the shortest one over the arcs the uAPI defines for @flags,
 * and saving-group states (PRE_COPY, PRE_COPY_P2P, STOP_COPY) appear in its
 * interior only when the whole path stays inside the saving group, so a
 * data transfer session is never opened just to be closed again.  A driver
 * calls this repeatedly, executing one arc each time, until it reaches
 * @target.  @next is left untouched unless VFMIG_FSM_OK is returned.
 */
enum vfmig_fsm_verdict vfmig_fsm_next_state(u32 flags, u32 cur, u32 target,
					    u32 *next);

/* 0 for VFMIG_FSM_OK, the errno the uAPI prescribes (-EINVAL) otherwise. */
int vfmig_fsm_verdict_errno(enum vfmig_fsm_verdict verdict);

/* One of STOP_COPY, STOP_COPY|P2P, STOP_COPY|PRE_COPY, all three. */
bool vfmig_fsm_flags_valid(u32 flags);

/* @state exists and the device's @flags offer it (ERROR always exists). */
bool vfmig_fsm_state_supported(u32 flags, u32 state);

/* PRE_COPY, PRE_COPY_P2P or STOP_COPY. */
bool vfmig_fsm_state_is_saving(u32 state);

/* The single arc @from -> @to returns a new data fd (saving or resuming). */
bool vfmig_fsm_arc_opens_session(u32 from, u32 to);

/* The single arc @from -> @to terminates the data transfer session. */
bool vfmig_fsm_arc_closes_session(u32 from, u32 to);

/* "RUNNING", "PRE_COPY_P2P", ...; "INVALID" for unknown values. */
const char *vfmig_fsm_state_name(u32 state);

/* A short English description of @verdict for logs. */
const char *vfmig_fsm_verdict_name(enum vfmig_fsm_verdict verdict);

#endif /* VFIO_MIG_FSM_H */
