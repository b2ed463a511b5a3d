// SPDX-License-Identifier: GPL-2.0-only
/*
 * vfmig engine: fault injection.  One fault is armed at a time and fires
 * once.  The syntax is the one of the drivers' "fault" sysfs files:
 *   none | fail-arc FROM TO | error-arc FROM TO | corrupt OFFSET |
 *   refuse-load
 * with FROM and TO uAPI state names.  A corrupt fault is taken by the next
 * saving data fd that is opened.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "vfio_mig_fsm.h"
#include "vfmig.h"

static int vfmig_parse_state(const char *name, u32 *state)
{
	u32 s;

	for (s = 0; s < VFMIG_DEVICE_STATE_NR; s++) {
		if (!strcmp(name, vfmig_fsm_state_name(s))) {
			*state = s;
			return 0;
		}
	}
	return -EINVAL;
}

int vfmig_fault_store(struct vfmig_device *vd, const char *buf)
{
	struct vfmig_fault f = {};
	char word[16], a[16], b[16];
	char extra;
	int n;

	n = sscanf(buf, "%15s %15s %15s %c", word, a, b, &extra);
	if (n < 1)
		return -EINVAL;
	if (!strcmp(word, "none") && n == 1) {
		f.type = VFMIG_FAULT_NONE;
	} else if (!strcmp(word, "refuse-load") && n == 1) {
		f.type = VFMIG_FAULT_REFUSE_LOAD;
	} else if (!strcmp(word, "corrupt") && n == 2) {
		f.type = VFMIG_FAULT_CORRUPT;
		if (kstrtou64(a, 0, &f.offset))
			return -EINVAL;
	} else if ((!strcmp(word, "fail-arc") || !strcmp(word, "error-arc")) &&
		   n == 3) {
		f.type = word[0] == 'f' ? VFMIG_FAULT_FAIL_ARC :
					  VFMIG_FAULT_ERROR_ARC;
		if (vfmig_parse_state(a, &f.from) ||
		    vfmig_parse_state(b, &f.to) || f.from == f.to)
			return -EINVAL;
	} else {
		return -EINVAL;
	}

	mutex_lock(&vd->state_mutex);
	/*
	 * An arc fault must name a single arc the device can take with its
	 * current features, or it would never fire and stay armed.
	 */
	if (f.type == VFMIG_FAULT_FAIL_ARC || f.type == VFMIG_FAULT_ERROR_ARC) {
		u32 next;

		if (vfmig_fsm_next_state(vd->core.vdev.migration_flags, f.from,
					 f.to, &next) != VFMIG_FSM_OK ||
		    next != f.to) {
			mutex_unlock(&vd->state_mutex);
			return -EINVAL;
		}
	}
	vd->fault = f;
	mutex_unlock(&vd->state_mutex);
	return 0;
}

ssize_t vfmig_fault_show(struct vfmig_device *vd, char *buf)
{
	struct vfmig_fault f;

	mutex_lock(&vd->state_mutex);
	f = vd->fault;
	mutex_unlock(&vd->state_mutex);

	switch (f.type) {
	case VFMIG_FAULT_FAIL_ARC:
	case VFMIG_FAULT_ERROR_ARC:
		return sysfs_emit(buf, "%s %s %s\n",
				  f.type == VFMIG_FAULT_FAIL_ARC ?
				  "fail-arc" : "error-arc",
				  vfmig_fsm_state_name(f.from),
				  vfmig_fsm_state_name(f.to));
	case VFMIG_FAULT_CORRUPT:
		return sysfs_emit(buf, "corrupt %llu\n", f.offset);
	case VFMIG_FAULT_REFUSE_LOAD:
		return sysfs_emit(buf, "refuse-load\n");
	default:
		return sysfs_emit(buf, "none\n");
	}
}

enum vfmig_fault_type vfmig_fault_arc(struct vfmig_device *vd, u32 from,
				      u32 to)
{
	enum vfmig_fault_type type = vd->fault.type;

	if ((type != VFMIG_FAULT_FAIL_ARC && type != VFMIG_FAULT_ERROR_ARC) ||
	    vd->fault.from != from || vd->fault.to != to)
		return VFMIG_FAULT_NONE;
	vd->fault.type = VFMIG_FAULT_NONE;
	return type;
}

bool vfmig_fault_take(struct vfmig_device *vd, enum vfmig_fault_type type,
		      u64 *offset)
{
	if (vd->fault.type != type)
		return false;
	if (offset)
		*offset = vd->fault.offset;
	vd->fault.type = VFMIG_FAULT_NONE;
	return true;
}
