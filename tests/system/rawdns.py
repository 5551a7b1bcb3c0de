#!/usr/bin/env python3
"""rawdns.py -- sends hand-made (often malformed) DNS packets and prints what comes back.

usage: rawdns.py PORT [--detail] [--batch] SCENARIO...
Prints one line per response: "id=N rcode=N qr=N tc=N qd=N an=N" (with
--detail, the whole header and the OPT record: see detail()), or "none" when
nothing came back within a second. The TCP client scenarios also print "open"
or "closed" for the connection's state. With --batch, each line is prefixed
"SCENARIO: ", and after each scenario a valid query over UDP and over TCP
must get its answer: "SCENARIO then: ok" (see valid()). Standard library only.

The TCP timing scenarios read petdns's limits from the same environment
variables petdns does (tests/system/hostile.sh sets them low).
"""
import contextlib
import io
import os
import random
import select
import socket
import struct
import sys
import time


# petdns's TCP read and idle timeouts (seconds) and connection cap.
READ = int(os.environ.get("PETDNS_TCP_READ_MS", "3000")) / 1000
IDLE = int(os.environ.get("PETDNS_TCP_IDLE_MS", "10000")) / 1000
CAP = int(os.environ.get("PETDNS_TCP_MAX_CONNS", "1000"))


def name(text):
    out = b""
    for label in text.strip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(qid=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def query(qname="dns-version.cluster.local", qtype=16, qclass=1, **kw):
    return header(**kw) + name(qname) + struct.pack(">HH", qtype, qclass)


def opt(size=1232, version=0, options=b"", owner=b"\0", rdlen=None):
    """An OPT record; rdlen overrides the true RDATA length."""
    return owner + struct.pack(">HHBBHH", 41, size, 0, version, 0,
                               len(options) if rdlen is None else rdlen) + options


def option(code, data, length=None):
    return struct.pack(">HH", code, len(data) if length is None else length) + data


def a_record(owner=b"\xc0\x0c", addr=b"\x0a\x00\x00\x01"):
    return owner + struct.pack(">HHIH", 1, 1, 30, len(addr)) + addr


def describe(resp):
    if resp is None:
        return "none"
    if len(resp) < 12:
        return "short len=%d" % len(resp)
    qid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", resp[:12])
    return "id=%d rcode=%d qr=%d tc=%d qd=%d an=%d" % (
        qid, flags & 0xF, flags >> 15, (flags >> 9) & 1, qd, an)


def skip_name(msg, off):
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            return off + 2
        off += n + 1
        if n == 0:
            return off


def find_opt(msg, qd, an, ns, ar):
    """The OPT record's (size, extended rcode, version), or None."""
    off = 12
    for _ in range(qd):
        off = skip_name(msg, off) + 4
    for i in range(an + ns + ar):
        off = skip_name(msg, off)
        rtype, rclass, ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        if rtype == 41 and i >= an + ns:
            return rclass, ttl >> 24, (ttl >> 16) & 0xFF
        off += 10 + rdlen
    return None


def detail(resp):
    """The whole header, and the OPT record if any: 'opt=vV/SIZE xrcode=N'."""
    if resp is None:
        return "none"
    if len(resp) < 12:
        return "short len=%d" % len(resp)
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", resp[:12])
    out = "id=%d opcode=%d rcode=%d qr=%d aa=%d tc=%d qd=%d an=%d ns=%d ar=%d" % (
        qid, (flags >> 11) & 0xF, flags & 0xF, flags >> 15, (flags >> 10) & 1,
        (flags >> 9) & 1, qd, an, ns, ar)
    o = find_opt(resp, qd, an, ns, ar)
    if o is not None:
        out += " opt=v%d/%d xrcode=%d" % (o[2], o[0], o[1] << 4 | (flags & 0xF))
    return out


def udp(port, packets, fmt=describe):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    for p in packets:
        s.sendto(p, ("127.0.0.1", port))
        try:
            print(fmt(s.recv(65535)))
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
    except (socket.timeout, ConnectionError):
        return None


def frame(p):
    return struct.pack(">H", len(p)) + p


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


def state(s, wait):
    """'closed' when the server closes s within wait seconds, else 'open'."""
    s.settimeout(wait)
    try:
        while s.recv(4096):
            pass
        return "closed"
    except socket.timeout:
        return "open"
    except ConnectionError:
        return "closed"


def closed_now(s):
    """True when the server has already closed s (no waiting)."""
    if not select.select([s], [], [], 0)[0]:
        return False
    try:
        return s.recv(4096, socket.MSG_PEEK) == b""
    except ConnectionError:
        return True


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=2.0)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def tcp_silent(port):
    """Connects and sends nothing: open for a while, closed at the read timeout."""
    s = connect(port)
    print(state(s, READ / 3))
    print(state(s, READ + 2))


def tcp_idle(port):
    """After an answer the idle timeout applies, not the (shorter) read timeout."""
    s = connect(port)
    s.sendall(frame(query()))
    print(describe(tcp_read(s)))
    print(state(s, (READ + IDLE) / 2))
    print(state(s, IDLE + 2))


def tcp_frame(port, prefix, then=None):
    """Sends prefix raw, maybe a query after it; prints each answer, then the state."""
    s = connect(port)
    s.sendall(prefix)
    s.settimeout(0.5)
    if then is not None:
        s.sendall(frame(then))
        print(describe(tcp_read(s)))
    print(state(s, IDLE + 2))


def tcp_slowloris(port):
    """One byte every 0.3 s: the read timeout closes it before the query is whole."""
    s = connect(port)
    data = frame(query())
    deadline = time.time() + READ + 5
    for i in range(len(data)):
        try:
            s.sendall(data[i:i + 1])
        except ConnectionError:
            break
        if state(s, 0.3) == "closed" or time.time() > deadline:
            break
    print(state(s, 0.1) if i < len(data) - 1 else "answered")


def tcp_no_read(port, qname):
    """Queries for a large answer and never reads: the server must hang up."""
    s = connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    q = frame(query(qname=qname, qtype=1))
    s.settimeout(0.2)
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            s.sendall(q * 64)
        except socket.timeout:
            continue
        except ConnectionError:
            break
    print(state(s, 5.0))


def count_closed(conns, want, wait):
    """How many of conns the server closed, polled until want or wait seconds."""
    end = time.time() + wait
    while True:
        closed = [i for i, c in enumerate(conns) if closed_now(c)]
        if len(closed) >= want or time.time() > end:
            return closed
        time.sleep(0.02)


def tcp_many(port, extra=5):
    """At the cap, the least recently active connections are closed first."""
    conns = [connect(port) for _ in range(CAP)]
    conns[0].sendall(frame(query(qid=100)))
    print(describe(tcp_read(conns[0])))
    conns += [connect(port) for _ in range(extra)]
    closed = count_closed(conns, extra, READ / 2)
    print("closed: " + " ".join(str(i) for i in closed))
    for i in (0, len(conns) - 1):
        conns[i].sendall(frame(query(qid=200 + i)))
        print(describe(tcp_read(conns[i])))


def tcp_flood(port):
    """Ten times the cap at once: all but the newest cap are closed."""
    n = 10 * CAP
    conns = [connect(port) for _ in range(n)]
    print("closed %d of %d" % (len(count_closed(conns, n - CAP, READ / 2)), n))


def udp_random(port, n=2000):
    """Mutated queries: every answer echoes an id sent and has QR set."""
    rng = random.Random(7)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    base = bytearray(query(qname=Q, qtype=1, ar=1) + opt())
    answers = bad = 0

    def drain(wait):
        nonlocal answers, bad
        s.settimeout(wait)
        try:
            while True:
                r = s.recv(65535)
                answers += 1
                if len(r) < 12 or r[2] & 0x80 == 0 or struct.unpack(">H", r[:2])[0] >= n:
                    bad += 1
        except socket.timeout:
            pass
    for i in range(n):
        p = bytearray(base)
        for _ in range(rng.randint(1, 6)):
            p[rng.randrange(2, len(p))] = rng.randrange(256)
        p[0:2] = struct.pack(">H", i)
        if rng.random() < 0.2:
            p = p[:rng.randint(12, len(p))]
        s.sendto(bytes(p), ("127.0.0.1", port))
        if i % 50 == 49:
            drain(0.02)
    drain(1.0)
    print("answers %s, malformed %d" % ("most" if answers > n // 2 else answers, bad))


def tcp_pipeline(port, n=100):
    """n queries in one write come back complete and in order."""
    s = connect(port)
    s.sendall(b"".join(frame(query(qid=i)) for i in range(n)))
    ids = []
    for _ in range(n):
        r = tcp_read(s)
        ids.append(None if r is None else struct.unpack(">H", r[:2])[0])
    print("in order" if ids == list(range(n)) else "got %r" % ids)


Q = "api.shop.svc.cluster.local"
QA = struct.pack(">HH", 1, 1)


def long_name(total):
    """A wire name of exactly total bytes (labels of up to 63)."""
    out, left = b"", total - 1
    while left > 0:
        n = min(63, left - 1)
        out += bytes([n]) + b"a" * n
        left -= n + 1
    return out + b"\0"


# UDP packet scenarios: each a list of datagrams, one answer line each.
PACKETS = {
    # Headers cut short, and questions that end early.
    "truncated-headers": lambda: [header()[:n] for n in range(12)],
    "header-only": lambda: [header()],
    "question-no-type": lambda: [header() + name(Q)],
    "question-half-type": lambda: [header() + name(Q) + b"\0\1\0"],
    "label-past-end-deep": lambda: [header() + b"\x03api\x04shop\x20svc"],
    "label-extended-type": lambda: [header() + b"\x41" + b"a" * 64 + b"\0" + QA],
    # Compression pointers: forward, to themselves, in loops, into the header.
    "pointer-self": lambda: [header() + b"\xc0\x0c" + QA],
    "pointer-forward": lambda: [header() + b"\xc0\x12" + QA + b"\x03api\0"],
    "pointer-loop-2": lambda: [header() + b"\xc0\x0e\xc0\x0c" + QA],
    "pointer-to-header": lambda: [header() + b"\xc0\x00" + QA],
    "pointer-past-end": lambda: [header() + b"\xc3\xff" + QA],
    "pointer-after-label": lambda: [header() + b"\x03api\xc0\x0c" + QA],
    # Names at and over 255 bytes.
    "name-255": lambda: [header() + long_name(255) + QA],
    "name-256": lambda: [header() + long_name(256) + QA],
    "name-300": lambda: [header() + long_name(300) + QA],
    # Section counts.
    "qdcount-2-present": lambda: [query(qname=Q, qtype=1, qd=2) + name(Q) + QA],
    "qdcount-65535": lambda: [query(qname=Q, qtype=1, qd=65535)],
    "answer-record": lambda: [query(qname=Q, qtype=1, an=1) + a_record()],
    "authority-record": lambda: [query(qname=Q, qtype=1, ns=1) + a_record()],
    "ancount-no-record": lambda: [query(qname=Q, qtype=1, an=1)],
    "additional-a-record": lambda: [query(qname=Q, qtype=1, ar=1) + a_record()],
    "arcount-no-record": lambda: [query(qname=Q, qtype=1, ar=1)],
    "trailing-garbage": lambda: [query(qname=Q, qtype=1) + b"\xff" * 40],
    # Flags.
    "qr-set-notify": lambda: [query(qname=Q, qtype=6, flags=0x8000 | 4 << 11)],
    "qtype-opt": lambda: [query(qname=Q, qtype=41)],
    # Classes other than IN.
    "class-hs": lambda: [query(qname=Q, qtype=1, qclass=4)],
    "class-none": lambda: [query(qname=Q, qtype=1, qclass=254)],
    "class-chaos-version": lambda: [query(qname="version.bind", qtype=16, qclass=3)],
    # EDNS.
    "edns-plain": lambda: [query(qname=Q, qtype=1, ar=1) + opt()],
    "edns-unknown-option": lambda: [query(qname=Q, qtype=1, ar=1) +
                                    opt(options=option(65001, b"hello"))],
    "edns-cookie": lambda: [query(qname=Q, qtype=1, ar=1) +
                            opt(options=option(10, b"\1" * 8))],
    "edns-option-too-long": lambda: [query(qname=Q, qtype=1, ar=1) +
                                     opt(options=option(65001, b"abc", length=200))],
    "edns-option-truncated": lambda: [query(qname=Q, qtype=1, ar=1) + opt(options=b"\xfd\xe9\x00")],
    "edns-rdlen-past-end": lambda: [query(qname=Q, qtype=1, ar=1) + opt(rdlen=300)],
    "edns-version-1": lambda: [query(qname=Q, qtype=1, ar=1) + opt(version=1)],
    "edns-version-255": lambda: [query(qname=Q, qtype=1, ar=1) + opt(version=255)],
    "edns-two-opt": lambda: [query(qname=Q, qtype=1, ar=2) + opt() + opt(size=4096)],
    "edns-owner-not-root": lambda: [query(qname=Q, qtype=1, ar=1) + opt(owner=b"\x01a\0")],
    "edns-size-0": lambda: [query(qname=Q, qtype=1, ar=1) + opt(size=0)],
    "edns-size-65535": lambda: [query(qname=Q, qtype=1, ar=1) + opt(size=65535)],
    "edns-size-65535-big": lambda: [query(qname="big.default.svc.cluster.local", qtype=1, ar=1) +
                                    opt(size=65535)],
    # Sizes.
    "udp-64k-garbage": lambda: [header() + b"\x01" * 65000],
}
for _op in range(16):
    PACKETS["opcode-%d" % _op] = (lambda op: lambda: [
        query(qname=Q, qtype=1, flags=op << 11 | 0x0100)])(_op)


# Packet scenarios protocol.sh has used since the start: by default in describe()'s format.
PACKETS.update({
    "valid": lambda: [query()],
    "short": lambda: [b"", b"\x12", query()[:11]],
    "qr-set": lambda: [query(flags=0x8100)],
    "qdcount-0": lambda: [header(qd=0)],
    "qdcount-2": lambda: [query(qd=2)],
    "answer-in-query": lambda: [query(an=1)],
    "opcode-status": lambda: [query(flags=(2 << 11) | 0x0100)],
    "opcode-update": lambda: [query(flags=(5 << 11))],
    "class-ch": lambda: [query(qclass=3)],
    "class-any": lambda: [query(qclass=255)],
    "ixfr-udp": lambda: [query(qname="cluster.local", qtype=251)],
    "pointer-loop": lambda: [header() + b"\xc0\x0c" + QA],
    "forward-pointer": lambda: [header() + b"\xc0\x20" + QA + b"\0" * 20],
    "label-past-end": lambda: [header() + b"\x3fabc"],
    "name-too-long": lambda: [header() + (b"\x3f" + b"a" * 63) * 4 + b"\0" + QA],
    "garbage": lambda: [bytes(range(256)) * 4],
})


def tcp_query_then_zero(port):
    """A query and then a zero-length frame: answered, then closed."""
    s = connect(port)
    s.sendall(frame(query()) + b"\0\0")
    print(describe(tcp_read(s)))
    print(state(s, 3.0))


def valid(port):
    """'ok' when Q gets its one A record, 10.96.0.11, over UDP and over TCP."""
    want = b"\x0a\x60\x00\x0b"
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2.0)
    try:
        u.sendto(query(qname=Q, qtype=1, qid=4242), ("127.0.0.1", port))
        r = u.recv(65535)
    except socket.timeout:
        return "no UDP answer"
    if describe(r) != "id=4242 rcode=0 qr=1 tc=0 qd=1 an=1" or r[-4:] != want:
        return "UDP: " + describe(r)
    s = connect(port)
    s.sendall(frame(query(qname=Q, qtype=1, qid=4243)))
    r = tcp_read(s)
    s.close()
    if describe(r) != "id=4243 rcode=0 qr=1 tc=0 qd=1 an=1" or r[-4:] != want:
        return "TCP: " + describe(r)
    return "ok"


def main():
    """rawdns.py PORT [--detail] [--batch] SCENARIO..."""
    port, args = int(sys.argv[1]), sys.argv[2:]
    fmt, batch = describe, False
    while args[0].startswith("--"):
        fmt = detail if args[0] == "--detail" else fmt
        batch = batch or args[0] == "--batch"
        args = args[1:]
    big = "big.default.svc.cluster.local"
    streams = {
        "axfr-tcp": lambda: tcp(port, [query(qname="cluster.local", qtype=252)]),
        "tcp-pipelined": lambda: tcp(port, [query(qid=1), query(qid=2), query(qid=3)]),
        "tcp-bytewise": lambda: tcp(port, [query(qid=7), query(qid=8)], bytewise=True),
        "tcp-garbage-frame": lambda: tcp(port, [b"\xff" * 40]),
        # TCP clients that misbehave (hostile.sh).
        "tcp-silent": lambda: tcp_silent(port),
        "tcp-idle": lambda: tcp_idle(port),
        "tcp-zero-frame": lambda: tcp_frame(port, b"\0\0"),
        "tcp-query-then-zero": lambda: tcp_query_then_zero(port),
        "tcp-long-frame": lambda: tcp_frame(port, b"\0\xc8" + query()),
        "tcp-short-frame": lambda: tcp_frame(port, frame(b"\x12\x34\1"), query(qid=9)),
        "tcp-slowloris": lambda: tcp_slowloris(port),
        "tcp-no-read": lambda: tcp_no_read(port, big),
        "tcp-many": lambda: tcp_many(port),
        "tcp-flood": lambda: tcp_flood(port),
        "tcp-pipeline-100": lambda: tcp_pipeline(port),
        "udp-random": lambda: udp_random(port),
    }
    for scenario in args:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            if scenario in PACKETS:
                udp(port, PACKETS[scenario](), fmt=fmt)
            else:
                streams[scenario]()
        if not batch:
            sys.stdout.write(out.getvalue())
            continue
        for line in out.getvalue().splitlines():
            print("%s: %s" % (scenario, line))
        print("%s then: %s" % (scenario, valid(port)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
