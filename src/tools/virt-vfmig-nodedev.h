/*
 * virt-vfmig-nodedev.h: what the node-device commands of virt-vfmig share
 *
 * The commands decide nothing: vfmignodedevprobe.h, vfmignodedevquery.h
 * and vfmignodedevnova.h do.  These are their option helpers, the
 * printer of a probe's problems and the JSON of a qualification.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "virt-vfmig.h"
#include "vfmigjson.h"
#include "vfmignodedevprobe.h"

/* vfmigNodeDevProbeFlags of --vfio-query. */
unsigned int vfmigNodeDevCmdProbeFlags(const vfmigCmd *cmd);

/* "warning: ..." on standard error for each vfmigError * of @errors. */
void vfmigNodeDevPrintErrors(const GPtrArray *errors);

/* The member "qualified" of a device in --json: the last qualification,
 * as nodedev-dumpxml's <qualified/> has it, or null. */
void vfmigNodeDevQualifiedJSON(vfmigJSONWriter *w,
                               const vfmigNodeDevQualified *q);

bool cmdNodeDevCompare(vfmigCtl *ctl, const vfmigCmd *cmd);
extern const vfmigCmdOptDef vfmigNodeDevOptsCompare[];

bool cmdNodeDevNovaSpec(vfmigCtl *ctl, const vfmigCmd *cmd);
extern const vfmigCmdOptDef vfmigNodeDevOptsNovaSpec[];
