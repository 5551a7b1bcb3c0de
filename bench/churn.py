#!/usr/bin/env python3
"""churn.py -- endpoint churn (and watch drops) through fakeapi's control port.

usage: churn.py --control-port P [--seed 1] [--rate 1000]
                [--duration S] [--tick-ms 20] [--down-s 1.0]
                [--drop-every S [--expire-every N]] [--exclude-headless] [--stats FILE]
                [--ready-file FILE] [--no-restore]

Starts fakeapi's own churn (POST /churn, tests/fakeapi/fakechurn.py): the
endpoint changes a rolling restart makes, rolling not-ready/ready flips drawn
uniformly over the EndpointSlices fakeapi holds, each changed slice rewritten
whole as the EndpointSlice controller does, so petdns sees one MODIFIED event
per slice per tick carrying one or more endpoint changes; --rate counts both
flips (one endpoint changed = one change). --exclude-headless leaves headless
services (the pets latency.py probes with) alone. fakeapi makes the changes
itself: a control call per tick with the slices as JSON cost more CPU, on the
load generator's core, than petdns spent on the changes.

--drop-every S also cuts every open watch every S seconds (POST
/drop-watches): petdns must resume from its last resourceVersion without
losing answers; with --expire-every N every Nth of them is instead a POST
/compact {"expire_watches": true}: the watches end with a 410 and petdns
must relist, serving the zone it has meanwhile.

Runs until --duration (default: until SIGTERM/SIGINT), then stops the churn
(DELETE /churn: every endpoint taken down is put back unless --no-restore)
and prints one JSON line: changes made, the achieved rate, slices written,
late ticks, a tick's writes p50/p99/max in ms, and the drops; --stats FILE
writes it there too. Python 3 standard library only.
"""
import argparse
import http.client
import json
import signal
import time


def control(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=json.dumps(body or {}),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    out = resp.read()
    conn.close()
    if resp.status != 200:
        raise RuntimeError("%s %s: %d %s" % (method, path, resp.status, out[:200]))
    return json.loads(out) if out else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--control-port", type=int, required=True)
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
    ap.add_argument("--ready-file", help="touched once the changes begin")
    a = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    port = a.control_port
    started = control(port, "POST", "/churn", {
        "rate": a.rate, "seed": a.seed, "tick_ms": a.tick_ms, "down_s": a.down_s,
        "exclude_headless": a.exclude_headless})
    if a.ready_file:
        open(a.ready_file, "w").close()
    t0 = time.monotonic()
    next_drop = t0 + a.drop_every if a.drop_every > 0 else None
    drops = dropped = expired = 0
    while not stop:
        now = time.monotonic()
        if a.duration and now - t0 >= a.duration:
            break
        if next_drop is not None and now >= next_drop:
            drops += 1
            if a.expire_every and drops % a.expire_every == 0:
                r = control(port, "POST", "/compact", {"expire_watches": True})
                expired += (r or {}).get("expired_watches", 0)
            else:
                r = control(port, "POST", "/drop-watches")
                dropped += (r or {}).get("dropped", 0)
            next_drop += a.drop_every
        time.sleep(0.05)
    out = control(port, "DELETE", "/churn", {"restore": not a.no_restore})
    out.pop("running", None)
    out.update({"slices": started["slices"], "watch_drops": drops,
                "watches_cut": dropped, "watches_expired": expired})
    line = json.dumps(out)
    print(line, flush=True)
    if a.stats:
        with open(a.stats, "w") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
