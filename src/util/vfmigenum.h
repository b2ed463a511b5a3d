/*
 * vfmigenum.h: enum <-> string tables
 *
 * One table per set of names.  A header declares the conversions of an
 * enum with VFMIG_ENUM_DECL(name); one source file defines them with
 * VFMIG_ENUM_IMPL(name, lastValue, "first", "second", ...), which also
 * checks at compile time that the table has exactly @lastValue names:
 *
 *     vfmigfoo.h:  typedef enum { VFMIG_FOO_A, VFMIG_FOO_B,
 *                                 VFMIG_FOO_LAST } vfmigFoo;
 *                  VFMIG_ENUM_DECL(vfmigFoo);
 *     vfmigfoo.c:  VFMIG_ENUM_IMPL(vfmigFoo, VFMIG_FOO_LAST, "a", "b");
 *
 * gives vfmigFooToString(int) (NULL when out of range) and
 * vfmigFooFromString(const char *) (-1 when unknown or NULL).  Names may
 * be given with designated initializers ([VFMIG_FOO_B] = "b") when an enum
 * does not start at 0; the gaps are NULL and never match a string.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stddef.h>

/* @names[@v], or NULL when @v is out of range. */
const char *vfmigEnumToString(const char *const *names, size_t n, int v);

/* The index of @str in @names, or -1 (also for NULL). */
int vfmigEnumFromString(const char *const *names, size_t n, const char *str);

#define VFMIG_ENUM_DECL(name) \
    const char *name ## ToString(int type); \
    int name ## FromString(const char *str)

#define VFMIG_ENUM_IMPL(name, lastValue, ...) \
    static const char *const name ## Names[] = { __VA_ARGS__ }; \
    _Static_assert(sizeof(name ## Names) / sizeof(name ## Names[0]) == \
                   (size_t) (lastValue), \
                   "the " #name " name table and " #lastValue " disagree"); \
    const char * \
    name ## ToString(int type) \
    { \
        return vfmigEnumToString(name ## Names, \
                                 sizeof(name ## Names) / sizeof(name ## Names[0]), \
                                 type); \
    } \
    int \
    name ## FromString(const char *str) \
    { \
        return vfmigEnumFromString(name ## Names, \
                                   sizeof(name ## Names) / sizeof(name ## Names[0]), \
                                   str); \
    } \
    struct vfmigEnumImplEnd_ ## name
