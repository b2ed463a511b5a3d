/*
 * vfmigenum.h: enum <-> string tables, like libvirt's VIR_ENUM_IMPL
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stddef.h>

/* @names[@v], or NULL when @v is out of range. */
const char *vfmigEnumToString(const char *const *names, size_t n, int v);

/* The index of @str in @names, or -1 (also for NULL). */
int vfmigEnumFromString(const char *const *names, size_t n, const char *str);
