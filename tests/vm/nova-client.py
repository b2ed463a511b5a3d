#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""nova-client.py: one live migration driven the way OpenStack Nova's
libvirt driver (2025.1 and later) drives it, so that the rig can test
vfmig under Nova's calls without Nova.

Usage:
  nova-client.py --src URI --dst URI --domain NAME
                 [--migrate-uri tcp://ADDR] [--dst-hostdev OLD=NEW]...
                 [--bandwidth MIB_S] [--downtime MS] [--downtime-steps N]
                 [--downtime-delay S] [--completion-timeout S]
                 [--timeout-action abort|force_complete] [--tls]
                 [--parallel N] [--auto-converge] [--postcopy]
                 [--tunnelled] [--json-log FILE] [--poll-ms MS]
                 [--data-gb GIB] [--timeout S]
                 [--completion-timeout-file PATH]
  nova-client.py --self-test

What it does, as Nova does it (nova/virt/libvirt/driver.py,
guest.py, migration.py at openstack/nova 00a030403f67, 2026-08):

* The destination XML: virDomainGetXMLDesc(VIR_DOMAIN_XML_MIGRATABLE) of
  the running domain; for each --dst-hostdev OLD=NEW, in the order given,
  the first <hostdev type='pci'> whose <source><address> has exactly
  OLD's domain/bus/slot/function gets NEW's four attributes, and nothing
  else changes; no match fails before anything is migrated (Nova raises).
  The document is parsed and serialized again, as Nova does with lxml.
* One virDomainMigrateToURI3(--dst, params, flags) in a thread.  Flags:
  LIVE | PEER2PEER | UNDEFINE_SOURCE | PERSIST_DEST, then TUNNELLED
  (--tunnelled), TLS (--tls), POSTCOPY (--postcopy; dropped when the
  guest is paused), AUTO_CONVERGE (--auto-converge, only without
  post-copy), PARALLEL (--parallel above 1).  Params, in Nova's order:
  bandwidth (always), destination_xml and persistent_xml (the same XML),
  migrate_uri (--migrate-uri, not when tunnelled), parallel.connections
  (--parallel above 1).
* The monitor in the main thread, one pass every --poll-ms (Nova: 0.5 s),
  elapsed time counted from just after the thread started:
  virDomainGetJobStats(); while the job is UNBOUNDED, in this order: the
  force-complete queued by the previous pass (migrateStartPostCopy with
  post-copy, else virDomainSuspend: Nova pauses the guest), the
  completion timeout (elapsed > int(completion_timeout x data_gb), not
  once post-copy runs: abortJob on every pass under abort, a queued
  force-complete under force_complete), and the downtime steps
  (migrateSetMaxDowntime with the value of the last step whose time is
  below the elapsed time, whenever that value differs from the one it
  last set; errors are only recorded; it never reads the limit back).
  A job type NONE once the thread returned is settled as Nova does: the
  domain still active on the source means failed, gone or inactive means
  completed.  After a failed or cancelled job a guest it paused is resumed
  (Nova's run_recover_tasks).
* Nova's steps: with delay = int(downtime_delay x data_gb), base =
  downtime / steps and offset = (downtime - base) / steps, step i (0 ..
  steps) is (int(delay x i) s, int(base + offset x i) ms).  Defaults 500
  ms, 10 steps, 75 s per GiB: 50 ms at once, then +45 ms every 75 s per
  GiB.  data_gb is the flavor's RAM in GiB, at least 2 (Nova's floor,
  not 1), plus each local disk of a block migration (none here).
* Nova's live_migration_progress_timeout no longer exists: it was removed
  in Nova 19.0.0 (Stein, commit 4c3698c0b6), with its logic.  Only the
  completion timeout remains.

Deviations from Nova, all deliberate:

* --completion-timeout-file PATH (the rig's clock): the completion
  timeout counts as passed once PATH exists, so that a test decides the
  moment (e.g. once the destination is stopped in PRE_COPY) whatever the
  machine's speed.  Nova compares the elapsed time; so does the client
  without this option.

* The RAM for data_gb is the <nova:flavor><nova:memory> (MiB) of Nova's
  metadata when the domain has it, else the domain's <memory>; --data-gb
  overrides it (for the rig's 64 MiB guests).
* Only the PCI addresses are rewritten.  Nova also rewrites graphics,
  serial, volumes, RBD, perf events, memory backing, CPU shares, vifs,
  NUMA and CPU sets, mdevs and vPMEMs for the destination: the rig's
  domains have none of them.
* <interface type='hostdev'> addresses are rewritten too (after the
  <hostdev>s).  Nova detaches those (Neutron direct ports) before it
  migrates and rewrites only <hostdev type='pci'>.
* A <hostdev> already rewritten is not matched again, so a map such as
  A=B, B=C moves two devices; Nova's loop would rewrite the first one
  twice.
* ElementTree, not lxml: namespace prefixes are kept (registered from the
  document), but every namespace declaration moves to the root element,
  attributes are written with double quotes, and unused declarations are
  dropped.  The same XML to libvirt.
* No stats are saved anywhere, and no "announce_self" is sent.
* The client never hangs: its libvirt connections have keepalive (5 s, 6
  probes), the whole run is bounded by --timeout (default 3600 s; then it
  calls abortJob and waits 30 s more for the job to end), and the
  migration thread is joined for at most 60 s after the monitor ends.

Output: with --json-log FILE, one JSON object per monitor pass (a line):
"t" (UNIX time), "elapsed" (s), "pass", "job" (the type's name and the
job's figures: time_elapsed, data_*, memory_*, downtime,
vfio_data_transferred where libvirt gives them), "state" (Nova's view:
not-started, running, completed, failed, cancelled, error) and "calls"
(each: "call", "arg", "ok", "error").  At the end, one JSON object on
standard output: "outcome" (completed, cancelled or failed), "error"
(null or the libvirt error: "where", "code", "domain", "message"),
"started" (whether migrateToURI3 was called), "domain", "flags" (names),
"flags_value", "params" (name -> value; the two XMLs as their length),
"notes", "hostdev_rewrites", "data_gb", "completion_timeout_s",
"downtime_steps", "downtime_set" (each: "elapsed", "ms", "ok",
"error"), "calls" (every call the monitor made), "paused" (a suspend
succeeded), "resumed", "aborted" (abortJob called), "postcopy_started",
"polls", "elapsed_s", "migration_call_s", "monitor_error" (null, or
what made the monitor stop early: a jobStats error, as Nova aborts the
job then, or --timeout), "completed_job" (the completed
job's stats: downtime, time_elapsed, memory_processed, ... or null),
"completed_job_from" ("source", "destination" or null) and
"source_state" (the domain's state on the source at the end, "gone" when
undefined).

Exit status: 0 when the outcome is completed, 1 when it is cancelled or
failed (also a set-up failure: "started" is false), 2 on a usage error
(message on standard error).  --self-test prints TAP and needs no
libvirt.
"""

import argparse
import collections
import io
import json
import os
import re
import sys
import threading
import time
import xml.etree.ElementTree as ET

NOVA_NS = "http://openstack.org/xmlns/libvirt/nova/1.1"
VFMIG_NS = "http://vfmig.org/xmlns/libvirt/domain/1.0"

# libvirt's stable numbers, so that the pure parts run without the bindings
JOB_NONE, JOB_BOUNDED, JOB_UNBOUNDED = 0, 1, 2
JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED = 3, 4, 5
JOB_NAMES = {JOB_NONE: "none", JOB_BOUNDED: "bounded",
             JOB_UNBOUNDED: "unbounded", JOB_COMPLETED: "completed",
             JOB_FAILED: "failed", JOB_CANCELLED: "cancelled"}
ERR_INTERNAL_ERROR = 1
ERR_NO_DOMAIN = 42
ERR_OPERATION_INVALID = 55
ERR_OPERATION_ABORTED = 78
DOMAIN_STATES = {0: "nostate", 1: "running", 2: "blocked", 3: "paused",
                 4: "shutdown", 5: "shutoff", 6: "crashed",
                 7: "pmsuspended"}
DOMAIN_PAUSED = 3
XML_MIGRATABLE = 8
JOB_STATS_COMPLETED = 1

# migration flags by name, with libvirt's values (virDomainMigrateFlags)
MIGRATE_FLAGS = {
    "VIR_MIGRATE_LIVE": 1,
    "VIR_MIGRATE_PEER2PEER": 2,
    "VIR_MIGRATE_TUNNELLED": 4,
    "VIR_MIGRATE_PERSIST_DEST": 8,
    "VIR_MIGRATE_UNDEFINE_SOURCE": 16,
    "VIR_MIGRATE_AUTO_CONVERGE": 8192,
    "VIR_MIGRATE_POSTCOPY": 32768,
    "VIR_MIGRATE_TLS": 65536,
    "VIR_MIGRATE_PARALLEL": 131072,
}

# the job figures a monitor line keeps
JOB_KEYS = ("time_elapsed", "data_total", "data_processed",
            "data_remaining", "memory_total", "memory_processed",
            "memory_remaining", "memory_bps", "memory_dirty_rate",
            "memory_iteration", "downtime", "setup_time",
            "vfio_data_transferred")

JOIN_BOUND_S = 60.0
ABORT_GRACE_S = 30.0


# ---- the pure parts (the self-test covers them)

def nova_downtime_steps(downtime_ms, steps, delay_s, data_gb):
    """Nova's list of (seconds, milliseconds): steps + 1 pairs, the limit
    rising linearly from downtime/steps to downtime, one step every
    int(delay_s x data_gb) seconds."""
    interval = int(delay_s * data_gb)
    first = downtime_ms / steps
    rise = (downtime_ms - first) / steps
    return [(int(interval * i), int(first + rise * i))
            for i in range(steps + 1)]


def nova_step_value(steps, elapsed):
    """The limit of the last step whose time is strictly below @elapsed,
    or None before the first."""
    value = None
    for at, ms in steps:
        if elapsed > at:
            value = ms
    return value


_MEM_UNITS = {"b": 1, "bytes": 1, "kb": 1000, "k": 1024, "kib": 1024,
              "mb": 1000 ** 2, "m": 1024 ** 2, "mib": 1024 ** 2,
              "gb": 1000 ** 3, "g": 1024 ** 3, "gib": 1024 ** 3,
              "tb": 1000 ** 4, "t": 1024 ** 4, "tib": 1024 ** 4}


def nova_data_gb(root):
    """Nova's data to move in GiB for a live migration without block
    migration: the flavor's RAM, at least 2.  The flavor's RAM is
    <nova:flavor><nova:memory> (MiB) where Nova's metadata has it, else
    the domain's <memory>."""
    mib = None
    mem = root.find("./metadata/{%s}instance/{%s}flavor/{%s}memory"
                    % (NOVA_NS, NOVA_NS, NOVA_NS))
    if mem is not None and (mem.text or "").strip().isdigit():
        mib = int(mem.text.strip())
    else:
        mem = root.find("./memory")
        if mem is not None and (mem.text or "").strip().isdigit():
            unit = _MEM_UNITS.get(mem.get("unit", "KiB").lower(), 1024)
            mib = int(mem.text.strip()) * unit / 1024 ** 2
    ram_gb = (mib or 0) / 1024
    return max(ram_gb, 2)


_PCI_RE = re.compile(r"^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$")


def pci_fields(text):
    """DDDD:BB:SS.F as libvirt writes the four attributes of a PCI
    <address> (Nova puts '0x' before each field)."""
    m = _PCI_RE.match(text.strip().lower())
    if not m:
        raise ValueError("'%s' is not a PCI address DDDD:BB:SS.F" % text)
    return tuple("0x" + f for f in m.groups())


_ADDR_ATTRS = ("domain", "bus", "slot", "function")


def parse_xml(text):
    """The document, with its namespace prefixes registered so that the
    serialization keeps them, and its comments."""
    for _, (prefix, uri) in ET.iterparse(io.BytesIO(text.encode()),
                                         events=("start-ns",)):
        if prefix:
            try:
                ET.register_namespace(prefix, uri)
            except ValueError:
                pass
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    return ET.fromstring(text, parser=parser)


def rewrite_hostdevs(root, mapping):
    """Points the PCI hostdevs of @root (an Element, changed in place) at
    the destination's VFs.  @mapping: (source, destination) address pairs
    in order.  Each pair rewrites the first <hostdev type='pci'> (then
    <interface type='hostdev'>) not rewritten yet whose <source><address>
    has exactly the source's four attributes.  Returns the list of what
    it rewrote; raises LookupError when a source address names none."""
    devices = root.find("./devices")
    cands = []
    if devices is not None:
        cands += [("hostdev", e) for e in devices.findall("./hostdev")
                  if e.get("type") == "pci"]
        cands += [("interface", e) for e in devices.findall("./interface")
                  if e.get("type") == "hostdev"]
    done = set()
    rewrites = []
    for src, dst in mapping:
        want = pci_fields(src)
        new = pci_fields(dst)
        for kind, elem in cands:
            if id(elem) in done:
                continue
            addr = elem.find("./source/address")
            if addr is None:
                continue
            if tuple(addr.get(a) for a in _ADDR_ATTRS) != want:
                continue
            for a, v in zip(_ADDR_ATTRS, new):
                addr.set(a, v)
            done.add(id(elem))
            rewrites.append({"element": kind, "from": src, "to": dst})
            break
        else:
            raise LookupError("no hostdev of the domain has the source PCI "
                              "address %s" % src)
    return rewrites


def destination_xml(text, mapping):
    """(the rewritten XML, the rewrites, data_gb) from the migratable XML."""
    root = parse_xml(text)
    rewrites = rewrite_hostdevs(root, mapping)
    return ET.tostring(root, encoding="unicode"), rewrites, nova_data_gb(root)


def migration_flags(opts, paused=False):
    """(flag names in Nova's order, notes) for the options."""
    names = ["VIR_MIGRATE_LIVE", "VIR_MIGRATE_PEER2PEER",
             "VIR_MIGRATE_UNDEFINE_SOURCE", "VIR_MIGRATE_PERSIST_DEST"]
    notes = []
    if opts.tunnelled:
        names.append("VIR_MIGRATE_TUNNELLED")
    if opts.tls:
        names.append("VIR_MIGRATE_TLS")
    postcopy = opts.postcopy
    if postcopy and paused:
        postcopy = False
        notes.append("VIR_MIGRATE_POSTCOPY dropped: the guest is paused "
                     "(Nova drops it for a paused instance)")
    if postcopy:
        names.append("VIR_MIGRATE_POSTCOPY")
    if opts.auto_converge:
        if opts.postcopy:
            notes.append("VIR_MIGRATE_AUTO_CONVERGE not used: post-copy is "
                         "permitted (Nova's rule)")
        else:
            names.append("VIR_MIGRATE_AUTO_CONVERGE")
    if opts.parallel > 1:
        names.append("VIR_MIGRATE_PARALLEL")
    return names, notes


def migration_params(opts, xml, tunnelled):
    """The params dict in Nova's order (guest.py Guest.migrate)."""
    params = {"bandwidth": opts.bandwidth}
    if xml:
        params["destination_xml"] = xml
        params["persistent_xml"] = xml
    if opts.migrate_uri and not tunnelled:
        params["migrate_uri"] = opts.migrate_uri
    if opts.parallel > 1:
        params["parallel.connections"] = opts.parallel
    return params


class NovaPolicy:
    """What Nova's monitor calls on a pass that sees the job UNBOUNDED.
    running() returns the calls, in order, as (name, argument); done()
    takes each call's success back."""

    def __init__(self, steps, completion_timeout_s, action, postcopy,
                 expired=None):
        self.steps = steps
        self.completion_timeout_s = completion_timeout_s
        # the rig's clock for the completion timeout (a callable: True
        # once it passed), instead of the elapsed time
        self.expired = expired
        self.action = action
        self.postcopy = postcopy
        self.tasks = collections.deque()
        self.cur_downtime = None
        self.postcopy_active = False
        self.unpause = False

    def running(self, elapsed):
        calls = []
        while self.tasks:
            if self.tasks.popleft() != "force-complete":
                continue
            if self.postcopy_active:
                continue
            calls.append(("migrateStartPostCopy", None) if self.postcopy
                         else ("suspend", None))
        if self.expired is not None:
            timed_out = self.expired()
        else:
            timed_out = (self.completion_timeout_s and
                         elapsed > self.completion_timeout_s)
        if timed_out and not self.postcopy_active:
            if self.action == "force_complete":
                self.tasks.append("force-complete")
            else:
                calls.append(("abortJob", None))
        value = nova_step_value(self.steps, elapsed)
        if value is not None and value != self.cur_downtime:
            # Nova keeps the value even when libvirt refused it
            self.cur_downtime = value
            calls.append(("migrateSetMaxDowntime", value))
        return calls

    def done(self, name, ok):
        if not ok:
            return
        if name == "suspend":
            self.unpause = True
        elif name == "migrateStartPostCopy":
            self.postcopy_active = True


# ---- talking to libvirt

def _err(e, where):
    if hasattr(e, "get_error_code"):
        return {"where": where, "code": e.get_error_code(),
                "domain": e.get_error_domain(),
                "message": e.get_error_message() or str(e)}
    return {"where": where, "code": None, "domain": None, "message": str(e)}


def _is_libvirt_error(e):
    return hasattr(e, "get_error_code")


def job_info(dom):
    """(job type, stats) as Nova's Guest.get_job_info reads them; raises
    on other errors."""
    try:
        stats = dom.jobStats()
    except Exception as e:
        if not _is_libvirt_error(e):
            raise
        code = e.get_error_code()
        if code in (ERR_NO_DOMAIN, ERR_OPERATION_INVALID):
            return JOB_COMPLETED, {}
        msg = e.get_error_message() or ""
        if (code == ERR_INTERNAL_ERROR and
                "migration was active, but no RAM info was set" in msg):
            return JOB_NONE, {}
        raise
    return stats.get("type", JOB_NONE), stats


def settle_job_type(dom):
    """Nova's find_job_type: the job is over and its type unknown."""
    try:
        return JOB_FAILED if dom.isActive() else JOB_COMPLETED
    except Exception as e:
        if _is_libvirt_error(e) and e.get_error_code() == ERR_NO_DOMAIN:
            return JOB_COMPLETED
        return JOB_FAILED


def job_summary(jtype, stats):
    out = {"type": JOB_NAMES.get(jtype, str(jtype))}
    for k in JOB_KEYS:
        if k in stats:
            out[k] = stats[k]
    return out


def call(dom, name, arg, elapsed):
    rec = {"elapsed": round(elapsed, 3), "call": name, "arg": arg,
           "ok": True, "error": None}
    try:
        if name == "migrateSetMaxDowntime":
            dom.migrateSetMaxDowntime(arg, 0)
        elif name == "migrateStartPostCopy":
            dom.migrateStartPostCopy(0)
        else:
            getattr(dom, name)()
    except Exception as e:
        rec["ok"] = False
        rec["error"] = _err(e, name)["message"]
    return rec


class Run:
    """The migration thread's result."""

    def __init__(self):
        self.error = None
        self.t0 = None
        self.t1 = None
        self.done = threading.Event()


def monitor(dom, run, policy, poll_s, deadline_s, log,
            clock=time.monotonic, wall=time.time, sleep=time.sleep):
    """Nova's monitor loop until the job is over.  Returns (the last job
    type, every call made, passes, elapsed, a monitor error or None)."""
    start = clock()
    calls = []
    passes = 0
    hard_abort_at = None
    error = None
    state = "not-started"
    while True:
        elapsed = clock() - start
        made = []
        try:
            jtype, stats = job_info(dom)
        except Exception as e:
            # Nova: an exception in the monitor aborts the job
            error = _err(e, "jobStats")
            made.append(call(dom, "abortJob", None, elapsed))
            jtype, stats = None, {}
        if jtype == JOB_NONE and run.done.is_set():
            jtype = settle_job_type(dom)
        if jtype == JOB_UNBOUNDED:
            state = "running"
            for name, arg in policy.running(elapsed):
                rec = call(dom, name, arg, elapsed)
                policy.done(name, rec["ok"])
                made.append(rec)
        elif jtype in (JOB_COMPLETED, JOB_FAILED, JOB_CANCELLED):
            state = JOB_NAMES[jtype]
        elif jtype is None:
            state = "error"
        if hard_abort_at is None and deadline_s and elapsed > deadline_s:
            hard_abort_at = elapsed
            made.append(call(dom, "abortJob", None, elapsed))
        calls += made
        if log:
            log.write(json.dumps({
                "t": round(wall(), 3), "elapsed": round(elapsed, 3),
                "pass": passes, "job": job_summary(jtype, stats)
                if jtype is not None else None,
                "state": state, "calls": made}) + "\n")
            log.flush()
        passes += 1
        if state in ("completed", "failed", "cancelled", "error"):
            break
        if (hard_abort_at is not None and
                elapsed > hard_abort_at + ABORT_GRACE_S):
            state = "error"
            break
        sleep(poll_s)
    if hard_abort_at is not None and error is None:
        error = {"where": "client", "code": None, "domain": None,
                 "message": "the migration ran longer than --timeout "
                            "(%g s): aborted" % deadline_s}
    return jtype, calls, passes, clock() - start, error


def domain_state(dom):
    try:
        state, _ = dom.state()
        return DOMAIN_STATES.get(state, str(state))
    except Exception as e:
        if _is_libvirt_error(e) and e.get_error_code() == ERR_NO_DOMAIN:
            return "gone"
        return "unknown"


def completed_stats(libvirt, dom, dst_uri, name, completed):
    """The completed job's stats: the source's, else (after a completed
    migration, the source domain gone) the destination's."""
    try:
        st = dom.jobStats(JOB_STATS_COMPLETED)
        if st and st.get("type", JOB_NONE) != JOB_NONE:
            return st, "source"
    except Exception:
        pass
    if not completed:
        return None, None
    try:
        dconn = libvirt.open(dst_uri)
        try:
            st = dconn.lookupByName(name).jobStats(JOB_STATS_COMPLETED)
        finally:
            dconn.close()
        if st and st.get("type", JOB_NONE) != JOB_NONE:
            return st, "destination"
    except Exception:
        pass
    return None, None


def _event_loop(libvirt):
    libvirt.virEventRegisterDefaultImpl()

    def loop():
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=loop, name="libvirt-events", daemon=True).start()


def migrate(opts):
    import libvirt

    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    _event_loop(libvirt)

    out = collections.OrderedDict()
    out["outcome"] = "failed"
    out["error"] = None
    out["started"] = False
    out["domain"] = opts.domain
    result = {"out": out, "dom": None}

    try:
        conn = libvirt.open(opts.src)
        try:
            conn.setKeepAlive(5, 6)
        except Exception:
            pass    # a local driver has no keepalive
        dom = conn.lookupByName(opts.domain)
        result["dom"] = dom
        paused = dom.state()[0] == DOMAIN_PAUSED
        text = dom.XMLDesc(XML_MIGRATABLE)
    except Exception as e:
        out["error"] = _err(e, "setup")
        return out, 1

    try:
        mapping = [tuple(m.split("=", 1)) for m in opts.dst_hostdev]
        xml, rewrites, data_gb = destination_xml(text, mapping)
    except (LookupError, ValueError, ET.ParseError) as e:
        out["error"] = {"where": "destination_xml", "code": None,
                        "domain": None, "message": str(e)}
        return out, 1
    if opts.data_gb:
        data_gb = opts.data_gb

    names, notes = migration_flags(opts, paused)
    flags = 0
    for n in names:
        flags |= getattr(libvirt, n)
    params = migration_params(opts, xml, opts.tunnelled)
    if opts.migrate_uri and opts.tunnelled:
        notes.append("migrate_uri not passed: tunnelled (Nova's rule)")
    steps = nova_downtime_steps(opts.downtime, opts.downtime_steps,
                                opts.downtime_delay, data_gb)
    completion = int(opts.completion_timeout * data_gb)
    expired = None
    if opts.completion_timeout_file:
        path = opts.completion_timeout_file
        expired = lambda: os.path.exists(path)
    policy = NovaPolicy(steps, completion, opts.timeout_action,
                        "VIR_MIGRATE_POSTCOPY" in names, expired)

    out["flags"] = names
    out["flags_value"] = flags
    out["params"] = {k: (len(v) if k.endswith("_xml") else v)
                     for k, v in params.items()}
    out["notes"] = notes
    out["hostdev_rewrites"] = rewrites
    out["data_gb"] = data_gb
    out["completion_timeout_s"] = completion
    out["downtime_steps"] = steps

    run = Run()

    def worker():
        run.t0 = time.monotonic()
        try:
            dom.migrateToURI3(opts.dst, params, flags)
        except Exception as e:
            run.error = e
        finally:
            run.t1 = time.monotonic()
            run.done.set()

    log = open(opts.json_log, "w") if opts.json_log else None
    out["started"] = True
    threading.Thread(target=worker, name="migrate", daemon=True).start()
    try:
        jtype, calls, passes, elapsed, merr = monitor(
            dom, run, policy, opts.poll_ms / 1000.0, opts.timeout, log)
    finally:
        if log:
            log.close()
    joined = run.done.wait(JOIN_BOUND_S)

    if policy.unpause and jtype in (JOB_FAILED, JOB_CANCELLED):
        # Nova's run_recover_tasks
        if domain_state(dom) == "paused":
            calls.append(call(dom, "resume", None, elapsed))

    if not joined:
        outcome = "failed"
        out["error"] = {"where": "migrateToURI3", "code": None,
                        "domain": None,
                        "message": "the call did not return within %g s "
                                   "of the job's end" % JOIN_BOUND_S}
    elif run.error is not None:
        e = _err(run.error, "migrateToURI3")
        out["error"] = e
        outcome = ("cancelled" if e["code"] == ERR_OPERATION_ABORTED or
                   jtype == JOB_CANCELLED else "failed")
    elif merr is not None:
        outcome = "failed"
        out["error"] = merr
    else:
        outcome = "completed"
    if out["error"] is None and merr is not None:
        out["error"] = merr
    out["outcome"] = outcome
    out["monitor_error"] = merr

    out["downtime_set"] = [
        {"elapsed": c["elapsed"], "ms": c["arg"], "ok": c["ok"],
         "error": c["error"]}
        for c in calls if c["call"] == "migrateSetMaxDowntime"]
    out["calls"] = calls
    out["paused"] = any(c["call"] == "suspend" and c["ok"] for c in calls)
    out["resumed"] = any(c["call"] == "resume" and c["ok"] for c in calls)
    out["aborted"] = any(c["call"] == "abortJob" for c in calls)
    out["postcopy_started"] = policy.postcopy_active
    out["polls"] = passes
    out["elapsed_s"] = round(elapsed, 3)
    out["migration_call_s"] = (round(run.t1 - run.t0, 3)
                               if run.t1 is not None else None)
    st, where = completed_stats(libvirt, dom, opts.dst, opts.domain,
                                outcome == "completed")
    out["completed_job"] = st
    out["completed_job_from"] = where
    if (outcome == "failed" and run.error is not None and st and
            st.get("type") == JOB_CANCELLED):
        # libvirt keeps a failed job's stats: it says cancelled
        outcome = out["outcome"] = "cancelled"
    out["source_state"] = domain_state(dom)
    if not joined:
        return out, -1
    return out, 0 if outcome == "completed" else 1


# ---- the self-test (TAP)

SAMPLE_XML = """<domain type='kvm' id='3' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>instance-00000001</name>
  <uuid>5a1e0000-0000-4000-8000-00000000d0d1</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:package version="31.0.0"/>
      <nova:name>vm0</nova:name>
      <nova:flavor name="vf.small" id="7">
        <nova:memory>4096</nova:memory>
        <nova:disk>10</nova:disk>
        <nova:vcpus>2</nova:vcpus>
      </nova:flavor>
    </nova:instance>
    <vfmig:migration xmlns:vfmig='http://vfmig.org/xmlns/libvirt/domain/1.0'>
      <vfmig:downtime target-ms='300' on-failure='abort'/>
      <vfmig:hostdev alias='ua-vf0'>
        <vfmig:precopy mode='required'/>
        <vfmig:identity driver='mlx5_vfio_pci' vendor='0x15b3' device='0x101e'/>
      </vfmig:hostdev>
    </vfmig:migration>
  </metadata>
  <memory unit='KiB'>4194304</memory>
  <devices>
    <!-- a comment libvirt would not write, kept all the same -->
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <driver name='vfio'/>
      <source>
        <address domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
      </source>
      <alias name='ua-vf0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </hostdev>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source>
        <address domain='0x0000' bus='0x00' slot='0x07' function='0x0'/>
      </source>
      <alias name='hostdev1'/>
    </hostdev>
    <interface type='hostdev' managed='yes'>
      <mac address='fa:16:3e:00:00:01'/>
      <source>
        <address type='pci' domain='0x0000' bus='0x3b' slot='0x00' function='0x2'/>
      </source>
      <alias name='hostdev2'/>
    </interface>
  </devices>
  <qemu:override>
    <qemu:device alias='ua-vf0'>
      <qemu:frontend>
        <qemu:property name='enable-migration' type='string' value='on'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
</domain>
"""


class _TAP:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, detail=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, what))
        if not cond and detail is not None:
            for line in str(detail).splitlines():
                print("# " + line)

    def eq(self, got, want, what):
        self.ok(got == want, what, "got  %r\nwant %r" % (got, want))


def _walk(a, b, changed):
    """Whether trees @a and @b are equal except the attributes of the
    elements in @changed (ids of @b's elements)."""
    if a.tag != b.tag or (a.text or "") != (b.text or "") or \
            (a.tail or "") != (b.tail or ""):
        return False
    if id(b) not in changed and a.attrib != b.attrib:
        return False
    if len(a) != len(b):
        return False
    return all(_walk(x, y, changed) for x, y in zip(a, b))


class _FakeError(Exception):
    def __init__(self, code, msg="fake"):
        super().__init__(msg)
        self.code = code

    def get_error_code(self):
        return self.code

    def get_error_domain(self):
        return 10

    def get_error_message(self):
        return str(self)


class _FakeDom:
    """A source domain whose job runs from 0.2 s to @end_s (fake clock)."""

    def __init__(self, clock, end_s, cancel_on_abort=True):
        self.clock = clock
        self.end_s = end_s
        self.log = []
        self.cancelled = False
        self.cancel_on_abort = cancel_on_abort
        self.paused = False

    def jobStats(self, flags=0):
        t = self.clock()
        if self.cancelled or t >= self.end_s:
            if self.cancelled:
                return {"type": JOB_NONE}
            raise _FakeError(ERR_NO_DOMAIN)
        if t < 0.2:
            return {"type": JOB_NONE}
        return {"type": JOB_UNBOUNDED, "time_elapsed": int(t * 1000),
                "memory_remaining": 1 << 20}

    def isActive(self):
        return 1

    def state(self):
        return (DOMAIN_PAUSED if self.paused else 1, 0)

    def migrateSetMaxDowntime(self, ms, flags=0):
        self.log.append((round(self.clock(), 1), "downtime", ms))

    def abortJob(self):
        self.log.append((round(self.clock(), 1), "abort", None))
        if self.cancel_on_abort:
            self.cancelled = True

    def suspend(self):
        self.log.append((round(self.clock(), 1), "suspend", None))
        self.paused = True

    def resume(self):
        self.paused = False


def _fake_run(end_s, completion_s, action, steps, cancel_on_abort=True,
              expired_at=None):
    now = [0.0]
    dom = _FakeDom(lambda: now[0], end_s, cancel_on_abort)

    class Done:
        # the migration call returns when the job ends
        @staticmethod
        def is_set():
            return dom.cancelled or now[0] >= end_s
    run = Run()
    run.done = Done()

    def sleep(s):
        now[0] += s
    expired = None
    if expired_at is not None:
        expired = lambda: now[0] >= expired_at
    policy = NovaPolicy(steps, completion_s, action, False, expired)
    res = monitor(dom, run, policy, 0.5, 0, None, clock=lambda: now[0],
                  wall=lambda: now[0], sleep=sleep)
    return dom, policy, res


def self_test():
    t = _TAP()
    print("1..33")

    # Nova's defaults: 500 ms, 10 steps, 75 s per GiB
    s1 = nova_downtime_steps(500, 10, 75, 1)
    t.eq(s1, [(0, 50), (75, 95), (150, 140), (225, 185), (300, 230),
              (375, 275), (450, 320), (525, 365), (600, 410), (675, 455),
              (750, 500)], "steps: 500 ms / 10 / 75 s, 1 GiB")
    s2 = nova_downtime_steps(500, 10, 75, 2)
    t.eq([a for a, _ in s2], [150 * i for i in range(11)],
         "steps: 2 GiB (Nova's floor) doubles every interval")
    t.eq([v for _, v in s2], [v for _, v in s1],
         "steps: the values do not depend on the data")
    # the example of Nova's downtime_steps docstring
    s3 = nova_downtime_steps(400, 10, 30, 3)
    t.eq(s3, [(90 * i, 40 + 36 * i) for i in range(11)],
         "steps: 400 ms / 10 / 30 s, 3 GiB (Nova's own example)")
    t.eq(nova_downtime_steps(100, 3, 3, 2.5),
         [(0, 33), (7, 55), (14, 77), (21, 100)],
         "steps: Nova's minima, a fractional data_gb truncated")
    t.eq((nova_step_value(s1, 0.0), nova_step_value(s1, 0.5),
          nova_step_value(s1, 75.0), nova_step_value(s1, 75.5),
          nova_step_value(s1, 1e6)), (None, 50, 50, 95, 500),
         "step value: strictly after each step's time")

    # data_gb
    root = parse_xml(SAMPLE_XML)
    t.eq(nova_data_gb(root), 4.0, "data_gb: the flavor's 4096 MiB")
    t.eq(nova_data_gb(parse_xml(
        "<domain><memory unit='KiB'>65536</memory></domain>")), 2,
        "data_gb: a 64 MiB domain counts Nova's 2 GiB")
    t.eq(nova_data_gb(parse_xml(
        "<domain><memory unit='GiB'>3</memory></domain>")), 3.0,
        "data_gb: <memory unit='GiB'>3")

    # the XML rewrite
    t.eq(pci_fields("0000:3B:00.2"), ("0x0000", "0x3b", "0x00", "0x2"),
         "pci_fields: libvirt's spelling")
    try:
        pci_fields("3b:00.2")
        t.ok(False, "pci_fields: a short address is refused")
    except ValueError:
        t.ok(True, "pci_fields: a short address is refused")
    mapping = [("0000:00:05.0", "0000:00:06.0"),
               ("0000:3b:00.2", "0000:3b:00.4")]
    xml, rewrites, gb = destination_xml(SAMPLE_XML, mapping)
    t.eq(rewrites, [{"element": "hostdev", "from": "0000:00:05.0",
                     "to": "0000:00:06.0"},
                    {"element": "interface", "from": "0000:3b:00.2",
                     "to": "0000:3b:00.4"}], "rewrite: what was rewritten")
    new = parse_xml(xml)
    hd = new.findall("./devices/hostdev")
    itf = new.find("./devices/interface")
    t.eq(dict(hd[0].find("./source/address").attrib),
         {"domain": "0x0000", "bus": "0x00", "slot": "0x06",
          "function": "0x0"}, "rewrite: the hostdev's source address")
    t.eq(hd[0].find("./address").get("slot"), "0x05",
         "rewrite: the guest-side <address> untouched")
    t.eq(dict(itf.find("./source/address").attrib),
         {"type": "pci", "domain": "0x0000", "bus": "0x3b",
          "slot": "0x00", "function": "0x4"},
         "rewrite: the interface's source address, type kept")
    t.eq(hd[1].find("./source/address").get("slot"), "0x07",
         "rewrite: an unmapped hostdev untouched")
    changed = {id(hd[0].find("./source/address")),
               id(itf.find("./source/address"))}
    t.ok(_walk(parse_xml(SAMPLE_XML), new, changed),
         "rewrite: every other element, attribute and text unchanged")
    t.ok('xmlns:nova="%s"' % NOVA_NS in xml and "<nova:flavor" in xml,
         "rewrite: the nova prefix and namespace kept", xml)
    t.ok('xmlns:vfmig="%s"' % VFMIG_NS in xml and
         '<vfmig:hostdev alias="ua-vf0">' in xml,
         "rewrite: the vfmig prefix and namespace kept", xml)
    t.ok("<qemu:override>" in xml and "<!-- a comment" in xml,
         "rewrite: qemu:override and comments kept", xml)
    t.eq(new.find("./metadata/{%s}migration/{%s}hostdev/{%s}identity"
                  % (VFMIG_NS, VFMIG_NS, VFMIG_NS)).get("driver"),
         "mlx5_vfio_pci", "rewrite: the vfmig policy readable by namespace")
    try:
        destination_xml(SAMPLE_XML, [("0000:00:09.0", "0000:00:06.0")])
        t.ok(False, "rewrite: an unknown source address fails (as Nova)")
    except LookupError:
        t.ok(True, "rewrite: an unknown source address fails (as Nova)")
    _, chained, _ = destination_xml(SAMPLE_XML, [
        ("0000:00:05.0", "0000:00:07.0"), ("0000:00:07.0", "0000:00:08.0")])
    t.eq([r["to"] for r in chained], ["0000:00:07.0", "0000:00:08.0"],
         "rewrite: a chained map moves two hostdevs, each once")

    # flags and params
    class O:
        tunnelled = tls = postcopy = auto_converge = False
        parallel = 1
        bandwidth = 0
        migrate_uri = "tcp://10.99.0.2"
    o = O()
    names, _ = migration_flags(o)
    t.eq(names, ["VIR_MIGRATE_LIVE", "VIR_MIGRATE_PEER2PEER",
                 "VIR_MIGRATE_UNDEFINE_SOURCE", "VIR_MIGRATE_PERSIST_DEST"],
         "flags: Nova's base flags")
    t.eq(list(migration_params(o, "<x/>", False).items()),
         [("bandwidth", 0), ("destination_xml", "<x/>"),
          ("persistent_xml", "<x/>"), ("migrate_uri", "tcp://10.99.0.2")],
         "params: Nova's order, no parallel.connections for 1")
    o.postcopy = o.auto_converge = o.tls = True
    o.parallel = 4
    names, notes = migration_flags(o)
    t.ok("VIR_MIGRATE_POSTCOPY" in names and
         "VIR_MIGRATE_AUTO_CONVERGE" not in names and
         "VIR_MIGRATE_PARALLEL" in names and "VIR_MIGRATE_TLS" in names
         and notes, "flags: post-copy drops auto-converge; parallel; TLS",
         names)
    o.tunnelled = True
    p = migration_params(o, "<x/>", True)
    t.ok("migrate_uri" not in p and p["parallel.connections"] == 4,
         "params: tunnelled drops migrate_uri", p)

    # the monitor loop against a fake clock and domain
    steps = nova_downtime_steps(500, 10, 3, 2)   # every 6 s
    dom, _, res = _fake_run(13.0, 0, "abort", steps)
    t.eq([x for x in dom.log if x[1] == "downtime"],
         [(0.5, "downtime", 50), (6.5, "downtime", 95),
          (12.5, "downtime", 140)],
         "monitor: a downtime step on the first pass after each boundary")
    t.eq((res[0], res[4]), (JOB_COMPLETED, None),
         "monitor: a job gone from the source completed")
    dom, _, res = _fake_run(100.0, 4, "abort", steps)
    t.eq(([x for x in dom.log if x[1] == "abort"], res[0]),
         ([(4.5, "abort", None)], JOB_FAILED),
         "monitor: abort at the completion timeout, once; the guest "
         "still on the source")
    dom, pol, res = _fake_run(100.0, 4, "force_complete", steps,
                              cancel_on_abort=False)
    sus = [x for x in dom.log if x[1] == "suspend"]
    t.ok(sus and sus[0][0] == 5.0 and pol.unpause and
         not any(x[1] == "abort" for x in dom.log),
         "monitor: force_complete pauses on the pass after the timeout",
         dom.log[:6])
    t.ok(len(sus) > 3 and all(b[0] - a[0] == 0.5
                             for a, b in zip(sus, sus[1:])),
         "monitor: and again on every pass, as Nova re-queues it",
         sus[:4])
    dom, _, res = _fake_run(100.0, 4, "abort", steps, expired_at=7.2)
    t.eq([x for x in dom.log if x[1] == "abort"], [(7.5, "abort", None)],
         "monitor: with the rig's clock, abort on the first pass after it "
         "said so, not at the elapsed timeout")
    return 0 if t.failed == 0 else 1


# ---- the command line

def _at_least(minimum):
    def conv(text):
        v = int(text)
        if v < minimum:
            raise argparse.ArgumentTypeError("%d is below %d" % (v, minimum))
        return v
    return conv


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="One live migration as OpenStack Nova's libvirt driver "
                    "runs it (see the file's docstring).")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--src", help="the source libvirt URI")
    ap.add_argument("--dst", help="the destination URI (migrateToURI3's "
                    "dconnuri)")
    ap.add_argument("--domain")
    ap.add_argument("--migrate-uri", help="tcp://ADDR (Nova's "
                    "live_migration_inbound_addr)")
    ap.add_argument("--dst-hostdev", action="append", default=[],
                    metavar="OLD=NEW", help="source PCI address = claimed "
                    "destination VF (repeatable)")
    ap.add_argument("--bandwidth", type=_at_least(0), default=0,
                    help="MiB/s (live_migration_bandwidth)")
    ap.add_argument("--downtime", type=_at_least(100), default=500,
                    help="ms (live_migration_downtime)")
    ap.add_argument("--downtime-steps", type=_at_least(3), default=10)
    ap.add_argument("--downtime-delay", type=_at_least(3), default=75,
                    help="s per GiB")
    ap.add_argument("--completion-timeout", type=_at_least(0), default=800,
                    help="s per GiB; 0: none")
    ap.add_argument("--completion-timeout-file", metavar="PATH",
                    help="the rig's clock: the completion timeout has "
                    "passed once PATH exists (instead of after "
                    "--completion-timeout x data_gb s)")
    ap.add_argument("--timeout-action", choices=("abort", "force_complete"),
                    default="abort")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--parallel", type=_at_least(1), default=1,
                    help="live_migration_parallel_connections")
    ap.add_argument("--auto-converge", action="store_true")
    ap.add_argument("--postcopy", action="store_true")
    ap.add_argument("--tunnelled", action="store_true")
    ap.add_argument("--json-log", metavar="FILE")
    ap.add_argument("--poll-ms", type=_at_least(10), default=500)
    ap.add_argument("--data-gb", type=float, default=0,
                    help="override Nova's data_gb (GiB)")
    ap.add_argument("--timeout", type=float, default=3600,
                    help="the client's own bound (s); 0: none")
    opts = ap.parse_args(argv)
    if opts.self_test:
        return self_test()
    for need in ("src", "dst", "domain"):
        if not getattr(opts, need):
            ap.error("--%s is required" % need)
    for m in opts.dst_hostdev:
        try:
            old, new = m.split("=", 1)
            pci_fields(old)
            pci_fields(new)
        except ValueError:
            ap.error("--dst-hostdev wants DDDD:BB:SS.F=DDDD:BB:SS.F, "
                     "not '%s'" % m)
    if opts.data_gb < 0:
        ap.error("--data-gb must not be negative")
    out, rc = migrate(opts)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    if rc < 0:
        # the migration thread is stuck in libvirt: do not wait for it
        os._exit(1)
    return rc


if __name__ == "__main__":
    sys.exit(main())
