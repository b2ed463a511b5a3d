// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VFIO migration v2 state machine with PRE_COPY, written from the uAPI
 * text of Linux >= 6.2 (include/uapi/linux/vfio.h).
 *
 * Encoding.  Apart from ERROR, the states sit on two parallel rails indexed
 * by how quiet the device is ("level"):
 *
 *	level		0		1		2		3
 *	device rail	RUNNING		RUNNING_P2P	STOP		RESUMING
 *	saving rail	PRE_COPY	PRE_COPY_P2P	STOP_COPY
 *
 * The uAPI arcs are exactly:
 *  - neighbours on the device rail, both ways (RUNNING <-> RUNNING_P2P <->
 *    STOP <-> RESUMING);
 *  - a rung from the device rail up to the saving rail at the same level
 *    (opens the data session) and back down (closes it), for levels 0-2;
 *  - on the saving rail towards STOP_COPY, plus PRE_COPY_P2P -> PRE_COPY;
 *    nothing leaves STOP_COPY on the saving rail.
 * A state the device does not offer (RUNNING_P2P without P2P, the saving
 * rail's levels 0-1 without PRE_COPY) is stepped over: the uAPI says that
 * an unsupported P2P state behaves as its fully running twin, so
 * RUNNING <-> STOP and PRE_COPY -> STOP_COPY become arcs without P2P.
 *
 * Shortest path without saving states in the interior (unless the path
 * never leaves the saving rail) is then: on the device rail, walk towards
 * the target's level and climb the rung there; on the saving rail, walk
 * towards the target if it is on the saving rail and reachable, else climb
 * down the rung at the current level and continue on the device rail.
 */
#include <linux/errno.h>
#include <linux/types.h>

#include "vfio_mig_fsm.h"

#define VFMIG_NO_STATE		VFMIG_DEVICE_STATE_NR
#define VFMIG_DEVICE_LEVELS	4
#define VFMIG_SAVING_LEVELS	3

static const u32 vfmig_device_rail[VFMIG_DEVICE_LEVELS] = {
	VFIO_DEVICE_STATE_RUNNING,
	VFIO_DEVICE_STATE_RUNNING_P2P,
	VFIO_DEVICE_STATE_STOP,
	VFIO_DEVICE_STATE_RESUMING,
};

static const u32 vfmig_saving_rail[VFMIG_SAVING_LEVELS] = {
	VFIO_DEVICE_STATE_PRE_COPY,
	VFIO_DEVICE_STATE_PRE_COPY_P2P,
	VFIO_DEVICE_STATE_STOP_COPY,
};

/* Level of each state on its rail; ERROR has none. */
static const u8 vfmig_level[VFMIG_DEVICE_STATE_NR] = {
	[VFIO_DEVICE_STATE_STOP] = 2,
	[VFIO_DEVICE_STATE_RUNNING] = 0,
	[VFIO_DEVICE_STATE_STOP_COPY] = 2,
	[VFIO_DEVICE_STATE_RESUMING] = 3,
	[VFIO_DEVICE_STATE_RUNNING_P2P] = 1,
	[VFIO_DEVICE_STATE_PRE_COPY] = 0,
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = 1,
};

static const char * const vfmig_state_names[VFMIG_DEVICE_STATE_NR] = {
	[VFIO_DEVICE_STATE_ERROR] = "ERROR",
	[VFIO_DEVICE_STATE_STOP] = "STOP",
	[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
	[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
};

bool vfmig_fsm_flags_valid(u32 flags)
{
	return flags & VFIO_MIGRATION_STOP_COPY;
}

bool vfmig_fsm_state_supported(u32 flags, u32 state)
{
	switch (state) {
	case VFIO_DEVICE_STATE_ERROR:
	case VFIO_DEVICE_STATE_STOP:
	case VFIO_DEVICE_STATE_RUNNING:
	case VFIO_DEVICE_STATE_STOP_COPY:
	case VFIO_DEVICE_STATE_RESUMING:
		return vfmig_fsm_flags_valid(flags);
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		return vfmig_fsm_flags_valid(flags) &&
		       (flags & VFIO_MIGRATION_P2P);
	case VFIO_DEVICE_STATE_PRE_COPY:
		return vfmig_fsm_flags_valid(flags) &&
		       (flags & VFIO_MIGRATION_PRE_COPY);
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		return vfmig_fsm_flags_valid(flags) &&
		       (flags & VFIO_MIGRATION_P2P) &&
		       (flags & VFIO_MIGRATION_PRE_COPY);
	default:
		return false;
	}
}

bool vfmig_fsm_state_is_saving(u32 state)
{
	return state == VFIO_DEVICE_STATE_PRE_COPY ||
	       state == VFIO_DEVICE_STATE_PRE_COPY_P2P ||
	       state == VFIO_DEVICE_STATE_STOP_COPY;
}

bool vfmig_fsm_arc_opens_session(u32 from, u32 to)
{
	if (to == VFIO_DEVICE_STATE_RESUMING)
		return from == VFIO_DEVICE_STATE_STOP;
	return vfmig_fsm_state_is_saving(to) &&
	       !vfmig_fsm_state_is_saving(from) &&
	       from != VFIO_DEVICE_STATE_ERROR && from < VFMIG_DEVICE_STATE_NR;
}

bool vfmig_fsm_arc_closes_session(u32 from, u32 to)
{
	if (from == VFIO_DEVICE_STATE_RESUMING)
		return to != VFIO_DEVICE_STATE_RESUMING;
	return vfmig_fsm_state_is_saving(from) &&
	       !vfmig_fsm_state_is_saving(to);
}

/*
 * The state one step from @level towards @goal on a rail, stepping over
 * the levels the device does not offer.  Only level 1 (the P2P twins) can
 * be missing, and the caller has checked that the goal is offered.
 */
static u32 vfmig_rail_step(const u32 *rail, u32 nlevels, u32 flags,
			   u32 level, u32 goal)
{
	do {
		level = goal > level ? level + 1 : level - 1;
	} while (level != goal && level < nlevels &&
		 !vfmig_fsm_state_supported(flags, rail[level]));
	return rail[level];
}

enum vfmig_fsm_verdict vfmig_fsm_next_state(u32 flags, u32 cur, u32 target,
					    u32 *next)
{
	u32 cur_level, goal_level;

	if (!vfmig_fsm_flags_valid(flags))
		return VFMIG_FSM_BAD_FLAGS;
	if (cur >= VFMIG_DEVICE_STATE_NR || target >= VFMIG_DEVICE_STATE_NR)
		return VFMIG_FSM_BAD_STATE;
	if (target == VFIO_DEVICE_STATE_ERROR)
		return VFMIG_FSM_TO_ERROR;
	if (cur == VFIO_DEVICE_STATE_ERROR)
		return VFMIG_FSM_FROM_ERROR;
	if (!vfmig_fsm_state_supported(flags, cur) ||
	    !vfmig_fsm_state_supported(flags, target))
		return VFMIG_FSM_UNSUPPORTED;
	if (cur == VFIO_DEVICE_STATE_STOP_COPY &&
	    (target == VFIO_DEVICE_STATE_PRE_COPY ||
	     target == VFIO_DEVICE_STATE_PRE_COPY_P2P))
		return VFMIG_FSM_BLOCKED;

	if (cur == target) {
		*next = target;
		return VFMIG_FSM_OK;
	}

	cur_level = vfmig_level[cur];
	goal_level = vfmig_level[target];

	if (vfmig_fsm_state_is_saving(cur)) {
		/* Stay in the session when the target is ahead on the rail. */
		if (vfmig_fsm_state_is_saving(target) &&
		    (goal_level > cur_level ||
		     cur == VFIO_DEVICE_STATE_PRE_COPY_P2P)) {
			*next = vfmig_rail_step(vfmig_saving_rail,
						VFMIG_SAVING_LEVELS, flags,
						cur_level, goal_level);
			return VFMIG_FSM_OK;
		}
		/* Otherwise close the session where we are. */
		*next = vfmig_device_rail[cur_level];
		return VFMIG_FSM_OK;
	}

	/* On the device rail: climb the rung once at the target's level. */
	if (vfmig_fsm_state_is_saving(target) && cur_level == goal_level) {
		*next = target;
		return VFMIG_FSM_OK;
	}
	*next = vfmig_rail_step(vfmig_device_rail, VFMIG_DEVICE_LEVELS, flags,
				cur_level, goal_level);
	return VFMIG_FSM_OK;
}

int vfmig_fsm_verdict_errno(enum vfmig_fsm_verdict verdict)
{
	return verdict == VFMIG_FSM_OK ? 0 : -EINVAL;
}

const char *vfmig_fsm_state_name(u32 state)
{
	if (state >= VFMIG_DEVICE_STATE_NR)
		return "INVALID";
	return vfmig_state_names[state];
}

const char *vfmig_fsm_verdict_name(enum vfmig_fsm_verdict verdict)
{
	switch (verdict) {
	case VFMIG_FSM_OK:
		return "ok";
	case VFMIG_FSM_BAD_FLAGS:
		return "migration flags without STOP_COPY";
	case VFMIG_FSM_BAD_STATE:
		return "unknown device state";
	case VFMIG_FSM_TO_ERROR:
		return "ERROR cannot be requested";
	case VFMIG_FSM_FROM_ERROR:
		return "device is in ERROR and needs a reset";
	case VFMIG_FSM_UNSUPPORTED:
		return "state not supported by the device";
	case VFMIG_FSM_BLOCKED:
		return "STOP_COPY cannot go back to PRE_COPY";
	}
	return "unknown verdict";
}
