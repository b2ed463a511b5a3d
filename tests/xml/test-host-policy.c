/*
 * test-host-policy.c: the host's default migration policy, XML in and out
 *
 * Every hostpolicydata/NAME.xml is a host policy document:
 *   NAME.xml                parses, and formats to
 *                           hostpolicyxml2xmlout/NAME.xml, which parses
 *                           back to itself;
 *   NAME-invalid.xml        is refused with exactly the message in
 *                           NAME-invalid.err (check-schemas.sh checks the
 *                           schema refuses it too);
 *   NAME-parse-invalid.xml  the same, for what only the parser can see
 *                           (two entries for one flavor, more flavors
 *                           than VFMIG_HOST_POLICY_FLAVORS_MAX): the
 *                           schema accepts it.
 * VFMIG_TEST_REGENERATE=1 writes the outputs and messages of a new
 * example (read them before committing them).
 * Then which entry a flavor takes, and the limits on documents made here.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include <glib.h>

#include "vfmighostpolicy.h"
#include "vfmigerror.h"

#define DATA_DIR "hostpolicydata"
#define OUT_DIR "hostpolicyxml2xmlout"


static char *
readFile(const char *dir,
         const char *name)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, dir, name, NULL);
    g_autoptr(GError) err = NULL;
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, &err))
        g_error("cannot read %s: %s", path, err->message);
    return text;
}


static void
assertRefused(const char *xml,
              const char *message)
{
    g_autoptr(vfmigHostPolicy) policy = NULL;

    vfmigResetLastError();
    policy = vfmigHostPolicyParseString(xml);
    g_assert_null(policy);
    g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
    g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, message);
}


static void
testData(gconstpointer opaque)
{
    const char *name = opaque;
    g_autofree char *input = readFile(DATA_DIR, name);
    g_autoptr(vfmigHostPolicy) policy = NULL;
    g_autoptr(vfmigHostPolicy) again = NULL;
    g_autofree char *out = NULL;
    g_autofree char *out2 = NULL;
    g_autofree char *want = NULL;

    if (g_str_has_suffix(name, "-invalid.xml")) {
        g_autofree char *base = g_strndup(name, strlen(name) - strlen(".xml"));
        g_autofree char *errName = g_strconcat(base, ".err", NULL);
        g_autofree char *message = NULL;

        if (g_getenv("VFMIG_TEST_REGENERATE")) {
            g_autofree char *path = g_test_build_filename(G_TEST_DIST, DATA_DIR, errName, NULL);
            g_autofree char *got = NULL;
            g_autoptr(GError) err = NULL;

            vfmigResetLastError();
            g_assert_null(vfmigHostPolicyParseString(input));
            got = g_strconcat(vfmigGetLastErrorMessage(), "\n", NULL);
            g_file_set_contents(path, got, -1, &err);
            g_assert_no_error(err);
        }
        message = readFile(DATA_DIR, errName);
        assertRefused(input, g_strchomp(message));
        return;
    }

    vfmigResetLastError();
    if (!(policy = vfmigHostPolicyParseString(input)))
        g_error("%s: %s", name, vfmigGetLastErrorMessage());
    out = vfmigHostPolicyFormatString(policy);
    if (g_getenv("VFMIG_TEST_REGENERATE")) {
        g_autofree char *path = g_test_build_filename(G_TEST_DIST, OUT_DIR, name, NULL);
        g_autoptr(GError) err = NULL;

        g_file_set_contents(path, out, -1, &err);
        g_assert_no_error(err);
    }
    want = readFile(OUT_DIR, name);
    g_assert_cmpstr(out, ==, want);

    /* the canonical form is a fixed point */
    if (!(again = vfmigHostPolicyParseString(out)))
        g_error("%s: output does not parse: %s", name, vfmigGetLastErrorMessage());
    out2 = vfmigHostPolicyFormatString(again);
    g_assert_cmpstr(out2, ==, out);
}


/* A flavor's entry, else the default; names as they are. */
static void
testLookup(const void *opaque G_GNUC_UNUSED)
{
    g_autofree char *full = readFile(DATA_DIR, "full.xml");
    g_autofree char *only = readFile(DATA_DIR, "flavors_only.xml");
    g_autoptr(vfmigHostPolicy) withDefault = vfmigHostPolicyParseString(full);
    g_autoptr(vfmigHostPolicy) flavors = vfmigHostPolicyParseString(only);
    const vfmigHostPolicyEntry *e;

    g_assert_nonnull(withDefault);
    g_assert_nonnull(flavors);

    e = vfmigHostPolicyLookup(withDefault, "vf.gold");
    g_assert_nonnull(e);
    g_assert_cmpstr(e->flavor, ==, "vf.gold");
    g_assert_cmpuint(e->downtime.targetMs, ==, 300);
    g_assert_cmpint(e->downtime.onFailure, ==, VFMIG_DOMAIN_POLICY_ON_FAILURE_ABORT);
    g_assert_cmpint(e->precopy, ==, VFMIG_DOMAIN_POLICY_PRECOPY_REQUIRED);

    e = vfmigHostPolicyLookup(withDefault, "VF.GOLD");
    g_assert_true(e == withDefault->def);
    g_assert_null(e->flavor);
    g_assert_cmpuint(e->downtime.targetMs, ==, 1000);
    g_assert_cmpint(e->downtime.onFailure, ==, VFMIG_DOMAIN_POLICY_ON_FAILURE_BEST_EFFORT);
    g_assert_cmpint(e->precopy, ==, VFMIG_DOMAIN_POLICY_PRECOPY_PREFERRED);
    g_assert_true(vfmigHostPolicyLookup(withDefault, NULL) == withDefault->def);

    g_assert_cmpuint(flavors->nflavors, ==, 3);
    e = vfmigHostPolicyLookup(flavors, "vf.silver");
    g_assert_nonnull(e);
    g_assert_cmpuint(e->downtime.targetMs, ==, 2000);
    g_assert_cmpint(e->downtime.onFailure, ==, VFMIG_DOMAIN_POLICY_ON_FAILURE_DEFAULT);
    g_assert_cmpint(e->precopy, ==, VFMIG_DOMAIN_POLICY_PRECOPY_DEFAULT);
    g_assert_null(vfmigHostPolicyLookup(flavors, "m1.small"));
    g_assert_null(vfmigHostPolicyLookup(flavors, NULL));
}


/* A document of @nflavors flavors f0, f1, ... with every part given. */
static char *
manyFlavors(size_t nflavors)
{
    g_autoptr(GString) xml = g_string_new("<hostpolicy xmlns='" VFMIG_HOST_POLICY_NS_URI "'>\n");
    size_t i;

    for (i = 0; i < nflavors; i++)
        g_string_append_printf(xml,
                               "  <flavor name='f%zu'>\n"
                               "    <downtime target-ms='%zu' on-failure='abort'/>\n"
                               "    <precopy mode='required'/>\n"
                               "  </flavor>\n", i, i + 1);
    g_string_append(xml, "</hostpolicy>\n");
    return g_string_free(g_steal_pointer(&xml), FALSE);
}


/* VFMIG_HOST_POLICY_FLAVORS_MAX flavors, well within the size limit;
 * one more is refused before any entry is read (an invalid first entry
 * does not change the message). */
static void
testLimitFlavors(const void *opaque G_GNUC_UNUSED)
{
    g_autofree char *atMax = manyFlavors(VFMIG_HOST_POLICY_FLAVORS_MAX);
    g_autofree char *over = manyFlavors(VFMIG_HOST_POLICY_FLAVORS_MAX + 1);
    g_autofree char *badFirst = NULL;
    g_autoptr(vfmigHostPolicy) policy = NULL;
    g_autofree char *out = NULL;
    g_auto(GStrv) parts = NULL;

    g_assert_cmpint(VFMIG_HOST_POLICY_FLAVORS_MAX, ==, 256);
    g_assert_cmpuint(strlen(atMax), <, VFMIG_HOST_POLICY_SIZE_MAX / 16);
    vfmigResetLastError();
    if (!(policy = vfmigHostPolicyParseString(atMax)))
        g_error("%s", vfmigGetLastErrorMessage());
    g_assert_cmpuint(policy->nflavors, ==, VFMIG_HOST_POLICY_FLAVORS_MAX);
    g_assert_cmpuint(vfmigHostPolicyLookup(policy, "f255")->downtime.targetMs, ==, 256);
    out = vfmigHostPolicyFormatString(policy);
    g_assert_cmpstr(out, ==, atMax);

    assertRefused(over,
                  "invalid host policy: hostpolicy/flavor[257]: an entry beyond the limit of 256 <flavor> entries");
    parts = g_strsplit(over, "target-ms='1'", 2);
    badFirst = g_strjoinv("target-ms='0'", parts);
    assertRefused(badFirst,
                  "invalid host policy: hostpolicy/flavor[257]: an entry beyond the limit of 256 <flavor> entries");
}


/* The size limit on the text, before it is parsed. */
static void
testLimitSize(const void *opaque G_GNUC_UNUSED)
{
    const size_t max = VFMIG_HOST_POLICY_SIZE_MAX;
    const char *open = "<hostpolicy xmlns='" VFMIG_HOST_POLICY_NS_URI "'>";
    const char *close = "</hostpolicy>";
    g_autofree char *blanks = g_strnfill(max - strlen(open) - strlen(close), ' ');
    g_autofree char *atLimit = g_strconcat(open, blanks, close, NULL);
    g_autofree char *overLimit = g_strconcat(open, blanks, " ", close, NULL);
    g_autofree char *notXML = g_strnfill(max + 1, '<');
    g_autoptr(vfmigHostPolicy) policy = NULL;

    g_assert_cmpuint(strlen(atLimit), ==, max);
    vfmigResetLastError();
    if (!(policy = vfmigHostPolicyParseString(atLimit)))
        g_error("%s", vfmigGetLastErrorMessage());
    g_assert_cmpuint(policy->nflavors, ==, 0);
    g_assert_null(policy->def);

    assertRefused(overLimit, "invalid host policy: larger than the limit of 1048576 bytes");
    assertRefused(notXML, "invalid host policy: larger than the limit of 1048576 bytes");
}


static void
testNotXML(const void *opaque G_GNUC_UNUSED)
{
    g_autoptr(vfmigHostPolicy) policy = NULL;

    vfmigResetLastError();
    policy = vfmigHostPolicyParseString("<hostpolicy xmlns='" VFMIG_HOST_POLICY_NS_URI "'>");
    g_assert_null(policy);
    g_assert_true(g_str_has_prefix(vfmigGetLastErrorMessage(),
                                   "malformed host policy XML at line 1: "));
    assertRefused(NULL, "no host policy XML given");
}


static GPtrArray *
listXML(const char *dir)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, dir, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = NULL;
    g_autoptr(GError) err = NULL;
    const char *name;

    if (!(d = g_dir_open(path, 0, &err)))
        g_error("cannot list %s: %s", path, err->message);
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".xml"))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, (GCompareFunc) g_ascii_strcasecmp);
    return g_steal_pointer(&names);
}


int
main(int argc,
     char **argv)
{
    g_autoptr(GPtrArray) names = NULL;
    size_t nvalid = 0;
    size_t ninvalid = 0;
    size_t i;

    g_test_init(&argc, &argv, NULL);

    names = listXML(DATA_DIR);
    for (i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autofree char *path = g_strdup_printf("/host-policy/xml2xml/%s", n);

        if (g_str_has_suffix(n, "-invalid.xml"))
            ninvalid++;
        else
            nvalid++;
        g_test_add_data_func(path, n, testData);
    }
    if (nvalid == 0 || ninvalid == 0)
        g_error("%s needs valid and invalid examples", DATA_DIR);

    g_test_add_data_func("/host-policy/lookup", NULL, testLookup);
    g_test_add_data_func("/host-policy/not-xml", NULL, testNotXML);
    g_test_add_data_func("/host-policy/limits/flavors", NULL, testLimitFlavors);
    g_test_add_data_func("/host-policy/limits/size", NULL, testLimitSize);
    return g_test_run();
}
