/*
 * vfmiglog.c: debug logging
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "vfmiglog.h"

/* -1: not decided yet (VFMIG_DEBUG is read on first use), 0 off, 1 on */
static gint vfmigLogDebugState = -1;


bool
vfmigLogDebugEnabled(void)
{
    gint state = g_atomic_int_get(&vfmigLogDebugState);

    if (state < 0) {
        int saved = errno;
        const char *env = g_getenv("VFMIG_DEBUG");

        state = env && *env && !g_str_equal(env, "0");
        /* a concurrent vfmigLogSetDebug() wins */
        g_atomic_int_compare_and_exchange(&vfmigLogDebugState, -1, state);
        state = g_atomic_int_get(&vfmigLogDebugState);
        errno = saved;
    }
    return state > 0;
}


void
vfmigLogSetDebug(bool enabled)
{
    g_atomic_int_set(&vfmigLogDebugState, enabled ? 1 : 0);
}


void
vfmigLogDebug(const char *func, const char *fmt, ...)
{
    int saved = errno;
    gint64 now = g_get_monotonic_time();
    g_autofree char *msg = NULL;
    g_autofree char *line = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    line = g_strdup_printf("vfmig: %" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT " %s: %s\n",
                           now / G_USEC_PER_SEC, now % G_USEC_PER_SEC, func, msg);
    /* one write of the whole line: lines of threads do not interleave */
    fputs(line, stderr);
    fflush(stderr);
    errno = saved;
}
