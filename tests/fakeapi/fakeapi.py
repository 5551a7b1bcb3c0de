#!/usr/bin/env python3
"""fakeapi.py -- a fake kube-apiserver for petdns's watcher tests.

Speaks the JSON wire format client-go sees from a real kube-apiserver:
discovery documents, paged LIST with opaque continue tokens, chunked WATCH
streams with bookmarks, 410 expiry after compaction, Status errors.  A
separate plain-HTTP control port on 127.0.0.1 lets a test change objects,
compact history, inject faults, rotate the token and read the request log.

Python 3.11 standard library only.  README.md next to this file documents
the command line, the control API and the shapes, with the Kubernetes
sources each one was checked against.
"""

import argparse
import base64
import bisect
import copy
import datetime
import hashlib
import http.server
import json
import marshal
import os
import queue
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import namedtuple
from urllib.parse import parse_qs, unquote, urlsplit

import fakechurn
import fakecluster

# --------------------------------------------------------------------------
# JSON the way Go's encoding/json writes it: compact, UTF-8, HTML-escaped,
# one trailing newline per document (json.Encoder.Encode).
# --------------------------------------------------------------------------

_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
               ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def clone(obj):
    """A deep copy of JSON data (dicts, lists, scalars): marshal's round
    trip is about ten times faster than copy.deepcopy, which made every
    write of a big EndpointSlice cost half a millisecond."""
    return marshal.loads(marshal.dumps(obj))


def go_json(obj, sort_keys=False):
    """Serializes obj compactly as Go does (those characters only occur
    inside JSON strings, so replacing them is safe)."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False,
                   sort_keys=sort_keys)
    for a, b in _GO_ESCAPES:
        s = s.replace(a, b)
    return s


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------
# Resource table: one line per served group/version/resource.  The same
# group+plural in two versions shares one storage, as in etcd.  CRDs are
# unstructured: list items keep kind/apiVersion, keys come out sorted and
# bookmarks carry metadata only.
# --------------------------------------------------------------------------

Resource = namedtuple("Resource", "group version plural kind namespaced short "
                      "subresources crd")


def R(group, version, plural, kind, namespaced=True, short="", sub="status",
      crd=False):
    return Resource(group, version, plural, kind, namespaced, short.split(),
                    sub.split(), crd)


RESOURCES = [
    R("", "v1", "namespaces", "Namespace", False, "ns", "finalize status"),
    R("", "v1", "services", "Service", True, "svc"),
    R("", "v1", "pods", "Pod", True, "po"),
    R("", "v1", "endpoints", "Endpoints", True, "ep", ""),
    R("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, "pvc"),
    R("", "v1", "events", "Event", True, "ev", ""),
    R("", "v1", "nodes", "Node", False, "no"),
    R("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True, "", ""),
    R("apps", "v1", "statefulsets", "StatefulSet", True, "sts"),
    R("petdns.io", "v1alpha1", "petsets", "PetSet", True, "pet", "", crd=True),
]

# Kubernetes 1.19-1.20 (--no-endpointslice-v1): only discovery.k8s.io/v1beta1.
ENDPOINTSLICE_V1BETA1 = R("discovery.k8s.io", "v1beta1", "endpointslices",
                          "EndpointSlice", True, "", "")

# The zero-value body of a typed BOOKMARK object (Go serializes the empty
# struct: non-omitempty fields show up as {}, null or "").
ZERO = {
    "Namespace": {"spec": {}, "status": {}},
    "Service": {"spec": {}, "status": {"loadBalancer": {}}},
    "Pod": {"spec": {"containers": None}, "status": {}},
    "PersistentVolumeClaim": {"spec": {"resources": {}}, "status": {}},
    "EndpointSlice": {"addressType": "", "endpoints": None, "ports": None},
    "Event": {"involvedObject": {}, "source": {}, "firstTimestamp": None,
              "lastTimestamp": None, "eventTime": None,
              "reportingComponent": "", "reportingInstance": ""},
}

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch",
         "update", "watch"]

# Field selectors the real server accepts beyond metadata.name/namespace.
FIELD_LABELS = {
    "pods": {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
             "spec.serviceAccountName", "status.phase", "status.podIP",
             "status.nominatedNodeName"},
    "events": {"involvedObject.kind", "involvedObject.namespace",
               "involvedObject.name", "involvedObject.uid",
               "involvedObject.apiVersion", "involvedObject.resourceVersion",
               "involvedObject.fieldPath", "reason", "source", "type"},
    "namespaces": {"status.phase"},
    "services": {"spec.clusterIP", "spec.type"},
}


def gv_of(res):
    return res.group + "/" + res.version if res.group else res.version


def storage_version_hash(res):
    d = hashlib.sha256(("%s/%s/%s" % (res.group, res.version, res.kind))
                       .encode()).digest()
    return base64.b64encode(d[:8]).decode()


def split_api_version(api_version):
    if "/" in api_version:
        g, v = api_version.split("/", 1)
        return g, v
    return "", api_version


def _endpoint_v1_to_v1beta1(ep):
    topo = dict(ep.pop("deprecatedTopology", None) or {})
    if ep.get("nodeName"):
        topo["kubernetes.io/hostname"] = ep["nodeName"]
    if ep.get("zone"):
        topo["topology.kubernetes.io/zone"] = ep["zone"]
    ep.pop("nodeName", None)
    ep.pop("zone", None)
    if topo:
        ep["topology"] = topo
    return ep


def _endpoint_v1beta1_to_v1(ep):
    topo = dict(ep.pop("topology", None) or {})
    node = topo.pop("kubernetes.io/hostname", None)
    zone = topo.pop("topology.kubernetes.io/zone", None)
    if topo:
        ep["deprecatedTopology"] = topo
    if node:
        ep["nodeName"] = node
    if zone:
        ep["zone"] = zone
    return ep


def convert(obj, res):
    """Returns a copy of obj converted to res's version (EndpointSlice
    v1 <-> v1beta1 topology; other kinds only change apiVersion)."""
    # Shallow: what is served is serialized, not changed (pad_object's
    # callers copy deeply first); a deep copy a LIST item made fakeapi's
    # 100k-pod LIST take seconds.
    o = dict(obj)
    src = split_api_version(o.get("apiVersion", ""))[1]
    if res.plural == "endpointslices" and src != res.version:
        f = (_endpoint_v1_to_v1beta1 if res.version == "v1beta1"
             else _endpoint_v1beta1_to_v1)
        o["endpoints"] = [f(dict(e)) for e in (o.get("endpoints") or [])]
    return o


def present(obj, res, typed):
    """The object as served through res: kind/apiVersion first when typed
    (watch events, GET) or for CRDs, dropped for items of built-in lists."""
    o = convert(obj, res)
    o.pop("kind", None)
    o.pop("apiVersion", None)
    if typed or res.crd:
        o = {"kind": res.kind, "apiVersion": gv_of(res), **o}
    return o


# --------------------------------------------------------------------------
# Status errors.
# --------------------------------------------------------------------------

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden",
           404: "NotFound", 405: "MethodNotAllowed", 409: "Conflict",
           410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError",
           503: "ServiceUnavailable", 504: "Timeout"}


def status_obj(code, message, reason=None, details=None, meta=None):
    """A metav1.Status in Go field order."""
    s = {"kind": "Status", "apiVersion": "v1", "metadata": meta or {},
         "status": "Failure", "message": message}
    reason = reason if reason is not None else REASONS.get(code, "")
    if reason:
        s["reason"] = reason
    if details is not None:
        s["details"] = details
    s["code"] = code
    return s


class ApiError(Exception):
    """Raised by handlers; rendered as a Status body with HTTP code."""

    def __init__(self, code, message, reason=None, details=None, meta=None,
                 headers=None):
        super().__init__(message)
        self.code = code
        self.status = status_obj(code, message, reason, details, meta)
        self.headers = headers or {}


def res_details(res, name=None):
    d = {}
    if name:
        d["name"] = name
    if res.group:
        d["group"] = res.group
    d["kind"] = res.plural
    return d


def not_found_resource():
    return ApiError(404, "the server could not find the requested resource",
                    details={})


def expired_too_old(rv, oldest):
    return status_obj(410, "too old resource version: %d (%d)" % (rv, oldest),
                      "Expired")


def too_large(rv, current):
    return ApiError(504, "Timeout: Too large resource version: %d, current: %d"
                    % (rv, current), "Timeout",
                    {"causes": [{"reason": "ResourceVersionTooLarge",
                                 "message": "Too large resource version"}],
                     "retryAfterSeconds": 1})


# --------------------------------------------------------------------------
# Label and field selectors (k8s.io/apimachinery/pkg/labels syntax).
# --------------------------------------------------------------------------

def _split_top(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_label_selector(s):
    """Returns a list of (key, op, values); raises ApiError 400."""
    reqs = []
    for part in _split_top(s or ""):
        words = part.split()
        if len(words) >= 2 and words[1] in ("in", "notin"):
            rest = part.split(None, 2)[2].strip() if len(words) > 2 else ""
            if not (rest.startswith("(") and rest.endswith(")")):
                raise ApiError(400, "unable to parse requirement: found '%s', "
                               "expected: '('" % rest)
            vals = {v.strip() for v in rest[1:-1].split(",") if v.strip()}
            reqs.append((words[0], words[1], vals))
        elif "!=" in part:
            k, v = part.split("!=", 1)
            reqs.append((k.strip(), "!=", {v.strip()}))
        elif "==" in part or "=" in part:
            k, v = part.split("==", 1) if "==" in part else part.split("=", 1)
            reqs.append((k.strip(), "=", {v.strip()}))
        elif part.startswith("!"):
            reqs.append((part[1:].strip(), "!", set()))
        elif len(words) == 1:
            reqs.append((part, "exists", set()))
        else:
            raise ApiError(400, "unable to parse requirement: invalid label "
                           "selector %r" % part)
        if not reqs[-1][0]:
            raise ApiError(400, "unable to parse requirement: empty key")
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        val = labels.get(key)
        ok = {"=": has and val in vals, "in": has and val in vals,
              "!=": not has or val not in vals,
              "notin": not has or val not in vals,
              "exists": has, "!": not has}[op]
        if not ok:
            return False
    return True


def parse_field_selector(s, res):
    reqs = []
    allowed = {"metadata.name", "metadata.namespace"} | FIELD_LABELS.get(
        res.plural, set())
    for part in _split_top(s or ""):
        if "!=" in part:
            k, v, neg = *part.split("!=", 1), True
        elif "=" in part:
            k, v = part.split("==", 1) if "==" in part else part.split("=", 1)
            neg = False
        else:
            raise ApiError(400, "invalid selector: '%s'; can't understand '%s'"
                           % (s, part))
        k = k.strip()
        if k not in allowed:
            raise ApiError(400, 'field label not supported: %s' % k)
        reqs.append((k, v.strip(), neg))
    return reqs


def fields_match(reqs, obj):
    for path, want, neg in reqs:
        cur = obj
        for p in path.split("."):
            cur = cur.get(p) if isinstance(cur, dict) else None
        got = "" if cur is None else (str(cur).lower()
                                      if isinstance(cur, bool) else str(cur))
        if (got == want) == neg:
            return False
    return True


# --------------------------------------------------------------------------
# Store: objects keyed (group, plural, namespace, name), one global
# resourceVersion counter like etcd's revision, and the history of changes
# since the compaction point (watch replay and paged-list snapshots).
# --------------------------------------------------------------------------

Change = namedtuple("Change", "rv type key obj prev")

# ObjectMeta's field order, which Go's encoder follows.
META_ORDER = ["name", "generateName", "namespace", "selfLink", "uid",
              "resourceVersion", "generation", "creationTimestamp",
              "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
              "annotations", "ownerReferences", "finalizers", "managedFields"]
META_RANK = {k: i for i, k in enumerate(META_ORDER)}


class Store:
    def __init__(self, history_size=0):
        self.cond = threading.Condition()
        self.rv = 0
        self.compacted = 0
        self.objects = {}
        self.history = []
        self.history_size = history_size
        self.watchers = set()
        self.listeners = []     # called with every change, lock held
        # Sorted LIST rows by (group, plural, ns, rv): a paged LIST asks the
        # same snapshot again for every page. A given rv's objects never change.
        self.rows_cache = {}
        # LIST items as JSON text by (id, plural, version): a Go API server
        # encodes 100k objects in well under a second, json.dumps did not.
        self.item_json = {}
        # Watch events' endpoints as JSON text by id (event_line).
        self.part_json = {}

    def list_item_json(self, obj, res):
        key = (id(obj), res.plural, res.version)
        hit = self.item_json.get(key)
        if hit is not None and hit[0] is obj:
            return hit[1]
        text = go_json(present(obj, res, False))
        if len(self.item_json) > 4 * max(1000, len(self.objects)):
            self.item_json.clear()      # replaced objects pile up otherwise
        self.item_json[key] = (obj, text)
        return text

    def _record(self, ch):
        self.history.append(ch)
        if self.history_size and len(self.history) > self.history_size:
            self.compacted = self.history.pop(0).rv
        for w in list(self.watchers):
            w.offer(ch)
        for fn in self.listeners:
            fn(ch)
        self.cond.notify_all()

    def put(self, key, obj, owned=False):
        """Creates or replaces; returns (type, stored copy). owned: obj is
        the caller's to give away (a parsed request body): stored without
        a copy, and the stored object itself returned, not to be changed."""
        with self.cond:
            prev = self.objects.get(key)
            self.rv += 1
            o = obj if owned else clone(obj)
            meta = o.setdefault("metadata", {})
            meta["resourceVersion"] = str(self.rv)
            if prev is not None:
                meta.setdefault("uid", prev["metadata"].get("uid"))
                meta.setdefault("creationTimestamp",
                                prev["metadata"].get("creationTimestamp"))
            if "uid" not in meta:
                meta["uid"] = str(uuid.uuid4())
            if "creationTimestamp" not in meta:
                meta["creationTimestamp"] = now_rfc3339()
            o["metadata"] = {k: meta[k] for k in sorted(
                meta, key=lambda k: META_RANK.get(k, len(META_ORDER)))}
            self.objects[key] = o
            kind = "MODIFIED" if prev is not None else "ADDED"
            self._record(Change(self.rv, kind, key, o, prev))
            return kind, (o if owned else clone(o))

    def delete(self, key):
        """Removes; returns the final state (with the deletion's rv) or None."""
        with self.cond:
            prev = self.objects.pop(key, None)
            if prev is None:
                return None
            self.rv += 1
            final = clone(prev)
            final["metadata"]["resourceVersion"] = str(self.rv)
            self._record(Change(self.rv, "DELETED", key, final, prev))
            return clone(final)

    def compact(self):
        with self.cond:
            self.compacted = self.rv
            self.history = []
            return self.compacted

    def snapshot(self, at_rv):
        """The objects as of at_rv (caller holds the lock, at_rv >= compacted)."""
        objs = dict(self.objects)
        for ch in reversed(self.history):
            if ch.rv <= at_rv:
                break
            if ch.prev is None:
                objs.pop(ch.key, None)
            else:
                objs[ch.key] = ch.prev
        return objs

    def wait_for_rv(self, rv, timeout=3.0):
        """Blocks up to timeout for the store to reach rv (the watch
        cache's 3 s freshness wait); caller holds the lock."""
        end = time.monotonic() + timeout
        while self.rv < rv and time.monotonic() < end:
            self.cond.wait(end - time.monotonic())
        return self.rv >= rv


# --------------------------------------------------------------------------
# A watch: filters store changes for one request and queues them for the
# connection thread.  Control messages share the queue.
# --------------------------------------------------------------------------

DROP, SHUTDOWN, EXPIRE = "drop", "shutdown", "expire"


class Watcher:
    _ids = iter(range(1, 1 << 62))

    def __init__(self, res, ns, lsel, fsel, bookmarks, rv, peer):
        self.id = next(Watcher._ids)
        self.res, self.ns, self.lsel, self.fsel = res, ns, lsel, fsel
        self.bookmarks, self.start_rv, self.peer = bookmarks, rv, peer
        self.q = queue.Queue()
        self.started = time.time()
        self.sent = 0

    def matches(self, obj):
        return (obj is not None and labels_match(
            self.lsel, obj.get("metadata", {}).get("labels"))
            and fields_match(self.fsel, obj))

    def transform(self, ch):
        """The event this watch sees for a store change, or None (objects
        entering or leaving the selection become ADDED / DELETED)."""
        g, plural, ns, _ = ch.key
        if (g, plural) != (self.res.group, self.res.plural):
            return None
        if self.ns and ns != self.ns:
            return None
        if ch.type == "DELETED":
            return ("DELETED", ch.obj) if self.matches(ch.prev) else None
        now, before = self.matches(ch.obj), self.matches(ch.prev)
        if now:
            return ("MODIFIED" if before else "ADDED", ch.obj)
        if before:
            gone = clone(ch.prev)
            gone["metadata"]["resourceVersion"] = str(ch.rv)
            return ("DELETED", gone)
        return None

    def offer(self, ch):
        ev = self.transform(ch)
        if ev:
            self.q.put(ev)

    def describe(self):
        return {"id": self.id, "resource": self.res.plural,
                "groupVersion": gv_of(self.res), "namespace": self.ns or "",
                "resourceVersion": self.start_rv, "bookmarks": self.bookmarks,
                "peer": self.peer, "started": self.started,
                "events_sent": self.sent}


def sort_deep(o):
    """Recursively key-sorted copy: how Go marshals unstructured maps."""
    if isinstance(o, dict):
        return {k: sort_deep(o[k]) for k in sorted(o)}
    if isinstance(o, list):
        return [sort_deep(v) for v in o]
    return o


def bookmark_obj(res, rv, initial_end=False):
    """A BOOKMARK's object: the zero value of the kind with only
    metadata.resourceVersion set (typed kinds also carry
    creationTimestamp: null and their empty spec/status)."""
    meta = {"resourceVersion": str(rv)}
    if not res.crd:
        meta["creationTimestamp"] = None
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    o = {"kind": res.kind, "apiVersion": gv_of(res), "metadata": meta}
    if res.crd:
        return sort_deep(o)
    o.update(clone(ZERO.get(res.kind, {})))
    return o


# --------------------------------------------------------------------------
# Continue tokens: base64url (no padding) of {"v","rv","start"}, as
# k8s.io/apiserver/pkg/storage.EncodeContinue writes them.  `start` is the
# key after the last returned item, relative to the listed prefix.
# --------------------------------------------------------------------------

INCONSISTENT_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list "
    "result. You can start a new list without the continue parameter, or use "
    "the continue token in this response to retrieve the remainder of the "
    "results. Continuing with the provided token results in an inconsistent "
    "list - objects that were created, modified, or deleted between the time "
    "the first chunk was returned and now may show up in the list.")


def encode_continue(start, rv):
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start},
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token):
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        c = json.loads(raw)
        if c.get("v") != "meta.k8s.io/v1":
            raise ValueError("continue key is not supported")
        if not isinstance(c.get("rv"), int) or c["rv"] == 0:
            raise ValueError("incorrect encoded start resourceVersion "
                             "(version meta.k8s.io/v1)")
        return str(c.get("start", "")), c["rv"]
    except (ValueError, TypeError, AttributeError) as e:
        raise ApiError(400, "invalid continue token: %s" % e)


# --------------------------------------------------------------------------
# Faults and the request log.
# --------------------------------------------------------------------------

FAULT_ACTIONS = ("status", "disconnect", "stall", "malformed", "huge",
                 "delay", "drop_watches")


class Fault:
    """One injected fault: matches by path prefix, verb and resource; fires
    `times` times (-1: forever) after skipping `after` matching requests."""
    _ids = iter(range(1, 1 << 62))

    def __init__(self, spec):
        if not any(k in spec for k in FAULT_ACTIONS):
            raise ValueError("fault needs one of: " + ", ".join(FAULT_ACTIONS))
        self.id = next(Fault._ids)
        self.spec = dict(spec)
        self.path = spec.get("path", "")
        self.verb = spec.get("verb", "any")
        self.resource = spec.get("resource")
        self.times = int(spec.get("times", 1))
        self.after = int(spec.get("after", 0))

    def matches(self, verb, path, res):
        return (path.startswith(self.path)
                and self.verb in ("any", verb)
                and (self.resource is None
                     or (res is not None and res.plural == self.resource)))

    def describe(self):
        return dict(self.spec, id=self.id, times=self.times, after=self.after)


class RequestLog:
    def __init__(self):
        self.lock = threading.Lock()
        self.entries = []
        self.seq = 0

    def start(self, **fields):
        with self.lock:
            self.seq += 1
            e = dict(seq=self.seq, time=time.time(), status=None, **fields)
            self.entries.append(e)
            return e

    def since(self, seq=0):
        with self.lock:
            return [dict(e) for e in self.entries if e["seq"] > seq]

    def clear(self):
        with self.lock:
            self.entries = []


# --------------------------------------------------------------------------
# The application state shared by both servers.
# --------------------------------------------------------------------------

class App:
    def __init__(self, args):
        self.args = args
        self.store = Store(args.history_size)
        self.resources = [r for r in RESOURCES if not (
            args.no_endpointslice_v1 and r.plural == "endpointslices")]
        if args.no_endpointslice_v1:
            self.resources.append(ENDPOINTSLICE_V1BETA1)
        self.tokens = {args.token} if args.token else None
        self.client_ca = bool(args.client_ca)
        self.user = args.user
        self.faults = []
        self.lock = threading.Lock()
        self.log = RequestLog()
        self.stopping = threading.Event()
        self.config = {"bookmark_interval": args.bookmark_interval,
                       "watch_timeout": args.watch_timeout,
                       "rv0_paging": False,
                       "kubelet_delay": args.kubelet_delay,
                       "grace": args.grace,
                       "fresh_pod_ips": args.fresh_pod_ips,
                       "pvc_protection": True,
                       "scale_selector_path": args.scale_selector_path,
                       "accept_stall": False}
        self.stalled = 0        # API connections held by accept_stall
        self.api = None         # the API Server, for POST /tls
        if args.k8s_version:
            self.version = args.k8s_version
        else:
            self.version = "1.20.15" if args.no_endpointslice_v1 else "1.30.2"
        self.cluster = fakecluster.Cluster(self, args)
        self.churn = None       # a fakechurn.Churn, POST /churn
        self.cluster.set_features(fakecluster.parse_features(
            (["all"] if args.simulate_cluster else []) + args.simulate))

    def config_view(self):
        c = dict(self.config)
        c["simulate"] = [f for f in fakecluster.FEATURES
                         if f in self.cluster.enabled]
        for f in fakecluster.FEATURES:
            c[f] = f in self.cluster.enabled
        return c

    def set_config(self, body):
        feats = set(self.cluster.enabled)
        for k, v in body.items():
            if k == "simulate":
                if isinstance(v, str):
                    v = [v]
                feats = fakecluster.parse_features(v)
            elif k in fakecluster.FEATURES:
                feats = feats | {k} if v else feats - {k}
            elif k in self.config:
                self.config[k] = v
            else:
                raise ValueError("unknown config key %r" % k)
        self.cluster.set_features(feats)
        return self.config_view()

    def set_subresources(self, group, plural, subs):
        """Swaps a resource's subresource list (routing and discovery)."""
        with self.lock:
            self.resources = [r._replace(subresources=list(subs))
                              if (r.group, r.plural) == (group, plural) else r
                              for r in self.resources]

    # Resource lookups.
    def groups(self):
        """[(group, [versions])] in table order; core first."""
        out = []
        for r in self.resources:
            for g, vs in out:
                if g == r.group:
                    if r.version not in vs:
                        vs.append(r.version)
                    break
            else:
                out.append((r.group, [r.version]))
        return out

    def in_gv(self, group, version):
        return [r for r in self.resources
                if r.group == group and r.version == version]

    def resource_for_object(self, obj):
        """(resource, storage key) for a full manifest; ValueError if unknown."""
        if not isinstance(obj, dict):
            raise ValueError("object must be a JSON object")
        group, version = split_api_version(obj.get("apiVersion", ""))
        kind = obj.get("kind", "")
        cands = [r for r in self.resources
                 if r.group == group and r.kind == kind]
        if not cands:
            raise ValueError("unknown kind %s %r (add it to RESOURCES or POST "
                             "/resources)" % (obj.get("apiVersion"), kind))
        res = next((r for r in cands if r.version == version), cands[0])
        meta = obj.get("metadata") or {}
        if not meta.get("name"):
            raise ValueError("%s without metadata.name" % kind)
        ns = (meta.get("namespace") or "default") if res.namespaced else ""
        if res.namespaced:
            meta["namespace"] = ns
        return res, (group, res.plural, ns, meta["name"])

    def put_object(self, obj):
        """Stores a parsed manifest (obj is given away)."""
        res, key = self.resource_for_object(obj)
        with self.store.cond:
            obj = self.cluster.control_put(res, self.store.objects.get(key),
                                           obj)
            kind, stored = self.store.put(key, obj, owned=True)
        return {"type": kind, "kind": res.kind, "namespace": key[2],
                "name": key[3],
                "resourceVersion": stored["metadata"]["resourceVersion"]}

    def load_state(self, path):
        fakecluster.set_actor("state")
        with open(path) as f:
            data = json.load(f)
        items = data.get("items", []) if isinstance(data, dict) else data
        for obj in items:
            if obj.get("kind") == "List":
                for sub in obj.get("items", []):
                    self.put_object(sub)
            else:
                self.put_object(obj)
        # Encoded once now, so that the first LIST is as fast as the next,
        # and the first watch event of a slice as the next.
        for obj in list(self.store.objects.values()):
            res, _ = self.resource_for_object(obj)
            if not res.crd:
                self.store.list_item_json(obj, res)
            if res.plural == "endpointslices" and isinstance(
                    obj.get("endpoints"), list):
                endpoint_texts(obj["endpoints"], self.store.part_json)

    # Faults.
    def add_faults(self, specs):
        fs = [Fault(s) for s in (specs if isinstance(specs, list) else [specs])]
        now = [f for f in fs if f.spec.get("drop_watches")]
        with self.lock:
            self.faults.extend(f for f in fs if f not in now)
        for _ in now:
            self.drop_watches()
        return [f.id for f in fs]

    def take_fault(self, verb, path, res):
        with self.lock:
            for f in self.faults:
                if not f.matches(verb, path, res):
                    continue
                if f.after > 0:
                    f.after -= 1
                    continue
                if f.times > 0:
                    f.times -= 1
                    if f.times == 0:
                        self.faults.remove(f)
                return f.spec
        return None

    # Watches.
    def signal_watches(self, item):
        with self.store.cond:
            ws = list(self.store.watchers)
        for w in ws:
            w.q.put(item)
        return len(ws)

    def drop_watches(self):
        return self.signal_watches(DROP)

    def watch_counts(self):
        with self.store.cond:
            ws = [w.describe() for w in self.store.watchers]
        by = {}
        for w in ws:
            by[w["resource"]] = by.get(w["resource"], 0) + 1
        return {"total": len(ws), "by_resource": by, "watches": ws}


# --------------------------------------------------------------------------
# HTTP plumbing shared by both servers.
# --------------------------------------------------------------------------

class ClientGone(Exception):
    """The peer closed, or a fault dropped the connection."""


class Server(http.server.ThreadingHTTPServer):
    """One thread per connection; TLS handshakes happen in that thread."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, app, sslctx=None):
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        self.app = app
        self.sslctx = sslctx
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.sslctx:
            sock = self.sslctx.wrap_socket(sock, server_side=True,
                                           do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (OSError, ClientGone)):
            super().handle_error(request, client_address)


class BaseHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    entry = None

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def log_message(self, fmt, *a):
        if self.server.app.args.verbose:
            sys.stderr.write("fakeapi: %s %s\n" % (self.address_string(),
                                                   fmt % a))

    def send_response(self, code, message=None):
        # Go's net/http sends Date but no Server header.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
        if self.entry is not None and self.entry["status"] is None:
            self.entry["status"] = code

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_bytes(self, code, data, ctype, headers=None, cut=None):
        """A whole response; cut="headers" or "mid-line" drops the
        connection after the headers or half the body."""
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if cut:
            if cut != "headers":
                self.wfile.write(data[:len(data) // 2])
            self.abort()
        self.wfile.write(data)

    def send_json(self, code, obj, headers=None):
        self.send_bytes(code, (go_json(obj) + "\n").encode(),
                        "application/json", headers)

    def peer_closed(self, timeout=0.0):
        """True when the client has closed (polls without consuming data,
        except one byte of a TLS record that nobody sends mid-watch)."""
        sock = self.connection
        try:
            r, _, _ = select.select([sock], [], [], timeout)
            if not r:
                return False
            if isinstance(sock, ssl.SSLSocket):
                sock.settimeout(0)
                try:
                    return sock.recv(1) == b""
                except (ssl.SSLWantReadError, BlockingIOError):
                    return False
                finally:
                    sock.settimeout(None)
            return sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def abort(self, reset=False):
        """Drops the connection without finishing the response."""
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise ClientGone()


# --------------------------------------------------------------------------
# The API server.
# --------------------------------------------------------------------------

Target = namedtuple("Target", "what res ns name sub")


class ApiHandler(BaseHandler):
    fault = None
    # A watch's chunks not sent yet: as kube-apiserver's watch handler, which
    # flushes only when no further event is queued (len(ch) == 0), a burst
    # of events leaves in one write.
    held = None

    def setup(self):
        """With accept_stall, a new connection is accepted and then never
        read (not even a TLS handshake) until the client hangs up or the
        setting is cleared: a server that accepts and never answers."""
        app = self.server.app
        if app.config.get("accept_stall"):
            with app.lock:
                app.stalled += 1
            poll = select.poll()
            poll.register(self.request.fileno(), select.POLLRDHUP |
                          select.POLLHUP | select.POLLERR)
            while (app.config.get("accept_stall") and not
                   app.stopping.is_set() and not poll.poll(100)):
                pass
            raise ClientGone()
        super().setup()

    def do_GET(self):
        self.dispatch(self.command)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- plumbing ----------------------------------------------------------

    def send_bytes(self, code, data, ctype, headers=None):
        """Every API response: apiserver headers, then the fault's
        truncation when one is armed."""
        f, self.fault = self.fault or {}, None
        hdrs = {"Audit-Id": str(uuid.uuid4()),
                "Cache-Control": "no-cache, private"}
        if ctype == "application/json":
            hdrs["X-Kubernetes-Pf-Flowschema-Uid"] = FLOWSCHEMA_UID
            hdrs["X-Kubernetes-Pf-Prioritylevel-Uid"] = PRIORITYLEVEL_UID
        hdrs.update(headers or {})
        cut = f.get("disconnect")
        super().send_bytes(code, data, ctype, hdrs, cut if cut in (
            "headers", "mid-line", "body") else None)

    def start_chunked(self):
        self.send_response(200)
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data):
        chunk = b"%x\r\n%s\r\n" % (len(data), data)
        if self.held is not None:
            self.held.append(chunk)
        else:
            self.send_chunks([chunk])

    def send_chunks(self, chunks):
        try:
            self.wfile.write(b"".join(chunks))
        except OSError:
            raise ClientGone()

    def release(self, quiet=False):
        """Sends the chunks a watch held back (quiet: to a client that may
        be gone, before the connection ends anyway)."""
        chunks, self.held = self.held, []
        try:
            if chunks:
                self.send_chunks(chunks)
        except ClientGone:
            if not quiet:
                raise

    def abort(self, reset=False):
        if self.held:
            self.release(quiet=True)
        super().abort(reset)

    def dispatch(self, method):
        app = self.server.app
        self.fault = None
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query,
                                           keep_blank_values=True).items()}
        self.query = q
        fakecluster.set_actor("api", self.headers.get("User-Agent"))
        self.entry = app.log.start(
            method=method, path=u.path, raw_query=u.query, query=q,
            verb=None, resource=None, namespace=None,
            authorization=self.headers.get("Authorization") is not None,
            token=None, client_cert=None,
            user_agent=self.headers.get("User-Agent"),
            accept=self.headers.get("Accept"), fault=None)
        try:
            body = self.read_body()
            try:
                target, route_err = self.route(u.path), None
            except ApiError as e:
                target, route_err = None, e
            verb = self.verb_of(method, target, q)
            res = target.res if target and target.what == "resource" else None
            self.entry.update(verb=verb, resource=res and res.plural,
                              namespace=target and target.ns)
            self.authenticate()
            f = app.take_fault(verb, u.path, res)
            if f:
                self.entry["fault"] = f
                if self.apply_fault(f, verb, target):
                    return
            if route_err:
                raise route_err
            self.serve(method, verb, target, q, body)
        except ApiError as e:
            self.send_json(e.code, e.status, e.headers)
        except (ClientGone, OSError):
            self.close_connection = True
        except Exception as e:     # a fakeapi bug: report it, keep serving
            traceback.print_exc()
            self.close_connection = True
            if self.entry["status"] is None:
                self.fault = None
                self.send_json(500, status_obj(
                    500, "Internal error occurred: %s" % e))

    def verb_of(self, method, t, q):
        if t is None or t.what != "resource":
            return "discovery" if method == "GET" else "other"
        if method == "GET":
            if t.name is not None:
                return "get"
            return "watch" if q.get("watch") in ("1", "true") else "list"
        return {"POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete" if t.name else "deletecollection"}[method]

    # -- authentication ----------------------------------------------------

    def authenticate(self):
        """x509 first (like the union authenticator), then bearer token."""
        app = self.server.app
        cn = None
        if isinstance(self.connection, ssl.SSLSocket):
            cert = self.connection.getpeercert()
            for rdn in (cert or {}).get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
        auth = self.headers.get("Authorization") or ""
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        self.entry.update(token=token, client_cert=cn)
        if cn:
            self.user = cn
            return
        self.user = app.user
        if app.tokens is None and not app.client_ca:
            return
        if token is not None and app.tokens is not None and token in app.tokens:
            return
        raise ApiError(401, "Unauthorized")

    # -- faults ------------------------------------------------------------

    def apply_fault(self, f, verb, t):
        """Acts on a fault; True when the request is fully handled.  Faults
        that shape the body (disconnect, malformed, huge) arm self.fault."""
        if f.get("delay"):
            time.sleep(float(f["delay"]))
        if f.get("disconnect") in ("now", "reset"):
            self.abort(reset=f["disconnect"] == "reset")
        if f.get("stall"):
            end = time.monotonic() + (float(f.get("seconds") or 0) or 1e9)
            while (time.monotonic() < end and not self.server.app.stopping
                   .is_set() and not self.peer_closed(0.2)):
                pass
            self.abort()
        if "status" in f:
            self.fault_status(f, verb, t)
            return True
        if any(k in f for k in ("disconnect", "malformed", "huge")):
            self.fault = f
        return False

    def fault_status(self, f, verb, t):
        code = int(f["status"])
        res = t.res if t else None
        retry = f.get("retry_after")
        hdrs = {"Retry-After": retry} if retry is not None else {}
        if code == 429 and f.get("body") != "status":
            # max-in-flight / APF: plain text via http.Error.
            hdrs.setdefault("Retry-After", 1)
            hdrs["X-Content-Type-Options"] = "nosniff"
            self.send_bytes(429, b"Too many requests, please try again "
                            b"later.\n", "text/plain; charset=utf-8", hdrs)
            return
        msg, details = f.get("message"), None
        if code == 403 and res:
            msg = msg or self.forbidden_message(verb, t)
            details = res_details(res, t.name)
        elif code == 401:
            msg = msg or "Unauthorized"
        elif code == 410:
            rv = self.server.app.store.rv
            msg = msg or ("too old resource version: %d (%d)" % (rv - 1, rv)
                          if verb == "watch" else
                          "The resourceVersion for the provided list is too "
                          "old.")
        elif code == 429:
            msg = msg or "storage is (re)initializing"
            details = {"retryAfterSeconds": int(retry or 1)}
        elif code == 500:
            msg = msg or "Internal error occurred: fakeapi injected fault"
            details = {"causes": [{"message": "fakeapi injected fault"}]}
        elif code == 404:
            msg = msg or "the server could not find the requested resource"
            details = {}
        st = status_obj(code, msg or "fakeapi injected fault %d" % code,
                        f.get("reason"), details)
        if verb == "watch" and f.get("as_event", code == 410):
            self.start_chunked()
            self.write_chunk(event_line("ERROR", st))
            self.write_chunk(b"")
            return
        self.send_json(code, st, hdrs)

    def forbidden_message(self, verb, t):
        where = ('in the namespace "%s"' % t.ns if t.ns
                 else "at the cluster scope")
        what = '%s "%s"' % (t.res.plural, t.name) if t.name else t.res.plural
        return ('%s is forbidden: User "%s" cannot %s resource "%s" in API '
                'group "%s" %s' % (what, self.user, verb, t.res.plural,
                                   t.res.group, where))

    # -- routing -----------------------------------------------------------

    def route(self, path):
        app = self.server.app
        parts = [unquote(p) for p in path.split("/") if p]
        if parts in (["version"], ["healthz"], ["livez"], ["readyz"],
                     ["api"], ["apis"]):
            return Target(parts[0], None, None, None, None)
        if len(parts) == 2 and parts[0] == "apis":
            if not any(g == parts[1] for g, _ in app.groups() if g):
                raise not_found_resource()
            return Target("group", parts[1], None, None, None)
        if len(parts) >= 2 and parts[0] == "api" and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise not_found_resource()
        gv = app.in_gv(group, version)
        if not gv:
            raise not_found_resource()
        if not rest:
            return Target("gv", (group, version), None, None, None)
        ns = None
        by_name = {r.plural: r for r in gv}
        if (rest[0] == "namespaces" and len(rest) >= 3
                and rest[2] in by_name and by_name[rest[2]].namespaced):
            ns, rest = rest[1], rest[2:]
        res = by_name.get(rest[0])
        if res is None or len(rest) > 3 or (len(rest) == 3 and rest[2]
                                            not in res.subresources):
            raise not_found_resource()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        return Target("resource", res, ns, name, sub)

    def serve(self, method, verb, t, q, body):
        if t.what in ("healthz", "livez", "readyz"):
            self.send_bytes(200, b"ok", "text/plain; charset=utf-8",
                            {"X-Content-Type-Options": "nosniff"})
        elif t.what != "resource":
            if method != "GET":
                raise ApiError(405, "the server does not allow this method "
                               "on the requested resource", details={})
            self.send_json(200, self.discovery(t))
        elif verb == "list":
            self.serve_list(t, q)
        elif verb == "watch":
            self.serve_watch(t, q)
        elif verb == "get" and t.sub == "scale":
            self.send_json(200, self.server.app.cluster.scale_of(
                t.res, self.get_object(t)))
        elif verb == "get":
            self.send_json(200, self.get_object(t))
        elif verb in ("create", "update", "patch", "delete"):
            self.serve_write(verb, t, body)
        else:
            raise ApiError(405, "the server does not allow this method on "
                           "the requested resource", details={})

    # -- discovery ---------------------------------------------------------

    def discovery(self, t):
        app = self.server.app
        if t.what == "version":
            major, minor, _ = app.version.split(".", 2)
            return {"major": major, "minor": minor,
                    "gitVersion": "v" + app.version,
                    "gitCommit": "fakeapi0000000000000000000000000000000000",
                    "gitTreeState": "clean",
                    "buildDate": "2024-06-11T20:20:00Z",
                    "goVersion": "go1.22.4", "compiler": "gc",
                    "platform": "linux/amd64"}
        if t.what == "api":
            host, port = self.server.server_address[:2]
            return {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0",
                         "serverAddress": "%s:%d" % (host, port)}]}
        if t.what == "apis":
            return {"kind": "APIGroupList", "apiVersion": "v1",
                    "groups": [self.group_doc(g, vs)
                               for g, vs in app.groups() if g]}
        if t.what == "group":
            vs = dict(app.groups())[t.res]
            return dict(kind="APIGroup", apiVersion="v1",
                        **self.group_doc(t.res, vs))
        group, version = t.res
        doc = {"kind": "APIResourceList"}
        if group:
            doc["apiVersion"] = "v1"
        doc["groupVersion"] = gv_of(app.in_gv(group, version)[0])
        doc["resources"] = []
        for r in app.in_gv(group, version):
            e = {"name": r.plural, "singularName": r.kind.lower(),
                 "namespaced": r.namespaced, "kind": r.kind, "verbs": VERBS}
            if r.short:
                e["shortNames"] = list(r.short)
            if r.plural in ("pods", "services", "statefulsets"):
                e["categories"] = ["all"]
            e["storageVersionHash"] = storage_version_hash(r)
            doc["resources"].append(e)
            for s in r.subresources:
                e = {"name": "%s/%s" % (r.plural, s), "singularName": "",
                     "namespaced": r.namespaced}
                if s == "scale":     # APIResource's Go field order
                    e.update(group="autoscaling", version="v1", kind="Scale")
                else:
                    e["kind"] = r.kind
                e["verbs"] = ["get", "patch", "update"]
                doc["resources"].append(e)
        return doc

    @staticmethod
    def group_doc(g, vs):
        gvs = [{"groupVersion": "%s/%s" % (g, v), "version": v} for v in vs]
        return {"name": g, "versions": gvs, "preferredVersion": gvs[0]}

    # -- LIST --------------------------------------------------------------

    def serve_list(self, t, q):
        app, res = self.server.app, t.res
        store = app.store
        lsel = parse_label_selector(q.get("labelSelector"))
        fsel = parse_field_selector(q.get("fieldSelector"), res)
        try:
            limit = int(q.get("limit") or 0)
        except ValueError:
            raise ApiError(400, "limit: invalid value %r" % q.get("limit"))
        if limit < 0:
            raise ApiError(400, "list limit must not be negative")
        cont, rv_s = q.get("continue", ""), q.get("resourceVersion", "")
        match = q.get("resourceVersionMatch", "")
        with store.cond:
            start = ""
            if cont:
                if rv_s not in ("", "0"):
                    raise ApiError(400, "specifying resource version is not "
                                   "allowed when using continue")
                start, crv = decode_continue(cont)
                if 0 < crv < store.compacted:
                    raise ApiError(410, INCONSISTENT_CONTINUE, "Expired", meta={
                        "continue": encode_continue(start, -1)})
                at = crv if crv > 0 else store.rv
            elif rv_s in ("", "0"):
                if rv_s == "0" and not app.config["rv0_paging"]:
                    limit = 0    # served from the watch cache: no paging
                at = store.rv
            else:
                rv = parse_rv(rv_s)
                if rv > store.rv and not store.wait_for_rv(rv):
                    raise too_large(rv, store.rv)
                if match == "Exact" or (match == "" and limit > 0):
                    if rv < store.compacted:
                        raise ApiError(410, "The resourceVersion for the "
                                       "provided list is too old.", "Expired")
                    at = rv
                else:
                    at = store.rv
            ckey = (res.group, res.plural, t.ns, at)
            rows = store.rows_cache.get(ckey)
            if rows is None:
                objs = store.snapshot(at) if at < store.rv else store.objects
                rows = sorted(
                    (self.rel_key(t, k), o) for k, o in objs.items()
                    if k[:2] == (res.group, res.plural)
                    and (t.ns is None or k[2] == t.ns))
                if len(store.rows_cache) >= 8:
                    store.rows_cache.pop(next(iter(store.rows_cache)))
                store.rows_cache[ckey] = rows
        rows = rows[bisect.bisect_left(rows, (start,)):]
        text = not res.crd and not self.fault     # items as cached JSON text
        items, last, examined = [], None, 0
        for k, o in rows:
            if limit and len(items) >= limit:
                break
            examined += 1
            last = k
            if labels_match(lsel, o["metadata"].get("labels")) and \
                    fields_match(fsel, o):
                items.append(store.list_item_json(o, res) if text
                             else present(o, res, False))
        meta = {"resourceVersion": str(at)}
        if examined < len(rows):
            meta["continue"] = encode_continue(last + "\x00", at)
            if not lsel and not fsel:
                meta["remainingItemCount"] = len(rows) - examined
        elif res.crd:
            meta["continue"] = ""
        doc = {"kind": res.kind + "List", "apiVersion": gv_of(res),
               "metadata": meta, "items": items}
        if text:
            head = go_json({k: v for k, v in doc.items() if k != "items"})
            self.send_bytes(200, (head[:-1] + ',"items":[' + ",".join(items) +
                                  "]}\n").encode(), "application/json")
            return
        if self.fault and self.fault.get("huge") and items:
            items[0] = clone(items[0])
            pad_object(items[0], int(self.fault["huge"])
                       - len(go_json(doc)) - 1)
        if self.fault and self.fault.get("malformed"):
            # A 200 whose body is not a list: the fault's "line", else
            # JSON cut off inside the first item.
            line = self.fault.get("line")
            self.fault = None
            self.send_bytes(200, line.encode() if line else (
                go_json(doc)[:40].encode()), "application/json")
            return
        self.send_json(200, sort_deep(doc) if res.crd else doc)

    @staticmethod
    def rel_key(t, key):
        if t.ns is None and t.res.namespaced:
            return key[2] + "/" + key[3]
        return key[3]

    # -- WATCH -------------------------------------------------------------

    def serve_watch(self, t, q):
        app, res = self.server.app, t.res
        store = app.store
        lsel = parse_label_selector(q.get("labelSelector"))
        fsel = parse_field_selector(q.get("fieldSelector"), res)
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        initial_events = q.get("sendInitialEvents") in ("1", "true")
        if initial_events and q.get("resourceVersionMatch") != "NotOlderThan":
            raise ApiError(422, "%s \"\" is invalid: resourceVersionMatch: "
                           "Forbidden: sendInitialEvents requires setting "
                           "resourceVersionMatch to NotOlderThan" % ".".join(
                               filter(None, (res.plural, res.group))),
                           "Invalid")
        try:
            timeout = float(q.get("timeoutSeconds") or
                            app.config["watch_timeout"])
        except ValueError:
            raise ApiError(400, "invalid timeoutSeconds")
        rv_s = q.get("resourceVersion", "")
        rv = parse_rv(rv_s) if rv_s else 0
        w = Watcher(res, t.ns, lsel, fsel, bookmarks, rv_s,
                    "%s:%s" % self.client_address[:2])
        error, first = None, []
        with store.cond:
            if rv == 0 or initial_events:
                first = [("ADDED", o) for k, o in sorted(store.objects.items())
                         if w.transform(Change(0, "ADDED", k, o, None))]
            elif rv < store.compacted:
                error = expired_too_old(rv, store.compacted)
            elif rv > store.rv and not store.wait_for_rv(rv):
                error = too_large(rv, store.rv).status
            else:
                first = [ev for ch in store.history if ch.rv > rv
                         for ev in [w.transform(ch)] if ev]
            synced_rv = store.rv
            if error is None:
                store.watchers.add(w)
        try:
            self.start_chunked()
            if self.fault and self.fault.get("disconnect") == "headers":
                self.abort()
            if error:
                self.write_chunk(event_line("ERROR", error))
            else:
                for ev in first:
                    self.watch_event(w, *ev)
                if initial_events and bookmarks:
                    self.watch_line(w, "BOOKMARK",
                                    bookmark_obj(res, synced_rv, True))
                self.watch_loop(w, timeout)
            self.write_chunk(b"")
        finally:
            with store.cond:
                store.watchers.discard(w)

    def watch_loop(self, w, timeout):
        self.held = []
        try:
            self.watch_turns(w, timeout)
        finally:
            self.release(quiet=True)
            self.held = None

    def watch_turns(self, w, timeout):
        app = self.server.app
        store = app.store
        interval = float(app.config["bookmark_interval"])
        start = time.monotonic()
        deadline = start + timeout
        next_bm = start + interval if w.bookmarks else float("inf")
        while True:
            now = time.monotonic()
            if now >= deadline:
                return
            try:
                item = w.q.get(timeout=max(0.0, min(deadline, next_bm,
                                                    now + 0.2) - now))
            except queue.Empty:
                item = None
            if item == DROP:
                self.abort()
            if item == SHUTDOWN:
                return
            if isinstance(item, tuple) and item[0] == EXPIRE:
                self.write_chunk(event_line("ERROR", item[1]))
                return
            if item:
                self.watch_event(w, *item)
            if time.monotonic() >= next_bm:
                with store.cond:
                    ready = w.q.empty()
                    bm_rv = store.rv
                if ready:
                    self.watch_line(w, "BOOKMARK", bookmark_obj(w.res, bm_rv))
                    next_bm = time.monotonic() + interval
            if w.q.empty():
                self.release()
            if item is None and self.peer_closed():
                raise ClientGone()

    def watch_event(self, w, kind, obj):
        self.watch_line(w, kind, present(obj, w.res, True))
        w.sent += 1

    def watch_line(self, w, kind, obj):
        """Writes one event line as one chunk.  An armed stream fault fires
        at the line after `after` events: a malformed line before it, the
        line cut in half (then the connection drops), or a huge event
        after it."""
        line = event_line(kind, obj, self.server.app.store.part_json)
        f = self.fault
        if not f or w.sent < int(f.get("after", 0)):
            self.write_chunk(line)
            return
        self.fault = None
        if f.get("malformed"):
            self.write_chunk(f["line"].encode() + b"\n" if f.get("line")
                             else b'{"type":"ADDED","object":{"kind":'
                             b'not json at all\n')
        elif f.get("disconnect") in ("mid-line", "body"):
            self.write_chunk(line[:len(line) // 2])
            self.abort()
        self.write_chunk(line)
        if f.get("huge"):
            self.write_chunk(self.huge_line(w, int(f["huge"])))

    def huge_line(self, w, size):
        """A MODIFIED event of exactly `size` bytes (with the newline): the
        first object the watch matches, padded by an annotation; a made-up
        fakeapi-huge object when none matches."""
        store = self.server.app.store
        with store.cond:
            objs = [o for k, o in sorted(store.objects.items())
                    if w.transform(Change(0, "ADDED", k, o, None))]
            rv = store.rv
        kind = "MODIFIED"
        if objs:
            obj = clone(present(objs[0], w.res, True))
        else:
            kind = "ADDED"
            meta = {"name": "fakeapi-huge", "resourceVersion": str(rv)}
            if w.res.namespaced:
                meta["namespace"] = w.ns or "default"
            obj = {"kind": w.res.kind, "apiVersion": gv_of(w.res),
                   "metadata": meta}
        pad_object(obj, size - len(event_line(kind, obj)))
        return event_line(kind, obj)

    # -- GET and writes ----------------------------------------------------

    def key_of(self, t, name=None):
        return (t.res.group, t.res.plural,
                (t.ns or "") if t.res.namespaced else "", name or t.name)

    def get_object(self, t):
        if t.res.namespaced and t.ns is None:
            raise not_found_resource()
        with self.server.app.store.cond:
            obj = self.server.app.store.objects.get(self.key_of(t))
        if obj is None:
            raise ApiError(404, '%s "%s" not found' % (
                fakecluster.qualified(t.res), t.name),
                details=res_details(t.res, t.name))
        return clone(present(obj, t.res, True))   # callers may change it

    def serve_write(self, verb, t, body):
        """Create, replace, merge-patch and delete for the controller's
        writes; every change goes through the store (and its watches).
        The cluster simulation (fakecluster.py) adds the strategies when
        it is on: graceful deletion, CRD status/scale/generation, pod and
        claim admission."""
        app, res = self.server.app, t.res
        cl = app.cluster
        if res.namespaced and t.ns is None and verb != "delete":
            raise not_found_resource()
        try:
            obj = json.loads(body or b"{}")
            if not isinstance(obj, dict):
                raise ValueError("not an object")
        except ValueError as e:
            raise ApiError(400, "error decoding request body: %s" % e)
        if verb == "delete":
            self.serve_delete(t, obj)
            return
        if verb == "create":
            if t.sub:
                raise ApiError(405, "the server does not allow this method "
                               "on the requested resource", details={})
            meta = obj.setdefault("metadata", {})
            if not isinstance(meta, dict):
                raise ApiError(400, "error decoding request body: metadata "
                               "is not an object")
            if meta.get("namespace") not in (None, "", t.ns):
                raise ApiError(400, "the namespace of the provided object does "
                               "not match the namespace sent on the request")
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            if not meta.get("name"):
                raise ApiError(422, "%s \"\" is invalid: metadata.name: "
                               "Required value: name or generateName is "
                               "required" % res.kind, "Invalid")
            if t.ns:
                meta["namespace"] = t.ns
            key = self.key_of(t, meta["name"])
            with app.store.cond:
                if key in app.store.objects:
                    raise ApiError(409, '%s "%s" already exists' % (
                        fakecluster.qualified(res), meta["name"]),
                        "AlreadyExists", res_details(res, meta["name"]))
                obj.update(kind=res.kind, apiVersion=gv_of(res))
                obj = cl.prepare_create(res, obj, t.ns or "")
                _, stored = app.store.put(key, obj)
                cl.after_create(res, key, stored)
            self.send_json(201, present(stored, res, True))
            return
        key = self.key_of(t)
        with app.store.cond:
            cur = app.store.objects.get(key)
            if cur is None:
                self.get_object(t)    # raises the 404
            want = (obj.get("metadata") or {}).get("resourceVersion")
            if t.sub == "scale":
                scale = merge_patch(cl.scale_of(res, cur), obj) \
                    if verb == "patch" else obj
                want = (scale.get("metadata") or {}).get("resourceVersion")
                self.check_rv(res, t, cur, want)
                new = cl.scale_update(res, cur, scale, t.name)
            else:
                if verb == "patch":
                    new = merge_patch(clone(cur), obj)
                elif t.sub == "status":
                    new = dict(clone(cur), status=obj.get("status"))
                else:
                    new = obj
                self.check_rv(res, t, cur, want)
                if verb == "update" and not want and cl.requires_rv(res):
                    raise fakecluster.invalid(
                        (res.plural, res.group), t.name,
                        "metadata.resourceVersion", 0,
                        "must be specified for an update")
                new.update(kind=res.kind, apiVersion=gv_of(res))
                new.setdefault("metadata", {}).update(
                    name=t.name, **({"namespace": t.ns} if t.ns else {}))
                new = cl.prepare_update(res, t.sub, cur, new)
            if cl.is_noop(cur, new):
                stored = clone(cur)
            else:
                _, stored = app.store.put(key, new)
                cl.after_update(key)
        if t.sub == "scale":
            self.send_json(200, cl.scale_of(res, stored))
        else:
            self.send_json(200, present(stored, res, True))

    def check_rv(self, res, t, cur, want):
        if want and want != cur["metadata"]["resourceVersion"]:
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": '
                           'the object has been modified; please apply '
                           'your changes to the latest version and try '
                           'again' % (fakecluster.qualified(res), t.name),
                           "Conflict", res_details(res, t.name))

    def serve_delete(self, t, opts):
        """DELETE with DeleteOptions from the body or the query
        (gracePeriodSeconds, propagationPolicy, preconditions)."""
        app, res = self.server.app, t.res
        q = getattr(self, "query", {}) or {}
        opts = dict(opts)
        try:
            if q.get("gracePeriodSeconds") not in (None, ""):
                opts["gracePeriodSeconds"] = int(q["gracePeriodSeconds"])
            if opts.get("gracePeriodSeconds") is not None:
                opts["gracePeriodSeconds"] = int(opts["gracePeriodSeconds"])
        except (TypeError, ValueError):
            raise ApiError(400, "invalid gracePeriodSeconds")
        if q.get("propagationPolicy"):
            opts["propagationPolicy"] = q["propagationPolicy"]
        cl = app.cluster
        cur = self.get_object(t)
        if not cl.handles_delete():
            with app.store.cond:
                stored = app.store.objects.get(self.key_of(t))
                if stored is not None:
                    cl.check_preconditions(res, stored, opts)
                final = app.store.delete(self.key_of(t))
            self.send_json(200, present(final or cur, res, True))
            return
        out = cl.delete(res, self.key_of(t), opts)
        if out is None:
            self.get_object(t)        # raises the 404
        obj, removed = out
        if removed and res.plural not in RETURN_DELETED:
            # Kinds without ReturnDeletedObject answer with a Status.
            d = res_details(res, t.name)
            d["uid"] = obj["metadata"].get("uid")
            self.send_json(200, {"kind": "Status", "apiVersion": "v1",
                                 "metadata": {}, "status": "Success",
                                 "details": d})
            return
        self.send_json(200, present(obj, res, True))


# Kinds whose registry returns the deleted object (ReturnDeletedObject);
# the rest answer an immediate DELETE with a Success Status (simulation on).
RETURN_DELETED = {"pods", "services", "namespaces", "nodes"}


FLOWSCHEMA_UID = "5b3ad1f2-0c6e-4d1d-9a57-fa4e0e5b9a11"
PRIORITYLEVEL_UID = "8f0b7c9e-3d0a-4c55-b6b0-3c2f43e1d0c2"


# Stands for an object's endpoints while the rest of it is encoded.
_SPLICE = "\0endpoints\0"
_SPLICE_JSON = json.dumps(_SPLICE)


def event_line(kind, obj, parts=None):
    """One watch event as the JSON framer writes it: a line per event.
    parts: a cache of encoded endpoints by id: a slice rewritten for one
    endpoint shares the others with the slice it replaces, and encoding
    whole slices was most of what 1,000 endpoint changes a second cost."""
    eps = obj.get("endpoints") if parts is not None else None
    if not eps or not isinstance(eps, list):
        return (go_json({"type": kind, "object": obj}) + "\n").encode()
    head = go_json({"type": kind, "object": dict(obj, endpoints=_SPLICE)})
    return (head.replace(_SPLICE_JSON, "[" + ",".join(
        endpoint_texts(eps, parts)) + "]", 1) + "\n").encode()


def endpoint_texts(eps, parts):
    """Each endpoint's JSON text, from parts (by id) or encoded into it."""
    texts = []
    for e in eps:
        hit = parts.get(id(e))
        if hit is None or hit[0] is not e:
            if len(parts) >= 500000:
                parts.clear()
            hit = parts[id(e)] = (e, go_json(e))
        texts.append(hit[1])
    return texts


def pad_object(obj, n):
    """Grows obj's JSON by about n bytes with a padding annotation."""
    base = len(go_json(obj))
    meta = obj.setdefault("metadata", {})
    meta.setdefault("annotations", {})["fakeapi.petdns.io/padding"] = ""
    grow = max(0, n - (len(go_json(obj)) - base))
    meta["annotations"]["fakeapi.petdns.io/padding"] = "x" * grow


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch (also used for strategic merge patches)."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


def parse_rv(s):
    try:
        rv = int(s)
        if rv < 0:
            raise ValueError
        return rv
    except ValueError:
        raise ApiError(400, 'invalid resource version: "%s"' % s)


# --------------------------------------------------------------------------
# The control API (plain HTTP on 127.0.0.1, JSON in and out).
# --------------------------------------------------------------------------

class ControlHandler(BaseHandler):
    def do_GET(self):
        self.dispatch(self.command)

    do_POST = do_DELETE = do_GET

    def dispatch(self, method):
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        fakecluster.set_actor("control")
        try:
            raw = self.read_body()
            body = json.loads(raw) if raw.strip() else {}
            parts = [unquote(p) for p in u.path.split("/") if p]
            fn = getattr(self, "c_%s_%s" % (method.lower(), parts[0].replace(
                "-", "_")) if parts else "", None)
            if fn is None:
                return self.reply(404, {"error": "no such control endpoint "
                                        "%s %s" % (method, u.path)})
            code, out = fn(parts[1:], q, body)
            if isinstance(out, str):
                self.send_bytes(code, out.encode(),
                                "text/plain; charset=utf-8")
            else:
                self.reply(code, out)
        except ApiError as e:
            self.reply(e.code, e.status)
        except (ValueError, KeyError, TypeError) as e:
            self.reply(400, {"error": str(e)})

    def reply(self, code, obj):
        self.send_json(code, obj)

    @property
    def app(self):
        return self.server.app

    # Objects.
    def c_get_health(self, parts, q, body):
        return 200, {"ok": True}

    def c_get_state(self, parts, q, body):
        s = self.app.store
        with s.cond:
            return 200, {"resourceVersion": s.rv, "compacted": s.compacted,
                         "objects": [clone(o) for _, o in
                                     sorted(s.objects.items())]}

    def c_get_objects(self, parts, q, body):
        s = self.app.store
        with s.cond:
            objs = [clone(o) for _, o in sorted(s.objects.items())]
        objs = [o for o in objs if q.get("kind") in (None, o.get("kind"))
                and q.get("namespace") in (None, o["metadata"].get(
                    "namespace"))]
        return 200, {"resourceVersion": self.app.store.rv, "items": objs}

    def c_post_objects(self, parts, q, body):
        items = body if isinstance(body, list) else (
            body["items"] if body.get("kind") == "List" or
            ("items" in body and "kind" not in body) else [body])
        return 200, [self.app.put_object(o) for o in items]

    def delete_one(self, api_version, kind, ns, name):
        group = split_api_version(api_version)[0] if api_version else None
        cands = [r for r in self.app.resources if r.kind == kind and
                 (group is None or r.group == group)]
        if not cands:
            raise ValueError("unknown kind %r" % kind)
        res = cands[0]
        key = (res.group, res.plural,
               (ns or "default") if res.namespaced else "", name)
        final = self.app.store.delete(key)
        if final is None:
            return 404, {"error": "%s %s/%s not found" % (kind, ns, name)}
        return 200, {"type": "DELETED", "kind": kind, "namespace": key[2],
                     "name": name,
                     "resourceVersion": final["metadata"]["resourceVersion"]}

    def c_delete_objects(self, parts, q, body):
        if parts and parts[0] == "v1":
            gv, rest = parts[0], parts[1:]
        else:
            gv, rest = "/".join(parts[:2]), parts[2:]
        if len(rest) not in (2, 3):
            raise ValueError("use /objects/<group/version|v1>/<Kind>/[<ns>/]"
                             "<name>")
        ns = rest[1] if len(rest) == 3 else None
        return self.delete_one(gv, rest[0], ns, rest[-1])

    def c_post_delete(self, parts, q, body):
        return self.delete_one(body.get("apiVersion"), body["kind"],
                               body.get("namespace"), body["name"])

    # Endpoint churn (fakechurn.py).
    def c_post_churn(self, parts, q, body):
        app = self.app
        with app.lock:
            if app.churn is not None and app.churn.running:
                return 409, {"error": "a churn is running: DELETE /churn"}
            app.churn = fakechurn.Churn(
                app.store, body["rate"], body.get("seed", 1),
                body.get("tick_ms", 20.0), body.get("down_s", 1.0),
                bool(body.get("exclude_headless")))
            return 200, app.churn.start()

    def c_get_churn(self, parts, q, body):
        c = self.app.churn
        return (200, c.stats()) if c else (404, {"error": "no churn"})

    def c_delete_churn(self, parts, q, body):
        c = self.app.churn
        if c is None:
            return 404, {"error": "no churn"}
        return 200, c.stop(body.get("restore", True))

    def c_post_compact(self, parts, q, body):
        rv = self.app.store.compact()
        n = 0
        if body.get("expire_watches"):
            n = self.app.signal_watches((EXPIRE, expired_too_old(rv - 1, rv)))
        return 200, {"compacted": rv, "expired_watches": n}

    def c_post_resources(self, parts, q, body):
        r = R(body.get("group", ""), body["version"], body["plural"],
              body["kind"], body.get("namespaced", True),
              " ".join(body.get("shortNames", [])),
              " ".join(body.get("subresources", [])), body.get("crd", True))
        with self.app.lock:
            self.app.resources.append(r)
        return 200, {"added": gv_of(r) + "/" + r.plural}

    # Faults, auth, config.
    def c_post_faults(self, parts, q, body):
        return 200, {"ids": self.app.add_faults(body)}

    def c_get_faults(self, parts, q, body):
        with self.app.lock:
            return 200, [f.describe() for f in self.app.faults]

    def c_delete_faults(self, parts, q, body):
        with self.app.lock:
            self.app.faults = []
        return 200, {"ok": True}

    def c_post_token(self, parts, q, body):
        toks = body.get("tokens", [body.get("token")] if "token" in body
                        else None)
        toks = [t for t in (toks or []) if t is not None]
        self.app.tokens = set(toks) if toks else None
        return 200, {"tokens": len(toks)}

    def c_post_config(self, parts, q, body):
        return 200, self.app.set_config(body)

    def c_get_connections(self, parts, q, body):
        return 200, {"stalled": self.app.stalled}

    def c_post_tls(self, parts, q, body):
        """Serves new connections with another certificate and key."""
        if self.app.api is None or self.app.api.sslctx is None:
            raise ValueError("the API is not served over TLS")
        args = copy.copy(self.app.args)
        args.tls_cert, args.tls_key = body["cert"], body["key"]
        self.app.api.sslctx = ssl_context(args)
        return 200, {"cert": body["cert"]}

    def c_get_config(self, parts, q, body):
        return 200, self.app.config_view()

    # The cluster simulation (fakecluster.py).
    def c_post_kubelet(self, parts, q, body):
        return self.app.cluster.kubelet_control(body)

    def c_get_history(self, parts, q, body):
        items = self.app.cluster.query_history(q)
        lines = [self.app.cluster.history_line(e) for e in items]
        if q.get("format") == "text":
            return 200, "".join(line + "\n" for line in lines)
        return 200, {"items": items, "lines": lines,
                     "last": self.app.cluster.hseq}

    def c_delete_history(self, parts, q, body):
        self.app.cluster.clear_history()
        return 200, {"ok": True, "last": self.app.cluster.hseq}

    def c_get_events(self, parts, q, body):
        items = self.app.cluster.query_events(q)
        lines = [self.app.cluster.event_line(e) for e in items]
        if q.get("format") == "text":
            return 200, "".join(line + "\n" for line in lines)
        return 200, {"items": items, "lines": lines}

    # Observation.
    def c_get_requests(self, parts, q, body):
        rs = self.app.log.since(int(q.get("since", 0)))
        return 200, {"requests": rs, "last": rs[-1]["seq"] if rs else
                     int(q.get("since", 0))}

    def c_get_watches(self, parts, q, body):
        return 200, self.app.watch_counts()

    def c_post_drop_watches(self, parts, q, body):
        return 200, {"dropped": self.app.drop_watches()}

    def c_post_reset(self, parts, q, body):
        with self.app.lock:
            self.app.faults = []
        self.app.log.clear()
        self.app.cluster.clear_history()
        return 200, {"ok": True}

    def c_post_wait(self, parts, q, body):
        """Blocks until every condition holds: {"watches": {"services": 1},
        "watches_total": n, "requests": {"path", "verb", "resource",
        "since", "min"}, "rv": n}; 408 on timeout."""
        end = time.monotonic() + float(body.get("timeout", 5))
        while True:
            state = self.wait_state(body)
            if all(state.values()):
                return 200, {"ok": True, **state}
            if time.monotonic() >= end:
                return 408, {"ok": False, **state}
            time.sleep(0.02)

    def wait_state(self, body):
        st = {}
        wc = self.app.watch_counts()
        if "watches" in body:
            st["watches"] = all(wc["by_resource"].get(r, 0) >= n
                                for r, n in body["watches"].items())
        if "watches_total" in body:
            st["watches_total"] = wc["total"] >= body["watches_total"]
        if "requests" in body:
            r = body["requests"]
            got = [e for e in self.app.log.since(int(r.get("since", 0)))
                   if e["path"].startswith(r.get("path", ""))
                   and r.get("verb") in (None, e["verb"])
                   and r.get("resource") in (None, e["resource"])]
            st["requests"] = len(got) >= int(r.get("min", 1))
        if "rv" in body:
            st["rv"] = self.app.store.rv >= int(body["rv"])
        cl = self.app.cluster
        if "history" in body:
            h = dict(body["history"])
            n = int(h.pop("min", 1))
            st["history"] = len(cl.query_history(
                {k: ",".join(v) if isinstance(v, list) else str(v)
                 for k, v in h.items()})) >= n
        if "events" in body:
            e = dict(body["events"])
            n = int(e.pop("min", 1))
            st["events"] = len(cl.query_events(e)) >= n
        for cond in ("exists", "gone", "ready"):
            if cond in body:
                st[cond] = all(self.object_state(cond, o)
                               for o in body[cond])
        return st

    def object_state(self, cond, o):
        """exists/gone: {"kind","namespace","name"} (kind default Pod);
        ready: a pod Running and Ready."""
        kind = o.get("kind", "Pod")
        res = next((r for r in self.app.resources if r.kind == kind), None)
        if res is None:
            raise ValueError("unknown kind %r" % kind)
        key = (res.group, res.plural, (o.get("namespace") or "default")
               if res.namespaced else "", o["name"])
        with self.app.store.cond:
            obj = clone(self.app.store.objects.get(key))
        if cond == "exists":
            return obj is not None
        if cond == "gone":
            return obj is None
        return (obj is not None and fakecluster.phase_of(obj) == "Running"
                and fakecluster.is_ready(obj)
                and not fakecluster.is_terminating(obj))


# --------------------------------------------------------------------------
# TLS: the server context and --make-certs (shells out to openssl).
# --------------------------------------------------------------------------

def ssl_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    ctx.set_alpn_protocols(["http/1.1"])
    if args.client_ca:
        # Like kube-apiserver --client-ca-file: a client certificate is
        # optional, but when sent it must verify (and then authenticates).
        ctx.load_verify_locations(args.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


CERT_EXT = {
    "ca": "basicConstraints=critical,CA:TRUE\n"
          "keyUsage=critical,keyCertSign,cRLSign\n"
          "subjectKeyIdentifier=hash\n",
    "server": "basicConstraints=CA:FALSE\n"
              "keyUsage=critical,digitalSignature,keyEncipherment\n"
              "extendedKeyUsage=serverAuth\n"
              "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost,"
              "DNS:kubernetes,DNS:kubernetes.default.svc\n"
              "subjectKeyIdentifier=hash\n"
              "authorityKeyIdentifier=keyid,issuer\n",
    "wronghost": "basicConstraints=CA:FALSE\n"
                 "keyUsage=critical,digitalSignature,keyEncipherment\n"
                 "extendedKeyUsage=serverAuth\n"
                 "subjectAltName=DNS:wrong-host.invalid\n"
                 "subjectKeyIdentifier=hash\n"
                 "authorityKeyIdentifier=keyid,issuer\n",
    "client": "basicConstraints=CA:FALSE\n"
              "keyUsage=critical,digitalSignature,keyEncipherment\n"
              "extendedKeyUsage=clientAuth\n"
              "subjectKeyIdentifier=hash\n"
              "authorityKeyIdentifier=keyid,issuer\n",
}


def make_certs(d):
    """Writes ca.crt/ca.key, server.crt/server.key (SAN 127.0.0.1, ::1,
    localhost), client.crt/client.key (CN=petdns, O=system:masters),
    other-ca.crt (a CA that signed nothing, for verification failures) and
    wronghost.crt/.key (signed by ca.crt for wrong-host.invalid only: a
    name mismatch)."""
    os.makedirs(d, exist_ok=True)

    def run(*cmd):
        subprocess.run(["openssl", *cmd], check=True, cwd=d,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def ext(name):
        path = os.path.join(d, name + ".ext")
        with open(path, "w") as f:
            f.write(CERT_EXT[name])
        return name + ".ext"

    for ca in ("ca", "other-ca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
            "-days", "3650", "-keyout", ca + ".key", "-out", ca + ".crt",
            "-subj", "/CN=fakeapi-" + ca, "-extensions", "v3_ca",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, subj in (("server", "/CN=kube-apiserver"),
                       ("wronghost", "/CN=wrong-host.invalid"),
                       ("client", "/O=system:masters/CN=petdns")):
        run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout",
            name + ".key", "-out", name + ".csr", "-subj", subj)
        run("x509", "-req", "-sha256", "-days", "3650", "-in", name + ".csr",
            "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial",
            "0x" + uuid.uuid4().hex[:16], "-out", name + ".crt",
            "-extfile", ext(name))
        os.unlink(os.path.join(d, name + ".csr"))
    for name in ("server", "wronghost", "client"):
        os.unlink(os.path.join(d, name + ".ext"))
    return d


def write_file(path, text):
    """Atomic write, so a test polling the file never reads half of it."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def kubeconfig_text(args, port):
    scheme = "https" if args.tls_cert else "http"
    cluster = ["    server: %s://%s:%d" % (scheme, args.host, port)]
    if args.ca_cert:
        cluster.append("    certificate-authority: %s"
                       % os.path.abspath(args.ca_cert))
    user = ["    token: %s" % args.token] if args.token else []
    if args.client_cert:
        user += ["    client-certificate: %s" % os.path.abspath(
                 args.client_cert),
                 "    client-key: %s" % os.path.abspath(args.client_key)]
    return "\n".join([
        "apiVersion: v1", "kind: Config", "clusters:", "- name: fakeapi",
        "  cluster:", *cluster, "users:", "- name: fakeapi",
        "  user:" + ("" if user else " {}"), *user, "contexts:",
        "- name: fakeapi", "  context:", "    cluster: fakeapi",
        "    user: fakeapi", "current-context: fakeapi", ""])


# --------------------------------------------------------------------------
# Command line.
# --------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Fake kube-apiserver for petdns tests (see README.md).")
    a = p.add_argument
    a("--host", default="127.0.0.1", help="API listen address")
    a("--port", type=int, default=0, help="API port (0: any free port)")
    a("--port-file", help="write the bound API port here once listening")
    a("--control-port", type=int, default=0, help="control port on 127.0.0.1")
    a("--control-port-file", help="write the bound control port here")
    a("--token", help="require 'Authorization: Bearer TOKEN'")
    a("--user", default="system:serviceaccount:kube-system:coredns",
      help="user named in 403 messages for token requests")
    a("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    a("--tls-key", help="private key of --tls-cert")
    a("--client-ca", help="accept client certificates signed by this CA")
    a("--state", help="JSON file of initial objects (list or {items: []})")
    a("--no-endpointslice-v1", action="store_true",
      help="serve EndpointSlices only as discovery.k8s.io/v1beta1 (1.20)")
    a("--k8s-version", help="version reported by /version (e.g. 1.30.2)")
    a("--bookmark-interval", type=float, default=1.0,
      help="seconds between BOOKMARK events (default 1)")
    a("--watch-timeout", type=float, default=1800.0,
      help="watch length when the client sends no timeoutSeconds")
    a("--history-size", type=int, default=0,
      help="keep only this many changes (older ones compacted); 0: all")
    a("--deny", action="append", default=[], metavar="RES[:VERB,...]",
      help="403 for a resource (all verbs, or the listed ones)")
    a("--kubeconfig", help="write a kubeconfig for this server here")
    a("--ca-cert", help="CA to name in --kubeconfig")
    a("--client-cert", help="client certificate to name in --kubeconfig")
    a("--client-key", help="client key to name in --kubeconfig")
    a("--make-certs", metavar="DIR",
      help="create a CA, server and client certificates in DIR and exit")
    a("--simulate-cluster", action="store_true",
      help="simulate the rest of a cluster: kubelet, graceful deletion, "
      "endpointslice controller, PetSet subresources, garbage collector")
    a("--simulate", action="append", default=[], metavar="LIST",
      help="only these simulations (comma list of kubelet, "
      "graceful-deletion, endpointslices, petsets, gc, all)")
    a("--kubelet-delay", type=float, default=0.3,
      help="seconds from Pending (scheduled) to Running (default 0.3)")
    a("--grace", type=float, default=0.3,
      help="seconds a terminating pod or claim lasts at most (default 0.3)")
    a("--fresh-pod-ips", action="store_true",
      help="a recreated pod gets a new IP (default: same name, same IP)")
    a("--scale-selector-path", default=".status.selector",
      help="the CRD scale subresource's labelSelectorPath (default "
      ".status.selector; empty: none)")
    a("--verbose", action="store_true", help="log requests to stderr")
    args = p.parse_args(argv)
    try:
        fakecluster.parse_features(args.simulate)
    except ValueError as e:
        p.error(str(e))
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.client_ca and not args.tls_cert:
        p.error("--client-ca needs --tls-cert")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.make_certs:
        try:
            print(make_certs(args.make_certs))
        except subprocess.CalledProcessError as e:
            sys.stderr.write("fakeapi: openssl failed: %s\n"
                             % e.stderr.decode(errors="replace"))
            return 1
        return 0
    app = App(args)
    if args.state:
        app.load_state(args.state)
    app.cluster.start()
    for d in args.deny:
        res, _, verbs = d.partition(":")
        for v in (verbs.split(",") if verbs else ["any"]):
            app.add_faults({"resource": res, "verb": v, "status": 403,
                            "times": -1})
    ctl = Server(("127.0.0.1", args.control_port), ControlHandler, app)
    api = Server((args.host, args.port), ApiHandler, app,
                 ssl_context(args) if args.tls_cert else None)
    app.api = api
    threads = [threading.Thread(target=s.serve_forever, args=(0.1,),
                                daemon=True) for s in (ctl, api)]
    for t in threads:
        t.start()
    port = api.server_address[1]
    if args.control_port_file:
        write_file(args.control_port_file, "%d\n" % ctl.server_address[1])
    if args.kubeconfig:
        write_file(args.kubeconfig, kubeconfig_text(args, port))
    if args.port_file:
        write_file(args.port_file, "%d\n" % port)
    if args.verbose:
        sys.stderr.write("fakeapi: api port %d, control port %d\n"
                         % (port, ctl.server_address[1]))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: app.stopping.set())
    while not app.stopping.wait(0.5):
        pass
    # Clean shutdown: end every watch with its terminating chunk.
    app.signal_watches(SHUTDOWN)
    end = time.monotonic() + 2
    while app.watch_counts()["total"] and time.monotonic() < end:
        time.sleep(0.02)
    for s in (api, ctl):
        s.shutdown()
        s.server_close()
    return 0


fakecluster.bind(sys.modules[__name__])

if __name__ == "__main__":
    sys.exit(main())
