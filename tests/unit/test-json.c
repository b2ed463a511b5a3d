/*
 * test-json.c: the JSON writer behind the tools' --json output, and the
 * reader of JSON others wrote (Nova's device_spec values): every kind of
 * value, escapes and surrogate pairs, a key given twice, and what it
 * refuses, with the message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include <glib.h>

#include "vfmigerror.h"
#include "vfmigjson.h"


static void
testNested(void)
{
    g_autoptr(vfmigJSONWriter) w = vfmigJSONWriterNew();
    g_autofree char *out = NULL;

    vfmigJSONBeginArray(w, NULL);
    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "name", "pci_0000_3b_00_2");
    vfmigJSONUInt(w, "bytes", 18446744073709551615ULL);
    vfmigJSONBool(w, "pre-copy", true);
    vfmigJSONString(w, "firmware", NULL);
    vfmigJSONBeginArray(w, "features");
    vfmigJSONString(w, NULL, "stop-copy");
    vfmigJSONString(w, NULL, "p2p");
    vfmigJSONEndArray(w);
    vfmigJSONBeginObject(w, "empty");
    vfmigJSONEndObject(w);
    vfmigJSONEndObject(w);
    vfmigJSONEndArray(w);
    out = vfmigJSONWriterFinish(w);

    g_assert_cmpstr(out, ==,
                    "[\n"
                    "  {\n"
                    "    \"name\": \"pci_0000_3b_00_2\",\n"
                    "    \"bytes\": 18446744073709551615,\n"
                    "    \"pre-copy\": true,\n"
                    "    \"firmware\": null,\n"
                    "    \"features\": [\n"
                    "      \"stop-copy\",\n"
                    "      \"p2p\"\n"
                    "    ],\n"
                    "    \"empty\": {}\n"
                    "  }\n"
                    "]\n");
}


static void
testEscaping(void)
{
    g_autoptr(vfmigJSONWriter) w = vfmigJSONWriterNew();
    g_autofree char *out = NULL;

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONString(w, "k\"ey", "a\"b\\c\nd\te\x01 \xc3\xa9");
    vfmigJSONEndObject(w);
    out = vfmigJSONWriterFinish(w);

    g_assert_cmpstr(out, ==,
                    "{\n  \"k\\\"ey\": \"a\\\"b\\\\c\\nd\\te\\u0001 \xc3\xa9\"\n}\n");
}


static void
testEmptyAndReuse(void)
{
    g_autoptr(vfmigJSONWriter) w = vfmigJSONWriterNew();
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;

    vfmigJSONBeginArray(w, NULL);
    vfmigJSONEndArray(w);
    a = vfmigJSONWriterFinish(w);
    g_assert_cmpstr(a, ==, "[]\n");

    vfmigJSONBeginObject(w, NULL);
    vfmigJSONUInt(w, "n", 0);
    vfmigJSONEndObject(w);
    b = vfmigJSONWriterFinish(w);
    g_assert_cmpstr(b, ==, "{\n  \"n\": 0\n}\n");
}


static vfmigJSONValue *
testParse(const char *text)
{
    vfmigJSONValue *v = NULL;

    g_assert_cmpint(vfmigJSONParse(text, strlen(text), &v), ==, 0);
    g_assert_nonnull(v);
    return v;
}


static void
testRead(void)
{
    g_autoptr(vfmigJSONValue) v =
        testParse(" {\"a\": [1, -2.5e+3, true, false, null, \"x\"], \"b\": {}, \"a\": \"last\", \"c\": []}\n");
    const vfmigJSONValue *a;
    const vfmigJSONMember *m;

    g_assert_cmpint(v->type, ==, VFMIG_JSON_OBJECT);
    g_assert_cmpuint(v->items->len, ==, 4);
    m = g_ptr_array_index(v->items, 0);
    g_assert_cmpstr(m->key, ==, "a");
    a = m->value;
    g_assert_cmpint(a->type, ==, VFMIG_JSON_ARRAY);
    g_assert_cmpuint(a->items->len, ==, 6);
    g_assert_cmpstr(((vfmigJSONValue *) g_ptr_array_index(a->items, 0))->text, ==, "1");
    g_assert_cmpstr(((vfmigJSONValue *) g_ptr_array_index(a->items, 1))->text, ==, "-2.5e+3");
    g_assert_cmpint(((vfmigJSONValue *) g_ptr_array_index(a->items, 1))->type, ==, VFMIG_JSON_NUMBER);
    g_assert_true(((vfmigJSONValue *) g_ptr_array_index(a->items, 2))->boolean);
    g_assert_cmpint(((vfmigJSONValue *) g_ptr_array_index(a->items, 3))->type, ==, VFMIG_JSON_BOOLEAN);
    g_assert_false(((vfmigJSONValue *) g_ptr_array_index(a->items, 3))->boolean);
    g_assert_cmpint(((vfmigJSONValue *) g_ptr_array_index(a->items, 4))->type, ==, VFMIG_JSON_NULL);
    g_assert_cmpstr(((vfmigJSONValue *) g_ptr_array_index(a->items, 5))->text, ==, "x");

    /* a key given twice: the last, as Python's json keeps it */
    g_assert_cmpstr(vfmigJSONObjectGet(v, "a")->text, ==, "last");
    g_assert_cmpint(vfmigJSONObjectGet(v, "b")->type, ==, VFMIG_JSON_OBJECT);
    g_assert_cmpuint(vfmigJSONObjectGet(v, "c")->items->len, ==, 0);
    g_assert_null(vfmigJSONObjectGet(v, "d"));
    g_assert_null(vfmigJSONObjectGet(a, "a"));
    g_assert_cmpstr(vfmigJSONTypeToString(VFMIG_JSON_ARRAY), ==, "array");
}


static void
testReadEscapes(void)
{
    g_autoptr(vfmigJSONValue) v =
        testParse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00 \xc3\xa9\"");

    g_assert_cmpint(v->type, ==, VFMIG_JSON_STRING);
    g_assert_cmpstr(v->text, ==, "q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xf0\x9f\x98\x80 \xc3\xa9");
}


/* @text is refused with @msg. */
static void
testBad(const char *text,
        size_t len,
        const char *msg)
{
    vfmigJSONValue *v = NULL;

    g_test_message("%s", text);
    g_assert_cmpint(vfmigJSONParse(text, len, &v), ==, -1);
    g_assert_null(v);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, msg);
    vfmigResetLastError();
}


static void
testReadRefused(void)
{
    g_autoptr(GString) deep = g_string_new(NULL);
    g_autoptr(vfmigJSONValue) ok = NULL;
    size_t i;

    testBad("", 0, "not valid JSON: it ends where a value was expected");
    testBad("{\"a\": 1,}", 9, "not valid JSON at byte 8: a member name (a string) expected");
    testBad("[1 2]", 5, "not valid JSON at byte 3: ',' or ']' expected");
    testBad("{\"a\" 1}", 7, "not valid JSON at byte 5: ':' expected");
    testBad("{} x", 4, "not valid JSON at byte 3: nothing after the value expected");
    testBad("01", 2, "not valid JSON at byte 1: nothing after the value expected");
    testBad("1.", 2, "not valid JSON: it ends where a digit after the decimal point was expected");
    testBad("NaN", 3, "not valid JSON at byte 0: a value (an object, an array, a string, a number, true, false or null) expected");
    testBad("\"a\nb\"", 5, "not valid JSON at byte 2: a character other than a control character in a string expected");
    testBad("\"\\x\"", 4, "not valid JSON at byte 2: one of '\"', '\\', '/', 'b', 'f', 'n', 'r', 't' or 'u' after '\\' expected");
    testBad("\"\\u12g4\"", 8, "not valid JSON at byte 5: a hexadecimal digit of a \\u escape expected");
    testBad("\"\\ud83d\"", 8, "not valid JSON at byte 7: the low surrogate that completes a \\u escape expected");
    testBad("\"\\ude00\"", 8, "not valid JSON at byte 7: a \\u escape that is not a lone low surrogate expected");
    testBad("\"\\u0000\"", 8, "not valid JSON at byte 7: a \\u escape other than \\u0000 expected");
    testBad("\"\xff\"", 3, "not valid JSON at byte 1: not UTF-8, or a NUL byte");
    testBad("\"a\0\"", 4, "not valid JSON at byte 2: not UTF-8, or a NUL byte");

    /* nesting: 64 levels, not 65 */
    for (i = 0; i < VFMIG_JSON_DEPTH_MAX; i++)
        g_string_append_c(deep, '[');
    for (i = 0; i < VFMIG_JSON_DEPTH_MAX; i++)
        g_string_append_c(deep, ']');
    ok = testParse(deep->str);
    g_string_prepend_c(deep, '[');
    g_string_append_c(deep, ']');
    testBad(deep->str, deep->len, "not valid JSON at byte 64: nested deeper than 64 arrays and objects");
}


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json/nested", testNested);
    g_test_add_func("/json/escaping", testEscaping);
    g_test_add_func("/json/empty-and-reuse", testEmptyAndReuse);
    g_test_add_func("/json/read", testRead);
    g_test_add_func("/json/read-escapes", testReadEscapes);
    g_test_add_func("/json/read-refused", testReadRefused);
    return g_test_run();
}
