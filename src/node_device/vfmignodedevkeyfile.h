/*
 * vfmignodedevkeyfile.h: the key files kept per device beside the
 * node-device probe (the capability cache, the qualification record)
 *
 * Both are GLib key files with one group, a "format" number and the
 * device's "address", replaced atomically; these are the parts they share.
 * @kind names the file in messages: _("cache file"),
 * _("qualification record").
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>

#include <glib.h>

/*
 * Replaces @path (in @dir) by @data atomically: a temporary file in @dir,
 * fsync where needed, rename().  @dir is made on first use.
 */
bool vfmigNodeDevKeyFileStore(const char *dir,
                              const char *path,
                              const char *data,
                              GError **err);

/*
 * Loads @data, read from @path, and checks that its group @group has
 * format @format and describes @address.  Returns the key file, or NULL
 * with VFMIG_ERR_DATA_CORRUPT naming @path and what is wrong.
 */
GKeyFile *vfmigNodeDevKeyFileParse(const char *kind,
                                   const char *path,
                                   const char *address,
                                   const char *group,
                                   gint64 format,
                                   const char *data,
                                   gsize len);

/* The string @key of @group: required unless @optional (then NULL when
 * absent); an empty value is refused when @nonEmpty. */
int vfmigNodeDevKeyFileGetString(const char *kind,
                                 GKeyFile *kf,
                                 const char *group,
                                 const char *path,
                                 const char *key,
                                 bool optional,
                                 bool nonEmpty,
                                 char **value);
