# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# libvirt-hosts.sh: libvirt "hosts" inside the test guest, for the VM
# suites that migrate between two real libvirt daemons (suites/libvirt.sh).
# Source it after lib.sh.
#
# A host is Debian's monolithic libvirtd 11.3 and its virtlogd in their
# own mount, network and UTS namespaces: tmpfs over /run,
# /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and /etc/libvirt
# (the last filled with a copy of the guest's /etc/libvirt), its own
# host_uuid, `cgroup_controllers = [ ]` (two daemons must not share a
# cgroup path), plain TCP without authentication (listen_tcp, auth_tcp
# "none", `libvirtd --listen`), and libvirtd's QEMU monitor traffic logged
# to /var/log/libvirt/libvirtd.log.  lvh_link joins two hosts with a veth
# pair, so `virsh -c qemu+tcp://ADDR/system` and `virsh migrate ...
# qemu+tcp://ADDR/system --migrateuri tcp://ADDR` work between them.  The
# hosts share the guest's kernel, /dev and PCI devices: give each its own
# device, and hand the destination's to `virsh migrate --xml`.
#
#   lvh_start NAME INDEX    start host NAME with address 10.99.0.INDEX
#                           (INDEX 1..254) and host_uuid ...0000INDEX;
#                           returns once the daemon's socket exists
#   lvh_link NAME NAME      a veth pair between two hosts
#   lvh_wait NAME           first connection (QEMU capability probing,
#                           several seconds under TCG); fails if it fails.
#                           The first host waited for leaves its QEMU
#                           capabilities cache in $LVH_SHARE/qemu-caps for
#                           the hosts started after it, which then skip
#                           the probing: start and wait for one host
#                           before starting the others.
#   lvh_on NAME CMD...      run CMD on the host (nsenter)
#   lvh_virsh NAME ARGS...  virsh -c qemu:///system ARGS on the host
#   lvh_addr NAME, lvh_uri NAME   its address, qemu+tcp://ADDR/system
#   lvh_install_hook NAME FILE [AS]
#                           install FILE as /etc/libvirt/hooks/qemu.d/AS
#                           (default its basename) on the host and make
#                           libvirtd read its hooks again (SIGHUP)
#   lvh_stop NAME, lvh_stop_all
#                           destroy the host's domains, stop its daemons,
#                           keep its logs in $VM_OUT/libvirt-NAME/
#
# Files both a suite and the hosts must see go under $LVH_SHARE (each host
# has its own /run, so $TMP is not visible there).  The hooks directory
# /etc/libvirt/hooks/qemu.d exists on each host from its start, so that
# libvirtd looks for qemu hooks at all.

LVH_SHARE=${LVH_SHARE:-/var/tmp/vfmig-lvh}
LVH_NET=10.99.0
declare -A LVH_PID=() LVH_INDEX=()

# the guest's own libvirt configuration, copied before any host exists
_lvh_etc() {
    [ -d "$LVH_SHARE/etc-libvirt" ] && return 0
    mkdir -p "$LVH_SHARE/etc-libvirt" && cp -a /etc/libvirt/. "$LVH_SHARE/etc-libvirt/"
}

lvh_start() {
    local name=$1 idx=$2 pid
    [[ $idx =~ ^[0-9]+$ ]] && [ "$idx" -ge 1 ] && [ "$idx" -le 254 ] || {
        echo "lvh_start: bad index '$idx'" >&2
        return 1
    }
    for t in libvirtd virtlogd virsh unshare nsenter ip; do
        command -v "$t" > /dev/null || { echo "lvh_start: $t is not installed" >&2; return 1; }
    done
    mkdir -p "$LVH_SHARE" && _lvh_etc || return 1
    for g in kvm libvirt libvirt-qemu; do getent group "$g" > /dev/null || groupadd -r "$g"; done
    id libvirt-qemu > /dev/null 2>&1 ||
        useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
    rm -f "$LVH_SHARE/$name.ready"
    # The holder process keeps the namespaces; the daemons fork off it.
    unshare --mount --net --uts --propagation private bash -c '
        set -e
        name=$1 idx=$2 share=$3
        hostname "$name"
        ip link set lo up
        for d in /run /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt; do
            mkdir -p "$d"
            mount -t tmpfs -o mode=0755 tmpfs "$d"
        done
        cp -a "$share/etc-libvirt/." /etc/libvirt/
        mkdir -p /run/lock /run/libvirt /var/lib/libvirt/qemu /var/log/libvirt/qemu \
                 /var/cache/libvirt/qemu /etc/libvirt/hooks/qemu.d
        printf "host_uuid = \"00000000-0000-4000-8000-%012d\"\n" "$idx" >> /etc/libvirt/libvirtd.conf
        cat >> /etc/libvirt/libvirtd.conf <<EOF
listen_tls = 0
listen_tcp = 1
auth_tcp = "none"
log_filters = "1:qemu.qemu_monitor 1:qemu.qemu_migration_params"
log_outputs = "1:file:/var/log/libvirt/libvirtd.log"
EOF
        echo "cgroup_controllers = [ ]" >> /etc/libvirt/qemu.conf
        # QEMU capabilities an earlier host probed (same binaries, same kernel)
        if [ -d "$share/qemu-caps" ]; then
            mkdir -p /var/cache/libvirt/qemu/capabilities
            cp "$share"/qemu-caps/*.xml /var/cache/libvirt/qemu/capabilities/
        fi
        virtlogd -d
        libvirtd -d --listen
        for _ in $(seq 300); do
            [ -S /run/libvirt/libvirt-sock ] && break
            sleep 0.1
        done
        [ -S /run/libvirt/libvirt-sock ] || { echo "no libvirt-sock after 30 s"; exit 1; }
        echo ready > "$share/$name.ready"
        exec sleep infinity
    ' lvh-holder "$name" "$idx" "$LVH_SHARE" < /dev/null > "$LVH_SHARE/$name.log" 2>&1 &
    pid=$!
    LVH_PID[$name]=$pid
    LVH_INDEX[$name]=$idx
    for _ in $(seq 400); do
        [ -f "$LVH_SHARE/$name.ready" ] && return 0
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    echo "lvh_start $name: the host did not come up: $(tr '\n' ' ' < "$LVH_SHARE/$name.log")" >&2
    return 1
}

lvh_addr() { echo "$LVH_NET.${LVH_INDEX[$1]}"; }
lvh_uri() { echo "qemu+tcp://$(lvh_addr "$1")/system"; }

lvh_on() {
    local name=$1
    shift
    [ -n "${LVH_PID[$name]:-}" ] || { echo "lvh_on: no host '$name'" >&2; return 1; }
    nsenter -t "${LVH_PID[$name]}" -m -n -u -- "$@"
}

lvh_virsh() {
    local name=$1
    shift
    lvh_on "$name" virsh -c qemu:///system "$@"
}

lvh_link() {
    local a=$1 b=$2 ia=${LVH_INDEX[$1]} ib=${LVH_INDEX[$2]}
    ip link add "lvh$ia-$ib" netns "${LVH_PID[$a]}" type veth peer name "lvh$ib-$ia" netns "${LVH_PID[$b]}" &&
        lvh_on "$a" ip addr add "$(lvh_addr "$a")/24" dev "lvh$ia-$ib" &&
        lvh_on "$a" ip link set "lvh$ia-$ib" up &&
        lvh_on "$b" ip addr add "$(lvh_addr "$b")/24" dev "lvh$ib-$ia" &&
        lvh_on "$b" ip link set "lvh$ib-$ia" up
}

lvh_wait() {
    timeout -k 5 120 nsenter -t "${LVH_PID[$1]}" -m -n -u -- virsh -c qemu:///system version > /dev/null ||
        return 1
    # the first host's probe serves the later ones
    if [ ! -d "$LVH_SHARE/qemu-caps" ]; then
        rm -rf "$LVH_SHARE/qemu-caps.new" && mkdir -p "$LVH_SHARE/qemu-caps.new" &&
            lvh_on "$1" sh -c 'cp /var/cache/libvirt/qemu/capabilities/*.xml "$1"/' sh "$LVH_SHARE/qemu-caps.new" &&
            mv "$LVH_SHARE/qemu-caps.new" "$LVH_SHARE/qemu-caps"
    fi
    return 0
}

lvh_install_hook() {
    local name=$1 file=$2 as=${3:-}
    [ -n "$as" ] || as=$(basename "$file")
    lvh_on "$name" install -m 0755 "$file" "/etc/libvirt/hooks/qemu.d/$as" &&
        lvh_on "$name" sh -c 'kill -HUP "$(cat /run/libvirtd.pid)"' &&
        sleep 1 &&
        lvh_on "$name" test -S /run/libvirt/libvirt-sock
}

lvh_stop() {
    local name=$1 d p
    [ -n "${LVH_PID[$name]:-}" ] || return 0
    for d in $(lvh_virsh "$name" list --name 2> /dev/null); do
        lvh_virsh "$name" destroy "$d" > /dev/null 2>&1
    done
    if [ -n "${VM_OUT:-}" ]; then
        # the host's /run hides $VM_OUT: through the share
        rm -rf "$LVH_SHARE/logs-$name" && mkdir -p "$LVH_SHARE/logs-$name" "$VM_OUT/libvirt-$name"
        lvh_on "$name" sh -c 'cp -r /var/log/libvirt/. "$1"/' sh "$LVH_SHARE/logs-$name" 2> /dev/null
        cp -r "$LVH_SHARE/logs-$name/." "$VM_OUT/libvirt-$name/" 2> /dev/null
    fi
    for p in libvirtd virtlogd; do
        lvh_on "$name" sh -c "[ -f /run/$p.pid ] && kill \$(cat /run/$p.pid)" 2> /dev/null
    done
    for _ in $(seq 50); do
        lvh_on "$name" sh -c '[ -f /run/libvirtd.pid ] && kill -0 "$(cat /run/libvirtd.pid)"' 2> /dev/null ||
            break
        sleep 0.1
    done
    kill "${LVH_PID[$name]}" 2> /dev/null
    wait "${LVH_PID[$name]}" 2> /dev/null
    unset "LVH_PID[$name]"
    return 0
}

lvh_stop_all() {
    local n
    for n in "${!LVH_PID[@]}"; do
        lvh_stop "$n"
    done
}
