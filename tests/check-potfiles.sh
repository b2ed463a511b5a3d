#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# po/POTFILES must list, sorted, exactly the files under src/ (sources and headers) that mark
# strings for translation, so `meson compile vfmig-pot` misses nothing.
set -euo pipefail
cd "${1:?usage: check-potfiles.sh SRCDIR}"

want=$(grep -rlE '\b(N_|_)\("' src --include='*.c' --include='*.h' | LC_ALL=C sort)
have=$(grep -v '^#' po/POTFILES | sed '/^$/d')

echo "1..2"
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
