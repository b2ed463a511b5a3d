/*
 * vfmigdowntimeparams.c: the downtime settings of a migration, one table
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigdowntimeparams.h"

#include <inttypes.h>

#include <glib.h>

#include "vfmigerror.h"
#include "vfmigi18n.h"

VFMIG_ENUM_IMPL(vfmigDowntimeParam, VFMIG_DOWNTIME_PARAM_LAST,
                [VFMIG_DOWNTIME_PARAM_TARGET] = "target-ms",
                [VFMIG_DOWNTIME_PARAM_DEADLINE] = "deadline-ms",
                [VFMIG_DOWNTIME_PARAM_OVERHEAD] = "overhead-ms",
                [VFMIG_DOWNTIME_PARAM_LOAD] = "load-ms",
);

typedef struct _vfmigDowntimeParamInfo vfmigDowntimeParamInfo;
struct _vfmigDowntimeParamInfo {
    uint64_t maxMs;                 /* the largest value at the boundary */
};

/* One row per parameter. */
static const vfmigDowntimeParamInfo vfmigDowntimeParamTable[] = {
    /* QEMU's largest downtime-limit */
    [VFMIG_DOWNTIME_PARAM_TARGET] = { VFMIG_DOWNTIME_QEMU_LIMIT_MAX_MS },
    [VFMIG_DOWNTIME_PARAM_DEADLINE] = { 24ULL * 3600 * 1000 },
    /* a minute: more is no overhead but a broken host */
    [VFMIG_DOWNTIME_PARAM_OVERHEAD] = { 60000 },
    [VFMIG_DOWNTIME_PARAM_LOAD] = { 60000 },
};
G_STATIC_ASSERT(G_N_ELEMENTS(vfmigDowntimeParamTable) == VFMIG_DOWNTIME_PARAM_LAST);


uint64_t
vfmigDowntimeParamMaxMs(vfmigDowntimeParam param)
{
    return vfmigDowntimeParamTable[param].maxMs;
}


int
vfmigDowntimeSettingsSetMs(vfmigDowntimeSettings *settings,
                           vfmigDowntimeParam param,
                           uint64_t ms)
{
    uint64_t us;

    if (ms > vfmigDowntimeParamTable[param].maxMs ||
        vfmigDowntimeMsToUs(ms, &us) < 0) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("%1$s: %2$" PRIu64 " is out of range (0 to %3$" PRIu64 ")"),
                         vfmigDowntimeParamToString(param), ms,
                         vfmigDowntimeParamTable[param].maxMs);
        return -1;
    }
    vfmigDowntimeSettingsSetUs(settings, param, us);
    return 0;
}


void
vfmigDowntimeSettingsSetUs(vfmigDowntimeSettings *settings,
                           vfmigDowntimeParam param,
                           uint64_t us)
{
    settings->us[param] = us;
    settings->set |= 1U << param;
}


bool
vfmigDowntimeSettingsHas(const vfmigDowntimeSettings *settings,
                         vfmigDowntimeParam param)
{
    return (settings->set & (1U << param)) != 0;
}


uint64_t
vfmigDowntimeSettingsUs(const vfmigDowntimeSettings *settings,
                        vfmigDowntimeParam param)
{
    return vfmigDowntimeSettingsHas(settings, param) ? settings->us[param] : 0;
}


void
vfmigDowntimeSettingsOverride(vfmigDowntimeSettings *settings,
                              const vfmigDowntimeSettings *over)
{
    size_t i;

    for (i = 0; i < VFMIG_DOWNTIME_PARAM_LAST; i++) {
        if (vfmigDowntimeSettingsHas(over, i))
            vfmigDowntimeSettingsSetUs(settings, i, over->us[i]);
    }
    if (over->onFailure != VFMIG_DOMAIN_POLICY_ON_FAILURE_DEFAULT)
        settings->onFailure = over->onFailure;
}


vfmigDomainPolicyOnFailure
vfmigDowntimeSettingsOnFailure(const vfmigDowntimeSettings *settings)
{
    switch (settings->onFailure) {
    case VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT:
        return VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT;
    case VFMIG_DOMAIN_POLICY_ON_FAILURE_DEFAULT:
    case VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT:
    case VFMIG_DOMAIN_POLICY_ON_FAILURE_LAST:
        break;
    }
    return VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT;
}


vfmigDowntimeOnFailure
vfmigDowntimeSettingsPolicyOnFailure(const vfmigDowntimeSettings *settings)
{
    return vfmigDowntimeSettingsOnFailure(settings) ==
        VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT ?
        VFMIG_DOWNTIME_ON_FAILURE_SWITCH : VFMIG_DOWNTIME_ON_FAILURE_ABORT;
}
