#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virt-vfmigd.service as systemd reads it: `systemd-analyze verify` on the
# unit this build generates, with ExecStart on this build's daemon (the
# installed path does not exist yet); no complaint about our unit (others',
# such as libvirtd.service's, are not ours).
#
# usage: check-unit.sh UNIT VIRT_VFMIGD
set -uo pipefail

unit=${1:?usage: check-unit.sh UNIT VIRT_VFMIGD}
daemon=${2:?usage: check-unit.sh UNIT VIRT_VFMIGD}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..2"
sed "s|^ExecStart=[^ ]*|ExecStart=$daemon|" "$unit" > "$tmp/virt-vfmigd.service"
if grep -q "^ExecStart=$daemon \$VIRT_VFMIGD_ARGS$" "$tmp/virt-vfmigd.service" &&
   grep -q "^EnvironmentFile=-/.*/default/virt-vfmigd$" "$tmp/virt-vfmigd.service"; then
    echo "ok 1 - the unit runs the daemon with \$VIRT_VFMIGD_ARGS from its optional EnvironmentFile"
else
    echo "not ok 1 - the unit's ExecStart and EnvironmentFile"
    sed 's/^/# /' "$tmp/virt-vfmigd.service"
fi
rc=0
systemd-analyze verify --man=no "$tmp/virt-vfmigd.service" > "$tmp/out" 2>&1 || rc=$?
if [ "$rc" = 0 ] && ! grep -q "virt-vfmigd" "$tmp/out"; then
    echo "ok 2 - systemd-analyze verify finds nothing wrong with virt-vfmigd.service"
else
    echo "not ok 2 - systemd-analyze verify: exit $rc"
    sed 's/^/# /' "$tmp/out"
fi
