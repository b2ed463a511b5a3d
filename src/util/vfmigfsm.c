/*
 * vfmigfsm.c: translated errors for the shared migration FSM
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigfsm.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"


int
vfmigFSMCheckTransition(const char *name,
                        uint64_t flags,
                        uint32_t cur,
                        uint32_t target)
{
    uint32_t next;
    enum vfmig_fsm_verdict verdict;

    /* Only the low 32 bits are defined flags; the FSM ignores the rest. */
    verdict = vfmig_fsm_next_state((u32) flags, cur, target, &next);

    switch (verdict) {
    case VFMIG_FSM_OK:
        return 0;
    case VFMIG_FSM_BAD_FLAGS:
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("device '%1$s' does not support VFIO migration (flags 0x%2$llx lack STOP_COPY)"),
                         name, (unsigned long long) flags);
        return -1;
    case VFMIG_FSM_BAD_STATE:
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("device '%1$s': migration state %2$u is not defined by the VFIO uAPI"),
                         name, cur >= VFMIG_DEVICE_STATE_NR ? cur : target);
        return -1;
    case VFMIG_FSM_TO_ERROR:
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("device '%1$s': the ERROR state cannot be requested"),
                         name);
        return -1;
    case VFMIG_FSM_FROM_ERROR:
        vfmigReportError(VFMIG_ERR_DEVICE_ERROR,
                         _("device '%1$s' is in the ERROR state; only a device reset can leave it"),
                         name);
        return -1;
    case VFMIG_FSM_UNSUPPORTED:
        vfmigReportError(VFMIG_ERR_OPERATION_UNSUPPORTED,
                         _("device '%1$s' does not offer the %2$s state"),
                         name,
                         vfmig_fsm_state_supported((u32) flags, cur) ?
                         vfmig_fsm_state_name(target) :
                         vfmig_fsm_state_name(cur));
        return -1;
    case VFMIG_FSM_BLOCKED:
        vfmigReportError(VFMIG_ERR_OPERATION_INVALID,
                         _("device '%1$s': the VFIO uAPI forbids going from STOP_COPY back to %2$s"),
                         name, vfmig_fsm_state_name(target));
        return -1;
    }

    vfmigReportError(VFMIG_ERR_INTERNAL_ERROR,
                     _("unexpected FSM verdict %1$d"), (int) verdict);
    return -1;
}


int
vfmigFSMStateFromString(const char *str)
{
    g_autofree char *norm = NULL;
    char *end = NULL;
    guint64 num;
    size_t i;

    if (!str || !*str)
        return -1;

    if (g_ascii_isdigit(str[0])) {
        num = g_ascii_strtoull(str, &end, 10);
        if (*end || num >= VFMIG_DEVICE_STATE_NR)
            return -1;
        return (int) num;
    }

    norm = g_ascii_strup(str, -1);
    for (i = 0; norm[i]; i++) {
        if (norm[i] == '-')
            norm[i] = '_';
    }
    for (i = 0; i < VFMIG_DEVICE_STATE_NR; i++) {
        if (g_str_equal(norm, vfmig_fsm_state_name(i)))
            return (int) i;
    }
    return -1;
}


int
vfmigFSMStateFromName(const char *str)
{
    uint32_t i;

    if (!str)
        return -1;
    for (i = 0; i < VFMIG_DEVICE_STATE_NR; i++) {
        if (g_str_equal(str, vfmig_fsm_state_name(i)))
            return (int) i;
    }
    return -1;
}
