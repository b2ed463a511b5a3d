#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# virt-vfmigd's command line: --version and --help, each usage error
# (exit 2, what is wrong and the hint), and the daemon run on libvirt's
# test driver (no migration ever starts there) with a host default policy
# that is missing, valid or invalid: what it says when it starts, and a
# clean stop on SIGTERM; started before libvirt is there, it waits.  Migrations it steers are the qemu suite's
# (test-daemon-*) and the VM suites' (vfmigd, nova).
#
# usage: test-cli-vfmigd.sh VIRT_VFMIGD
set -uo pipefail

VFMIG=${1:?usage: test-cli-vfmigd.sh VIRT_VFMIGD}
CLI_NAME=virt-vfmigd
. "$(dirname "$0")/cli-lib.sh"

NS=http://vfmig.org/xmlns/host-policy/1.0

check "--version" 0 '^virt-vfmigd \(vfmig\) [0-9]' "" -- --version
check "--help lists the host policy options" 0 '--no-host-policy' "" -- --help
check "an unknown option" 2 "" "^virt-vfmigd: Unknown option --bogus" -- --bogus
check "an argument" 2 "" "^virt-vfmigd: unexpected argument 'extra'" -- extra
check "--interval out of range" 2 "" "--interval takes 1 to 10000 ms" -- --interval 10001
check "--overhead-ms below 0" 2 "" "--overhead-ms and --load-ms 0 to 60000 ms" -- --overhead-ms -1
check "--state-file with --no-state-file" 2 "" \
    "^virt-vfmigd: --state-file and --no-state-file exclude each other" \
    -- --state-file "$tmp/state" --no-state-file
check "--host-policy with --no-host-policy" 2 "" \
    "^virt-vfmigd: --host-policy and --no-host-policy exclude each other" \
    -- --host-policy "$tmp/hp.xml" --no-host-policy

# wait_line FILE PATTERN [PID]: until FILE has a line matching PATTERN, or
# PID (when given) ended; at most 20 s, a bound, never a verdict
wait_line() {
    local i
    for i in $(seq 200); do
        grep -q -- "$2" "$1" && return 0
        [ -n "${3:-}" ] && ! kill -0 "$3" 2> /dev/null && return 1
        sleep 0.1
    done
    return 1
}

# run_daemon NAME ARGS...: starts the daemon on the test driver, waits for
# its start line (at most 20 s: a bound, never a verdict), stops it with
# SIGTERM; its stderr in $tmp/NAME.err, its exit status in $tmp/NAME.rc
run_daemon() {
    local name=$1 pid
    shift
    "$VFMIG" -c test:///default --no-state-file --no-guardian "$@" \
        > "$tmp/$name.out" 2> "$tmp/$name.err" < /dev/null &
    pid=$!
    wait_line "$tmp/$name.err" "watching migrations" "$pid"
    kill -TERM "$pid" 2> /dev/null
    wait "$pid"
    echo $? > "$tmp/$name.rc"
}

# daemon_says DESC NAME REGEX...: it started, said each REGEX and stopped
daemon_says() {
    local desc=$1 name=$2 re why=""
    shift 2
    grep -q "watching migrations at 'test:///default'" "$tmp/$name.err" ||
        why="no start line"
    for re in "$@"; do
        [ -z "$why" ] && ! grep -Eq -- "$re" "$tmp/$name.err" && why="stderr does not match /$re/"
    done
    [ -z "$why" ] && ! grep -q "^virt-vfmigd: stopped$" "$tmp/$name.err" && why="no 'stopped' line"
    [ -z "$why" ] && [ "$(cat "$tmp/$name.rc")" != 0 ] && why="exit $(cat "$tmp/$name.rc"), want 0"
    n=$((n + 1))
    if [ -z "$why" ]; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc: $why"
        sed 's/^/# err: /' "$tmp/$name.err"
        fail=$((fail + 1))
    fi
}

run_daemon missing --host-policy "$tmp/none.xml"
daemon_says "a host policy file that does not exist: said, and the daemon runs" missing \
    "virt-vfmigd: no host default policy \('$tmp/none.xml' does not exist\)"

cat > "$tmp/hp.xml" <<EOF
<hostpolicy xmlns='$NS'>
  <flavor name='vf.gold'>
    <downtime target-ms='300' on-failure='abort'/>
  </flavor>
  <default>
    <downtime target-ms='1000'/>
  </default>
</hostpolicy>
EOF
run_daemon valid --host-policy "$tmp/hp.xml"
daemon_says "a valid host policy file: its flavors and default" valid \
    "virt-vfmigd: host default policy '$tmp/hp.xml': 1 flavor\(s\), and a default for the others"

printf '%s\n' "<hostpolicy xmlns='$NS'><flavor name='vf.gold'><downtime target-ms='0'/></flavor></hostpolicy>" \
    > "$tmp/bad.xml"
run_daemon invalid --host-policy "$tmp/bad.xml"
daemon_says "an invalid host policy file: why, and that no domain gets one until it is fixed" invalid \
    "virt-vfmigd: warning: $tmp/bad.xml: invalid host policy: .*'target-ms'" \
    "no domain gets a host default policy until the file is fixed"

run_daemon none --no-host-policy
daemon_says "--no-host-policy: the daemon runs without one" none
n=$((n + 1))
if grep -q "host default policy" "$tmp/none.err"; then
    echo "not ok $n - --no-host-policy: nothing said of a host policy"
    sed 's/^/# err: /' "$tmp/none.err"
    fail=$((fail + 1))
else
    echo "ok $n - --no-host-policy: nothing said of a host policy"
fi

# libvirt not up yet (a boot, a libvirt upgrade): the daemon says it
# waits, and tries again every 2 s until it connects; stopped while it
# waits, it stops cleanly.  The test driver's node file stands for
# libvirt: missing, then written.
"$VFMIG" -c "test://$tmp/node.xml" --no-state-file --no-guardian --no-host-policy \
    > "$tmp/wait.out" 2> "$tmp/wait.err" < /dev/null &
pid=$!
wait_line "$tmp/wait.err" "waiting for libvirt" "$pid"
waited=$(grep -c "waiting for libvirt" "$tmp/wait.err")
cat > "$tmp/node.xml" <<EOF
<node>
  <domain type='test'><name>vf1</name><memory>65536</memory><os><type>hvm</type></os></domain>
</node>
EOF
wait_line "$tmp/wait.err" "watching migrations" "$pid"
kill -TERM "$pid" 2> /dev/null
wait "$pid"
rc=$?
n=$((n + 1))
if [ "$waited" = 1 ] && [ "$rc" = 0 ] &&
   grep -q "^virt-vfmigd: warning: failed to connect to libvirt at 'test://$tmp/node.xml': .*; waiting for libvirt (trying again every 2 s)$" "$tmp/wait.err" &&
   [ "$(grep -c "waiting for libvirt" "$tmp/wait.err")" = 1 ] &&
   grep -q "^virt-vfmigd: watching migrations at 'test://$tmp/node.xml'" "$tmp/wait.err" &&
   grep -q "^virt-vfmigd: stopped$" "$tmp/wait.err"; then
    echo "ok $n - libvirt not up at the start: said once that it waits, connected once it was there, stopped"
else
    echo "not ok $n - libvirt not up at the start (exit $rc)"
    sed 's/^/# err: /' "$tmp/wait.err"
    fail=$((fail + 1))
fi
"$VFMIG" -c "test://$tmp/none.xml" --no-state-file --no-guardian --no-host-policy \
    > "$tmp/wait2.out" 2> "$tmp/wait2.err" < /dev/null &
pid=$!
wait_line "$tmp/wait2.err" "waiting for libvirt" "$pid"
kill -TERM "$pid" 2> /dev/null
wait "$pid"
rc=$?
n=$((n + 1))
if [ "$rc" = 0 ] && grep -q "waiting for libvirt" "$tmp/wait2.err" &&
   ! grep -q "watching migrations" "$tmp/wait2.err" &&
   grep -q "^virt-vfmigd: stopped$" "$tmp/wait2.err"; then
    echo "ok $n - stopped (SIGTERM) while it waits for libvirt: exit 0"
else
    echo "not ok $n - stopped while it waits for libvirt (exit $rc)"
    sed 's/^/# err: /' "$tmp/wait2.err"
    fail=$((fail + 1))
fi

# each flag keeps the others: GOption writes a gboolean, and flags kept
# as bool side by side cleared their neighbours (--verbose cleared
# --debug)
run_daemon flags --debug --verbose --no-host-policy
daemon_says "--debug --verbose --no-host-policy: debug output, and every flag kept" flags \
    "^vfmig: [0-9.]+ [A-Za-z]+: "
n=$((n + 1))
if grep -q "host default policy" "$tmp/flags.err"; then
    echo "not ok $n - --debug --verbose --no-host-policy: nothing said of a host policy"
    fail=$((fail + 1))
else
    echo "ok $n - --debug --verbose --no-host-policy: nothing said of a host policy"
fi

finish
