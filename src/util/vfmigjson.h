/*
 * vfmigjson.h: writing JSON for the tools' machine-readable output
 *
 * Only writing, only what the tools print: objects, arrays, strings,
 * integers and booleans, with correct escaping.  Commas are handled by
 * the writer, so callers just emit members in order.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

typedef struct _vfmigJSONWriter vfmigJSONWriter;

vfmigJSONWriter *vfmigJSONWriterNew(void);
void vfmigJSONWriterFree(vfmigJSONWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigJSONWriter, vfmigJSONWriterFree);

/* @key is NULL inside arrays and at the top level. */
void vfmigJSONBeginObject(vfmigJSONWriter *w, const char *key);
void vfmigJSONEndObject(vfmigJSONWriter *w);
void vfmigJSONBeginArray(vfmigJSONWriter *w, const char *key);
void vfmigJSONEndArray(vfmigJSONWriter *w);
/* @value NULL writes null. */
void vfmigJSONString(vfmigJSONWriter *w, const char *key, const char *value);
void vfmigJSONUInt(vfmigJSONWriter *w, const char *key, unsigned long long value);
void vfmigJSONBool(vfmigJSONWriter *w, const char *key, bool value);

/* The document, pretty-printed with two-space indentation and a final
 * newline; the writer is left empty. */
char *vfmigJSONWriterFinish(vfmigJSONWriter *w);
