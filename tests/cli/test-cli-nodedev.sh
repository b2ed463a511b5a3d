#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virt-vfmig's node-device commands against a fake sysfs tree (two PFs,
# VFs on mlx5_vfio_pci with vfmig's sysfs ABI, one on plain vfio-pci, one
# on mlx5_core) and, for nodedev-dumpxml, a real libvirtd 11.3 started for
# the test (tests/libvirt/with-libvirtd.sh) whose XML of a real PCI device
# of this machine gets the capability the fake tree gives that address.
# The record of a device's last qualification (<cache>/<addr>.qualified.xml)
# shows in nodedev-list --json, nodedev-nova-spec and, through libvirt's
# test driver (no daemon), nodedev-dumpxml.
# Output is checked against vfmig's schema with xmllint.  Real drivers in
# real kernels: tests/vm (suite nodedev).
set -uo pipefail

VFMIG=${1:?usage: test-cli-nodedev.sh VIRT_VFMIG SRCDIR}
SRCDIR=${2:?usage: test-cli-nodedev.sh VIRT_VFMIG SRCDIR}
export LC_ALL=C LANG=C
unset LIBVIRT_DEFAULT_URI

. "$(dirname "$0")/asan-build.sh"

tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
    n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"
    [ -f "$tmp/out" ] && sed 's/^/# out: /' "$tmp/out"
    [ -f "$tmp/err" ] && sed 's/^/# err: /' "$tmp/err"
}
# run WANT_RC ARGS...: runs virt-vfmig, output in $tmp/out and $tmp/err
run() {
    local want=$1; shift
    rc=0
    "$VFMIG" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
    [ "$rc" = "$want" ]
}
has() { grep -Eq -- "$1" "$tmp/out"; }
has_err() { grep -Eq -- "$1" "$tmp/err"; }

# ---- the fake tree
sys=$tmp/sys
mkdir -p "$sys/bus/pci/devices" "$tmp/dev/vfio" "$tmp/proc" "$tmp/cache" "$tmp/debug"
pci() {   # pci ADDR VENDOR DEVICE DRIVER GROUP
    local d=$sys/devices/pci0000:3a/$1
    mkdir -p "$d"
    ln -s "../../../devices/pci0000:3a/$1" "$sys/bus/pci/devices/$1"
    echo "$2" > "$d/vendor"; echo "$3" > "$d/device"; echo 0 > "$d/enable"
    if [ -n "$4" ]; then
        mkdir -p "$sys/bus/pci/drivers/$4"
        ln -s "../../../bus/pci/drivers/$4" "$d/driver"
        # what VFIO registers for a device its driver binds
        case $4 in *vfio*) mkdir -p "$d/vfio-dev/vfio$5";; esac
    fi
    mkdir -p "$sys/kernel/iommu_groups/$5"
    ln -s "../../../kernel/iommu_groups/$5" "$d/iommu_group"
}
vf() {    # vf PF INDEX VF
    ln -s "../$3" "$sys/devices/pci0000:3a/$1/virtfn$2"
    ln -s "../$1" "$sys/devices/pci0000:3a/$3/physfn"
}
abi() {   # abi ADDR FEATURES PRECOPY MULTI_LOAD STATE [FIRMWARE]
    local d=$sys/devices/pci0000:3a/$1/vfio_migration
    mkdir -p "$d"
    echo "$2" > "$d/features"; echo "$3" > "$d/precopy"; echo "$4" > "$d/multi_load"
    echo "$5" > "$d/state"; echo 2 > "$d/stream_version"
    for f in initial_bytes dirty_bytes stop_latency_us resume_latency_us; do echo 0 > "$d/$f"; done
    echo 4096 > "$d/stop_copy_bytes"
    [ -n "${6:-}" ] && echo "$6" > "$d/firmware"
    return 0
}
pci 0000:3b:00.0 0x15b3 0x101d mlx5_core 10
pci 0000:3b:00.2 0x15b3 0x101e mlx5_vfio_pci 11
pci 0000:3b:00.3 0x15b3 0x101e mlx5_vfio_pci 12
pci 0000:3b:00.4 0x15b3 0x101e vfio-pci 13
pci 0000:3b:00.5 0x15b3 0x101e mlx5_core 14
# upstream mlx5_vfio_pci: no vfio_migration/ ABI, no debugfs on Debian
pci 0000:3b:00.6 0x15b3 0x101e mlx5_vfio_pci 15
mkdir -p "$sys/devices/pci0000:3a/0000:3b:00.6/vfio-dev/vfio0"
vf 0000:3b:00.0 0 0000:3b:00.2; vf 0000:3b:00.0 1 0000:3b:00.3
vf 0000:3b:00.0 2 0000:3b:00.4; vf 0000:3b:00.0 3 0000:3b:00.5
vf 0000:3b:00.0 4 0000:3b:00.6
abi 0000:3b:00.2 "stop-copy p2p pre-copy dma-logging" on 1 RUNNING 28.39.1002
abi 0000:3b:00.3 "stop-copy p2p pre-copy" on 0 RUNNING 28.39.1002
printf 'CONFIG_VFIO=m\n' > "$tmp/config"
export VFMIG_SYSFS_ROOT=$sys VFMIG_DEV_ROOT=$tmp/dev VFMIG_PROC_ROOT=$tmp/proc
export VFMIG_CACHE_DIR=$tmp/cache VFMIG_DEBUGFS_ROOT=$tmp/debug VFMIG_KERNEL_CONFIG=$tmp/config

# ---- nodedev-list
if run 0 nodedev-list && has 'pci_0000_3b_00_2 +mlx5_vfio_pci +stop-copy,p2p,pre-copy,multi-load +device +RUNNING' &&
   has 'pci_0000_3b_00_3 +mlx5_vfio_pci +stop-copy,p2p,pre-copy +none' && ! has 'pci_0000_3b_00_[05]'; then
    ok "nodedev-list shows the two migratable VFs with features and dirty tracking, no device off VFIO"
else
    nok "nodedev-list"
fi
# the table: columns as wide as their widest cell (a ConnectX VF's four
# features), each row's cells starting under their header, a rule as wide
# as the table; 'In use' from the function's enable (a VFIO user has it)
echo 1 > "$sys/devices/pci0000:3a/0000:3b:00.3/enable"
if run 0 nodedev-list && has '^ pci_0000_3b_00_3 +mlx5_vfio_pci +.* +RUNNING +yes$' &&
   has '^ pci_0000_3b_00_2 +mlx5_vfio_pci +.* +RUNNING +no$' &&
   python3 - "$tmp/out" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split("\n\n")[0].splitlines()
head, rule, rows = lines[0], lines[1], lines[2:]
starts = [i for i in range(1, len(head)) if head[i] != " " and head[i - 1] == " " and
          (i < 3 or head[i - 3:i] == "   ")]
assert [head[i:].split("   ")[0] for i in starts] == ["Name", "Driver", "Features", "Dirty", "State", "In use"], starts
assert set(rule) == {"-"} and len(rule) == max(len(l) for l in [head] + rows), rule
for r in rows:
    for i in starts:
        assert r[i] != " " and r[i - 1] == " ", (r, i)
    assert r == r.rstrip()
EOF
then
    ok "nodedev-list's table: each column as wide as its widest cell, cells under their headers, an 'In use' column"
else
    nok "nodedev-list's table"
fi
echo 0 > "$sys/devices/pci0000:3a/0000:3b:00.3/enable"
if run 0 nodedev-list && has '^ pci_0000_3b_00_6 +mlx5_vfio_pci +unknown +- +- +no$' &&
   has '^ pci_0000_3b_00_4 +vfio-pci +unknown' &&
   has "^0000:3b:00.6: migration features unknown: neither its driver's sysfs nor debugfs" &&
   has "To learn them: run 'virt-vfmig device-qualify 0000:3b:00.6', or 'virt-vfmig nodedev-list --vfio-query' \\(the VFIO feature query\\): both need the device idle, and vfio-pci resets a function it opens" &&
   [ ! -s "$tmp/err" ]; then
    ok "nodedev-list lists a VF on upstream mlx5_vfio_pci (no vfio_migration/): features unknown, and how to learn them"
else
    nok "nodedev-list with a VF on upstream mlx5_vfio_pci"
fi
if run 0 nodedev-list --cap pci && has 'pci_0000_3b_00_0 +mlx5_core' && has 'pci_0000_3b_00_5 +mlx5_core'; then
    ok "nodedev-list --cap pci shows every PCI function"
else
    nok "nodedev-list --cap pci"
fi
if run 0 nodedev-list --json &&
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [x["name"] for x in d]==["pci_0000_3b_00_2","pci_0000_3b_00_3","pci_0000_3b_00_4","pci_0000_3b_00_6"], d; assert d[0]["features"]==["stop-copy","p2p","pre-copy","multi-load"], d[0]; assert d[0]["dirty-tracking"]=="device" and d[1]["dirty-tracking"]=="none"; assert d[0]["physfn"]=="0000:3b:00.0"; u=d[3]; assert u["vfio"] is True and u["features"] is None and u["driver"]=="mlx5_vfio_pci", u; assert u["note"].startswith("migration features unknown: "), u; assert "virt-vfmig device-qualify 0000:3b:00.6" in u["learn-features"] and "resets" in u["learn-features"], u' "$tmp/out"; then
    ok "nodedev-list --json is valid JSON with the same devices and features; unknown features are null, with how to learn them"
else
    nok "nodedev-list --json"
fi
echo off > "$sys/devices/pci0000:3a/0000:3b:00.3/vfio_migration/precopy"
echo "stop-copy p2p" > "$sys/devices/pci0000:3a/0000:3b:00.3/vfio_migration/features"
if run 0 nodedev-list --pre-copy && has pci_0000_3b_00_2 && ! has pci_0000_3b_00_3; then
    ok "nodedev-list --pre-copy leaves out the VF without pre-copy"
else
    nok "nodedev-list --pre-copy"
fi
if run 2 nodedev-list --cap foo && has_err "unknown capability 'foo'" && has_err "Try 'virt-vfmig --help'"; then
    ok "nodedev-list --cap with an unknown capability is a usage error naming it"
else
    nok "nodedev-list --cap foo"
fi
if run 2 nodedev-list extra && has_err "unexpected argument 'extra'"; then
    ok "nodedev-list with an extra argument is a usage error"
else
    nok "nodedev-list extra"
fi
for c in nodedev-list nodedev-nova-spec "nodedev-compare pci_0000_3b_00_2 pci_0000_3b_00_3" "nodedev-dumpxml pci_0000_3b_00_2"; do
    # -c is never ignored: a libvirt that is not there fails, another
    # host's is refused, since these read this host's devices
    # shellcheck disable=SC2086
    if run 1 -c bogus:///x $c && [ ! -s "$tmp/out" ] &&
       has_err "failed to connect to libvirt at 'bogus:///x'"; then
        ok "${c%% *} -c bogus:///x fails instead of printing this host's data"
    else
        nok "${c%% *} -c bogus:///x"
    fi
    # shellcheck disable=SC2086
    if run 2 -c qemu+ssh://elsewhere/system $c && [ ! -s "$tmp/out" ] &&
       has_err "command '${c%% *}' reads this host's devices, but -c 'qemu\+ssh://elsewhere/system' names another host" &&
       has_err "Try 'virt-vfmig --help'"; then
        ok "${c%% *} refuses -c naming another host"
    else
        nok "${c%% *} -c qemu+ssh://elsewhere/system"
    fi
done
# this host's libvirt (the test driver needs no daemon) is taken
if run 0 -c test:///default nodedev-list && has "pci_0000_3b_00_2"; then
    ok "nodedev-list -c naming this host's libvirt lists this host's devices"
else
    nok "nodedev-list -c test:///default"
fi

# ---- nodedev-compare
cap() {   # cap FILE FEATURES-XML DIRTY [DEVICE]
    cat > "$1" <<XML
<capability type='vfio-migration'>
  <driver name='mlx5_vfio_pci' variant='yes'/>
  <features source='sysfs'>
$2
  </features>
  <dirty-tracking type='$3'/>
  <identity vendor='0x15b3' device='${4:-0x101e}' firmware='28.39.1002' stream-version='2'/>
</capability>
XML
}
all="<stop-copy/><p2p/><pre-copy mode='on'/><multi-load/>"
cap "$tmp/a.xml" "$all" device
cap "$tmp/b.xml" "$all" device
cap "$tmp/c.xml" "<stop-copy/><p2p/><pre-copy mode='on'/>" device
cap "$tmp/d.xml" "$all" device 0x1021
cap "$tmp/e.xml" "$all" none
if run 0 nodedev-compare "$tmp/a.xml" "$tmp/b.xml" && has '^Compatible:' && has 'Pre-copy: on' && has 'QEMU on the source: allowed'; then
    ok "nodedev-compare: identical VFs are compatible, pre-copy on, QEMU allows it"
else
    nok "nodedev-compare identical"
fi
if run 0 nodedev-compare "$tmp/a.xml" "$tmp/c.xml" && has 'Pre-copy: single' && has 'multi'; then
    ok "nodedev-compare: a destination without multi-load makes the source use 'single'"
else
    nok "nodedev-compare no multi-load"
fi
if run 1 nodedev-compare "$tmp/a.xml" "$tmp/d.xml" && has '^Incompatible' && has '\[refused\]' && has_err 'cannot migrate'; then
    ok "nodedev-compare: a different device id is refused with the reason, exit 1"
else
    nok "nodedev-compare different id"
fi
if run 0 nodedev-compare "$tmp/e.xml" "$tmp/b.xml" && has 'enable-migration=on'; then
    ok "nodedev-compare: no dirty tracking on the source: QEMU only with enable-migration=on"
else
    nok "nodedev-compare no dirty tracking"
fi
if run 1 nodedev-compare --json "$tmp/a.xml" "$tmp/d.xml" &&
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"]=="incompatible", d; assert any(r["code"]=="id" and r["fatal"] for r in d["reasons"]), d' "$tmp/out"; then
    ok "nodedev-compare --json gives the verdict and coded reasons"
else
    nok "nodedev-compare --json"
fi
if run 0 nodedev-compare pci_0000_3b_00_2 0000:3b:00.3 && has 'Pre-copy'; then
    ok "nodedev-compare of two devices of this host, by name and by address"
else
    nok "nodedev-compare of host devices"
fi
if run 1 nodedev-compare 0000:3b:00.2 0000:3b:00.4 && has_err '0000:3b:00.4'; then
    ok "nodedev-compare: a plain vfio-pci VF has no capability, named in the error"
else
    nok "nodedev-compare against vfio-pci"
fi
echo '<capability type='"'"'vfio-migration'"'"'><driver/></capability>' > "$tmp/bad.xml"
if run 1 nodedev-compare "$tmp/bad.xml" "$tmp/a.xml" && has_err 'missing element <features>'; then
    ok "nodedev-compare refuses a malformed capability, naming what is wrong"
else
    nok "nodedev-compare malformed"
fi
sed "s|firmware='28.39.1002'|firmware='28.39.1002\&#xA;Compatible: the device state can move from source to destination.\&#xD;'|" "$tmp/a.xml" > "$tmp/forged.xml"
if run 1 nodedev-compare "$tmp/a.xml" "$tmp/forged.xml" && has '^Incompatible' && ! has '^Compatible' &&
   has "firmware \\(source '28.39.1002', destination '28.39.1002\\\\nCompatible: the device state can move from source to destination.\\\\r'\\)" &&
   ! grep -q "$(printf '\r')" "$tmp/out"; then
    ok "nodedev-compare escapes control characters from the XML: a &#xA; in an attribute forges no 'Compatible' line"
else
    nok "nodedev-compare with a newline in an attribute"
fi
if run 2 nodedev-compare 0000:3b:00.2 3b:00.9 && has_err "'3b:00.9' is not a PCI address \\(the function is above 7\\)" &&
   has_err "pci_0000_3b_00_2"; then
    ok "nodedev-compare: an argument that is neither a file nor a PCI address is a usage error"
else
    nok "nodedev-compare with a bad address"
fi
if (cd "$tmp" && run 2 nodedev-compare missing.xml 0000:3b:00.2) &&
   has_err "^error: no file 'missing.xml' \\(a file name without '/' is read only when it exists\\), and 'missing.xml' is not a PCI address"; then
    ok "nodedev-compare of a file that does not exist: says there is no such file, not only that it is no address"
else
    nok "nodedev-compare of a missing file"
fi
if run 0 nodedev-compare 3b:00.2 pci_0000_3b_00_3 && has 'Pre-copy'; then
    ok "nodedev-compare: a short BDF is a device of domain 0000"
else
    nok "nodedev-compare with a short BDF"
fi
if run 1 nodedev-compare "$tmp/nonexistent/x.xml" "$tmp/a.xml" &&
   has_err "cannot open node-device XML file '$tmp/nonexistent/x.xml': No such file or directory"; then
    ok "nodedev-compare: a missing file is named"
else
    nok "nodedev-compare missing file"
fi

# ---- nodedev-nova-spec
printf '[libvirt]\nlive_migration_permit_post_copy = True\n' > "$tmp/nova.conf"
if run 0 nodedev-nova-spec --nova-conf "$tmp/nova.conf" &&
   has '^# 0000:3b:00.2: live migratable$' &&
   has '^device_spec = \{ "address": "0000:3b:00.2", "vendor_id": "15b3", "product_id": "101e", "managed": "no", "live_migratable": "yes" \}$' &&
   has_err 'live_migration_permit_post_copy' && ! has '0000:3b:00.5'; then
    ok "nodedev-nova-spec: a device_spec line for the migratable VF, a warning for post-copy"
else
    nok "nodedev-nova-spec"
fi
if run 0 nodedev-nova-spec --nova-conf "$tmp/no-nova.conf" &&
   has '^alias = \{ "vendor_id": "15b3", "product_id": "101e", "device_type": "type-VF", "name": "vfmig-15b3-101e-vf", "live_migratable": "yes" \}$' &&
   has '^alias = \{ "vendor_id": "15b3", "product_id": "101e", "device_type": "type-VF", "name": "vfmig-15b3-101e-vf-nomig", "live_migratable": "no" \}$' &&
   [ "$(grep -c '^alias = ' "$tmp/out")" = 2 ]; then
    ok "nodedev-nova-spec: [pci] alias entries with live_migratable, one per PCI id, device type and migratability"
else
    nok "nodedev-nova-spec aliases"
fi
if run 0 nodedev-nova-spec --nova-conf "$tmp/no-nova.conf" &&
   has '^# 0000:3b:00.3: not live migratable: no DMA dirty tracking: driver mlx5_vfio_pci offers no DMA dirty logging; QEMU migrates the device only with enable-migration=on' &&
   has '^# 0000:3b:00.3: .*; the switch-over then copies all guest RAM with the guest stopped, so the downtime is at least guest RAM / link bandwidth: 0\.86 s per GiB of guest RAM at 10 Gbit/s, whatever the downtime target$' &&
   has '^device_spec = \{ "address": "0000:3b:00.3", .*"live_migratable": "no" \}$' &&
   has_err '^warning: 0000:3b:00.3 is not live migratable: no DMA dirty tracking'; then
    ok "nodedev-nova-spec: a VF without dirty tracking, which QEMU blocks, says no with the reason and the least downtime per GiB"
else
    nok "nodedev-nova-spec without dirty tracking"
fi
# Debian's 6.12: the running kernel is why, and Linux 6.1 can report
printf '# Linux/x86 6.12.57 Kernel Configuration\nCONFIG_VFIO=m\nCONFIG_IOMMUFD=m\n' > "$tmp/config-6.12"
if VFMIG_KERNEL_CONFIG=$tmp/config-6.12 run 0 nodedev-nova-spec --nova-conf "$tmp/no-nova.conf" &&
   has '^# 0000:3b:00.3: not live migratable: no DMA dirty tracking: the running kernel \(Linux 6\.12\.57\) is built without CONFIG_IOMMUFD_DRIVER, .* 0\.86 s per GiB of guest RAM at 10 Gbit/s, whatever the downtime target; Linux 6\.1 can report device dirty pages: on ConnectX hosts run it until Debian.s kernel is built with CONFIG_IOMMUFD_DRIVER$' &&
   has '^# 0000:3b:00.2: live migratable$'; then
    ok "nodedev-nova-spec on Debian's 6.12: the kernel is why, and Linux 6.1 is recommended for ConnectX hosts"
else
    nok "nodedev-nova-spec on a 6.12 kernel without CONFIG_IOMMUFD_DRIVER"
fi
if run 0 nodedev-nova-spec --nova-conf "$tmp/no-nova.conf" &&
   has "^# 0000:3b:00.6: not live migratable: migration features unknown: .*; to learn them, run 'virt-vfmig device-qualify 0000:3b:00.6', or 'virt-vfmig nodedev-list --vfio-query'" &&
   has '^device_spec = \{ "address": "0000:3b:00.6", "vendor_id": "15b3", "product_id": "101e", "managed": "no", "live_migratable": "no" \}$' &&
   has '^device_spec = \{ "address": "0000:3b:00.4", .*"live_migratable": "no" \}$'; then
    ok "nodedev-nova-spec: VFs with unknown features (upstream mlx5_vfio_pci, vfio-pci) say no, and how to learn them"
else
    nok "nodedev-nova-spec with unknown features"
fi
printf '[libvirt]\nlive_migration_permit_post_copy = False\n' > "$tmp/nova.conf"
if run 0 nodedev-nova-spec --nova-conf "$tmp/nova.conf" && ! has_err post_copy; then
    ok "nodedev-nova-spec: no post-copy warning when it is off"
else
    nok "nodedev-nova-spec post-copy off"
fi
# nova.conf is read up to a bound, as a regular file only: a FIFO nobody
# writes would block the command forever, /dev/zero would be read without end
mkfifo "$tmp/nova.fifo"
# (a bound on memory too, so that reading /dev/zero cannot exhaust it; not
# under AddressSanitizer, which reserves terabytes of address space)
memkib=2097152
if asan_build "$VFMIG"; then
    memkib=unlimited
fi
for f in "$tmp/nova.fifo" /dev/zero; do
    rc=0
    (ulimit -v $memkib; exec timeout 10 "$VFMIG" nodedev-nova-spec --nova-conf "$f") \
        >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
    if [ "$rc" = 0 ] &&
       has_err "^warning: Nova configuration file '$f' is a (FIFO|character device), not a regular file: refusing to read it$" &&
       has '^device_spec = \{ "address": "0000:3b:00.2", '; then
        ok "nodedev-nova-spec: --nova-conf $f is refused at once, with a warning, and the entries are still printed"
    else
        nok "nodedev-nova-spec --nova-conf $f (exit status $rc)"
    fi
done

# ---- nodedev-nova-spec: the warnings, in text and in --json
# The PF has VFs (Nova matches a PF's address to its VFs): as sysfs has it
echo 5 > "$sys/devices/pci0000:3a/0000:3b:00.0/sriov_numvfs"
: > "$tmp/empty-nova.conf"
physnet='{"address": "0000:3b:00.0", "physical_network": "physnet1", "live_migratable": "yes"}'
tagged='device_spec = {"vendor_id": "15b3", "product_id": "101e", "live_migratable": true}'
novaopts=(nodedev-nova-spec --nova-conf "$tmp/empty-nova.conf"
          --live-migration-timeout-action force_complete --live-migration-tunnelled yes
          --live-migration-parallel-connections 4 --live-migration-downtime 200)
w_force="warning: [libvirt] live_migration_timeout_action is force_complete (--live-migration-timeout-action) and live_migration_permit_post_copy is False (Nova's default): when live_migration_completion_timeout passes, Nova pauses the guest to finish the migration (virDomainSuspend), and QEMU moves its VFs to STOP_COPY; virt-vfmigd then releases its hold at once if every VF's initial pre-copy data has been sent, so the migration completes with the guest stopped from the pause on, whatever the policy's target; if a VF's initial data has not all been sent it cancels the migration (QEMU, waiting for switchover-ack, could not complete it), and Nova resumes the guest on the source.  Keep abort, Nova's default, to have Nova cancel a migration that takes too long with the guest running"
w_tunnel="warning: [libvirt] live_migration_tunnelled is yes (--live-migration-tunnelled): Nova then migrates with VIR_MIGRATE_TUNNELLED, for which libvirt turns QEMU's return-path off (qemuMigrationParamsFlagMap, libvirt's src/qemu/qemu_migration_params.c), and without a return path QEMU has no switchover-ack.  The VFs still migrate, neither QEMU nor vfmig refuses them, but QEMU may switch over before the destination loaded the VFs' initial pre-copy data, which it then loads with the guest stopped (for one mlx5 VF with 300 MB of state, 1.9 s of downtime instead of 0.42 s), and virt-vfmigd, which counts on switchover-ack unless started with --load-ms, predicts the downtime short.  Set it to False (Nova deprecates it); live_migration_with_native_tls encrypts without it"
w_parallel="warning: [libvirt] live_migration_tunnelled is yes (--live-migration-tunnelled) and live_migration_parallel_connections is 4 (--live-migration-parallel-connections): libvirt refuses every migration asked with both VIR_MIGRATE_TUNNELLED and VIR_MIGRATE_PARALLEL (\"Flags 'VIR_MIGRATE_TUNNELLED' and 'VIR_MIGRATE_PARALLEL' are mutually exclusive\"), and Nova does not check the pair when it starts: every live migration from this host fails.  Turn one of them off"
w_downtime="warning: [libvirt] live_migration_downtime is 200 (--live-migration-downtime): 200 ms, below the downtime target of vfmig's policy, 300 ms (vfmig's default, where a domain's policy gives none): every downtime limit Nova sets during a migration (its steps, from it divided by live_migration_downtime_steps up to all of it) asks QEMU for less than the policy allows.  virt-vfmigd, while it steers the migration, overwrites each of Nova's writes at its next step (within 200 ms) with its own limit, so Nova's value does not count there; without the daemon QEMU switches over only once the VFs' state and the RAM left fit in Nova's limit, and a migration may not converge before Nova's completion timeout.  Set live_migration_downtime to at least 300"
w_physnet="warning: device_spec '$physnet' (--device-spec-line) has physical_network 'physnet1': Nova gives the VFs it takes (0000:3b:00.2, 0000:3b:00.3, 0000:3b:00.4, 0000:3b:00.6) to Neutron ports (vnic_type direct), which it unplugs before a live migration and plugs again after, so no device state moves, and it ignores the entry's live_migratable (Launchpad bug 2102161).  Give the VFs to migrate to VMs through a [pci] alias, from a device_spec without physical_network"
why3='no DMA dirty tracking: driver mlx5_vfio_pci offers no DMA dirty logging; QEMU migrates the device only with enable-migration=on and then counts all guest RAM as dirty; the switch-over then copies all guest RAM with the guest stopped, so the downtime is at least guest RAM / link bandwidth: 0.86 s per GiB of guest RAM at 10 Gbit/s, whatever the downtime target'
w_tagged="warning: device_spec '$tagged' (--device-spec-line) tags 0000:3b:00.3 live_migratable, but QEMU would not migrate it as Nova defines the VM: $why3.  Nova would start live migrations of VMs with it: give it \"live_migratable\": \"no\", as nodedev-nova-spec prints it"
has_line_err() { grep -Fxq -- "$1" "$tmp/err"; }
if run 0 "${novaopts[@]}" --device-spec-line "$physnet" &&
   has_line_err "$w_force" && has_line_err "$w_tunnel" && has_line_err "$w_parallel" &&
   has_line_err "$w_downtime" && has_line_err "$w_physnet" &&
   has_line_err "warning: 0000:3b:00.3 is not live migratable: $why3" &&
   ! has_err 'tags .* live_migratable' && ! has_err 'nova.conf' &&
   has '^device_spec = \{ "address": "0000:3b:00.2", .*"live_migratable": "yes" \}$'; then
    ok "nodedev-nova-spec: force_complete, tunnelled, tunnelled with parallel connections, a downtime below the target and physical_network on the PF's line are warned about, each in full"
else
    nok "nodedev-nova-spec warnings"
fi
cp "$tmp/out" "$tmp/nova-text.out"
cp "$tmp/err" "$tmp/nova-text.err"
# the first entry that matches is Nova's: without the PF's line, the
# tagged one takes the VF without dirty tracking
if run 0 nodedev-nova-spec --nova-conf "$tmp/empty-nova.conf" --device-spec-line '{"address": "3b:00.2"}' \
       --device-spec-line '{"address": "0000:3b:00.4", "live_migratable": "no"}' \
       --device-spec-line '{"address": {"function": "6"}, "live_migratable": "no"}' --device-spec-line "$tagged" &&
   has_line_err "$w_tagged" && [ "$(grep -c 'tags .* live_migratable' "$tmp/err")" = 1 ]; then
    ok "nodedev-nova-spec: a device_spec already in nova.conf that tags a VF QEMU would not migrate without an override live_migratable is warned about, once, by the entry Nova takes"
else
    nok "nodedev-nova-spec with a device_spec that tags a VF without dirty tracking"
fi
# the same as JSON: one object, the entries as the text has them, the same
# warnings with their codes, nothing on stderr
if run 0 "${novaopts[@]}" --device-spec-line "$physnet" --json && [ ! -s "$tmp/err" ] &&
   python3 - "$tmp/out" "$tmp/nova-text.out" "$tmp/nova-text.err" > "$tmp/py.err" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read().splitlines()
err = open(sys.argv[3]).read().splitlines()
assert set(d) == {"device_spec", "alias", "devices", "nova-conf", "settings",
                  "device-spec-entries", "policy-target-ms", "warnings"}, d.keys()
spec = [json.loads(l[len("device_spec = "):]) for l in text if l.startswith("device_spec = ")]
alias = [json.loads(l[len("alias = "):]) for l in text if l.startswith("alias = ")]
assert d["device_spec"] == spec, (d["device_spec"], spec)
assert d["alias"] == alias, (d["alias"], alias)
assert [x["address"] for x in d["devices"]] == [x["address"] for x in spec]
for dev, ds in zip(d["devices"], spec):
    assert (ds["live_migratable"] == "yes") == dev["live_migratable"], dev
    assert (dev["reason"] is None) == dev["live_migratable"], dev
    line = "# %s: " % dev["address"] + ("live migratable" if dev["live_migratable"]
                                        else "not live migratable: " + dev["reason"])
    assert line in text, line
v2, v3 = d["devices"][0], d["devices"][1]
assert v2["qemu"] == "allowed" and v2["dirty-tracking"] == "device" and v2["all-dirty"] is None, v2
assert v3["qemu"] == "all-dirty" and v3["alias"] == "vfmig-15b3-101e-vf-nomig", v3
assert v3["all-dirty"] == {"ram-bytes": 1073741824, "link-bps": 1250000000,
                           "link": "assumed", "least-us": 858994}, v3
assert d["devices"][3]["qemu"] is None and d["devices"][3]["all-dirty"] is None
codes = [w["code"] for w in d["warnings"]]
assert codes == ["not-live-migratable"] * 3 + ["force-complete-pause", "tunnelled-no-switchover-ack",
                 "tunnelled-parallel", "downtime-below-target", "physical-network-unplug"], codes
assert ["warning: " + w["message"] for w in d["warnings"]] == err, err
s = d["settings"]
assert s["live_migration_tunnelled"] == {"value": "yes", "from": "--live-migration-tunnelled"}, s
assert s["live_migration_permit_post_copy"] == {"value": "False", "from": None}, s
assert s["live_migration_parallel_connections"]["value"] == "4", s
assert d["policy-target-ms"] == 300 and d["device-spec-entries"] == 1, d
assert d["nova-conf"].endswith("/empty-nova.conf"), d["nova-conf"]
PY
then
    ok "nodedev-nova-spec --json: one object; device_spec and alias as the text's lines, each VF's live_migratable and reason as its comment, the least downtime per GiB where all RAM is dirty, the text's warnings with their codes"
else
    nok "nodedev-nova-spec --json"
    sed 's/^/# py: /' "$tmp/py.err"
fi
# from nova.conf: the file named in each warning; an option over the file;
# [pci] device_spec read from it; a value Nova refuses
cat > "$tmp/nova.conf" <<'CONF'
[pci]
device_spec = {"address": "0000:3b:00.0", "physical_network": "physnet1"}
device_spec = {"address": "3b:00.9"}
[libvirt]
live_migration_tunnelled = True
live_migration_parallel_connections = 2
live_migration_timeout_action = force_complete
live_migration_permit_post_copy = bogus
CONF
if run 0 nodedev-nova-spec --nova-conf "$tmp/nova.conf" --live-migration-parallel-connections 1 &&
   has_line_err "warning: [libvirt] live_migration_tunnelled is True ($tmp/nova.conf): Nova then migrates with VIR_MIGRATE_TUNNELLED, for which libvirt turns QEMU's return-path off (qemuMigrationParamsFlagMap, libvirt's src/qemu/qemu_migration_params.c), and without a return path QEMU has no switchover-ack.  The VFs still migrate, neither QEMU nor vfmig refuses them, but QEMU may switch over before the destination loaded the VFs' initial pre-copy data, which it then loads with the guest stopped (for one mlx5 VF with 300 MB of state, 1.9 s of downtime instead of 0.42 s), and virt-vfmigd, which counts on switchover-ack unless started with --load-ms, predicts the downtime short.  Set it to False (Nova deprecates it); live_migration_with_native_tls encrypts without it" &&
   has_line_err "warning: $tmp/nova.conf: live_migration_permit_post_copy wants True or False (or yes, no, on, off, 1, 0), not 'bogus'; Nova refuses it" &&
   has_line_err "warning: $tmp/nova.conf: device_spec '{\"address\": \"3b:00.9\"}' is not one Nova takes: the function '9' is not '*' or a hexadecimal number up to 7; Nova refuses it" &&
   has_err "^warning: \[libvirt\] live_migration_timeout_action is force_complete \($tmp/nova.conf\) and live_migration_permit_post_copy is False \(Nova's default\): " &&
   has_err "^warning: device_spec '\{\"address\": \"0000:3b:00.0\", \"physical_network\": \"physnet1\"\}' \($tmp/nova.conf\) has physical_network 'physnet1': Nova gives the VFs it takes \(0000:3b:00.2, 0000:3b:00.3, 0000:3b:00.4, 0000:3b:00.6\)" &&
   ! has_err 'VIR_MIGRATE_PARALLEL'; then
    ok "nodedev-nova-spec --nova-conf: its settings and device_spec lines are checked and named by the file; an option wins over the file; a value Nova refuses is a warning"
else
    nok "nodedev-nova-spec with settings in nova.conf"
fi
# the policy's target given
if run 0 nodedev-nova-spec --nova-conf "$tmp/empty-nova.conf" --policy-target-ms 1000 &&
   has_err "^warning: \[libvirt\] live_migration_downtime is 500 \(Nova's default\): 500 ms, below the downtime target of vfmig's policy, 1000 ms \(--policy-target-ms\): .*Set live_migration_downtime to at least 1000$" &&
   run 0 nodedev-nova-spec --nova-conf "$tmp/empty-nova.conf" --live-migration-downtime 300 --live-migration-timeout-action abort \
       --live-migration-tunnelled False --live-migration-permit-post-copy no &&
   ! has_err 'live_migration_'; then
    ok "nodedev-nova-spec: Nova's default downtime against --policy-target-ms; Nova's defaults and a downtime at the target warn about nothing"
else
    nok "nodedev-nova-spec --policy-target-ms"
fi
# usage errors, and with --json an object with the error all the same
for bad in "--live-migration-timeout-action pause|--live-migration-timeout-action: live_migration_timeout_action wants abort or force_complete, not 'pause'" \
           "--live-migration-tunnelled maybe|--live-migration-tunnelled: live_migration_tunnelled wants True or False (or yes, no, on, off, 1, 0), not 'maybe'" \
           "--live-migration-downtime 50|--live-migration-downtime: live_migration_downtime wants a whole number from 100 to 2147483647, not '50'" \
           "--live-migration-parallel-connections x|--live-migration-parallel-connections: live_migration_parallel_connections wants a whole number from -2147483648 to 2147483647, not 'x'" \
           "--policy-target-ms 0|command 'nodedev-nova-spec': option --policy-target-ms wants a whole number from 1 to 60000, not '0'" \
           "--device-spec-line {\"address\":|--device-spec-line: device_spec '{\"address\":' is not one Nova takes: not valid JSON: it ends where a value was expected"; do
    opt=${bad%%|*}; msg=${bad#*|}
    # shellcheck disable=SC2086
    if run 2 nodedev-nova-spec ${opt% *} "${opt#* }" --json &&
       has_line_err "error: $msg" && has_err "Try 'virt-vfmig --help'" &&
       python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d=={"error": sys.argv[2]}, d' "$tmp/out" "$msg"; then
        ok "nodedev-nova-spec ${opt%% *}: a bad value is a usage error naming it; --json still prints an object with the error"
    else
        nok "nodedev-nova-spec $opt"
    fi
done
if VFMIG_SYSFS_ROOT=$tmp/nosys run 1 nodedev-nova-spec --json &&
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert list(d)==["error"] and d["error"].startswith("no PCI bus in sysfs: "), d' "$tmp/out" &&
   has_err '^error: no PCI bus in sysfs: '; then
    ok "nodedev-nova-spec --json: a failure before any entry (no PCI bus) prints an object with the error"
else
    nok "nodedev-nova-spec --json without a PCI bus"
fi
rm -f "$sys/devices/pci0000:3a/0000:3b:00.0/sriov_numvfs"

# ---- the qualification record (device-qualify writes it; here by hand)
rec=$tmp/cache/0000:3b:00.2.qualified.xml
record() {   # record VERDICT [FIGURES...]: a record of 0000:3b:00.2
    local v=$1 f; shift
    {
        printf "<nodedev-qualification address='0000:3b:00.2' driver='mlx5_vfio_pci'>\n"
        printf "  <qualified at='2026-11-24T10:00:00Z' verdict='%s' target-us='300000'" "$v"
        for f in "$@"; do printf " %s='%s'" "${f%%=*}" "${f#*=}"; done
        printf " peer='0000:3b:00.3'/>\n</nodedev-qualification>\n"
    } > "$rec"
}
record qualified downtime-us=96902 stop-latency-us=420 drain-us=48046 load-commit-us=48205 resume-latency-us=231
if run 0 nodedev-list --json &&
   python3 -c 'import json,sys; d={x["name"]: x for x in json.load(open(sys.argv[1]))}; q=d["pci_0000_3b_00_2"]["qualified"]; assert q=={"at":"2026-11-24T10:00:00Z","verdict":"qualified","target-us":300000,"peer":"0000:3b:00.3","measured":True,"downtime-us":96902,"stop-latency-us":420,"drain-us":48046,"load-commit-us":48205,"resume-latency-us":231}, q; assert d["pci_0000_3b_00_3"]["qualified"] is None' "$tmp/out" &&
   [ -f "$tmp/cache/0000:3b:00.2.xml" ]; then
    ok "nodedev-list --json shows the record of the last qualification, null for a device never qualified"
else
    nok "nodedev-list --json with a qualification record"
fi
if xmllint --noout --relaxng "$SRCDIR/schemas/vfmig-nodedev-store.rng" \
       "$tmp/cache/0000:3b:00.2.xml" "$rec" > "$tmp/err" 2>&1; then
    ok "the cache file nodedev-list wrote and the record validate against schemas/vfmig-nodedev-store.rng"
else
    nok "the cache file or the record does not validate against vfmig-nodedev-store.rng"
    sed 's/^/# /' "$tmp/err"
fi
if run 0 nodedev-nova-spec --nova-conf "$tmp/no-nova.conf" &&
   has '^#   device-qualify 2026-11-24T10:00:00Z: qualified, downtime 96.9 ms \(target 300.0 ms\)$' &&
   ! has_err 'not qualified'; then
    ok "nodedev-nova-spec: the last qualification as a comment under the VF's device_spec"
else
    nok "nodedev-nova-spec with a qualification record"
fi

# nodedev-dumpxml against libvirt's test driver (in the client, no daemon)
# with a node device at the fake tree's address
cat > "$tmp/testnode.xml" <<'XML'
<node>
  <device>
    <name>pci_0000_3b_00_2</name>
    <parent>computer</parent>
    <driver>
      <name>mlx5_vfio_pci</name>
    </driver>
    <capability type='pci'>
      <domain>0</domain>
      <bus>59</bus>
      <slot>0</slot>
      <function>2</function>
      <product id='0x101e'/>
      <vendor id='0x15b3'/>
    </capability>
  </device>
</node>
XML
testuri=test://$tmp/testnode.xml
want="<qualified at='2026-11-24T10:00:00Z' verdict='qualified' target-us='300000' downtime-us='96902' stop-latency-us='420' drain-us='48046' load-commit-us='48205' resume-latency-us='231' peer='0000:3b:00.3'/>"
if run 0 -c "$testuri" nodedev-dumpxml pci_0000_3b_00_2 && grep -qxF "      $want" "$tmp/out" &&
   has "<identity vendor='0x15b3'" && [ ! -s "$tmp/err" ]; then
    ok "nodedev-dumpxml (libvirt's test driver): the record as <qualified/> in the capability"
else
    nok "nodedev-dumpxml with a qualification record"
fi
cp "$tmp/out" "$tmp/qualified.xml"
if xmllint --noout --relaxng "$SRCDIR/schemas/vfmig-nodedev.rng" "$tmp/qualified.xml" > "$tmp/err" 2>&1; then
    ok "nodedev-dumpxml with <qualified/> validates against schemas/vfmig-nodedev.rng"
else
    nok "nodedev-dumpxml with <qualified/> does not validate"
fi
record not-qualified
if run 0 -c "$testuri" nodedev-dumpxml pci_0000_3b_00_2 &&
   has "<qualified at='2026-11-24T10:00:00Z' verdict='not-qualified' target-us='300000' peer='0000:3b:00.3'/>" &&
   run 0 nodedev-nova-spec --nova-conf "$tmp/no-nova.conf" &&
   has '^#   device-qualify 2026-11-24T10:00:00Z: not-qualified, nothing measured$' &&
   has_err '0000:3b:00.2 was not qualified for migration by its last device-qualify'; then
    ok "a record of a run that failed midway: no figures; nodedev-nova-spec warns that the VF is not qualified"
else
    nok "a record without figures"
fi
record qualified downtime-us=96902
if run 0 -c "$testuri" nodedev-dumpxml pci_0000_3b_00_2 && ! has '<qualified' &&
   has "<capability type='vfio-migration'>" &&
   has_err "^warning: corrupt qualification record '$rec': attribute 'downtime-us' of element <qualified> .*'stop-latency-us' is missing"; then
    ok "a corrupt record: a warning naming the file and the attribute; the capability without <qualified/>"
else
    nok "a corrupt qualification record"
fi
record qualified
sed -i "s/driver='mlx5_vfio_pci'/driver='vfio-pci'/" "$rec"
if run 0 -c "$testuri" nodedev-dumpxml pci_0000_3b_00_2 && ! has '<qualified' &&
   has_err "stale qualification record '$rec'.*vfio-pci.*mlx5_vfio_pci"; then
    ok "a record written for another driver is stale: a warning, no <qualified/>"
else
    nok "a stale qualification record"
fi
rm -f "$rec"
if run 0 -c "$testuri" nodedev-dumpxml pci_0000_3b_00_2 && ! has '<qualified' && [ ! -s "$tmp/err" ]; then
    ok "no record: no <qualified/>, nothing on stderr"
else
    nok "nodedev-dumpxml without a record"
fi

# ---- nodedev-dumpxml through a real libvirtd
real=$(cd /sys/bus/pci/devices && ls | head -n 1)
if [ -z "$real" ]; then
    nok "this machine has no PCI device for the libvirtd test"
else
    # the fake tree describes the real device's address as a migratable VF
    pci "$real" 0x15b3 0x101e mlx5_vfio_pci 30
    abi "$real" "stop-copy p2p pre-copy dma-logging" on 1 PRE_COPY
    name=pci_$(echo "$real" | tr ':.' '__')
    if run 0 -c qemu:///system version --local; then :; fi
    rc=0
    "$SRCDIR/tests/libvirt/with-libvirtd.sh" sh -c '
        "$1" -c qemu:///system nodedev-dumpxml "$2" > "$3/dump.xml" 2> "$3/dump.err" || exit 1
        virsh -c qemu:///system nodedev-dumpxml "$2" > "$3/virsh.xml" 2>> "$3/dump.err" || exit 2
        "$1" -c qemu:///system nodedev-dumpxml ff:1f.7 > /dev/null 2> "$3/nodev.err"; echo $? > "$3/nodev.rc"
        "$1" -c qemu:///system nodedev-dumpxml nosuchdevice > /dev/null 2> "$3/badname.err"; echo $? > "$3/badname.rc"
    ' sh "$VFMIG" "$name" "$tmp" || rc=$?
    cp "$tmp/dump.xml" "$tmp/out" 2>/dev/null; cp "$tmp/dump.err" "$tmp/err" 2>/dev/null
    if [ "$rc" = 0 ] && has "<name>$name</name>" && has "<capability type='vfio-migration'>" &&
       has "<live state='PRE_COPY'"; then
        ok "nodedev-dumpxml against a real libvirtd: libvirt's XML of $name with the capability"
    else
        nok "nodedev-dumpxml against a real libvirtd (rc $rc)"
    fi
    # removing our capability gives libvirt's own text back, byte for byte
    if python3 - "$tmp/dump.xml" "$tmp/virsh.xml" <<'PY'
import re, sys
ours = open(sys.argv[1]).read()
ours = re.sub(r"\n *<capability type='vfio-migration'>.*?</capability>", "", ours, flags=re.S)
# virsh ends its output with one newline more than libvirt's document
sys.exit(0 if ours.rstrip("\n") == open(sys.argv[2]).read().rstrip("\n") else 1)
PY
    then
        ok "nodedev-dumpxml keeps every byte of libvirt's XML (virsh nodedev-dumpxml)"
    else
        nok "nodedev-dumpxml changed libvirt's XML"
    fi
    if xmllint --noout --relaxng "$SRCDIR/schemas/vfmig-nodedev.rng" "$tmp/dump.xml" 2>"$tmp/err"; then
        ok "nodedev-dumpxml output validates against schemas/vfmig-nodedev.rng"
    else
        nok "nodedev-dumpxml output does not validate"
    fi
    if [ "$(cat "$tmp/nodev.rc" 2>/dev/null)" = 1 ] && grep -q "libvirt has no node device 'pci_0000_ff_1f_7'" "$tmp/nodev.err" &&
       [ "$(cat "$tmp/badname.rc" 2>/dev/null)" = 2 ] && grep -q "'nosuchdevice' is not a PCI address" "$tmp/badname.err"; then
        ok "nodedev-dumpxml of an unknown device fails with its name; of a bad name, a usage error"
    else
        cp "$tmp/nodev.err" "$tmp/err" 2>/dev/null; nok "nodedev-dumpxml of an unknown device"
    fi
fi

echo "1..$n"
[ "$fail" = 0 ]
