#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virt-vfmig migrate without VMs: its usage errors, the refusals before
# any migration starts (a domain without a vfmig policy, one another
# process steers, a steering lock others could open, a bad --xml file,
# an unreachable destination) and, through libvirt's test driver (whose
# domains cannot migrate: libvirt fails virDomainMigrate3), a migration
# that fails after the start, with its report in text and JSON: the
# policy's target or --target-ms, the learned overhead of virt-vfmigd's
# state file or --overhead-ms, and the switchover bandwidth given for a
# VF without device dirty tracking (a fake sysfs tree).  A real
# migration: tests/vm/suites/vfmigd.sh.
set -uo pipefail

VFMIG=${1:?usage: test-cli-migrate.sh VIRT_VFMIG}
. "$(dirname "$0")/cli-lib.sh"

# ---- the fake tree: one VF on a variant driver with vfmig's sysfs ABI
sys=$tmp/sys
d=$sys/devices/pci0000:3a/0000:3b:00.2
mkdir -p "$sys/bus/pci/devices" "$sys/bus/pci/drivers/mlx5_vfio_pci" "$d/vfio-dev/vfio11" \
         "$d/vfio_migration" "$sys/kernel/iommu_groups/11" "$tmp/dev/vfio" "$tmp/proc" \
         "$tmp/cache" "$tmp/debug" "$tmp/run"
ln -s ../../../devices/pci0000:3a/0000:3b:00.2 "$sys/bus/pci/devices/0000:3b:00.2"
ln -s ../../../bus/pci/drivers/mlx5_vfio_pci "$d/driver"
ln -s ../../../kernel/iommu_groups/11 "$d/iommu_group"
echo 0x15b3 > "$d/vendor"; echo 0x101e > "$d/device"; echo 0 > "$d/enable"
m=$d/vfio_migration
echo "stop-copy p2p pre-copy" > "$m/features"
echo on > "$m/precopy"; echo 1 > "$m/multi_load"; echo RUNNING > "$m/state"
echo 2 > "$m/stream_version"
for f in initial_bytes dirty_bytes stop_latency_us resume_latency_us; do echo 0 > "$m/$f"; done
echo 4096 > "$m/stop_copy_bytes"
printf 'CONFIG_VFIO=m\n' > "$tmp/config"
export VFMIG_SYSFS_ROOT=$sys VFMIG_DEV_ROOT=$tmp/dev VFMIG_PROC_ROOT=$tmp/proc
export VFMIG_CACHE_DIR=$tmp/cache VFMIG_DEBUGFS_ROOT=$tmp/debug VFMIG_KERNEL_CONFIG=$tmp/config
# the steering locks, and virt-vfmigd's learned overhead
export VFMIG_RUN_DIR=$tmp/run
export VFMIG_DAEMON_STATE_FILE=$tmp/vfmigd.state

# ---- libvirt's test driver: a node with three domains
uuid_pol=5a1e0000-0000-4000-8000-0000000000aa
cat > "$tmp/node.xml" <<EOF
<node>
<domain type='test'>
  <name>nopolicy</name>
  <memory unit='MiB'>64</memory>
  <os><type>hvm</type></os>
</domain>
<domain type='test'>
  <name>pol</name>
  <uuid>$uuid_pol</uuid>
  <memory unit='MiB'>64</memory>
  <os><type>hvm</type></os>
  <metadata>
    <vfmig:migration xmlns:vfmig='http://vfmig.org/xmlns/libvirt/domain/1.0'>
      <vfmig:downtime target-ms='500' on-failure='abort'/>
    </vfmig:migration>
  </metadata>
</domain>
<domain type='test'>
  <name>polvf</name>
  <memory unit='MiB'>128</memory>
  <os><type>hvm</type></os>
  <devices>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address domain='0x0000' bus='0x3b' slot='0x00' function='0x2'/></source>
      <alias name='ua-vf0'/>
    </hostdev>
  </devices>
  <metadata>
    <vfmig:migration xmlns:vfmig='http://vfmig.org/xmlns/libvirt/domain/1.0'>
      <vfmig:downtime target-ms='800' on-failure='best-effort'/>
      <vfmig:hostdev alias='ua-vf0'/>
    </vfmig:migration>
  </metadata>
</domain>
</node>
EOF
src=test://$tmp/node.xml
dst=test:///default

# json_ok PYTHON-ASSERTIONS: $tmp/out is JSON and d satisfies them
json_ok() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1" "$tmp/out" 2> "$tmp/py.err" ||
        { sed 's/^/# json: /' "$tmp/py.err"; return 1; }
}

# ---- usage errors
check "migrate without arguments is a usage error" 2 "" "domain" -- migrate
check "migrate without a destination is a usage error" 2 "" "desturi" -- migrate pol
check "--target-ms 0 is a usage error" 2 "" "option --target-ms wants a whole number from 1" -- \
    -c "$src" migrate pol "$dst" --target-ms 0
check "--cancel-after abc is a usage error" 2 "" "option --cancel-after wants a whole number" -- \
    -c "$src" migrate pol "$dst" --cancel-after abc
check "--timeout, virsh's (it suspends), is not ours" 2 "" "command 'migrate' has no option --timeout" -- \
    -c "$src" migrate pol "$dst" --timeout 5
check "--on-failure with another word is a usage error" 2 "" "option --on-failure wants abort or best-effort, not 'default'" -- \
    -c "$src" migrate pol "$dst" --on-failure default
check "--overhead-ms above 60000 is a usage error" 2 "" "option --overhead-ms wants a whole number from 0 to 60000" -- \
    -c "$src" migrate pol "$dst" --overhead-ms 60001
check "--available-switchover-bandwidth 0 is a usage error" 2 "" "option --available-switchover-bandwidth wants a whole number from 1" -- \
    -c "$src" migrate pol "$dst" --available-switchover-bandwidth 0
check "-c naming another host is a usage error: migrate runs on the source" 2 "" "command 'migrate' reads this host's devices, but -c 'qemu\+tcp://h/system' names another host" -- \
    -c qemu+tcp://h/system migrate pol "$dst"
check "migrate --json with an extra argument is a usage error" 2 "" "unexpected argument 'x'" -- \
    -c "$src" migrate pol "$dst" x

# ---- refusals before the migration starts
check "an unknown domain is refused" 1 "" "no domain 'nosuch'" -- -c "$src" migrate nosuch "$dst"
check "a domain without a vfmig policy is refused, with what to do" 1 "" \
    "domain 'nopolicy' has no vfmig migration policy in its <metadata>: run 'virt-vfmig domain-prepare nopolicy' first, or migrate it with plain 'virsh migrate'" -- \
    -c "$src" migrate nopolicy "$dst"
result "the refusal printed no report" test ! -s "$tmp/out"

mkfifo "$tmp/fifo"
check "--xml naming a FIFO is refused without blocking" 1 "" "destination XML file '$tmp/fifo'.*not a regular file" -- \
    -c "$src" migrate pol "$dst" --xml "$tmp/fifo"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' > "$tmp/big.xml"
check "--xml larger than 1 MiB is refused" 1 "" "destination XML file '$tmp/big.xml'" -- \
    -c "$src" migrate pol "$dst" --xml "$tmp/big.xml"
check "--xml naming no file is refused" 1 "" "destination XML file '$tmp/none.xml'" -- \
    -c "$src" migrate pol "$dst" --xml "$tmp/none.xml"
check "an unreachable destination is refused" 1 "" "cannot connect to the destination 'test://$tmp/nosuch.xml'" -- \
    -c "$src" migrate pol "test://$tmp/nosuch.xml"

# another process steers the domain: it holds the steering lock, a file
# of mode 0600 in a directory of mode 0700, as migrate makes them
lock=$tmp/run/steer/$uuid_pol.lock
rm -rf "$tmp/run/steer"
mkdir -m 0700 "$tmp/run/steer"
install -m 0600 /dev/null "$lock"
exec 9> "$lock"
flock -n 9 && echo 4242 >&9
check "a domain another process steers is refused, naming it" 1 "" \
    "the migration of domain 'pol' is steered already \(by process 4242\)" -- -c "$src" migrate pol "$dst"
exec 9>&-
result "the lock is free again once its holder closed it" flock -n "$lock" true

# nobody else may open a steering lock, and hold it
chmod 0755 "$tmp/run/steer"
check "a steering lock directory others can open is refused, with what to do" 1 "" \
    "^error: steering lock directory '$tmp/run/steer' is open to its group or others \(mode 0755\), who could then open what is in it: refusing to use it \(it must be mode 0700: chmod 0700 it\)$" -- \
    -c "$src" migrate pol "$dst"
chmod 0700 "$tmp/run/steer"
chmod 0644 "$lock"
check "a steering lock others can open is refused, with what to do" 1 "" \
    "^error: steering lock '$lock' has mode 0644: refusing to trust it, as its group or others could open and hold it \(it must be mode 0600: remove it\)$" -- \
    -c "$src" migrate pol "$dst"
result "the refused lock was left alone" test "$(stat -c %a "$lock")" = 644
rm -rf "$tmp/run/steer"

# ---- a migration libvirt fails after the start
check "a failed migration exits 1 with libvirt's reason, after its report" 1 \
    "^Result: +failed$" \
    "the migration of domain 'pol' to 'test:///default' failed: .*virDomainMigrate3" -- \
    -c "$src" migrate pol "$dst"
result "the text report: the policy's target and rule, no downtime, no overhead learned" \
    grep -Eq "^Target: +500 ms \(on failure: abort\)$" "$tmp/out"
result "the text report says libvirt reported no downtime and nothing was predicted" \
    sh -c "grep -Eq '^Downtime: +not reported by libvirt$' '$tmp/out' && grep -Eq '^Predicted: +none: the controller never released the switchover$' '$tmp/out' && grep -Eq '^Overhead: +0 ms \(none\)$' '$tmp/out'"
no_cr() { ! grep -q $'\r' "$tmp/out"; }
result "nothing on a terminal: no progress line in a redirected output" no_cr
result "migrate made the steering lock directory, mode 0700" \
    test "$(stat -c %a "$tmp/run/steer")" = 700
result "migrate removed its steering lock when it was done" test ! -e "$lock"

check "a failed migration with --json: a JSON report, the reason on stderr" 1 "" "failed: .*virDomainMigrate3" -- \
    -c "$src" migrate pol "$dst" --json
result "the JSON report: failed, libvirt's error, the policy's target, null downtime and prediction" \
    json_ok 'assert d["result"]=="failed" and "virDomainMigrate3" in d["error"]; assert d["domain"]=="pol" and d["destination"]=="test:///default"; assert d["target-ms"]==500 and d["on-failure"]=="abort"; assert d["downtime-ms"] is None and d["predicted-ms"] is None and d["met"] is None and d["switch"] is None; assert d["overhead"]=={"us":0,"source":"none"}; assert d["switchover-bandwidth"]["source"]=="none" and d["switchover-bandwidth"]["mibps"] is None; assert d["devices"]==[] and d["warnings"]==[]'

check "--target-ms, --on-failure, --overhead-ms and --available-switchover-bandwidth reach the report" 1 "" "failed" -- \
    -c "$src" migrate pol "$dst" --json --target-ms 250 --on-failure best-effort --overhead-ms 7 \
    --available-switchover-bandwidth 2048
result "the JSON report has the options' values" \
    json_ok 'assert d["target-ms"]==250 and d["on-failure"]=="best-effort"; assert d["overhead"]=={"us":7000,"source":"option"}; assert d["switchover-bandwidth"]["mibps"]==2048 and d["switchover-bandwidth"]["source"]=="option"'

# state FORMAT ARGS...: the state file, as virt-vfmigd leaves it (mode
# 0644 whatever the umask)
state() {
    rm -f "$VFMIG_DAEMON_STATE_FILE"
    # shellcheck disable=SC2059
    printf "$@" > "$VFMIG_DAEMON_STATE_FILE"
    chmod 0644 "$VFMIG_DAEMON_STATE_FILE"
}

# virt-vfmigd's learned overhead: the upper quartile of its samples (the
# 4th of 5; the median would be 300 ms, the largest 500 ms)
state '[overhead]\nsamples-us=100000,500000,200000,400000,300000\n'
check "virt-vfmigd's learned overhead is used" 1 "" "failed" -- -c "$src" migrate pol "$dst" --json
result "the JSON report: the learned overhead, the upper quartile of virt-vfmigd's samples" \
    json_ok 'assert d["overhead"]=={"us":400000,"source":"learned"}, d["overhead"]'
check "--overhead-ms overrides the learned overhead" 1 "" "failed" -- \
    -c "$src" migrate pol "$dst" --json --overhead-ms 0
result "the JSON report: the option's 0 ms" json_ok 'assert d["overhead"]=={"us":0,"source":"option"}'
result "the state file was only read" grep -qx 'samples-us=100000,500000,200000,400000,300000' "$VFMIG_DAEMON_STATE_FILE"
# the pre-flight: a floor that alone misses an 'abort' target starts
# nothing (the destination is not even asked: it does not exist)
check "pre-flight: libvirt's overhead alone misses the target under abort" 1 \
    "^Error: +not started: the pre-flight's floor of 600.000 ms \(the devices' stop and resume latencies and libvirt's overhead\) misses the target of 500 ms, and the policy says abort$" \
    "the migration of domain 'pol' was cancelled: the downtime target of 500 ms cannot be met" -- \
    -c "$src" migrate pol "qemu+unix:///system?socket=$tmp/nowhere" --overhead-ms 600
result "its report says aborted, the floor missed" grep -Eq '^Pre-flight: +floor 600.000 ms: misses the target$' "$tmp/out"
echo 900000 > "$m/stop_latency_us"
check "pre-flight under best effort: the migration starts" 1 "" "failed" -- \
    -c "$src" migrate polvf "$dst" --json --overhead-ms 0
result "the JSON report: the VF's latency is the floor, and it misses the target; all 128 MiB of RAM dirty at 10 Gbit/s assumed" \
    json_ok 'assert d["preflight"]=={"floor-us":900000,"misses-target":True,"all-dirty":{"ram-bytes":134217728,"link-bps":1250000000,"link":"assumed","least-us":107375,"misses-target":True}}, d["preflight"]; assert d["result"]=="failed"'
echo 0 > "$m/stop_latency_us"
# the VF without DMA dirty tracking: all guest RAM at the switch-over
check "pre-flight: all guest RAM dirty, and its least downtime misses the target" 1 \
    "^Pre-flight: +floor 0\.000 ms: leaves room for the target; all guest RAM is dirty at every pass \(a VF without DMA dirty tracking\): the switch-over copies all 128 MiB of it, at least 0\.11 s at 10 Gbit/s \(the link speed assumed\) on top of the floor, so the downtime cannot meet the target of 100 ms$" \
    "failed" -- -c "$src" migrate polvf "$dst" --overhead-ms 0 --target-ms 100

# samples count for 24 hours: older ones teach nothing
now_s=$(date +%s)
state '[overhead]\nsamples-us=900000,800000,100000\nsampled-at=1600000000,%s,%s\n' \
    $(( now_s - 90000 )) $(( now_s - 60 ))
check "learned samples older than 24 hours are not used" 1 "" "failed" -- -c "$src" migrate pol "$dst" --json
result "the JSON report: only the sample of the last 24 hours (one: x1.75, cold start)" \
    json_ok 'assert d["overhead"]=={"us":175000,"source":"learned"}, d["overhead"]'
state '[overhead]\nsamples-us=900000\nsampled-at=1600000000\n'
check "only expired samples: nothing learned" 1 "" "failed" -- -c "$src" migrate pol "$dst" --json
result "the JSON report: no learned overhead" \
    json_ok 'assert d["overhead"]=={"us":0,"source":"none"} and d["warnings"]==[], d'
state '[overhead]\nsamples-us=900000\nsampled-at=yesterday\n'
check "a corrupt sample date: a warning, overhead 0" 1 "^Result: +failed$" \
    "warning: libvirt's overhead is taken as 0 ms: daemon state file '.*vfmigd.state': overhead sample 'yesterday' is not a time in seconds since 1970" -- \
    -c "$src" migrate pol "$dst"
state '[overhead]\nsamples-us=12,abc\n'
check "a corrupt state file: a warning, overhead 0" 1 "^Result: +failed$" \
    "warning: libvirt's overhead is taken as 0 ms: daemon state file '.*vfmigd.state': overhead sample 'abc' is not a number" -- \
    -c "$src" migrate pol "$dst"

# a state file is read only as virt-vfmigd writes it, else refused whole:
# the warning says why ({f}: the file), and no overhead is learned
refused() {
    local desc=$1
    export WANT=$2
    check "$desc: refused, a warning" 1 "" "failed" -- -c "$src" migrate pol "$dst" --json
    result "$desc: the JSON report: the warning, no learned overhead" json_ok '
import os, re
f = os.environ["VFMIG_DAEMON_STATE_FILE"]
want = "libvirt'"'"'s overhead is taken as 0 ms: " + re.escape(os.environ["WANT"]).replace(re.escape("{f}"), re.escape(f)).replace(re.escape("{n}"), "[0-9]+")
assert len(d["warnings"]) == 1 and re.fullmatch(want, d["warnings"][0]), d["warnings"]
assert d["overhead"] == {"us": 0, "source": "none"}, d["overhead"]'
}
state '[overhead]\nsamples-us=100000,60000001\nsampled-at=%s,%s\n' $(( now_s - 60 )) $(( now_s - 30 ))
refused "a sample out of range" \
    "daemon state file '{f}': overhead sample 60000001 us is out of range (-60000000 to 60000000 us)"
state '[overhead]\nsamples-us=100000\nsampled-at=4102444800\n'
refused "a sample dated in 2100" \
    "daemon state file '{f}': overhead sample date 4102444800 is {n} s in the future (at most 300 s allowed)"
state '[overhead]\nsamples-us=100000,200000\nsampled-at=%s\n' $(( now_s - 60 ))
refused "fewer dates than samples" \
    "daemon state file '{f}' holds 2 overhead samples (samples-us) but 1 dates (sampled-at): virt-vfmigd writes one date per sample"
state '[overhead]\nsamples-us=%s\n' "$(seq -s, 1 17)"
refused "more samples than virt-vfmigd keeps" \
    "daemon state file '{f}' holds 17 overhead samples, more than the 16 virt-vfmigd keeps"
state '[overhead]\nsamples-us=100000\nsampled-at=%s\nweight=9\n' $(( now_s - 60 ))
refused "a key virt-vfmigd never writes" \
    "daemon state file '{f}' holds a key 'weight' in [overhead], which virt-vfmigd never writes"
state '[overhead]\nsamples-us=100000\nsampled-at=%s\n' $(( now_s - 60 ))
chmod 0664 "$VFMIG_DAEMON_STATE_FILE"
refused "a group-writable state file" \
    "daemon state file '{f}' can be written by its group or others (mode 0664): refusing to use it (chmod go-w it)"
result "the refused state file was left alone" test "$(stat -c %a "$VFMIG_DAEMON_STATE_FILE")" = 664
mv "$VFMIG_DAEMON_STATE_FILE" "$tmp/real.state"
chmod 0644 "$tmp/real.state"
ln -s "$tmp/real.state" "$VFMIG_DAEMON_STATE_FILE"
refused "a state file that is a symbolic link" \
    "daemon state file '{f}' is a symbolic link: refusing to follow it"
rm -f "$VFMIG_DAEMON_STATE_FILE"

# a VF without device dirty tracking: the switchover bandwidth given
check "a VF without dirty tracking: the switchover bandwidth is given" 1 "" "failed" -- \
    -c "$src" migrate polvf "$dst" --json
result "the JSON report: half the guest RAM per ms, for the VF without dirty tracking" \
    json_ok 'b=d["switchover-bandwidth"]; assert b=={"mibps":64000,"source":"automatic","device":"0000:3b:00.2","ram-bytes":134217728}, b; assert d["target-ms"]==800 and d["on-failure"]=="best-effort"'
check "the text report explains the switchover bandwidth" 1 \
    "^Switchover bandwidth: +64000 MiB/s: 0000:3b:00.2 has no device dirty tracking, so QEMU counts all guest RAM \(128 MiB\) dirty" "failed" -- \
    -c "$src" migrate polvf "$dst"
check "--available-switchover-bandwidth wins over the automatic value" 1 "" "failed" -- \
    -c "$src" migrate polvf "$dst" --json --available-switchover-bandwidth 100
result "the JSON report: the option's value" \
    json_ok 'b=d["switchover-bandwidth"]; assert b["mibps"]==100 and b["source"]=="option", b'
echo "stop-copy p2p pre-copy dma-logging" > "$m/features"
check "a VF with dirty tracking: no switchover bandwidth" 1 "" "failed" -- \
    -c "$src" migrate polvf "$dst" --json
result "the JSON report: none given" \
    json_ok 'b=d["switchover-bandwidth"]; assert b["source"]=="none" and b["mibps"] is None and b["device"] is None, b'

check "migrate appears in the command list, with the domain commands" 0 "^ +migrate +live-migrate a domain, steering its switchover" "" -- help

finish
