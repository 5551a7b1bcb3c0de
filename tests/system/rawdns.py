#!/usr/bin/env python3
"""rawdns.py -- sends hand-made (often malformed) DNS packets and prints what comes back.

usage: rawdns.py PORT SCENARIO
Prints one line per response: "id=N rcode=N qr=N tc=N qd=N an=N", or "none" when
nothing came back within a second. Standard library only.
"""
import socket
import struct
import sys


def name(text):
    out = b""
    for label in text.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(qid=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def query(qname="dns-version.cluster.local", qtype=16, qclass=1, **kw):
    return header(**kw) + name(qname) + struct.pack(">HH", qtype, qclass)


def describe(resp):
    if resp is None:
        return "none"
    if len(resp) < 12:
        return "short len=%d" % len(resp)
    qid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", resp[:12])
    return "id=%d rcode=%d qr=%d tc=%d qd=%d an=%d" % (
        qid, flags & 0xF, flags >> 15, (flags >> 9) & 1, qd, an)


def udp(port, packets):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    for p in packets:
        s.sendto(p, ("127.0.0.1", port))
        try:
            print(describe(s.recv(65535)))
        except socket.timeout:
            print("none")


def tcp_read(s):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf
    try:
        size = exact(2)
        if size is None:
            return None
        return exact(struct.unpack(">H", size)[0])
    except socket.timeout:
        return None


def tcp(port, packets, bytewise=False, frame=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=2.0)
    data = b"".join((struct.pack(">H", len(p)) if frame else b"") + p for p in packets)
    if bytewise:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            s.sendall(data[i:i + 1])
    else:
        s.sendall(data)
    for _ in packets:
        print(describe(tcp_read(s)))
    s.close()


def main():
    port, scenario = int(sys.argv[1]), sys.argv[2]
    q = query()
    pointer_loop = header() + b"\xc0\x0c" + struct.pack(">HH", 1, 1)
    forward_pointer = header() + b"\xc0\x20" + struct.pack(">HH", 1, 1) + b"\0" * 20
    label_past_end = header() + b"\x3fabc"
    long_name = header() + (b"\x3f" + b"a" * 63) * 4 + b"\0" + struct.pack(">HH", 1, 1)
    scenarios = {
        "valid": lambda: udp(port, [q]),
        "short": lambda: udp(port, [b"", b"\x12", q[:11]]),
        "qr-set": lambda: udp(port, [query(flags=0x8100)]),
        "qdcount-0": lambda: udp(port, [header(qd=0)]),
        "qdcount-2": lambda: udp(port, [query(qd=2)]),
        "answer-in-query": lambda: udp(port, [query(an=1)]),
        "opcode-status": lambda: udp(port, [query(flags=(2 << 11) | 0x0100)]),
        "opcode-update": lambda: udp(port, [query(flags=(5 << 11))]),
        "class-ch": lambda: udp(port, [query(qclass=3)]),
        "class-any": lambda: udp(port, [query(qclass=255)]),
        "axfr-tcp": lambda: tcp(port, [query(qname="cluster.local", qtype=252)]),
        "ixfr-udp": lambda: udp(port, [query(qname="cluster.local", qtype=251)]),
        "pointer-loop": lambda: udp(port, [pointer_loop]),
        "forward-pointer": lambda: udp(port, [forward_pointer]),
        "label-past-end": lambda: udp(port, [label_past_end]),
        "name-too-long": lambda: udp(port, [long_name]),
        "garbage": lambda: udp(port, [bytes(range(256)) * 4]),
        "tcp-pipelined": lambda: tcp(port, [query(qid=1), query(qid=2), query(qid=3)]),
        "tcp-bytewise": lambda: tcp(port, [query(qid=7), query(qid=8)], bytewise=True),
        "tcp-garbage-frame": lambda: tcp(port, [b"\xff" * 40]),
    }
    scenarios[scenario]()


if __name__ == "__main__":
    main()
