/*
 * vfmigdowntimeparams.h: the downtime settings of a migration, one table
 *
 * A migration's downtime settings (the target, a deadline, libvirt's
 * overhead, the destination's load time, what to do on failure) cross
 * several layers: the domain policy's XML, `virt-vfmig migrate`'s and
 * virt-vfmigd's options, the steering of a domain, the controller.  They
 * travel in one struct, vfmigDowntimeSettings, which every option struct
 * on the way embeds, and each is one row of one table indexed by
 * vfmigDowntimeParam: its name at the boundary and its range.
 *
 * Inside, every time is in us.  ms is the unit at the boundary only (the
 * user's options, the XML, libvirt's downtime and limit), and crosses it
 * in one place: vfmigDowntimeSettingsSetMs, which checks the range and
 * the conversion.  The failure rule is the domain policy's
 * vfmigDomainPolicyOnFailure (one name table,
 * vfmigDomainPolicyOnFailureType); the downtime policy's own abort/switch
 * is derived from it in one place, vfmigDowntimeSettingsPolicyOnFailure.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vfmigdomainpolicy.h"
#include "vfmigdowntime.h"
#include "vfmigenum.h"

typedef enum {
    VFMIG_DOWNTIME_PARAM_TARGET = 0,    /* the downtime to meet, as libvirt
                                         * measures it */
    VFMIG_DOWNTIME_PARAM_DEADLINE,      /* from the first step; give up or
                                         * switch anyway after it */
    VFMIG_DOWNTIME_PARAM_OVERHEAD,      /* libvirt's own part of the
                                         * downtime */
    VFMIG_DOWNTIME_PARAM_LOAD,          /* the destination's load of the
                                         * initial data (0: switchover-ack
                                         * is on) */

    VFMIG_DOWNTIME_PARAM_LAST
} vfmigDowntimeParam;
/* The names at the boundary: "target-ms", "deadline-ms", ... */
VFMIG_ENUM_DECL(vfmigDowntimeParam);

typedef struct _vfmigDowntimeSettings vfmigDowntimeSettings;
struct _vfmigDowntimeSettings {
    uint64_t us[VFMIG_DOWNTIME_PARAM_LAST];     /* 0: not set */
    unsigned int set;                           /* 1 << param: given */
    vfmigDomainPolicyOnFailure onFailure;       /* DEFAULT: not given */
};

/* The largest value of @param at the boundary, ms. */
uint64_t vfmigDowntimeParamMaxMs(vfmigDowntimeParam param);

/*
 * Sets @param from @ms, the unit at the boundary.  Returns 0, or -1 with
 * an error naming the setting when @ms is out of its range.
 */
int vfmigDowntimeSettingsSetMs(vfmigDowntimeSettings *settings,
                               vfmigDowntimeParam param,
                               uint64_t ms);
/* Sets @param from a value already in us (a learned overhead). */
void vfmigDowntimeSettingsSetUs(vfmigDowntimeSettings *settings,
                                vfmigDowntimeParam param,
                                uint64_t us);
/* Whether @param was given. */
bool vfmigDowntimeSettingsHas(const vfmigDowntimeSettings *settings,
                              vfmigDowntimeParam param);
/* @param in us; 0 when not given. */
uint64_t vfmigDowntimeSettingsUs(const vfmigDowntimeSettings *settings,
                                 vfmigDowntimeParam param);

/* Every parameter @over gives, and its failure rule unless DEFAULT,
 * replaces @settings'. */
void vfmigDowntimeSettingsOverride(vfmigDowntimeSettings *settings,
                                   const vfmigDowntimeSettings *over);

/* The failure rule in effect: BEST_EFFORT when given so, else ABORT. */
vfmigDomainPolicyOnFailure
vfmigDowntimeSettingsOnFailure(const vfmigDowntimeSettings *settings);
/* The same, as the downtime policy's (vfmigdowntime.h). */
vfmigDowntimeOnFailure
vfmigDowntimeSettingsPolicyOnFailure(const vfmigDowntimeSettings *settings);
