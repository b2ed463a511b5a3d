#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# make-initramfs.sh KVER OUT.cpio.gz
#
# Builds the busybox initramfs of the test guest.  It:
#   * loads, with insmod and in dependency order, what it takes to mount
#     the host's / over virtio-9p with an overlay on top (virtio_pci and
#     its chain where the kernel has it as a module, as 6.1 does; netfs or
#     fscache, 9pnet, 9pnet_virtio, 9p, overlay), copied from the host's
#     /lib/modules/KVER and decompressed here, because busybox insmod
#     cannot read .ko.xz;
#   * mounts the 9p share tagged "hostroot" read-only as the lower layer
#     and a tmpfs as the upper layer, so the guest runs this machine's own
#     programs (the meson build directory included) and may write anywhere;
#   * moves /proc /sys /dev over and switch_roots into the program named by
#     "vfmig.init=" on the kernel command line (a path of the host's /).
# Anything that goes wrong powers the guest off, so the host side sees a
# missing result instead of a hung boot.
#
# Needs busybox-static, cpio, gzip, kmod, and xz-utils or zstd for
# compressed modules.
set -euo pipefail

KVER=${1:?usage: make-initramfs.sh KVER OUT.cpio.gz}
OUT=${2:?usage: make-initramfs.sh KVER OUT.cpio.gz}

die() { echo "make-initramfs.sh: error: $*" >&2; exit 1; }

BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "$BUSYBOX is missing: apt-get install busybox-static"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked: apt-get install busybox-static"
fi
for t in cpio gzip modprobe; do
    command -v "$t" >/dev/null || die "$t is not installed"
done
[ -d "/lib/modules/$KVER" ] || die "/lib/modules/$KVER is missing (is linux-image-$KVER installed?)"

OUT=$(realpath -m "$OUT")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

mkdir -p "$W"/{bin,dev,proc,sys,lower,rw,newroot,lib/mods}
cp "$BUSYBOX" "$W/bin/busybox"
ln -s busybox "$W/bin/sh"

# Dependency order from modprobe; built-in modules print "builtin" lines.
deps=$(for m in virtio_pci 9pnet_virtio 9p overlay; do
           modprobe -S "$KVER" --show-depends "$m" ||
               die "modprobe cannot resolve $m for $KVER"
       done | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++')
[ -n "$deps" ] || die "no modules found for 9p and overlay in $KVER"
: > "$W/lib/mods/order"
for ko in $deps; do
    base=$(basename "$ko")
    base=${base%.xz}
    base=${base%.zst}
    case "$ko" in
        *.xz)  xz -dc "$ko" > "$W/lib/mods/$base" ;;
        *.zst) zstd -dcq "$ko" > "$W/lib/mods/$base" ;;
        *)     cp "$ko" "$W/lib/mods/$base" ;;
    esac || die "cannot copy $ko"
    echo "$base" >> "$W/lib/mods/order"
done

cat > "$W/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() {
    echo "VFMIG-VM-FATAL initramfs: $*"
    poweroff -f
    sleep 60
}
for m in $(cat /lib/mods/order); do
    insmod /lib/mods/$m || fail "insmod $m failed"
done
INIT_PROG=
for a in $(cat /proc/cmdline); do
    case "$a" in
        vfmig.init=*) INIT_PROG=${a#vfmig.init=} ;;
    esac
done
[ -n "$INIT_PROG" ] || fail "no vfmig.init= on the kernel command line"
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000,cache=loose \
    hostroot /lower || fail "mounting the host's / over 9p failed"
mount -t tmpfs -o mode=0755 tmpfs /rw || fail "tmpfs failed"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \
    /newroot || fail "the overlay mount failed"
[ -x "/newroot$INIT_PROG" ] || fail "$INIT_PROG is not visible in the guest"
echo "initramfs: root mounted at $(cut -d' ' -f1 /proc/uptime) s, exec $INIT_PROG"
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot "$INIT_PROG"
INIT
chmod +x "$W/init"

(cd "$W" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "make-initramfs.sh: $OUT ($(du -h "$OUT" | cut -f1)), modules: $(tr '\n' ' ' < "$W/lib/mods/order")" >&2
