/*
 * test-buf.c: the indenting buffer and vfmigXMLFormatElement
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <glib.h>

#include "vfmigbuf.h"


/* <leaf a='1'/>, or nothing when @skip */
static void
formatLeaf(vfmigBuffer *buf, const char *name, const char *value, bool skip)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;

    if (skip)
        return;
    vfmigBufferAddAttr(&attrBuf, "value", value);
    vfmigXMLFormatElement(buf, name, &attrBuf, NULL);
}


static void
formatMiddle(vfmigBuffer *buf, bool empty)
{
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) childBuf = VFMIG_BUFFER_INIT_CHILD(buf);

    vfmigBufferAsprintf(&attrBuf, " count='%d'", empty ? 0 : 2);
    formatLeaf(&childBuf, "a", "x<y & 'z'", empty);
    formatLeaf(&childBuf, "b", "\"q\"\n\t", empty);
    vfmigXMLFormatElement(buf, "middle", &attrBuf, &childBuf);
}


static void
testNested(void)
{
    g_auto(vfmigBuffer) buf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) childBuf = VFMIG_BUFFER_INIT_CHILD(&buf);
    g_autofree char *out = NULL;

    formatMiddle(&childBuf, false);
    formatMiddle(&childBuf, true);
    vfmigXMLFormatElement(&buf, "top", NULL, &childBuf);
    g_assert_true(vfmigBufferIsEmpty(&childBuf));
    out = vfmigBufferContentAndReset(&buf);

    g_assert_cmpstr(out, ==,
                    "<top>\n"
                    "  <middle count='2'>\n"
                    "    <a value='x&lt;y &amp; &apos;z&apos;'/>\n"
                    "    <b value='&quot;q&quot;&#xA;&#x9;'/>\n"
                    "  </middle>\n"
                    "  <middle count='0'/>\n"
                    "</top>\n");
    g_assert_true(vfmigBufferIsEmpty(&buf));
}


static void
testIndent(void)
{
    g_auto(vfmigBuffer) buf = VFMIG_BUFFER_INITIALIZER;
    g_auto(vfmigBuffer) attrBuf = VFMIG_BUFFER_INITIALIZER;
    g_autofree char *out = NULL;
    g_autofree char *empty = NULL;

    vfmigBufferSetIndent(&buf, 4);
    g_assert_cmpint(vfmigBufferGetIndent(&buf), ==, 4);
    /* indentation at the start of each line only */
    vfmigBufferAdd(&buf, "<x");
    vfmigBufferAdd(&buf, "/>\n");
    vfmigBufferAddAttr(&attrBuf, "name", "v");
    vfmigXMLFormatElement(&buf, "y", &attrBuf, NULL);
    g_assert_true(vfmigBufferIsEmpty(&attrBuf));
    g_assert_cmpstr(vfmigBufferCurrentContent(&buf), ==,
                    "    <x/>\n"
                    "    <y name='v'/>\n");

    vfmigBufferSetIndent(&buf, -3);
    g_assert_cmpint(vfmigBufferGetIndent(&buf), ==, 0);
    out = vfmigBufferContentAndReset(&buf);
    g_assert_nonnull(out);
    empty = vfmigBufferContentAndReset(&buf);
    g_assert_cmpstr(empty, ==, "");
    g_assert_cmpstr(vfmigBufferCurrentContent(&buf), ==, "");
}


/* Invalid UTF-8 is replaced, control characters are dropped. */
static void
testEscape(void)
{
    g_auto(vfmigBuffer) buf = VFMIG_BUFFER_INITIALIZER;

    vfmigBufferEscapeXML(&buf, "a\x01" "b\r\xff");
    g_assert_cmpstr(vfmigBufferCurrentContent(&buf), ==, "ab&#xD;\xef\xbf\xbd");
}


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/buf/nested", testNested);
    g_test_add_func("/buf/indent", testIndent);
    g_test_add_func("/buf/escape", testEscape);
    return g_test_run();
}
