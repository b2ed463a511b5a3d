/*
 * vfmigjson.c: JSON for the tools' machine-readable output, and a reader
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include "vfmigjson.h"
#include "vfmigerror.h"
#include "vfmigi18n.h"

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
vfmigJSONWriteMember(vfmigJSONWriter *w, const char *key)
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
    vfmigJSONWriteMember(w, key);
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
    vfmigJSONWriteMember(w, key);
    if (value)
        vfmigJSONEscape(w->buf, value);
    else
        g_string_append(w->buf, "null");
}


void
vfmigJSONUInt(vfmigJSONWriter *w, const char *key, unsigned long long value)
{
    vfmigJSONWriteMember(w, key);
    g_string_append_printf(w->buf, "%llu", value);
}


void
vfmigJSONBool(vfmigJSONWriter *w, const char *key, bool value)
{
    vfmigJSONWriteMember(w, key);
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


/* ---- the reader */

VFMIG_ENUM_IMPL(vfmigJSONType, VFMIG_JSON_LAST,
                "null", "boolean", "number", "string", "array", "object");


typedef struct _vfmigJSONReader vfmigJSONReader;
struct _vfmigJSONReader {
    const char *text;
    size_t len;
    size_t pos;
};


static void
vfmigJSONMemberFree(vfmigJSONMember *member)
{
    if (!member)
        return;
    g_free(member->key);
    vfmigJSONValueFree(member->value);
    g_free(member);
}


void
vfmigJSONValueFree(vfmigJSONValue *value)
{
    if (!value)
        return;
    g_free(value->text);
    if (value->items)
        g_ptr_array_unref(value->items);
    g_free(value);
}


/* Reports what the reader expected at its position. */
static int
vfmigJSONExpected(vfmigJSONReader *r,
                  const char *what)
{
    if (r->pos >= r->len)
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("not valid JSON: it ends where %1$s was expected"),
                         what);
    else
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("not valid JSON at byte %1$llu: %2$s expected"),
                         (unsigned long long) r->pos, what);
    return -1;
}


static void
vfmigJSONSkipSpace(vfmigJSONReader *r)
{
    while (r->pos < r->len &&
           (r->text[r->pos] == ' ' || r->text[r->pos] == '\t' ||
            r->text[r->pos] == '\n' || r->text[r->pos] == '\r'))
        r->pos++;
}


/* Whether @word is next (and then consumes it). */
static bool
vfmigJSONTake(vfmigJSONReader *r,
              const char *word)
{
    size_t n = strlen(word);

    if (r->len - r->pos < n || memcmp(r->text + r->pos, word, n) != 0)
        return false;
    r->pos += n;
    return true;
}


/* Four hex digits of a \u escape. */
static int
vfmigJSONReadHex4(vfmigJSONReader *r,
              gunichar *cp)
{
    size_t i;

    *cp = 0;
    for (i = 0; i < 4; i++) {
        int d;

        if (r->pos >= r->len || (d = g_ascii_xdigit_value(r->text[r->pos])) < 0)
            return vfmigJSONExpected(r, _("a hexadecimal digit of a \\u escape"));
        *cp = *cp * 16 + d;
        r->pos++;
    }
    return 0;
}


/* The character of a \u escape (a surrogate pair is one); after "\u". */
static int
vfmigJSONReadUnicode(vfmigJSONReader *r,
                 GString *out)
{
    gunichar cp;
    gunichar low;

    if (vfmigJSONReadHex4(r, &cp) < 0)
        return -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return vfmigJSONExpected(r, _("a \\u escape that is not a lone low surrogate"));
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (!vfmigJSONTake(r, "\\u"))
            return vfmigJSONExpected(r, _("the low surrogate that completes a \\u escape"));
        if (vfmigJSONReadHex4(r, &low) < 0)
            return -1;
        if (low < 0xDC00 || low > 0xDFFF)
            return vfmigJSONExpected(r, _("the low surrogate that completes a \\u escape"));
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (cp == 0)
        return vfmigJSONExpected(r, _("a \\u escape other than \\u0000"));
    g_string_append_unichar(out, cp);
    return 0;
}


/* A string, at its opening quote. */
static int
vfmigJSONReadString(vfmigJSONReader *r,
                 char **str)
{
    g_autoptr(GString) out = g_string_new(NULL);

    r->pos++;
    while (true) {
        unsigned char c;

        if (r->pos >= r->len)
            return vfmigJSONExpected(r, _("the closing '\"' of a string"));
        c = r->text[r->pos];
        if (c == '"') {
            r->pos++;
            break;
        }
        if (c < 0x20)
            return vfmigJSONExpected(r, _("a character other than a control character in a string"));
        if (c != '\\') {
            g_string_append_c(out, c);
            r->pos++;
            continue;
        }

        r->pos++;
        if (r->pos >= r->len)
            return vfmigJSONExpected(r, _("an escape after '\\'"));
        c = r->text[r->pos++];
        switch (c) {
        case '"':
        case '\\':
        case '/':
            g_string_append_c(out, c);
            break;
        case 'b':
            g_string_append_c(out, '\b');
            break;
        case 'f':
            g_string_append_c(out, '\f');
            break;
        case 'n':
            g_string_append_c(out, '\n');
            break;
        case 'r':
            g_string_append_c(out, '\r');
            break;
        case 't':
            g_string_append_c(out, '\t');
            break;
        case 'u':
            if (vfmigJSONReadUnicode(r, out) < 0)
                return -1;
            break;
        default:
            r->pos--;
            return vfmigJSONExpected(r, _("one of '\"', '\\', '/', 'b', 'f', 'n', 'r', 't' or 'u' after '\\'"));
        }
    }
    *str = g_string_free(g_steal_pointer(&out), FALSE);
    return 0;
}


static size_t
vfmigJSONReadDigits(vfmigJSONReader *r)
{
    size_t start = r->pos;

    while (r->pos < r->len && g_ascii_isdigit(r->text[r->pos]))
        r->pos++;
    return r->pos - start;
}


/* A number, kept as written: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
vfmigJSONReadNumber(vfmigJSONReader *r,
                char **text)
{
    size_t start = r->pos;

    if (r->pos < r->len && r->text[r->pos] == '-')
        r->pos++;
    if (r->pos < r->len && r->text[r->pos] == '0')
        r->pos++;
    else if (vfmigJSONReadDigits(r) == 0)
        return vfmigJSONExpected(r, _("a digit"));
    if (r->pos < r->len && r->text[r->pos] == '.') {
        r->pos++;
        if (vfmigJSONReadDigits(r) == 0)
            return vfmigJSONExpected(r, _("a digit after the decimal point"));
    }
    if (r->pos < r->len && (r->text[r->pos] == 'e' || r->text[r->pos] == 'E')) {
        r->pos++;
        if (r->pos < r->len && (r->text[r->pos] == '+' || r->text[r->pos] == '-'))
            r->pos++;
        if (vfmigJSONReadDigits(r) == 0)
            return vfmigJSONExpected(r, _("a digit of the exponent"));
    }
    *text = g_strndup(r->text + start, r->pos - start);
    return 0;
}


static int vfmigJSONReadValue(vfmigJSONReader *r, unsigned int depth,
                           vfmigJSONValue **value);


/* The members of an object or the items of an array, at '{' or '['. */
static int
vfmigJSONReadContainer(vfmigJSONReader *r,
                   unsigned int depth,
                   vfmigJSONValue *value)
{
    bool object = r->text[r->pos] == '{';
    char close = object ? '}' : ']';

    if (depth >= VFMIG_JSON_DEPTH_MAX) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("not valid JSON at byte %1$llu: nested deeper than %2$d arrays and objects"),
                         (unsigned long long) r->pos, VFMIG_JSON_DEPTH_MAX);
        return -1;
    }
    value->type = object ? VFMIG_JSON_OBJECT : VFMIG_JSON_ARRAY;
    value->items = object ?
        g_ptr_array_new_with_free_func((GDestroyNotify) vfmigJSONMemberFree) :
        g_ptr_array_new_with_free_func((GDestroyNotify) vfmigJSONValueFree);
    r->pos++;
    vfmigJSONSkipSpace(r);
    if (r->pos < r->len && r->text[r->pos] == close) {
        r->pos++;
        return 0;
    }

    while (true) {
        g_autoptr(vfmigJSONValue) item = NULL;
        g_autofree char *key = NULL;

        if (object) {
            vfmigJSONMember *member;

            if (r->pos >= r->len || r->text[r->pos] != '"')
                return vfmigJSONExpected(r, _("a member name (a string)"));
            if (vfmigJSONReadString(r, &key) < 0)
                return -1;
            vfmigJSONSkipSpace(r);
            if (!vfmigJSONTake(r, ":"))
                return vfmigJSONExpected(r, _("':'"));
            if (vfmigJSONReadValue(r, depth + 1, &item) < 0)
                return -1;
            member = g_new0(vfmigJSONMember, 1);
            member->key = g_steal_pointer(&key);
            member->value = g_steal_pointer(&item);
            g_ptr_array_add(value->items, member);
        } else {
            if (vfmigJSONReadValue(r, depth + 1, &item) < 0)
                return -1;
            g_ptr_array_add(value->items, g_steal_pointer(&item));
        }

        vfmigJSONSkipSpace(r);
        if (vfmigJSONTake(r, ",")) {
            vfmigJSONSkipSpace(r);
            continue;
        }
        if (r->pos < r->len && r->text[r->pos] == close) {
            r->pos++;
            return 0;
        }
        return vfmigJSONExpected(r, object ? _("',' or '}'") : _("',' or ']'"));
    }
}


/* A value, after white space. */
static int
vfmigJSONReadValue(vfmigJSONReader *r,
                unsigned int depth,
                vfmigJSONValue **value)
{
    g_autoptr(vfmigJSONValue) v = g_new0(vfmigJSONValue, 1);
    char c;

    vfmigJSONSkipSpace(r);
    if (r->pos >= r->len)
        return vfmigJSONExpected(r, _("a value"));

    c = r->text[r->pos];
    if (c == '{' || c == '[') {
        if (vfmigJSONReadContainer(r, depth, v) < 0)
            return -1;
    } else if (c == '"') {
        v->type = VFMIG_JSON_STRING;
        if (vfmigJSONReadString(r, &v->text) < 0)
            return -1;
    } else if (c == '-' || g_ascii_isdigit(c)) {
        v->type = VFMIG_JSON_NUMBER;
        if (vfmigJSONReadNumber(r, &v->text) < 0)
            return -1;
    } else if (vfmigJSONTake(r, "true")) {
        v->type = VFMIG_JSON_BOOLEAN;
        v->boolean = true;
    } else if (vfmigJSONTake(r, "false")) {
        v->type = VFMIG_JSON_BOOLEAN;
    } else if (vfmigJSONTake(r, "null")) {
        v->type = VFMIG_JSON_NULL;
    } else {
        return vfmigJSONExpected(r, _("a value (an object, an array, a string, a number, true, false or null)"));
    }
    *value = g_steal_pointer(&v);
    return 0;
}


int
vfmigJSONParse(const char *text,
               size_t len,
               vfmigJSONValue **value)
{
    vfmigJSONReader r = { .text = text, .len = len, .pos = 0 };
    g_autoptr(vfmigJSONValue) v = NULL;
    const char *bad = NULL;

    *value = NULL;
    if (!g_utf8_validate(text, len, &bad)) {
        vfmigReportError(VFMIG_ERR_INVALID_ARG,
                         _("not valid JSON at byte %1$llu: not UTF-8, or a NUL byte"),
                         (unsigned long long) (bad - text));
        return -1;
    }
    if (vfmigJSONReadValue(&r, 0, &v) < 0)
        return -1;
    vfmigJSONSkipSpace(&r);
    if (r.pos < r.len)
        return vfmigJSONExpected(&r, _("nothing after the value"));
    *value = g_steal_pointer(&v);
    return 0;
}


const vfmigJSONValue *
vfmigJSONObjectGet(const vfmigJSONValue *obj,
                   const char *key)
{
    size_t i;

    if (!obj || obj->type != VFMIG_JSON_OBJECT)
        return NULL;
    for (i = obj->items->len; i > 0; i--) {
        const vfmigJSONMember *m = g_ptr_array_index(obj->items, i - 1);

        if (g_str_equal(m->key, key))
            return m->value;
    }
    return NULL;
}
