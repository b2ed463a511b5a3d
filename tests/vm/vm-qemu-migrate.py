#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""vm-qemu-migrate.py: one live migration of a small VM with a VFIO test
device, QEMU 10 driving the device, over loopback.

Usage:
  vm-qemu-migrate.py --src BDF --dst BDF --workdir DIR [--port N]
                     [--enable-migration auto|on] [--dirty-rate BYTES/S]
                     [--poll-ms MS] [--watch] [--timeout S]
                     [--knobs vfmig_testdev|vfmig_mlx5model]
                     [--precopy-write FILE=VALUE]
                     [--dma-burst IOVA:LENGTH --burst-after-sync N]
                     [--ram-digest START:LENGTH]

Starts two QEMUs (TCG, q35, 64 MiB, no disk, SeaBIOS): the source with
-device vfio-pci,host=SRC, the destination with -device vfio-pci,host=DST
and -incoming tcp:127.0.0.1:PORT, both with a QMP socket in DIR and QEMU's
VFIO trace points on (stderr to DIR/{src,dst}.log).  Reads the source's
migration blockers; if there are none, turns on return-path and
switchover-ack on both ends, gives the source device a dirty rate, starts
the migration and, until it ends, polls the source device's sysfs
(vfio_migration/{state,initial_bytes,dirty_bytes,stop_copy_bytes}) and
query-migrate every --poll-ms.  Then reads QEMU's numbers (downtime,
total time, VFIO bytes), the devices' stop and resume latencies and
digests, and the stream's shape from QEMU's trace (bytes the source sent
before and after it stopped the VM; the device states QEMU set).

--dma-burst (the firmware model's DMA dirty tracking): the source device
is held in PRE_COPY (vfio_migration/hold_ms) until QEMU's RAM has been
synced N times and nothing of it is left to send (its first pass sent
every page), then the modelled function writes the pages of
[IOVA, +LENGTH) by DMA (its dma_dirty knob); the hold is released after one more sync, whose device report
must carry them.  --ram-digest: after the migration both QEMUs are stopped
and the SHA-256 of guest RAM [START, +LENGTH) (pmemsave) of each is a
result, with the count of its non-zero pages.

Prints "watch ..." lines while polling when --watch is given, and one
"result.KEY=VALUE" line per result at the end.  Exit status: 0 when the
script could do its work (whether the migration succeeded is in the
results), 1 on a usage or set-up error (message on stderr).
"""

import argparse
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time

SYSFS = "/sys/bus/pci/devices"


class QMPError(Exception):
    pass


class QMP:
    """A minimal QMP client over a unix socket (stdlib only)."""

    def __init__(self, path, proc, timeout=60.0):
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise QMPError("QEMU exited with status %d before its QMP "
                               "socket %s answered" % (proc.returncode, path))
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise QMPError("QMP socket %s did not answer in %d s"
                                   % (path, timeout))
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rw")
        self.events = []
        greeting = json.loads(self.file.readline())
        if "QMP" not in greeting:
            raise QMPError("not a QMP greeting: %r" % greeting)
        self.cmd("qmp_capabilities")

    def cmd(self, name, args=None, check=True):
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        self.file.write(json.dumps(msg) + "\n")
        self.file.flush()
        while True:
            line = self.file.readline()
            if not line:
                raise QMPError("QMP connection closed during %s" % name)
            reply = json.loads(line)
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply and check:
                raise QMPError("%s: %s" % (name, reply["error"].get("desc")))
            return reply.get("return", reply)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def sysfs_get(bdf, name):
    try:
        with open(os.path.join(SYSFS, bdf, name)) as f:
            return f.read().strip()
    except OSError as e:
        return "(%s)" % e.strerror


def sysfs_set(bdf, name, value):
    with open(os.path.join(SYSFS, bdf, name), "w") as f:
        f.write(str(value))


def write_in_precopy(bdf, state, status, name, value, retry):
    """Writes VALUE to the device's sysfs NAME once it is in a PRE_COPY
    state: the new STATUS, "yes" or "no: <error>".  A failed write is tried
    again at the next poll only with RETRY."""
    if not state.startswith("PRE_COPY") or status == "yes" or \
            (status.startswith("no:") and not retry):
        return status
    try:
        sysfs_set(bdf, name, value)
        return "yes"
    except OSError as e:
        return "no: %s" % e.strerror


TRACES = ["vfio_migration_set_state", "vfio_save_block",
          "vfio_save_complete_precopy_start", "vfio_save_setup",
          "vfio_load_state_device_data", "vfio_migration_realize",
          "vfio_device_dirty_tracking_start", "vfio_get_dirty_bitmap"]


def qemu_cmd(bdf, qmp, enable_migration, incoming=None):
    dev = "vfio-pci,host=%s,id=vf0" % bdf
    if enable_migration != "auto":
        dev += ",enable-migration=%s" % enable_migration
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-M", "q35", "-m", "64",
           "-nodefaults", "-display", "none", "-serial", "none",
           "-device", dev, "-qmp", "unix:%s,server=on,wait=off" % qmp]
    for t in TRACES:
        cmd += ["-trace", t]
    if incoming:
        cmd += ["-incoming", incoming]
    return cmd


def parse_trace(path):
    """Bytes the source's device sent before and after the VM stopped, and
    the device states QEMU set, from QEMU's trace on stderr."""
    pre = stop = 0
    blocks_pre = blocks_stop = 0
    stopped = False
    states = []
    loaded = 0
    dt_starts = 0
    reports = 0
    reported_pages = 0
    try:
        with open(path, errors="replace") as f:
            for line in f:
                m = re.search(r"vfio_save_block\s+\(.*?\) data_size (-?\d+)", line)
                if m:
                    n = int(m.group(1))
                    if n > 0:
                        if stopped:
                            stop += n
                            blocks_stop += 1
                        else:
                            pre += n
                            blocks_pre += 1
                    continue
                if "vfio_save_complete_precopy_start" in line:
                    stopped = True
                    continue
                m = re.search(r"vfio_migration_set_state\s+\(.*?\) new state (\S+?),", line)
                if m:
                    states.append(m.group(1))
                    continue
                if "vfio_device_dirty_tracking_start" in line:
                    dt_starts += 1
                    continue
                m = re.search(r"vfio_get_dirty_bitmap .*dirty_pages=(\d+)", line)
                if m:
                    reports += 1
                    reported_pages += int(m.group(1))
                    continue
                m = re.search(r"vfio_load_state_device_data\s+\(.*?\) size (\d+)", line)
                if m:
                    loaded += int(m.group(1))
    except OSError:
        pass
    return {"pre": pre, "stop": stop, "blocks_pre": blocks_pre,
            "blocks_stop": blocks_stop, "states": states, "loaded": loaded,
            "dt_starts": dt_starts, "reports": reports,
            "reported_pages": reported_pages}


def qemu_errors(path):
    """QEMU's error messages (not its warnings) in a log."""
    errs = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                line = line.strip()
                if line.startswith("qemu-system-x86_64:") and \
                        "warning:" not in line:
                    errs.append(line)
    except OSError:
        pass
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--port", type=int, default=4444)
    ap.add_argument("--enable-migration", default="auto",
                    choices=["auto", "on", "off"])
    ap.add_argument("--dirty-rate", type=int, default=0)
    ap.add_argument("--precopy-write", default="",
                    help="FILE=VALUE: written once to the source device's "
                         "sysfs FILE when it is first seen in PRE_COPY "
                         "(e.g. vfmig_mlx5model/sriov=disable)")
    ap.add_argument("--knobs", default="vfmig_testdev",
                    help="the test driver's sysfs directory (dirty_rate, "
                         "digest, dma_dirty): vfmig_testdev or "
                         "vfmig_mlx5model")
    ap.add_argument("--poll-ms", type=int, default=50)
    ap.add_argument("--dma-dirty", default="",
                    help="'IOVA LENGTH' to mark dirty in the source device's "
                         "DMA log once logging has started")
    ap.add_argument("--dma-burst", default="",
                    help="IOVA:LENGTH the modelled function writes by DMA "
                         "once QEMU synced RAM --burst-after-sync times")
    ap.add_argument("--burst-after-sync", type=int, default=2)
    ap.add_argument("--burst-fault", default="",
                    help="written to the model's track_fault right before "
                         "the burst (e.g. lose, which stays until the "
                         "tracker goes)")
    ap.add_argument("--ram-digest", default="",
                    help="START:LENGTH of guest RAM to digest on both ends")
    ap.add_argument("--data-size-poll", action="store_true",
                    help="read the source device's MIG_DATA_SIZE "
                         "(vfio_migration/mig_data_size) at each poll in "
                         "PRE_COPY: result last_mig_data_size; with it "
                         "vfio_migration/stop_copy_estimate: results "
                         "last_stop_copy_estimate and stop_copy_kinds")
    ap.add_argument("--watch", action="store_true")
    ap.add_argument("--timeout", type=float, default=90.0)
    ap.add_argument("--avail-switchover-bandwidth", type=int, default=0,
                    help="bytes/s QEMU assumes for the switchover decision")
    a = ap.parse_args()

    os.makedirs(a.workdir, exist_ok=True)
    results = {}

    def res(key, value):
        results[key] = value

    def out(line):
        print(line, flush=True)

    srcq = os.path.join(a.workdir, "src.qmp")
    dstq = os.path.join(a.workdir, "dst.qmp")
    for p in (srcq, dstq):
        if os.path.exists(p):
            os.unlink(p)
    srclog = open(os.path.join(a.workdir, "src.log"), "w")
    watchlog = open(os.path.join(a.workdir, "watch.log"), "w")
    dstlog = open(os.path.join(a.workdir, "dst.log"), "w")

    sysfs_set(a.src, a.knobs + "/dirty_rate", 0)
    sysfs_set(a.dst, a.knobs + "/dirty_rate", 0)

    procs = []
    src = dst = None
    t_launch = time.monotonic()
    try:
        sp = subprocess.Popen(qemu_cmd(a.src, srcq, a.enable_migration),
                              stdin=subprocess.DEVNULL, stdout=srclog,
                              stderr=subprocess.STDOUT)
        procs.append(sp)
        dp = subprocess.Popen(qemu_cmd(a.dst, dstq, a.enable_migration,
                                       "tcp:127.0.0.1:%d" % a.port),
                              stdin=subprocess.DEVNULL, stdout=dstlog,
                              stderr=subprocess.STDOUT)
        procs.append(dp)
        try:
            src = QMP(srcq, sp)
            dst = QMP(dstq, dp)
        except QMPError as e:
            res("started", "no")
            res("start_error", str(e))
            return finish(results, procs, src, dst, a)
        res("started", "yes")
        res("start_s", "%.2f" % (time.monotonic() - t_launch))
        res("src_status", src.cmd("query-status")["status"])

        mig = src.cmd("query-migrate")
        blocked = mig.get("blocked-reasons", [])
        res("blocked", "yes" if blocked else "no")
        res("blocked_reasons", " | ".join(blocked))
        if blocked:
            return finish(results, procs, src, dst, a)

        caps = [{"capability": "return-path", "state": True},
                {"capability": "switchover-ack", "state": True}]
        for q in (src, dst):
            q.cmd("migrate-set-capabilities", {"capabilities": caps})
        got = {c["capability"]: c["state"]
               for c in src.cmd("query-migrate-capabilities")}
        res("switchover_ack", "on" if got.get("switchover-ack") else "off")
        if a.avail_switchover_bandwidth:
            src.cmd("migrate-set-parameters",
                    {"avail-switchover-bandwidth": a.avail_switchover_bandwidth})
        params = src.cmd("query-migrate-parameters")
        res("avail_switchover_bandwidth", params.get("avail-switchover-bandwidth"))
        res("downtime_limit_ms", params.get("downtime-limit"))

        sysfs_set(a.src, a.knobs + "/dirty_rate", a.dirty_rate)
        res("dirty_rate", a.dirty_rate)
        burst = "not asked"
        burst_sync = None
        if a.dma_burst:
            burst = "not yet"
            sysfs_set(a.src, "vfio_migration/hold_ms", 50000)
        dma_marked = "not tried" if a.dma_dirty else "not asked"
        pw_done = "not yet" if a.precopy_write else "not asked"
        src_states = []
        last_ds = ""
        last_sce = ""
        sce_kinds = []
        max_initial = max_dirty = 0
        polls = 0
        t0 = time.monotonic()
        src.cmd("migrate", {"uri": "tcp:127.0.0.1:%d" % a.port})
        status = "setup"
        while True:
            st = sysfs_get(a.src, "vfio_migration/state")
            ini = sysfs_get(a.src, "vfio_migration/initial_bytes")
            dirty = sysfs_get(a.src, "vfio_migration/dirty_bytes")
            scb = sysfs_get(a.src, "vfio_migration/stop_copy_bytes")
            if a.data_size_poll and st == "PRE_COPY":
                ds = sysfs_get(a.src, "vfio_migration/mig_data_size")
                if ds.isdigit():
                    last_ds = ds
                sce = sysfs_get(a.src, "vfio_migration/stop_copy_estimate")
                # still in PRE_COPY after the read: the estimate is of it
                if sce and sysfs_get(a.src, "vfio_migration/state") == "PRE_COPY":
                    last_sce = sce
                    kind = sce.split()[-1]
                    if kind not in sce_kinds:
                        sce_kinds.append(kind)
            m = src.cmd("query-migrate")
            status = m.get("status", "?")
            vfio = m.get("vfio", {}).get("transferred", 0)
            polls += 1
            if not src_states or src_states[-1] != st:
                src_states.append(st)
            try:
                max_initial = max(max_initial, int(ini))
                max_dirty = max(max_dirty, int(dirty))
            except ValueError:
                pass
            if a.precopy_write:
                f, _, v = a.precopy_write.partition("=")
                pw_done = write_in_precopy(a.src, st, pw_done, f, v,
                                           retry=False)
            syncs = m.get("ram", {}).get("dirty-sync-count", 0)
            # after QEMU's first pass: every page sent once since sync 1
            # (a sync alone may come mid-pass, when the pending is low)
            if a.dma_burst and burst == "not yet" and \
                    st.startswith("PRE_COPY") and syncs >= a.burst_after_sync \
                    and m.get("ram", {}).get("remaining", 1) == 0:
                iova, _, length = a.dma_burst.partition(":")
                try:
                    # the fault first: QEMU syncs between two writes of
                    # ours, and a report after the burst must see it
                    if a.burst_fault:
                        sysfs_set(a.src, a.knobs + "/track_fault",
                                  a.burst_fault)
                    sysfs_set(a.src, a.knobs + "/dma_dirty",
                              "%s %s" % (iova, length))
                    burst = "yes"
                except OSError as e:
                    burst = "no: %s" % e.strerror
                    sysfs_set(a.src, "vfio_migration/hold_ms", 0)
                burst_sync = syncs
                res("burst_at_sync", syncs)
            if burst_sync is not None and syncs > burst_sync:
                sysfs_set(a.src, "vfio_migration/hold_ms", 0)
                res("hold_released_at_sync", syncs)
                burst_sync = None
            if a.dma_dirty:
                dma_marked = write_in_precopy(a.src, st, dma_marked,
                                              a.knobs + "/dma_dirty",
                                              a.dma_dirty, retry=True)
            line = ("watch t=%6.2fs qemu=%-9s device=%-12s initial_bytes=%-9s "
                    "dirty_bytes=%-7s stop_copy_bytes=%-9s vfio_transferred=%s"
                    % (time.monotonic() - t0, status, st, ini, dirty, scb, vfio))
            watchlog.write(line + " ram_remaining=%s\n"
                           % m.get("ram", {}).get("remaining", "?"))
            watchlog.flush()
            if a.watch:
                out(line)
            if status in ("completed", "failed", "cancelled"):
                break
            if time.monotonic() - t0 > a.timeout:
                src.cmd("migrate_cancel", check=False)
                status = "timeout"
                break
            time.sleep(a.poll_ms / 1000.0)
        wall = time.monotonic() - t0
        res("dma_dirty_marked", dma_marked)
        res("dma_burst", burst)
        res("last_mig_data_size", last_ds)
        res("last_stop_copy_estimate", last_sce.replace(" ", ":"))
        res("stop_copy_kinds", ",".join(sce_kinds))
        res("dirty_sync_count", m.get("ram", {}).get("dirty-sync-count", ""))
        res("ram_normal_pages", m.get("ram", {}).get("normal", ""))
        res("ram_duplicate_pages", m.get("ram", {}).get("duplicate", ""))
        res("precopy_write", pw_done)
        res("status", status)
        res("error_desc", m.get("error-desc", ""))
        res("wall_s", "%.2f" % wall)
        res("polls", polls)
        res("src_states_seen", ",".join(src_states))
        res("max_initial_bytes", max_initial)
        res("max_dirty_bytes", max_dirty)
        res("downtime_ms", m.get("downtime", ""))
        res("total_time_ms", m.get("total-time", ""))
        res("setup_time_ms", m.get("setup-time", ""))
        res("vfio_transferred", m.get("vfio", {}).get("transferred", ""))
        res("ram_transferred", m.get("ram", {}).get("transferred", ""))

        sysfs_set(a.src, a.knobs + "/dirty_rate", 0)
        dst_status = "?"
        if status == "completed":
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                dst_status = dst.cmd("query-status")["status"]
                if dst_status == "running":
                    break
                time.sleep(0.05)
        res("dst_status", dst_status)
        # a failed migration restarts the source VM from QEMU's main loop,
        # after the status says failed: wait until it leaves finish-migrate
        src_status = src.cmd("query-status")["status"]
        if status != "completed":
            deadline = time.monotonic() + 20
            while src_status == "finish-migrate" and time.monotonic() < deadline:
                time.sleep(0.05)
                src_status = src.cmd("query-status")["status"]
        res("src_status_after", src_status)
        res("src_state_after", sysfs_get(a.src, "vfio_migration/state"))
        res("dst_state_after", sysfs_get(a.dst, "vfio_migration/state"))
        res("src_stop_latency_us", sysfs_get(a.src, "vfio_migration/stop_latency_us"))
        res("dst_resume_latency_us", sysfs_get(a.dst, "vfio_migration/resume_latency_us"))
        res("src_digest", sysfs_get(a.src, a.knobs + "/digest"))
        res("dst_digest", sysfs_get(a.dst, a.knobs + "/digest"))
        if a.ram_digest and status == "completed":
            start, _, length = a.ram_digest.partition(":")
            for name, q in (("src", src), ("dst", dst)):
                path = os.path.join(a.workdir, name + ".ram")
                q.cmd("stop", check=False)
                q.cmd("pmemsave", {"val": int(start, 0),
                                   "size": int(length, 0),
                                   "filename": path})
                with open(path, "rb") as f:
                    data = f.read()
                os.unlink(path)
                res("ram_%s_digest" % name, hashlib.sha256(data).hexdigest())
                res("ram_%s_nonzero_pages" % name,
                    sum(1 for o in range(0, len(data), 4096)
                        if any(data[o:o + 4096])))
    except (QMPError, OSError, ValueError) as e:
        res("script_error", str(e))
    return finish(results, procs, src, dst, a)


def finish(results, procs, src, dst, a):
    for q in (src, dst):
        if q:
            try:
                q.cmd("quit", check=False)
            except (QMPError, OSError):
                pass
            q.close()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for name, p in zip(("src", "dst"), procs):
        results["%s_qemu_rc" % name] = p.returncode
    tr = parse_trace(os.path.join(a.workdir, "src.log"))
    results["trace_precopy_bytes"] = tr["pre"]
    results["trace_stopcopy_bytes"] = tr["stop"]
    results["trace_precopy_blocks"] = tr["blocks_pre"]
    results["trace_stopcopy_blocks"] = tr["blocks_stop"]
    results["trace_src_states"] = ",".join(tr["states"])
    results["trace_device_dirty_tracking_starts"] = tr["dt_starts"]
    results["trace_dirty_bitmap_reports"] = tr["reports"]
    results["trace_dirty_bitmap_pages"] = tr["reported_pages"]
    for name in ("src", "dst"):
        errs = qemu_errors(os.path.join(a.workdir, name + ".log"))
        results["%s_qemu_errors" % name] = len(errs)
        results["%s_qemu_first_error" % name] = errs[0] if errs else ""
    dtr = parse_trace(os.path.join(a.workdir, "dst.log"))
    results["trace_dst_states"] = ",".join(dtr["states"])
    results["trace_dst_loaded_bytes"] = dtr["loaded"]
    for k, v in results.items():
        v = str(v).replace("\n", " ")
        print("result.%s=%s" % (k, v), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
