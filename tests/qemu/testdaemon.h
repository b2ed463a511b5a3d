/*
 * testdaemon.h: what the tests of virt-vfmigd over libvirt's test driver
 * (test-daemon-hostdefault.c, test-daemon-workers.c) share: the lines the
 * daemon reports, kept for the test to count.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "vfmigdaemon.h"

/* A vfmigDaemonConfig report callback whose @opaque is a GPtrArray of
 * strings: every line but progress, warnings prefixed "warning: ", also
 * given to g_test_message. */
void testDaemonReport(void *opaque,
                      vfmigDaemonReportLevel level,
                      const char *line);

/* How many of @lines start with @prefix. */
unsigned int testDaemonLinesWith(GPtrArray *lines,
                                 const char *prefix);
