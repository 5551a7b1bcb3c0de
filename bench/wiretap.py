#!/usr/bin/env python3
"""wiretap.py -- when did a watch event reach petdns? Kernel timestamps from loopback.

usage: wiretap.py --port API_PORT --out FILE     (root: an AF_PACKET socket on lo)

Captures the TCP segments fakeapi sends from API_PORT on the loopback
interface (a classic BPF filter in the kernel: IPv4, TCP, source port) and,
for each segment that carries a probe's event -- a `lat-N` service added by
bench/latency.py or a headless service's EndpointSlice (the only slices with
`hostname`, which bench/churn.py --exclude-headless never touches) -- writes
"<kernel timestamp, CLOCK_REALTIME seconds> <metadata.name>" to FILE, one line
per object named in the segment. The timestamp is when the segment went
through lo, i.e. when the event was in petdns's socket: the time from it to
the first answer showing the change is petdns's own part of the latency,
whatever fakeapi's (Python) delay before sending. Runs until SIGTERM/SIGINT.
Python 3 standard library only; Linux.
"""
import argparse
import ctypes
import re
import signal
import socket
import struct
import sys

SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
SCM_TIMESTAMPNS = SO_TIMESTAMPNS
ETH_P_ALL = 0x0003
NAME = re.compile(rb'"metadata":\{"name":"([^"]+)"')


def bpf_tcp_src_port(port):
    """ip and tcp src port PORT, unfragmented (as `tcpdump -dd` would give)."""
    ins = [
        (0x28, 0, 0, 12),           # ldh [12]           ethertype
        (0x15, 0, 8, 0x0800),       # jeq IPv4 ? next : drop
        (0x30, 0, 0, 23),           # ldb [23]           protocol
        (0x15, 0, 6, 6),            # jeq TCP ? next : drop
        (0x28, 0, 0, 20),           # ldh [20]           fragment offset
        (0x45, 4, 0, 0x1fff),       # jset -> drop
        (0xb1, 0, 0, 14),           # ldxb 4*([14]&0xf)  IP header length
        (0x48, 0, 0, 14),           # ldh [x+14]         source port
        (0x15, 0, 1, port),         # jeq port ? accept : drop
        (0x06, 0, 0, 262144),       # ret accept
        (0x06, 0, 0, 0),            # ret drop
    ]
    buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in ins))
    return buf, struct.pack("HL", len(ins), ctypes.addressof(buf))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interface", default="lo")
    a = ap.parse_args()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    keep, prog = bpf_tcp_src_port(a.port)
    s.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, prog)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((a.interface, 0))
    s.settimeout(0.2)
    out = open(a.out, "w", buffering=1)
    out.write("# ready\n")
    while not stop:
        try:
            data, anc, _, addr = s.recvmsg(262144, 64)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue            # lo shows each segment twice
        if b'"lat-' not in data and b'"hostname":"' not in data:
            continue
        ts = None
        for level, kind, val in anc:
            if level == socket.SOL_SOCKET and kind == SCM_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", val[:16])
                ts = sec + nsec / 1e9
        if ts is None:
            continue
        for name in NAME.findall(data):
            out.write("%.6f %s\n" % (ts, name.decode("ascii", "replace")))
    out.close()
    del keep
    return 0


if __name__ == "__main__":
    sys.exit(main())
