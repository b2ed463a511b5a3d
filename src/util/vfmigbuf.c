/*
 * vfmigbuf.c: a text buffer with indentation, and XML elements
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdarg.h>

#include "vfmigbuf.h"


void
vfmigBufferSetIndent(vfmigBuffer *buf, int indent)
{
    buf->indent = MAX(indent, 0);
}


int
vfmigBufferGetIndent(const vfmigBuffer *buf)
{
    return buf->indent;
}


/* Creates the string, and indents when at the start of a line. */
static void
vfmigBufferBeginAdd(vfmigBuffer *buf)
{
    if (!buf->str)
        buf->str = g_string_new(NULL);
    if (buf->indent > 0 &&
        (buf->str->len == 0 || buf->str->str[buf->str->len - 1] == '\n')) {
        int i;

        for (i = 0; i < buf->indent; i++)
            g_string_append_c(buf->str, ' ');
    }
}


void
vfmigBufferAdd(vfmigBuffer *buf, const char *str)
{
    vfmigBufferBeginAdd(buf);
    g_string_append(buf->str, str);
}


void
vfmigBufferAsprintf(vfmigBuffer *buf, const char *fmt, ...)
{
    va_list ap;

    vfmigBufferBeginAdd(buf);
    va_start(ap, fmt);
    g_string_append_vprintf(buf->str, fmt, ap);
    va_end(ap);
}


void
vfmigEscapeXMLAppend(GString *out,
                     const char *str,
                     bool attr)
{
    const char *p;

    for (p = str; p && *p; p++) {
        switch (*p) {
        case '<':
            g_string_append(out, "&lt;");
            break;
        case '>':
            g_string_append(out, "&gt;");
            break;
        case '&':
            g_string_append(out, "&amp;");
            break;
        case '\'':
            g_string_append(out, "&apos;");
            break;
        case '"':
            g_string_append(out, "&quot;");
            break;
        case '\r':
            g_string_append(out, "&#xD;");
            break;
        case '\n':
        case '\t':
            if (attr)
                g_string_append(out, *p == '\n' ? "&#xA;" : "&#x9;");
            else
                g_string_append_c(out, *p);
            break;
        default:
            if ((unsigned char) *p >= 0x20)
                g_string_append_c(out, *p);
            break;
        }
    }
}


void
vfmigBufferEscapeXML(vfmigBuffer *buf, const char *str)
{
    g_autofree char *valid = g_utf8_make_valid(str, -1);

    vfmigBufferBeginAdd(buf);
    vfmigEscapeXMLAppend(buf->str, valid, true);
}


void
vfmigBufferAddAttr(vfmigBuffer *buf, const char *name, const char *value)
{
    vfmigBufferAsprintf(buf, " %s='", name);
    vfmigBufferEscapeXML(buf, value);
    g_string_append_c(buf->str, '\'');
}


void
vfmigBufferAddBuffer(vfmigBuffer *buf, vfmigBuffer *src)
{
    if (!src || vfmigBufferIsEmpty(src))
        return;
    if (!buf->str)
        buf->str = g_string_new(NULL);
    g_string_append_len(buf->str, src->str->str, src->str->len);
    vfmigBufferFreeAndReset(src);
}


bool
vfmigBufferIsEmpty(const vfmigBuffer *buf)
{
    return !buf->str || buf->str->len == 0;
}


const char *
vfmigBufferCurrentContent(const vfmigBuffer *buf)
{
    return buf->str ? buf->str->str : "";
}


char *
vfmigBufferContentAndReset(vfmigBuffer *buf)
{
    char *ret = buf->str ? g_string_free(buf->str, FALSE) : g_strdup("");

    buf->str = NULL;
    return ret;
}


void
vfmigBufferFreeAndReset(vfmigBuffer *buf)
{
    if (buf->str)
        g_string_free(buf->str, TRUE);
    buf->str = NULL;
}


void
vfmigXMLFormatElement(vfmigBuffer *buf,
                      const char *name,
                      vfmigBuffer *attrBuf,
                      vfmigBuffer *childBuf)
{
    vfmigBufferAsprintf(buf, "<%s", name);
    vfmigBufferAddBuffer(buf, attrBuf);
    if (childBuf && !vfmigBufferIsEmpty(childBuf)) {
        vfmigBufferAdd(buf, ">\n");
        vfmigBufferAddBuffer(buf, childBuf);
        vfmigBufferAsprintf(buf, "</%s>\n", name);
    } else {
        vfmigBufferAdd(buf, "/>\n");
    }
}
