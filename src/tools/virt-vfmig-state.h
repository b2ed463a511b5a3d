/*
 * virt-vfmig-state.h: what the device state commands of virt-vfmig share
 *
 * The commands decide nothing: vfmigdevctl.h does.  These are their
 * option helpers, the signal handler that sets the library's cancel flag,
 * the progress line and the printers of the library's reports.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdio.h>

#include "virt-vfmig.h"
#include "vfmigdevctl.h"
#include "vfmigjson.h"

/* QEMU's largest downtime-limit, and a day for the time limit. */
#define VFMIG_STATE_TARGET_MS_MAX 2000000
#define VFMIG_STATE_TIMEOUT_MAX (24 * 3600)

/* Set by SIGINT and SIGTERM (installed by vfmigStateSetupSignals): the
 * cancel flag the commands give the library. */
extern gint vfmigStateCancel;
void vfmigStateSetupSignals(void);

/* --NAME as a whole number in 1 .. @max into *@value; 0 when not given.
 * -1 on a usage error. */
int vfmigStateOptNumber(vfmigCtl *ctl,
                        const vfmigCmd *cmd,
                        const char *name,
                        uint64_t max,
                        uint64_t *value);

/* Tests point the tools at fake trees; in production every path is the
 * real one. */
void vfmigStatePathsFromEnv(vfmigDevCtlPaths *paths);

/* The progress line on a terminal. */
typedef struct _vfmigStateProgress vfmigStateProgress;
struct _vfmigStateProgress {
    GMutex lock;
    bool enabled;
    bool have[VFMIG_ENGINE_SIDE_LAST];
    vfmigEngineProgress last[VFMIG_ENGINE_SIDE_LAST];
    int width;                  /* of the line on the terminal now */
};

void vfmigStateProgressInit(vfmigStateProgress *p);
void vfmigStateProgressCb(const vfmigEngineProgress *pr, void *opaque);
void vfmigStateProgressEnd(vfmigStateProgress *p);

/* "warning: ..." on standard error for each of @warnings. */
void vfmigStatePrintWarnings(const GPtrArray *warnings);

/* Text reports: "Label:    value". */
char *vfmigStateUs(uint64_t us);
char *vfmigStateBytes(uint64_t bytes);
void vfmigStateField(FILE *out, const char *label, const char *value);
void vfmigStateFieldNum(FILE *out, const char *label, unsigned long long value);
void vfmigStateFieldTake(FILE *out, const char *label, char *value);
uint64_t vfmigStateElapsed(const vfmigEngineReport *r);
void vfmigStateTextSource(FILE *out, const vfmigEngineReport *r);
void vfmigStateTextEvents(FILE *out, const vfmigEngineReport *r);
void vfmigStateTextHints(FILE *out,
                         const vfmigDevCtlHint *stop,
                         const vfmigDevCtlHint *resume);
/* "measured in this run", "from the driver's sysfs" ... */
char *vfmigStateSourceText(const vfmigDevCtlHint *hint);

/* JSON reports. */
void vfmigStateJSONNum(vfmigJSONWriter *w, const char *key, uint64_t value);
void vfmigStateJSONReport(vfmigJSONWriter *w,
                          const char *key,
                          const vfmigEngineReport *r);
void vfmigStateJSONHints(vfmigJSONWriter *w,
                         const vfmigDevCtlHint *stop,
                         const vfmigDevCtlHint *resume);
void vfmigStateJSONHint(vfmigJSONWriter *w,
                        const char *key,
                        const vfmigDevCtlHint *hint);
void vfmigStateJSONPrint(vfmigJSONWriter *w, FILE *out);

bool cmdDeviceQualify(vfmigCtl *ctl, const vfmigCmd *cmd);
extern const vfmigCmdOptDef vfmigStateOptsDeviceQualify[];
