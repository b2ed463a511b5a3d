#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# guest.sh: PID 1 of the test guest (L1), after the initramfs of
# make-initramfs.sh has switch_rooted into the host's / (read-only 9p with
# a tmpfs overlay).  There is no systemd and no udev here.
#
# vm-test.sh shares a read-write directory with mount tag "out"; it holds
# config.sh (written by the host: VM_SUITES, VM_SRCDIR, VM_BUILDDIR, ...)
# and receives, per suite NAME, suite-NAME.tap (its stdout: TAP) and
# suite-NAME.rc (its exit status), then dmesg.txt and end.txt.
#
# Suites run one after the other, each as "bash VM_SRCDIR/suites/NAME.sh"
# with config.sh's variables exported; their output is mirrored to the
# console as "[NAME] ...".  The kernel log gets a "vfmig-vm: suite NAME"
# line before each, so the host can tell which suite a kernel warning
# belongs to.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C LC_ALL=C

poweroff_now() {
    sync
    echo o > /proc/sysrq-trigger
    sleep 60
}
trap poweroff_now EXIT

fatal() {
    echo "VFMIG-VM-FATAL guest: $*"
    exit 1
}

# ---------- base system --------------------------------------------------------
mount -t tmpfs -o mode=0755 tmpfs /run || fatal "tmpfs on /run failed"
mkdir -p /run/lock /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# No tmpfs on /tmp: the overlay is writable already, and a checkout (CI's
# clean clone, say) may live under the host's /tmp.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
echo 1 > /proc/sys/kernel/sysrq
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null

OUT=/run/vfmig-out
mkdir -p "$OUT"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out "$OUT" ||
    fatal "cannot mount the results share"
[ -r "$OUT/config.sh" ] || fatal "no config.sh in the results share"
VM_SUITES=
VM_SRCDIR=
# shellcheck source=/dev/null
. "$OUT/config.sh"
[ -d "$VM_SRCDIR/suites" ] || fatal "VM_SRCDIR=$VM_SRCDIR has no suites/ in the guest"
# everything config.sh set, for the suites
# shellcheck disable=SC2046
export $(sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' "$OUT/config.sh")

echo "VFMIG-VM-GUEST-START uptime $(cut -d' ' -f1 /proc/uptime) s"

IFS=, read -r -a suites <<< "$VM_SUITES"
for s in "${suites[@]}"; do
    script=$VM_SRCDIR/suites/$s.sh
    echo "vfmig-vm: suite $s" > /dev/kmsg
    echo "VFMIG-VM-SUITE-START $s uptime $(cut -d' ' -f1 /proc/uptime) s"
    if [ ! -r "$script" ]; then
        echo "VFMIG-VM-FATAL guest: no suite $script"
        echo 127 > "$OUT/suite-$s.rc"
        continue
    fi
    # VM_OUT: the results share, for logs the host should keep
    export VM_SUITE=$s VM_TMP=/run/vfmig/$s VM_OUT=$OUT
    mkdir -p "$VM_TMP"
    timeout -k 10 "${VM_SUITE_TIMEOUT:-600}" bash "$script" \
        2> >(sed -u "s/^/[$s] stderr: /") |
        tee "$OUT/suite-$s.tap" | sed -u "s/^/[$s] /"
    rc=${PIPESTATUS[0]}
    echo "$rc" > "$OUT/suite-$s.rc"
    echo "VFMIG-VM-SUITE-END $s rc $rc uptime $(cut -d' ' -f1 /proc/uptime) s"
done

echo "vfmig-vm: all suites done" > /dev/kmsg
dmesg > "$OUT/dmesg.txt"
echo "uptime $(cut -d' ' -f1 /proc/uptime)" > "$OUT/end.txt"
sync
umount "$OUT" 2>/dev/null
exit 0
