#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `meson setup` warns when vfmig's libvirt hook would be installed where
# libvirtd never runs it (the default prefix, /usr/local), and not with
# the prefix and sysconfdir libvirtd's hooks need.
#
# usage: check-hook-dir.sh SRCDIR
set -uo pipefail

src=${1:?usage: check-hook-dir.sh SRCDIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
want="WARNING: vfmig's libvirt hook will be installed in /usr/local/etc/libvirt/hooks/qemu.d, but libvirtd runs the hooks of /etc/libvirt/hooks/qemu.d: set up with --prefix=/usr --sysconfdir=/etc"

echo "1..2"
meson setup --prefix=/usr/local "$tmp/local" "$src" > "$tmp/local.log" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -qF "$want" "$tmp/local.log"; then
    echo "ok 1 - --prefix=/usr/local: meson setup warns that libvirtd will not run the hook"
else
    echo "not ok 1 - --prefix=/usr/local: meson setup exit $rc, the warning not found"
    grep -i warning "$tmp/local.log" | sed 's/^/# /'
fi
meson setup --prefix=/usr --sysconfdir=/etc "$tmp/usr" "$src" > "$tmp/usr.log" 2>&1
rc=$?
if [ "$rc" = 0 ] && ! grep -q "libvirt hook will be installed" "$tmp/usr.log"; then
    echo "ok 2 - --prefix=/usr --sysconfdir=/etc: no warning"
else
    echo "not ok 2 - --prefix=/usr --sysconfdir=/etc: meson setup exit $rc"
    grep -i warning "$tmp/usr.log" | sed 's/^/# /'
fi
