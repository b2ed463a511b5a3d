/*
 * vfmigi18n.h: gettext for vfmig's own domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib/gi18n-lib.h>
