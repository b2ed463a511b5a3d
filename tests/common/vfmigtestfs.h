/*
 * vfmigtestfs.h: building and removing the fake trees (sysfs, caches)
 * the tests probe; every failure fails the test
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

/* mkdir -p */
void vfmigTestMkdirs(const char *path);

/* @path with @contents, its directories made */
void vfmigTestWriteFile(const char *path,
                        const char *contents);

/* a symbolic link @path to @target, its directory made */
void vfmigTestLink(const char *target,
                   const char *path);

/* rm -r, without following links */
void vfmigTestRmTree(const char *path);
