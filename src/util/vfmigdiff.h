/*
 * vfmigdiff.h: a unified diff of two texts, line by line
 *
 * What `diff -u` prints, made in process: for showing what a command
 * would change in a document (virt-vfmig domain-prepare --dry-run)
 * without temporary files or another program.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

/* Lines of context around each change, as diff -u. */
#define VFMIG_DIFF_CONTEXT 3

/*
 * Beyond this many cells of the comparison table (lines of one text that
 * differ times lines of the other), the lines that differ are shown as
 * all removed and all added: still a correct diff, only not the
 * smallest.
 */
#define VFMIG_DIFF_MAX_CELLS (16 * 1024 * 1024)

/*
 * The unified diff from @oldText to @newText, with @context lines of
 * context, headed "--- @oldName" and "+++ @newName".  A text's last line
 * without a newline is compared as if it had one.  Returns "" (an empty
 * string, never NULL) when the texts have the same lines.
 */
char *vfmigDiffUnified(const char *oldName,
                       const char *newName,
                       const char *oldText,
                       const char *newText,
                       unsigned int context);
