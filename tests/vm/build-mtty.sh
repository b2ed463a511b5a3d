#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# build-mtty.sh KVER CACHEDIR
#
# Builds the kernel's own sample VFIO migration driver, mtty
# (samples/vfio-mdev/mtty.c: a software mdev that implements the VFIO
# migration protocol v2 with STOP_COPY, P2P and PRE_COPY since Linux 6.7),
# as an out-of-tree module for the installed kernel KVER, with W=1.
# Debian does not ship it (CONFIG_SAMPLES is off), so mtty.c is taken from
# the linux-source package of the same Debian version as the kernel image
# (about 153 MB, downloaded once with apt-get download).
#
# Everything is cached in CACHEDIR: the .deb, the extracted mtty.c and
# CACHEDIR/mtty-KVER/mtty.ko; a second run with the same kernel only checks
# the cache.  Prints the path of mtty.ko on the last line of stdout.
set -euo pipefail

KVER=${1:?usage: build-mtty.sh KVER CACHEDIR}
CACHE=${2:?usage: build-mtty.sh KVER CACHEDIR}

die() { echo "build-mtty.sh: error: $*" >&2; exit 1; }

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
OUT="$CACHE/mtty-$KVER"
KO="$OUT/mtty.ko"
HDRS="/usr/src/linux-headers-$KVER"

if [ -f "$KO" ] &&
   [ "$(modinfo -F vermagic "$KO" 2>/dev/null | cut -d' ' -f1)" = "$KVER" ]; then
    echo "build-mtty.sh: using cached $KO" >&2
    echo "$KO"
    exit 0
fi

[ -d "$HDRS" ] || die "kernel headers for $KVER are not installed ($HDRS missing): apt-get install linux-headers-$KVER"
command -v make >/dev/null || die "make is not installed"

SER=$(echo "$KVER" | grep -o '^[0-9]*\.[0-9]*') ||
    die "cannot tell the kernel series of '$KVER'"
PKGVER=$(dpkg-query -W -f '${Version}' "linux-image-$KVER" 2>/dev/null) ||
    die "linux-image-$KVER is not installed (dpkg-query), cannot tell which linux-source to fetch"

SRC="$CACHE/mtty-src-$PKGVER.c"
if [ ! -s "$SRC" ]; then
    DEB=$(ls "$CACHE"/linux-source-"$SER"_"$PKGVER"_*.deb 2>/dev/null | head -1 || true)
    if [ -z "$DEB" ]; then
        echo "build-mtty.sh: downloading linux-source-$SER=$PKGVER (about 150 MB, once)" >&2
        (cd "$CACHE" && apt-get -o APT::Sandbox::User=root download "linux-source-$SER=$PKGVER" >&2) ||
            die "apt-get download linux-source-$SER=$PKGVER failed (is the suite that has linux-image-$KVER in the apt sources?)"
        DEB=$(ls "$CACHE"/linux-source-"$SER"_"$PKGVER"_*.deb | head -1)
    fi
    echo "build-mtty.sh: extracting samples/vfio-mdev/mtty.c from $(basename "$DEB")" >&2
    # Stream: only mtty.c is written to disk.
    dpkg-deb --fsys-tarfile "$DEB" |
        tar -xO "./usr/src/linux-source-$SER.tar.xz" |
        tar -xJO "linux-source-$SER/samples/vfio-mdev/mtty.c" > "$SRC.tmp" ||
        die "could not extract mtty.c from $DEB"
    [ -s "$SRC.tmp" ] || die "mtty.c is empty in $DEB"
    mv "$SRC.tmp" "$SRC"
fi

rm -rf "$OUT"
mkdir -p "$OUT"
cp "$SRC" "$OUT/mtty.c"
echo 'obj-m += mtty.o' > "$OUT/Kbuild"
echo "build-mtty.sh: building mtty.ko for $KVER (W=1)" >&2
make -s -C "$HDRS" M="$OUT" W=1 modules >&2 || die "building mtty.ko failed"
[ -f "$KO" ] || die "make succeeded but $KO is missing"
echo "$KO"
