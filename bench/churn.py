#!/usr/bin/env python3
"""churn.py -- endpoint churn (and watch drops) through fakeapi's control port.

usage: churn.py --control-port P --preset 100k [--seed 1] [--rate 1000]
                [--duration S] [--tick-ms 20] [--down-s 1.0]
                [--drop-every S [--expire-every N]] [--exclude-headless] [--stats FILE]
                [--ready-file FILE]

Makes the endpoint changes a rolling restart makes: every tick it takes
endpoints out of service (conditions.ready and serving false) and puts back
those taken out --down-s seconds ago, so that the cluster stays close to the
generated one and --rate counts both (one endpoint changed = one change).
Endpoints are drawn uniformly over EndpointSlices, then within the slice;
each changed slice is POSTed whole to /objects, as the EndpointSlice
controller rewrites a whole slice, so petdns sees one MODIFIED event per
slice per tick carrying one or more endpoint changes. The slices are those of
bench/gencluster.py's cluster for --preset/--seed, which must be the one
fakeapi was started with. --exclude-headless leaves headless services (the
pets latency.py probes with) alone.

--drop-every S also cuts every open watch every S seconds (POST
/drop-watches): petdns must resume from its last resourceVersion without
losing answers; with --expire-every N every Nth of them is instead a POST
/compact {"expire_watches": true}: the watches end with a 410 and petdns
must relist, serving the zone it has meanwhile.

Runs until --duration (default: until SIGTERM/SIGINT), then prints one JSON
line: changes made, POSTs, slices sent, the achieved rate, the drops, and the
control calls' p50/p99/max in ms; --stats FILE writes it there too.
Importable: Churner.
Python 3 standard library only.
"""
import argparse
import http.client
import json
import os
import random
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import gencluster  # noqa: E402


class Churner:
    """Rolling endpoint changes over a cluster's slices, posted to fakeapi."""

    def __init__(self, cluster, control_port, rng, exclude_headless=False):
        self.port = control_port
        self.rng = rng
        self.slices = []        # [slice object, [endpoint indexes]]
        for s in cluster.services:
            if s.name == "kubernetes" or (exclude_headless and s.headless):
                continue
            for obj in cluster.slice_objs(s):
                eps = obj["endpoints"] or []
                idx = [i for i, e in enumerate(eps) if e["conditions"]["ready"]]
                if idx:
                    self.slices.append((obj, idx))
        self.down = []          # (time, slice number, endpoint index), oldest first
        self.is_down = set()
        self.changes = self.posts = self.sent_slices = 0
        self.call_ms = []
        self.conn = None

    def _post(self, objs):
        body = json.dumps({"kind": "List", "items": objs}, separators=(",", ":"))
        t0 = time.monotonic()
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.conn.request("POST", "/objects", body=body,
                                  headers={"Content-Type": "application/json"})
                resp = self.conn.getresponse()
                resp.read()
                if resp.will_close:
                    self.conn.close()
                    self.conn = None
                break
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise
        self.call_ms.append((time.monotonic() - t0) * 1e3)
        self.posts += 1
        self.sent_slices += len(objs)

    def tick(self, n, down_s):
        """Makes about n endpoint changes: restores first, then takes down."""
        now = time.monotonic()
        touched = {}
        made = 0
        while self.down and made < n and self.down[0][0] <= now - down_s:
            _, k, i = self.down.pop(0)
            self.is_down.discard((k, i))
            self._set(k, i, True)
            touched[k] = True
            made += 1
        tries = 0
        while made < n and tries < 10 * n:
            tries += 1
            k = self.rng.randrange(len(self.slices))
            i = self.rng.choice(self.slices[k][1])
            if (k, i) in self.is_down:
                continue
            self.is_down.add((k, i))
            self.down.append((now, k, i))
            self._set(k, i, False)
            touched[k] = True
            made += 1
        if touched:
            self._post([self.slices[k][0] for k in touched])
        self.changes += made
        return made

    def _set(self, k, i, ready):
        c = self.slices[k][0]["endpoints"][i]["conditions"]
        c["ready"] = c["serving"] = ready

    def restore_all(self):
        """Puts every endpoint taken down back (one POST)."""
        touched = {}
        for _, k, i in self.down:
            self._set(k, i, True)
            touched[k] = True
        self.down, self.is_down = [], set()
        if touched:
            self._post([self.slices[k][0] for k in touched])

    def control(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, path, body=json.dumps(body or {}),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        out = resp.read()
        conn.close()
        return json.loads(out) if out else None


def pct(vals, p):
    if not vals:
        return float("nan")
    v = sorted(vals)
    return v[max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--control-port", type=int, required=True)
    ap.add_argument("--preset", default="100k", choices=sorted(gencluster.PRESETS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rate", type=float, default=1000.0, help="endpoint changes per second")
    ap.add_argument("--duration", type=float, default=0, help="seconds; 0 = until signalled")
    ap.add_argument("--tick-ms", type=float, default=20.0)
    ap.add_argument("--down-s", type=float, default=1.0)
    ap.add_argument("--drop-every", type=float, default=0, help="cut every watch every S seconds")
    ap.add_argument("--expire-every", type=int, default=0,
                    help="every Nth drop compacts fakeapi's history and expires the watches "
                         "instead (410: petdns must relist)")
    ap.add_argument("--exclude-headless", action="store_true")
    ap.add_argument("--no-restore", action="store_true", help="leave the last changes in place at exit")
    ap.add_argument("--stats", help="also write the final JSON line here")
    ap.add_argument("--ready-file", help="touched once the cluster is built and changes begin")
    a = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    ch = Churner(gencluster.Cluster(a.preset, a.seed), a.control_port,
                 random.Random("churn/%d" % a.seed), a.exclude_headless)
    tick = a.tick_ms / 1e3
    if a.ready_file:
        open(a.ready_file, "w").close()
    t0 = time.monotonic()
    next_drop = t0 + a.drop_every if a.drop_every > 0 else None
    drops = dropped = expired = 0
    late = 0
    k = 0
    while not stop:
        now = time.monotonic()
        if a.duration and now - t0 >= a.duration:
            break
        # Catch up to the rate from the start: a slow POST makes the next bigger.
        due = int(a.rate * (now - t0 + tick)) - ch.changes
        if due > 0:
            ch.tick(due, a.down_s)
        if next_drop is not None and now >= next_drop:
            drops += 1
            if a.expire_every and drops % a.expire_every == 0:
                r = ch.control("POST", "/compact", {"expire_watches": True})
                expired += (r or {}).get("expired_watches", 0)
            else:
                r = ch.control("POST", "/drop-watches")
                dropped += (r or {}).get("dropped", 0)
            next_drop += a.drop_every
        k += 1
        pause = t0 + k * tick - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            late += 1
    elapsed = time.monotonic() - t0
    if not a.no_restore:
        ch.restore_all()
    out = {"changes": ch.changes, "seconds": round(elapsed, 2),
           "rate": round(ch.changes / elapsed, 1) if elapsed else 0,
           "posts": ch.posts, "slices_sent": ch.sent_slices, "late_ticks": late,
           "watch_drops": drops, "watches_cut": dropped, "watches_expired": expired,
           "post_ms_p50": round(pct(ch.call_ms, 50), 2),
           "post_ms_p99": round(pct(ch.call_ms, 99), 2),
           "post_ms_max": round(max(ch.call_ms), 2) if ch.call_ms else None}
    line = json.dumps(out)
    print(line, flush=True)
    if a.stats:
        with open(a.stats, "w") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
