/*
 * vfmigenum.c: enum <-> string tables
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include "vfmigenum.h"


const char *
vfmigEnumToString(const char *const *names, size_t n, int v)
{
    if (v < 0 || (size_t) v >= n)
        return NULL;
    return names[v];
}


int
vfmigEnumFromString(const char *const *names, size_t n, const char *str)
{
    size_t i;

    if (!str)
        return -1;
    for (i = 0; i < n; i++) {
        if (names[i] && strcmp(names[i], str) == 0)
            return i;
    }
    return -1;
}
