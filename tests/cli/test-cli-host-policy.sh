#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virt-vfmig host-policy-check on host policy files (valid, invalid with
# the parser's message, missing), and host-policy on running domains of
# libvirt's test driver (a node file: no daemon) over a fake sysfs tree
# with one vfmig_testdev VF.  The test driver keeps user aliases only, so
# its domains name their hostdev 'ua-vf0' where the live XML of QEMU's
# driver has libvirt's 'hostdev0' (tests/qemu/test-host-default.c has
# those): a Nova flavor's entry written (text, JSON, --apply with
# virDomainSetMetadata on the live domain), a hostdev without alias, a
# policy of the domain's own, one of the host default that is stale or
# up to date; errors and usage errors.
#
# usage: test-cli-host-policy.sh VIRT_VFMIG
set -uo pipefail

VFMIG=${1:?usage: test-cli-host-policy.sh VIRT_VFMIG}
. "$(dirname "$0")/cli-lib.sh"

NS=http://vfmig.org/xmlns/host-policy/1.0
DNS=http://vfmig.org/xmlns/libvirt/domain/1.0

# ---- host policy files
cat > "$tmp/policy.xml" <<EOF
<hostpolicy xmlns='$NS'>
  <flavor name='vf.gold'>
    <downtime target-ms='300' on-failure='abort'/>
    <precopy mode='required'/>
  </flavor>
  <flavor name='vf.silver'>
    <downtime target-ms='2000'/>
  </flavor>
  <default>
    <downtime target-ms='1000' on-failure='best-effort'/>
    <precopy mode='preferred'/>
  </default>
</hostpolicy>
EOF
cat > "$tmp/no-default.xml" <<EOF
<hostpolicy xmlns='$NS'>
  <flavor name='vf.gold'/>
</hostpolicy>
EOF
cat > "$tmp/bad.xml" <<EOF
<hostpolicy xmlns='$NS'>
  <flavor name='vf.gold'>
    <downtime target-ms='0'/>
  </flavor>
</hostpolicy>
EOF
echo "<hostpolicy><default/></hostpolicy>" > "$tmp/no-ns.xml"
cat > "$tmp/twice.xml" <<EOF
<hostpolicy xmlns='$NS'>
  <flavor name='vf.gold'/>
  <flavor name='vf.gold'/>
</hostpolicy>
EOF

check "host-policy-check: a valid file" 0 "^$tmp/policy.xml: a valid host policy$" "" -- host-policy-check "$tmp/policy.xml"
check "host-policy-check: each flavor's entry" 0 "^  flavor 'vf.gold': downtime target 300 ms, on failure abort, pre-copy required$" "" -- host-policy-check "$tmp/policy.xml"
check "host-policy-check: what a flavor's entry leaves out is vfmig's default" 0 "^  flavor 'vf.silver': downtime target 2000 ms, on failure abort \(default\), pre-copy preferred \(default\)$" "" -- host-policy-check "$tmp/policy.xml"
check "host-policy-check: the default" 0 "^  any other flavor: downtime target 1000 ms, on failure best-effort, pre-copy preferred$" "" -- host-policy-check "$tmp/policy.xml"
check "host-policy-check: no default" 0 "^  any other flavor: nothing \(no <default>\)$" "" -- host-policy-check --file "$tmp/no-default.xml"
check "host-policy-check: an invalid value, the parser's message" 1 "" "^error: $tmp/bad.xml: invalid host policy: hostpolicy/flavor/downtime: invalid value '0' of attribute 'target-ms': a downtime target in milliseconds is a decimal number from 1 to 60000$" -- host-policy-check "$tmp/bad.xml"
check "host-policy-check: no namespace, and what to write" 1 "" "got <hostpolicy> in no namespace: write <hostpolicy xmlns='$NS'>$" -- host-policy-check "$tmp/no-ns.xml"
check "host-policy-check: two entries for a flavor" 1 "" "hostpolicy/flavor\[2\]: a second entry for the flavor 'vf.gold': the first is hostpolicy/flavor\[1\]$" -- host-policy-check "$tmp/twice.xml"
check "host-policy-check: a missing file" 1 "" "^error: host policy file '$tmp/nothing.xml' does not exist$" -- host-policy-check "$tmp/nothing.xml"
check "host-policy-check: a directory" 1 "" "$tmp" -- host-policy-check "$tmp"
check "host-policy-check takes one file" 2 "" "unexpected argument" -- host-policy-check "$tmp/policy.xml" "$tmp/bad.xml"

# ---- a fake host: one VF on vfmig_testdev, enabled (QEMU holds it)
sys=$tmp/sys
d=$sys/devices/pci0000:00/0000:00:02.0
mkdir -p "$sys/bus/pci/devices" "$sys/bus/pci/drivers/vfmig_testdev" "$sys/kernel/iommu_groups/5" \
    "$d/vfio_migration" "$d/vfmig_testdev" "$d/vfio-dev/vfio5" "$tmp/dev" "$tmp/proc" "$tmp/debug"
ln -s ../../../devices/pci0000:00/0000:00:02.0 "$sys/bus/pci/devices/0000:00:02.0"
ln -s ../../../../bus/pci/drivers/vfmig_testdev "$d/driver"
ln -s ../../../../kernel/iommu_groups/5 "$d/iommu_group"
echo 0x1b36 > "$d/vendor"; echo 0x0005 > "$d/device"; echo 1 > "$d/enable"
echo pci:v00001B36d00000005sv00001AF4sd00001100bc00scFFi00 > "$d/modalias"
echo "stop-copy p2p pre-copy dma-logging" > "$d/vfio_migration/features"
echo on > "$d/vfio_migration/precopy"; echo 1 > "$d/vfio_migration/multi_load"
echo RUNNING > "$d/vfio_migration/state"; echo 1 > "$d/vfio_migration/stream_version"
for f in initial_bytes dirty_bytes stop_latency_us resume_latency_us; do echo 0 > "$d/vfio_migration/$f"; done
echo 1048688 > "$d/vfio_migration/stop_copy_bytes"
echo 1048576 > "$d/vfmig_testdev/state_size"
export VFMIG_SYSFS_ROOT=$sys VFMIG_DEV_ROOT=$tmp/dev VFMIG_PROC_ROOT=$tmp/proc
export VFMIG_CACHE_DIR=$tmp/cache VFMIG_DEBUGFS_ROOT=$tmp/debug VFMIG_KERNEL_CONFIG=/nonexistent

IDENTITY="identity driver='vfmig_testdev' vendor='0x1b36' device='0x0005' stream-version='1' multi-load='yes'"
# domain NAME UUID FLAVOR ALIAS [POLICY]: a running test-driver domain
domain() {
    cat <<EOF
  <domain type='test'>
    <name>$1</name>
    <uuid>$2</uuid>
    <metadata>
      <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
        <nova:name>$1</nova:name>
        <nova:flavor name="$3"/>
      </nova:instance>
      ${5:-}
    </metadata>
    <memory>65536</memory>
    <os><type>hvm</type></os>
    <devices>
      <hostdev mode='subsystem' type='pci' managed='yes'>
        <source>
          <address domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
        </source>${4:+
        <alias name='$4'/>}
      </hostdev>
    </devices>
  </domain>
EOF
}
stale="<vfmig:migration xmlns:vfmig='$DNS' origin='host' flavor='vf.gold'><vfmig:downtime target-ms='300' on-failure='abort'/><vfmig:hostdev alias='ua-vf0'><vfmig:precopy mode='required'/><vfmig:$IDENTITY state-size='4194304'/></vfmig:hostdev></vfmig:migration>"
{
    echo "<node>"
    domain vm-gold 3f1e9a52-0c1d-4b7e-9f57-6a2d1c0e8b41 vf.gold ua-vf0
    domain vm-small 5b0c2a9e-3f56-4f7e-8d1c-0a4f2d9e6b11 m1.small ua-vf0
    domain vm-plain b6f3f7a1-2c44-4e0b-9f8e-7d3c1a5b2e22 vf.gold ""
    domain vm-own 3c1d7e5a-9b42-4f6c-8e13-5a7d2c9f0b55 vf.gold ua-vf0 \
        "<vfmig:migration xmlns:vfmig='$DNS'><vfmig:hostdev alias='ua-vf0'/></vfmig:migration>"
    domain vm-stale 4e2f8a6b-0c53-4a7d-9f24-6b8e3d0a1c66 vf.gold ua-vf0 "$stale"
    domain vm-kept 0c6b9d2e-8a31-4b7f-a5e2-3d9f1c7b4a33 vf.gold ua-vf0 "${stale/4194304/1048576}"
    echo "</node>"
} > "$tmp/node.xml"
URI=test://$tmp/node.xml

check "host-policy: the flavor's entry would be written" 0 "^Domain 'vm-gold': write \(new\): the domain has no migration policy: the host policy's entry for the flavor 'vf.gold' applies$" "" -- -c "$URI" host-policy vm-gold --policy "$tmp/policy.xml"
check "host-policy: the policy, origin='host', by alias, with the VF's identity" 0 "^      <vfmig:$IDENTITY state-size='1048576'/>$" "" -- -c "$URI" host-policy vm-gold --policy "$tmp/policy.xml"
check "host-policy: its root says where it came from" 0 "^  <vfmig:migration xmlns:vfmig='$DNS' origin='host' flavor='vf.gold'>$" "" -- -c "$URI" host-policy vm-gold --policy "$tmp/policy.xml"
check "host-policy: each hostdev" 0 "^  hostdev ua-vf0 \(0000:00:02.0\): entry$" "" -- -c "$URI" host-policy vm-gold --policy "$tmp/policy.xml"
check "host-policy: without --apply nothing is set" 0 "^Not applied: --apply sets it as the domain's live metadata.$" "" -- -c "$URI" host-policy vm-gold --policy "$tmp/policy.xml"
check "host-policy --apply: set as live metadata" 0 "^Set as the live metadata of domain 'vm-gold' \(its definition is unchanged\).$" "" -- -c "$URI" host-policy vm-gold --policy "$tmp/policy.xml" --apply
check "host-policy --json" 0 "\"metadata\": \"<migration origin='host' flavor='vf.gold'>" "" -- -c "$URI" host-policy vm-gold --policy "$tmp/policy.xml" --json
check "host-policy --json: the action and its reason" 0 "\"reason\": \"new\"" "" -- -c "$URI" host-policy vm-gold --policy "$tmp/policy.xml" --json
check "host-policy: another flavor takes the default" 0 "^Domain 'vm-small': write \(new\): the domain has no migration policy: the host policy's <default> applies$" "" -- -c "$URI" host-policy vm-small --policy "$tmp/policy.xml"
check "host-policy: no entry and no default" 0 "^Domain 'vm-small': nothing \(no-entry\): the host policy has no entry for the domain's flavor 'm1.small' and no <default>$" "" -- -c "$URI" host-policy vm-small --policy "$tmp/no-default.xml"
check "host-policy: a hostdev without alias" 0 "^Domain 'vm-plain': nothing \(not-running\): hostdev 0000:00:02.0 has no alias" "" -- -c "$URI" host-policy vm-plain --policy "$tmp/policy.xml"
check "host-policy: a policy of the domain's own wins" 0 "^Domain 'vm-own': nothing \(explicit-policy\)" "" -- -c "$URI" host-policy vm-own --policy "$tmp/policy.xml" --apply
check "host-policy: a stale policy of the host default is rewritten" 0 "^Domain 'vm-stale': write \(changed\)" "" -- -c "$URI" host-policy vm-stale --policy "$tmp/policy.xml"
check "host-policy: one up to date is kept" 0 "^Domain 'vm-kept': keep \(up-to-date\): the domain's policy with origin='host' is what the host policy's entry for the flavor 'vf.gold' gives$" "" -- -c "$URI" host-policy vm-kept --policy "$tmp/policy.xml" --apply
check "host-policy: an invalid host policy" 1 "" "^error: $tmp/bad.xml: invalid host policy: " -- -c "$URI" host-policy vm-gold --policy "$tmp/bad.xml"
check "host-policy: --policy names a missing file" 1 "" "^error: host policy file '$tmp/nothing.xml' does not exist$" -- -c "$URI" host-policy vm-gold --policy "$tmp/nothing.xml"
check "host-policy --json: a failure is an object too" 1 "\"error\": \"host policy file '$tmp/nothing.xml' does not exist\"" "does not exist" -- -c "$URI" host-policy vm-gold --policy "$tmp/nothing.xml" --json
check "host-policy: an unknown domain" 1 "" "libvirt has no domain 'nosuch'" -- -c "$URI" host-policy nosuch --policy "$tmp/policy.xml"
check "host-policy needs a domain" 2 "" "needs the argument <domain>" -- -c "$URI" host-policy
check "host-policy reads this host's devices: -c of another host is refused" 2 "" "command 'host-policy' reads this host's devices" -- -c qemu+ssh://h/system host-policy vm-gold
finish
