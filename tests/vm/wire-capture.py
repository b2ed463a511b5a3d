#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""wire-capture.py: what crossed one network interface, as counts, for
the rig's check that a migration's device state travels inside TLS.

Usage:
  wire-capture.py --iface IF --out FILE [--pattern NAME=HEX]...
                  [--max-bytes N] [--max-seconds S]
                  [--server-ports LO-HI]
  wire-capture.py --self-test

It reads every IPv4 TCP segment crossing IF (an AF_PACKET raw socket,
both directions; run it in the interface's network namespace, as root)
until SIGTERM or SIGINT, --max-seconds (default 600), or --max-bytes of
TCP payload seen (default 512 MiB; then "truncated" is true).  Nothing of
the payload is kept but the first 64 bytes of each flow: per flow (one
direction of a TCP connection) it counts the payload bytes, segments,
retransmitted bytes and gaps (a segment past the next expected sequence
number: data it did not see), and the occurrences of each --pattern,
found across segment boundaries within a flow (the last bytes of the
previous in-order segment are searched with the next).  The first
segment of a flow is also read as a TLS record: a handshake record
(0x16 0x03 ...) holding a ClientHello or a ServerHello (whose cipher
suite and TLS 1.3 "supported_versions" are decoded).

At the end it writes one JSON object to FILE ("iface", "seconds",
"segments", "payload_bytes", "drops" and "kernel_packets" from the
socket's PACKET_STATISTICS, "truncated", "patterns", "flows" (largest
first): each with "src", "sport", "dst", "dport", "bytes", "segments",
"retransmitted", "gaps", "hits", "first_hex", "tls"), and prints
"result.KEY=VALUE" lines (lib.sh's qemu_results reads them): the totals,
each pattern's hits over all flows (hits_NAME), and for the largest flow
whose destination port is in --server-ports (default 49152-49215,
libvirt's migration ports: the source QEMU's stream to the
destination's) mig_* (bytes, gaps, retransmitted, hits_NAME, tls: the
record type its first segment starts with or "none"), and mig_reply_*
for the reverse direction (tls, tls_version, cipher).  FILE.ready is
written once the socket is bound.

--self-test (TAP) runs the parser on frames it builds: a pattern split
across two segments, a retransmission, a gap, a ClientHello and a TLS 1.3
ServerHello.
"""

import argparse
import json
import os
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33
FIRST_KEEP = 64

TLS_CONTENT = {20: "change_cipher_spec", 21: "alert", 22: "handshake",
               23: "application_data"}
TLS_HANDSHAKE = {1: "client_hello", 2: "server_hello"}
TLS_VERSIONS = {0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2",
                0x0304: "TLS 1.3"}
CIPHERS = {
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0x1304: "TLS_AES_128_CCM_SHA256",
    0xc02b: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    0xc02c: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xc02f: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xc030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xcca8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}


def parse_frame(frame):
    """(src, sport, dst, dport, seq, payload) of an Ethernet frame holding
    IPv4 TCP, or None."""
    if len(frame) < 14:
        return None
    etype, = struct.unpack_from("!H", frame, 12)
    off = 14
    if etype == 0x8100 and len(frame) >= 18:
        etype, = struct.unpack_from("!H", frame, 16)
        off = 18
    if etype != 0x0800 or len(frame) < off + 20:
        return None
    if frame[off] >> 4 != 4 or frame[off + 9] != 6:
        return None
    ihl = (frame[off] & 0x0f) * 4
    tot, = struct.unpack_from("!H", frame, off + 2)
    # a GSO frame larger than 64 KiB carries 0 (BIG TCP)
    end = off + tot if tot else len(frame)
    end = min(end, len(frame))
    t = off + ihl
    if end < t + 20:
        return None
    sport, dport, seq = struct.unpack_from("!HHI", frame, t)
    doff = (frame[t + 12] >> 4) * 4
    src = socket.inet_ntoa(bytes(frame[off + 12:off + 16]))
    dst = socket.inet_ntoa(bytes(frame[off + 16:off + 20]))
    return src, sport, dst, dport, seq, bytes(frame[t + doff:end])


def tls_info(data):
    """What a flow's first bytes say as a TLS record, or None."""
    if len(data) < 5 or data[0] not in TLS_CONTENT or data[1] != 3 or \
       data[2] > 4:
        return None
    info = {"record": TLS_CONTENT[data[0]],
            "record_version": "%02x%02x" % (data[1], data[2])}
    if data[0] != 22 or len(data) < 9:
        return info
    hs = data[5]
    info["handshake"] = TLS_HANDSHAKE.get(hs, str(hs))
    if hs != 2:
        return info
    # ServerHello: version(2) random(32) session_id(1+n) cipher(2)
    # compression(1) extensions(2+...)
    p = 9 + 2 + 32
    if len(data) < p + 1:
        return info
    p += 1 + data[p]
    if len(data) < p + 3:
        return info
    cipher, = struct.unpack_from("!H", data, p)
    info["cipher"] = CIPHERS.get(cipher, "0x%04x" % cipher)
    legacy, = struct.unpack_from("!H", data, 9)
    info["version"] = TLS_VERSIONS.get(legacy, "0x%04x" % legacy)
    p += 3
    if len(data) >= p + 2:
        ext_end = p + 2 + struct.unpack_from("!H", data, p)[0]
        p += 2
        while p + 4 <= min(ext_end, len(data)):
            etype, elen = struct.unpack_from("!HH", data, p)
            if etype == 0x002b and elen == 2 and p + 6 <= len(data):
                v, = struct.unpack_from("!H", data, p + 4)
                info["version"] = TLS_VERSIONS.get(v, "0x%04x" % v)
            p += 4 + elen
    return info


class Capture:
    """The per-flow counts of the segments fed to it."""

    def __init__(self, patterns):
        self.patterns = patterns        # [(name, bytes)]
        self.flows = {}
        self.segments = 0
        self.payload = 0

    def feed(self, parsed):
        src, sport, dst, dport, seq, payload = parsed
        self.segments += 1
        if not payload:
            return
        key = (src, sport, dst, dport)
        f = self.flows.get(key)
        if f is None:
            f = self.flows[key] = {
                "bytes": 0, "segments": 0, "retransmitted": 0, "gaps": 0,
                "next": None, "tail": b"",
                "hits": {n: 0 for n, _ in self.patterns},
                "first": payload[:FIRST_KEEP], "tls": tls_info(payload)}
        f["segments"] += 1
        self.payload += len(payload)
        if f["next"] is not None and seq != f["next"]:
            ahead = (seq - f["next"]) & 0xffffffff
            if ahead >= 0x80000000:
                # at or before data already seen: a retransmission (its
                # new part, if any, is not searched)
                f["retransmitted"] += len(payload)
                end = (seq + len(payload)) & 0xffffffff
                if ((end - f["next"]) & 0xffffffff) < 0x80000000:
                    f["next"] = end
                return
            f["gaps"] += 1
            f["tail"] = b""
        f["bytes"] += len(payload)
        for name, pat in self.patterns:
            keep = len(pat) - 1
            window = (f["tail"][-keep:] if keep else b"") + payload
            f["hits"][name] += window.count(pat)
        longest = max((len(p) for _, p in self.patterns), default=1)
        f["tail"] = (f["tail"] + payload)[-(longest - 1):] if longest > 1 \
            else b""
        f["next"] = (seq + len(payload)) & 0xffffffff

    def summary(self):
        flows = []
        for (src, sport, dst, dport), f in self.flows.items():
            flows.append({"src": src, "sport": sport, "dst": dst,
                          "dport": dport, "bytes": f["bytes"],
                          "segments": f["segments"],
                          "retransmitted": f["retransmitted"],
                          "gaps": f["gaps"], "hits": f["hits"],
                          "first_hex": f["first"].hex(), "tls": f["tls"]})
        flows.sort(key=lambda x: -x["bytes"])
        return flows


def results(summary, lo, hi):
    """The result.KEY=VALUE lines of a summary."""
    out = ["payload_bytes=%d" % summary["payload_bytes"],
           "segments=%d" % summary["segments"],
           "drops=%s" % summary["drops"],
           "truncated=%s" % ("yes" if summary["truncated"] else "no"),
           "flows=%d" % len(summary["flows"])]
    for name in summary["patterns"]:
        out.append("hits_%s=%d" % (name, sum(f["hits"][name]
                                             for f in summary["flows"])))
    mig = next((f for f in summary["flows"] if lo <= f["dport"] <= hi), None)
    if mig is None:
        out.append("mig=none")
        return out
    out.append("mig=%s:%d>%s:%d" % (mig["src"], mig["sport"], mig["dst"],
                                    mig["dport"]))
    for k in ("bytes", "gaps", "retransmitted", "segments"):
        out.append("mig_%s=%d" % (k, mig[k]))
    for name, n in mig["hits"].items():
        out.append("mig_hits_%s=%d" % (name, n))
    tls = mig["tls"] or {}
    out.append("mig_tls=%s" % ("/".join(
        x for x in (tls.get("record"), tls.get("handshake")) if x) or "none"))
    out.append("mig_first=%s" % mig["first_hex"][:32])
    rep = next((f for f in summary["flows"]
                if (f["src"], f["sport"], f["dst"], f["dport"]) ==
                (mig["dst"], mig["dport"], mig["src"], mig["sport"])), None)
    rtls = (rep or {}).get("tls") or {}
    out.append("mig_reply_tls=%s" % ("/".join(
        x for x in (rtls.get("record"), rtls.get("handshake")) if x) or
        "none"))
    out.append("mig_reply_tls_version=%s" % rtls.get("version", "none"))
    out.append("mig_reply_cipher=%s" % rtls.get("cipher", "none"))
    out.append("mig_reply_bytes=%d" % (rep["bytes"] if rep else 0))
    return out


def capture(opts, patterns):
    stop = []

    def on_signal(sig, frame):
        stop.append(sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                      socket.htons(ETH_P_ALL))
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    s.bind((opts.iface, 0))
    s.settimeout(0.2)
    # what queued before the bind on another interface is not ours
    s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    with open(opts.out + ".ready", "w") as r:
        r.write("%d\n" % os.getpid())
    cap = Capture(patterns)
    t0 = time.monotonic()
    truncated = False
    kernel_packets = drops = 0
    while not stop and time.monotonic() - t0 < opts.max_seconds:
        try:
            frame = s.recv(1 << 18)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        p = parse_frame(frame)
        if p is not None:
            cap.feed(p)
        if cap.payload >= opts.max_bytes:
            truncated = True
            break
    st = s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    kernel_packets, drops = struct.unpack("II", st)
    s.close()
    return {"iface": opts.iface, "seconds": round(time.monotonic() - t0, 3),
            "segments": cap.segments, "payload_bytes": cap.payload,
            "kernel_packets": kernel_packets, "drops": drops,
            "truncated": truncated,
            "patterns": {n: p.hex() for n, p in patterns},
            "flows": cap.summary()}


# ---- the self-test

def _frame(src, sport, dst, dport, seq, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x18,
                      65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload),
                     0, 0, 64, 6, 0, socket.inet_aton(src),
                     socket.inet_aton(dst))
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp + payload


def self_test():
    checks = []

    def check(ok, what):
        checks.append((bool(ok), what))

    pat = b"ML5M\x01\x00"
    cap = Capture([("model", pat), ("vfio", b"/vfio")])
    a = ("10.99.0.1", 40000, "10.99.0.2", 49152)
    cap.feed(parse_frame(_frame(*a, 1000, b"xxxxML5M")))
    cap.feed(parse_frame(_frame(*a, 1008, b"\x01\x00 and /vfio")))
    f = cap.flows[a]
    check(f["hits"]["model"] == 1 and f["hits"]["vfio"] == 1,
          "a pattern split across two in-order segments is found once")
    cap.feed(parse_frame(_frame(*a, 1008, b"\x01\x00 and /vfio")))
    check(f["hits"]["model"] == 1 and f["retransmitted"] == 12,
          "a retransmitted segment is counted, not searched again")
    cap.feed(parse_frame(_frame(*a, 5000, b"ML5M\x01\x00ML5M\x01\x00")))
    check(f["gaps"] == 1 and f["hits"]["model"] == 3 and
          f["bytes"] == 8 + 12 + 12,
          "a gap is counted; the segment after it is searched alone")
    cap.feed(parse_frame(_frame(*a, 0xfffffff0, b"late")))
    check(f["retransmitted"] == 16, "sequence numbers compare modulo 2^32")
    hello = bytes([22, 3, 1, 0, 40, 1, 0, 0, 36]) + b"\x03\x03" + \
        b"\x00" * 32
    b = ("10.99.0.1", 40001, "10.99.0.2", 49153)
    cap.feed(parse_frame(_frame(*b, 1, hello)))
    check(cap.flows[b]["tls"] == {"record": "handshake",
                                  "record_version": "0301",
                                  "handshake": "client_hello"},
          "a ClientHello is read from a flow's first segment")
    ext = struct.pack("!HHH", 0x002b, 2, 0x0304)
    body = b"\x03\x03" + b"\x11" * 32 + b"\x20" + b"\x22" * 32 + \
        struct.pack("!HB", 0x1302, 0) + struct.pack("!H", len(ext)) + ext
    sh = bytes([22, 3, 3]) + struct.pack("!H", 4 + len(body)) + \
        bytes([2]) + struct.pack("!I", len(body))[1:] + body
    r = ("10.99.0.2", 49153, "10.99.0.1", 40001)
    cap.feed(parse_frame(_frame(*r, 7, sh)))
    t = cap.flows[r]["tls"]
    check(t.get("handshake") == "server_hello" and
          t.get("cipher") == "TLS_AES_256_GCM_SHA384" and
          t.get("version") == "TLS 1.3",
          "a TLS 1.3 ServerHello: cipher suite and supported_versions")
    summ = {"payload_bytes": cap.payload, "segments": cap.segments,
            "drops": 0, "truncated": False,
            "patterns": {"model": pat.hex(), "vfio": b"/vfio".hex()},
            "flows": cap.summary()}
    res = dict(x.split("=", 1) for x in results(summ, 49153, 49153))
    check(res["mig"] == "10.99.0.1:40001>10.99.0.2:49153" and
          res["mig_tls"] == "handshake/client_hello" and
          res["mig_reply_cipher"] == "TLS_AES_256_GCM_SHA384" and
          res["hits_model"] == "3" and res["mig_hits_model"] == "0",
          "the result lines name the flow to a server port and its reply")
    check(parse_frame(b"\x00" * 13) is None and
          parse_frame(b"\x00" * 12 + b"\x86\xdd" + b"\x00" * 40) is None,
          "a short frame and an IPv6 frame are skipped")
    print("1..%d" % len(checks))
    for i, (ok, what) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
    return 0 if all(ok for ok, _ in checks) else 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--iface")
    ap.add_argument("--out")
    ap.add_argument("--pattern", action="append", default=[],
                    metavar="NAME=HEX")
    ap.add_argument("--max-bytes", type=int, default=512 << 20)
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--server-ports", default="49152-49215")
    opts = ap.parse_args(argv)
    if opts.self_test:
        return self_test()
    if not opts.iface or not opts.out:
        ap.error("--iface and --out are required")
    patterns = []
    for p in opts.pattern:
        name, _, hexs = p.partition("=")
        try:
            patterns.append((name, bytes.fromhex(hexs)))
        except ValueError:
            ap.error("--pattern wants NAME=HEX, not '%s'" % p)
        if not name.isidentifier() or not patterns[-1][1]:
            ap.error("--pattern wants NAME=HEX, not '%s'" % p)
    lo, _, hi = opts.server_ports.partition("-")
    summary = capture(opts, patterns)
    with open(opts.out, "w") as f:
        json.dump(summary, f, indent=1)
    for line in results(summary, int(lo), int(hi or lo)):
        print("result." + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
