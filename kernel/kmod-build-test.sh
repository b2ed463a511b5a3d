#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# kmod-build-test.sh SERIES SRCDIR WORKDIR
#
# Builds vfmig's kernel modules (SRCDIR, the kernel/ tree) against the
# newest installed Debian headers of kernel SERIES (6.1, 6.12, ...:
# /usr/src/linux-headers-SERIES.*-amd64), with W=1, in a copy under
# WORKDIR/kmod-<release>, so that the source tree stays clean and several
# kernels can build at once.  Prints TAP: the build succeeded, it printed
# no compiler or modpost warning, and DKMS builds the same tree through
# dkms.conf (in private DKMS trees: nothing is installed).
set -uo pipefail

SERIES=${1:?usage: kmod-build-test.sh SERIES SRCDIR WORKDIR}
SRCDIR=${2:?usage: kmod-build-test.sh SERIES SRCDIR WORKDIR}
WORKDIR=${3:?usage: kmod-build-test.sh SERIES SRCDIR WORKDIR}

echo "1..3"
bail() { echo "Bail out! $*"; exit 1; }

[[ $SERIES =~ ^[0-9]+\.[0-9]+$ ]] || bail "SERIES must look like 6.12, not '$SERIES'"
KDIR=$(for d in /usr/src/linux-headers-"$SERIES".*-amd64; do
           [ -f "$d/Makefile" ] && echo "$d"
       done | sort -V | tail -1)
[ -n "$KDIR" ] ||
    bail "no headers of a $SERIES kernel are installed (/usr/src/linux-headers-$SERIES.*-amd64): apt-get install linux-headers-<$SERIES release>-amd64"
REL=${KDIR#/usr/src/linux-headers-}
echo "# building against $KDIR"

OUT=$WORKDIR/kmod-$REL
rm -rf "$OUT"
mkdir -p "$OUT" || bail "cannot create $OUT"
(cd "$SRCDIR" && tar --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
     --exclude='*.mod' --exclude='*.mod.c' --exclude='Module.symvers' \
     --exclude='modules.order' -cf - .) | (cd "$OUT" && tar -xf -) ||
    bail "cannot copy $SRCDIR to $OUT"

make -C "$OUT" KDIR="$KDIR" W=1 > "$OUT/build.log" 2>&1
rc=$?
sed 's/^/# /' "$OUT/build.log"
kos=$(cd "$OUT" && ls -- *.ko 2>/dev/null | tr '\n' ' ')
want="mlx5_vfio_pci.ko vfmig_mlx5model.ko vfmig_testdev.ko "
if [ "$rc" -eq 0 ] && [ "$kos" = "$want" ]; then
    echo "ok 1 - modules built for $REL: $kos"
else
    echo "not ok 1 - the build for $REL: make exit status $rc, built '$kos' (want '$want')"
    rc=1
fi
warnings=$(grep -E -i 'warning:|error:' "$OUT/build.log")
if [ -z "$warnings" ]; then
    echo "ok 2 - no warnings with W=1 for $REL"
else
    echo "not ok 2 - $(printf '%s\n' "$warnings" | wc -l) warning or error lines with W=1 for $REL"
    rc=1
fi
# DKMS, as a package would use it: the tree as /usr/src/vfmig-<version>,
# here in private source and DKMS trees under WORKDIR.
VER=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$OUT/dkms.conf")
DK=$WORKDIR/dkms-$REL
rm -rf "$DK"
mkdir -p "$DK/src" "$DK/tree"
if [ -z "$VER" ]; then
    echo "not ok 3 - dkms.conf has no PACKAGE_VERSION"
    rc=1
elif ! command -v dkms >/dev/null; then
    echo "not ok 3 - dkms is not installed (apt-get install dkms)"
    rc=1
else
    (cd "$OUT" && tar --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
         --exclude='*.mod' --exclude='*.mod.c' --exclude='Module.symvers' \
         --exclude='modules.order' --exclude=build.log -cf - .) |
        (mkdir -p "$DK/src/vfmig-$VER" && cd "$DK/src/vfmig-$VER" && tar -xf -)
    dkms build -m vfmig -v "$VER" -k "$REL" --sourcetree "$DK/src" \
        --dkmstree "$DK/tree" > "$DK/dkms.log" 2>&1
    drc=$?
    sed 's/^/# dkms: /' "$DK/dkms.log"
    built=
    for m in vfmig_testdev mlx5_vfio_pci; do
        f=$(find "$DK/tree/vfmig/$VER/$REL" -name "$m.ko*" 2>/dev/null | head -n 1)
        [ -n "$f" ] && built+="${built:+ }${f##*/}"
    done
    if [ "$drc" -eq 0 ] && [ "$(wc -w <<< "$built")" -eq 2 ]; then
        echo "ok 3 - dkms build vfmig/$VER for $REL: $built"
    else
        echo "not ok 3 - dkms build vfmig/$VER for $REL failed (exit status $drc; built: '${built:-nothing}', want vfmig_testdev and mlx5_vfio_pci)"
        rc=1
    fi
fi
exit $(( rc != 0 ))
