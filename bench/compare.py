#!/usr/bin/env python3
"""compare.py -- petdns against knotd, side by side, on the same records.

usage: PETDNS=/path/to/petdns bench/compare.py [--presets 1k,100k] [--rounds 6]
            [--seconds 4] [--workers 1,2] [--transports udp,tcp] [--ready-rounds 3]
            [--churn-rate 1000] [--probes 150] [--out DIR] [--quick]
(bench/compare.sh installs knot, dnsperf and gnuplot first, then runs this.)

For each preset of bench/gencluster.py:
  1. fakeapi (tests/fakeapi/fakeapi.py, TCP_NODELAY on as a Go API server has
     it) holds the cluster; `petdns -zone-dump` on the same objects as
     manifests (local mode: -zone-dump stops waiting for the API after 30 s)
     writes the records, split into an RFC 1035 zone file per zone for knotd,
     so both servers serve the same records. The dump's record count must
     equal the count in the API-fed petdns's "all reflectors synced" log line
     (else the run stops); a sample of the query
     mix is asked of both and the answers compared (rcode, AA, answer RRsets;
     additional sections only counted).
  2. start to ready, interleaved over --ready-rounds: knotd from its start
     until it answers a name of each zone (zone load); petdns from its start
     against fakeapi until /ready says 200 (fakeapi's Python serves the LIST
     pages meanwhile: the time fakeapi alone takes for them is printed too)
     and the CPU seconds each server used until then.
  3. memory: VmRSS and PSS (/proc/PID/smaps_rollup) of both, synced, idle.
  4. throughput: dnsperf (pinned to --load-cpu; -c 4 -q 100) runs for
     --seconds against each server (pinned to --server-cpu) in turn, A/B then
     B/A, --rounds times, over UDP and TCP, with knotd at udp-workers =
     tcp-workers = W for each W of --workers. petdns has no option for worker
     threads: it always runs its one thread, labelled so. The figure is
     queries answered per server CPU-second (utime+stime of the server's
     process from /proc/PID/stat before and after the run; all threads), not
     wall qps, so other work on the machine moves it less; the ratio is taken
     per round (petdns / knotd, adjacent runs), then the median.
     Lost queries, SERVFAILs and drops counted on the server's UDP sockets
     (/proc/net/udp) are reported per run.
  5. churn (petdns only; knotd has no API to follow): --churn-rate endpoint
     changes per second (bench/churn.py starts fakeapi's own churn: rolling
     not-ready/ready flips, each changed EndpointSlice rewritten whole) while
     dnsperf runs at full speed, in windows alternating without and with
     churn, and the churn alone: what a saturated petdns would lose, the
     larger of the core share the changes take and the drop of queries
     answered per petdns CPU-second (the unit of the throughput targets);
     dnsperf's own rate drop is printed beside it, with the CPU dnsperf and
     fakeapi (on one core) used, since what fakeapi takes dnsperf loses. Then,
     with dnsperf at half of petdns's measured UDP rate and the churn on,
     --probes changes (bench/latency.py's: a new service, a pet's readiness)
     timed from the control call's return to the first answer showing them
     (p50/p99), with a baseline without churn.
Prints a table, writes DIR/compare-<date>.json and .txt and, with gnuplot,
DIR/compare.png. Scratch files go to /tmp/bench-compare.*; only the
processes started here are stopped.
Python 3 standard library only, plus dnsperf, knotd, taskset (and gnuplot).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOPSRC = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import gencluster  # noqa: E402
import latency  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
ZONES = ("cluster.local", "in-addr.arpa")
PROCS = []


def log(msg):
    print("# " + msg, flush=True)


# ---- /proc

def cpu_s(pid):
    f = latency.read("/proc/%d/stat" % pid).rsplit(")", 1)[-1].split()
    return (int(f[11]) + int(f[12])) / HZ if len(f) > 12 else float("nan")


def mem_kib(pid):
    rss = next((int(l.split()[1]) for l in latency.read("/proc/%d/status" % pid).splitlines()
                if l.startswith("VmRSS:")), 0)
    pss = next((int(l.split()[1]) for l in latency.read("/proc/%d/smaps_rollup" % pid).splitlines()
                if l.startswith("Pss:")), 0)
    return rss, pss


def udp_drops(port):
    """Datagrams dropped on the UDP sockets bound to port (all of them: reuseport)."""
    n = 0
    for line in latency.read("/proc/net/udp").splitlines()[1:]:
        f = line.split()
        if len(f) > 12 and int(f[1].split(":")[1], 16) == port:
            n += int(f[-1])
    return n


def psi_total():
    return latency.psi_us()


# ---- processes

def spawn(cmd, logpath, cpu):
    p = subprocess.Popen(["taskset", "-c", str(cpu)] + cmd, stdout=open(logpath, "w"),
                         stderr=subprocess.STDOUT)
    PROCS.append(p)
    return p


def stop(p, sig=signal.SIGTERM, timeout=10):
    latency.stop(p, sig, timeout)
    if p in PROCS:
        PROCS.remove(p)


def start_fakeapi(a, work, state):
    for f in ("port", "cport"):
        if os.path.exists(os.path.join(work, f)):
            os.unlink(os.path.join(work, f))
    nodelay = ("import os, runpy, socketserver, sys\n"
               "socketserver.StreamRequestHandler.disable_nagle_algorithm = True\n"
               "sys.argv = sys.argv[1:]\n"
               "sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))\n"
               "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    t0 = time.monotonic()
    p = spawn([sys.executable, "-c", nodelay, a.fakeapi, "--port", "0",
               "--port-file", os.path.join(work, "port"),
               "--control-port-file", os.path.join(work, "cport"),
               "--state", state] + a.fakeapi_args, os.path.join(work, "fakeapi.log"), a.load_cpu)
    port = int(latency.wait_for(lambda: latency.read(os.path.join(work, "port")).strip(),
                                900, "fakeapi", p))
    cport = int(latency.read(os.path.join(work, "cport")).strip())
    log("fakeapi loaded the state in %.1f s" % (time.monotonic() - t0))
    return p, port, cport


def list_time(a, api_port):
    """Seconds fakeapi alone takes for the paged LISTs petdns makes (limit 500).
    The client runs on the server's core, idle then, not on fakeapi's, and reads
    only the continue token from each page's head."""
    import http.client
    import urllib.parse
    token = re.compile(rb'"continue":"([^"]*)"')
    os.sched_setaffinity(0, {a.server_cpu})
    try:
        t0 = time.monotonic()
        for path in ("/api/v1/namespaces", "/api/v1/services",
                     "/apis/discovery.k8s.io/v1/endpointslices"):
            cont = None
            while True:
                c = http.client.HTTPConnection("127.0.0.1", api_port, timeout=300)
                c.request("GET", path + "?limit=500" +
                          ("&continue=" + urllib.parse.quote(cont) if cont else ""))
                body = c.getresponse().read()
                c.close()
                m = token.search(body[:4096])
                cont = m.group(1).decode() if m and m.group(1) else None
                if not cont:
                    break
        return time.monotonic() - t0
    finally:
        os.sched_setaffinity(0, {a.load_cpu})


def kubeadm_corefile(path, dns_port, api_port, ready_port):
    """kubeadm's default Corefile (tests/data/corefile/kubeadm.Corefile) as an
    operator replacing CoreDNS would run it: cache 30, prometheus, errors,
    loadbalance, loop, reload and all; only its ports, the API endpoint and
    the upstream (a port nobody listens on: the mix never leaves the cluster
    zones) differ."""
    text = latency.read(os.path.join(TOPSRC, "tests", "data", "corefile", "kubeadm.Corefile"))
    subs = [(".:53 {", ".:%d {" % dns_port),
            ("health {", "health 127.0.0.1:%d {" % latency.free_port()),
            ("    ready\n", "    ready 127.0.0.1:%d\n" % ready_port),
            ("ip6.arpa {\n", "ip6.arpa {\n       endpoint http://127.0.0.1:%d\n" % api_port),
            ("prometheus :9153", "prometheus 127.0.0.1:%d" % latency.free_port()),
            ("forward . /etc/resolv.conf", "forward . 127.0.0.1:9")]
    for old, new in subs:
        if old not in text:
            raise RuntimeError("kubeadm.Corefile has no %r any more" % old)
        text = text.replace(old, new, 1)
    with open(path, "w") as f:
        f.write(text)


def petdns_corefile(path, dns_port, api_port, ready_port):
    with open(path, "w") as f:
        f.write("cluster.local:%d in-addr.arpa:%d {\n    ready 127.0.0.1:%d\n"
                "    kubernetes cluster.local in-addr.arpa {\n"
                "        endpoint http://127.0.0.1:%d\n    }\n}\n"
                % (dns_port, dns_port, ready_port, api_port))


def knot_conf(work, dns_port, workers):
    d = os.path.join(work, "knot")
    os.makedirs(os.path.join(d, "db"), exist_ok=True)
    path = os.path.join(d, "knot-%d.conf" % workers)
    zones = "".join("  - domain: %s\n    file: %s.zone\n" % (z, z) for z in ZONES)
    with open(path, "w") as f:
        f.write("server:\n    rundir: %s\n    listen: 127.0.0.1@%d\n"
                "    udp-workers: %d\n    tcp-workers: %d\n    background-workers: 1\n"
                "database:\n    storage: %s/db\n"
                "log:\n  - target: stderr\n    any: info\n"
                "template:\n  - id: default\n    storage: %s\n    semantic-checks: off\n"
                "    journal-content: none\n    zonefile-sync: -1\n    zonefile-load: whole\n"
                "zone:\n%s" % (d, dns_port, workers, workers, d, d, zones))
    return path


def zone_dump(a, work, cluster):
    """Runs petdns -zone-dump on the cluster's manifests (objects and slices as
    fakeapi serves them); writes a zone file per zone; the count. Not against
    fakeapi: -zone-dump gives up after 30 s and dumps what it has (a warning on
    stderr, exit 0), and fakeapi's Python LISTs take longer than that at 100k on
    a busy machine. The caller checks the count against the API-synced petdns."""
    mdir = os.path.join(work, "manifests")
    gencluster.write_manifests(cluster, mdir, "json", True)
    core = os.path.join(work, "Corefile.dump")
    port = latency.free_port()
    with open(core, "w") as f:
        f.write("cluster.local:%d in-addr.arpa:%d {\n    kubernetes cluster.local in-addr.arpa {\n"
                "        manifests %s\n    }\n}\n" % (port, port, mdir))
    t0 = time.monotonic()
    run = subprocess.run(["taskset", "-c", str(a.server_cpu), a.petdns, "-conf", core,
                          "-zone-dump"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    out = run.stdout.decode()
    warn = [l for l in run.stderr.decode().splitlines() if "WARN" in l or "ERROR" in l]
    if warn:
        raise RuntimeError("petdns -zone-dump: %s" % "; ".join(warn[:3]))
    shutil.rmtree(mdir, ignore_errors=True)
    lines = [l for l in out.splitlines() if l and not l.startswith(";")]
    files = {z: open(os.path.join(work, "knot", "%s.zone" % z), "w") for z in ZONES}
    counts = dict.fromkeys(ZONES, 0)
    for l in lines:
        owner = l.split(None, 1)[0].lower()
        z = "in-addr.arpa" if owner.endswith("in-addr.arpa.") else "cluster.local"
        files[z].write(l + "\n")
        counts[z] += 1
    for f in files.values():
        f.close()
    types = {}
    for l in lines:
        t = l.split("\t")[3] if l.count("\t") >= 4 else l.split()[3]
        types[t] = types.get(t, 0) + 1
    log("zone dump: %d records (%s) in %.1f s; %s" % (
        len(lines), ", ".join("%s %d" % kv for kv in counts.items()),
        time.monotonic() - t0, ", ".join("%s %d" % kv for kv in sorted(types.items()))))
    return len(lines), counts, types


# ---- DNS: a parser good enough to compare two servers' answers

def read_name(msg, pos):
    labels, jumped, end = [], False, pos
    for _ in range(128):
        n = msg[pos]
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = pos + 2
            pos, jumped = ((n & 0x3F) << 8) | msg[pos + 1], True
            continue
        if n == 0:
            if not jumped:
                end = pos + 1
            break
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace").lower())
        pos += n + 1
    return ".".join(labels) + ".", end


def rdata_text(msg, t, pos, rdlen):
    if t == 1:
        return socket.inet_ntoa(msg[pos:pos + 4])
    if t == 28:
        return socket.inet_ntop(socket.AF_INET6, msg[pos:pos + 16])
    if t in (2, 5, 12):
        return read_name(msg, pos)[0]
    if t == 33:
        p, w, port = struct.unpack(">HHH", msg[pos:pos + 6])
        return "%d %d %d %s" % (p, w, port, read_name(msg, pos + 6)[0])
    if t == 6:
        return "SOA"            # serials differ between two petdns instances
    return msg[pos:pos + rdlen].hex()


def parse_full(msg):
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", msg[:12])
    pos = 12
    for _ in range(qd):
        pos = read_name(msg, pos)[1] + 4
    secs = []
    for count in (an, ns, ar):
        rrs = []
        for _ in range(count):
            owner, pos = read_name(msg, pos)
            t, _, ttl, rdlen = struct.unpack(">HHIH", msg[pos:pos + 10])
            pos += 10
            if t != 41:
                rrs.append((owner, t, rdata_text(msg, t, pos, rdlen)))
            pos += rdlen
        secs.append(sorted(rrs))
    return {"rcode": flags & 0xF, "aa": bool(flags & 0x400), "tc": bool(flags & 0x200),
            "an": secs[0], "ns": sorted((o, t) for o, t, _ in secs[1]), "ar": secs[2]}


QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "TXT": 16, "AAAA": 28, "SRV": 33}


def ask_full(port, name, qtype, sock, qid, timeout=1.0, tries=3):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + latency.qname_wire(name) + \
        struct.pack(">HH", QTYPES[qtype], 1)
    for _ in range(tries):
        sock.sendto(q, ("127.0.0.1", port))
        sock.settimeout(timeout)
        try:
            while True:
                msg = sock.recv(65535)
                if struct.unpack(">H", msg[:2])[0] == qid:
                    return parse_full(msg)
        except socket.timeout:
            continue
    return None


def compare_answers(queries, n, p_port, k_port):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    same = diff_ar = 0
    bad = []
    with open(queries) as f:
        qs = [l.split() for _, l in zip(range(n), f)]
    for i, (name, qt) in enumerate(qs):
        a = ask_full(p_port, name, qt, sock, (2 * i) & 0xFFFF)
        b = ask_full(k_port, name, qt, sock, (2 * i + 1) & 0xFFFF)
        if a is None or b is None:
            bad.append((name, qt, "no answer from %s" % ("petdns" if a is None else "knotd")))
            continue
        key = ("rcode", "aa", "tc", "an", "ns")
        if all(a[k] == b[k] for k in key):
            same += 1
            if a["ar"] != b["ar"]:
                diff_ar += 1
        else:
            bad.append((name, qt, {k: (a[k], b[k]) for k in key if a[k] != b[k]}))
    return {"asked": len(qs), "same": same, "different": len(bad),
            "additional_differs": diff_ar, "examples": [repr(b)[:300] for b in bad[:5]]}


def answers(port, name, qtype="A"):
    """True when the server answers name with NOERROR and some answer (5 ms wait:
    a datagram sent before the server binds its port is lost without a word)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        r = ask_full(port, name, qtype, s, 4242, timeout=0.005, tries=1)
    finally:
        s.close()
    return r is not None and r["rcode"] == 0 and bool(r["an"])


# ---- the servers

class Knot:
    name = "knotd"

    def __init__(self, a, work, port, probes):
        self.a, self.work, self.port, self.probes = a, work, port, probes
        self.proc, self.workers = None, None

    def start(self, workers):
        """Starts knotd; returns (seconds until it answers every probe, CPU s then)."""
        self.stop()
        conf = knot_conf(self.work, self.port, workers)
        t0 = time.monotonic()
        self.proc = spawn(["knotd", "-c", conf], os.path.join(self.work, "knot", "knotd.log"),
                          self.a.server_cpu)
        left = list(self.probes)
        while left:
            if self.proc.poll() is not None:
                raise RuntimeError("knotd exited: see %s/knot/knotd.log" % self.work)
            if answers(self.port, *left[0]):
                left.pop(0)
            else:
                time.sleep(0.002)
        self.workers = workers
        return time.monotonic() - t0, cpu_s(self.proc.pid)

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    @property
    def pid(self):
        return self.proc.pid


class Petdns:
    name = "petdns"

    def __init__(self, a, work, port, api_port, kubeadm=False):
        self.a, self.work, self.port = a, work, port
        self.ready_port = latency.free_port()
        if kubeadm:
            self.name = "petdns-kubeadm"
            self.work = os.path.join(work, "kubeadm")
            os.makedirs(self.work, exist_ok=True)
        self.core = os.path.join(self.work, "Corefile")
        (kubeadm_corefile if kubeadm else petdns_corefile)(self.core, port, api_port,
                                                           self.ready_port)
        self.proc = None
        self.records = None

    def start(self, probes):
        """Starts petdns; returns (s until /ready is 200, CPU s then, s until it answers probes)."""
        self.stop()
        logpath = os.path.join(self.work, "petdns.log")
        t0 = time.monotonic()
        self.proc = spawn([self.a.petdns, "-conf", self.core], logpath, self.a.server_cpu)
        url = "http://127.0.0.1:%d/ready" % self.ready_port
        ready = None
        while ready is None:
            if self.proc.poll() is not None:
                raise RuntimeError("petdns exited: see %s" % logpath)
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        ready = time.monotonic() - t0
            except (OSError, ValueError):
                time.sleep(0.02)
        cpu = cpu_s(self.proc.pid)
        left = list(probes)
        while left:
            if answers(self.port, *left[0]):
                left.pop(0)
            else:
                time.sleep(0.002)
        answered = time.monotonic() - t0
        m = re.search(r"all reflectors synced: .*: (\d+) records", latency.read(logpath))
        self.records = int(m.group(1)) if m else None
        return ready, cpu, answered

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    @property
    def pid(self):
        return self.proc.pid


# ---- dnsperf

def dnsperf(a, port, queries, seconds, mode="udp", qps=None, nice=0):
    cmd = ["taskset", "-c", str(a.load_cpu), "dnsperf", "-s", "127.0.0.1", "-p", str(port),
           "-d", queries, "-l", str(seconds), "-c", str(a.clients), "-q", str(a.outstanding),
           "-m", mode]
    if qps:
        cmd += ["-Q", str(int(qps))]
    if nice:
        cmd = ["nice", "-n", str(nice)] + cmd
    return cmd


def parse_dnsperf(txt):
    def num(pat, default=0.0):
        m = re.search(pat, txt)
        return float(m.group(1)) if m else default
    codes = {}
    m = re.search(r"Response codes:\s+(.*)", txt)
    if m:
        for code, n in re.findall(r"([A-Z]+) (\d+)", m.group(1)):
            codes[code] = int(n)
    return {"sent": int(num(r"Queries sent:\s+(\d+)")),
            "completed": int(num(r"Queries completed:\s+(\d+)")),
            "lost": int(num(r"Queries lost:\s+(\d+)")),
            "interrupted": int(num(r"Queries interrupted:\s+(\d+)")),
            "qps": num(r"Queries per second:\s+([\d.]+)"),
            "codes": codes}


def perf_run(a, server, queries, mode, work, tag, qps=None, seconds=None):
    """One dnsperf run against a running server (at qps, else full speed): the figures."""
    c0, d0, p0, t0 = cpu_s(server.pid), udp_drops(server.port), psi_total(), time.monotonic()
    l0 = os.times()
    out = subprocess.run(dnsperf(a, server.port, queries, seconds or a.seconds, mode, qps=qps),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode()
    l1 = os.times()
    c1, d1, p1, t1 = cpu_s(server.pid), udp_drops(server.port), psi_total(), time.monotonic()
    with open(os.path.join(work, "dnsperf-%s.txt" % tag), "w") as f:
        f.write(out)
    r = parse_dnsperf(out)
    cpu = c1 - c0
    r.update({"server": server.name, "mode": mode, "cpu_s": round(cpu, 2),
              "q_per_cpu_s": r["completed"] / cpu if cpu > 0 else float("nan"),
              "drops": d1 - d0, "servfail": r["codes"].get("SERVFAIL", 0),
              "nxdomain_pct": 100.0 * r["codes"].get("NXDOMAIN", 0) / max(1, r["completed"]),
              "psi_pct": (p1 - p0) / 1e4 / (t1 - t0), "busy_pct": 100.0 * cpu / (t1 - t0),
              "load_busy_pct": 100.0 * ((l1.children_user + l1.children_system) -
                                        (l0.children_user + l0.children_system)) / (t1 - t0)})
    return r


def stop_dnsperf(p):
    """SIGINT: dnsperf then prints its statistics (SIGTERM would not)."""
    stop(p, signal.SIGINT, 30)


def median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


# ---- churn

def churn_start(a, work, cport, tag):
    stats = os.path.join(work, "churn-%s.json" % tag)
    ready = os.path.join(work, "churn-%s.ready" % tag)
    for f in (stats, ready):
        if os.path.exists(f):
            os.unlink(f)
    p = spawn([sys.executable, os.path.join(HERE, "churn.py"), "--control-port", str(cport),
               "--rate", str(a.churn_rate), "--exclude-headless",
               "--stats", stats, "--ready-file", ready], os.path.join(work, "churn-%s.log" % tag),
              a.load_cpu)
    latency.wait_for(lambda: os.path.exists(ready), 300, "churn.py", p)
    time.sleep(1.0)     # into its stride
    return p, stats


def churn_stop(p, stats):
    stop(p, signal.SIGTERM, 120)    # it restores what it took down, then prints
    try:
        return json.loads(latency.read(stats))
    except ValueError:
        return {}


def churn_windows(a, work, preset, pd, fa, cport, queries, tag, qps=None):
    """dnsperf windows without and with churn, alternating (at qps, else full speed)."""
    windows = {"quiet": [], "churn": [], "churn_stats": []}
    for r in range(a.churn_rounds):
        for kind in ("quiet", "churn") if r % 2 == 0 else ("churn", "quiet"):
            ch = churn_start(a, work, cport, "%s%d" % (tag, r)) if kind == "churn" else None
            f0, t0 = cpu_s(fa.pid), time.monotonic()
            run = perf_run(a, pd, queries, "udp", work, "%s-churn%s-%s-%d" % (preset, tag, kind, r),
                           qps=qps, seconds=a.churn_seconds)
            run["fakeapi_busy_pct"] = 100.0 * (cpu_s(fa.pid) - f0) / (time.monotonic() - t0)
            if ch is not None:
                run["churn"] = churn_stop(*ch)
                windows["churn_stats"].append(run["churn"])
            windows[kind].append(run)
            time.sleep(0.5)
    return windows


def window_drop(windows, key):
    """Medians of key without and with churn, and the median drop of adjacent pairs (%)."""
    q = [w[key] for w in windows["quiet"]]
    c = [w[key] for w in windows["churn"]]
    return median(q), median(c), 100.0 * (1 - median([cc / qq for cc, qq in zip(c, q)]))


def churn_phase(a, work, preset, cluster, pd, fa, cport, queries, udp_qps):
    res = {}
    # The query rate without and with churn, alternating, dnsperf at full speed.
    windows = churn_windows(a, work, preset, pd, fa, cport, queries, "qps")
    res["qps_quiet"], res["qps_churn"], res["qps_drop_pct"] = window_drop(windows, "qps")
    res["qpcpu_quiet"], res["qpcpu_churn"], res["qpcpu_drop_pct"] = window_drop(
        windows, "q_per_cpu_s")
    for k in ("busy", "load_busy", "fakeapi_busy"):
        res[k + "_quiet"] = median([w[k + "_pct"] for w in windows["quiet"]])
        res[k + "_churn"] = median([w[k + "_pct"] for w in windows["churn"]])
    res["churn_rate"] = median([s.get("rate", float("nan")) for s in windows["churn_stats"]])
    res["lost"] = sum(w["lost"] for w in windows["quiet"] + windows["churn"])
    res["servfail"] = sum(w["servfail"] for w in windows["quiet"] + windows["churn"])
    res["runs"] = windows["quiet"] + windows["churn"]
    log("churn: qps %.0f / %.0f (drop %.1f%%), q per petdns CPU-s %.0f / %.0f (drop %.1f%%), "
        "quiet / churn %s/s; busy: petdns %.0f%% / %.0f%%, dnsperf %.0f%% / %.0f%%, fakeapi %.0f%% / "
        "%.0f%%" % (res["qps_quiet"], res["qps_churn"], res["qps_drop_pct"], res["qpcpu_quiet"],
                    res["qpcpu_churn"], res["qpcpu_drop_pct"], res["churn_rate"], res["busy_quiet"],
                    res["busy_churn"], res["load_busy_quiet"], res["load_busy_churn"],
                    res["fakeapi_busy_quiet"], res["fakeapi_busy_churn"]))

    # The same, dnsperf at one fixed rate in both windows: a query's CPU
    # depends on the offered load (batches, wakeups), and at full speed the
    # churn's maker takes dnsperf's CPU, so the windows above differ in load
    # as well as in churn. At equal load, what remains is what the churn
    # makes a query cost.
    fixed = int(res["qps_quiet"] * a.churn_fixed)
    eq = churn_windows(a, work, preset, pd, fa, cport, queries, "eq", qps=fixed)
    res["eq_qps_asked"] = fixed
    res["eq_qps_quiet"], res["eq_qps_churn"], _ = window_drop(eq, "qps")
    res["eq_qpcpu_quiet"], res["eq_qpcpu_churn"], res["eq_qpcpu_drop_pct"] = window_drop(
        eq, "q_per_cpu_s")
    res["eq_runs"] = eq["quiet"] + eq["churn"]
    log("churn at an equal %d qps: answered %.0f / %.0f qps, q per petdns CPU-s %.0f / %.0f "
        "(drop %.1f%%)" % (fixed, res["eq_qps_quiet"], res["eq_qps_churn"], res["eq_qpcpu_quiet"],
                           res["eq_qpcpu_churn"], res["eq_qpcpu_drop_pct"]))

    # What one endpoint change costs petdns: churn alone, no queries.
    time.sleep(1.0)
    ch = churn_start(a, work, cport, "cost")
    c0 = cpu_s(pd.pid)
    time.sleep(a.churn_seconds)
    c1 = cpu_s(pd.pid)
    cst = churn_stop(*ch)
    made = cst.get("rate", 0) * a.churn_seconds
    res["cpu_us_per_change"] = (c1 - c0) * 1e6 / made if made else float("nan")
    res["core_share_at_rate"] = res["cpu_us_per_change"] * a.churn_rate / 1e6
    log("churn alone: petdns CPU %.2f s for ~%.0f changes: %.0f us a change, %.1f%% of a core at %g/s" % (
        c1 - c0, made, res["cpu_us_per_change"], 100 * res["core_share_at_rate"], a.churn_rate))

    # Event-to-answer under load, without and with churn.
    load = max(1000, int(udp_qps * a.latency_load))
    tapfile = os.path.join(work, "wiretap.txt")
    tap = None
    if os.geteuid() == 0:
        tap = spawn([sys.executable, os.path.join(HERE, "wiretap.py"), "--port", str(a.api_port),
                     "--out", tapfile], os.path.join(work, "wiretap.log"), a.load_cpu)
        latency.wait_for(lambda: latency.read(tapfile).startswith("# ready"), 30, "wiretap", tap)
    ctl = latency.Control(cport)
    resv = latency.Resolver(pd.port)
    changes = latency.Changes(cluster, latency.random.Random(11))
    n = [0]

    def next_change():
        kind = ("add", "flip")[n[0] % 2]
        n[0] += 1
        return kind, changes.add() if kind == "add" else changes.flip()
    for _ in range(5):
        latency.measure(ctl, resv, next_change(), a.poll_ms / 1e3, 10.0)
    for phase in ("load", "load+churn"):
        perf = subprocess.Popen(dnsperf(a, pd.port, queries, 3600, "udp", qps=load, nice=19),
                                stdout=open(os.path.join(work, "dnsperf-lat-%s.txt" % phase), "w"),
                                stderr=subprocess.STDOUT)
        PROCS.append(perf)
        ch = churn_start(a, work, cport, "lat") if phase == "load+churn" else None
        time.sleep(2.0)
        pc0, pt0 = cpu_s(pd.pid), time.monotonic()
        rs, keys = [], []
        for _ in range(a.probes):
            c = next_change()
            keys.append(c[1][0]["metadata"]["name"])
            rs.append(latency.measure(ctl, resv, c, a.poll_ms / 1e3, 10.0))
        cpu_pct = 100 * (cpu_s(pd.pid) - pc0) / (time.monotonic() - pt0)
        cstats = churn_stop(*ch) if ch else {}
        stop_dnsperf(perf)
        out = latency.read(os.path.join(work, "dnsperf-lat-%s.txt" % phase))
        pr = parse_dnsperf(out)
        lat = sorted(r[1] * 1e3 for r in rs if r[1] is not None)
        floor = sorted(r[4] * 1e3 for r in rs)
        wire = []
        if tap is not None:
            seen_at = {}
            for line in latency.read(tapfile).splitlines()[1:]:
                ts, name = line.split(" ", 1)
                seen_at.setdefault(name, []).append(float(ts))
            for key, r in zip(keys, rs):
                ts = [t for t in seen_at.get(key, []) if t >= r[5] - 0.001]
                if ts and r[6] is not None:
                    wire.append((r[6] - min(ts)) * 1e3)
            wire.sort()
        res[phase] = {"n": len(rs), "lost_changes": sum(1 for r in rs if r[1] is None),
                      "p50_ms": latency.pct(lat, 50), "p90_ms": latency.pct(lat, 90),
                      "p99_ms": latency.pct(lat, 99), "max_ms": lat[-1] if lat else None,
                      "floor_p50_ms": latency.pct(floor, 50), "floor_p99_ms": latency.pct(floor, 99),
                      "wire_n": len(wire), "wire_p50_ms": latency.pct(wire, 50),
                      "wire_p99_ms": latency.pct(wire, 99), "wire_max_ms": wire[-1] if wire else None,
                      "load_qps_asked": load, "load_qps": pr["qps"], "dnsperf_lost": pr["lost"],
                      "petdns_cpu_pct": cpu_pct,
                      "servfail": pr["codes"].get("SERVFAIL", 0), "churn": cstats}
        log("latency %s: p50 %.2f p99 %.2f max %.2f ms (floor p50 %.2f); from the event on the "
            "wire (%d of %d): p50 %.2f p99 %.2f ms; dnsperf %.0f of %d qps, churn %s/s, "
            "%d changes not seen; petdns used %.0f%% of its core" % (
                phase, res[phase]["p50_ms"], res[phase]["p99_ms"], res[phase]["max_ms"] or 0,
                res[phase]["floor_p50_ms"], len(wire), len(rs), res[phase]["wire_p50_ms"],
                res[phase]["wire_p99_ms"], pr["qps"], load, cstats.get("rate", "-"),
                res[phase]["lost_changes"], cpu_pct))
    if tap is not None:
        stop(tap)
    return res


# ---- one preset

def run_preset(a, preset, top):
    work = os.path.join(top, preset)
    os.makedirs(os.path.join(work, "knot"), exist_ok=True)
    out = {"preset": preset}
    cluster = gencluster.Cluster(preset, 1)
    state, queries = os.path.join(work, "state.json"), os.path.join(work, "queries.txt")
    gencluster.write_fakeapi(cluster, state)
    gencluster.write_queries(cluster, queries, 100000, 1)
    out["cluster"] = cluster.summary()
    log("%s: %s" % (preset, json.dumps(out["cluster"])))

    fa, api_port, cport = start_fakeapi(a, work, state)
    a.api_port = api_port
    out["fakeapi_list_s"] = list_time(a, api_port)
    log("fakeapi alone serves petdns's paged LISTs in %.2f s" % out["fakeapi_list_s"])
    out["records"], out["zone_records"], out["types"] = zone_dump(a, work, cluster)

    # Names that exist only once each zone is whole: the last of each file.
    probes = []
    for z in ZONES:
        last = latency.read(os.path.join(work, "knot", "%s.zone" % z)).splitlines()
        f = [l.split() for l in last if l.split()[3] in ("A", "PTR")][-1]
        probes.append((f[0], f[3]))
    kport, pport = latency.free_port(), latency.free_port()
    knot = Knot(a, work, kport, probes)
    pd = Petdns(a, work, pport, api_port)

    ready = {"knotd": [], "knotd_cpu": [], "petdns": [], "petdns_cpu": [], "petdns_answer": []}
    for r in range(a.ready_rounds):
        for who in ("petdns", "knotd") if r % 2 == 0 else ("knotd", "petdns"):
            if who == "knotd":
                t, c = knot.start(1)
                ready["knotd"].append(t)
                ready["knotd_cpu"].append(c)
                if r < a.ready_rounds - 1:
                    knot.stop()
            else:
                t, c, t2 = pd.start(probes)
                ready["petdns"].append(t)
                ready["petdns_cpu"].append(c)
                ready["petdns_answer"].append(t2)
                if r < a.ready_rounds - 1:
                    pd.stop()
            time.sleep(0.3)
    out["ready"] = ready
    out["ready_ratio"] = median([p / k for p, k in zip(ready["petdns"], ready["knotd"])])
    log("start to ready (s): petdns %s (CPU %s), knotd %s (CPU %s)" % (
        [round(x, 2) for x in ready["petdns"]], [round(x, 2) for x in ready["petdns_cpu"]],
        [round(x, 2) for x in ready["knotd"]], [round(x, 2) for x in ready["knotd_cpu"]]))
    if pd.records != out["records"]:
        raise RuntimeError("petdns synced %s records from fakeapi, the zone dump has %d: the two "
                           "servers would not serve the same records" % (pd.records, out["records"]))
    out["petdns_records"] = pd.records

    time.sleep(2.0)
    out["mem"] = {"petdns": mem_kib(pd.pid), "knotd": mem_kib(knot.pid)}
    log("memory (RSS, PSS KiB): %s" % out["mem"])

    out["same_answers"] = compare_answers(queries, a.check, pport, kport)
    log("answers compared: %s" % json.dumps(out["same_answers"]))

    # petdns again with kubeadm's Corefile, judged in the strictest row (W1, UDP).
    pdk = None
    if a.kubeadm and 1 in a.workers and "udp" in a.transports:
        pdk = Petdns(a, work, latency.free_port(), api_port, kubeadm=True)
        pdk.start(probes)
    runs = []
    for w in a.workers:
        if knot.workers != w:
            knot.start(w)
        for mode in a.transports:
            for r in range(a.rounds):
                order = [pd, knot] + ([pdk] if pdk and w == 1 and mode == "udp" else [])
                if r % 2:
                    order.reverse()
                for s in order:
                    x = perf_run(a, s, queries, mode, work, "%s-w%d-%s-%d" % (s.name, w, mode, r))
                    x.update({"workers": w, "round": r})
                    runs.append(x)
                    log("%-6s w%d %s round %d: %7.0f q/CPU-s, %6.0f qps, CPU %.2f s, lost %d, "
                        "SERVFAIL %d, drops %d, NXDOMAIN %.1f%%, CPU pressure %.0f%%" % (
                            s.name, w, mode, r, x["q_per_cpu_s"], x["qps"], x["cpu_s"], x["lost"],
                            x["servfail"], x["drops"], x["nxdomain_pct"], x["psi_pct"]))
    out["runs"] = runs

    def row(w, mode, who):
        sel = [x for x in runs if x["workers"] == w and x["mode"] == mode]
        p = [x for x in sel if x["server"] == who]
        k = [x for x in sel if x["server"] == "knotd"]
        return {"workers": w, "mode": mode,
                "corefile": "kubeadm" if who == "petdns-kubeadm" else "bench",
                "petdns_qpcpu": median([x["q_per_cpu_s"] for x in p]),
                "knotd_qpcpu": median([x["q_per_cpu_s"] for x in k]),
                "ratio": median([x["q_per_cpu_s"] / y["q_per_cpu_s"] for x, y in zip(p, k)]),
                "petdns_qps": median([x["qps"] for x in p]),
                "knotd_qps": median([x["qps"] for x in k]),
                "petdns_lost": sum(x["lost"] for x in p), "knotd_lost": sum(x["lost"] for x in k),
                "petdns_servfail": sum(x["servfail"] for x in p),
                "knotd_servfail": sum(x["servfail"] for x in k),
                "petdns_drops": sum(x["drops"] for x in p), "knotd_drops": sum(x["drops"] for x in k),
                "psi_pct": median([x["psi_pct"] for x in sel])}

    summary = [row(w, mode, "petdns") for w in a.workers for mode in a.transports]
    if pdk:
        summary.insert(1, row(1, "udp", "petdns-kubeadm"))
        out["mem_kubeadm"] = mem_kib(pdk.pid)
        pdk.stop()
    out["throughput"] = summary
    out["mem_after_load"] = {"petdns": mem_kib(pd.pid), "knotd": mem_kib(knot.pid)}
    knot.stop()

    if a.churn_rate > 0 and preset in a.churn_presets.split(","):
        udp = next((s["petdns_qps"] for s in summary if s["mode"] == "udp"), 20000)
        out["churn"] = churn_phase(a, work, preset, cluster, pd, fa, cport, queries, udp)
        out["mem_after_churn"] = {"petdns": mem_kib(pd.pid)}
    pd.stop()
    stop(fa)
    return out


# ---- report

def fmt(x, d=0):
    if x is None or x != x:
        return "-"
    return ("{:,.%df}" % d).format(x)


def report(a, results, meta):
    L = []
    L.append("petdns vs knotd, %s; %s" % (meta["date"], meta["conditions"]))
    L.append("")
    L.append("%-5s %-4s %-3s | %12s %12s %6s | %9s %9s | %-20s %-20s" % (
        "preset", "mode", "W", "petdns q/CPUs", "knotd q/CPUs", "ratio", "petdns qps", "knotd qps",
        "petdns lost/SF/drop", "knotd lost/SF/drop"))
    for r in results:
        for s in r["throughput"]:
            L.append("%-6s %-4s %-3s | %12s %12s %5.2fx | %9s %9s | %-20s %-20s%s" % (
                r["preset"], s["mode"], s["workers"], fmt(s["petdns_qpcpu"]), fmt(s["knotd_qpcpu"]),
                s["ratio"], fmt(s["petdns_qps"]), fmt(s["knotd_qps"]),
                "%d/%d/%d" % (s["petdns_lost"], s["petdns_servfail"], s["petdns_drops"]),
                "%d/%d/%d" % (s["knotd_lost"], s["knotd_servfail"], s["knotd_drops"]),
                " kubeadm Corefile" if s.get("corefile") == "kubeadm" else ""))
    L.append("(W: knotd udp-workers = tcp-workers = W; petdns has no workers option and runs one "
             "thread in every row. ratio: median of per-round petdns/knotd. lost/SF/drop: dnsperf's "
             "lost queries, SERVFAIL answers, datagrams dropped on the server's UDP sockets, summed "
             "over the rounds. kubeadm Corefile: the same petdns build and zone under kubeadm's "
             "default Corefile (cache 30, prometheus, errors, loadbalance, loop, reload), its own "
             "dnsperf run in each round against the same knotd run's figure.)")
    L.append("")
    L.append("%-6s %9s %9s %9s | %9s %9s %6s | %9s %9s %6s %11s | %12s %9s %6s" % (
        "preset", "records", "pd rec", "same ans", "pd PSS", "kn PSS", "ratio",
        "pd ready", "kn load", "ratio", "pd/kn CPU", "fakeapi LIST", "pd net", "ratio"))
    for r in results:
        mp, mk = r["mem"]["petdns"][1], r["mem"]["knotd"][1]
        rd = r["ready"]
        net = median(rd["petdns"]) - r["fakeapi_list_s"]
        L.append("%-6s %9s %9s %9s | %8.1fM %8.1fM %5.2fx | %8.2fs %8.2fs %5.2fx %5.2f/%.2fs | %11.2fs %8.2fs %5.2fx" % (
            r["preset"], fmt(r["records"]), fmt(r["petdns_records"]),
            "%d/%d" % (r["same_answers"]["same"], r["same_answers"]["asked"]),
            mp / 1024, mk / 1024, mp / mk if mk else float("nan"),
            median(rd["petdns"]), median(rd["knotd"]), r["ready_ratio"],
            median(rd["petdns_cpu"]), median(rd["knotd_cpu"]), r["fakeapi_list_s"],
            net, net / median(rd["knotd"])))
    L.append("(PSS from smaps_rollup, synced and idle; ready: petdns start to /ready 200 against "
             "fakeapi, knotd start to answering a name of each zone; medians; CPU: the servers' "
             "CPU seconds until then; fakeapi LIST: what fakeapi (Python) alone needs to serve the LIST "
             "pages, included in petdns's ready time; pd net: ready minus that, petdns's own part.)")
    if any("churn" in r for r in results):
        L.append("")
        L.append("%-6s %9s %9s %6s %9s %9s %6s %9s %9s %9s %6s %7s %6s | %-10s %7s %7s %8s %8s %8s %6s %8s" % (
            "preset", "qps quiet", "qps churn", "drop", "q/CPUs q", "q/CPUs c", "drop", "pd busy",
            "dnsperf", "fakeapi", "churn", "us/chg", "core", "latency",
            "p50 ms", "p99 ms", "max ms", "wire p50", "wire p99", "unseen", "load qps"))
        for r in results:
            c = r.get("churn")
            if not c:
                continue
            nan = float("nan")
            for ph in ("load", "load+churn"):
                x = c[ph]
                L.append("%-6s %9s %9s %5.1f%% %9s %9s %5.1f%% %4.0f/%3.0f%% %4.0f/%3.0f%% %4.0f/%3.0f%% "
                         "%6s %7s %5.1f%% | %-10s %7.2f %7.2f %8.2f %8.2f %8.2f %6d %8s" % (
                    r["preset"], fmt(c["qps_quiet"]), fmt(c["qps_churn"]), c["qps_drop_pct"],
                    fmt(c.get("qpcpu_quiet", nan)), fmt(c.get("qpcpu_churn", nan)),
                    c.get("qpcpu_drop_pct", nan),
                    c.get("busy_quiet", nan), c.get("busy_churn", nan),
                    c.get("load_busy_quiet", nan), c.get("load_busy_churn", nan),
                    c.get("fakeapi_busy_quiet", nan), c.get("fakeapi_busy_churn", nan),
                    fmt(c["churn_rate"]), fmt(c.get("cpu_us_per_change")),
                    100 * c.get("core_share_at_rate", nan), ph, x["p50_ms"], x["p99_ms"],
                    x["max_ms"] or nan, x.get("wire_p50_ms", nan),
                    x.get("wire_p99_ms", nan), x["lost_changes"], fmt(x["load_qps"])))
        L.append("(Windows of dnsperf at full speed alternating without and with churn, medians. "
                 "qps quiet/churn: dnsperf's rate, and its drop; q/CPUs: queries answered per petdns "
                 "CPU-second (the unit of the throughput table; the churn's CPU is in it), and its "
                 "drop; busy quiet/churn: the share of a core petdns, dnsperf and fakeapi used (fakeapi "
                 "makes the changes and shares dnsperf's core: the CPU it takes is dnsperf's, so a "
                 "petdns below 100% busy answers all dnsperf can ask, and dnsperf's rate falls by "
                 "what it lost, not by what petdns could answer); churn: endpoint changes per second "
                 "achieved; us/chg: petdns CPU per endpoint change, churn alone; core: the share of "
                 "one core that costs at the target rate; latency: from a "
                 "change's control call returning to the first answer showing it, dnsperf at a "
                 "fixed rate meanwhile; wire: from the event's segment on lo (wiretap.py) to that "
                 "answer: petdns's own part.)")
    L.append("")
    L.append("targets (issue 6):")
    for r in results:
        for s in r["throughput"]:
            tgt = 1.2 if s["mode"] == "udp" else 1.0
            L.append("  %-5s %s W%d per CPU-s >= %.1fx knotd%s: %.2fx %s" % (
                r["preset"], s["mode"].upper(), s["workers"], tgt,
                " (petdns with kubeadm's Corefile)" if s.get("corefile") == "kubeadm" else "",
                s["ratio"], "met" if s["ratio"] >= tgt else "NOT met"))
        # The issue sets memory and start-to-ready for the 100k-pod cluster;
        # smaller presets' figures are printed, not judged.
        judged = r["cluster"].get("pods", 0) >= 100000
        verdict = lambda ok: ("met" if ok else "NOT met") if judged else \
            "(not a target: set for the 100k-pod cluster)"
        mp, mk = r["mem"]["petdns"][1], r["mem"]["knotd"][1]
        L.append("  %-5s PSS <= 0.5x knotd: %.2fx %s" % (r["preset"], mp / mk, verdict(mp / mk <= 0.5)))
        net = (median(r["ready"]["petdns"]) - r["fakeapi_list_s"]) / median(r["ready"]["knotd"])
        # CPU time comes in clock ticks (10 ms): a small zone's load can read 0.
        kc = median(r["ready"]["knotd_cpu"])
        cpu = "%.2fx knotd's" % (median(r["ready"]["petdns_cpu"]) / kc) if kc > 0 else \
            "not compared: knotd's under one clock tick"
        L.append("  %-5s start to ready <= 1x knotd's load: %.2fx %s (%.2fx without fakeapi's own "
                 "LIST time; CPU to ready %s)" % (
                     r["preset"], r["ready_ratio"], verdict(r["ready_ratio"] <= 1), net, cpu))
        c = r.get("churn")
        if c:
            x = c["load+churn"]
            p99, w99 = x["p99_ms"], x.get("wire_p99_ms", float("nan"))
            L.append("  %-5s p99 event-to-answer under load and churn <= 10 ms: %.2f ms from the "
                     "control call %s; %.2f ms from the event on the wire %s (churn %s/s achieved)" % (
                         r["preset"], p99, "met" if p99 <= 10 else "NOT met", w99,
                         "met" if w99 <= 10 else "NOT met", fmt(x["churn"].get("rate"))))
            share = 100 * c.get("core_share_at_rate", float("nan"))
            nan = float("nan")
            # What a saturated petdns would lose: at least the core share the
            # changes take (measured alone), more if its queries got dearer
            # meanwhile (queries per CPU-second under churn). The larger is judged.
            # Runs saved before the equal-load windows existed judge the
            # full-speed figure, as they did then.
            full = c.get("qpcpu_drop_pct", nan)
            qdrop = c.get("eq_qpcpu_drop_pct", full)
            drop = max(share, qdrop) if qdrop == qdrop else share
            L.append("  %-5s query rate drop during churn < 10%%: %.1f%% for a saturated petdns %s "
                     "(the larger of: %.1f%% of its core spent on %g changes/s; %.1f%% fewer queries "
                     "per petdns CPU-second under churn %s); at full speed, where dnsperf loses CPU "
                     "to the churn's maker: %.1f%% fewer per CPU-second, dnsperf's own rate -%.1f%% "
                     "(dnsperf busy %.0f%% -> %.0f%%, fakeapi %.0f%% on its core; petdns busy "
                     "%.0f%% -> %.0f%%)" % (
                         r["preset"], drop, "met" if drop < 10 else "NOT met", share,
                         a.churn_rate if hasattr(a, "churn_rate") else 1000, qdrop,
                         "at an equal %s qps offered" % fmt(c["eq_qps_asked"])
                         if "eq_qps_asked" in c else "at full speed", full,
                         c["qps_drop_pct"], c.get("load_busy_quiet", nan),
                         c.get("load_busy_churn", nan), c.get("fakeapi_busy_churn", nan),
                         c.get("busy_quiet", nan), c.get("busy_churn", nan)))
        errs = sum(s["petdns_lost"] + s["petdns_servfail"] for s in r["throughput"])
        L.append("  %-5s no lost queries, no SERVFAIL (petdns): %s" % (
            r["preset"], "met" if errs == 0 else "NOT met (%d)" % errs))
    return "\n".join(L)


def chart(a, results, path):
    if shutil.which("gnuplot") is None:
        log("gnuplot not installed: no chart")
        return
    tmp = tempfile.mkdtemp(prefix="bench-chart.", dir="/tmp")
    dat = os.path.join(tmp, "compare.dat")
    with open(dat, "w") as f:
        f.write("# label petdns knotd ratio\n")
        for r in results:
            for s in r["throughput"]:
                f.write('"%s %s W%d%s" %.0f %.0f %.2f\n' % (
                    r["preset"], s["mode"].upper(), s["workers"],
                    " kubeadm" if s.get("corefile") == "kubeadm" else "",
                    s["petdns_qpcpu"] / 1e3, s["knotd_qpcpu"] / 1e3, s["ratio"]))
    dat2 = os.path.join(tmp, "compare-mem.dat")
    with open(dat2, "w") as f:
        for r in results:
            f.write('"%s" %.1f %.1f %.2f %.2f\n' % (
                r["preset"], r["mem"]["petdns"][1] / 1024, r["mem"]["knotd"][1] / 1024,
                median(r["ready"]["petdns"]), median(r["ready"]["knotd"])))
    gp = """
set terminal pngcairo size 960,360 font ",9"
set output "%(png)s"
set multiplot layout 1,3 title "petdns vs knotd (%(date)s, %(cond)s)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top right
set bmargin 5
set xtics rotate by -35 scale 0
set yrange [0:*]
set offsets 0, 0, graph 0.15, 0
set title "queries per server CPU-second (thousands)"
plot "%(dat)s" using 2:xtic(1) title "petdns" lc rgb "#1f77b4", \
     "" using 3 title "knotd" lc rgb "#aaaaaa", \
     "" using 0:($2 > $3 ? $2 : $3):(sprintf("%%.2fx", $4)) with labels offset 0,0.7 notitle
set logscale y
set offsets 0, 0, 0, 0
set key top left
set yrange [1:300]
set title "PSS, synced and idle (MiB, log)"
plot "%(dat2)s" using 2:xtic(1) title "petdns" lc rgb "#1f77b4", "" using 3 title "knotd" lc rgb "#aaaaaa"
set yrange [0.1:100]
set title "start to ready (s, log)"
plot "%(dat2)s" using 4:xtic(1) title "petdns" lc rgb "#1f77b4", "" using 5 title "knotd" lc rgb "#aaaaaa"
unset multiplot
""" % {"png": path, "dat": dat, "dat2": dat2, "date": a.date, "cond": a.cond_short}
    gpf = os.path.join(tmp, "compare.gp")
    with open(gpf, "w") as f:
        f.write(gp)
    r = subprocess.run(["gnuplot", gpf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    shutil.rmtree(tmp, ignore_errors=True)
    if r.returncode:
        log("gnuplot failed: %s" % r.stdout.decode()[-500:])
    else:
        log("chart: %s" % path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presets", default="1k,100k")
    # Six short pairs rather than three long ones, the same time: this host's
    # load moves within seconds, and a median of six pairs moves less.
    ap.add_argument("--rounds", type=int, default=6, help="A/B pairs per (workers, transport)")
    ap.add_argument("--seconds", type=int, default=4, help="length of one dnsperf run")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--transports", default="udp,tcp")
    ap.add_argument("--ready-rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--outstanding", type=int, default=100,
                    help="dnsperf -q; 500 overflows the sockets' default receive buffers here")
    ap.add_argument("--check", type=int, default=3000, help="queries asked of both to compare")
    ap.add_argument("--churn-rate", type=float, default=1000, help="0: no churn phase")
    ap.add_argument("--churn-seconds", type=int, default=8,
                    help="length of a churn window (the churn needs time to reach its rate)")
    ap.add_argument("--churn-rounds", type=int, default=5,
                    help="pairs of windows without and with churn (its figure is the noisiest)")
    ap.add_argument("--churn-fixed", type=float, default=0.7,
                    help="the equal-load churn windows' rate, as a share of the full-speed quiet rate")
    ap.add_argument("--churn-presets", default="100k",
                    help="presets that get the churn phase (1,000 changes/s is the whole 1k cluster)")
    ap.add_argument("--no-kubeadm", dest="kubeadm", action="store_false",
                    help="skip the UDP W1 row of petdns under kubeadm's default Corefile")
    ap.add_argument("--probes", type=int, default=150)
    ap.add_argument("--latency-load", type=float, default=0.5,
                    help="dnsperf rate during the latency probes, as a share of petdns's UDP qps")
    ap.add_argument("--poll-ms", type=float, default=0.5)
    ap.add_argument("--server-cpu", type=int, default=0)
    ap.add_argument("--load-cpu", type=int, default=1)
    ap.add_argument("--petdns", default=os.environ.get("PETDNS", "/tmp/bench-build/petdns"))
    ap.add_argument("--fakeapi", default=os.environ.get(
        "FAKEAPI", os.path.join(TOPSRC, "tests", "fakeapi", "fakeapi.py")))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--quick", action="store_true", help="1k only, 1 round, 3 s runs, 50 probes")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--report", metavar="JSON", help="print the table and chart of a saved run")
    a = ap.parse_args()
    if a.report:
        with open(a.report) as f:
            saved = json.load(f)
        a.date = saved["meta"]["date"]
        a.cond_short = saved["meta"]["conditions"].split(";")[0]
        print(report(a, saved["results"], saved["meta"]))
        chart(a, saved["results"], os.path.join(a.out, "compare.png"))
        return
    if a.quick:
        a.presets, a.rounds, a.seconds, a.ready_rounds, a.probes = "1k", 1, 3, 1, 50
        a.churn_presets, a.churn_rate = "1k", min(a.churn_rate, 100)
        a.churn_rounds, a.churn_seconds = 1, 3
    a.workers = [int(w) for w in a.workers.split(",")]
    a.transports = a.transports.split(",")
    a.fakeapi_args = []
    for tool in ("taskset", "dnsperf", "knotd"):
        if shutil.which(tool) is None:
            sys.exit("compare.py: %s is not installed (bench/compare.sh installs it)" % tool)
    if not os.access(a.petdns, os.X_OK):
        sys.exit("compare.py: no petdns at %s (set PETDNS)" % a.petdns)
    a.date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    kv = subprocess.run(["knotd", "--version"], stdout=subprocess.PIPE).stdout.decode().strip()
    pv = subprocess.run([a.petdns, "-version"], stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT).stdout.decode().strip()
    dv = re.search(r"Version (\S+)", subprocess.run(["dnsperf", "-h"], stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT).stdout.decode())
    a.cond_short = "%d cores, servers on cpu %d, dnsperf on cpu %d" % (
        os.cpu_count(), a.server_cpu, a.load_cpu)
    meta = {"date": a.date, "petdns": "%s (%s)" % (a.petdns, pv), "knotd": kv,
            "dnsperf": dv.group(1) if dv else "?", "loadavg": latency.read("/proc/loadavg").strip(),
            "conditions": "%s; dnsperf -c %d -q %d, %d s runs, %d rounds" % (
                a.cond_short, a.clients, a.outstanding, a.seconds, a.rounds)}
    log("%s; %s; %s; dnsperf %s" % (a.date, meta["petdns"], kv, meta["dnsperf"]))
    log(meta["conditions"] + "; load average " + meta["loadavg"])

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    top = tempfile.mkdtemp(prefix="bench-compare.", dir="/tmp")
    os.sched_setaffinity(0, {a.load_cpu})
    results = []
    p0, t0 = psi_total(), time.monotonic()
    try:
        for preset in a.presets.split(","):
            results.append(run_preset(a, preset, top))
    finally:
        for p in list(reversed(PROCS)):
            stop(p)
        if a.keep:
            log("kept %s" % top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    meta["elapsed_s"] = round(time.monotonic() - t0)
    meta["psi_pct"] = round((psi_total() - p0) / 1e4 / (time.monotonic() - t0))
    meta["conditions"] += "; CPU pressure %d%% over the %d s run" % (meta["psi_pct"], meta["elapsed_s"])
    # The figures saved before the report: --report can redo a report that failed.
    os.makedirs(a.out, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime())
    with open(os.path.join(a.out, "compare-%s.json" % stamp), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1, default=str)
    txt = report(a, results, meta)
    print()
    print(txt)
    with open(os.path.join(a.out, "compare-%s.txt" % stamp), "w") as f:
        f.write(txt + "\n")
    chart(a, results, os.path.join(a.out, "compare.png"))


if __name__ == "__main__":
    main()
