"""fakecluster.py -- the rest of a cluster, behind fakeapi.py's store.

A real kube-apiserver does not work alone: a scheduler and a kubelet move
pods from Pending to Running and Ready, the endpointslice controller keeps
EndpointSlices in step with pods, the volume binder binds claims, pods and
claims terminate gracefully, the garbage collector follows owner
references, and a CRD with the status and scale subresources has its own
update rules.  This module simulates those parts for the ordinal
controller's system tests.  Everything here is off unless fakeapi.py is
started with --simulate-cluster (or --simulate LIST), or switched on through
POST /config; the passive parts (the history of creations and deletions,
the Event listing) always run.

Not a program of its own: fakeapi.py imports it and calls bind() with
itself, so that both share one ApiError class.  README.md documents the
behaviour; the Kubernetes sources each rule was checked against are listed
there.
"""

import datetime
import hashlib
import heapq
import itertools
import json
import queue
import random
import threading
import time
import traceback

K = None     # the fakeapi module (ApiError, status_obj, present, ...)


def bind(module):
    global K
    K = module


# The simulations, as named in --simulate and POST /config.
FEATURES = ("kubelet", "graceful_deletion", "endpointslices", "petsets", "gc")


def parse_features(words):
    """--simulate values (comma lists, '-' or '_', 'all') -> a set."""
    out = set()
    for word in words:
        for f in word.split(","):
            f = f.strip().replace("-", "_")
            if not f:
                continue
            if f == "all":
                out |= set(FEATURES)
            elif f in FEATURES:
                out.add(f)
            else:
                raise ValueError("unknown simulation %r (one of %s, all)" % (
                    f, ", ".join(x.replace("_", "-") for x in FEATURES)))
    return out


READY_ANNOTATION = "fakeapi.petdns.io/ready"
NODE_NAME = "fakeapi-node-1"
HOST_IP = "172.18.0.2"
SLICE_MANAGER = "endpointslice-controller.k8s.io"
LABEL_SERVICE_NAME = "kubernetes.io/service-name"
LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
LABEL_HEADLESS = "service.kubernetes.io/headless"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
# k8s.io/apimachinery/pkg/util/rand: what generateName suffixes are made of.
NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"

PODS = ("", "pods")
PVCS = ("", "persistentvolumeclaims")
SERVICES = ("", "services")
SLICES = ("discovery.k8s.io", "endpointslices")
EVENTS = ("", "events")

# Who made a change (history "by"): set per thread.
_local = threading.local()


def set_actor(name, agent=None):
    _local.name, _local.agent = name, agent


def current_actor():
    return getattr(_local, "name", "internal"), getattr(_local, "agent", None)


class acting:
    """with acting("kubelet"): writes made here are the kubelet's."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.saved = current_actor()
        set_actor(self.name)

    def __exit__(self, *exc):
        set_actor(*self.saved)


def rfc3339(t=None):
    return datetime.datetime.fromtimestamp(
        time.time() if t is None else t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def md(obj):
    return (obj or {}).get("metadata") or {}


def labels_of(obj):
    return md(obj).get("labels") or {}


def is_terminating(obj):
    return bool(md(obj).get("deletionTimestamp"))


def phase_of(pod):
    return ((pod or {}).get("status") or {}).get("phase")


def is_terminal(pod):
    return phase_of(pod) in ("Succeeded", "Failed")


def is_ready(pod):
    for c in ((pod or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def pod_ips(pod):
    st = (pod or {}).get("status") or {}
    ips = [x.get("ip") for x in st.get("podIPs") or [] if x.get("ip")]
    if not ips and st.get("podIP"):
        ips = [st["podIP"]]
    return ips


def claims_of(pod):
    return [v["persistentVolumeClaim"].get("claimName") for v in
            ((pod or {}).get("spec") or {}).get("volumes") or []
            if isinstance(v.get("persistentVolumeClaim"), dict)]


def selector_matches(sel, labels):
    return bool(sel) and all(labels.get(k) == v for k, v in sel.items())


def get_path(obj, path):
    cur = obj
    for p in path.strip(".").split("."):
        cur = cur.get(p) if isinstance(cur, dict) else None
    return cur


def set_path(obj, path, value):
    parts = path.strip(".").split(".")
    cur = obj
    for p in parts[:-1]:
        if not isinstance(cur.get(p), dict):
            cur[p] = {}
        cur = cur[p]
    cur[parts[-1]] = value


def without_rv(obj):
    o = K.clone(obj)
    o.get("metadata", {}).pop("resourceVersion", None)
    return o


def qualified(res):
    return res.plural + ("." + res.group if res.group else "")


def invalid(res_or_kind, name, field, value, detail):
    """A 422 Invalid Status, field.Invalid style."""
    shown = ("0x%x" % value if isinstance(value, int) and not
             isinstance(value, bool) else json.dumps(value))
    msg = "Invalid value: %s: %s" % (shown, detail)
    kind, group = res_or_kind
    return K.ApiError(
        422, '%s "%s" is invalid: %s: %s' % (
            kind + ("." + group if group else ""), name, field, msg),
        "Invalid", dict({"name": name}, **({"group": group} if group else {}),
                        kind=kind, causes=[{"reason": "FieldValueInvalid",
                                            "message": msg, "field": field}]))


# --------------------------------------------------------------------------
# The simulated cluster.
# --------------------------------------------------------------------------

class Cluster:
    def __init__(self, app, args):
        self.app = app
        self.store = app.store
        self.enabled = set()
        self.q = queue.Queue()
        self.tlock = threading.Lock()
        self.timers = []
        self.tseq = itertools.count()
        # History of creations, terminations, deletions (always recorded).
        self.history = []
        self.hseq = 0
        self.created_seq = {}
        # Kubelet: pods it runs (uid -> {"key", "state"}), readiness set
        # through POST /kubelet, and pod IPs.
        self.managed = {}
        self.ready_override = {}
        self.ips = {}
        self.next_ip = 9
        # Graceful deletion and the garbage collector.
        self.grace_done = set()
        self.pvc_waiting = set()
        self.orphans = set()
        self.store.listeners.append(self.on_change)
        self.thread = threading.Thread(target=self.run, daemon=True,
                                       name="fakecluster")

    # -- configuration ------------------------------------------------------

    @property
    def cfg(self):
        return self.app.config

    def on(self, feature):
        return feature in self.enabled

    def active(self):
        return bool(self.enabled)

    def set_features(self, features):
        features = set(features)
        added = features - self.enabled
        self.enabled = features
        self.app.set_subresources("petdns.io", "petsets",
                                  ["status", "scale"] if "petsets" in features
                                  else [])
        if "endpointslices" in added:
            self.q.put(("resync",))

    def start(self):
        self.thread.start()
        if self.on("endpointslices"):
            self.q.put(("resync",))

    # -- history (runs inside the store lock, in the writer's thread) -------

    def on_change(self, ch):
        self.record_history(ch)
        if self.enabled:
            self.q.put(("change", ch, current_actor()[0]))

    def kind_of(self, group, plural):
        for r in self.app.resources:
            if (r.group, r.plural) == (group, plural):
                return r.kind
        return plural

    def record_history(self, ch):
        g, plural, ns, name = ch.key
        obj = ch.obj
        prev = ch.prev
        kind = obj.get("kind") or self.kind_of(g, plural)
        who, agent = current_actor()
        evs = []
        if ch.type == "ADDED":
            evs.append(("created", None))
            if plural == "pods" and (g, plural) == PODS and is_ready(obj):
                evs.append(("ready", None))
        elif ch.type == "DELETED":
            evs.append(("deleted", None))
        else:
            if is_terminating(obj) and not is_terminating(prev):
                evs.append(("terminating", None))
            if (g, plural) == PODS:
                if phase_of(obj) != phase_of(prev):
                    evs.append(("phase", phase_of(obj)))
                if is_ready(obj) != is_ready(prev):
                    evs.append(("ready" if is_ready(obj) else "unready", None))
            if not evs:
                evs.append(("updated", None))
        for ev, detail in evs:
            self.hseq += 1
            e = {"seq": self.hseq, "time": time.time(),
                 "rv": int(md(obj).get("resourceVersion") or 0),
                 "event": ev, "kind": kind, "namespace": ns, "name": name,
                 "uid": md(obj).get("uid"), "by": who}
            if agent:
                e["agent"] = agent
            if detail is not None:
                e["detail"] = detail
            if (g, plural) == PODS:
                e["phase"] = phase_of(obj)
                e["ready"] = is_ready(obj)
            self.history.append(e)
        if ch.type == "ADDED":
            self.created_seq[md(obj).get("uid")] = self.hseq

    @staticmethod
    def history_line(e):
        where = "%s/%s" % (e["namespace"], e["name"]) if e["namespace"] \
            else e["name"]
        line = "%s %s %s" % (e["event"], e["kind"], where)
        return line + (" " + e["detail"] if e.get("detail") else "")

    def query_history(self, q):
        def words(k):
            v = q.get(k)
            return {w.strip() for w in v.split(",") if w.strip()} if v \
                else None
        kinds = words("kind")
        if kinds:
            kinds = {k.lower() for k in kinds}
        names, events, by = words("name"), words("event"), words("by")
        since = int(q.get("since") or 0)
        out = []
        with self.store.cond:
            hist = list(self.history)
        plural_of = {r.kind.lower(): r.plural for r in self.app.resources}
        for e in hist:
            if e["seq"] <= since:
                continue
            if kinds and not (e["kind"].lower() in kinds or plural_of.get(
                    e["kind"].lower()) in kinds):
                continue
            if q.get("namespace") not in (None, e["namespace"]):
                continue
            if names and e["name"] not in names:
                continue
            if events is None and e["event"] == "updated":
                continue
            if events and e["event"] not in events:
                continue
            if by and e["by"] not in by:
                continue
            out.append(e)
        return out

    def clear_history(self):
        with self.store.cond:
            self.history = []

    # -- Events (GET /events on the control port) ---------------------------

    def query_events(self, q):
        with self.store.cond:
            evs = [K.clone(o) for k, o in self.store.objects.items()
                   if k[:2] == EVENTS]
        out = []
        for e in evs:
            io = e.get("involvedObject") or e.get("regarding") or {}
            if q.get("object") not in (None, io.get("name")):
                continue
            if q.get("kind") not in (None, io.get("kind")):
                continue
            if q.get("namespace") not in (None, md(e).get("namespace")):
                continue
            if q.get("reason") not in (None, e.get("reason")):
                continue
            if q.get("type") not in (None, e.get("type")):
                continue
            out.append(e)
        out.sort(key=lambda e: (self.created_seq.get(md(e).get("uid"), 0),
                                md(e).get("name")))
        return out

    @staticmethod
    def event_line(e):
        io = e.get("involvedObject") or e.get("regarding") or {}
        line = "%s %s %s/%s: %s" % (e.get("type", ""), e.get("reason", ""),
                                    io.get("kind", ""), io.get("name", ""),
                                    e.get("message") or e.get("note") or "")
        if (e.get("count") or 1) > 1:
            line += " (x%d)" % e["count"]
        return line

    # -- the controller thread ----------------------------------------------

    def after(self, delay, fn, *args):
        with self.tlock:
            heapq.heappush(self.timers, (time.monotonic() + max(0, delay),
                                         next(self.tseq), fn, args))
        self.q.put(("wake",))

    def run_timers(self):
        while True:
            with self.tlock:
                if not self.timers or self.timers[0][0] > time.monotonic():
                    return
                _, _, fn, args = heapq.heappop(self.timers)
            try:
                fn(*args)
            except Exception:
                traceback.print_exc()

    def run(self):
        set_actor("fakeapi")
        while not self.app.stopping.is_set():
            with self.tlock:
                nxt = self.timers[0][0] if self.timers else None
            timeout = 0.2 if nxt is None else min(
                0.2, max(0.0, nxt - time.monotonic()))
            items = []
            try:
                items.append(self.q.get(timeout=timeout))
                while True:
                    items.append(self.q.get_nowait())
            except queue.Empty:
                pass
            self.run_timers()
            dirty = set()
            for it in items:
                try:
                    self.handle(it, dirty)
                except Exception:
                    traceback.print_exc()
            for ns, name in sorted(dirty):
                try:
                    self.sync_service(ns, name)
                except Exception:
                    traceback.print_exc()

    def handle(self, item, dirty):
        if item[0] == "resync":
            if self.on("endpointslices"):
                with self.store.cond:
                    dirty.update((k[2], k[3]) for k in self.store.objects
                                 if k[:2] == SERVICES)
            return
        if item[0] != "change":
            return
        _, ch, who = item
        g, plural, ns, name = ch.key
        if (g, plural) == PODS:
            if self.on("kubelet"):
                self.kubelet_on_pod(ch)
            if self.on("endpointslices"):
                dirty.update(self.services_for_pod(ns, ch.prev, ch.obj))
            if self.pvc_waiting:
                self.recheck_pvcs(ns)
        elif (g, plural) == PVCS:
            if self.on("kubelet") and ch.type != "DELETED":
                self.recheck_unscheduled(ns)
        elif (g, plural) == SERVICES:
            if self.on("endpointslices"):
                dirty.add((ns, name))
        elif (g, plural) == SLICES:
            lab = labels_of(ch.obj)
            if (self.on("endpointslices") and who != "endpointslice-controller"
                    and lab.get(LABEL_MANAGED_BY) == SLICE_MANAGER
                    and lab.get(LABEL_SERVICE_NAME)):
                dirty.add((ns, lab[LABEL_SERVICE_NAME]))
        if ch.type == "DELETED":
            uid = md(ch.obj).get("uid")
            if self.on("gc") and uid:
                self.collect(uid, uid in self.orphans)
            self.orphans.discard(uid)

    # -- API hooks (called by fakeapi.py's write path, store lock held) -----

    def prepare_create(self, res, obj, ns):
        """What admission, defaulting and the strategy do to a create."""
        meta = obj.setdefault("metadata", {})
        if self.on("petsets") and res.crd:
            if "status" in res.subresources:
                obj.pop("status", None)
            meta["generation"] = 1
        if (res.group, res.plural) == PODS:
            if self.on("kubelet") or self.on("graceful_deletion"):
                obj.setdefault("spec", {}).setdefault(
                    "terminationGracePeriodSeconds", 30)
            if self.on("kubelet"):
                self.admit_pod(obj, ns)
        elif (res.group, res.plural) == PVCS:
            if self.on("kubelet"):
                obj["status"] = {"phase": "Pending"}
            if self.on("graceful_deletion") and self.cfg["pvc_protection"]:
                fins = meta.setdefault("finalizers", [])
                if PVC_PROTECTION not in fins:
                    fins.append(PVC_PROTECTION)
        elif (res.group, res.plural) == EVENTS and self.active():
            self.validate_event(obj, ns)
        return obj

    def after_create(self, res, key, stored):
        uid = md(stored).get("uid")
        if (res.group, res.plural) == PODS and self.on("kubelet"):
            scheduled = bool((stored.get("spec") or {}).get("nodeName"))
            self.managed[uid] = {"key": key, "state": "starting" if scheduled
                                 else "unscheduled"}
            if scheduled:
                self.after(float(self.cfg["kubelet_delay"]), self.start_pod,
                           key, uid)
        elif (res.group, res.plural) == PVCS and self.on("kubelet"):
            self.after(0, self.bind_claim, key, uid)

    def requires_rv(self, res):
        """CRDs do not allow unconditional updates (PUT without rv)."""
        return self.on("petsets") and res.crd

    def prepare_update(self, res, sub, cur, new):
        """rest.BeforeUpdate and the strategies' PrepareForUpdate."""
        if not self.active():
            return new
        cm, nm = md(cur), new.setdefault("metadata", {})
        for f in ("creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "generation"):
            if f in cm:
                nm[f] = cm[f]
            else:
                nm.pop(f, None)
        if not nm.get("uid"):
            nm["uid"] = cm.get("uid")
        elif nm["uid"] != cm.get("uid"):
            raise invalid((res.kind, res.group), cm.get("name"),
                          "metadata.uid", nm["uid"], "field is immutable")
        if not (self.on("petsets") and res.crd):
            return new
        has_status = "status" in res.subresources
        if sub == "status":
            out = K.clone(cur)
            if "status" in new:
                out["status"] = new["status"]
            else:
                out.pop("status", None)
            return out
        if has_status:
            if "status" in cur:
                new["status"] = K.clone(cur["status"])
            else:
                new.pop("status", None)
        strip = lambda o: {k: v for k, v in o.items()
                           if k not in ("metadata", "kind", "apiVersion")}
        if strip(new) != strip(cur):
            nm["generation"] = int(cm.get("generation") or 0) + 1
        return new

    def control_put(self, res, prev, obj):
        """A POST /objects write: kept as given, except that a CRD's
        metadata.generation is maintained when the object leaves it out."""
        if self.on("petsets") and res.crd:
            meta = obj.setdefault("metadata", {})
            if "generation" not in meta:
                if prev is None:
                    meta["generation"] = 1
                else:
                    g = int(md(prev).get("generation") or 1)
                    strip = lambda o: {k: v for k, v in o.items() if k not in (
                        "metadata", "kind", "apiVersion", "status")}
                    meta["generation"] = g + (strip(obj) != strip(prev))
        return obj

    def is_noop(self, cur, new):
        return self.active() and without_rv(cur) == without_rv(new)

    def after_update(self, key):
        """An update that removed the last finalizer of a terminating
        object: it goes now (when its grace is over)."""
        if self.on("graceful_deletion"):
            self.try_finalize(key)

    def validate_event(self, obj, ns):
        io = obj.get("involvedObject") or {}
        ions = io.get("namespace") or ""
        if (ions and ions != ns) or (not ions and ns not in ("", "default")):
            raise invalid(("Event", ""), md(obj).get("name", ""),
                          "involvedObject.namespace", ions,
                          "does not match event.namespace")

    # -- scale subresource --------------------------------------------------

    def scale_of(self, res, obj):
        spec_r = get_path(obj, ".spec.replicas")
        if not isinstance(spec_r, int):
            msg = 'the spec replicas field ".spec.replicas" does not exist'
            raise K.ApiError(500, "Internal error occurred: " + msg,
                             "InternalError", {"causes": [{"message": msg}]})
        status_r = get_path(obj, ".status.replicas")
        sel = get_path(obj, self.cfg["scale_selector_path"]) \
            if self.cfg["scale_selector_path"] else None
        m = md(obj)
        meta = {"name": m.get("name")}
        if m.get("namespace"):
            meta["namespace"] = m["namespace"]
        meta.update(uid=m.get("uid"), resourceVersion=m.get("resourceVersion"),
                    creationTimestamp=m.get("creationTimestamp"))
        status = {"replicas": status_r if isinstance(status_r, int) else 0}
        if isinstance(sel, str) and sel:
            status["selector"] = sel
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": meta,
                "spec": {"replicas": spec_r} if spec_r else {},
                "status": status}

    def scale_update(self, res, cur, scale, name):
        """The CR that a Scale PUT makes of cur (rv precondition checked by
        the caller): spec.replicas set, generation bumped."""
        replicas = (scale.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            raise K.ApiError(400, "Scale in version \"v1\" cannot be handled "
                             "as a Scale: spec.replicas: expected an integer")
        if replicas < 0:
            raise invalid(("Scale", "autoscaling"), name, "spec.replicas",
                          replicas, "must be greater than or equal to 0")
        new = K.clone(cur)
        set_path(new, ".spec.replicas", replicas)
        return self.prepare_update(res, None, cur, new)

    # -- deletion -----------------------------------------------------------

    def handles_delete(self):
        return self.on("graceful_deletion") or self.on("gc")

    def check_preconditions(self, res, cur, opts):
        pre = opts.get("preconditions") or {}
        m = md(cur)
        for f, label in (("uid", "UID"), ("resourceVersion",
                                          "ResourceVersion")):
            if pre.get(f) and pre[f] != m.get(f):
                raise K.ApiError(
                    409, 'Operation cannot be fulfilled on %s "%s": '
                    'Precondition failed: %s in precondition: %s, %s in '
                    'object meta: %s' % (qualified(res), m.get("name"), label,
                                         pre[f], label, m.get(f)),
                    "Conflict", K.res_details(res, m.get("name")))

    def grace_period(self, res, cur, opts):
        """podStrategy.CheckGracefulDelete; None for kinds without
        graceful deletion."""
        if (res.group, res.plural) != PODS:
            return None
        spec = cur.get("spec") or {}
        gps = opts.get("gracePeriodSeconds")
        if gps is None:
            gps = spec.get("terminationGracePeriodSeconds")
            if gps is None:
                gps = 30    # what API defaulting would have set
        gps = int(gps)
        # Never scheduled (a Running fixture pod without nodeName counts as
        # scheduled), or already finished: immediately.
        if not spec.get("nodeName") and phase_of(cur) != "Running":
            gps = 0
        if is_terminal(cur):
            gps = 0
        return 1 if gps < 0 else gps

    def delete(self, res, key, opts):
        """A DELETE: (object, removed_now) or None if absent.  Pods get
        their grace period, claims wait for pvc-protection, objects with
        finalizers wait for them; the rest goes at once."""
        st = self.store
        graceful = self.on("graceful_deletion")
        with st.cond:
            cur = st.objects.get(key)
            if cur is None:
                return None
            self.check_preconditions(res, cur, opts)
            m = md(cur)
            uid = m.get("uid")
            if opts.get("propagationPolicy") == "Orphan" or \
                    opts.get("orphanDependents") is True:
                self.orphans.add(uid)
            period = self.grace_period(res, cur, opts) if graceful else None
            fins = m.get("finalizers") or []
            if m.get("deletionTimestamp"):
                old = m.get("deletionGracePeriodSeconds")
                if period is None or not old or period >= old:
                    return K.clone(cur), False
                if period == 0:
                    self.grace_done.add(uid)
                    if not fins:
                        return st.delete(key), True
                new = K.clone(cur)
                new["metadata"]["deletionTimestamp"] = rfc3339(
                    time.time() + period)
                new["metadata"]["deletionGracePeriodSeconds"] = period
                _, stored = st.put(key, new)
                if period:
                    self.after(min(float(self.cfg["grace"]), period),
                               self.finish_delete, key, uid)
                return stored, False
            protect = graceful and (res.group, res.plural) == PVCS
            if not fins and not protect and not period:
                return st.delete(key), True
            new = K.clone(cur)
            nm = new["metadata"]
            nm["deletionTimestamp"] = rfc3339(time.time() + (period or 0))
            nm["deletionGracePeriodSeconds"] = period or 0
            _, stored = st.put(key, new)
            if period:
                self.after(min(float(self.cfg["grace"]), period),
                           self.finish_delete, key, uid)
            elif protect:
                self.after(float(self.cfg["grace"]), self.finish_delete, key,
                           uid)
            else:
                self.grace_done.add(uid)
            return stored, False

    def finish_delete(self, key, uid):
        with self.store.cond:
            cur = self.store.objects.get(key)
            if cur is None or md(cur).get("uid") != uid:
                return
            self.grace_done.add(uid)
            self.try_finalize(key)

    def try_finalize(self, key):
        st = self.store
        with st.cond:
            cur = st.objects.get(key)
            if cur is None or not is_terminating(cur):
                return
            m = md(cur)
            fins = m.get("finalizers") or []
            if key[:2] == PVCS:
                # Ours to remove (the pvc-protection controller's).
                fins = [f for f in fins if f != PVC_PROTECTION]
            if fins:
                return
            uid = m.get("uid")
            who = "garbage-collector"
            if key[:2] == PODS:
                if m.get("deletionGracePeriodSeconds") and \
                        uid not in self.grace_done:
                    return
                who = "kubelet"
            elif key[:2] == PVCS:
                if uid not in self.grace_done:
                    return
                if self.cfg["pvc_protection"] and self.claim_in_use(
                        key[2], key[3]):
                    self.pvc_waiting.add(key)
                    return
                who = "pvc-protection-controller"
            self.pvc_waiting.discard(key)
            with acting(who):
                st.delete(key)

    def claim_in_use(self, ns, claim):
        """The pvc-protection controller's podUsesPVC: a scheduled pod
        (the kubelet never starts one on a terminating claim) that has
        not finished."""
        return any(k[:2] == PODS and k[2] == ns and not is_terminal(o)
                   and (o.get("spec") or {}).get("nodeName")
                   and claim in claims_of(o)
                   for k, o in self.store.objects.items())

    def recheck_pvcs(self, ns):
        for key in sorted(self.pvc_waiting):
            if key[2] == ns:
                self.try_finalize(key)

    # -- garbage collector --------------------------------------------------

    def collect(self, uid, orphan):
        st = self.store
        with st.cond:
            deps = [k for k, o in st.objects.items() if any(
                r.get("uid") == uid for r in md(o).get("ownerReferences")
                or [])]
        for key in deps:
            with st.cond, acting("garbage-collector"):
                o = st.objects.get(key)
                if o is None:
                    continue
                refs = md(o).get("ownerReferences") or []
                rest = [r for r in refs if r.get("uid") != uid]
                uids = {md(x).get("uid") for x in st.objects.values()}
                alive = [r for r in rest if r.get("uid") in uids]
                if orphan or alive:
                    new = K.clone(o)
                    if rest:
                        new["metadata"]["ownerReferences"] = rest
                    else:
                        new["metadata"].pop("ownerReferences", None)
                    st.put(key, new)
                    continue
                res = next((r for r in self.app.resources
                            if (r.group, r.plural) == key[:2]), None)
                if res is not None:
                    self.delete(res, key, {})

    # -- kubelet, scheduler and volume binder -------------------------------

    def unschedulable(self, ns, pod):
        """Why the scheduler cannot place the pod now, or None."""
        for claim in claims_of(pod):
            c = self.store.objects.get(PVCS + (ns, claim))
            if c is None:
                return 'persistentvolumeclaim "%s" not found' % claim
            if is_terminating(c):
                return 'persistentvolumeclaim "%s" is being deleted' % claim
        return None

    @staticmethod
    def condition(ctype, ok, prev_conds=(), reason=None, message=None):
        now = rfc3339()
        status = "True" if ok else "False"
        since = now
        for c in prev_conds or ():
            if c.get("type") == ctype and c.get("status") == status:
                since = c.get("lastTransitionTime") or now
        c = {"type": ctype, "status": status, "lastProbeTime": None,
             "lastTransitionTime": since}
        if reason:
            c["reason"] = reason
        if message:
            c["message"] = message
        return c

    def admit_pod(self, pod, ns):
        """A new pod: Pending at once; bound to the node when its claims
        exist (else PodScheduled=False, Unschedulable)."""
        spec = pod.setdefault("spec", {})
        why = None if spec.get("nodeName") else self.unschedulable(ns, pod)
        status = {"phase": "Pending"}
        if why:
            status["conditions"] = [self.condition(
                "PodScheduled", False, reason="Unschedulable",
                message="0/1 nodes are available: %s." % why)]
        else:
            spec.setdefault("nodeName", NODE_NAME)
            status["conditions"] = [self.condition("PodScheduled", True)]
        status["qosClass"] = "BestEffort"
        pod["status"] = status

    def recheck_unscheduled(self, ns):
        for uid, ent in list(self.managed.items()):
            if ent["state"] == "unscheduled" and ent["key"][2] == ns:
                self.try_schedule(ent["key"], uid)

    def try_schedule(self, key, uid):
        st = self.store
        with st.cond:
            pod = st.objects.get(key)
            if (pod is None or md(pod).get("uid") != uid
                    or is_terminating(pod)
                    or (pod.get("spec") or {}).get("nodeName")
                    or self.unschedulable(key[2], pod)):
                return
            new = K.clone(pod)
            new["spec"]["nodeName"] = NODE_NAME
            new["status"] = {"phase": "Pending", "conditions": [
                self.condition("PodScheduled", True)], "qosClass":
                "BestEffort"}
            with acting("scheduler"):
                st.put(key, new)
            self.managed[uid]["state"] = "starting"
        self.after(float(self.cfg["kubelet_delay"]), self.start_pod, key, uid)

    def start_pod(self, key, uid):
        st = self.store
        with st.cond:
            pod = st.objects.get(key)
            if (pod is None or md(pod).get("uid") != uid
                    or is_terminating(pod) or phase_of(pod) != "Pending"
                    or not (pod.get("spec") or {}).get("nodeName")):
                return
            new = K.clone(pod)
            new["status"] = self.pod_status(pod, "Running",
                                            self.wanted_ready(pod))
            with acting("kubelet"):
                st.put(key, new)
            if uid in self.managed:
                self.managed[uid]["state"] = "running"

    def wanted_ready(self, pod):
        uid = md(pod).get("uid")
        if uid in self.ready_override:
            return self.ready_override[uid]
        return (md(pod).get("annotations") or {}).get(
            READY_ANNOTATION) != "false"

    def alloc_ip(self, pod):
        m = md(pod)
        ident = m.get("uid") if self.cfg["fresh_pod_ips"] else \
            "%s/%s" % (m.get("namespace"), m.get("name"))
        ip = self.ips.get(ident)
        if ip:
            return ip
        used = set(self.ips.values())
        used.update(ip for k, o in self.store.objects.items()
                    if k[:2] == PODS for ip in pod_ips(o))
        while True:
            self.next_ip += 1
            n = self.next_ip
            ip = "10.244.%d.%d" % ((n >> 8) & 255, n & 255)
            if n & 255 not in (0, 255) and ip not in used:
                break
        self.ips[ident] = ip
        return ip

    def pod_status(self, pod, phase, ready, ip=None):
        """The status a kubelet writes for a pod in this phase."""
        prev = pod.get("status") or {}
        pconds = prev.get("conditions") or []
        now = rfc3339()
        start = prev.get("startTime") or now
        ip = ip or (pod_ips(pod) or [None])[0] or self.alloc_ip(pod)
        containers = (pod.get("spec") or {}).get("containers") or []
        cnames = [c.get("name", "") for c in containers]
        running = phase == "Running"
        ready = bool(ready) and running
        why, msg = None, None
        if not ready:
            why = "PodCompleted" if not running else "ContainersNotReady"
            msg = None if not running else \
                "containers with unready status: [%s]" % " ".join(cnames)
        conds = [self.condition("Initialized", True, pconds,
                                "PodCompleted" if not running else None),
                 self.condition("Ready", ready, pconds, why, msg),
                 self.condition("ContainersReady", ready, pconds, why, msg),
                 self.condition("PodScheduled", True, pconds)]
        cstats = []
        for c in containers:
            cid = hashlib.sha256(("%s/%s/%s" % (md(pod).get("uid"), c.get(
                "name"), phase)).encode()).hexdigest()
            if running:
                state = {"running": {"startedAt": start}}
            else:
                code = 0 if phase == "Succeeded" else 1
                state = {"terminated": {
                    "exitCode": code,
                    "reason": "Completed" if code == 0 else "Error",
                    "startedAt": start, "finishedAt": now,
                    "containerID": "containerd://" + cid}}
            cstats.append({"name": c.get("name", ""), "state": state,
                           "lastState": {}, "ready": ready,
                           "restartCount": 0, "image": c.get("image", ""),
                           "imageID": "", "containerID": "containerd://" + cid,
                           "started": running})
        return {"phase": phase, "conditions": conds, "hostIP": HOST_IP,
                "hostIPs": [{"ip": HOST_IP}], "podIP": ip,
                "podIPs": [{"ip": ip}], "startTime": start,
                "containerStatuses": cstats, "qosClass": "BestEffort"}

    def kubelet_on_pod(self, ch):
        if ch.type == "DELETED":
            uid = md(ch.obj).get("uid")
            self.managed.pop(uid, None)
            self.ready_override.pop(uid, None)
            self.grace_done.discard(uid)
            self.ips.pop(uid, None)
            return
        obj, prev = ch.obj, ch.prev
        uid = md(obj).get("uid")
        if uid not in self.managed or prev is None:
            return
        now_a = (md(obj).get("annotations") or {}).get(READY_ANNOTATION)
        was_a = (md(prev).get("annotations") or {}).get(READY_ANNOTATION)
        if now_a == was_a:
            return
        st = self.store
        with st.cond:
            pod = st.objects.get(ch.key)
            if (pod is None or md(pod).get("uid") != uid
                    or phase_of(pod) != "Running" or is_terminating(pod)):
                return
            self.ready_override.pop(uid, None)
            ready = self.wanted_ready(pod)
            if ready == is_ready(pod):
                return
            new = K.clone(pod)
            new["status"] = self.pod_status(pod, "Running", ready)
            with acting("kubelet"):
                st.put(ch.key, new)

    def kubelet_control(self, body):
        """POST /kubelet: {"namespace","name","ready","phase","podIP"}."""
        ns = body.get("namespace") or "default"
        key = PODS + (ns, body["name"])
        phase = body.get("phase")
        if phase not in (None, "Running", "Failed", "Succeeded", "Pending"):
            raise ValueError("phase must be Running, Failed or Succeeded")
        st = self.store
        with st.cond:
            pod = st.objects.get(key)
            if pod is None:
                return 404, {"error": "pod %s/%s not found" % key[2:]}
            uid = md(pod).get("uid")
            if "ready" in body:
                self.ready_override[uid] = bool(body["ready"])
            if body.get("podIP"):
                ident = uid if self.cfg["fresh_pod_ips"] else "%s/%s" % key[2:]
                self.ips[ident] = body["podIP"]
            if phase is None:
                phase = phase_of(pod) if phase_of(pod) in (
                    "Running", "Failed", "Succeeded") else None
            if phase is None:      # not started yet: applies when it starts
                return 200, {"applied": False, "pod": K.clone(pod)}
            new = K.clone(pod)
            if phase == "Pending":
                new["status"] = {"phase": "Pending",
                                 "conditions": [self.condition(
                                     "PodScheduled", True)],
                                 "qosClass": "BestEffort"}
            else:
                new["status"] = self.pod_status(
                    pod, phase, self.wanted_ready(pod),
                    ip=body.get("podIP"))
            new.setdefault("spec", {}).setdefault("nodeName", NODE_NAME)
            _, stored = st.put(key, new)
            if uid in self.managed:
                self.managed[uid]["state"] = "running" if phase == "Running" \
                    else "done"
        return 200, {"applied": True, "pod": stored}

    def bind_claim(self, key, uid):
        st = self.store
        with st.cond:
            c = st.objects.get(key)
            if c is None or md(c).get("uid") != uid or is_terminating(c) or \
                    phase_of(c) != "Pending":
                return
            new = K.clone(c)
            spec = new.setdefault("spec", {})
            spec.setdefault("volumeName", "pvc-" + uid)
            ann = new["metadata"].setdefault("annotations", {})
            ann.setdefault("pv.kubernetes.io/bind-completed", "yes")
            ann.setdefault("pv.kubernetes.io/bound-by-controller", "yes")
            storage = ((spec.get("resources") or {}).get("requests") or
                       {}).get("storage")
            new["status"] = {"phase": "Bound",
                             "accessModes": spec.get("accessModes") or [],
                             "capacity": {"storage": storage} if storage
                             else {}}
            with acting("volume-binder"):
                st.put(key, new)

    # -- endpointslice controller -------------------------------------------

    def services_for_pod(self, ns, prev, obj):
        lsets = [labels_of(o) for o in (prev, obj) if o]
        out = set()
        with self.store.cond:
            for k, svc in self.store.objects.items():
                if k[:2] == SERVICES and k[2] == ns:
                    sel = (svc.get("spec") or {}).get("selector")
                    if any(selector_matches(sel, ls) for ls in lsets):
                        out.add((ns, k[3]))
        return out

    @staticmethod
    def endpoint_ports(svc, pod):
        out = []
        containers = (pod.get("spec") or {}).get("containers") or []
        for sp in (svc.get("spec") or {}).get("ports") or []:
            proto = sp.get("protocol") or "TCP"
            tp = sp.get("targetPort", sp.get("port"))
            if isinstance(tp, str) and not tp.isdigit():
                num = next((cp.get("containerPort") for c in containers
                            for cp in c.get("ports") or []
                            if cp.get("name") == tp and
                            (cp.get("protocol") or "TCP") == proto), None)
                if num is None:
                    continue        # the real controller skips the port
            else:
                num = int(tp)
            p = {"name": sp.get("name") or "", "protocol": proto, "port": num}
            if sp.get("appProtocol"):
                p["appProtocol"] = sp["appProtocol"]
            out.append(p)
        return out or None

    @staticmethod
    def endpoint(svc, pod, addrs):
        serving = is_ready(pod)
        term = is_terminating(pod)
        ready = bool((svc.get("spec") or {}).get(
            "publishNotReadyAddresses")) or (serving and not term)
        ep = {"addresses": addrs, "conditions": {
            "ready": ready, "serving": serving, "terminating": term}}
        ps = pod.get("spec") or {}
        if ps.get("hostname") and ps.get("subdomain") == md(svc).get("name") \
                and md(pod).get("namespace") == md(svc).get("namespace"):
            ep["hostname"] = ps["hostname"]
        ref = {"kind": "Pod", "namespace": md(pod).get("namespace"),
               "name": md(pod).get("name")}
        if md(pod).get("uid"):
            ref["uid"] = md(pod)["uid"]
        ep["targetRef"] = ref
        if ps.get("nodeName"):
            ep["nodeName"] = ps["nodeName"]
        return ep

    def sync_service(self, ns, name):
        st = self.store
        with st.cond, acting("endpointslice-controller"):
            svc = st.objects.get(SERVICES + (ns, name))
            managed = sorted(
                (k, o) for k, o in st.objects.items()
                if k[:2] == SLICES and k[2] == ns
                and labels_of(o).get(LABEL_SERVICE_NAME) == name
                and labels_of(o).get(LABEL_MANAGED_BY) == SLICE_MANAGER)
            if svc is None:
                for k, _ in managed:
                    st.delete(k)
                return
            spec = svc.get("spec") or {}
            sel = spec.get("selector")
            if spec.get("type") == "ExternalName" or not sel:
                return
            pods = sorted((o for k, o in st.objects.items()
                           if k[:2] == PODS and k[2] == ns
                           and selector_matches(sel, labels_of(o))),
                          key=lambda o: md(o).get("name"))
            fams = spec.get("ipFamilies") or (
                ["IPv6"] if ":" in (spec.get("clusterIP") or "") else ["IPv4"])
            want = []
            for fam in fams:
                groups = {}
                for pod in pods:
                    if is_terminal(pod):
                        continue
                    addrs = [ip for ip in pod_ips(pod)
                             if (":" in ip) == (fam == "IPv6")][:1]
                    if not addrs:
                        continue
                    ports = self.endpoint_ports(svc, pod)
                    g = groups.setdefault(json.dumps(ports), (ports, []))
                    g[1].append(self.endpoint(svc, pod, addrs))
                if not groups:
                    want.append((fam, None, None))      # placeholder slice
                for ports, eps in groups.values():
                    want.append((fam, ports, eps))
            labels = {k: v for k, v in labels_of(svc).items()
                      if k not in (LABEL_SERVICE_NAME, LABEL_MANAGED_BY)}
            if spec.get("clusterIP") == "None":
                labels[LABEL_HEADLESS] = ""
            else:
                labels.pop(LABEL_HEADLESS, None)
            labels[LABEL_SERVICE_NAME] = name
            labels[LABEL_MANAGED_BY] = SLICE_MANAGER
            labels = dict(sorted(labels.items()))
            owner = [{"apiVersion": "v1", "kind": "Service", "name": name,
                      "uid": md(svc).get("uid"), "controller": True,
                      "blockOwnerDeletion": True}]
            existing = list(managed)
            for fam, ports, eps in want:
                pick = next((i for i, (k, o) in enumerate(existing)
                             if o.get("addressType") == fam
                             and o.get("ports") == ports), None)
                if pick is None:
                    pick = next((i for i, (k, o) in enumerate(existing)
                                 if o.get("addressType") == fam), None)
                if pick is None:
                    prefix = name + "-" if len(name) < 58 else name[:57] + "-"
                    while True:
                        sname = prefix + "".join(random.choice(NAME_CHARS)
                                                 for _ in range(5))
                        if SLICES + (ns, sname) not in st.objects:
                            break
                    st.put(SLICES + (ns, sname), {
                        "kind": "EndpointSlice",
                        "apiVersion": "discovery.k8s.io/v1",
                        "metadata": {"name": sname, "generateName": prefix,
                                     "namespace": ns, "generation": 1,
                                     "labels": labels,
                                     "ownerReferences": owner},
                        "addressType": fam, "endpoints": eps, "ports": ports})
                    continue
                k, o = existing.pop(pick)
                if (o.get("endpoints") == eps and o.get("ports") == ports
                        and labels_of(o) == labels
                        and md(o).get("ownerReferences") == owner):
                    continue
                new = K.clone(o)
                new.update(endpoints=eps, ports=ports)
                nm = new["metadata"]
                nm["labels"] = labels
                nm["ownerReferences"] = owner
                nm["generation"] = int(nm.get("generation") or 1) + 1
                st.put(k, new)
            for k, _ in existing:
                st.delete(k)
