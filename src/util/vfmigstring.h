/*
 * vfmigstring.h: strings from outside (XML, sysfs) made safe to print
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

/*
 * A copy of @str for text output (a terminal, a line-based log): every
 * control character, DEL, C1 control, invalid UTF-8 byte and backslash is
 * escaped as \n, \r, \t, \\ or \xHH, so a string read from an XML
 * attribute (&#xA;) or a sysfs file cannot start a line of its own, move
 * the cursor or pass for another field.  Printable UTF-8 stays as it is.
 * NULL gives NULL.
 */
char *vfmigStringEscapeText(const char *str);
