/*
 * vfmigdiff.c: a unified diff of two texts, line by line
 *
 * The lines both texts begin and end with are set aside; the rest are
 * matched by their longest common subsequence (a table of
 * VFMIG_DIFF_MAX_CELLS at most), and the edit script is cut into hunks
 * with @context lines around each change, neighbouring hunks merged as
 * diff -u does.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include "vfmigdiff.h"

typedef enum {
    OP_SAME,
    OP_DEL,
    OP_ADD,
} vfmigDiffOpType;

typedef struct {
    vfmigDiffOpType type;
    size_t oldLine;     /* index into the old lines (OP_SAME, OP_DEL) */
    size_t newLine;     /* index into the new lines (OP_SAME, OP_ADD) */
} vfmigDiffOp;


/* The lines of @text, without their newlines; a final newline ends the
 * last line and starts none. */
static GStrv
splitLines(const char *text,
           size_t *n)
{
    GStrv lines = g_strsplit(text ? text : "", "\n", -1);
    size_t len = g_strv_length(lines);

    if (len > 0 && lines[len - 1][0] == '\0') {
        g_free(lines[len - 1]);
        lines[len - 1] = NULL;
        len--;
    }
    *n = len;
    return lines;
}


static void
addOp(GArray *ops,
      vfmigDiffOpType type,
      size_t oldLine,
      size_t newLine)
{
    vfmigDiffOp op = { type, oldLine, newLine };

    g_array_append_val(ops, op);
}


/* The edit script of a[ab..ae) against b[bb..be) into @ops. */
static void
diffMiddle(GStrv a, size_t ab, size_t ae,
           GStrv b, size_t bb, size_t be,
           GArray *ops)
{
    size_t n = ae - ab;
    size_t m = be - bb;
    g_autofree guint32 *lcs = NULL;
    size_t i;
    size_t j;

#define L(x, y) lcs[(x) * (m + 1) + (y)]

    if (n == 0 || m == 0 || n > VFMIG_DIFF_MAX_CELLS / m) {
        for (i = ab; i < ae; i++)
            addOp(ops, OP_DEL, i, 0);
        for (j = bb; j < be; j++)
            addOp(ops, OP_ADD, 0, j);
        return;
    }

    lcs = g_new0(guint32, (n + 1) * (m + 1));
    for (i = n; i-- > 0;) {
        for (j = m; j-- > 0;) {
            if (g_str_equal(a[ab + i], b[bb + j]))
                L(i, j) = L(i + 1, j + 1) + 1;
            else
                L(i, j) = MAX(L(i + 1, j), L(i, j + 1));
        }
    }

    i = 0;
    j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && g_str_equal(a[ab + i], b[bb + j])) {
            addOp(ops, OP_SAME, ab + i, bb + j);
            i++;
            j++;
        } else if (j == m || (i < n && L(i + 1, j) >= L(i, j + 1))) {
            addOp(ops, OP_DEL, ab + i, 0);
            i++;
        } else {
            addOp(ops, OP_ADD, 0, bb + j);
            j++;
        }
    }
#undef L
}


/* "start,count" of a hunk, as diff -u writes it: 1-based, the count left
 * out when 1, and the line before the hunk when the count is 0. */
static void
appendRange(GString *out,
            size_t start,
            size_t count)
{
    if (count == 1)
        g_string_append_printf(out, "%zu", start + 1);
    else if (count == 0)
        g_string_append_printf(out, "%zu,0", start);
    else
        g_string_append_printf(out, "%zu,%zu", start + 1, count);
}


char *
vfmigDiffUnified(const char *oldName,
                 const char *newName,
                 const char *oldText,
                 const char *newText,
                 unsigned int context)
{
    g_auto(GStrv) a = NULL;
    g_auto(GStrv) b = NULL;
    g_autoptr(GArray) ops = g_array_new(FALSE, FALSE, sizeof(vfmigDiffOp));
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree size_t *oldPos = NULL;
    g_autofree size_t *newPos = NULL;
    size_t n;
    size_t m;
    size_t pre = 0;
    size_t post = 0;
    size_t k;
    size_t nops;

    a = splitLines(oldText, &n);
    b = splitLines(newText, &m);

    while (pre < n && pre < m && g_str_equal(a[pre], b[pre]))
        pre++;
    while (post < n - pre && post < m - pre &&
           g_str_equal(a[n - 1 - post], b[m - 1 - post]))
        post++;
    if (pre == n && pre == m)
        return g_strdup("");

    for (k = 0; k < pre; k++)
        addOp(ops, OP_SAME, k, k);
    diffMiddle(a, pre, n - post, b, pre, m - post, ops);
    for (k = 0; k < post; k++)
        addOp(ops, OP_SAME, n - post + k, m - post + k);

    /* where each op stands in either text */
    nops = ops->len;
    oldPos = g_new0(size_t, nops + 1);
    newPos = g_new0(size_t, nops + 1);
    for (k = 0; k < nops; k++) {
        const vfmigDiffOp *op = &g_array_index(ops, vfmigDiffOp, k);

        oldPos[k + 1] = oldPos[k] + (op->type != OP_ADD);
        newPos[k + 1] = newPos[k] + (op->type != OP_DEL);
    }

    g_string_append_printf(out, "--- %s\n+++ %s\n", oldName, newName);

    k = 0;
    while (k < nops) {
        size_t first;
        size_t last;
        size_t start;
        size_t end;
        size_t x;

        while (k < nops && g_array_index(ops, vfmigDiffOp, k).type == OP_SAME)
            k++;
        if (k == nops)
            break;

        /* the changes of this hunk: first..last, with at most
         * 2 * context unchanged lines between two of them */
        first = k;
        last = k;
        for (x = k + 1; x < nops; x++) {
            if (g_array_index(ops, vfmigDiffOp, x).type == OP_SAME)
                continue;
            if (x - last - 1 > 2 * (size_t) context)
                break;
            last = x;
        }
        start = first > context ? first - context : 0;
        end = MIN(nops, last + 1 + context);

        g_string_append(out, "@@ -");
        appendRange(out, oldPos[start], oldPos[end] - oldPos[start]);
        g_string_append(out, " +");
        appendRange(out, newPos[start], newPos[end] - newPos[start]);
        g_string_append(out, " @@\n");
        for (x = start; x < end; x++) {
            const vfmigDiffOp *op = &g_array_index(ops, vfmigDiffOp, x);

            switch (op->type) {
            case OP_SAME:
                g_string_append_printf(out, " %s\n", a[op->oldLine]);
                break;
            case OP_DEL:
                g_string_append_printf(out, "-%s\n", a[op->oldLine]);
                break;
            case OP_ADD:
                g_string_append_printf(out, "+%s\n", b[op->newLine]);
                break;
            }
        }
        k = end;
    }

    return g_string_free(g_steal_pointer(&out), FALSE);
}
