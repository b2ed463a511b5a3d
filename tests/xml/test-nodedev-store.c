/*
 * test-nodedev-store.c: the cache file and the qualification record, XML
 * in and out
 *
 * Every nodedevstoredata/cache_*.xml is a cache file and every
 * qualified_*.xml a qualification record.  A valid one must be canonical
 * (format(parse(x)) == x); NAME-invalid.xml must be refused with exactly
 * the message in NAME-invalid.err.  check-schemas.sh validates the same
 * files against schemas/vfmig-nodedev-store.rng.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include <string.h>

#include <glib.h>

#include "vfmigerror.h"
#include "vfmignodedevstore.h"

#define DATA_DIR "nodedevstoredata"


static char *
readFile(const char *path)
{
    g_autoptr(GError) err = NULL;
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, &err))
        g_error("cannot read %s: %s", path, err->message);
    return text;
}


/* Parses @xml as the document @name's prefix says, and formats it back;
 * NULL with the error reported when it does not parse. */
static char *
roundTrip(const char *name,
          const char *xml,
          char **address)
{
    if (g_str_has_prefix(name, "cache_")) {
        g_autoptr(vfmigNodeDevCapVFIOMig) cap = NULL;

        if (vfmigNodeDevCacheDocParse(xml, address, &cap) < 0)
            return NULL;
        /* as stored: the cache reader sets source='cache' on top */
        g_assert_cmpint(cap->source, !=, VFMIG_NODEDEV_SOURCE_CACHE);
        return vfmigNodeDevCacheDocFormat(*address, cap);
    } else if (g_str_has_prefix(name, "qualified_")) {
        g_autoptr(vfmigNodeDevQualified) q = NULL;
        g_autofree char *driver = NULL;

        if (vfmigNodeDevQualifiedDocParse(xml, address, &driver, &q) < 0)
            return NULL;
        return vfmigNodeDevQualifiedDocFormat(*address, driver, q);
    }
    g_error("%s: neither cache_ nor qualified_", name);
    return NULL;
}


static void
testStoreData(gconstpointer opaque)
{
    const char *name = opaque;
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, DATA_DIR, name, NULL);
    g_autofree char *input = readFile(path);
    g_autofree char *address = NULL;
    g_autofree char *out = NULL;

    vfmigResetLastError();
    out = roundTrip(name, input, &address);

    if (g_str_has_suffix(name, "-invalid.xml")) {
        g_autofree char *base = g_strndup(name, strlen(name) - strlen(".xml"));
        g_autofree char *errName = g_strconcat(base, ".err", NULL);
        g_autofree char *errPath = g_test_build_filename(G_TEST_DIST, DATA_DIR,
                                                         errName, NULL);
        g_autofree char *want = readFile(errPath);

        g_assert_null(out);
        g_assert_cmpint(vfmigGetLastErrorCode(), ==, VFMIG_ERR_INVALID_ARG);
        g_assert_cmpstr(vfmigGetLastErrorMessage(), ==, g_strchomp(want));
        return;
    }

    if (!out)
        g_error("%s: %s", name, vfmigGetLastErrorMessage());
    g_assert_true(g_str_has_prefix(address, "0000:"));
    g_assert_cmpstr(out, ==, input);
}


static gint
compareNames(gconstpointer a,
             gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}


int
main(int argc,
     char **argv)
{
    g_autofree char *dir = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = NULL;
    g_autoptr(GError) err = NULL;
    const char *name;
    size_t i;

    g_test_init(&argc, &argv, NULL);

    dir = g_test_build_filename(G_TEST_DIST, DATA_DIR, NULL);
    if (!(d = g_dir_open(dir, 0, &err)))
        g_error("cannot list %s: %s", dir, err->message);
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".xml"))
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, compareNames);
    if (names->len == 0)
        g_error("no test data in %s", dir);

    for (i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        g_autofree char *path = g_strdup_printf("/nodedev/store/%s", n);

        g_test_add_data_func(path, n, testStoreData);
    }
    return g_test_run();
}
