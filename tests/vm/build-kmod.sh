#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# build-kmod.sh KVER KERNELSRC CACHEDIR
#
# Builds vfmig's out-of-tree modules (KERNELSRC: the project's kernel/
# directory) for the installed kernel KVER, with W=1: KERNELSRC is copied
# to CACHEDIR/kmod-KVER and built there with
#   make -C CACHEDIR/kmod-KVER KDIR=/usr/src/linux-headers-KVER W=1
# so the source tree stays clean and each kernel has its own objects.  A
# copy whose sources did not change since its last successful build is
# reused.  The build log goes to stderr (the caller counts "warning:"
# lines); the path of vfmig_testdev.ko is the last line of stdout.  Beside
# the modules, modroot/ is a module tree for `modprobe -d` with
# mlx5_vfio_pci.ko in updates/ and Debian's modules of KVER, indexed, and
# modroot-model/ the same with vfmig_mlx5model.ko instead.
set -euo pipefail

KVER=${1:?usage: build-kmod.sh KVER KERNELSRC CACHEDIR}
SRC=${2:?usage: build-kmod.sh KVER KERNELSRC CACHEDIR}
CACHE=${3:?usage: build-kmod.sh KVER KERNELSRC CACHEDIR}

die() { echo "build-kmod.sh: error: $*" >&2; exit 1; }

HDRS=/usr/src/linux-headers-$KVER
[ -f "$HDRS/Makefile" ] ||
    die "the headers of $KVER are not installed ($HDRS): apt-get install linux-headers-$KVER"
[ -d "$SRC" ] || die "no kernel source directory $SRC"
[ -d "$SRC/testdev" ] || die "$SRC/testdev is missing: no vfmig_testdev source to build"
command -v make >/dev/null || die "make is not installed"

mkdir -p "$CACHE"
OUT=$(cd "$CACHE" && pwd)/kmod-$KVER

# sources (not build products) and their contents decide whether to rebuild
sum_sources() {
    (cd "$1" && find . -type f \( -name '*.[ch]' -o -name Kbuild -o -name Makefile \
                                   -o -name '*.mk' -o -name dkms.conf \) -print0 |
        sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}
SUM=$(sum_sources "$SRC")

find_ko() { find "$OUT" -name vfmig_testdev.ko -print -quit 2>/dev/null; }

# A module tree as a DKMS install leaves it (ours in updates/, Debian's
# beside them, indexed by depmod): depmod is quick here and slow under
# TCG.  modroot/ has mlx5_vfio_pci, for `modprobe -d` in the guest;
# modroot-model/ has vfmig_mlx5model only, whose index files the suites
# that let libvirt bind a managed='yes' hostdev put in the guest's
# /lib/modules/KVER (libvirt picks a VFIO variant driver by the vfio_pci
# aliases there, and both test modules alias the same pci-testdev: only
# one may be in the tree).
modtree() {
    local mr=$OUT/$1 ko=$2 f
    [ -f "$mr/lib/modules/$KVER/modules.dep" ] && return 0
    rm -rf "$mr"
    mkdir -p "$mr/lib/modules/$KVER/updates"
    for f in kernel modules.order modules.builtin modules.builtin.modinfo; do
        [ -e "/lib/modules/$KVER/$f" ] && ln -s "/lib/modules/$KVER/$f" "$mr/lib/modules/$KVER/$f"
    done
    cp "$(dirname "$KO")/$ko.ko" "$mr/lib/modules/$KVER/updates/" ||
        die "no $ko.ko was built for $KVER"
    depmod -b "$mr" "$KVER" > "$OUT/depmod-$1.log" 2>&1 ||
        { cat "$OUT/depmod-$1.log" >&2; die "depmod -b $mr $KVER failed"; }
}
modroot() {
    modtree modroot mlx5_vfio_pci
    modtree modroot-model vfmig_mlx5model
}

if [ -f "$OUT/.vfmig-sources" ] && [ "$(cat "$OUT/.vfmig-sources")" = "$SUM" ] &&
   KO=$(find_ko) && [ -n "$KO" ] &&
   [ "$(modinfo -F vermagic "$KO" 2>/dev/null | cut -d' ' -f1)" = "$KVER" ]; then
    echo "build-kmod.sh: sources unchanged, using $KO" >&2
    cat "$OUT/.vfmig-build.log" >&2 2>/dev/null || true
    modroot
    echo "$KO"
    exit 0
fi

rm -rf "$OUT"
mkdir -p "$OUT"
cp -a "$SRC/." "$OUT/"
echo "build-kmod.sh: make -C $OUT KDIR=$HDRS W=1" >&2
if ! make -C "$OUT" KDIR="$HDRS" W=1 > "$OUT/.vfmig-build.log" 2>&1; then
    cat "$OUT/.vfmig-build.log" >&2
    die "make failed for $KVER"
fi
cat "$OUT/.vfmig-build.log" >&2
KO=$(find_ko)
[ -n "$KO" ] || die "make succeeded but built no vfmig_testdev.ko under $OUT"
[ "$(modinfo -F vermagic "$KO" | cut -d' ' -f1)" = "$KVER" ] ||
    die "$KO is not built for $KVER: vermagic '$(modinfo -F vermagic "$KO")'"
modroot
echo "$SUM" > "$OUT/.vfmig-sources"
echo "$KO"
