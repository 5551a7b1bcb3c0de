"""fakechurn.py -- endpoint churn made inside fakeapi (control: /churn).

The endpoint changes a rolling restart makes: every tick some endpoints are
taken out of service (conditions.ready and serving false) and those taken out
down_s seconds ago are put back, so the cluster stays close to the one loaded
and rate counts both (one endpoint changed = one change). Endpoints are drawn
uniformly over the stored EndpointSlices, then within the slice. Each changed
slice is written whole through the store, as the EndpointSlice controller
rewrites a slice: a watch sees one MODIFIED event per changed slice per tick.

In the server because a control call per tick (the slices as JSON, parsed and
copied) cost the caller and fakeapi more CPU than petdns spends on the
changes; on a 2-core benchmark machine that came out of the load generator's
core. A changed slice shares its unchanged endpoints with the one it replaces.
"""
import random
import threading
import time

SLICES = ("discovery.k8s.io", "endpointslices")
SERVICES = ("", "services")
SERVICE_NAME = "kubernetes.io/service-name"


def pct(vals, p):
    if not vals:
        return None
    v = sorted(vals)
    return round(v[max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))], 2)


class Churn:
    def __init__(self, store, rate, seed=1, tick_ms=20.0, down_s=1.0,
                 exclude_headless=False):
        if rate <= 0 or tick_ms <= 0 or down_s < 0:
            raise ValueError("rate and tick_ms must be > 0, down_s >= 0")
        self.store = store
        self.rate, self.tick, self.down_s = float(rate), tick_ms / 1e3, down_s
        self.rng = random.Random("churn/%s" % seed)
        self.slices = []        # (store key, [indexes of ready endpoints])
        with store.cond:
            for key in sorted(k for k in store.objects if k[:2] == SLICES):
                obj = store.objects[key]
                svc = ((obj.get("metadata") or {}).get("labels") or {}).get(
                    SERVICE_NAME)
                if svc is None or (key[2], svc) == ("default", "kubernetes"):
                    continue
                if exclude_headless and self.headless(key[2], svc):
                    continue
                idx = [i for i, e in enumerate(obj.get("endpoints") or [])
                       if (e.get("conditions") or {}).get("ready")]
                if idx:
                    self.slices.append((key, idx))
        if not self.slices:
            raise ValueError("no EndpointSlice with a ready endpoint to churn")
        self.down = []          # (time, slice number, endpoint index), oldest first
        self.is_down = set()
        self.changes = self.writes = self.late = 0
        self.tick_ms = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True,
                                       name="churn")
        self.t0 = self.t1 = None

    @property
    def running(self):
        return not self.stopping.is_set()

    def headless(self, ns, name):
        svc = self.store.objects.get(SERVICES + (ns, name))
        return svc is not None and (svc.get("spec") or {}).get(
            "clusterIP") == "None"

    def start(self):
        self.t0 = time.monotonic()
        self.thread.start()
        return {"slices": len(self.slices),
                "endpoints": sum(len(i) for _, i in self.slices)}

    def run(self):
        k = 0
        while not self.stopping.is_set():
            now = time.monotonic()
            # Catch up to the rate from the start: a late tick makes the next bigger.
            due = int(self.rate * (now - self.t0 + self.tick)) - self.changes
            # Not beyond ten ticks' worth: a cluster too small for the rate
            # would otherwise make every tick search longer.
            due = min(due, 10 * int(self.rate * self.tick + 1))
            if due > 0:
                self.step(due, now)
            k += 1
            pause = self.t0 + k * self.tick - time.monotonic()
            if pause > 0:
                self.stopping.wait(pause)
            else:
                self.late += 1

    def step(self, n, now):
        """About n endpoint changes: restores first, then takes down."""
        touched = {}
        made = 0
        while self.down and made < n and self.down[0][0] <= now - self.down_s:
            _, s, i = self.down.pop(0)
            self.is_down.discard((s, i))
            touched.setdefault(s, {})[i] = True
            made += 1
        tries = 0
        while made < n and tries < 10 * n:
            tries += 1
            s = self.rng.randrange(len(self.slices))
            i = self.rng.choice(self.slices[s][1])
            # Down already, or put back this very tick (no change to see).
            if (s, i) in self.is_down or i in touched.get(s, ()):
                continue
            self.is_down.add((s, i))
            self.down.append((now, s, i))
            touched.setdefault(s, {})[i] = False
            made += 1
        t = time.monotonic()
        self.write(touched)
        self.tick_ms.append((time.monotonic() - t) * 1e3)
        self.changes += made

    def write(self, touched):
        """Each touched slice replaced by a copy with its flips."""
        st = self.store
        with st.cond:
            for s, flips in touched.items():
                key = self.slices[s][0]
                cur = st.objects.get(key)
                if cur is None:
                    continue
                new = dict(cur)
                new["metadata"] = dict(cur["metadata"])   # put sets its rv
                eps = list(cur.get("endpoints") or [])
                for i, ready in flips.items():
                    if i < len(eps):
                        e = dict(eps[i])
                        e["conditions"] = dict(e.get("conditions") or {},
                                               ready=ready, serving=ready)
                        eps[i] = e
                new["endpoints"] = eps
                st.put(key, new, owned=True)
                self.writes += 1

    def stop(self, restore=True):
        """Ends the churn (every endpoint taken down put back unless not
        restore, in one write a slice); the figures."""
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()
        self.t1 = time.monotonic()
        if restore and self.down:
            touched = {}
            for _, s, i in self.down:
                touched.setdefault(s, {})[i] = True
            self.down, self.is_down = [], set()
            self.write(touched)
        return self.stats()

    def stats(self):
        secs = (self.t1 or time.monotonic()) - self.t0
        return {"changes": self.changes, "seconds": round(secs, 2),
                "rate": round(self.changes / secs, 1) if secs > 0 else 0,
                "ticks": len(self.tick_ms), "slices_sent": self.writes,
                "late_ticks": self.late, "running": self.running,
                "tick_ms_p50": pct(self.tick_ms, 50),
                "tick_ms_p99": pct(self.tick_ms, 99),
                "tick_ms_max": round(max(self.tick_ms), 2) if self.tick_ms
                else None}
