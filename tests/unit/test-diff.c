/*
 * test-diff.c: the unified diff of domain-prepare --dry-run
 *
 * Fixed cases whose expected output is what GNU diff -u prints for them;
 * then random texts, whose diff must turn the old text into the new one
 * and change no more lines than the longest common subsequence leaves.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "vfmigdiff.h"

#define HDR "--- a\n+++ b\n"


static void
checkDiff(const char *oldText,
          const char *newText,
          unsigned int context,
          const char *want)
{
    g_autofree char *got = vfmigDiffUnified("a", "b", oldText, newText, context);

    g_assert_cmpstr(got, ==, want);
}


static void
testFixed(void)
{
    /* equal texts, and a missing final newline is no difference */
    checkDiff("", "", 3, "");
    checkDiff("x\ny\n", "x\ny\n", 3, "");
    checkDiff("x\ny", "x\ny\n", 3, "");

    /* one line changed in the middle: three lines of context */
    checkDiff("1\n2\n3\n4\n5\n6\n7\n8\n9\n",
              "1\n2\n3\n4\nfive\n6\n7\n8\n9\n", 3,
              HDR "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");

    /* an insertion at the start and at the end */
    checkDiff("a\nb\n", "new\na\nb\n", 3,
              HDR "@@ -1,2 +1,3 @@\n+new\n a\n b\n");
    checkDiff("a\nb\nc\nd\ne\n", "a\nb\nc\nd\ne\nf\n", 1,
              HDR "@@ -5 +5,2 @@\n e\n+f\n");

    /* from nothing, to nothing */
    checkDiff("", "x\n", 3, HDR "@@ -0,0 +1 @@\n+x\n");
    checkDiff("x\ny\n", "", 3, HDR "@@ -1,2 +0,0 @@\n-x\n-y\n");

    /* an insertion with no context: the range names the line before */
    checkDiff("a\nb\n", "a\nnew\nb\n", 0, HDR "@@ -1,0 +2 @@\n+new\n");

    /* two changes 6 lines apart share a hunk with context 3, not with 2 */
    checkDiff("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
              "1\nX\n3\n4\n5\n6\n7\n8\nY\n10\n", 3,
              HDR "@@ -1,10 +1,10 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n 7\n 8\n-9\n+Y\n 10\n");
    checkDiff("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n",
              "1\nX\n3\n4\n5\n6\n7\n8\nY\n10\n", 2,
              HDR "@@ -1,4 +1,4 @@\n 1\n-2\n+X\n 3\n 4\n"
              "@@ -7,4 +7,4 @@\n 7\n 8\n-9\n+Y\n 10\n");

    /* a line moved: removed where it was, added where it goes */
    checkDiff("a\nb\nc\n", "b\nc\na\n", 3,
              HDR "@@ -1,3 +1,3 @@\n-a\n b\n c\n+a\n");
}


/* Applies the hunks of @diff to @oldText, checking every context and
 * removed line against it; counts the changed lines. */
static char *
applyDiff(const char *oldText,
          const char *diff,
          size_t *changed)
{
    g_auto(GStrv) old = g_strsplit(oldText, "\n", -1);
    g_auto(GStrv) lines = g_strsplit(diff, "\n", -1);
    g_autoptr(GString) out = g_string_new(NULL);
    size_t nold = *oldText ? g_strv_length(old) - 1 : 0; /* texts end with \n */
    size_t pos = 0;
    size_t i;

    *changed = 0;
    if (!*diff)
        return g_strdup(oldText);
    g_assert_cmpstr(lines[0], ==, "--- a");
    g_assert_cmpstr(lines[1], ==, "+++ b");
    for (i = 2; lines[i] && *lines[i]; i++) {
        const char *l = lines[i];

        if (g_str_has_prefix(l, "@@ -")) {
            unsigned long start = strtoul(l + 4, NULL, 10);
            const char *comma = strchr(l, ',');
            const char *space = strchr(l + 4, ' ');
            bool empty = comma && comma < space && comma[1] == '0' &&
                comma[2] == ' ';
            size_t target = empty ? start : start - 1;

            g_assert_cmpuint(target, >=, pos);
            while (pos < target)
                g_string_append_printf(out, "%s\n", old[pos++]);
            continue;
        }
        g_assert_true(l[0] == ' ' || l[0] == '-' || l[0] == '+');
        if (l[0] != '+') {
            g_assert_cmpuint(pos, <, nold);
            g_assert_cmpstr(old[pos], ==, l + 1);
            pos++;
        }
        if (l[0] != '-')
            g_string_append_printf(out, "%s\n", l + 1);
        if (l[0] != ' ')
            (*changed)++;
    }
    while (pos < nold)
        g_string_append_printf(out, "%s\n", old[pos++]);
    return g_string_free(g_steal_pointer(&out), FALSE);
}


static size_t
lcsLength(GStrv a, size_t n, GStrv b, size_t m)
{
    g_autofree size_t *t = g_new0(size_t, (n + 1) * (m + 1));
    size_t i;
    size_t j;

    for (i = 1; i <= n; i++) {
        for (j = 1; j <= m; j++) {
            if (g_str_equal(a[i - 1], b[j - 1]))
                t[i * (m + 1) + j] = t[(i - 1) * (m + 1) + j - 1] + 1;
            else
                t[i * (m + 1) + j] = MAX(t[(i - 1) * (m + 1) + j],
                                         t[i * (m + 1) + j - 1]);
        }
    }
    return t[n * (m + 1) + m];
}


static char *
randomText(GRand *r,
           size_t *n)
{
    g_autoptr(GString) s = g_string_new(NULL);
    size_t i;

    *n = g_rand_int_range(r, 0, 25);
    for (i = 0; i < *n; i++)
        g_string_append_printf(s, "%c\n", 'a' + g_rand_int_range(r, 0, 4));
    return g_string_free(g_steal_pointer(&s), FALSE);
}


static void
testRandom(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(14);
    int iter;

    for (iter = 0; iter < 2000; iter++) {
        size_t n;
        size_t m;
        g_autofree char *a = randomText(r, &n);
        g_autofree char *b = randomText(r, &m);
        unsigned int context = g_rand_int_range(r, 0, 4);
        g_autofree char *diff = vfmigDiffUnified("a", "b", a, b, context);
        g_autofree char *patched = NULL;
        g_auto(GStrv) al = g_strsplit(a, "\n", -1);
        g_auto(GStrv) bl = g_strsplit(b, "\n", -1);
        size_t changed;

        patched = applyDiff(a, diff, &changed);
        g_assert_cmpstr(patched, ==, b);
        g_assert_cmpuint(changed, ==, n + m - 2 * lcsLength(al, n, bl, m));
        g_assert_cmpint(!*diff, ==, g_str_equal(a, b));
    }
}


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/diff/fixed", testFixed);
    g_test_add_func("/diff/random", testRandom);
    return g_test_run();
}
