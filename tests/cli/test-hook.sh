#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vfmig-libvirt-hook as libvirtd runs it: "DOMAIN migrate begin -" with
# the domain XML on stdin, in a minimal environment (no HOME, a short
# PATH), against a fake sysfs tree.  Exit status, the exact stderr lines
# libvirt puts into its error, an empty stdout always (libvirt would take
# any output as a replacement XML), and the time a refusal takes (a TAP
# diagnostic; the only timed bound is a generous 5 s).  Hostdevs with
# managed='yes', which libvirt binds itself after the hook, against a fake
# module tree (VFMIG_MODULES_DIR: modules.alias, modules.dep).
set -uo pipefail

HOOK=${1:?usage: test-hook.sh PATH-TO-vfmig-libvirt-hook [PATH-TO-50-vfmig]}
# the same program as installed into libvirt's hooks/qemu.d
HOOK_COPY=${2:-}
VFMIG=$HOOK
. "$(dirname "$0")/cli-lib.sh"

sys=$tmp/sys

# ---- the fake tree: vfmig_testdev VFs at 00:02.0 and 00:03.0, plain
# vfio-pci at 00:04.0, pci-testdev's own driver at 00:05.0

# pci ADDR VENDOR DEVICE DRIVER VFIO(yes|no) GROUP
pci() {
    local d=$sys/devices/pci0000:00/$1
    mkdir -p "$d" "$sys/bus/pci/devices" "$sys/bus/pci/drivers/$4" \
        "$sys/kernel/iommu_groups/$6"
    ln -s "../../../devices/pci0000:00/$1" "$sys/bus/pci/devices/$1"
    echo "$2" >"$d/vendor"
    echo "$3" >"$d/device"
    echo 0 >"$d/enable"
    printf 'pci:v%08Xd%08Xsv00001AF4sd00001100bc00scFFi00\n' "$2" "$3" >"$d/modalias"
    ln -s "../../../bus/pci/drivers/$4" "$d/driver"
    [ "$5" = yes ] && mkdir -p "$d/vfio-dev/vfio$6"
    ln -s "../../../kernel/iommu_groups/$6" "$d/iommu_group"
}

# testdev ADDR GROUP
testdev() {
    local m=$sys/devices/pci0000:00/$1/vfio_migration
    pci "$1" 0x1b36 0x0005 vfmig_testdev yes "$2"
    mkdir -p "$m" "$sys/devices/pci0000:00/$1/vfmig_testdev"
    echo "stop-copy p2p pre-copy dma-logging" >"$m/features"
    echo on >"$m/precopy"
    echo 1 >"$m/multi_load"
    echo RUNNING >"$m/state"
    for f in initial_bytes dirty_bytes stop_latency_us resume_latency_us; do
        echo 0 >"$m/$f"
    done
    echo 8388720 >"$m/stop_copy_bytes"
    echo 1 >"$m/stream_version"
    echo 8388608 >"$sys/devices/pci0000:00/$1/vfmig_testdev/state_size"
}

testdev 0000:00:02.0 5
testdev 0000:00:03.0 6
pci 0000:00:04.0 0x1b36 0x0005 vfio-pci yes 7
pci 0000:00:05.0 0x1b36 0x0005 pci-testdev no 8

setattr() {
    echo "$3" >"$sys/devices/pci0000:00/$1/$2"
}

# the running kernel's module tree, as depmod writes it with vfmig's
# modules installed by DKMS
mods=$tmp/modules
mkdir -p "$mods"
cat >"$mods/modules.alias" <<'EOF'
# Aliases extracted from modules themselves.
alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci
alias vfio_pci:v00001B36d00000005sv*sd*bc*sc*i* vfmig_testdev
EOF
echo "updates/dkms/vfmig_testdev.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko" >"$mods/modules.dep"

# ---- domain XML

IDENTITY="<vfmig:identity driver='vfmig_testdev' vendor='0x1b36' device='0x0005' stream-version='1' multi-load='yes' state-size='8388608'/>"

# hostdev ALIAS BUS SLOT [MANAGED]
hostdev() {
    cat <<EOF
    <hostdev mode='subsystem' type='pci' managed='${4:-no}'>
      <source>
        <address domain='0x0000' bus='$2' slot='$3' function='0x0'/>
      </source>
      <alias name='$1'/>
    </hostdev>
EOF
}

# domain FILE POLICY-ENTRIES HOSTDEVS...: POLICY-ENTRIES "-" for no policy
domain() {
    local file=$1 policy=$2
    shift 2
    {
        echo "<domain type='kvm'>"
        echo "  <name>vm0</name>"
        if [ "$policy" != - ]; then
            echo "  <metadata>"
            echo "    <vfmig:migration xmlns:vfmig='http://vfmig.org/xmlns/libvirt/domain/1.0'>"
            echo "$policy"
            echo "    </vfmig:migration>"
            echo "  </metadata>"
        fi
        echo "  <memory unit='KiB'>65536</memory>"
        echo "  <devices>"
        for h in "$@"; do echo "$h"; done
        echo "  </devices>"
        echo "</domain>"
    } >"$file"
}

entry() {
    echo "      <vfmig:hostdev alias='$1'><vfmig:precopy mode='$2'/>$IDENTITY</vfmig:hostdev>"
}

domain "$tmp/ok.xml" "$(entry ua-vf0 required)" "$(hostdev ua-vf0 0x00 0x02)"
# Nova or --xml rewrote the address to this host's 00:03.0
domain "$tmp/rewritten.xml" "$(entry ua-vf0 required)" "$(hostdev ua-vf0 0x00 0x03)"
domain "$tmp/missing.xml" "$(entry ua-vf0 preferred)" "$(hostdev ua-vf0 0x00 0x09)"
domain "$tmp/vfio-pci.xml" "$(entry ua-vf0 preferred)" "$(hostdev ua-vf0 0x00 0x04)"
domain "$tmp/not-vfio.xml" "$(entry ua-vf0 preferred)" "$(hostdev ua-vf0 0x00 0x05)"
domain "$tmp/two.xml" "$(entry ua-vf0 preferred)
$(entry ua-vf1 preferred)" "$(hostdev ua-vf0 0x00 0x04)" "$(hostdev ua-vf1 0x00 0x09)"
domain "$tmp/nopolicy.xml" - "$(hostdev ua-vf0 0x00 0x09)"
# as Nova writes it: managed='yes', the VF on its host driver until
# libvirt binds it
domain "$tmp/managed.xml" "$(entry ua-vf0 preferred)" "$(hostdev ua-vf0 0x00 0x05 yes)"
domain "$tmp/badpolicy.xml" "      <vfmig:hostdev alias='ua-vf0'><vfmig:precopy mode='sometimes'/></vfmig:hostdev>" \
    "$(hostdev ua-vf0 0x00 0x02)"

# ---- running it as libvirtd does

# hook_check DESC WANT_RC ERR_REGEX XML-FILE ARGS...
# ERR_REGEX "" wants an empty stderr; stdout must always be empty.  The
# run time is left in $elapsed_ms.
elapsed_ms=0
hook_check() {
    local desc=$1 want_rc=$2 want_err=$3 xml=$4
    shift 4
    local rc=0 why="" t0 t1
    t0=$(date +%s%N)
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C \
        VFMIG_SYSFS_ROOT="$sys" VFMIG_DEBUGFS_ROOT="$tmp/debug" \
        VFMIG_DEV_ROOT="$tmp/dev" VFMIG_PROC_ROOT="$tmp/proc" \
        VFMIG_CACHE_DIR="$tmp/cache" VFMIG_MODULES_DIR="$mods" ${HOOK_ENV:-} \
        "$HOOK" "$@" <"$xml" >"$tmp/out" 2>"$tmp/err" || rc=$?
    t1=$(date +%s%N)
    elapsed_ms=$(( (t1 - t0) / 1000000 ))
    n=$((n + 1))
    [ "$rc" = "$want_rc" ] || why="exit $rc, want $want_rc"
    if [ -z "$why" ] && [ -s "$tmp/out" ]; then
        why="wrote to stdout (libvirt would take it as the domain XML)"
    fi
    if [ -z "$why" ] && [ -z "$want_err" ] && [ -s "$tmp/err" ]; then
        why="wrote to stderr"
    fi
    if [ -z "$why" ] && [ -n "$want_err" ] && ! grep -Eq -- "$want_err" "$tmp/err"; then
        why="stderr does not match /$want_err/"
    fi
    if [ -z "$why" ] && [ "$elapsed_ms" -ge 5000 ]; then
        why="took $elapsed_ms ms, not under 5 s"
    fi
    if [ -z "$why" ]; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc: $why"
        sed 's/^/# out: /' "$tmp/out"; sed 's/^/# err: /' "$tmp/err"
        fail=$((fail + 1))
    fi
}

lines() {
    [ "$(wc -l <"$tmp/err")" = "$1" ]
}

A="hostdev 'ua-vf0' \\(0000:00:02\\.0 on this host\\)"

hook_check "accepted: compatible VF, pre-copy required" 0 "" "$tmp/ok.xml" vm0 migrate begin -
echo "# accepted in $elapsed_ms ms"
hook_check "accepted: address rewritten to this host's VF" 0 "" "$tmp/rewritten.xml" vm0 migrate begin -
hook_check "no policy: nothing printed" 0 "" "$tmp/nopolicy.xml" vm0 migrate begin -

setattr 0000:00:02.0 vfio_migration/stream_version 2
hook_check "refused: other stream version, one exact line" 1 \
    "^vfmig: cannot migrate $A: the devices use different state stream versions \\(source 1, destination 2\\)\$" \
    "$tmp/ok.xml" vm0 migrate begin -
echo "# refused in $elapsed_ms ms (goal: under 5 s)"
result "refused: exactly one line on stderr" lines 1
if [ -n "$HOOK_COPY" ]; then
    saved=$HOOK HOOK=$HOOK_COPY
    hook_check "50-vfmig, as libvirtd finds it, refuses the same" 1 \
        "^vfmig: cannot migrate $A: the devices use different state stream versions" \
        "$tmp/ok.xml" vm0 migrate begin -
    HOOK=$saved
fi
setattr 0000:00:02.0 vfio_migration/stream_version 1

setattr 0000:00:02.0 vfio_migration/multi_load 0
hook_check "refused: pre-copy required, this VF has no multi-load" 1 \
    "^vfmig: cannot migrate $A: the domain's policy requires pre-copy" \
    "$tmp/ok.xml" vm0 migrate begin -
setattr 0000:00:02.0 vfio_migration/multi_load 1

setattr 0000:00:02.0 vfmig_testdev/state_size 4194304
hook_check "refused: other state size" 1 \
    "^vfmig: cannot migrate $A: the source's state is 8388608 bytes and this VF holds 4194304 bytes" \
    "$tmp/ok.xml" vm0 migrate begin -
setattr 0000:00:02.0 vfmig_testdev/state_size 8388608

hook_check "refused: no such device" 1 \
    "^vfmig: cannot migrate hostdev 'ua-vf0' \\(0000:00:09\\.0 on this host\\): this host has no PCI device 0000:00:09\\.0" \
    "$tmp/missing.xml" vm0 migrate begin -
hook_check "refused: plain vfio-pci" 1 \
    "^vfmig: cannot migrate hostdev 'ua-vf0' \\(0000:00:04\\.0 on this host\\): the device is bound to 'vfio-pci' and the source's VF to 'vfmig_testdev'" \
    "$tmp/vfio-pci.xml" vm0 migrate begin -
hook_check "refused: not bound to a VFIO driver" 1 \
    "^vfmig: cannot migrate hostdev 'ua-vf0' \\(0000:00:05\\.0 on this host\\): the device is bound to 'pci-testdev', not to a VFIO driver" \
    "$tmp/not-vfio.xml" vm0 migrate begin -
hook_check "refused: two hostdevs, one line each" 1 \
    "^vfmig: cannot migrate hostdev 'ua-vf1' \\(0000:00:09\\.0 on this host\\)" \
    "$tmp/two.xml" vm0 migrate begin -
result "refused: two lines for two hostdevs" lines 2
hook_check "refused: a malformed policy cannot be checked" 1 \
    "^vfmig: cannot check the incoming domain 'vm0' for migration: .*sometimes" \
    "$tmp/badpolicy.xml" vm0 migrate begin -

# managed='yes': libvirt binds the VF after the hook, to the driver of its
# vfio_pci alias
hook_check "managed='yes', the VF on its host driver: accepted (libvirt binds it to vfmig_testdev)" 0 "" \
    "$tmp/managed.xml" vm0 migrate begin -
cp "$mods/modules.alias" "$tmp/aliases"
grep -v vfmig_testdev "$tmp/aliases" >"$mods/modules.alias"
hook_check "managed='yes', no vfio_pci alias for the VF: refused, one exact line" 1 \
    "^vfmig: cannot migrate hostdev 'ua-vf0' \\(0000:00:05\\.0 on this host\\): libvirt will bind it to vfio-pci, which cannot migrate: no vfio_pci alias in '$mods/modules\\.alias' matches the device \\(1b36:0005, modalias 'v00001B36d00000005sv00001AF4sd00001100bc00scFFi00'\\); install the module 'vfmig_testdev' \\(vfmig's kernel modules have it\\) and run 'depmod -a', or name the driver in the hostdev: <driver model='vfmig_testdev'/>\$" \
    "$tmp/managed.xml" vm0 migrate begin -
result "managed='yes' refused: exactly one line on stderr" lines 1
hook_check "managed='yes', no vfio_pci alias: a note on prepare begin, exit 0" 0 \
    "^vfmig: note: an incoming migration would be refused: hostdev 'ua-vf0' \\(0000:00:05\\.0 on this host\\): libvirt will bind it to vfio-pci" \
    "$tmp/managed.xml" vm0 prepare begin -
cp "$tmp/aliases" "$mods/modules.alias"

# prepare begin: every start of the domain; never refused
setattr 0000:00:02.0 vfio_migration/stream_version 2
hook_check "prepare begin: a note, exit 0" 0 \
    "^vfmig: note: an incoming migration would be refused: $A: the devices use different state stream versions" \
    "$tmp/ok.xml" vm0 prepare begin -
setattr 0000:00:02.0 vfio_migration/stream_version 1
hook_check "prepare begin: compatible, silent" 0 "" "$tmp/ok.xml" vm0 prepare begin -
hook_check "prepare begin: a malformed policy does not stop a start" 0 \
    "^vfmig: note: cannot check domain 'vm0'" \
    "$tmp/badpolicy.xml" vm0 prepare begin -

# every other call: exit 0 at once, not even reading stdin
echo "not XML" >"$tmp/garbage"
for call in "start begin -" "started begin -" "stopped end -" "release end shutdown" \
            "restore begin -" "reconnect begin -" "attach begin -" "migrate end -"; do
    # shellcheck disable=SC2086
    hook_check "ignored: $call" 0 "" "$tmp/garbage" vm0 $call
done
mkfifo "$tmp/fifo"
sleep 30 >"$tmp/fifo" &
writer=$!
t0=$(date +%s%N)
rc=0
"$HOOK" vm0 started begin - <"$tmp/fifo" >"$tmp/out" 2>&1 || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
result "ignored calls do not wait for stdin (took $ms ms)" test "$rc" = 0 -a ! -s "$tmp/out" -a "$ms" -lt 5000

# stdin is bounded
head -c $((16 * 1024 * 1024 + 1)) /dev/zero >"$tmp/huge"
hook_check "more than 16 MiB of XML is refused" 1 "^vfmig: cannot check the incoming domain 'vm0' for migration: .*" \
    "$tmp/huge" vm0 migrate begin -

# debug lines with VFMIG_DEBUG, still nothing on stdout
rc=0
env -i PATH=/usr/bin:/bin VFMIG_DEBUG=1 VFMIG_SYSFS_ROOT="$sys" VFMIG_CACHE_DIR="$tmp/cache" \
    "$HOOK" vm0 migrate begin - <"$tmp/ok.xml" >"$tmp/out" 2>"$tmp/err" || rc=$?
result "VFMIG_DEBUG: exit 0, stdout empty" test "$rc" = 0 -a ! -s "$tmp/out"
result "VFMIG_DEBUG: the probe and the verdict logged" \
    grep -Eq '^vfmig: [0-9]+\.[0-9]{6} vfmigHookCheck: verdict: accepted' "$tmp/err"

# usage
rc=0
"$HOOK" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
result "no arguments: usage error, exit 2" test "$rc" = 2 -a -s "$tmp/err" -a ! -s "$tmp/out"

# the hook writes nothing: no cache directory appeared
result "nothing written (no cache directory)" test ! -e "$tmp/cache"

finish
