/*
 * vfmigstring.c: strings from outside (XML, sysfs) made safe to print
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include "vfmigstring.h"


char *
vfmigStringEscapeText(const char *str)
{
    const char *p;
    GString *out;

    if (!str)
        return NULL;

    out = g_string_sized_new(strlen(str));
    for (p = str; *p;) {
        gunichar c = g_utf8_get_char_validated(p, -1);
        unsigned char b = *p;

        if (c == (gunichar) -1 || c == (gunichar) -2) {
            /* not UTF-8: the byte, escaped */
            g_string_append_printf(out, "\\x%02x", b);
            p++;
            continue;
        }
        if (c == '\\') {
            g_string_append(out, "\\\\");
        } else if (c == '\n') {
            g_string_append(out, "\\n");
        } else if (c == '\r') {
            g_string_append(out, "\\r");
        } else if (c == '\t') {
            g_string_append(out, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            g_string_append_printf(out, "\\x%02x", (unsigned int) c);
        } else if (!g_unichar_isprint(c)) {
            /* C1 controls, format characters (bidi overrides), unassigned:
             * each byte of its encoding */
            const char *next = g_utf8_next_char(p);

            for (; p < next; p++)
                g_string_append_printf(out, "\\x%02x", (unsigned char) *p);
            continue;
        } else {
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
        }
        p = g_utf8_next_char(p);
    }
    return g_string_free(out, FALSE);
}
