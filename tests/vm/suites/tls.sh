#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# suites/tls.sh: migration over TLS (libvirt's VIR_MIGRATE_TLS) between two
# real libvirt 11.3 hosts with libvirt's x509 PKI (libvirt-hosts.sh,
# LVH_TLS=yes: a CA and per-host certificates made by certtool, libvirtd
# listening on TLS), a managed='yes' hostdev on a modelled ConnectX VF
# (vfmig_mlx5model, bound by libvirt as in suites/nova.sh), vfmig's hook
# and virt-vfmigd on both hosts, unchanged.
#
# Two pci-testdevs in their own IOMMU groups: B1 is src's VF, B2 dst's.
# Checked:
#  - the PKI: certtool's CA and each host's server and client
#    certificates (verified against the CA, the server's subject
#    alternative names), installed in each host's /etc/pki with private
#    keys 0600, libvirtd listening on 16514; `virsh -c qemu+tls://dst`
#    from src connects, and two negative controls fail: a client that
#    trusts another CA, and one whose certificate another CA signed;
#  - the hook over TLS: a destination XML that would bind plain vfio-pci
#    is refused by dst's hook, its reason in virsh's error;
#  - m1: `virsh migrate --live --tls ... qemu+tls://dst` src -> dst: the
#    domain moved, the VF's states and digest; libvirt gave both QEMUs
#    x509 credentials (tls-creds-x509: the source a client, the
#    destination a server that verifies its peer) and set tls-creds for
#    the migration (its QEMU monitor traffic in libvirtd.log); dst's
#    libvirtd ran the hook on "migrate begin" (util.command), src's
#    daemon steered it;
#  - m1 on the wire: src's veth captured (wire-capture.py, an AF_PACKET
#    socket, counts only): the migration stream opens with a TLS
#    ClientHello, its reply a ServerHello, and neither the model's image
#    header ("ML5M", version 1: in every VHCA image the VF saves) nor
#    QEMU's VFIO section idstr ("/vfio") appears in any flow;
#  - m2: Nova's call (nova-client.py --tls: migrateToURI3 with
#    VIR_MIGRATE_TLS | PEER2PEER, dst's libvirtd connecting to src's over
#    qemu+tls) dst -> src: the same checks, dst's daemon steering;
#  - m3: a plain `virsh migrate` src -> dst, captured the same way: the
#    positive control, where both patterns are found in the stream, which
#    starts with no TLS record, and libvirt set tls-creds to "".
# The VF does not dirty its state: the model keeps a VF's knobs across
# libvirt's unbind and rebind, so a receiver that once sent with a dirty
# rate would dirty again once it resumed, and the digest check compares
# the stopped sender with the running receiver.  On 6.12 the model offers
# no dirty tracking (docs/kernel.rst): the domain carries QEMU's
# enable-migration=on, as in suites/nova.sh.
# vm-needs: testdev-ko
# vm-testdevs: 2

. "$VM_SRCDIR/lib.sh"
. "$VM_SRCDIR/libvirt-hosts.sh"

TARGET_MS=2000
SWITCH_BW=1024          # MiB/s
VFMIG=$VM_BUILDDIR/src/tools/virt-vfmig
HOOK=$VM_BUILDDIR/src/tools/50-vfmig
MODEL=vfmig_mlx5model
PY=/usr/bin/python3
CAPTURE=$VM_SRCDIR/wire-capture.py
NOVA=$VM_SRCDIR/nova-client.py
# the header of every image the firmware model saves: its magic "ML5M"
# and version 1, little endian (kernel/mlx5/model/fwmodel.c)
PAT_MODEL=4d4c354d0100
# "/vfio": the end of the idstr of a VFIO device's section in QEMU's
# migration stream ("0000:00:01.0/vfio")
PAT_IDSTR=2f7666696f
export VFMIG_CACHE_DIR=$LVH_SHARE/vfmig-cache
LVH_TLS=yes
LVH_LOG_COMMANDS=yes

tap_plan 23

if [ "$(kernel_series)" = 6.1 ]; then TRACKED=true; else TRACKED=false; fi

find_testdevs
B1=${TESTDEVS[0]:-none}
B2=${TESTDEVS[1]:-none}
log_since() { tail -n "+$(( $2 + 1 ))" "$TMP/vfmigd-$1.log"; }
log_lines() { wc -l < "$TMP/vfmigd-$1.log"; }
log_wait() {
    for _ in $(seq 300); do
        log_since "$1" "$2" | grep -q -- "$3" && return 0
        sleep 0.2
    done
    return 1
}
# libvirtd.log of HOST since line N
llog_lines() { lvh_log "$1" | wc -l; }
llog_since() { lvh_log "$1" | tail -n "+$(( $2 + 1 ))"; }
# driver_override of BDF; "" when none ("(null)" in sysfs)
override() {
    local o
    o=$(tr -d '\n' < "/sys/bus/pci/devices/$1/driver_override" 2> /dev/null)
    [ "$o" = "(null)" ] || echo "$o"
}
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }

CAP_PID=
# cap_start NAME: wire-capture.py on src's veth until cap_stop
cap_start() {
    CAP_NAME=$1
    rm -f "$LVH_SHARE/cap-$1.json" "$LVH_SHARE/cap-$1.json.ready"
    CAP_IF=$(lvh_veth src)
    nsenter -t "${LVH_PID[src]}" -m -n -u -- "$PY" "$CAPTURE" --iface "$CAP_IF" \
        --out "$LVH_SHARE/cap-$1.json" --pattern "model=$PAT_MODEL" --pattern "idstr=$PAT_IDSTR" \
        --max-bytes $((256 << 20)) --max-seconds 300 > "$TMP/cap-$1.out" 2> "$TMP/cap-$1.err" &
    CAP_PID=$!
    for _ in $(seq 150); do
        [ -f "$LVH_SHARE/cap-$1.json.ready" ] && return 0
        kill -0 "$CAP_PID" 2> /dev/null || break
        sleep 0.1
    done
    diag "capture $1 did not start: $(tr '\n' ' ' < "$TMP/cap-$1.err")"
    return 1
}
# cap_stop: the capture's result.* lines as R_* (lib.sh's qemu_results)
cap_stop() {
    [ -n "$CAP_PID" ] || return 1
    kill -TERM "$CAP_PID" 2> /dev/null
    wait "$CAP_PID"
    CAP_PID=
    [ -s "$TMP/cap-$CAP_NAME.err" ] && sed 's/^/capture: /' "$TMP/cap-$CAP_NAME.err" | diag
    [ -n "${VM_OUT:-}" ] && cp "$LVH_SHARE/cap-$CAP_NAME.json" "$VM_OUT/" 2> /dev/null
    qemu_results "$TMP/cap-$CAP_NAME.out"
}
# tls_in_log HOST-FROM N-FROM HOST-TO N-TO: what libvirt told each QEMU
# about TLS for the migration, since those lines of their libvirtd.log:
# TLS_SRC_OBJ, TLS_DST_OBJ (the tls-creds-x509 objects' arguments),
# TLS_CREDS (migrate-set-parameters' tls-creds on the source), TLS_HOST
# (its tls-hostname), TLS_DST_CREDS (the destination's tls-creds)
tls_in_log() {
    local s d
    s=$(llog_since "$1" "$2")
    d=$(llog_since "$3" "$4")
    TLS_SRC_OBJ=$(grep -o '"qom-type":"tls-creds-x509"[^}]*' <<< "$s" | head -1)
    TLS_DST_OBJ=$(grep -o '"qom-type":"tls-creds-x509"[^}]*' <<< "$d" | head -1)
    TLS_CREDS=$(_tls_param tls-creds <<< "$s")
    TLS_HOST=$(_tls_param tls-hostname <<< "$s")
    TLS_DST_CREDS=$(_tls_param tls-creds <<< "$d")
}
# the first non-empty value libvirt gave PARAM in migrate-set-parameters
# (after the migration it sets "" again), else the first
_tls_param() {
    grep 'migrate-set-parameters' | grep -o "\"$1\":\"[^\"]*\"" | awk '
        !/:""$/ {print; found = 1; exit}
        !first {first = $0}
        END {if (!found && first) print first}'
}
tls_ok() {
    [[ $TLS_SRC_OBJ == *'"endpoint":"client"'* ]] && [[ $TLS_DST_OBJ == *'"endpoint":"server"'* ]] &&
        [[ $TLS_DST_OBJ == *'"verify-peer":true'* ]] && [[ $TLS_DST_OBJ == *'"dir":"/etc/pki/qemu"'* ]] &&
        [ -n "$TLS_CREDS" ] && [ "$TLS_CREDS" != '"tls-creds":""' ] &&
        [ -n "$TLS_DST_CREDS" ] && [ "$TLS_DST_CREDS" != '"tls-creds":""' ]
}
# the hook's run on HOST for "migrate begin" since line N, as libvirtd
# logged it (util.command: "About to run ...", then the same thread's
# "Result status N"): "exit status N after MS ms", or nothing
hook_ran() {
    llog_since "$1" "$2" | awk -v pat="hooks/qemu.d/50-vfmig $LVH_DOM migrate begin" '
        function ms(t, a) { split(substr(t, 1, 12), a, ":"); return (a[1] * 3600 + a[2] * 60 + a[3]) * 1000 }
        /About to run/ && index($0, pat) { th = $3; t0 = ms($2); next }
        th != "" && $3 == th && /Result status [0-9]+/ {
            match($0, /Result status [0-9]+/)
            printf "exit status %s after %d ms", substr($0, RSTART + 14, RLENGTH - 14), ms($2) - t0
            exit
        }
        th != "" && $3 == th && /unexpected exit status/ { print "failed"; exit }'
}

cleanup() {
    [ -n "$CAP_PID" ] && kill -TERM "$CAP_PID" 2> /dev/null
    lvh_stop_all
    [ -n "${VM_OUT:-}" ] && cp "$TMP"/vfmigd-*.log "$VM_OUT/" 2> /dev/null
}
trap cleanup EXIT

# ---------- the module tree, two hosts with their PKI, hook and daemons --------------------
groups=$(for b in "${TESTDEVS[@]:0:2}"; do readlink "/sys/bus/pci/devices/$b/iommu_group"; done |
         xargs -n1 basename 2> /dev/null | sort -u | wc -l)
if lvh_managed_model "${TESTDEVS[@]:0:2}" && [ "${#TESTDEVS[@]}" -ge 2 ] && [ "$groups" -eq 2 ]; then
    result pass "set-up: 2 pci-testdevs in 2 IOMMU groups; $LVH_SETUP_MSG"
else
    result fail "set-up: ${#TESTDEVS[@]} pci-testdevs (want 2), $groups IOMMU groups (want 2); $LVH_SETUP_MSG"
fi

lvh_up2_check "two libvirt hosts with TLS"

# the PKI: made, installed, listened on
pki=$LVH_SHARE/pki
bad=()
info=()
for h in src dst; do
    for c in servercert clientcert; do
        v=$(certtool --verify --load-ca-certificate "$pki/ca/cacert.pem" --infile "$pki/$h/$c.pem" 2>&1 |
            grep -c 'Chain verification output: Verified')
        [ "$v" = 1 ] || bad+=("$h's $c not verified by the CA")
    done
    san=$(certtool -i --infile "$pki/$h/servercert.pem" 2> /dev/null |
          sed -n 's/^[[:space:]]*\(DNSname\|IPAddress\): \(.*\)/\2/p' | paste -sd, -)
    [ "$san" = "$h,$(lvh_addr "$h")" ] || bad+=("$h's server certificate names '$san'")
    modes=$(lvh_on "$h" stat -c '%a:%U' /etc/pki/libvirt/private/serverkey.pem /etc/pki/libvirt/private/clientkey.pem \
            /etc/pki/qemu/server-key.pem /etc/pki/qemu/client-key.pem 2>&1 | paste -sd' ' -)
    [ "$modes" = "600:root 600:root 600:libvirt-qemu 600:libvirt-qemu" ] || bad+=("$h's keys: '$modes'")
    files=$(lvh_on "$h" sh -c 'cd /etc/pki && ls CA/cacert.pem libvirt/servercert.pem libvirt/clientcert.pem qemu/ca-cert.pem qemu/server-cert.pem qemu/client-cert.pem' 2>&1 | wc -l)
    [ "$files" = 6 ] || bad+=("$h: $files of the 6 certificates in /etc/pki")
    lvh_on "$h" ss -Hltn 'sport = :16514' 2> /dev/null | grep -q LISTEN || bad+=("$h: nothing listens on 16514")
    [ -e /etc/pki/libvirt ] && bad+=("the guest's own /etc/pki has $h's files: not in its namespace")
    info+=("$h: SAN $san")
done
if [ "${#bad[@]}" -eq 0 ] && [ -f "$pki/ca/cacert.pem" ]; then
    result pass "PKI: certtool $(certtool --version | head -1 | awk '{print $NF}') made a CA and each host's server and client certificates (RSA 2048, 30 days) in $(secs "$LVH_PKI_US") s, each verified by the CA ($(IFS=';'; echo "${info[*]}")); in each host's own /etc/pki (tmpfs), private keys 0600 (libvirtd's root's, QEMU's libvirt-qemu's); libvirtd listens on 16514 on both"
else
    result fail "PKI: $(IFS=';'; echo "${bad[*]}")"
    cat "$pki"/*/certtool.log 2> /dev/null | tail -20 | diag
fi

lvh_hook_daemons_check "$HOOK"

# Negative controls, each a client on src with its own PKI (libvirt's URI
# parameters pkipath=DIR: cacert.pem, clientcert.pem, clientkey.pem, and
# no_sanity=1: the client does not check its own certificate against its
# CA first, so that the TLS handshake decides): one that trusts another
# CA (with src's real client certificate: it must refuse dst's server
# certificate), and one whose client certificate another CA signed (with
# the rig's CA: dst's libvirtd must refuse it; its log says why: under
# TLS 1.3 the client sends no certificate that the server's CA did not
# sign, and the server finds none).
rogue=$LVH_SHARE/pki-rogue
mkdir -p -m 0700 "$rogue/ca" "$rogue/other-ca" "$rogue/other-client"
{
    certtool --generate-privkey --key-type rsa --bits 2048 --no-text --outfile "$rogue/ca/key.pem" &&
        printf 'cn = "another CA"\nca\ncert_signing_key\nexpiration_days = 30\n' > "$rogue/ca/ca.info" &&
        certtool --generate-self-signed --load-privkey "$rogue/ca/key.pem" --template "$rogue/ca/ca.info" \
            --outfile "$rogue/ca/cacert.pem" &&
        cp "$rogue/ca/cacert.pem" "$rogue/other-ca/cacert.pem" &&
        cp "$pki/src/clientcert.pem" "$rogue/other-ca/clientcert.pem" &&
        cp "$pki/src/key.pem" "$rogue/other-ca/clientkey.pem" &&
        cp "$pki/ca/cacert.pem" "$rogue/other-client/cacert.pem" &&
        printf 'cn = "src"\ntls_www_client\nencryption_key\nsigning_key\nexpiration_days = 30\n' > "$rogue/ca/client.info" &&
        certtool --generate-certificate --load-privkey "$pki/src/key.pem" --load-ca-certificate "$rogue/ca/cacert.pem" \
            --load-ca-privkey "$rogue/ca/key.pem" --template "$rogue/ca/client.info" \
            --outfile "$rogue/other-client/clientcert.pem" &&
        cp "$pki/src/key.pem" "$rogue/other-client/clientkey.pem"
} > "$TMP/rogue.log" 2>&1
rrc=$?
t0=$(now_us)
run nsenter -t "${LVH_PID[src]}" -m -n -u -- virsh -c "$(lvh_uri_tls dst)" hostname
good_rc=$RC good=$(head -1 "$TMP/out")
good_s=$(secs $(( $(now_us) - t0 )))
run nsenter -t "${LVH_PID[src]}" -m -n -u -- virsh -c "$(lvh_uri_tls dst)?pkipath=$rogue/other-ca&no_sanity=1" hostname
ca_rc=$RC ca_err=$(grep 'error:' "$TMP/err" | tail -1)
ld0=$(llog_lines dst)
run nsenter -t "${LVH_PID[src]}" -m -n -u -- virsh -c "$(lvh_uri_tls dst)?pkipath=$rogue/other-client&no_sanity=1" hostname
cl_rc=$RC cl_err=$(grep 'error:' "$TMP/err" | tail -1)
sleep 0.5
cl_srv=$(llog_since dst "$ld0" | grep -v QEMU_MONITOR | grep -m1 -i 'certificate' | sed 's/^[^:]*:[^:]*:[^:]*: [0-9]*: [a-z]* : //')
if [ "$rrc" -eq 0 ] && [ "$good_rc" -eq 0 ] && [ "$good" = dst ] && [ "$ca_rc" -ne 0 ] &&
   [[ $ca_err == *"certificate"* ]] && [ "$cl_rc" -ne 0 ] && [ -n "$cl_srv" ]; then
    result pass "virsh -c $(lvh_uri_tls dst) hostname from src: '$good' in $good_s s; negative controls: a client trusting another CA refuses dst's certificate (exit $ca_rc: $ca_err); dst's libvirtd refuses a client whose certificate another CA signed (client exit $cl_rc: $cl_err; dst's log: $cl_srv)"
else
    result fail "TLS connections: rogue PKI made: exit $rrc; with the rig's PKI exit $good_rc '$good' (want 0 'dst'); trusting another CA exit $ca_rc (want non-zero, about the certificate) '$ca_err'; another CA's client certificate exit $cl_rc (want non-zero) '$cl_err', dst's log '${cl_srv:-nothing about a certificate}'"
    tail -5 "$TMP/rogue.log" | diag
    llog_since dst "$ld0" | grep -v QEMU_MONITOR | tail -5 | sed 's/^/dst libvirtd: /' | diag
fi

# ---------- a managed='yes' domain, prepared as in suites/nova.sh ---------------------------
LVH_MANAGED=yes LVH_NEED_EM=$(! $TRACKED && echo true || echo false) \
    lvh_domain_xml "$B1" > "$LVH_SHARE/domain.xml"
lvh_virsh src define "$LVH_SHARE/domain.xml" > "$TMP/prep.out" 2> "$TMP/prep.err"
prep() {
    nsenter -t "${LVH_PID[src]}" -m -n -u -- "$VFMIG" -c qemu:///system \
        domain-prepare "$LVH_DOM" --target-ms "$TARGET_MS" --on-failure best-effort \
        >> "$TMP/prep.out" 2>> "$TMP/prep.err"
}
prep
prc1=$?
lvh_vrun src start "$LVH_DOM"
src1=$RC
# again while it runs: the identity from the bound VF, for the next start
prep
prc2=$?
lvh_virsh src destroy "$LVH_DOM" > /dev/null 2>&1
lvh_vrun src start "$LVH_DOM"
LIVE_XML=$(lvh_virsh src dumpxml "$LVH_DOM" 2> /dev/null)
if [ "$prc1" -eq 0 ] && [ "$src1" -eq 0 ] && [ "$prc2" -eq 0 ] && [ "$RC" -eq 0 ] &&
   grep -q "driver=.$MODEL." <<< "$LIVE_XML" && [ "$(lvh_driver "$B1")" = "$MODEL" ] &&
   [ "$(tdget "$B1" vfio_migration/state)" = RUNNING ]; then
    result pass "managed='yes' domain prepared by domain-prepare (its policy: target $TARGET_MS ms, best effort; identity $(grep -o '<vfmig:identity [^>]*' <<< "$LIVE_XML" | cut -c17-)), running on src, libvirt bound $B1 to $MODEL"
else
    result fail "domain: domain-prepare exit $prc1 then $prc2, start exit $src1 then $RC, identity $(grep -c '<vfmig:identity' <<< "$LIVE_XML") (want 1), $B1 on '$(lvh_driver "$B1")'"
    sed 's/^/prepare: /' "$TMP/prep.out" "$TMP/prep.err" | diag
    diag_run
fi
STATE_SIZE=$(lvh_knob "$B1" state_size)

# ---------- the hook over TLS: a destination that would bind plain vfio-pci ------------------
lvh_dst_xml src "$B2" |
    sed "s|^\( *\)<hostdev mode='subsystem' type='pci' managed='yes'>\$|&\n\1  <driver name='vfio' model='vfio-pci'/>|" \
    > "$LVH_SHARE/refuse.xml"
lvh_vrun src migrate --live --tls --persistent --undefinesource "$LVH_DOM" "$(lvh_uri_tls dst)" \
    --migrateuri "tcp://$(lvh_addr dst)" --xml "$LVH_SHARE/refuse.xml"
st_src=$(lvh_virsh src domstate "$LVH_DOM" 2> /dev/null | head -1)
st_dst=$(lvh_virsh dst domstate "$LVH_DOM" 2>&1 | head -1)
why=$(grep -o "libvirt will bind it to 'vfio-pci'[^:]*" "$TMP/err" | head -1)
if grep -q "model='vfio-pci'" "$LVH_SHARE/refuse.xml" && [ "$RC" -ne 0 ] && [ -n "$why" ] &&
   [ "$st_src" = running ] && [[ $st_dst == *"failed to get domain"* ]] &&
   [ "$(tdget "$B1" vfio_migration/state)" = RUNNING ] && [ "$(lvh_driver "$B2")" = none ]; then
    result pass "virsh migrate --tls with a destination XML that would bind plain vfio-pci: dst's hook refused it ('$why'), its reason back over qemu+tls, exit $RC; the domain runs on src with $B1 RUNNING, $B2 never bound"
else
    result fail "refusal over TLS: migrate exit $RC, hook's reason '${why:-none}', src '$st_src', dst '$st_dst', $B1 '$(tdget "$B1" vfio_migration/state)', $B2 on '$(lvh_driver "$B2")'"
    diag_run
fi

# ---------- m1: virsh migrate --tls src -> dst, captured -------------------------------------
l0=$(log_lines src)
ls0=$(llog_lines src)
ld0=$(llog_lines dst)
cap_start m1
lvh_mig_start_cmd m1 src dst "$B1" "$B2" "$B2" \
    virsh -c qemu:///system migrate --live --tls --persistent --undefinesource "$LVH_DOM" \
    "$(lvh_uri_tls dst)" --migrateuri "tcp://$(lvh_addr dst)" --xml "$LVH_SHARE/m1.xml" \
    --available-switchover-bandwidth "$SWITCH_BW"
MIG_WHAT="virsh migrate --tls"
lvh_mig_finish
sleep 0.5
cap_stop
lvh_mig_report
lvh_check_moved
lvh_check_states
lvh_check_digest

tls_in_log src "$ls0" dst "$ld0"
if tls_ok; then
    result pass "m1: libvirt gave src's QEMU {$TLS_SRC_OBJ} and dst's {$TLS_DST_OBJ}, and set $TLS_CREDS, $TLS_HOST on src ($TLS_DST_CREDS on dst): the migration ran over QEMU's TLS channel"
else
    result fail "m1: TLS for the migration in libvirtd.log: src object '${TLS_SRC_OBJ:-none}', dst object '${TLS_DST_OBJ:-none}', src ${TLS_CREDS:-no tls-creds} ${TLS_HOST:-}, dst ${TLS_DST_CREDS:-no tls-creds}"
    llog_since src "$ls0" | grep -E 'tls|migrate' | tail -10 | sed 's/^/src libvirtd: /' | diag
fi

log_wait src "$l0" ": migrated; downtime "
steer=$(log_since src "$l0" | grep "domain '$LVH_DOM'" | grep -m1 "steering its migration")
done_=$(log_since src "$l0" | grep "domain '$LVH_DOM'" | grep -m1 ": migrated; downtime ")
hook=$(hook_ran dst "$ld0")
if [ -n "$steer" ] && [ -n "$done_" ] && [[ $hook == "exit status 0 "* ]] && [ "$(lvh_driver "$B1")" = none ] &&
   [ -z "$(override "$B1")" ] && [ "$(lvh_driver "$B2")" = "$MODEL" ]; then
    result pass "m1: dst's libvirtd ran the hook for 'migrate begin' ($hook, its util.command log) and went on; src's virt-vfmigd ${steer#*: }; ${done_#*: }; libvirt bound $B2 to $MODEL on dst and handed $B1 back"
else
    result fail "m1: dst's hook run '${hook:-not seen}'; src's daemon '${steer:-not steering}', '${done_:-no end}'; $B1 on '$(lvh_driver "$B1")' (want none), $B2 on '$(lvh_driver "$B2")' (want $MODEL)"
    log_since src "$l0" | tail -20 | sed 's/^/vfmigd-src: /' | diag
    llog_since dst "$ld0" | grep -i hook | tail -5 | sed 's/^/dst libvirtd: /' | diag
fi

W1="${R_mig:-none}, $(mib "${R_mig_bytes:-0}") MiB, first bytes ${R_mig_first:-?}; model header ${R_hits_model:-?}, idstr ${R_hits_idstr:-?}"
if [ "${R_mig:-none}" != none ] && [ "${R_mig_tls:-}" = handshake/client_hello ] &&
   [ "${R_mig_reply_tls:-}" = handshake/server_hello ] && [ "${R_hits_model:-x}" = 0 ] &&
   [ "${R_hits_idstr:-x}" = 0 ] && [ "${R_drops:-x}" = 0 ] && [ "${R_truncated:-}" = no ] &&
   [ "${R_mig_gaps:-x}" = 0 ] && [ "${R_mig_bytes:-0}" -ge "${STATE_SIZE:-1}" ]; then
    result pass "m1 on the wire ($CAP_IF on src, $R_segments segments, $(mib "$R_payload_bytes") MiB of TCP payload in $R_flows flows, 0 drops): the migration stream $R_mig ($(mib "$R_mig_bytes") MiB, no gap; the VF's state $(mib "$STATE_SIZE") MiB) opens with a TLS ClientHello, its reply a ServerHello ($R_mig_reply_tls_version, $R_mig_reply_cipher); the model's image header found $R_hits_model times, QEMU's '/vfio' idstr $R_hits_idstr times, in any flow"
else
    result fail "m1 on the wire: stream ${R_mig:-none} ${R_mig_bytes:-0} bytes (want >= the VF's state, ${STATE_SIZE:-?} bytes), first record '${R_mig_tls:-}', reply '${R_mig_reply_tls:-}', model header ${R_hits_model:-?} and idstr ${R_hits_idstr:-?} (want 0), drops ${R_drops:-?}, gaps ${R_mig_gaps:-?}, truncated ${R_truncated:-?}"
    sed 's/^/capture: /' "$TMP/cap-m1.out" | diag
fi

# ---------- m2: Nova's call with VIR_MIGRATE_TLS, dst -> src ---------------------------------
l0=$(log_lines dst)
ls0=$(llog_lines src)
ld0=$(llog_lines dst)
lvh_mig_start_cmd m2 dst src "$B2" "$B1" "$B1" \
    "$PY" "$NOVA" --src qemu:///system --dst "$(lvh_uri_tls src)" --domain "$LVH_DOM" \
    --migrate-uri "tcp://$(lvh_addr src)" --dst-hostdev "$B2=$B1" --tls \
    --json-log "$LVH_SHARE/nova-m2.jsonl" --timeout 200
MIG_WHAT="nova-client.py --tls"
lvh_mig_finish
lvh_mig_report
lvh_check_moved
lvh_check_states
lvh_check_digest
[ -n "${VM_OUT:-}" ] && cp "$LVH_SHARE/nova-m2.jsonl" "$VM_OUT/" 2> /dev/null

NOVA_SAYS=$("$PY" -c '
import json, sys
o = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
j = o.get("completed_job") or {}
print(o.get("outcome"), "VIR_MIGRATE_TLS" in o.get("flags", []), "|".join(o.get("flags", [])),
      j.get("downtime", "-"), j.get("data_total", "-"))
' "$TMP/mig-m2.out" 2> /dev/null)
read -r n_outcome n_tls n_flags n_down n_total <<< "$NOVA_SAYS"
tls_in_log dst "$ld0" src "$ls0"
if [ "${n_outcome:-}" = completed ] && [ "${n_tls:-}" = True ] && tls_ok; then
    result pass "m2: nova-client.py: outcome completed, flags $n_flags (libvirt's completed job: downtime $n_down ms, data total $n_total bytes); libvirt gave dst's QEMU {$TLS_SRC_OBJ} and src's {$TLS_DST_OBJ}, $TLS_CREDS, $TLS_HOST"
else
    result fail "m2: nova-client.py outcome '${n_outcome:-none}', VIR_MIGRATE_TLS ${n_tls:-?}; dst object '${TLS_SRC_OBJ:-none}', src object '${TLS_DST_OBJ:-none}', ${TLS_CREDS:-no tls-creds} ${TLS_HOST:-}"
    sed 's/^/nova-client: /' "$TMP/mig-m2.out" "$TMP/mig-m2.err" | tail -5 | diag
fi

log_wait dst "$l0" ": migrated; downtime "
steer=$(log_since dst "$l0" | grep "domain '$LVH_DOM'" | grep -m1 "steering its migration")
done_=$(log_since dst "$l0" | grep "domain '$LVH_DOM'" | grep -m1 ": migrated; downtime ")
hook=$(hook_ran src "$ls0")
if [ -n "$steer" ] && [ -n "$done_" ] && [[ $hook == "exit status 0 "* ]] && [ "$(lvh_driver "$B2")" = none ] &&
   [ "$(lvh_driver "$B1")" = "$MODEL" ]; then
    result pass "m2: src's libvirtd ran the hook for 'migrate begin' ($hook); dst's virt-vfmigd ${steer#*: }; ${done_#*: }; libvirt bound $B1 on src and handed $B2 back"
else
    result fail "m2: src's hook run '${hook:-not seen}'; dst's daemon '${steer:-not steering}', '${done_:-no end}'; $B2 on '$(lvh_driver "$B2")' (want none), $B1 on '$(lvh_driver "$B1")' (want $MODEL)"
    log_since dst "$l0" | tail -20 | sed 's/^/vfmigd-dst: /' | diag
fi

# ---------- m3: plain virsh migrate src -> dst, captured: the positive control -------------------
ls0=$(llog_lines src)
ld0=$(llog_lines dst)
cap_start m3
lvh_mig_start m3 src dst "$B1" "$B2" "$B2" --available-switchover-bandwidth "$SWITCH_BW"
lvh_mig_finish
sleep 0.5
cap_stop
lvh_mig_report
lvh_check_moved
lvh_check_states
lvh_check_digest

tls_in_log src "$ls0" dst "$ld0"
if [ "${R_mig:-none}" != none ] && [ "${R_mig_tls:-}" = none ] && [ "${R_mig_hits_model:-0}" -ge 1 ] &&
   [ "${R_mig_hits_idstr:-0}" -ge 1 ] && [ "${R_drops:-x}" = 0 ] && [ "${R_truncated:-}" = no ] &&
   [ -z "$TLS_SRC_OBJ" ] && [ "$TLS_CREDS" = '"tls-creds":""' ]; then
    result pass "m3 on the wire, plain (the positive control; $R_segments segments, 0 drops): the stream $R_mig ($(mib "$R_mig_bytes") MiB) starts with no TLS record (${R_mig_first:0:16}...); the model's image header found $R_mig_hits_model times and QEMU's '/vfio' idstr $R_mig_hits_idstr times in it; libvirt set $TLS_CREDS.  m1 (--tls): $W1"
else
    result fail "m3 on the wire, plain: stream ${R_mig:-none} first record '${R_mig_tls:-}' (want none), model header ${R_mig_hits_model:-?} and idstr ${R_mig_hits_idstr:-?} (want >= 1), drops ${R_drops:-?}, truncated ${R_truncated:-?}; libvirt: object '${TLS_SRC_OBJ:-none}' (want none), ${TLS_CREDS:-no tls-creds} (want \"\")"
    sed 's/^/capture: /' "$TMP/cap-m3.out" | diag
fi

# ---------- the end -----------------------------------------------------------------------
lvh_vfmigd_stop src; lvh_vfmigd_stop dst
lvh_virsh dst destroy "$LVH_DOM" > /dev/null 2>&1
lvh_virsh dst undefine "$LVH_DOM" > /dev/null 2>&1
trap - EXIT
cleanup
sleep 0.5
left=$( (pgrep -c -x qemu-system-x86; pgrep -c -x libvirtd) 2> /dev/null | awk '{s += $1} END {print s + 0}')
if [ "$left" -eq 0 ] && [ "$(lvh_driver "$B1")" = none ] && [ "$(lvh_driver "$B2")" = none ]; then
    result pass "both hosts stopped: no libvirtd or QEMU left, libvirt handed both VFs back (no driver); logs and captures in ${VM_OUT:-$TMP}"
else
    result fail "after stopping the hosts: $left libvirtd/QEMU processes left; $B1 on '$(lvh_driver "$B1")', $B2 on '$(lvh_driver "$B2")' (want none)"
fi
tap_end
