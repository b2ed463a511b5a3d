/*
 * test-string.c: strings from XML or sysfs escaped for text output
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <glib.h>

#include "vfmigstring.h"


static void
testEscape(void)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "mlx5_vfio_pci", "mlx5_vfio_pci" },
        { "", "" },
        { "a\nCompatible: yes", "a\\nCompatible: yes" },
        { "cr\rtab\tesc\x1b[2Jdel\x7f", "cr\\rtab\\tesc\\x1b[2Jdel\\x7f" },
        { "back\\slash", "back\\\\slash" },
        { "caf\xc3\xa9", "caf\xc3\xa9" },           /* printable UTF-8 stays */
        { "bad\xff\xfe", "bad\\xff\\xfe" },         /* not UTF-8 */
        { "c1\xc2\x85", "c1\\xc2\\x85" },           /* U+0085 NEXT LINE */
        { "rlo\xe2\x80\xae", "rlo\\xe2\\x80\\xae" }, /* U+202E bidi override */
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *out = vfmigStringEscapeText(cases[i].in);

        g_assert_cmpstr(out, ==, cases[i].out);
    }
    g_assert_null(vfmigStringEscapeText(NULL));
}


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/string/escape", testEscape);
    return g_test_run();
}
