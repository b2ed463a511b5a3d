#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virt-vfmig nodedev-compare FILE: the file is read only when it is a
# regular file of at most 1 MiB (a symbolic link to one is followed).  A
# FIFO, which a reader would wait on forever, and a device such as
# /dev/zero, which a reader without a bound would read until memory runs
# out, are refused at once with a message naming them and exit status 1.
# Every run is under `timeout` and a memory limit, so a reader that blocks
# or grows fails here instead of hanging the suite.
set -uo pipefail

REAL_VFMIG=${1:?usage: test-cli-compare.sh PATH-TO-virt-vfmig}
VFMIG=$(mktemp)
. "$(dirname "$0")/cli-lib.sh"
trap 'rm -rf "$tmp" "$VFMIG"' EXIT

# a bound on memory too, so that reading without end cannot exhaust it;
# not for a build with AddressSanitizer, which reserves terabytes of
# address space up front (the timeout still ends such a run)
limit="ulimit -v 1048576"
if asan_build "$REAL_VFMIG"; then
    limit=":"
fi
cat > "$VFMIG" <<WRAP
#!/bin/bash
$limit
exec timeout 20 "$REAL_VFMIG" "\$@"
WRAP
chmod +x "$VFMIG"

cap() {   # cap FILE: a bare vfio-migration capability
    cat > "$1" <<'XML'
<capability type='vfio-migration'>
  <driver name='mlx5_vfio_pci' variant='yes'/>
  <features source='sysfs'>
    <stop-copy/>
    <p2p/>
    <pre-copy mode='on'/>
    <multi-load/>
  </features>
  <dirty-tracking type='device'/>
  <identity vendor='0x15b3' device='0x101e' firmware='28.39.1002' stream-version='1'/>
</capability>
XML
}
cap "$tmp/src.xml"
cap "$tmp/dst.xml"

check "two regular files: compatible" 0 "^Compatible: " "" -- \
    nodedev-compare "$tmp/src.xml" "$tmp/dst.xml"
ln -s "$tmp/dst.xml" "$tmp/link.xml"
check "a symbolic link to a regular file is followed" 0 "^Compatible: " "" -- \
    nodedev-compare "$tmp/src.xml" "$tmp/link.xml"

check "/dev/zero is refused, not read without end" 1 "" \
    "^error: node-device XML file '/dev/zero' is a character device, not a regular file: refusing to read it$" -- \
    nodedev-compare /dev/zero "$tmp/dst.xml"
ln -s /dev/zero "$tmp/zero.xml"
check "a symbolic link to /dev/zero is refused" 1 "" \
    "^error: node-device XML file '$tmp/zero.xml' is a character device, not a regular file" -- \
    nodedev-compare "$tmp/src.xml" "$tmp/zero.xml"

mkfifo "$tmp/fifo"
check "a FIFO is refused, not waited on" 1 "" \
    "^error: node-device XML file '$tmp/fifo' is a FIFO, not a regular file: refusing to read it$" -- \
    nodedev-compare "$tmp/fifo" "$tmp/dst.xml"
check "a FIFO as the destination too" 1 "" "'$tmp/fifo' is a FIFO" -- \
    nodedev-compare "$tmp/src.xml" "$tmp/fifo"

# well-formed, and one byte over the bound
{
    printf '<!--'
    head -c $((1024 * 1024)) /dev/zero | tr '\0' ' '
    printf -- '-->\n'
    cat "$tmp/src.xml"
} > "$tmp/big.xml"
check "a file over 1 MiB is refused" 1 "" \
    "^error: node-device XML file '$tmp/big.xml' is larger than 1048576 bytes: refusing to read it$" -- \
    nodedev-compare "$tmp/big.xml" "$tmp/dst.xml"
head -c $((1024 * 1024 - $(wc -c < "$tmp/src.xml") - 8)) /dev/zero | tr '\0' ' ' > "$tmp/pad"
{ printf '<!--'; cat "$tmp/pad"; printf -- '-->\n'; cat "$tmp/src.xml"; } > "$tmp/fits.xml"
result "the file at the bound is exactly 1 MiB" test "$(wc -c < "$tmp/fits.xml")" = $((1024 * 1024))
check "a file of 1 MiB is read" 0 "^Compatible: " "" -- \
    nodedev-compare "$tmp/fits.xml" "$tmp/dst.xml"

check "a directory is refused" 1 "" "'$tmp/' is a directory, not a regular file" -- \
    nodedev-compare "$tmp/" "$tmp/dst.xml"
check "a missing file" 1 "" "^error: cannot open node-device XML file '$tmp/missing.xml': No such file or directory$" -- \
    nodedev-compare "$tmp/missing.xml" "$tmp/dst.xml"

finish
