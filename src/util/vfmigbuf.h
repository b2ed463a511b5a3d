/*
 * vfmigbuf.h: a text buffer with indentation, and XML elements formatted
 * from an attribute buffer and a child buffer
 *
 * A formatter writes one function per element: it fills an attribute
 * buffer and a child buffer (set up with VFMIG_BUFFER_INIT_CHILD(), so its
 * lines come out one level deeper) and ends with vfmigXMLFormatElement(),
 * which writes <name attrs/> when there are no children and
 * <name attrs>...</name> when there are.  Nobody tracks whether a start
 * tag is still open.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

typedef struct _vfmigBuffer vfmigBuffer;
struct _vfmigBuffer {
    GString *str;   /* NULL until something is added */
    int indent;     /* spaces put before each line added */
};

#define VFMIG_BUFFER_INITIALIZER { NULL, 0 }

/* A buffer for the children of an element written into @parent. */
#define VFMIG_BUFFER_INIT_CHILD(parent) { NULL, (parent)->indent + 2 }

void vfmigBufferSetIndent(vfmigBuffer *buf, int indent);
int vfmigBufferGetIndent(const vfmigBuffer *buf);

/* Appends @str; at the start of a line, after the indentation. */
void vfmigBufferAdd(vfmigBuffer *buf, const char *str);

void vfmigBufferAsprintf(vfmigBuffer *buf, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/*
 * Appends @str to @out escaped for XML: the five special characters
 * always, control characters other than tab and newlines dropped (XML
 * has none), and, in an attribute value (@attr), tab, newline and
 * carriage return as character references, which a parser's attribute
 * normalization would otherwise turn into spaces; in text a carriage
 * return only (a parser reads a raw one as a newline).  The one escaper
 * of every XML vfmig writes.
 */
void vfmigEscapeXMLAppend(GString *out, const char *str, bool attr);

/* Appends @str escaped as vfmigEscapeXMLAppend does for an attribute
 * value (so for text too: tabs and newlines kept as references), invalid
 * UTF-8 replaced. */
void vfmigBufferEscapeXML(vfmigBuffer *buf, const char *str);

/* Appends " @name='@value'", the value escaped. */
void vfmigBufferAddAttr(vfmigBuffer *buf, const char *name, const char *value);

/* Moves the content of @src, as it is, to the end of @buf. */
void vfmigBufferAddBuffer(vfmigBuffer *buf, vfmigBuffer *src);

bool vfmigBufferIsEmpty(const vfmigBuffer *buf);

/* The content so far ("" when empty); owned by @buf. */
const char *vfmigBufferCurrentContent(const vfmigBuffer *buf);

/* The content (never NULL), for the caller to free; @buf is empty after. */
char *vfmigBufferContentAndReset(vfmigBuffer *buf);

void vfmigBufferFreeAndReset(vfmigBuffer *buf);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(vfmigBuffer, vfmigBufferFreeAndReset);

/*
 * Writes the element @name into @buf at its indentation: <name/> with the
 * content of @attrBuf (attributes, each with its leading space) and, when
 * @childBuf has content, that content (whole lines, indented one level
 * deeper) and </name>.  Either buffer may be NULL; both are empty after.
 */
void vfmigXMLFormatElement(vfmigBuffer *buf,
                           const char *name,
                           vfmigBuffer *attrBuf,
                           vfmigBuffer *childBuf);
