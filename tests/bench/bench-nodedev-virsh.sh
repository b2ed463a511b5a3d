#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-nodedev-virsh.sh BENCH-NODEDEV [ARG...]
#
# Runs the node-device benchmark with --virsh against a libvirtd of its
# own when the machine runs none: the daemon (and its virtlogd) start in a
# private mount namespace with tmpfs over libvirt's run, state, log, cache
# and config directories, so they neither see nor disturb anything else,
# and are stopped by their own pid files afterwards.  Without root or
# without libvirtd, the benchmark runs alone and says why virsh was not
# timed.  A libvirtd that already answers on qemu:///system is used as is.
set -euo pipefail

bench=${1:?usage: bench-nodedev-virsh.sh BENCH-NODEDEV [ARG...]}
shift

if [ "${VFMIG_BENCH_IN_NS:-}" != 1 ]; then
    if virsh -q -c qemu:///system version >/dev/null 2>&1; then
        exec "$bench" --virsh "$@"
    fi
    if [ "$(id -u)" != 0 ] || ! command -v libvirtd >/dev/null ||
       ! command -v virtlogd >/dev/null || ! command -v unshare >/dev/null; then
        echo "virsh: no running libvirtd, and none can be started here (needs root, libvirtd, virtlogd, unshare)"
        exec "$bench" "$@"
    fi
    export VFMIG_BENCH_IN_NS=1
    exec unshare --mount --propagation private "$0" "$bench" "$@"
fi

etc=$(mktemp -d)
cp -a /etc/libvirt/. "$etc/"
for d in /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt; do
    mkdir -p "$d"
    mount -t tmpfs tmpfs "$d"
done
cp -a "$etc/." /etc/libvirt/
rm -rf "$etc"
mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt/qemu
echo 'cgroup_controllers = [ ]' >> /etc/libvirt/qemu.conf

virtlogd -d -p /run/libvirt/vfmig-bench-virtlogd.pid
libvirtd -d -p /run/libvirt/vfmig-bench-libvirtd.pid
stop() {
    local f pid
    for f in /run/libvirt/vfmig-bench-libvirtd.pid /run/libvirt/vfmig-bench-virtlogd.pid; do
        pid=$(cat "$f" 2>/dev/null) || continue
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
}
trap stop EXIT
for _ in $(seq 100); do
    virsh -q -c qemu:///system version >/dev/null 2>&1 && break
    sleep 0.1
done
"$bench" --virsh "$@"
