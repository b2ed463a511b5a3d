#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Adds Debian's bookworm-backports suite beside the machine's own Debian
# sources, reusing their mirror and signing key, so that
#   apt-get install qemu-system-x86/bookworm-backports ...
# gets QEMU 10.0, libvirt 11.3 and the 6.12 kernel on a Debian 12 machine.
# Idempotent. Run as root, then `apt-get update`.
set -eu
dst=/etc/apt/sources.list.d/backports.sources
[ -s "$dst" ] && exit 0
src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ]; then
    # First deb822 stanza that carries the main suite (not -security).
    awk 'BEGIN { RS = ""; ORS = "\n" }
         /Suites:[^\n]*bookworm[ \n]/ && !/security/ {
             sub(/Suites:[^\n]*/, "Suites: bookworm-backports"); print; exit
         }' "$src" > "$dst"
else
    uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
    [ -n "$uri" ] || { echo "enable-backports: no bookworm source found" >&2; exit 1; }
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\n' "$uri" > "$dst"
fi
[ -s "$dst" ] || { rm -f "$dst"; echo "enable-backports: could not derive a backports source" >&2; exit 1; }
