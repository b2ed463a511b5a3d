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

/* The domain named @name: by name, UUID or ID, as virsh looks it up;
 * NULL with an error. */
virDomainPtr vfmigDomainLookup(virConnectPtr conn,
                               const char *name);

/* With --json, a failure is an object too, on stdout: {"error": the
 * last error}; a handler that printed its own document on a failure
 * sets ctl->jsonPrinted, else the dispatcher prints this.  virt-vfmig.c */
void vfmigPrintJSONError(vfmigCtl *ctl);

/* virt-vfmig-hostpolicy.c: host-policy and host-policy-check */
bool cmdHostPolicy(vfmigCtl *ctl, const vfmigCmd *cmd);
extern const vfmigCmdOptDef vfmigOptsHostPolicy[];
bool cmdHostPolicyCheck(vfmigCtl *ctl, const vfmigCmd *cmd);
extern const vfmigCmdOptDef vfmigOptsHostPolicyCheck[];
