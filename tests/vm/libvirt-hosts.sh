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
# With LVH_TLS=yes when lvh_start runs, the host also has libvirt's x509
# PKI and listens on TLS (port 16514) besides TCP: lvh_start makes, with
# gnutls's certtool, a CA once ($LVH_SHARE/pki/ca) and for the host a key
# and two certificates signed by it ($LVH_SHARE/pki/NAME): a server one
# (TLS WWW server; subject alternative names the host name NAME and its
# address 10.99.0.INDEX) and a client one (TLS WWW client), both on the
# host's one RSA key (libvirt and QEMU refuse a certificate whose critical
# key usage lacks key encipherment, which certtool gives no ECDSA key).
# They go under a tmpfs over /etc/pki in the host's own mount namespace,
# where libvirt and QEMU look by default: /etc/pki/CA/cacert.pem,
# /etc/pki/libvirt/{servercert,clientcert}.pem and
# /etc/pki/libvirt/private/{serverkey,clientkey}.pem for libvirtd (the
# client ones for virsh and for libvirtd's own peer-to-peer connections),
# and /etc/pki/qemu/{ca-cert,server-cert,server-key,client-cert,
# client-key}.pem for QEMU's TLS (qemu.conf's default_tls_x509_cert_dir;
# migrations use it, migrate_tls_x509_verify left at its default 1: the
# destination's QEMU requires the source's client certificate).  Keys are
# 0600: libvirtd's root's, QEMU's libvirt-qemu's (QEMU runs as that user).
# `virsh migrate --tls ... $(lvh_uri_tls HOST)` then migrates over TLS.
#
#   lvh_start NAME INDEX    start host NAME with address 10.99.0.INDEX
#                           (INDEX 1..254) and host_uuid ...0000INDEX;
#                           returns once the daemon's socket exists
#   lvh_link NAME NAME      a veth pair between two hosts
#   lvh_shape MBIT HOST...  that link shaped to MBIT Mbit/s (tc tbf) at
#                           each HOST's end
#   lvh_up2 A IA B IB       hosts A and B (indexes IA, IB) started and
#                           waited for in that order, linked, each reaching
#                           the other over qemu+tcp (and qemu+tls with
#                           LVH_TLS=yes); LVH_UP_MSG says how long it
#                           took, or what failed
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
#   lvh_uri_tls NAME        qemu+tls://ADDR/system (LVH_TLS=yes)
#   lvh_veth NAME           the host's end of its veth (after lvh_link)
#   lvh_install_hook NAME FILE [AS]
#                           install FILE as /etc/libvirt/hooks/qemu.d/AS
#                           (default its basename) on the host and make
#                           libvirtd read its hooks again (SIGHUP)
#   lvh_libvirtd_kill NAME SIGNAL, lvh_libvirtd_start NAME
#                           the host's libvirtd alone stopped with SIGNAL
#                           (TERM, as systemctl stops it: SIGKILL after
#                           60 s; KILL: a crash) and waited for, its
#                           domains' QEMUs left running; started again in
#                           the host's namespaces (libvirt reconnects to
#                           them) and waited for until it answers.  0 or 1
#   lvh_stop NAME, lvh_stop_all
#                           destroy the host's domains, stop its daemons,
#                           keep its logs in $VM_OUT/libvirt-NAME/
#
# A test domain and its migrations, for pci-testdevs on vfmig_testdev or
# on vfmig_mlx5model (modelled ConnectX VFs).  Both drivers keep their
# knobs (digest, dirty_rate, fault) in a sysfs directory named after the
# driver; the helpers find it from the device's bound driver (_lvh_knobs),
# so they serve both.  BDFS is one PCI address or several, comma-separated
# (up to 4 hostdevs; in this order in the domain's XML):
#   lvh_domain_xml BDFS [XML]
#                           a TCG domain $LVH_DOM (q35, 64 MiB, no disk,
#                           SeaBIOS, <uuid> $LVH_DOM_UUID) with a <hostdev
#                           managed='no'> (LVH_MANAGED=yes: 'yes') on each BDF; with <qemu:override>
#                           enable-migration=on where QEMU gets no device
#                           dirty tracking ($LVH_NEED_EM true: Debian's
#                           6.12, and modelled VFs); XML (e.g. <metadata>)
#                           goes before </domain>; with $LVH_HOSTDEV_ALIAS
#                           (a user alias, ua-...) the hostdev has that
#                           <alias> (and <qemu:override> names it); with
#                           several BDFs the Nth (from 0) is
#                           $LVH_HOSTDEV_ALIAS-N, or libvirt's hostdevN
#                           With LVH_GUEST=dirty the domain boots this
#                           machine's kernel directly into vm-dirty-guest
#                           (lvh_dirty_initrd), which rewrites a working set
#                           of $LVH_GUEST_WS_MIB MiB at $LVH_GUEST_RATE_KIB
#                           KiB/s of its own time; its memory is 160 MiB +
#                           the working set, its console a file (lvh_console)
#   lvh_dirty_initrd        $LVH_SHARE/dirty-initrd.gz: an initramfs whose
#                           /init is this build's vm-dirty-guest
#   lvh_console HOST        the domain's console on HOST (LVH_GUEST=dirty)
#   lvh_guest_ready HOST S  waits up to S seconds for vm-dirty-guest's
#                           "ready" on HOST's console; LVH_READY_MSG
#   lvh_dst_xml HOST BDFS   the domain's migratable XML on HOST, its Nth
#                           hostdev's source the Nth BDF
#   lvh_vrun HOST ARGS...   virsh on HOST as lib.sh's run (RC, $TMP/out)
#   lvh_log HOST            the host's libvirtd.log (QEMU monitor traffic)
#   lvh_testdevs SIZE DELAY TD... [-- PLAIN...]
#                           devices on vfmig_testdev (SIZE bytes of state,
#                           P2P, pre-copy, multi-load, DELAY us to stop and
#                           resume, idle), those after "--" on plain
#                           vfio-pci; LVH_SETUP_MSG
#   lvh_mlx5vfs SIZE BDF... the devices on vfmig_mlx5model, mlx5_vfio_pci's
#                           logic over a MODEL of the ConnectX firmware
#                           (SIZE bytes of VHCA state, pre-copy, multi-load,
#                           idle), with its arcs logged; LVH_NEED_EM set from
#                           the devices (no dma-logging: true);
#                           LVH_SETUP_MSG
#   lvh_domain_up VFS READY_S PREPARE_OPTS...
#                           the test domain defined on src, prepared by
#                           virt-vfmig domain-prepare, started, its working
#                           guest waited for; LVH_DOMAIN_MSG
#   lvh_hook_daemons HOOK   the hook and virt-vfmigd on src and dst;
#                           LVH_SETUP_MSG
#   lvh_vfmigd_start HOST LOG, lvh_vfmigd_stop HOST
#                           this build's virt-vfmigd on HOST as its systemd
#                           unit runs it (-v, its log appended to LOG; pid
#                           in LVH_VFMIGD_PID[HOST]); stopped with SIGTERM
#                           (its exit status), also by lvh_stop_all
#   lvh_mig_start NAME FROM TO SENDERS RECEIVERS DST-BDFS [virsh options]
#                           `virsh migrate --live --persistent
#                           --undefinesource` from FROM to TO in the
#                           background ($MIG_PID), --xml naming DST-BDFS;
#                           the receiving devices stop dirtying; marks the
#                           kernel log and polls the sending devices' sysfs
#                           (SENDERS and RECEIVERS pair up in order)
#   lvh_mig_start_cmd NAME FROM TO SENDERS RECEIVERS DST-BDFS CMD...
#                           the same with CMD run on FROM (e.g. virt-vfmig
#                           migrate) instead of virsh migrate; the
#                           destination's XML naming DST-BDF is in
#                           $LVH_SHARE/NAME.xml when CMD starts, its
#                           output in $TMP/mig-NAME.out and .err
#   lvh_mig_wait_state STATE SECONDS
#                           waits until the first sender's poll saw STATE
#   lvh_mig_finish          waits: MIG_RC, MIG_S (wall seconds), SENDER_ARCS
#                           and RECEIVER_ARCS (the arcs the driver logged,
#                           "FROM>TO ...", with its dynamic debug on),
#                           SENDER_DIGEST (read while it was stopped),
#                           STATES (polled), of the first pair; of pair N
#                           (from 0) in MIG_SENDER_ARCS[N],
#                           MIG_RECEIVER_ARCS[N], MIG_SENDER_DIGEST[N];
#                           diagnostics
#   lvh_mig_report          libvirt's completed job on TO and QEMU's own
#                           downtime, as diagnostics
#   lvh_check_moved, lvh_check_states, lvh_check_digest
#                           after lvh_mig_finish, one check (lib.sh's
#                           result) each: the domain runs on TO and is
#                           gone from FROM; each sender went through
#                           PRE_COPY and STOP_COPY, its receiver through
#                           RESUMING to RUNNING; each receiver's digest
#                           equals its sender's when it stopped
#   lvh_end HOST BDF        the domain destroyed and undefined on HOST, the
#                           hosts stopped; one check: no libvirtd or QEMU
#                           left, BDF RUNNING
#
# Files both a suite and the hosts must see go under $LVH_SHARE (each host
# has its own /run, so $TMP is not visible there).  The hooks directory
# /etc/libvirt/hooks/qemu.d exists on each host from its start, so that
# libvirtd looks for qemu hooks at all.

LVH_SHARE=${LVH_SHARE:-/var/tmp/vfmig-lvh}
# yes: hosts started from now on have the PKI and listen on TLS (above)
LVH_TLS=${LVH_TLS:-no}
# yes: libvirtd also logs each command it runs (util.command: its hooks
# with their arguments and exit status, QEMU's command line)
LVH_LOG_COMMANDS=${LVH_LOG_COMMANDS:-no}
LVH_NET=10.99.0
LVH_DOM=${LVH_DOM:-vfmig-l2}
LVH_DOM_UUID=${LVH_DOM_UUID:-5a1e0000-0000-4000-8000-00000000d0d1}
# a user alias for the domain's hostdev (lvh_domain_xml); none: libvirt's
# hostdev0
LVH_HOSTDEV_ALIAS=${LVH_HOSTDEV_ALIAS:-}
LVH_MIG_TIMEOUT=${LVH_MIG_TIMEOUT:-240}
# the domain's guest: idle (SeaBIOS, no disk) or dirty (vm-dirty-guest)
LVH_GUEST=${LVH_GUEST:-idle}
LVH_GUEST_WS_MIB=${LVH_GUEST_WS_MIB:-16}
LVH_GUEST_RATE_KIB=${LVH_GUEST_RATE_KIB:-0}
# QEMU >= 8.1 blocks a VFIO device without device dirty tracking unless
# enable-migration=on: vfmig_testdev offers DMA logging on 6.1 and where
# CONFIG_IOMMUFD_DRIVER=y, not on Debian's 6.12
LVH_NEED_EM=true
{ grep -q '^CONFIG_IOMMUFD_DRIVER=y' "/boot/config-$(uname -r)" ||
      [[ $(uname -r) == 6.1.* ]]; } && LVH_NEED_EM=false
declare -A LVH_PID=() LVH_INDEX=()
# the devices of the migration lvh_mig_start runs, pair by pair
MIG_SENDERS=() MIG_RECEIVERS=()

# the guest's own libvirt configuration, copied before any host exists
_lvh_etc() {
    [ -d "$LVH_SHARE/etc-libvirt" ] && return 0
    mkdir -p "$LVH_SHARE/etc-libvirt" && cp -a /etc/libvirt/. "$LVH_SHARE/etc-libvirt/"
}

# _lvh_certtool DIR TEMPLATE-NAME ARGS...: certtool in DIR (its output
# appended to DIR/certtool.log) with the template DIR/TEMPLATE-NAME.info,
# written from stdin first
_lvh_certtool() {
    local dir=$1 info=$2
    shift 2
    cat > "$dir/$info.info" &&
        (cd "$dir" && certtool "$@" --template "$info.info" >> certtool.log 2>&1)
}

# _lvh_pki NAME INDEX: the rig's CA (once) and host NAME's key, server and
# client certificates, in $LVH_SHARE/pki (libvirt-hosts.sh's header);
# LVH_PKI_US adds up the time certtool took
LVH_PKI_US=0
_lvh_pki() {
    local name=$1 idx=$2 ca=$LVH_SHARE/pki/ca d=$LVH_SHARE/pki/$1 t0
    t0=$(now_us)
    command -v certtool > /dev/null ||
        { echo "lvh_start: LVH_TLS=yes needs certtool (gnutls-bin)" >&2; return 1; }
    if [ ! -f "$ca/cacert.pem" ]; then
        { rm -rf "$ca" && mkdir -p -m 0700 "$ca" &&
              (umask 077 && certtool --generate-privkey --key-type rsa --bits 2048 --no-text \
                   --outfile "$ca/cakey.pem" > "$ca/certtool.log" 2>&1) &&
              _lvh_certtool "$ca" ca --generate-self-signed --load-privkey cakey.pem \
                  --outfile cacert.pem <<EOF
cn = "vfmig test rig CA"
ca
cert_signing_key
expiration_days = 30
EOF
        } || { echo "lvh_start: the CA: $(tail -3 "$ca/certtool.log" 2> /dev/null)" >&2; return 1; }
    fi
    [ -f "$d/clientcert.pem" ] && return 0
    { rm -rf "$d" && mkdir -p -m 0700 "$d" &&
          (umask 077 && certtool --generate-privkey --key-type rsa --bits 2048 --no-text \
               --outfile "$d/key.pem" > "$d/certtool.log" 2>&1) &&
          _lvh_certtool "$d" server --generate-certificate --load-privkey key.pem \
              --load-ca-certificate "$ca/cacert.pem" --load-ca-privkey "$ca/cakey.pem" \
              --outfile servercert.pem <<EOF &&
organization = "vfmig test rig"
cn = "$name"
dns_name = "$name"
ip_address = "$LVH_NET.$idx"
tls_www_server
encryption_key
signing_key
expiration_days = 30
EOF
          _lvh_certtool "$d" client --generate-certificate --load-privkey key.pem \
              --load-ca-certificate "$ca/cacert.pem" --load-ca-privkey "$ca/cakey.pem" \
              --outfile clientcert.pem <<EOF
organization = "vfmig test rig"
cn = "$name"
tls_www_client
encryption_key
signing_key
expiration_days = 30
EOF
    } || { echo "lvh_start: $name's certificates: $(tail -3 "$d/certtool.log" 2> /dev/null)" >&2; return 1; }
    LVH_PKI_US=$(( LVH_PKI_US + $(now_us) - t0 ))
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
    if [ "$LVH_TLS" = yes ]; then
        _lvh_pki "$name" "$idx" && mkdir -p /etc/pki || return 1
    fi
    # The holder process keeps the namespaces; the daemons fork off it.
    unshare --mount --net --uts --propagation private bash -c '
        set -e
        name=$1 idx=$2 share=$3 tls=$4 cmds=$5
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
        filters="1:qemu.qemu_monitor 1:qemu.qemu_migration_params"
        [ "$cmds" = yes ] && filters="$filters 1:util.command"
        cat >> /etc/libvirt/libvirtd.conf <<EOF
listen_tls = $([ "$tls" = yes ] && echo 1 || echo 0)
listen_tcp = 1
auth_tcp = "none"
log_filters = "$filters"
log_outputs = "1:file:/var/log/libvirt/libvirtd.log"
EOF
        echo "cgroup_controllers = [ ]" >> /etc/libvirt/qemu.conf
        if [ "$tls" = yes ]; then
            # the PKI where libvirt and QEMU look for it, in this namespace
            pki=$share/pki
            mount -t tmpfs -o mode=0755 tmpfs /etc/pki
            install -d -m 0755 /etc/pki/CA /etc/pki/libvirt /etc/pki/qemu
            install -d -m 0700 /etc/pki/libvirt/private
            install -m 0644 "$pki/ca/cacert.pem" /etc/pki/CA/cacert.pem
            install -m 0644 "$pki/$name/servercert.pem" /etc/pki/libvirt/servercert.pem
            install -m 0644 "$pki/$name/clientcert.pem" /etc/pki/libvirt/clientcert.pem
            install -m 0600 "$pki/$name/key.pem" /etc/pki/libvirt/private/serverkey.pem
            install -m 0600 "$pki/$name/key.pem" /etc/pki/libvirt/private/clientkey.pem
            install -m 0644 "$pki/ca/cacert.pem" /etc/pki/qemu/ca-cert.pem
            install -m 0644 "$pki/$name/servercert.pem" /etc/pki/qemu/server-cert.pem
            install -m 0644 "$pki/$name/clientcert.pem" /etc/pki/qemu/client-cert.pem
            install -m 0600 -o libvirt-qemu -g libvirt-qemu "$pki/$name/key.pem" /etc/pki/qemu/server-key.pem
            install -m 0600 -o libvirt-qemu -g libvirt-qemu "$pki/$name/key.pem" /etc/pki/qemu/client-key.pem
            echo "default_tls_x509_cert_dir = \"/etc/pki/qemu\"" >> /etc/libvirt/qemu.conf
        fi
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
    ' lvh-holder "$name" "$idx" "$LVH_SHARE" "$LVH_TLS" "$LVH_LOG_COMMANDS" \
        < /dev/null > "$LVH_SHARE/$name.log" 2>&1 &
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

# lvh_up2 A INDEX-A B INDEX-B: hosts A and B started (A probes QEMU's
# capabilities, B starts with A's cache), linked, each reaching the other
# over qemu+tcp; LVH_UP_MSG says how it went (the timings), or what failed
# shellcheck disable=SC2034 # LVH_UP_MSG is for the suite
lvh_up2() {
    local a=$1 ia=$2 b=$3 ib=$4 t0 t1 a_s b_s ok=true u1 u2 over
    t0=$(now_us)
    { lvh_start "$a" "$ia" && lvh_wait "$a"; } 2> "$TMP/hosts.err" || ok=false
    a_s=$(secs $(( $(now_us) - t0 )))
    t1=$(now_us)
    $ok && { lvh_start "$b" "$ib" && lvh_wait "$b" && lvh_link "$a" "$b"; } 2>> "$TMP/hosts.err" || ok=false
    b_s=$(secs $(( $(now_us) - t1 )))
    over=qemu+tcp
    if $ok && lvh_on "$a" virsh -c "$(lvh_uri "$b")" hostname > "$TMP/h1" 2>&1 &&
       lvh_on "$b" virsh -c "$(lvh_uri "$a")" hostname > "$TMP/h2" 2>&1 &&
       [ "$(cat "$TMP/h1")" = "$b" ] && [ "$(cat "$TMP/h2")" = "$a" ] &&
       { [ "$LVH_TLS" != yes ] ||
         { over="qemu+tcp and qemu+tls" &&
           lvh_on "$a" virsh -c "$(lvh_uri_tls "$b")" hostname > "$TMP/h1" 2>&1 &&
           lvh_on "$b" virsh -c "$(lvh_uri_tls "$a")" hostname > "$TMP/h2" 2>&1 &&
           [ "$(cat "$TMP/h1")" = "$b" ] && [ "$(cat "$TMP/h2")" = "$a" ]; }; }; then
        u1=$(lvh_virsh "$a" capabilities | grep -m1 -o '<uuid>[^<]*' | cut -c7-)
        u2=$(lvh_virsh "$b" capabilities | grep -m1 -o '<uuid>[^<]*' | cut -c7-)
        LVH_UP_MSG="two libvirtd $(libvirtd --version | awk '{print $NF}') hosts up in $(secs $(( $(now_us) - t0 ))) s ($a $a_s s, $b with $a's QEMU capabilities $b_s s): $a $(lvh_addr "$a") (host uuid $u1), $b $(lvh_addr "$b") (host uuid $u2); each reaches the other over $over"
        return 0
    fi
    LVH_UP_MSG="$(tr '\n' ' ' < "$TMP/hosts.err") $(cat "$TMP"/h1 "$TMP"/h2 2> /dev/null | tr '\n' ' ')"
    return 1
}

lvh_addr() { echo "$LVH_NET.${LVH_INDEX[$1]}"; }
lvh_uri() { echo "qemu+tcp://$(lvh_addr "$1")/system"; }
lvh_uri_tls() { echo "qemu+tls://$(lvh_addr "$1")/system"; }
lvh_veth() { lvh_on "$1" ip -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | head -1; }

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

# lvh_shape MBIT HOST...: the link's rate, a token bucket (tc tbf) on each
# HOST's end of its veth, so that both directions and both the pre-copy
# and the switch-over see it (QEMU lifts its own --bandwidth cap at the
# switch-over: a cap is not a link)
lvh_shape() {
    local mbit=$1 h dev
    shift
    modprobe sch_tbf || return 1
    for h in "$@"; do
        dev=$(lvh_on "$h" ip -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1 | head -1)
        [ -n "$dev" ] || { echo "lvh_shape: no veth on $h" >&2; return 1; }
        lvh_on "$h" tc qdisc add dev "$dev" root tbf rate "${mbit}mbit" burst 256kb latency 100ms || return 1
    done
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

lvh_libvirtd_alive() {
    lvh_on "$1" sh -c '[ -f /run/libvirtd.pid ] && kill -0 "$(cat /run/libvirtd.pid)"' 2> /dev/null
}

lvh_libvirtd_kill() {
    local name=$1 sig=$2
    lvh_on "$name" sh -c 'kill -"$1" "$(cat /run/libvirtd.pid)"' sh "$sig" 2> /dev/null || return 1
    for _ in $(seq 600); do
        lvh_libvirtd_alive "$name" || return 0
        sleep 0.1
    done
    diag "$name: libvirtd still up 60 s after SIG$sig: SIGKILL"
    lvh_on "$name" sh -c 'kill -KILL "$(cat /run/libvirtd.pid)"' 2> /dev/null
    for _ in $(seq 50); do
        lvh_libvirtd_alive "$name" || return 0
        sleep 0.1
    done
    return 1
}

lvh_libvirtd_start() {
    lvh_on "$1" libvirtd -d --listen || return 1
    for _ in $(seq 120); do
        timeout -k 5 30 nsenter -t "${LVH_PID[$1]}" -m -n -u -- virsh -c qemu:///system version \
            > /dev/null 2>&1 && return 0
        sleep 0.5
    done
    return 1
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
    # libvirtd's shutdown waits for its workers; under TCG on a loaded
    # machine that took over 5 s.  Up to 60 s for SIGTERM, then SIGKILL
    # with a note: the end check judges what is left, not how fast
    for _ in $(seq 600); do
        lvh_libvirtd_alive "$name" || break
        sleep 0.1
    done
    if lvh_libvirtd_alive "$name"; then
        diag "$name: libvirtd still up 60 s after SIGTERM: SIGKILL"
        lvh_on "$name" sh -c 'kill -KILL "$(cat /run/libvirtd.pid)"' 2> /dev/null
        for _ in $(seq 50); do
            lvh_libvirtd_alive "$name" || break
            sleep 0.1
        done
    fi
    kill "${LVH_PID[$name]}" 2> /dev/null
    wait "${LVH_PID[$name]}" 2> /dev/null
    unset "LVH_PID[$name]"
    return 0
}

lvh_stop_all() {
    local v
    for v in "${!LVH_VFMIGD_PID[@]}"; do lvh_vfmigd_stop "$v"; done
    local n
    for n in "${!LVH_PID[@]}"; do
        lvh_stop "$n"
    done
}

# ---------- a test domain and its migrations ------------------------------------------

# lvh_end HOST BDF: the domain destroyed and undefined on HOST, every host
# stopped; one check: no libvirtd or QEMU is left and BDF runs
lvh_end() {
    local left
    lvh_virsh "$1" destroy "$LVH_DOM" > /dev/null 2>&1
    lvh_virsh "$1" undefine "$LVH_DOM" > /dev/null 2>&1
    lvh_stop_all
    sleep 0.5
    left=$(pgrep -c -x qemu-system-x86 2> /dev/null; pgrep -c -x libvirtd 2> /dev/null)
    left=$(echo "$left" | awk '{s += $1} END {print s + 0}')
    if [ "$left" -eq 0 ] && [ "$(tdget "$2" vfio_migration/state)" = RUNNING ]; then
        result pass "both hosts stopped: no libvirtd or QEMU left (logs in $VM_OUT/libvirt-*)"
    else
        result fail "after stopping the hosts: $left libvirtd/QEMU processes left; $2 '$(tdget "$2" vfio_migration/state)'"
        ps -eo pid,comm,args | grep -E 'qemu|libvirtd' | grep -v grep | diag
    fi
}

lvh_vrun() {
    local h=$1
    shift
    run nsenter -t "${LVH_PID[$h]}" -m -n -u -- virsh -c qemu:///system "$@"
}

lvh_log() { lvh_on "$1" cat /var/log/libvirt/libvirtd.log 2> /dev/null; }

# lvh_vfmigd_start NAME LOG: virt-vfmigd of the build on host NAME, as
# its systemd unit runs it (qemu:///system, a state file, its guardian),
# with -v and the host default policy $LVH_SHARE/vfmigd-NAME/host-policy.xml
# (none until a suite writes it: the daemon looks at it every 5 s),
# appending to LOG; waits until it watches (or until it logs the ERE
# WAIT_FOR, when given).  Its pid in LVH_VFMIGD_PID[NAME].  0 or 1.
declare -A LVH_VFMIGD_PID=()
lvh_vfmigd_start() {
    local name=$1 log=$2 wait_for=${3:-'virt-vfmigd: watching migrations'}
    mkdir -p -m 0755 "$LVH_SHARE/vfmigd-$name"
    nsenter -t "${LVH_PID[$name]}" -m -n -u -- "$VM_BUILDDIR/src/tools/virt-vfmigd" \
        -c qemu:///system --state-file "$LVH_SHARE/vfmigd-$name/state" \
        --host-policy "$LVH_SHARE/vfmigd-$name/host-policy.xml" -v >> "$log" 2>&1 &
    LVH_VFMIGD_PID[$name]=$!
    for _ in $(seq 100); do
        grep -Eq -- "$wait_for" "$log" 2> /dev/null && return 0
        kill -0 "${LVH_VFMIGD_PID[$name]}" 2> /dev/null || return 1
        sleep 0.1
    done
    return 1
}

# lvh_up2_check [WHAT]: lvh_up2 src 1 dst 2 as one TAP result; a failure
# names the hosts as WHAT (default: two libvirt hosts) and has their logs
# as diagnostics
lvh_up2_check() {
    if lvh_up2 src 1 dst 2; then
        result pass "$LVH_UP_MSG"
    else
        result fail "${1:-two libvirt hosts}: $LVH_UP_MSG"
        cat "$LVH_SHARE"/*.log 2> /dev/null | diag
    fi
}

# lvh_hook_daemons_check HOOK: lvh_hook_daemons HOOK as one TAP result
lvh_hook_daemons_check() {
    if lvh_hook_daemons "$1"; then
        result pass "$LVH_SETUP_MSG"
    else
        result fail "$LVH_SETUP_MSG"
    fi
}

# lvh_hook_daemons HOOK: HOOK installed as hooks/qemu.d/50-vfmig and
# virt-vfmigd started (its log $TMP/vfmigd-HOST.log) on src and dst.  0 or
# 1, what was done or went wrong in LVH_SETUP_MSG.
lvh_hook_daemons() {
    local h ok=true
    for h in src dst; do
        lvh_install_hook "$h" "$1" 50-vfmig > "$TMP/hook.err" 2>&1 || ok=false
        lvh_vfmigd_start "$h" "$TMP/vfmigd-$h.log" || ok=false
    done
    if $ok; then
        LVH_SETUP_MSG="vfmig's hook installed as hooks/qemu.d/50-vfmig and virt-vfmigd running on both hosts (pids ${LVH_VFMIGD_PID[src]}, ${LVH_VFMIGD_PID[dst]}): $(grep -m1 watching "$TMP/vfmigd-src.log")"
        return 0
    fi
    LVH_SETUP_MSG="hook or daemons: $(cat "$TMP/hook.err") $(cat "$TMP"/vfmigd-*.log 2> /dev/null | tr '\n' ' ')"
    return 1
}

# lvh_vfmigd_stop NAME: SIGTERM, and its exit status
lvh_vfmigd_stop() {
    local pid=${LVH_VFMIGD_PID[$1]:-} rc
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2> /dev/null
    wait "$pid"
    rc=$?
    unset "LVH_VFMIGD_PID[$1]"
    return $rc
}

# lvh_testdevs STATE_SIZE DELAY_US BDF... [-- VFIO_BDF...]: vfmig_testdev
# (with its dynamic debug on: every arc of its FSM is logged) bound to the
# first BDFs, with STATE_SIZE bytes of state, pre-copy on, multi-load, P2P,
# DELAY_US stop and resume delays and no dirtying; plain vfio-pci bound to
# the BDFs after "--".  0 or 1, what was done or went wrong in
# LVH_SETUP_MSG.
lvh_testdevs() {
    local size=$1 delay=$2 b ok=true
    local -a td=() vf=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do td+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    vf=("$@")
    LVH_SETUP_MSG=
    load_vfio || ok=false
    if [ ! -d /sys/module/vfmig_testdev ]; then
        insmod "$TESTDEV_KO" dyndbg=+p > "$TMP/err" 2>&1 || ok=false
    fi
    $ok && bind vfmig_testdev "${td[@]}" || ok=false
    LVH_SETUP_MSG=$BIND_MSG
    if [ ${#vf[@]} -gt 0 ]; then
        $ok && bind vfio-pci "${vf[@]}" || ok=false
        LVH_SETUP_MSG+=";$BIND_MSG"
    fi
    for b in "${td[@]}"; do
        tdset "$b" vfmig_testdev/state_size "$size" &&
            tdset "$b" vfmig_testdev/p2p 1 &&
            tdset "$b" vfio_migration/precopy on &&
            tdset "$b" vfio_migration/multi_load 1 &&
            tdset "$b" vfmig_testdev/stop_delay_us "$delay" &&
            tdset "$b" vfmig_testdev/resume_delay_us "$delay" &&
            tdset "$b" vfmig_testdev/dirty_rate 0 || ok=false
    done
    if $ok; then
        LVH_SETUP_MSG+="; state_size $size, features '$(tdget "${td[0]}" vfio_migration/features)', stop and resume delays $delay us"
        return 0
    fi
    LVH_SETUP_MSG+=" $(cat "$TMP/err" 2> /dev/null)"
    return 1
}

# lvh_mlx5vfs STATE_SIZE BDF...: vfmig_mlx5model, mlx5_vfio_pci's logic
# over a MODEL of the ConnectX firmware (the module built with
# $TESTDEV_KO, its dynamic debug on: every arc of its FSM is logged),
# bound to the BDFs, with STATE_SIZE bytes of VHCA state, pre-copy on,
# multi-load and no dirtying.  LVH_NEED_EM true where a device offers no
# dma-logging (the model offers it on 6.1, not on 6.12: QEMU then needs
# enable-migration=on).
# 0 or 1, what was done or went wrong in LVH_SETUP_MSG.
lvh_mlx5vfs() {
    local size=$1 b ok=true ko
    shift
    ko=$(dirname "${TESTDEV_KO:-/nonexistent/x}")/vfmig_mlx5model.ko
    LVH_SETUP_MSG=
    load_vfio || ok=false
    if $ok && [ ! -d /sys/module/vfmig_mlx5model ]; then
        insmod "$ko" dyndbg=+p > "$TMP/err" 2>&1 || ok=false
    fi
    $ok && bind vfmig_mlx5model "$@" || ok=false
    LVH_SETUP_MSG=$BIND_MSG
    for b in "$@"; do
        tdset "$b" vfmig_mlx5model/state_size "$size" &&
            tdset "$b" vfio_migration/precopy on &&
            tdset "$b" vfio_migration/multi_load 1 &&
            tdset "$b" vfmig_mlx5model/dirty_rate 0 || ok=false
    done
    LVH_NEED_EM=false
    for b in "$@"; do
        [[ " $(tdget "$b" vfio_migration/features) " == *" dma-logging "* ]] || LVH_NEED_EM=true
    done
    if $ok; then
        LVH_SETUP_MSG+="; the firmware MODEL: state_size $size, features '$(tdget "$1" vfio_migration/features)', firmware '$(tdget "$1" vfio_migration/firmware)'$($LVH_NEED_EM && echo ", no dirty tracking (enable-migration=on)")"
        return 0
    fi
    LVH_SETUP_MSG+=" $(cat "$TMP/err" 2> /dev/null)"
    return 1
}

# lvh_managed_model BDF...: vfmig_mlx5model as a DKMS install leaves it,
# for hostdevs with managed='yes', which libvirt binds itself: its
# module and index files (build-kmod.sh's modroot-model, depmod'd on the
# host beside Debian's modules) in the guest's /lib/modules/KVER (the
# overlay's), loaded by modprobe (dynamic debug on), and the BDFs on no
# driver and no driver_override, as a VF on its host driver is to
# libvirt: not on VFIO.  libvirt then finds the model's vfio_pci alias for
# them in modules.alias, binds them to it at start (or at an incoming
# migration's Prepare) and hands them back (unbound) when the domain
# leaves.  The model's knobs are its defaults once libvirt binds it (4 MiB
# of state, pre-copy on, multi-load).  0 or 1, what was done or went wrong
# in LVH_SETUP_MSG.
lvh_managed_model() {
    local kv mr b f ok=true n
    kv=$(uname -r)
    mr=$(dirname "${TESTDEV_KO:-/nonexistent/x}")/modroot-model/lib/modules/$kv
    LVH_SETUP_MSG=
    load_vfio || ok=false
    if $ok; then
        {
            [ -f "$mr/updates/vfmig_mlx5model.ko" ] &&
                mkdir -p "/lib/modules/$kv/updates" &&
                cp "$mr/updates/vfmig_mlx5model.ko" "/lib/modules/$kv/updates/" &&
                ( for f in "$mr"/modules.*; do
                      [ -L "$f" ] || cp "$f" "/lib/modules/$kv/" || exit 1
                  done ) &&
                modprobe vfmig_mlx5model dyndbg=+p
        } > "$TMP/err" 2>&1 || ok=false
    fi
    n=$(grep -ci '^alias vfio_pci:v00001B36d00000005' "/lib/modules/$kv/modules.alias" 2> /dev/null)
    [ "$n" = 1 ] || ok=false
    for b in "$@"; do
        [ -e "/sys/bus/pci/devices/$b/driver" ] && echo "$b" > "/sys/bus/pci/devices/$b/driver/unbind"
        echo > "/sys/bus/pci/devices/$b/driver_override"
        [ -e "/sys/bus/pci/devices/$b/driver" ] && ok=false
    done
    if $ok; then
        LVH_SETUP_MSG="vfmig_mlx5model in /lib/modules/$kv/updates, loaded by modprobe; modules.alias maps the pci-testdev to it ($n vfio_pci alias); $* on no driver"
        return 0
    fi
    LVH_SETUP_MSG="module tree: vfio_pci aliases of the pci-testdev ${n:-0} (want 1) $(tr '\n' ' ' < "$TMP/err")"
    return 1
}

# lvh_driver BDF: the driver BDF is bound to, or "none"
lvh_driver() {
    local d
    d=$(readlink "/sys/bus/pci/devices/$1/driver" 2> /dev/null) || { echo none; return; }
    echo "${d##*/}"
}

# _lvh_knobs BDF: the directory of the knobs of BDF's driver.  A vfmig
# driver keeps its digest, dirty_rate and fault in a sysfs directory named
# after itself (vfmig_testdev/, vfmig_mlx5model/): found from the bound
# driver, whatever its name; fails where the driver has none (vfio-pci).
_lvh_knobs() {
    local f=/sys/bus/pci/devices/$1 drv
    drv=$(readlink "$f/driver" 2> /dev/null) || return 1
    drv=${drv##*/}
    [ -r "$f/$drv/digest" ] || return 1
    echo "$drv"
}

# lvh_knob BDF NAME, lvh_knob_set BDF NAME VALUE: a knob of BDF's driver
# (digest, dirty_rate, fault, ...), whichever of vfmig's drivers it is
lvh_knob() { local k; k=$(_lvh_knobs "$1") && tdget "$1" "$k/$2"; }
lvh_knob_set() { local k; k=$(_lvh_knobs "$1") && tdset "$1" "$k/$2" "$3"; }

# _lvh_list ARRAY ARG...: the comma-separated lists ARG..., split into ARRAY
_lvh_list() {
    local -n _lvh_out=$1
    local a
    local -a part
    shift
    _lvh_out=()
    for a in "$@"; do
        IFS=, read -r -a part <<< "$a"
        _lvh_out+=("${part[@]}")
    done
}

# the <address> of a PCI address DDDD:BB:SS.F
_lvh_address() {
    local dom=${1%%:*} rest=${1#*:}
    local bus=${rest%%:*} sf=${rest#*:}
    echo "<address domain='0x$dom' bus='0x$bus' slot='0x${sf%.*}' function='0x${sf#*.}'/>"
}

lvh_dirty_initrd() {
    local w rc
    [ -x "$VM_BUILDDIR/tests/vm/vm-dirty-guest" ] ||
        { echo "lvh_dirty_initrd: no vm-dirty-guest in the build" >&2; return 1; }
    w=$(mktemp -d) || return 1
    mkdir -p "$w/dev" "$w/proc" &&
        cp "$VM_BUILDDIR/tests/vm/vm-dirty-guest" "$w/init" &&
        (cd "$w" && find . | cpio -o -H newc --quiet | gzip -1) > "$LVH_SHARE/dirty-initrd.gz.new" &&
        mv "$LVH_SHARE/dirty-initrd.gz.new" "$LVH_SHARE/dirty-initrd.gz"
    rc=$?
    rm -rf "$w"
    return $rc
}

lvh_console() {
    lvh_on "$1" cat "/var/log/libvirt/qemu/$LVH_DOM-console.log" 2> /dev/null
}

# shellcheck disable=SC2034 # LVH_READY_MSG is for the suite
lvh_guest_ready() {
    local host=$1 s=$2 t0
    t0=$(now_us)
    while [ $(( $(now_us) - t0 )) -lt $(( s * 1000000 )) ]; do
        if lvh_console "$host" | grep -q '^vfmig-dirty: ready'; then
            LVH_READY_MSG="guest ready after $(secs $(( $(now_us) - t0 ))) s: $(lvh_console "$host" | grep '^vfmig-dirty: ready' | tail -1)"
            return 0
        fi
        sleep 1
    done
    LVH_READY_MSG="no 'ready' from the guest in $s s; console: $(lvh_console "$host" | tail -5 | tr '\n' ' ')"
    return 1
}

# lvh_domain_up VFS READY_S PREPARE_OPTS...: the test domain on VFS
# (lvh_domain_xml, its guest LVH_GUEST) defined on src, prepared by
# `virt-vfmig domain-prepare PREPARE_OPTS...` (its output in
# $TMP/prep.out) and started; a working guest waited for up to READY_S
# seconds.  0 or 1; LVH_DOMAIN_MSG says what each step gave, LVH_READY_MSG
# what the guest said.
# shellcheck disable=SC2034 # LVH_DOMAIN_MSG is for the suite
lvh_domain_up() {
    local vfs=$1 ready_s=$2 drc=1 prc src
    shift 2
    : > "$TMP/prep.out"
    [ "$LVH_GUEST" = idle ] || lvh_dirty_initrd 2>> "$TMP/prep.out" || drc=2
    [ "$drc" -eq 2 ] || { LVH_NEED_EM=false lvh_domain_xml "$vfs" > "$LVH_SHARE/domain.xml" &&
                              lvh_vrun src define "$LVH_SHARE/domain.xml" && drc=$RC; }
    nsenter -t "${LVH_PID[src]}" -m -n -u -- "$VM_BUILDDIR/src/tools/virt-vfmig" -c qemu:///system \
        domain-prepare "$LVH_DOM" "$@" >> "$TMP/prep.out" 2>&1
    prc=$?
    lvh_vrun src start "$LVH_DOM"
    src=$RC
    LVH_READY_MSG="the guest is idle"
    [ "$LVH_GUEST" = idle ] || [ "$src" -ne 0 ] || lvh_guest_ready src "$ready_s" || src=ready
    LVH_DOMAIN_MSG="define $drc, domain-prepare $prc, start $src ($LVH_READY_MSG)"
    [ "$drc" -eq 0 ] && [ "$prc" -eq 0 ] && [ "$src" = 0 ]
}

# the <memory> and <os> of the domain's guest
_lvh_guest_os() {
    case $LVH_GUEST in
    idle)
        echo "  <memory unit='MiB'>64</memory>"
        echo "  <os><type arch='x86_64' machine='q35'>hvm</type></os>"
        ;;
    dirty)
        echo "  <memory unit='MiB'>$(( 160 + LVH_GUEST_WS_MIB ))</memory>"
        cat <<EOF
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>/boot/vmlinuz-$(uname -r)</kernel>
    <initrd>$LVH_SHARE/dirty-initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet rdinit=/init ws_mib=$LVH_GUEST_WS_MIB rate_kib=$LVH_GUEST_RATE_KIB report_s=5</cmdline>
  </os>
EOF
        ;;
    *)
        echo "lvh_domain_xml: LVH_GUEST '$LVH_GUEST' is neither idle nor dirty" >&2
        return 1
        ;;
    esac
}

_lvh_guest_console() {
    [ "$LVH_GUEST" = dirty ] || return 0
    cat <<EOF
    <serial type='file'>
      <source path='/var/log/libvirt/qemu/$LVH_DOM-console.log' append='on'/>
      <target port='0'/>
    </serial>
EOF
}

# the aliases of the domain's N hostdevs, one a line (lvh_domain_xml)
_lvh_aliases() {
    local n=$1 i
    if [ "$n" -eq 1 ]; then
        echo "${LVH_HOSTDEV_ALIAS:-hostdev0}"
        return
    fi
    for (( i = 0; i < n; i++ )); do
        if [ -n "${LVH_HOSTDEV_ALIAS:-}" ]; then echo "$LVH_HOSTDEV_ALIAS-$i"; else echo "hostdev$i"; fi
    done
}

lvh_domain_xml() {
    local i
    local -a bdfs aliases
    _lvh_list bdfs "$1"
    [ "${#bdfs[@]}" -ge 1 ] && [ "${#bdfs[@]}" -le 4 ] || {
        echo "lvh_domain_xml: want 1 to 4 PCI addresses, not '$1'" >&2
        return 1
    }
    mapfile -t aliases < <(_lvh_aliases "${#bdfs[@]}")
    cat <<EOF
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$LVH_DOM</name>
  <uuid>$LVH_DOM_UUID</uuid>
$(_lvh_guest_os)
  <vcpu>1</vcpu>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
$(_lvh_guest_console)
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
EOF
    for i in "${!bdfs[@]}"; do
        cat <<EOF
    <hostdev mode='subsystem' type='pci' managed='${LVH_MANAGED:-no}'>
      <source>$(_lvh_address "${bdfs[i]}")</source>$([ -n "${LVH_HOSTDEV_ALIAS:-}" ] && printf "\n      <alias name='%s'/>" "${aliases[i]}")
    </hostdev>
EOF
    done
    echo "  </devices>"
    if $LVH_NEED_EM; then
        echo "  <qemu:override>"
        for i in "${!bdfs[@]}"; do
            cat <<EOF
    <qemu:device alias='${aliases[i]}'>
      <qemu:frontend>
        <qemu:property name='enable-migration' type='string' value='on'/>
      </qemu:frontend>
    </qemu:device>
EOF
        done
        echo "  </qemu:override>"
    fi
    [ -n "${2:-}" ] && printf '%s\n' "$2"
    echo "</domain>"
}

lvh_dst_xml() {
    local host=$1 b
    local -a bdfs addrs=()
    shift
    _lvh_list bdfs "$@"
    for b in "${bdfs[@]}"; do addrs+=("$(_lvh_address "$b")"); done
    lvh_virsh "$host" dumpxml --migratable "$LVH_DOM" |
        awk -v list="$(printf '%s\n' "${addrs[@]}")" '
            BEGIN { n = split(list, addr, "\n") }
            /<hostdev / { h++; inh = 1 }
            inh && /<source>/ { ins = 1 }
            inh && ins && h <= n { sub(/<address [^>]*\/>/, addr[h]) }
            inh && /<\/source>/ { ins = 0 }
            /<\/hostdev>/ { inh = 0 }
            { print }'
}

# lvh_mig_wait_state STATE SECONDS: waits until the migration started by
# lvh_mig_start saw its first sender in STATE or STATE_* (its poll);
# 0, or 1 after SECONDS
lvh_mig_wait_state() {
    local i
    for (( i = 0; i < $2 * 10; i++ )); do
        awk -v s="$1" '$2 == "state" && index($3, s) == 1 {f = 1; exit} END {exit !f}' \
            "$TMP/poll-$MIG_NAME" 2> /dev/null && return 0
        sleep 0.1
    done
    return 1
}

# _lvh_poll_devs FILE BDF...: each device's state as it changes, and its
# digest whenever it enters a stopped saving state (the source's state at
# the end; not with LVH_POLL_DIGEST=no: the digest hashes the whole state
# under the device's lock, which delays the stop-copy it is read in and
# adds to the downtime a benchmark measures), in FILE for the first device
# and FILE.N for the Nth (from 0) after it.  Every 50 ms without a fork (a
# read timing out on a FIFO of its own, the clock from bash): under TCG a
# sleep(1) 20 times a second would take the CPU that the migration being
# measured needs.
_lvh_poll_devs() {
    local out=$1 st dg tick i
    shift
    local -a dev=("$@") knobs=() last=() file=()
    for i in "${!dev[@]}"; do
        knobs[i]=
        [ "${LVH_POLL_DIGEST:-yes}" = no ] || knobs[i]=$(_lvh_knobs "${dev[i]}") || knobs[i]=
        file[i]=$out
        [ "$i" -gt 0 ] && file[i]=$out.$i
        last[i]=
    done
    mkfifo "$out.tick" && exec {tick}<> "$out.tick" && rm -f "$out.tick" || return 1
    while :; do
        for i in "${!dev[@]}"; do
            # gone when libvirt hands a managed='yes' VF back
            read -r st 2> /dev/null < "/sys/bus/pci/devices/${dev[i]}/vfio_migration/state" || st='?'
            [ "$st" = "${last[i]}" ] && continue
            echo "${EPOCHREALTIME/./} state $st" >> "${file[i]}"
            last[i]=$st
            case "$st" in
                STOP_COPY|STOP)
                    [ -n "${knobs[i]}" ] &&
                        read -r dg < "/sys/bus/pci/devices/${dev[i]}/${knobs[i]}/digest" &&
                        echo "${EPOCHREALTIME/./} digest $st $dg" >> "${file[i]}"
                    ;;
            esac
        done
        read -r -t 0.05 -u "$tick" _
    done
}

# the arcs the driver logged for BDF since the mark: "FROM>TO ..."
_lvh_arcs() {
    dmesg | sed -n "/vfmig-libvirt: mark $1\$/,\$p" | grep " $2: vfmig: arc " |
        sed 's/.*vfmig: arc \([A-Z_0-9]*\) -> \([A-Z_0-9]*\) .*/\1>\2/' | tr '\n' ' '
}

lvh_mig_start() {
    local name=$1 to=$3
    lvh_mig_start_cmd "$1" "$2" "$3" "$4" "$5" "$6" \
        virsh -c qemu:///system migrate --live --persistent --undefinesource "$LVH_DOM" \
        "$(lvh_uri "$to")" --migrateuri "tcp://$(lvh_addr "$to")" \
        --xml "$LVH_SHARE/$name.xml" "${@:7}"
    MIG_WHAT="virsh migrate"
}

lvh_mig_start_cmd() {
    MIG_NAME=$1 MIG_FROM=$2 MIG_TO=$3
    _lvh_list MIG_SENDERS "$4"
    _lvh_list MIG_RECEIVERS "$5"
    MIG_SENDER=${MIG_SENDERS[0]} MIG_RECEIVER=${MIG_RECEIVERS[0]}
    local bdfs=$6 r
    shift 6
    MIG_WHAT=$(basename "$1")
    for r in "${MIG_RECEIVERS[@]}"; do
        _lvh_knobs "$r" > /dev/null && lvh_knob_set "$r" dirty_rate 0
    done
    lvh_dst_xml "$MIG_FROM" "$bdfs" > "$LVH_SHARE/$MIG_NAME.xml"
    echo "vfmig-libvirt: mark $MIG_NAME" > /dev/kmsg
    rm -f "$TMP/poll-$MIG_NAME" "$TMP/poll-$MIG_NAME".*
    _lvh_poll_devs "$TMP/poll-$MIG_NAME" "${MIG_SENDERS[@]}" &
    MIG_POLL_PID=$!
    MIG_T0=$(now_us)
    timeout -k 5 "$LVH_MIG_TIMEOUT" nsenter -t "${LVH_PID[$MIG_FROM]}" -m -n -u -- "$@" \
        > "$TMP/mig-$MIG_NAME.out" 2> "$TMP/mig-$MIG_NAME.err" &
    MIG_PID=$!
}

lvh_mig_finish() {
    local pc i f st
    wait "$MIG_PID"
    MIG_RC=$?
    MIG_S=$(secs $(( $(now_us) - MIG_T0 )))
    sleep 0.3
    kill "$MIG_POLL_PID" 2> /dev/null
    wait "$MIG_POLL_PID" 2> /dev/null
    MIG_SENDER_ARCS=() MIG_RECEIVER_ARCS=() MIG_SENDER_DIGEST=()
    diag "$MIG_NAME: ${MIG_WHAT:-virsh migrate} exit $MIG_RC after $MIG_S s$([ -s "$TMP/mig-$MIG_NAME.err" ] && echo ": $(tr '\n' ' ' < "$TMP/mig-$MIG_NAME.err")")"
    for i in "${!MIG_SENDERS[@]}"; do
        f=$TMP/poll-$MIG_NAME
        [ "$i" -gt 0 ] && f=$f.$i
        MIG_SENDER_ARCS[i]=$(_lvh_arcs "$MIG_NAME" "${MIG_SENDERS[i]}")
        MIG_RECEIVER_ARCS[i]=$(_lvh_arcs "$MIG_NAME" "${MIG_RECEIVERS[i]:-none}")
        MIG_SENDER_DIGEST[i]=$(awk '$2 == "digest" {d = $4} END {print d}' "$f" 2> /dev/null)
        st=$(awk '$2 == "state" {printf "%s%s", s, $3; s = ","}' "$f" 2> /dev/null)
        # shellcheck disable=SC2034 # for the suite
        [ "$i" -eq 0 ] && STATES=$st
        diag "$MIG_NAME: sender ${MIG_SENDERS[i]} arcs: ${MIG_SENDER_ARCS[i]}"
        diag "$MIG_NAME: receiver ${MIG_RECEIVERS[i]:-none} arcs: ${MIG_RECEIVER_ARCS[i]}"
        diag "$MIG_NAME: sender ${MIG_SENDERS[i]} states polled: $st"
    done
    # shellcheck disable=SC2034 # for the suite
    SENDER_ARCS=${MIG_SENDER_ARCS[0]} RECEIVER_ARCS=${MIG_RECEIVER_ARCS[0]} SENDER_DIGEST=${MIG_SENDER_DIGEST[0]}
    pc=$(awk -v t0="$MIG_T0" '$2 == "state" && $3 == "PRE_COPY" {printf "%.1f", ($1 - t0) / 1e6; exit}' "$TMP/poll-$MIG_NAME")
    [ -n "$pc" ] && diag "$MIG_NAME: the sender entered PRE_COPY $pc s after the command"
    return 0
}

# The checks of a migration that lvh_mig_start/lvh_mig_finish ran, each a
# TAP result (lib.sh's result):
# lvh_check_moved: the domain runs on MIG_TO and is gone from MIG_FROM
lvh_check_moved() {
    local st_to st_from
    st_to=$(lvh_virsh "$MIG_TO" domstate "$LVH_DOM" 2> /dev/null | head -1)
    st_from=$(lvh_virsh "$MIG_FROM" domstate "$LVH_DOM" 2>&1 | head -1)
    if [ "$MIG_RC" -eq 0 ] && [ "$st_to" = running ] && [[ $st_from == *"failed to get domain"* ]]; then
        result pass "$MIG_NAME: ${MIG_WHAT:-virsh migrate} $MIG_FROM -> $MIG_TO in $MIG_S s; the domain runs on $MIG_TO and is gone from $MIG_FROM"
    else
        result fail "$MIG_NAME: ${MIG_WHAT:-virsh migrate} exit $MIG_RC; on $MIG_TO '$st_to' (want running), on $MIG_FROM '$st_from' (want no domain)"
        sed "s/^/${MIG_WHAT:-virsh migrate}: /" "$TMP/mig-$MIG_NAME.err" | diag
        lvh_on "$MIG_TO" sh -c "tail -15 /var/log/libvirt/qemu/$LVH_DOM.log" 2> /dev/null | sed "s/^/$MIG_TO qemu: /" | diag
        lvh_on "$MIG_FROM" sh -c "tail -15 /var/log/libvirt/qemu/$LVH_DOM.log" 2> /dev/null | sed "s/^/$MIG_FROM qemu: /" | diag
    fi
}

# lvh_check_states: each sender went through PRE_COPY and STOP_COPY, its
# receiver through RESUMING to RUNNING
lvh_check_states() {
    local i bad=() s r now
    for i in "${!MIG_SENDERS[@]}"; do
        s=${MIG_SENDER_ARCS[i]} r=${MIG_RECEIVER_ARCS[i]}
        now=$(tdget "${MIG_RECEIVERS[i]:-none}" vfio_migration/state)
        [[ " $s" == *">PRE_COPY "*">STOP_COPY "* ]] && [[ " $r" == *">RESUMING "*"RESUMING>STOP "* ]] &&
            [[ $r == *">RUNNING " ]] && [ "$now" = RUNNING ] ||
            bad+=("sender ${MIG_SENDERS[i]} '$s', receiver ${MIG_RECEIVERS[i]:-none} '$r', receiver now '$now'")
    done
    if [ "${#bad[@]}" -eq 0 ] && [ "${#MIG_SENDERS[@]}" -eq 1 ]; then
        result pass "$MIG_NAME: sender $MIG_SENDER went through PRE_COPY and STOP_COPY, receiver $MIG_RECEIVER through RESUMING to RUNNING (the driver's log of its arcs)"
    elif [ "${#bad[@]}" -eq 0 ]; then
        result pass "$MIG_NAME: each of the ${#MIG_SENDERS[@]} senders (${MIG_SENDERS[*]}) went through PRE_COPY and STOP_COPY, its receiver (${MIG_RECEIVERS[*]}) through RESUMING to RUNNING (the driver's log of their arcs)"
    else
        result fail "$MIG_NAME: want PRE_COPY then STOP_COPY on each sender, RESUMING then RUNNING on its receiver; $(IFS=';'; echo "${bad[*]}")"
    fi
}

# lvh_check_digest: each receiver's digest equals its sender's when stopped
lvh_check_digest() {
    local i dd bad=() good=()
    for i in "${!MIG_SENDERS[@]}"; do
        dd=$(lvh_knob "${MIG_RECEIVERS[i]:-none}" digest)
        if [[ ${MIG_SENDER_DIGEST[i]} =~ ^[0-9a-f]{64}$ ]] && [ "${MIG_SENDER_DIGEST[i]}" = "$dd" ]; then
            good+=("${dd:0:16}...")
        else
            bad+=("${MIG_SENDERS[i]} stopped '${MIG_SENDER_DIGEST[i]:-not read}', ${MIG_RECEIVERS[i]:-none} '$dd'")
        fi
    done
    if [ "${#bad[@]}" -eq 0 ] && [ "${#good[@]}" -eq 1 ]; then
        result pass "$MIG_NAME: the receiver's digest equals the sender's when it stopped: ${good[0]}"
    elif [ "${#bad[@]}" -eq 0 ]; then
        result pass "$MIG_NAME: each of the ${#good[@]} receivers' digests equals its sender's when it stopped: ${good[*]}"
    else
        result fail "$MIG_NAME: digests: $(IFS=';'; echo "${bad[*]}")"
        cat "$TMP/poll-$MIG_NAME"* 2> /dev/null | diag
    fi
}

lvh_mig_report() {
    local qd
    lvh_virsh "$MIG_TO" domjobinfo --completed "$LVH_DOM" 2>&1 |
        grep -E 'Time elapsed|[Dd]owntime|Data total|Memory processed|Expected' |
        sed "s/^/$MIG_NAME: dst domjobinfo --completed: /" | diag
    qd=$(lvh_log "$MIG_FROM" | grep -o '"downtime": *[0-9]*' | tail -1 | grep -o '[0-9]*$')
    diag "$MIG_NAME: QEMU's own downtime (the sender's last query-migrate): ${qd:-?} ms"
}

