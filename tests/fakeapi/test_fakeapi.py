#!/usr/bin/env python3
"""test_fakeapi.py -- self-test of fakeapi.py over real sockets.

Starts fakeapi.py on free ports (port 0 + port files), then checks the wire
format and every control-API feature with urllib, http.client, ssl and raw
sockets.  Prints "N passed, M failed"; exits non-zero on any failure.
Run: python3 tests/fakeapi/test_fakeapi.py
"""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
FAKEAPI = os.path.join(HERE, "fakeapi.py")
DATA = os.path.join(HERE, "..", "data", "fakeapi")
CLUSTER = os.path.join(DATA, "cluster.json")

PASSED = 0
FAILED = 0


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print("ok   %s" % name)
    else:
        FAILED += 1
        print("FAIL %s %s" % (name, detail))
    return cond


# --------------------------------------------------------------------------
# Harness: a fakeapi process and clients for its two ports.
# --------------------------------------------------------------------------

class Fake:
    def __init__(self, *args, tls=None):
        self.dir = tempfile.mkdtemp(prefix="fakeapi-test-")
        pf, cf = os.path.join(self.dir, "port"), os.path.join(self.dir, "cport")
        self.tls = tls
        self.proc = subprocess.Popen(
            [sys.executable, FAKEAPI, "--port", "0", "--port-file", pf,
             "--control-port-file", cf, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        end = time.monotonic() + 10
        while not os.path.exists(pf):
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError("fakeapi did not start: %s" %
                                   self.proc.stderr.read().decode())
            time.sleep(0.02)
        self.port = int(open(pf).read())
        self.cport = int(open(cf).read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.proc.stderr.read().decode(errors="replace")
        check("server %d ran without tracebacks" % self.port,
              "Traceback" not in err, err)
        self.proc.stdout.close()
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def conn(self, timeout=10, ctx=None):
        if self.tls or ctx:
            return http.client.HTTPSConnection("127.0.0.1", self.port,
                                               timeout=timeout,
                                               context=ctx or self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)

    def api(self, path, method="GET", body=None, token=None, ctx=None,
            headers=None):
        """(status, headers, body bytes, parsed JSON or None)."""
        c = self.conn(ctx=ctx)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            h["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        c.close()
        try:
            js = json.loads(raw)
        except ValueError:
            js = None
        return r.status, r.headers, raw, js

    def ctl(self, path, body=None, method=None):
        c = http.client.HTTPConnection("127.0.0.1", self.cport, timeout=30)
        data = json.dumps(body).encode() if body is not None else None
        c.request(method or ("POST" if data is not None else "GET"), path,
                  body=data)
        r = c.getresponse()
        out = json.loads(r.read() or b"null")
        c.close()
        return r.status, out

    def put(self, obj):
        return self.ctl("/objects", obj)[1][0]

    def rv(self):
        return self.ctl("/state")[1]["resourceVersion"]

    def watch(self, path, **kw):
        return RawWatch(self, path, **kw)


class RawWatch:
    """A watch over a raw socket: decodes chunks by hand so tests see
    exactly what went over the wire (partial lines, missing terminator)."""

    def __init__(self, fake, path, token=None, ctx=None, timeout=5):
        s = socket.create_connection(("127.0.0.1", fake.port), timeout=timeout)
        if fake.tls or ctx:
            s = (ctx or fake.tls).wrap_socket(s, server_hostname="localhost")
        self.sock = s
        req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " \
              "fakeapi-test/1.0\r\nAccept: application/json\r\n" % path
        if token:
            req += "Authorization: Bearer %s\r\n" % token
        s.sendall((req + "\r\n").encode())
        self.buf = b""
        self.data = b""           # de-chunked body bytes not yet consumed
        self.ended = False        # terminating chunk seen
        self.eof = False          # connection closed
        head = self._until(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in
                        (l.split(":", 1) for l in lines[1:] if ":" in l)}

    def _fill(self):
        try:
            d = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            d = b""
        if not d:
            self.eof = True
            raise EOFError()
        self.buf += d

    def _until(self, sep):
        while sep not in self.buf:
            self._fill()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _chunk(self):
        size = int(self._until(b"\r\n")[:-2], 16)
        while len(self.buf) < size + 2:
            self._fill()
        chunk, self.buf = self.buf[:size], self.buf[size + 2:]
        if size == 0:
            self.ended = True
        return chunk

    def line(self):
        """The next event line (bytes), or None at the end of the stream.
        EOFError when the connection drops; self.data then holds the
        partial line."""
        while b"\n" not in self.data:
            if self.ended:
                return None
            self.data += self._chunk()
        i = self.data.index(b"\n") + 1
        out, self.data = self.data[:i], self.data[i:]
        return out

    def event(self):
        line = self.line()
        return None if line is None else json.loads(line)

    def events_until(self, pred, limit=50):
        """Reads events until pred(event) holds; returns them all."""
        out = []
        for _ in range(limit):
            ev = self.event()
            if ev is None:
                break
            out.append(ev)
            if pred(ev):
                break
        return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def svc(name, ns="default", labels=None, ip="10.96.9.9"):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns,
                         "labels": labels or {}},
            "spec": {"clusterIP": ip, "ports": [{"port": 80}]}}


def eventually(fn, timeout=3):
    """Polls fn until it holds or the timeout passes."""
    end = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def wait_watches(fake, resource, n, timeout=5):
    return fake.ctl("/wait", {"watches": {resource: n},
                              "timeout": timeout})[0] == 200


# --------------------------------------------------------------------------
# Tests against the plain-HTTP server loaded with cluster.json.
# --------------------------------------------------------------------------

def test_discovery(f):
    st, _, _, v = f.api("/version")
    check("version", st == 200 and v["major"] == "1" and
          v["gitVersion"].startswith("v1."), v)
    st, _, _, a = f.api("/api")
    check("api APIVersions", a == {"kind": "APIVersions", "versions": ["v1"],
          "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                          "serverAddress": "127.0.0.1:%d"
                                          % f.port}]}, a)
    st, _, _, r = f.api("/api/v1")
    names = {x["name"]: x for x in r["resources"]}
    check("api/v1 APIResourceList (no apiVersion, like the real one)",
          r["kind"] == "APIResourceList" and "apiVersion" not in r and
          r["groupVersion"] == "v1" and names["services"]["namespaced"] and
          not names["namespaces"]["namespaced"] and
          names["pods"]["kind"] == "Pod" and "watch" in
          names["services"]["verbs"] and "services/status" in names, r)
    st, _, _, g = f.api("/apis")
    groups = {x["name"]: x for x in g["groups"]}
    check("apis APIGroupList", g["kind"] == "APIGroupList" and
          g["apiVersion"] == "v1" and groups["discovery.k8s.io"]
          ["preferredVersion"] == {"groupVersion": "discovery.k8s.io/v1",
                                   "version": "v1"}, g)
    st, _, _, g = f.api("/apis/discovery.k8s.io")
    check("apis/<group> APIGroup", st == 200 and g["kind"] == "APIGroup" and
          g["name"] == "discovery.k8s.io", g)
    st, _, _, r = f.api("/apis/discovery.k8s.io/v1")
    check("apis/<group>/<version> APIResourceList", r["kind"] ==
          "APIResourceList" and r["apiVersion"] == "v1" and r["groupVersion"]
          == "discovery.k8s.io/v1" and r["resources"][0]["name"] ==
          "endpointslices", r)
    st, h, raw, s = f.api("/apis/nope.io/v1")
    check("unknown group 404 Status", st == 404 and s["kind"] == "Status" and
          s["reason"] == "NotFound" and s["code"] == 404, raw)
    st, _, _, s = f.api("/api/v1/widgets")
    check("unknown resource 404", st == 404 and s["reason"] == "NotFound")
    st, h, raw, _ = f.api("/healthz")
    check("healthz", st == 200 and raw == b"ok")


def test_list(f):
    st, h, raw, l = f.api("/api/v1/services")
    rv = f.rv()
    check("list kind/apiVersion/rv", st == 200 and l["kind"] == "ServiceList"
          and l["apiVersion"] == "v1" and l["metadata"] == {
              "resourceVersion": str(rv)}, l.get("metadata"))
    check("list items without kind/apiVersion, with resourceVersion",
          all("kind" not in i and "apiVersion" not in i and
              i["metadata"]["resourceVersion"].isdigit() for i in l["items"]))
    check("list Content-Type and trailing newline",
          h["Content-Type"] == "application/json" and raw.endswith(b"}\n"))
    keys = [i["metadata"]["namespace"] + "/" + i["metadata"]["name"]
            for i in l["items"]]
    check("list in etcd key order", keys == sorted(keys) and len(keys) == 12,
          keys)
    st, _, _, l = f.api("/api/v1/namespaces/kube-system/services")
    check("namespaced list", [i["metadata"]["name"] for i in l["items"]] ==
          ["kube-dns"], l["items"])
    st, _, _, o = f.api("/api/v1/namespaces/default/services/api")
    check("get object carries kind/apiVersion", st == 200 and o["kind"] ==
          "Service" and o["apiVersion"] == "v1" and
          o["metadata"]["name"] == "api", o)
    st, _, _, s = f.api("/api/v1/namespaces/default/services/nope")
    check("get missing: 404 Status", st == 404 and s["message"] ==
          'services "nope" not found' and s["details"] == {
              "name": "nope", "kind": "services"}, s)
    st, _, _, l = f.api("/api/v1/services?limit=2&resourceVersion=0")
    check("resourceVersion=0 is served whole (watch cache ignores limit)",
          len(l["items"]) == 12 and "continue" not in l["metadata"])
    st, _, _, l = f.api("/apis/discovery.k8s.io/v1/endpointslices")
    check("endpointslice list", l["kind"] == "EndpointSliceList" and
          l["apiVersion"] == "discovery.k8s.io/v1" and len(l["items"]) == 5)
    st, _, _, l = f.api("/api/v1/namespaces")
    check("cluster-scoped list", [i["metadata"]["name"] for i in l["items"]]
          == ["default", "kube-system", "other"])


def test_paging(f):
    st, _, _, whole = f.api("/api/v1/services")
    pages, token, rvs, remaining = [], None, set(), []
    since = f.ctl("/requests")[1]["last"]
    for i in range(5):
        path = "/api/v1/services?limit=5" + (
            "&continue=" + token if token else "")
        st, _, _, l = f.api(path)
        pages.append([x["metadata"]["name"] for x in l["items"]])
        rvs.add(l["metadata"]["resourceVersion"])
        remaining.append(l["metadata"].get("remainingItemCount"))
        token = l["metadata"].get("continue")
        if i == 0:      # a change between pages must not show up
            f.put(svc("aaa-new", ns="aaa"))
        if not token:
            break
    check("paging: 3 pages of 5/5/2", [len(p) for p in pages] == [5, 5, 2],
          pages)
    check("paging: remainingItemCount 7, 2, absent", remaining == [7, 2, None],
          remaining)
    check("paging: one snapshot resourceVersion across pages", len(rvs) == 1
          and sum(pages, []) == [x["metadata"]["name"]
                                 for x in whole["items"]], (rvs, pages))
    reqs = f.ctl("/requests?since=%d" % since)[1]["requests"]
    check("request log shows limit and continue",
          [r["query"].get("limit") for r in reqs] == ["5"] * 3 and
          "continue" in reqs[1]["query"], reqs)
    tok = json.loads(base64.urlsafe_b64decode(
        f.api("/api/v1/services?limit=5")[3]["metadata"]["continue"] + "=="))
    check("continue token is the apiserver's {v, rv, start}",
          tok["v"] == "meta.k8s.io/v1" and tok["start"].endswith("\x00"), tok)
    # Expired continue token: 410 with an inconsistent-continue token.
    st, _, _, l = f.api("/api/v1/services?limit=5")
    token = l["metadata"]["continue"]
    last = l["items"][-1]["metadata"]
    f.put(svc("aab-new", ns="aaa"))
    f.ctl("/compact", {})
    st, _, _, s = f.api("/api/v1/services?limit=5&continue=" + token)
    check("expired continue: 410 Expired", st == 410 and s["reason"] ==
          "Expired" and s["code"] == 410 and s["message"].startswith(
              "The provided continue parameter is too old"), s)
    st, _, _, l = f.api("/api/v1/services?limit=50&continue=" +
                        s["metadata"]["continue"])
    rest = [k for k in ("%s/%s" % (i["metadata"]["namespace"],
                                   i["metadata"]["name"])
                        for i in f.api("/api/v1/services")[3]["items"])
            if k > "%s/%s" % (last["namespace"], last["name"])]
    got = ["%s/%s" % (i["metadata"]["namespace"], i["metadata"]["name"])
           for i in l["items"]]
    check("inconsistent continue token resumes after the last item",
          st == 200 and got == rest and len(got) == 8, got)
    st, _, _, s = f.api("/api/v1/services?limit=5&continue=garbage")
    check("bad continue token: 400", st == 400 and s["reason"] ==
          "BadRequest", s)
    st, _, _, s = f.api("/api/v1/services?limit=5&resourceVersion=1")
    check("list at a compacted resourceVersion: 410", st == 410 and
          s["reason"] == "Expired", s)
    for n in ("aaa-new", "aab-new"):
        f.ctl("/objects/v1/Service/aaa/" + n, method="DELETE")


def names_of(f, path):
    st, _, _, l = f.api(path)
    return st, [x["metadata"]["name"] for x in l.get("items", [])], l


def test_selectors(f):
    base = "/apis/discovery.k8s.io/v1/endpointslices?labelSelector="
    st, n, l = names_of(f, base + "kubernetes.io/service-name%3Dapi")
    check("labelSelector =", n == ["api-a", "api-b"], n)
    st, n, l = names_of(f, base + "kubernetes.io/service-name%3D%3Dv6")
    check("labelSelector ==", n == ["v6-x"], n)
    st, n, l = names_of(f, base + "kubernetes.io/service-name!%3Dapi")
    check("labelSelector !=", n == ["nginx-7xkqp", "trio-4mzq8", "v6-x"], n)
    st, n, l = names_of(f, base + "kubernetes.io/service-name%20in%20(api,v6)")
    check("labelSelector in", n == ["api-a", "api-b", "v6-x"], n)
    st, n, l = names_of(f, base + "kubernetes.io/service-name%20notin%20"
                        "(api,v6),endpointslice.kubernetes.io/managed-by")
    check("labelSelector notin + exists", n == ["nginx-7xkqp", "trio-4mzq8"],
          n)
    st, n, l = names_of(f, "/api/v1/services?labelSelector=!component")
    check("labelSelector !key", "kubernetes" not in n and len(n) == 11, n)
    st, n, l = names_of(f, "/api/v1/services?labelSelector=component%3D"
                        "apiserver,provider%3Dkubernetes&limit=1")
    check("labelSelector paged: no remainingItemCount", n == ["kubernetes"]
          and "remainingItemCount" not in l["metadata"], l["metadata"])
    st, _, _, s = f.api("/api/v1/services?labelSelector=a%20in%20b")
    check("bad labelSelector: 400", st == 400 and s["reason"] == "BadRequest",
          s)
    st, n, l = names_of(f, "/api/v1/services?fieldSelector=metadata.name%3D"
                        "api")
    check("fieldSelector metadata.name", n == ["api"], n)
    st, n, l = names_of(f, "/api/v1/pods?fieldSelector=status.phase!%3D"
                        "Running")
    check("fieldSelector status.phase!=", n == ["trio-3"], n)


def test_watch(f):
    st, _, _, l = f.api("/api/v1/namespaces/default/services")
    rv = l["metadata"]["resourceVersion"]
    w = f.watch("/api/v1/namespaces/default/services?watch=1&"
                "resourceVersion=%s&timeoutSeconds=10" % rv)
    check("watch 200 chunked json", w.status == 200 and
          w.headers.get("transfer-encoding") == "chunked" and
          w.headers.get("content-type") == "application/json", w.headers)
    check("watch is counted", wait_watches(f, "services", 1))
    f.put(svc("w1", labels={"app": "w"}))
    f.put(svc("w1", labels={"app": "w2"}))
    f.put(svc("elsewhere", ns="other"))
    f.ctl("/delete", {"kind": "Service", "namespace": "default",
                      "name": "w1"})
    evs = [w.event() for _ in range(3)]
    types = [e["type"] for e in evs]
    check("watch ADDED, MODIFIED, DELETED", types == ["ADDED", "MODIFIED",
                                                      "DELETED"], types)
    o = evs[0]["object"]
    check("watch objects carry kind/apiVersion", o["kind"] == "Service" and
          o["apiVersion"] == "v1" and list(o)[:3] == ["kind", "apiVersion",
                                                      "metadata"], o)
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
    check("watch resourceVersions increase, DELETED has its own",
          rvs == sorted(rvs) and len(set(rvs)) == 3 and
          rvs[2] == f.rv(), rvs)
    w.close()
    f.ctl("/objects/v1/Service/other/elsewhere", method="DELETE")
    # Replay from a resourceVersion, with a label selector.
    w = f.watch("/api/v1/services?watch=true&resourceVersion=%s&labelSelector="
                "app%%3Dw&timeoutSeconds=5" % rv)
    evs = w.events_until(lambda e: e["type"] == "DELETED")
    check("watch replays history; leaving the selector is DELETED",
          [e["type"] for e in evs] == ["ADDED", "DELETED"] and
          evs[1]["object"]["metadata"]["labels"] == {"app": "w"},
          [e["type"] for e in evs])
    w.close()
    # resourceVersion=0: the current state as ADDED events first.
    w = f.watch("/api/v1/namespaces?watch=1&resourceVersion=0&"
                "timeoutSeconds=5")
    evs = [w.event() for _ in range(3)]
    check("watch rv=0 starts with synthetic ADDED",
          [(e["type"], e["object"]["metadata"]["name"]) for e in evs] ==
          [("ADDED", "default"), ("ADDED", "kube-system"), ("ADDED", "other")])
    w.close()
    # Bookmarks.
    w = f.watch("/api/v1/services?watch=1&resourceVersion=%d&"
                "allowWatchBookmarks=true&timeoutSeconds=5" % f.rv())
    ev = w.event()
    check("bookmark shape", ev["type"] == "BOOKMARK" and ev["object"] == {
        "kind": "Service", "apiVersion": "v1", "metadata": {
            "resourceVersion": str(f.rv()), "creationTimestamp": None},
        "spec": {}, "status": {"loadBalancer": {}}}, ev)
    w.close()
    w = f.watch("/api/v1/services?watch=1&resourceVersion=%d&timeoutSeconds="
                "1" % f.rv())
    t0 = time.monotonic()
    end = w.line()
    check("watch ends cleanly after timeoutSeconds", end is None and w.ended
          and 0.8 < time.monotonic() - t0 < 3)
    check("ended watch is no longer counted", eventually(
        lambda: f.ctl("/watches")[1]["total"] == 0))
    # Client goes away: the server notices without any event to send.
    w = f.watch("/api/v1/pods?watch=1&timeoutSeconds=60")
    wait_watches(f, "pods", 1)
    w.close()
    check("client disconnect frees the watch", eventually(
        lambda: f.ctl("/watches")[1]["by_resource"].get("pods", 0) == 0, 1))


def test_expiry(f):
    st, _, _, l = f.api("/api/v1/services")
    rv = int(l["metadata"]["resourceVersion"])
    f.put(svc("exp1"))
    st, c = f.ctl("/compact", {})
    check("compact returns the compaction point", c["compacted"] == f.rv())
    w = f.watch("/api/v1/services?watch=1&resourceVersion=%d" % rv)
    ev = w.event()
    check("watch from before compaction: 200 + ERROR 410 Expired",
          w.status == 200 and ev == {"type": "ERROR", "object": {
              "kind": "Status", "apiVersion": "v1", "metadata": {},
              "status": "Failure", "message": "too old resource version: "
              "%d (%d)" % (rv, c["compacted"]), "reason": "Expired",
              "code": 410}}, ev)
    check("stream ends after the ERROR", w.line() is None and w.ended)
    w.close()
    w = f.watch("/api/v1/services?watch=1&resourceVersion=%d" % c["compacted"])
    wait_watches(f, "services", 1)
    st, out = f.ctl("/compact", {"expire_watches": True})
    ev = w.event()
    check("compact expire_watches sends 410 to open watches",
          out["expired_watches"] == 1 and ev["type"] == "ERROR" and
          ev["object"]["code"] == 410 and w.line() is None)
    w.close()
    t0 = time.monotonic()
    w = f.watch("/api/v1/services?watch=1&resourceVersion=%d" % (f.rv() + 50))
    ev = w.event()
    check("watch from the future: ERROR 504 after ~3 s", ev["type"] == "ERROR"
          and ev["object"]["code"] == 504 and ev["object"]["reason"] ==
          "Timeout" and 2.5 < time.monotonic() - t0 < 6, ev)
    w.close()
    f.ctl("/delete", {"kind": "Service", "namespace": "default",
                      "name": "exp1"})


def test_faults(f):
    P = "/api/v1/services"
    f.ctl("/faults", {"path": P, "verb": "list", "status": 429,
                      "retry_after": 2})
    st, h, raw, _ = f.api(P)
    check("429 Retry-After, text body like max-in-flight", st == 429 and
          h["Retry-After"] == "2" and h["Content-Type"].startswith(
              "text/plain") and raw == b"Too many requests, please try "
          b"again later.\n", (st, dict(h), raw))
    check("fault is one-shot", f.api(P)[0] == 200)
    f.ctl("/faults", {"path": P, "status": 429, "body": "status"})
    st, h, raw, s = f.api(P)
    check("429 as Status", st == 429 and s["reason"] == "TooManyRequests" and
          s["details"]["retryAfterSeconds"] == 1, s)
    f.ctl("/faults", {"path": P, "status": 500, "times": 2})
    codes = [f.api(P)[0] for _ in range(3)]
    check("counted fault: 500, 500, then 200", codes == [500, 500, 200],
          codes)
    f.ctl("/faults", {"resource": "services", "status": 500})
    st, _, _, s = f.api("/api/v1/namespaces/default/services")
    check("500 Status InternalError", st == 500 and s["reason"] ==
          "InternalError" and s["code"] == 500, s)
    f.ctl("/faults", {"path": P, "status": 401})
    st, _, _, s = f.api(P)
    check("401 Status", st == 401 and s == {
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": "Unauthorized",
        "reason": "Unauthorized", "code": 401}, s)
    f.ctl("/faults", {"resource": "pods", "verb": "watch", "status": 403})
    check("verb filter: a watch fault spares lists",
          f.api("/api/v1/pods")[0] == 200)
    w = f.watch("/api/v1/namespaces/default/pods?watch=1")
    st, s = w.status, json.loads(w._until(b"}\n").split(b"\r\n")[-1])
    check("403 Forbidden Status", st == 403 and s["reason"] == "Forbidden" and
          s["message"] == 'pods is forbidden: User "system:serviceaccount:'
          'kube-system:coredns" cannot watch resource "pods" in API group "" '
          'in the namespace "default"' and s["details"] == {"kind": "pods"}, s)
    w.close()
    # Disconnects.
    f.ctl("/faults", {"path": P, "verb": "list", "disconnect": "headers"})
    c = f.conn()
    c.request("GET", P)
    r = c.getresponse()
    try:
        r.read()
        ok = False
    except http.client.IncompleteRead as e:
        ok = e.partial == b""
    check("disconnect after headers", r.status == 200 and ok)
    c.close()
    f.ctl("/faults", {"path": P, "verb": "watch", "disconnect": "mid-line"})
    w = f.watch(P + "?watch=1&resourceVersion=0")
    try:
        w.line()
        ok = False
    except EOFError:
        ok = w.data.startswith(b'{"type":"ADDED"') and not w.ended
    check("watch disconnect mid-line", ok, w.data[:60])
    w.close()
    f.ctl("/faults", {"path": P, "verb": "list", "disconnect": "mid-line"})
    c = f.conn()
    c.request("GET", P)
    r = c.getresponse()
    try:
        r.read()
        ok = False
    except http.client.IncompleteRead as e:
        ok = e.partial.startswith(b'{"kind":"ServiceList"')
    check("list disconnect mid-body", ok)
    c.close()
    # Stall: accepted, never answered.
    f.ctl("/faults", {"path": P, "stall": True, "seconds": 2})
    c = f.conn(timeout=0.7)
    c.request("GET", P)
    try:
        c.getresponse()
        ok = False
    except socket.timeout:
        ok = True
    check("stall: no answer", ok)
    c.close()
    # Malformed and huge lines.
    f.ctl("/faults", {"path": P, "verb": "watch", "malformed": True})
    w = f.watch(P + "?watch=1&resourceVersion=0")
    bad, good = w.line(), w.line()
    try:
        json.loads(bad)
        ok = False
    except ValueError:
        ok = json.loads(good)["type"] == "ADDED"
    check("malformed line, then the stream goes on", ok, bad)
    w.close()
    f.ctl("/faults", {"path": P, "verb": "watch", "huge": 300000})
    w = f.watch(P + "?watch=1&resourceVersion=0")
    first, huge = w.line(), w.line()
    ev = json.loads(huge)
    check("huge event line of exactly N bytes", len(huge) == 300000 and
          ev["type"] == "MODIFIED" and ev["object"]["metadata"]["name"] ==
          json.loads(first)["object"]["metadata"]["name"], len(huge))
    w.close()
    n = len(f.api(P)[3]["items"])
    f.ctl("/faults", {"path": P, "verb": "list", "huge": 100000})
    st, _, raw, l = f.api(P)
    check("huge list body", st == 200 and len(raw) == 100000 and
          len(l["items"]) == n, (len(raw), len(l["items"]), n))
    # Delay, after.
    f.ctl("/faults", {"path": P, "delay": 0.5})
    t0 = time.monotonic()
    check("delay", f.api(P)[0] == 200 and time.monotonic() - t0 >= 0.5)
    f.ctl("/faults", {"path": P, "status": 503, "after": 1})
    codes = [f.api(P)[0] for _ in range(3)]
    check("after: skips matching requests first", codes == [200, 503, 200],
          codes)
    # drop_watches: every open watch ends without the terminating chunk.
    ws = [f.watch(P + "?watch=1&resourceVersion=%d" % f.rv()),
          f.watch("/api/v1/pods?watch=1&resourceVersion=%d" % f.rv())]
    wait_watches(f, "pods", 1)
    f.ctl("/faults", {"drop_watches": True})
    ok = True
    for w in ws:
        try:
            w.line()
            ok = False
        except EOFError:
            ok = ok and not w.ended
        w.close()
    check("drop_watches closes abruptly", ok)
    st, faults = f.ctl("/faults")
    check("no faults left over", faults == [], faults)
    f.ctl("/faults", {"status": 500, "times": -1})
    f.ctl("/reset", {})
    check("reset clears faults and the log", f.api(P)[0] == 200 and
          len(f.ctl("/requests")[1]["requests"]) == 1)


def test_writes(f):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "web-9", "labels": {"app": "nginx"}},
        "spec": {"containers": [{"name": "c", "image": "i"}]}}
    w = f.watch("/api/v1/namespaces/default/pods?watch=1&resourceVersion=%d"
                % f.rv())
    st, _, _, o = f.api("/api/v1/namespaces/default/pods", "POST", pod)
    check("create: 201 with rv and uid", st == 201 and o["metadata"][
        "namespace"] == "default" and o["metadata"]["uid"], o)
    ev = w.event()
    check("create is watched", ev["type"] == "ADDED" and
          ev["object"]["metadata"]["name"] == "web-9")
    st, _, _, s = f.api("/api/v1/namespaces/default/pods", "POST", pod)
    check("create twice: 409 AlreadyExists", st == 409 and s["reason"] ==
          "AlreadyExists", s)
    stale = dict(o, metadata=dict(o["metadata"], resourceVersion="1"))
    st, _, _, s = f.api("/api/v1/namespaces/default/pods/web-9", "PUT", stale)
    check("update with a stale rv: 409 Conflict", st == 409 and s["reason"]
          == "Conflict", s)
    st, _, _, o2 = f.api("/api/v1/namespaces/default/pods/web-9", "PATCH",
                         {"metadata": {"labels": {"x": "y"}}},
                         headers={"Content-Type":
                                  "application/merge-patch+json"})
    check("merge patch", st == 200 and o2["metadata"]["labels"] == {
        "app": "nginx", "x": "y"}, o2)
    st, _, _, o3 = f.api("/api/v1/namespaces/default/pods/web-9", "DELETE")
    check("delete returns the object", st == 200 and o3["kind"] == "Pod")
    evs = [w.event()["type"] for _ in range(2)]
    check("patch and delete are watched", evs == ["MODIFIED", "DELETED"], evs)
    w.close()


def test_crd(f):
    ps = {"apiVersion": "petdns.io/v1alpha1", "kind": "PetSet", "metadata": {
        "name": "web", "namespace": "default"}, "spec": {"serviceName":
                                                          "nginx",
                                                          "replicas": 2}}
    f.put(ps)
    st, _, raw, l = f.api("/apis/petdns.io/v1alpha1/petsets")
    check("CRD list: sorted keys, items typed, continue \"\"", st == 200 and
          list(l) == ["apiVersion", "items", "kind", "metadata"] and
          l["metadata"]["continue"] == "" and
          l["items"][0]["kind"] == "PetSet", raw[:200])
    w = f.watch("/apis/petdns.io/v1alpha1/namespaces/default/petsets?watch=1&"
                "resourceVersion=%d&allowWatchBookmarks=true" % f.rv())
    ev = w.event()
    check("CRD bookmark: metadata only", ev["object"] == {
        "apiVersion": "petdns.io/v1alpha1", "kind": "PetSet",
        "metadata": {"resourceVersion": str(f.rv())}}, ev)
    w.close()


# --------------------------------------------------------------------------
# Separate servers: token auth, Kubernetes 1.20, TLS, SIGTERM.
# --------------------------------------------------------------------------

def test_token():
    f = Fake("--token", "old", "--state", CLUSTER)
    try:
        check("no token: 401", f.api("/api/v1/services")[0] == 401)
        check("wrong token: 401", f.api("/api/v1/services",
                                        token="bad")[0] == 401)
        check("right token: 200", f.api("/api/v1/services",
                                        token="old")[0] == 200)
        f.ctl("/token", {"token": "new"})
        check("after rotation the old token gets 401",
              f.api("/api/v1/services", token="old")[0] == 401)
        check("and the new one works", f.api("/api/v1/services",
                                             token="new")[0] == 200)
        toks = [r["token"] for r in f.ctl("/requests")[1]["requests"]]
        check("request log records the token", toks == [None, "bad", "old",
                                                        "old", "new"], toks)
    finally:
        f.stop()


def test_k8s_120():
    f = Fake("--no-endpointslice-v1", "--state",
             os.path.join(DATA, "endpointslice-v1beta1.json"))
    try:
        check("1.20: /apis/discovery.k8s.io/v1 is 404",
              f.api("/apis/discovery.k8s.io/v1")[0] == 404)
        st, _, _, g = f.api("/apis/discovery.k8s.io")
        check("1.20: discovery lists only v1beta1", [v["version"] for v in
                                                     g["versions"]] ==
              ["v1beta1"], g)
        check("1.20: /version says 1.20", f.api("/version")[3]["minor"] ==
              "20")
        st, _, _, l = f.api("/apis/discovery.k8s.io/v1beta1/endpointslices")
        check("1.20: v1beta1 list with topology", l["apiVersion"] ==
              "discovery.k8s.io/v1beta1" and "topology" in
              l["items"][0]["endpoints"][0], l)
        v1 = json.load(open(os.path.join(DATA, "..", "..", "data", "fakeapi",
                                         "cluster.json")))["items"][-1]
        f.put(v1)
        st, _, _, o = f.api("/apis/discovery.k8s.io/v1beta1/namespaces/"
                            "default/endpointslices/" + v1["metadata"]["name"])
        check("1.20: a v1 object is served converted", o["apiVersion"] ==
              "discovery.k8s.io/v1beta1", o)
    finally:
        f.stop()


def test_tls():
    d = tempfile.mkdtemp(prefix="fakeapi-certs-")
    try:
        r = subprocess.run([sys.executable, FAKEAPI, "--make-certs", d],
                           capture_output=True)
        have = all(os.path.exists(os.path.join(d, n)) for n in (
            "ca.crt", "server.crt", "server.key", "client.crt",
            "client.key"))
        if not check("--make-certs", r.returncode == 0 and have, r.stderr):
            return
        ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
        f = Fake("--tls-cert", os.path.join(d, "server.crt"), "--tls-key",
                 os.path.join(d, "server.key"), "--client-ca",
                 os.path.join(d, "ca.crt"), "--token", "tok", "--state",
                 CLUSTER, tls=ctx)
        try:
            st, _, _, v = f.api("/version", token="tok")
            check("https with the generated CA (SAN 127.0.0.1)", st == 200)
            c2 = ssl.create_default_context(cafile=os.path.join(
                d, "other-ca.crt"))
            try:
                f.api("/version", ctx=c2)
                ok = False
            except ssl.SSLCertVerificationError:
                ok = True
            check("https with the wrong CA fails verification", ok)
            check("https without token or cert: 401",
                  f.api("/api/v1/services")[0] == 401)
            cc = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
            cc.load_cert_chain(os.path.join(d, "client.crt"),
                               os.path.join(d, "client.key"))
            check("client certificate authenticates",
                  f.api("/api/v1/services", ctx=cc)[0] == 200)
            last = f.ctl("/requests")[1]["requests"][-1]
            check("request log records the client cert", last["client_cert"]
                  == "petdns", last)
            w = f.watch("/api/v1/services?watch=1&resourceVersion=%d&"
                        "allowWatchBookmarks=true" % f.rv(), token="tok")
            f.put(svc("tls1"))
            evs = [w.event()["type"] for _ in range(2)]
            check("watch over TLS", "ADDED" in evs, evs)
            w.close()
            check("TLS client disconnect frees the watch", eventually(
                lambda: f.ctl("/watches")[1]["total"] == 0, 1))
        finally:
            f.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_sigterm():
    f = Fake("--state", CLUSTER)
    w = f.watch("/api/v1/services?watch=1&resourceVersion=%d" % f.rv())
    wait_watches(f, "services", 1)
    f.proc.send_signal(signal.SIGTERM)
    try:
        end = w.line()
    except EOFError:
        end = "eof"
    try:
        rc = f.proc.wait(5)
    except subprocess.TimeoutExpired:
        rc = "hung"
    check("SIGTERM: watches end cleanly, exit 0", end is None and w.ended and
          rc == 0, (end, rc))
    w.close()
    f.stop()


def main():
    f = Fake("--state", CLUSTER)
    try:
        for t in (test_discovery, test_list, test_paging, test_selectors,
                  test_watch, test_expiry, test_faults, test_writes,
                  test_crd):
            try:
                t(f)
            except Exception:
                check(t.__name__ + " raised", False, traceback.format_exc())
    finally:
        f.stop()
    for t in (test_token, test_k8s_120, test_tls, test_sigterm):
        try:
            t()
        except Exception:
            check(t.__name__ + " raised", False, traceback.format_exc())
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
