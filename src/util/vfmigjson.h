/*
 * vfmigjson.h: JSON for the tools' machine-readable output, and a reader
 *
 * The writer writes only what the tools print: objects, arrays, strings,
 * integers and booleans, with correct escaping.  Commas are handled by
 * the writer, so callers just emit members in order.
 *
 * The reader takes JSON that others wrote (OpenStack Nova's [pci]
 * device_spec values, which Nova reads with Python's json.loads): strict
 * RFC 8259, UTF-8, nesting bounded, into a tree of vfmigJSONValue.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

#include "vfmigenum.h"

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


/* ---- the reader */

typedef enum {
    VFMIG_JSON_NULL = 0,
    VFMIG_JSON_BOOLEAN,
    VFMIG_JSON_NUMBER,
    VFMIG_JSON_STRING,
    VFMIG_JSON_ARRAY,
    VFMIG_JSON_OBJECT,

    VFMIG_JSON_LAST
} vfmigJSONType;

/* "null", "boolean", "number", "string", "array", "object" */
VFMIG_ENUM_DECL(vfmigJSONType);

/* The deepest nesting of arrays and objects the reader takes. */
#define VFMIG_JSON_DEPTH_MAX 64

typedef struct _vfmigJSONValue vfmigJSONValue;
typedef struct _vfmigJSONMember vfmigJSONMember;

struct _vfmigJSONValue {
    vfmigJSONType type;
    bool boolean;           /* BOOLEAN */
    /* STRING: the string, unescaped (UTF-8 without NUL: "\u0000" is
     * refused); NUMBER: the number as written */
    char *text;
    /* ARRAY: vfmigJSONValue *; OBJECT: vfmigJSONMember *, in the order
     * written (a key given twice is there twice) */
    GPtrArray *items;
};

struct _vfmigJSONMember {
    char *key;
    vfmigJSONValue *value;
};

void vfmigJSONValueFree(vfmigJSONValue *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(vfmigJSONValue, vfmigJSONValueFree);

/*
 * Parses the @len bytes of @text: one JSON value, with white space around
 * it.  Returns 0 with *@value, or -1 with an error (VFMIG_ERR_INVALID_ARG)
 * that says where (the byte offset) and what was expected.  Besides RFC
 * 8259 it refuses invalid UTF-8, a NUL byte, "\u0000", a lone surrogate
 * and nesting deeper than VFMIG_JSON_DEPTH_MAX.
 */
int vfmigJSONParse(const char *text,
                   size_t len,
                   vfmigJSONValue **value);

/* The value of the last member @key of the object @obj (as Python's json
 * keeps it), or NULL: none, or @obj is not an object. */
const vfmigJSONValue *vfmigJSONObjectGet(const vfmigJSONValue *obj,
                                         const char *key);
