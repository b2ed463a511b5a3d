/*
 * vfmiglog.h: debug logging
 *
 * With VFMIG_DEBUG set in the environment (to anything but "" or "0") or
 * after vfmigLogSetDebug(true) (the tools' --debug), VFMIG_DEBUG() writes
 * one line to stderr:
 *
 *     vfmig: <seconds.microseconds, monotonic> <function>: <message>
 *
 * Otherwise it costs one test of a flag.  The library logs every VFIO
 * ioctl with its arguments, result and errno, every device state change
 * with its duration, every engine phase, every downtime-policy decision
 * with its inputs, and every error it reports.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

/* Whether debug lines are written. */
bool vfmigLogDebugEnabled(void);

/* Turns debug lines on or off, whatever VFMIG_DEBUG says. */
void vfmigLogSetDebug(bool enabled);

/* Writes a debug line from @func, whether or not debugging is enabled. */
void vfmigLogDebug(const char *func, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

#define VFMIG_DEBUG(...) \
    do { \
        if (vfmigLogDebugEnabled()) \
            vfmigLogDebug(__func__, __VA_ARGS__); \
    } while (0)
