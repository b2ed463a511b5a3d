#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# po/POTFILES must list, sorted, exactly the files under src/ (sources and headers) that mark
# strings for translation, so `meson compile vfmig-pot` misses nothing; and
# xgettext must take each of those strings whole: it stops a msgid at a
# macro it does not know (G_GUINT64_FORMAT: use PRIu64, which it knows),
# leaving a conversion without its type.
set -euo pipefail
cd "${1:?usage: check-potfiles.sh SRCDIR}"

want=$(grep -rlE '\b(N_|_)\("' src --include='*.c' --include='*.h' | LC_ALL=C sort)
have=$(grep -v '^#' po/POTFILES | sed '/^$/d')

echo "1..3"
if [ "$have" = "$(printf '%s\n' "$have" | LC_ALL=C sort)" ]; then
    echo "ok 1 - po/POTFILES is sorted"
else
    echo "not ok 1 - po/POTFILES is not sorted"
fi
if [ "$want" = "$have" ]; then
    echo "ok 2 - po/POTFILES lists every file with translatable strings"
else
    echo "not ok 2 - po/POTFILES differs from the files with translatable strings"
    diff <(echo "$have") <(echo "$want") | sed 's/^/# /'
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the glib preset's keywords, as po/meson.build has them
xgettext --from-code=UTF-8 --no-wrap --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
    --keyword=NC_:1c,2 --keyword=g_dngettext:2,3 -o "$tmp/vfmig.pot" \
    -f <(grep -v '^#' po/POTFILES | sed '/^$/d') 2> "$tmp/err" || true
cut=$(grep -E '^msgid ".*%[0-9]+\$[-+ #0-9.]*"$' "$tmp/vfmig.pot" || true)
if [ ! -s "$tmp/vfmig.pot" ]; then
    echo "not ok 3 - xgettext made no .pot"
    sed 's/^/# /' "$tmp/err"
elif [ -z "$cut" ]; then
    echo "ok 3 - every msgid reaches the .pot whole ($(grep -c '^msgid "' "$tmp/vfmig.pot") msgids)"
else
    echo "not ok 3 - $(printf '%s\n' "$cut" | wc -l) msgid(s) cut at a macro xgettext does not know"
    printf '%s\n' "$cut" | sed 's/^/# /'
fi
