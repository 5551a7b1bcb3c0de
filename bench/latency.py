#!/usr/bin/env python3
"""latency.py -- event-to-answer latency: an API change until petdns answers with it.

usage: PETDNS=/path/to/petdns bench/latency.py [--preset 1k] [--changes 300]
                                [--load-qps 30000] [--phases idle,load,churn]
                                [--churn 1000] [--nodelay]

Starts tests/fakeapi/fakeapi.py with the preset's cluster (bench/gencluster.py)
and petdns watching it, pinned to --server-cpu; fakeapi, this script and
dnsperf share --load-cpu. Then, per phase, applies --changes changes one at
a time through fakeapi's control port, alternating:
  add      a new ClusterIP service (POST /objects); seen when its A query
           answers the new ClusterIP
  flip     one pet's conditions.ready in its EndpointSlice (POST /objects of
           the whole slice); seen when <pet>.<svc>.<ns>.svc A answers its IP
           (ready) or NXDOMAIN (not ready)
and measures, for each, the time from the control call returning to the
first DNS answer (raw UDP from this script, one query in flight, a new one
every --poll-ms) that shows the change. Phase "idle": nothing else runs;
phase "churn": as "load", plus --churn endpoint changes a second from
bench/churn.py (rolling readiness flips in the non-headless services' slices);
phase "load": dnsperf sends the preset's query mix at --load-qps meanwhile,
at nice --load-nice (19): on a 2-core machine dnsperf shares its core with
fakeapi and this poller, and at nice 0 the figure measures mostly their wait
for that core (run with --load-nice 0 to see it).

The figure includes fakeapi's own work after the control call returns (its
watch threads write the event, in Python, concurrently with the control
reply) and up to one poll interval plus one query round trip of measurement
granularity; a change often shows at the very first poll, so the "start"
columns (from the control call's start, fakeapi's handling included) bound it
from above. fakeapi.py leaves Nagle on, which delays some events by petdns's
40 ms delayed ACK; --nodelay turns it off as a real (Go) API server does.
Prints p50/p90/p99/max per phase and kind, and the round trip of one query
just before each change: the floor, which under load is mostly the wait
behind dnsperf's queries. A poll query that gets no answer is re-sent after
200 ms. Changes not seen within --deadline s count as lost.
Python 3 standard library only.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOPSRC = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True      # no __pycache__ in the source tree
import gencluster  # noqa: E402


# ---- DNS over UDP

def qname_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def skip_name(msg, pos):
    while True:
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += n + 1


def parse(msg):
    """(id, rcode, [A addresses in the answer section])."""
    qid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
    pos = 12
    for _ in range(qd):
        pos = skip_name(msg, pos) + 4
    addrs = []
    for _ in range(an):
        pos = skip_name(msg, pos)
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(msg[pos:pos + 4]))
        pos += rdlen
    return qid, flags & 0xF, addrs


class Resolver:
    def __init__(self, port):
        self.addr = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rng = random.Random(7)

    def ask(self, name, timeout=0.2):
        """(rcode, addrs), or None on timeout. Stale answers are discarded by id."""
        qid = self.rng.randrange(65536)
        self.sock.sendto(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) +
                         qname_wire(name) + struct.pack(">HH", 1, 1), self.addr)
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                msg = self.sock.recv(4096)
            except socket.timeout:
                return None
            rid, rcode, addrs = parse(msg)
            if rid == qid:
                return rcode, addrs


# ---- fakeapi control

class Control:
    def __init__(self, port):
        self.port = port

    def call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        data = None if body is None else json.dumps(body, separators=(",", ":"))
        conn.request(method, path, body=data,
                     headers={"Content-Type": "application/json"} if data else {})
        resp = conn.getresponse()
        out = resp.read()
        conn.close()
        if resp.status >= 300:
            raise RuntimeError("control %s %s: %d %s" % (method, path, resp.status, out[:200]))
        return json.loads(out) if out else None


# ---- processes

# fakeapi.py with Nagle off on every connection it accepts. Its watch thread
# writes each event as one small send; with Nagle on, an event that follows
# a not yet acknowledged one (a bookmark, say) waits for petdns's delayed ACK.
NODELAY = ("import os, runpy, socketserver, sys\n"
           "socketserver.StreamRequestHandler.disable_nagle_algorithm = True\n"
           "sys.argv = sys.argv[1:]\n"
           "sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))\n"
           "runpy.run_path(sys.argv[0], run_name='__main__')\n")

def wait_for(pred, timeout, what, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("%s: process exited with %d" % (what, proc.returncode))
        time.sleep(0.01)
    raise RuntimeError("%s: not within %d s" % (what, timeout))


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def free_port():
    for _ in range(100):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            t.close()
            u.close()
        return port
    raise RuntimeError("no free port")


def stop(proc, sig=signal.SIGTERM, timeout=10):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---- the changes

class Changes:
    def __init__(self, cluster, rng):
        self.cluster = cluster
        self.rng = rng
        used = {s.ip for s in cluster.services if s.ip}
        self.free_ips = (str(gencluster.SERVICE_NET[o]) for o in
                         range(gencluster.SERVICE_NET.num_addresses - 2, 16, -1)
                         if str(gencluster.SERVICE_NET[o]) not in used)
        self.n_added = 0
        # Pets, each with its slice (as the state holds it) and endpoint index.
        self.pets = []
        for s in cluster.services:
            if not s.headless:
                continue
            for obj in cluster.slice_objs(s):
                for i, ep in enumerate(obj["endpoints"] or []):
                    if ep.get("hostname"):
                        self.pets.append((s, obj, i))
        rng.shuffle(self.pets)
        self.next_pet = 0

    def add(self):
        c = self.cluster
        ns = self.rng.choice([n for n in c.namespaces if n not in ("default", "kube-system")])
        s = gencluster.Service()
        s.ns, s.name, s.headless, s.ip = ns, "lat-%d" % self.n_added, False, next(self.free_ips)
        s.ports, s.endpoints, s.uid, s.template = [("http", 80, "TCP", 8080)], [], gencluster.uid("lat", ns, s.name), None
        self.n_added += 1
        name = "%s.%s.svc.%s" % (s.name, ns, gencluster.ZONE)
        want = s.ip
        return (c.service_obj(s), name,
                lambda r: r is not None and r[0] == 0 and want in r[1],
                lambda r: r is not None and r[0] == 3)

    def flip(self):
        s, obj, i = self.pets[self.next_pet % len(self.pets)]
        self.next_pet += 1
        ep = obj["endpoints"][i]
        ready = not ep["conditions"]["ready"]
        ep["conditions"]["ready"] = ep["conditions"]["serving"] = ready
        name = "%s.%s.%s.svc.%s" % (ep["hostname"], s.name, s.ns, gencluster.ZONE)
        ip = ep["addresses"][0]
        if ready:
            seen = lambda r: r is not None and r[0] == 0 and ip in r[1]      # noqa: E731
            before = lambda r: r is not None and r[0] == 3                   # noqa: E731
        else:
            seen = lambda r: r is not None and r[0] == 3                     # noqa: E731
            before = lambda r: r is not None and r[0] == 0 and ip in r[1]    # noqa: E731
        return json.loads(json.dumps(obj)), name, seen, before


def measure(ctl, res, change, poll_s, deadline_s):
    """(kind, latency_s or None, control call s, polls, probe rtt s,
    wall clock at the control call's start, wall clock when seen or None)."""
    kind, (obj, name, seen, before) = change
    for _ in range(5):      # a probe lost under load is asked again
        q0 = time.monotonic()
        r = res.ask(name, timeout=1.0)
        rtt = time.monotonic() - q0
        if r is not None:
            break
    if not before(r):
        raise RuntimeError("%s %s: unexpected answer before the change: %r" % (kind, name, r))
    wall = time.time() - time.monotonic()
    c0 = time.monotonic()
    ctl.call("POST", "/objects", obj)
    t0 = time.monotonic()
    polls = 0
    while True:
        sent = time.monotonic()
        if sent - t0 > deadline_s:
            return kind, None, t0 - c0, polls, rtt, c0 + wall, None
        r = res.ask(name, timeout=0.2)
        polls += 1
        if seen(r):
            t = time.monotonic()
            return kind, t - t0, t0 - c0, polls, rtt, c0 + wall, t + wall
        pause = sent + poll_s - time.monotonic()
        if pause > 0:
            time.sleep(pause)


def rss_kib(pid):
    for line in read("/proc/%d/status" % pid).splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def psi_us():
    """Microseconds some task waited for a CPU (PSI): other sessions' load shows here."""
    try:
        with open("/proc/pressure/cpu") as f:
            return int(f.readline().split("total=")[1])
    except (OSError, IndexError, ValueError):
        return 0


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def report(phase, results, extra):
    print("%-5s %-5s %5s %8s %8s %8s %8s %8s %6s | %9s %9s %9s" % (
        "phase", "kind", "n", "p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms", "lost",
        "ctl_p50", "start_p50", "start_p99"))
    for kind in ("add", "flip", "all"):
        rs = [r for r in results if kind == "all" or r[0] == kind]
        lat = sorted(r[1] * 1e3 for r in rs if r[1] is not None)
        start = sorted((r[1] + r[2]) * 1e3 for r in rs if r[1] is not None)
        lost = sum(1 for r in rs if r[1] is None)
        ctl = sorted(r[2] * 1e3 for r in rs)
        print("%-5s %-5s %5d %8.2f %8.2f %8.2f %8.2f %8.2f %6d | %9.2f %9.2f %9.2f" % (
            phase, kind, len(rs), pct(lat, 50), pct(lat, 90), pct(lat, 99),
            lat[-1] if lat else float("nan"), sum(lat) / len(lat) if lat else float("nan"),
            lost, pct(ctl, 50), pct(start, 50), pct(start, 99)))
    polls = sum(r[3] for r in results) / max(1, len(results))
    first = sum(1 for r in results if r[3] == 1)
    rtt = sorted(r[4] * 1e3 for r in results)
    print("# %s: %.1f DNS polls per change on average, %d of %d seen at the first poll; "
          "one query's round trip before each change (the floor): p50 %.2f ms, p99 %.2f ms%s" % (
              phase, polls, first, len(results), pct(rtt, 50), pct(rtt, 99), extra))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="1k", choices=sorted(gencluster.PRESETS))
    ap.add_argument("--changes", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=10, help="changes made first and not counted")
    ap.add_argument("--phases", default="idle,load",
                    help="idle, load, churn (load plus --churn endpoint changes a second)")
    ap.add_argument("--churn", type=float, default=1000,
                    help="phase churn: endpoint changes per second (bench/churn.py, headless "
                         "services left to the probes)")
    ap.add_argument("--load-qps", type=int, default=30000)
    ap.add_argument("--load-nice", type=int, default=19,
                    help="run dnsperf at this nice level, so fakeapi and the poller on the same core go first")
    ap.add_argument("--poll-ms", type=float, default=0.5)
    ap.add_argument("--deadline", type=float, default=10.0)
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--load-cpu", default="1")
    ap.add_argument("--petdns", default=os.environ.get("PETDNS", os.path.join(TOPSRC, "build", "petdns")))
    ap.add_argument("--fakeapi", default=os.environ.get("FAKEAPI", os.path.join(TOPSRC, "tests", "fakeapi", "fakeapi.py")))
    ap.add_argument("--nodelay", action="store_true",
                    help="run fakeapi with TCP_NODELAY on its connections, as Go's net/http does")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    a = ap.parse_args()
    for tool in ("taskset", "dnsperf"):
        if shutil.which(tool) is None:
            sys.exit("latency.py: %s is not installed" % tool)
    if not os.access(a.petdns, os.X_OK):
        sys.exit("latency.py: no petdns at %s (set PETDNS or --petdns)" % a.petdns)

    work = tempfile.mkdtemp(prefix="bench-latency.", dir="/tmp")
    procs = []
    try:
        os.sched_setaffinity(0, {int(x) for x in a.load_cpu.split(",")})
        cluster = gencluster.Cluster(a.preset, 1)
        state = os.path.join(work, "state.json")
        gencluster.write_fakeapi(cluster, state)
        queries = os.path.join(work, "queries.txt")
        gencluster.write_queries(cluster, queries, 100000, 1)

        launcher = [sys.executable, a.fakeapi]
        if a.nodelay:
            launcher = [sys.executable, "-c", NODELAY, a.fakeapi]
        fa = subprocess.Popen(["taskset", "-c", a.load_cpu] + launcher + ["--port", "0",
                               "--port-file", os.path.join(work, "port"),
                               "--control-port-file", os.path.join(work, "cport"),
                               "--state", state],
                              stdout=open(os.path.join(work, "fakeapi.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(fa)
        api_port = int(wait_for(lambda: read(os.path.join(work, "port")).strip(), 300, "fakeapi", fa))
        ctl = Control(int(read(os.path.join(work, "cport")).strip()))

        dns_port = free_port()
        core = os.path.join(work, "Corefile")
        with open(core, "w") as f:
            f.write("cluster.local:%d in-addr.arpa:%d {\n    kubernetes cluster.local in-addr.arpa {\n"
                    "        endpoint http://127.0.0.1:%d\n    }\n}\n" % (dns_port, dns_port, api_port))
        log = os.path.join(work, "petdns.log")
        pd = subprocess.Popen(["taskset", "-c", a.server_cpu, a.petdns, "-conf", core],
                              stdout=open(log, "w"), stderr=subprocess.STDOUT)
        procs.append(pd)
        line = wait_for(lambda: re.search(r".*all reflectors synced.*", read(log)), 600, "petdns sync", pd)
        ctl.call("POST", "/wait", {"watches": {"services": 1, "endpointslices": 1}, "timeout": 30})
        print("# %s, %d cores; preset %s; petdns on cpu %s, fakeapi+dnsperf+poller on cpu %s; "
              "poll every %.1f ms; fakeapi TCP_NODELAY %s; load %d qps at nice %d" % (
                  time.strftime("%Y-%m-%d"), os.cpu_count(), a.preset, a.server_cpu, a.load_cpu,
                  a.poll_ms, "on" if a.nodelay else "off (as fakeapi.py ships)",
                  a.load_qps, a.load_nice))
        print("# latency columns: from the control call's return; ctl = the call itself; "
              "start = from the call's start (includes fakeapi's handling)")
        print("# " + line.group(0).strip())
        print("# petdns RSS after sync: %.1f MiB" % (rss_kib(pd.pid) / 1024))

        res = Resolver(dns_port)
        changes = Changes(cluster, random.Random(11))
        kinds = ("add", "flip")
        n = 0

        def next_change():
            nonlocal n
            kind = kinds[n % 2]
            n += 1
            return kind, changes.add() if kind == "add" else changes.flip()

        for _ in range(a.warmup):
            measure(ctl, res, next_change(), a.poll_ms / 1e3, a.deadline)
        for phase in a.phases.split(","):
            perf = churn = None
            if phase in ("load", "churn"):
                out = open(os.path.join(work, "dnsperf.txt"), "w")
                perf = subprocess.Popen(["nice", "-n", str(a.load_nice),
                                         "taskset", "-c", a.load_cpu, "dnsperf", "-s", "127.0.0.1",
                                         "-p", str(dns_port), "-d", queries, "-l", "3600",
                                         "-Q", str(a.load_qps), "-c", "4", "-q", "500"],
                                        stdout=out, stderr=subprocess.STDOUT)
                procs.append(perf)
                if phase == "churn":
                    ready = os.path.join(work, "churn.ready")
                    churn = subprocess.Popen(["taskset", "-c", a.load_cpu, sys.executable,
                                              os.path.join(HERE, "churn.py"),
                                              "--control-port", str(ctl.port),
                                              "--rate", str(a.churn), "--exclude-headless",
                                              "--ready-file", ready,
                                              "--stats", os.path.join(work, "churn.json")],
                                             stdout=subprocess.DEVNULL)
                    procs.append(churn)
                    wait_for(lambda: os.path.exists(ready), 300, "churn.py", churn)
                time.sleep(2)
            elif phase != "idle":
                sys.exit("latency.py: unknown phase %s" % phase)
            p0, w0 = psi_us(), time.monotonic()
            results = [measure(ctl, res, next_change(), a.poll_ms / 1e3, a.deadline)
                       for _ in range(a.changes)]
            extra = "; CPU pressure %.0f%%" % ((psi_us() - p0) / 1e4 / (time.monotonic() - w0))
            if churn is not None:
                stop(churn)
                st = json.loads(read(os.path.join(work, "churn.json")) or "{}")
                extra += "; churn %s endpoint changes/s (asked %g), a tick's writes p99 %s ms" % (
                    st.get("rate", "?"), a.churn, st.get("tick_ms_p99", "?"))
            if perf is not None:
                stop(perf, signal.SIGINT)
                txt = read(os.path.join(work, "dnsperf.txt"))
                qps = re.search(r"Queries per second:\s+([\d.]+)", txt)
                lost = re.search(r"Queries lost:\s+(\d+ \([\d.]+%\))", txt)
                extra += "; dnsperf meanwhile: %s qps (asked %d), lost %s" % (
                    qps.group(1) if qps else "?", a.load_qps, lost.group(1) if lost else "?")
            report(phase, results, extra + "; petdns RSS now %.1f MiB" % (rss_kib(pd.pid) / 1024))
    finally:
        for p in reversed(procs):
            stop(p)
        if a.keep:
            print("# kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
