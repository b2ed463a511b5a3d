/*
 * virt-vfmig.h: the command groups of virt-vfmig
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "vfmig-shell.h"

extern const vfmigCmdDef vfmigGenericCmds[];
extern const vfmigCmdDef vfmigDeviceCmds[];
extern const vfmigCmdDef vfmigMigrateCmds[];
extern const vfmigCmdDef vfmigNodeDevCmds[];
extern const vfmigCmdDef vfmigDomainCmds[];

/* virt-vfmig-migrate.c: the migrate command of the domain commands */
bool cmdMigrate(vfmigCtl *ctl, const vfmigCmd *cmd);
extern const vfmigCmdOptDef vfmigOptsMigrate[];
