#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# with-libvirtd.sh CMD [ARG...]
#
# Runs CMD beside a real libvirtd (Debian's 11.3, the monolithic daemon)
# started for it alone: in a private mount namespace with tmpfs over
# libvirt's run, state, log, cache and config directories, so it neither
# sees nor disturbs a libvirtd the machine may already run, and needs no
# systemd.  The daemon and virtlogd end with CMD.  Needs root.
set -euo pipefail

if [ "${VFMIG_IN_LIBVIRTD_NS:-}" != 1 ]; then
    [ "$(id -u)" = 0 ] || { echo "with-libvirtd: needs root" >&2; exit 1; }
    for t in libvirtd virtlogd unshare; do
        command -v "$t" >/dev/null ||
            { echo "with-libvirtd: $t is not installed (libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-daemon-driver-nodedev from bookworm-backports)" >&2; exit 1; }
    done
    export VFMIG_IN_LIBVIRTD_NS=1
    exec unshare --mount --propagation private "$0" "$@"
fi

etc=$(mktemp -d)
cp -a /etc/libvirt/. "$etc/"
# /run whole: the daemons' pid files are /run/libvirtd.pid and
# /run/virtlogd.pid, beside /run/libvirt.
for d in /run /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt; do
    mkdir -p "$d"
    mount -t tmpfs tmpfs "$d"
done
cp -a "$etc/." /etc/libvirt/
rm -rf "$etc"
mkdir -p /run/lock /run/libvirt /var/log/libvirt/qemu /var/lib/libvirt/qemu /var/cache/libvirt/qemu
echo 'cgroup_controllers = [ ]' >> /etc/libvirt/qemu.conf
for g in kvm libvirt libvirt-qemu; do getent group "$g" >/dev/null || groupadd -r "$g"; done
id libvirt-qemu >/dev/null 2>&1 ||
    useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu

virtlogd -d
libvirtd -d
cleanup() {
    pkill -F /run/libvirtd.pid 2>/dev/null || true
    pkill -F /run/virtlogd.pid 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
    [ -S /run/libvirt/libvirt-sock ] && break
    sleep 0.1
done
[ -S /run/libvirt/libvirt-sock ] || { echo "with-libvirtd: libvirtd did not start" >&2; exit 1; }
"$@"
