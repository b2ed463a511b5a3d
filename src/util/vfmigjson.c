/*
 * vfmigjson.c: writing JSON for the tools' machine-readable output
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigjson.h"

struct _vfmigJSONWriter {
    GString *buf;
    unsigned int depth;
    bool first;         /* no member written yet at this depth */
};


vfmigJSONWriter *
vfmigJSONWriterNew(void)
{
    vfmigJSONWriter *w = g_new0(vfmigJSONWriter, 1);

    w->buf = g_string_new(NULL);
    w->first = true;
    return w;
}


void
vfmigJSONWriterFree(vfmigJSONWriter *w)
{
    if (!w)
        return;
    g_string_free(w->buf, TRUE);
    g_free(w);
}


static void
vfmigJSONEscape(GString *buf, const char *s)
{
    g_string_append_c(buf, '"');
    for (; *s; s++) {
        unsigned char c = *s;

        switch (c) {
        case '"':
            g_string_append(buf, "\\\"");
            break;
        case '\\':
            g_string_append(buf, "\\\\");
            break;
        case '\n':
            g_string_append(buf, "\\n");
            break;
        case '\r':
            g_string_append(buf, "\\r");
            break;
        case '\t':
            g_string_append(buf, "\\t");
            break;
        default:
            if (c < 0x20)
                g_string_append_printf(buf, "\\u%04x", c);
            else
                g_string_append_c(buf, c);
        }
    }
    g_string_append_c(buf, '"');
}


/* Separator, indentation and key of the next member. */
static void
vfmigJSONMember(vfmigJSONWriter *w, const char *key)
{
    if (w->depth > 0) {
        g_string_append(w->buf, w->first ? "\n" : ",\n");
        g_string_append_printf(w->buf, "%*s", (int) w->depth * 2, "");
    }
    w->first = false;
    if (key) {
        vfmigJSONEscape(w->buf, key);
        g_string_append(w->buf, ": ");
    }
}


static void
vfmigJSONOpen(vfmigJSONWriter *w, const char *key, char c)
{
    vfmigJSONMember(w, key);
    g_string_append_c(w->buf, c);
    w->depth++;
    w->first = true;
}


static void
vfmigJSONClose(vfmigJSONWriter *w, char c)
{
    w->depth--;
    if (!w->first)
        g_string_append_printf(w->buf, "\n%*s", (int) w->depth * 2, "");
    g_string_append_c(w->buf, c);
    w->first = false;
}


void
vfmigJSONBeginObject(vfmigJSONWriter *w, const char *key)
{
    vfmigJSONOpen(w, key, '{');
}


void
vfmigJSONEndObject(vfmigJSONWriter *w)
{
    vfmigJSONClose(w, '}');
}


void
vfmigJSONBeginArray(vfmigJSONWriter *w, const char *key)
{
    vfmigJSONOpen(w, key, '[');
}


void
vfmigJSONEndArray(vfmigJSONWriter *w)
{
    vfmigJSONClose(w, ']');
}


void
vfmigJSONString(vfmigJSONWriter *w, const char *key, const char *value)
{
    vfmigJSONMember(w, key);
    if (value)
        vfmigJSONEscape(w->buf, value);
    else
        g_string_append(w->buf, "null");
}


void
vfmigJSONUInt(vfmigJSONWriter *w, const char *key, unsigned long long value)
{
    vfmigJSONMember(w, key);
    g_string_append_printf(w->buf, "%llu", value);
}


void
vfmigJSONBool(vfmigJSONWriter *w, const char *key, bool value)
{
    vfmigJSONMember(w, key);
    g_string_append(w->buf, value ? "true" : "false");
}


char *
vfmigJSONWriterFinish(vfmigJSONWriter *w)
{
    char *ret;

    g_string_append_c(w->buf, '\n');
    ret = g_string_free(w->buf, FALSE);
    w->buf = g_string_new(NULL);
    w->depth = 0;
    w->first = true;
    return ret;
}
