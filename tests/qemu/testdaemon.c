/*
 * testdaemon.c: the lines virt-vfmigd reports, for its tests (testdaemon.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "testdaemon.h"


void
testDaemonReport(void *opaque,
                 vfmigDaemonReportLevel level,
                 const char *line)
{
    GPtrArray *lines = opaque;
    const char *prefix = level == VFMIG_DAEMON_REPORT_WARNING ? "warning: " : "";

    if (level == VFMIG_DAEMON_REPORT_PROGRESS)
        return;
    g_test_message("%s%s", prefix, line);
    g_ptr_array_add(lines, g_strdup_printf("%s%s", prefix, line));
}


unsigned int
testDaemonLinesWith(GPtrArray *lines,
                    const char *prefix)
{
    unsigned int n = 0;
    guint i;

    for (i = 0; i < lines->len; i++) {
        if (g_str_has_prefix(lines->pdata[i], prefix))
            n++;
    }
    return n;
}
