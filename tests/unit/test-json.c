/*
 * test-json.c: the JSON writer behind the tools' --json output
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <glib.h>

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


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json/nested", testNested);
    g_test_add_func("/json/escaping", testEscaping);
    g_test_add_func("/json/empty-and-reuse", testEmptyAndReuse);
    return g_test_run();
}
