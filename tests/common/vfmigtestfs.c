/*
 * vfmigtestfs.c: building and removing the fake trees the tests probe
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <config.h>

#include "vfmigtestfs.h"

#include <errno.h>
#include <unistd.h>

#include <glib/gstdio.h>


void
vfmigTestMkdirs(const char *path)
{
    g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
}


void
vfmigTestWriteFile(const char *path,
                   const char *contents)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_autoptr(GError) err = NULL;

    vfmigTestMkdirs(dir);
    g_file_set_contents(path, contents, -1, &err);
    g_assert_no_error(err);
}


void
vfmigTestLink(const char *target,
              const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);

    vfmigTestMkdirs(dir);
    if (symlink(target, path) < 0)
        g_error("symlink %s -> %s: %s", path, target, g_strerror(errno));
}


void
vfmigTestRmTree(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *ent;

    if (d) {
        while ((ent = g_dir_read_name(d))) {
            g_autofree char *child = g_build_filename(path, ent, NULL);

            if (g_file_test(child, G_FILE_TEST_IS_SYMLINK) ||
                !g_file_test(child, G_FILE_TEST_IS_DIR))
                g_assert_cmpint(g_unlink(child), ==, 0);
            else
                vfmigTestRmTree(child);
        }
    }
    g_rmdir(path);
}
