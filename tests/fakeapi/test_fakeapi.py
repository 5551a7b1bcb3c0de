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
    # A burst (one POST of many objects) may leave in one write, as the API
    # server flushes only when no event waits: still a chunk per event.
    f.ctl("/objects", {"kind": "List", "items": [
        svc("burst%d" % i, ip="10.96.10.%d" % i) for i in range(40)]})
    chunks = [w._chunk() for _ in range(40)]
    check("a burst of events: one chunk each, one line each, in order",
          all(c.endswith(b"\n") and c.count(b"\n") == 1 for c in chunks) and
          [json.loads(c)["object"]["metadata"]["name"] for c in chunks] ==
          ["burst%d" % i for i in range(40)], chunks[:2])
    w.close()
    for i in range(40):
        f.ctl("/delete", {"kind": "Service", "namespace": "default",
                          "name": "burst%d" % i})
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


def test_churn(f):
    check("churn: DELETE with none running: 404",
          f.ctl("/churn", {}, "DELETE")[0] == 404)
    before = get(f, SL + "/api-a")
    w = f.watch(SL + "?watch=1&resourceVersion=%d&timeoutSeconds=10" % f.rv())
    st, started = f.ctl("/churn", {"rate": 200, "tick_ms": 10, "down_s": 0.05,
                                   "seed": 3, "exclude_headless": True})[:2]
    check("churn: only non-headless services' slices, ready endpoints",
          st == 200 and started == {"slices": 1, "endpoints": 1}, started)
    check("churn: a second one while one runs: 409",
          f.ctl("/churn", {"rate": 10})[0] == 409)
    evs = [w.event() for _ in range(6)]
    check("churn: whole-slice MODIFIED events, the ready endpoint flipped",
          all(e["type"] == "MODIFIED" and
              e["object"]["metadata"]["name"] == "api-a" and
              e["object"]["endpoints"][1:] == before["endpoints"][1:]
              for e in evs) and
          [e["object"]["endpoints"][0]["conditions"] for e in evs][:2] ==
          [{"ready": False, "serving": False}, {"ready": True, "serving": True}],
          [e["object"]["endpoints"][0]["conditions"] for e in evs])
    st, stats = f.ctl("/churn", {}, "DELETE")[:2]
    check("churn stops with its figures", st == 200 and
          stats["changes"] >= 6 and stats["slices_sent"] >= 6 and
          stats["rate"] > 0, stats)
    after = get(f, SL + "/api-a")
    check("churn: stopping puts back what it took down",
          [e.get("conditions", {}).get("ready") for e in after["endpoints"]] ==
          [e.get("conditions", {}).get("ready") for e in before["endpoints"]],
          after["endpoints"])
    rv = after["metadata"]["resourceVersion"]
    if evs[-1]["object"]["metadata"]["resourceVersion"] != rv:
        evs = w.events_until(lambda e: e["object"]["metadata"][
            "resourceVersion"] == rv, 1000)
    check("churn: the last event is the slice as GET serves it",
          evs and evs[-1]["object"] == after, evs[-1:])
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


# --------------------------------------------------------------------------
# The cluster simulation (fakecluster.py): a server started with
# --simulate-cluster on petset.json, the test playing the ordinal controller.
# --------------------------------------------------------------------------

PETSET = os.path.join(DATA, "petset.json")
NS = "/api/v1/namespaces/default"
PS = "/apis/petdns.io/v1alpha1/namespaces/default/petsets"
SL = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"


def claim(name):
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}}


def pet(name, sub="nginx", app="nginx", claims=("www",), ann=None,
        owner=None, tgps=None):
    """A pet pod as the ordinal controller makes it."""
    spec = {"hostname": name, "subdomain": sub, "containers": [
        {"name": "nginx", "image": "nginx-slim:0.8",
         "ports": [{"containerPort": 80, "name": "web"}]}],
        "volumes": [{"name": c, "persistentVolumeClaim": {
            "claimName": "%s-%s" % (c, name)}} for c in claims]}
    if tgps is not None:
        spec["terminationGracePeriodSeconds"] = tgps
    meta = {"name": name, "labels": {"app": app}}
    if ann:
        meta["annotations"] = ann
    if owner:
        meta["ownerReferences"] = [{
            "apiVersion": "petdns.io/v1alpha1", "kind": "PetSet",
            "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def get(f, path):
    st, _, _, o = f.api(path)
    return o if st == 200 else None


def pod(f, name):
    return get(f, NS + "/pods/" + name)


def phase(o):
    return ((o or {}).get("status") or {}).get("phase")


def ready(o):
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in ((o or {}).get("status") or {}).get("conditions")
               or [])


def running_ready(f, name, timeout=3):
    return eventually(lambda: ready(pod(f, name)) and
                      phase(pod(f, name)) == "Running", timeout)


def gone(f, path, timeout=3):
    return eventually(lambda: f.api(path)[0] == 404, timeout)


def slices_of(f, svc):
    l = get(f, SL + "?labelSelector=kubernetes.io/service-name%3D" + svc)
    return l["items"]


def eps_of(f, svc):
    return {e["targetRef"]["name"]: e for s in slices_of(f, svc)
            for e in s.get("endpoints") or []}


def history(f, **q):
    from urllib.parse import urlencode
    st, h = f.ctl("/history?" + urlencode(q))
    return h["lines"]


def test_sim_state(f):
    ps = get(f, PS + "/web")
    check("sim: petset.json PetSet web, generation 1, no status",
          ps and ps["metadata"]["generation"] == 1 and "status" not in ps and
          ps["spec"]["replicas"] == 2 and ps["spec"]["serviceName"] ==
          "nginx" and ps["spec"]["volumeClaimTemplates"][0]["metadata"][
              "name"] == "www", ps)
    check("sim: the headless service nginx", get(f, NS + "/services/nginx")[
        "spec"] == {"ports": [{"port": 80, "name": "web"}], "clusterIP":
                    "None", "selector": {"app": "nginx"}})
    ok = eventually(lambda: len(slices_of(f, "nginx")) == 1)
    s = slices_of(f, "nginx")[0] if ok else {}
    check("sim: placeholder slice for a service without pods", ok and
          s["endpoints"] is None and s["ports"] is None and
          s["addressType"] == "IPv4" and s["metadata"]["name"].startswith(
              "nginx-") and len(s["metadata"]["name"]) == 11 and
          s["metadata"]["labels"] == {
              "app": "nginx", "endpointslice.kubernetes.io/managed-by":
              "endpointslice-controller.k8s.io", "kubernetes.io/service-name":
              "nginx", "service.kubernetes.io/headless": ""}, s)
    st, c = f.ctl("/config")
    check("sim: /config lists the simulations", c["simulate"] == [
        "kubelet", "graceful_deletion", "endpointslices", "petsets", "gc"]
        and c["kubelet"] and c["kubelet_delay"] == 0.2, c)


def test_kubelet(f):
    w = f.watch(NS + "/pods?watch=1&resourceVersion=%d" % f.rv())
    f.api(NS + "/persistentvolumeclaims", "POST", claim("www-k-0"))
    t0 = time.monotonic()
    st, _, _, o = f.api(NS + "/pods", "POST", pet("k-0"))
    check("kubelet: create answers Pending, scheduled", st == 201 and
          phase(o) == "Pending" and o["spec"]["nodeName"] and
          o["status"]["conditions"][0]["type"] == "PodScheduled" and
          o["spec"]["terminationGracePeriodSeconds"] == 30, o)
    evs = [w.event(), w.event()]
    dt = time.monotonic() - t0
    run = evs[1]["object"]
    ip = run["status"].get("podIP", "")
    check("kubelet: ADDED Pending, then MODIFIED Running after the delay",
          [e["type"] for e in evs] == ["ADDED", "MODIFIED"] and
          phase(evs[0]["object"]) == "Pending" and phase(run) == "Running"
          and 0.15 < dt < 1.5, (evs, dt))
    conds = {c["type"]: c["status"] for c in run["status"]["conditions"]}
    check("kubelet: Ready, ContainersReady, podIP/podIPs in 10.244.0.0/16",
          conds == {"Initialized": "True", "Ready": "True",
                    "ContainersReady": "True", "PodScheduled": "True"} and
          ip.startswith("10.244.") and run["status"]["podIPs"] == [
              {"ip": ip}] and run["status"]["containerStatuses"][0][
              "ready"] is True, run["status"])
    w.close()
    # Kept unready by the annotation, then made ready through /kubelet.
    f.api(NS + "/persistentvolumeclaims", "POST", claim("www-k-1"))
    f.api(NS + "/pods", "POST", pet("k-1", ann={
        "fakeapi.petdns.io/ready": "false"}))
    ok = eventually(lambda: phase(pod(f, "k-1")) == "Running")
    time.sleep(0.3)
    check("kubelet: annotated ready=false: Running, not Ready", ok and
          not ready(pod(f, "k-1")), pod(f, "k-1"))
    st, out = f.ctl("/kubelet", {"namespace": "default", "name": "k-1",
                                 "ready": True})
    check("kubelet: POST /kubelet ready true", st == 200 and
          out["applied"] and ready(pod(f, "k-1")), out)
    for v in ("true", "false"):
        f.api(NS + "/pods/k-1", "PATCH", {"metadata": {"annotations": {
            "fakeapi.petdns.io/ready": v}}},
            headers={"Content-Type": "application/merge-patch+json"})
    check("kubelet: changing the annotation changes readiness",
          eventually(lambda: not ready(pod(f, "k-1"))))
    st, out = f.ctl("/kubelet", {"name": "k-1", "phase": "Failed"})
    o = pod(f, "k-1")
    check("kubelet: POST /kubelet phase Failed", st == 200 and
          phase(o) == "Failed" and not ready(o) and "terminated" in
          o["status"]["containerStatuses"][0]["state"], o)
    st, out = f.ctl("/kubelet", {"name": "nope", "ready": True})
    check("kubelet: /kubelet on a missing pod: 404", st == 404, out)
    # No claim yet: unschedulable until it exists.
    f.api(NS + "/pods", "POST", pet("k-2"))
    time.sleep(0.4)
    o = pod(f, "k-2")
    c = o["status"]["conditions"][0]
    check("kubelet: a pod whose claim is missing stays Pending, "
          "Unschedulable", phase(o) == "Pending" and "nodeName" not in
          o["spec"] and c["status"] == "False" and c["reason"] ==
          "Unschedulable" and 'persistentvolumeclaim "www-k-2" not found'
          in c["message"], o)
    f.api(NS + "/persistentvolumeclaims", "POST", claim("www-k-2"))
    check("kubelet: ... and starts once the claim exists",
          running_ready(f, "k-2"))
    c = get(f, NS + "/persistentvolumeclaims/www-k-2")
    check("kubelet: claims are bound", c["status"]["phase"] == "Bound" and
          c["spec"]["volumeName"] == "pvc-" + c["metadata"]["uid"] and
          c["status"]["capacity"] == {"storage": "1Gi"}, c)
    # The same name gets the same IP back.
    ip0 = pod(f, "k-0")["status"]["podIP"]
    f.api(NS + "/pods/k-0", "DELETE", {"gracePeriodSeconds": 0})
    f.api(NS + "/pods", "POST", pet("k-0"))
    ok = running_ready(f, "k-0")
    check("kubelet: a recreated pod keeps its IP", ok and
          pod(f, "k-0")["status"]["podIP"] == ip0, (ip0, pod(f, "k-0")))
    for n in ("k-0", "k-1", "k-2"):
        f.api(NS + "/pods/" + n + "?gracePeriodSeconds=0", "DELETE")
        f.api(NS + "/persistentvolumeclaims/www-" + n, "DELETE")


def test_graceful(f):
    f.api(NS + "/persistentvolumeclaims", "POST", claim("www-g-0"))
    f.api(NS + "/pods", "POST", pet("g-0"))
    running_ready(f, "g-0")
    w = f.watch(NS + "/pods?watch=1&resourceVersion=%d" % f.rv())
    t0 = time.monotonic()
    st, _, _, o = f.api(NS + "/pods/g-0", "DELETE")
    check("grace: DELETE answers the terminating pod", st == 200 and
          o["metadata"].get("deletionTimestamp") and
          o["metadata"]["deletionGracePeriodSeconds"] == 30, o)
    st, _, _, o2 = f.api(NS + "/pods/g-0", "DELETE")
    check("grace: a second DELETE changes nothing", st == 200 and
          o2["metadata"]["resourceVersion"] == o["metadata"][
              "resourceVersion"], o2)
    evs = [w.event(), w.event()]
    dt = time.monotonic() - t0
    check("grace: MODIFIED (deletionTimestamp), then DELETED after --grace",
          [e["type"] for e in evs] == ["MODIFIED", "DELETED"] and
          evs[0]["object"]["metadata"].get("deletionTimestamp") and
          0.25 < dt < 1.5, ([e["type"] for e in evs], dt))
    # Immediate: gracePeriodSeconds 0 (body or query), or in the spec.
    for how, path, body, extra in (
            ("DeleteOptions", NS + "/pods/g-0", {
                "kind": "DeleteOptions", "apiVersion": "v1",
                "gracePeriodSeconds": 0}, {}),
            ("query", NS + "/pods/g-0?gracePeriodSeconds=0", None, {}),
            ("terminationGracePeriodSeconds 0", NS + "/pods/g-0", None,
             {"tgps": 0})):
        f.api(NS + "/pods", "POST", pet("g-0", **extra))
        running_ready(f, "g-0")
        rv = f.rv()
        st, _, _, o = f.api(path, "DELETE", body)
        w2 = f.watch(NS + "/pods?watch=1&resourceVersion=%d" % rv)
        ev = w2.event()
        w2.close()
        check("grace: %s => deleted at once" % how, st == 200 and
              ev["type"] == "DELETED" and f.api(NS + "/pods/g-0")[0] == 404,
              (st, ev["type"]))
    w.close()
    # Preconditions.
    f.api(NS + "/pods", "POST", pet("g-0"))
    st, _, _, s = f.api(NS + "/pods/g-0", "DELETE", {
        "preconditions": {"uid": "not-the-uid"}})
    check("grace: a uid precondition that fails: 409", st == 409 and
          s["reason"] == "Conflict" and "Precondition failed: UID" in
          s["message"], s)
    # A finalizer holds a terminating pod until it is removed.
    f.api(NS + "/pods/g-0", "PATCH", {"metadata": {"finalizers": [
        "example.com/hold"]}})
    f.api(NS + "/pods/g-0", "DELETE")
    time.sleep(0.6)
    o = pod(f, "g-0")
    check("grace: a finalizer keeps the pod terminating", o and
          o["metadata"].get("deletionTimestamp"), o)
    f.api(NS + "/pods/g-0", "PATCH", {"metadata": {"finalizers": None}})
    check("grace: ... gone once the finalizer is removed",
          gone(f, NS + "/pods/g-0"))
    # A claim in use stays terminating until its pod is gone; a pod
    # cannot be scheduled onto a terminating claim.
    f.api(NS + "/pods", "POST", pet("g-0"))
    running_ready(f, "g-0")
    st, _, _, c = f.api(NS + "/persistentvolumeclaims/www-g-0", "DELETE")
    check("grace: claim DELETE: terminating (pvc-protection)", st == 200 and
          c["metadata"].get("deletionTimestamp") and
          c["metadata"]["deletionGracePeriodSeconds"] == 0 and
          c["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"], c)
    time.sleep(0.6)
    check("grace: ... kept while a pod uses it",
          f.api(NS + "/persistentvolumeclaims/www-g-0")[0] == 200)
    f.api(NS + "/pods/g-0?gracePeriodSeconds=0", "DELETE")
    check("grace: ... and the claim goes with its last pod",
          gone(f, NS + "/persistentvolumeclaims/www-g-0"))
    lines = history(f, name="www-g-0")
    check("grace: claim history created, terminating, deleted",
          lines[-2:] == ["terminating PersistentVolumeClaim default/www-g-0",
                         "deleted PersistentVolumeClaim default/www-g-0"],
          lines)
    held = claim("www-g-1")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    f.api(NS + "/persistentvolumeclaims", "POST", held)
    f.api(NS + "/persistentvolumeclaims/www-g-1", "DELETE")
    f.api(NS + "/pods", "POST", pet("g-1"))
    time.sleep(0.4)
    o = pod(f, "g-1")
    check("grace: a pod whose claim is terminating is not scheduled",
          o and phase(o) == "Pending" and "is being deleted" in
          o["status"]["conditions"][0].get("message", ""), o)
    f.api(NS + "/persistentvolumeclaims/www-g-1", "PATCH", {
        "metadata": {"finalizers": ["kubernetes.io/pvc-protection"]}})
    check("grace: a held claim goes once only pvc-protection is left",
          gone(f, NS + "/persistentvolumeclaims/www-g-1"))
    f.api(NS + "/pods/g-1", "DELETE")


def test_endpointslices(f):
    svc_ = {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "slc", "labels": {"tier": "x"}}, "spec": {
        "clusterIP": "10.96.7.7", "selector": {"app": "slc"}, "ports": [
            {"name": "http", "port": 8080, "targetPort": "web"},
            {"name": "raw", "port": 9000},
            {"name": "num", "port": 9100, "targetPort": 91}]}}
    w = f.watch(SL + "?watch=1&resourceVersion=%d" % f.rv())
    f.api(NS + "/services", "POST", svc_)
    f.api(NS + "/pods", "POST", pet("slc-0", sub="slc", app="slc",
                                    claims=()))
    f.api(NS + "/pods", "POST", pet("slc-1", sub="other", app="slc",
                                    claims=()))
    ok = eventually(lambda: len(eps_of(f, "slc")) == 2 and all(
        e["conditions"]["ready"] for e in eps_of(f, "slc").values()))
    s = slices_of(f, "slc")
    check("slices: one IPv4 slice <svc>-<5 chars>", ok and len(s) == 1 and
          s[0]["addressType"] == "IPv4" and
          s[0]["metadata"]["name"][:4] == "slc-" and
          len(s[0]["metadata"]["name"]) == 9, s)
    s = s[0] if s else {}
    svc_uid = get(f, NS + "/services/slc")["metadata"]["uid"]
    check("slices: labels and owner", s["metadata"]["labels"] == {
        "endpointslice.kubernetes.io/managed-by":
        "endpointslice-controller.k8s.io", "kubernetes.io/service-name":
        "slc", "tier": "x"} and s["metadata"]["ownerReferences"] == [{
            "apiVersion": "v1", "kind": "Service", "name": "slc",
            "uid": svc_uid, "controller": True, "blockOwnerDeletion": True}],
          s["metadata"])
    check("slices: ports (named targetPort, default, numeric)",
          s["ports"] == [{"name": "http", "protocol": "TCP", "port": 80},
                         {"name": "raw", "protocol": "TCP", "port": 9000},
                         {"name": "num", "protocol": "TCP", "port": 91}],
          s["ports"])
    e0, e1 = eps_of(f, "slc")["slc-0"], eps_of(f, "slc")["slc-1"]
    p0 = pod(f, "slc-0")
    check("slices: endpoint of a pet (address, conditions, hostname, "
          "targetRef)", e0["addresses"] == [p0["status"]["podIP"]] and
          e0["conditions"] == {"ready": True, "serving": True,
                               "terminating": False} and
          e0["hostname"] == "slc-0" and e0["targetRef"] == {
              "kind": "Pod", "namespace": "default", "name": "slc-0",
              "uid": p0["metadata"]["uid"]}, e0)
    check("slices: no hostname when the subdomain is another service",
          "hostname" not in e1, e1)
    f.ctl("/kubelet", {"name": "slc-1", "ready": False})
    check("slices: unready pod: ready false, serving false",
          eventually(lambda: eps_of(f, "slc")["slc-1"]["conditions"] == {
              "ready": False, "serving": False, "terminating": False}))
    f.api(NS + "/pods/slc-0", "DELETE")
    check("slices: terminating pod: ready false, serving true, terminating",
          eventually(lambda: eps_of(f, "slc").get("slc-0", {}).get(
              "conditions") == {"ready": False, "serving": True,
                                "terminating": True}, 1),
          eps_of(f, "slc").get("slc-0"))
    check("slices: ... then gone",
          eventually(lambda: "slc-0" not in eps_of(f, "slc")))
    name = slices_of(f, "slc")[0]["metadata"]["name"]
    f.ctl("/kubelet", {"name": "slc-1", "phase": "Succeeded"})
    ok = eventually(lambda: slices_of(f, "slc")[0]["endpoints"] is None)
    s = slices_of(f, "slc")
    check("slices: finished pods leave; the emptied slice stays, endpoints "
          "null", ok and len(s) == 1 and s[0]["metadata"]["name"] == name and
          s[0]["ports"] is None, s)
    types = set()
    while True:
        ev = w.event()
        types.add(ev["type"])
        if ev["type"] == "MODIFIED" and ev["object"]["endpoints"] is None:
            break
    w.close()
    check("slices: changes are watched", {"ADDED", "MODIFIED"} <= types,
          types)
    ext = {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "extn"}, "spec": {"type": "ExternalName", "externalName":
                                  "example.com", "selector": {"app": "slc"}}}
    f.api(NS + "/services", "POST", ext)
    time.sleep(0.3)
    check("slices: none for an ExternalName service",
          slices_of(f, "extn") == [])
    f.api(NS + "/services/slc", "DELETE")
    check("slices: deleted with their service",
          eventually(lambda: slices_of(f, "slc") == []))
    f.api(NS + "/services/extn", "DELETE")
    f.api(NS + "/pods/slc-1", "DELETE")


def test_petset_api(f):
    st, _, _, r = f.api("/apis/petdns.io/v1alpha1")
    names = {x["name"]: x for x in r["resources"]}
    check("petsets: discovery lists status and scale",
          names.get("petsets/status", {}).get("kind") == "PetSet" and
          names.get("petsets/scale") == {
              "name": "petsets/scale", "singularName": "", "namespaced": True,
              "group": "autoscaling", "version": "v1", "kind": "Scale",
              "verbs": ["get", "patch", "update"]}, r)
    db = {"apiVersion": "petdns.io/v1alpha1", "kind": "PetSet",
          "metadata": {"name": "db", "generation": 7},
          "spec": {"serviceName": "db", "replicas": 1},
          "status": {"replicas": 9}}
    st, _, _, o = f.api(PS, "POST", db)
    check("petsets: create: generation 1, status dropped", st == 201 and
          o["metadata"]["generation"] == 1 and "status" not in o, o)
    o["spec"]["replicas"] = 2
    o["status"] = {"replicas": 5}
    st, _, _, o2 = f.api(PS + "/db", "PUT", o)
    check("petsets: spec change bumps generation; PUT ignores status",
          st == 200 and o2["metadata"]["generation"] == 2 and
          "status" not in o2 and o2["spec"]["replicas"] == 2, o2)
    o2["metadata"]["labels"] = {"x": "y"}
    st, _, _, o3 = f.api(PS + "/db", "PUT", o2)
    check("petsets: metadata-only change keeps generation", st == 200 and
          o3["metadata"]["generation"] == 2 and o3["metadata"]["labels"] ==
          {"x": "y"}, o3)
    st, _, _, s = f.api(PS + "/db", "PUT", o2)
    check("petsets: PUT with a stale resourceVersion: 409 Conflict",
          st == 409 and s["reason"] == "Conflict" and s["message"] ==
          'Operation cannot be fulfilled on petsets.petdns.io "db": the '
          'object has been modified; please apply your changes to the '
          'latest version and try again' and s["details"] == {
              "name": "db", "group": "petdns.io", "kind": "petsets"}, s)
    bare = {k: v for k, v in o3.items()}
    bare["metadata"] = {"name": "db"}
    st, _, _, s = f.api(PS + "/db", "PUT", bare)
    check("petsets: PUT without resourceVersion: 422 (no unconditional "
          "update for CRDs)", st == 422 and s["reason"] == "Invalid" and
          s["message"] == 'petsets.petdns.io "db" is invalid: metadata.'
          'resourceVersion: Invalid value: 0x0: must be specified for an '
          'update', s)
    rv = o3["metadata"]["resourceVersion"]
    st, _, _, o4 = f.api(PS + "/db", "PUT", o3)
    check("petsets: a no-op PUT writes nothing", st == 200 and
          o4["metadata"]["resourceVersion"] == rv, o4["metadata"])
    up = dict(o4, spec=dict(o4["spec"], replicas=7), status={
        "observedGeneration": 2, "replicas": 2, "readyReplicas": 1,
        "selector": "app=db"})
    st, _, _, o5 = f.api(PS + "/db/status", "PUT", up)
    check("petsets: PUT status: only status changes, generation stays",
          st == 200 and o5["status"]["readyReplicas"] == 1 and
          o5["spec"]["replicas"] == 2 and o5["metadata"]["generation"] == 2,
          o5)
    st, _, _, s = f.api(PS + "/db/status", "PUT", up)
    check("petsets: PUT status with a stale resourceVersion: 409",
          st == 409 and s["reason"] == "Conflict", s)
    st, _, _, o6 = f.api(PS + "/db/status", "PATCH", {
        "status": {"readyReplicas": 2}, "spec": {"replicas": 8}},
        headers={"Content-Type": "application/merge-patch+json"})
    check("petsets: PATCH status", st == 200 and
          o6["status"]["readyReplicas"] == 2 and o6["spec"]["replicas"] == 2,
          o6)
    st, _, _, o7 = f.api(PS + "/db", "PATCH", {"status": {"replicas": 0}},
                         headers={"Content-Type":
                                  "application/merge-patch+json"})
    check("petsets: PATCH of the main resource ignores status", st == 200
          and o7["status"]["replicas"] == 2 and
          o7["metadata"]["generation"] == 2, o7)
    st, _, _, sc = f.api(PS + "/db/scale")
    check("petsets: GET scale", st == 200 and sc == {
        "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {
            "name": "db", "namespace": "default",
            "uid": o7["metadata"]["uid"],
            "resourceVersion": o7["metadata"]["resourceVersion"],
            "creationTimestamp": o7["metadata"]["creationTimestamp"]},
        "spec": {"replicas": 2}, "status": {"replicas": 2,
                                            "selector": "app=db"}}, sc)
    stale = dict(sc, metadata=dict(sc["metadata"], resourceVersion="1"),
                 spec={"replicas": 3})
    st, _, _, s = f.api(PS + "/db/scale", "PUT", stale)
    check("petsets: PUT scale with a stale resourceVersion: 409",
          st == 409 and s["reason"] == "Conflict", s)
    st, _, _, sc2 = f.api(PS + "/db/scale", "PUT", {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": "db"}, "spec": {"replicas": 3}})
    o8 = get(f, PS + "/db")
    check("petsets: PUT scale sets spec.replicas, bumps generation",
          st == 200 and sc2["spec"] == {"replicas": 3} and
          o8["spec"]["replicas"] == 3 and o8["metadata"]["generation"] == 3,
          (sc2, o8))
    st, _, _, sc3 = f.api(PS + "/db/scale", "PATCH", {
        "spec": {"replicas": 0}}, headers={
        "Content-Type": "application/merge-patch+json"})
    check("petsets: PATCH scale (kubectl scale)", st == 200 and
          sc3["spec"] == {} and get(f, PS + "/db")["spec"]["replicas"] == 0,
          sc3)
    st, _, _, s = f.api(PS + "/db/scale", "PATCH", {
        "spec": {"replicas": -1}})
    check("petsets: negative replicas: 422", st == 422, s)
    st, _, _, s = f.api(PS + "/db", "DELETE")
    check("petsets: DELETE answers a Success Status", st == 200 and
          s["kind"] == "Status" and s["status"] == "Success" and
          s["details"]["kind"] == "petsets" and s["details"]["uid"] ==
          o8["metadata"]["uid"], s)


def test_sim_events(f):
    ev = {"apiVersion": "v1", "kind": "Event", "metadata": {
        "name": "web.17a2b3c4d5e6f708", "namespace": "default"},
        "involvedObject": {"apiVersion": "petdns.io/v1alpha1",
                           "kind": "PetSet", "namespace": "default",
                           "name": "web"},
        "reason": "WaitingForPet", "message": "waiting for web-1 to be "
        "Running and Ready", "type": "Normal", "count": 1,
        "source": {"component": "petdns"}}
    st, _, _, o = f.api(NS + "/events", "POST", ev)
    check("events: POST core/v1 Event: 201", st == 201 and
          o["kind"] == "Event", o)
    f.api(NS + "/events/web.17a2b3c4d5e6f708", "PATCH", {"count": 2},
          headers={"Content-Type": "application/strategic-merge-patch+json"})
    ev2 = dict(ev, metadata={"name": "web.2"}, reason="SuccessfulCreate",
               message="create Pod web-0 in PetSet web successful")
    f.api(NS + "/events", "POST", ev2)
    st, out = f.ctl("/events?object=web")
    check("events: GET /events?object=web, in creation order", st == 200 and
          out["lines"] == [
              "Normal WaitingForPet PetSet/web: waiting for web-1 to be "
              "Running and Ready (x2)",
              "Normal SuccessfulCreate PetSet/web: create Pod web-0 in PetSet "
              "web successful"] and len(out["items"]) == 2, out)
    st, out = f.ctl("/events?object=web&reason=SuccessfulCreate")
    check("events: filtered by reason", len(out["items"]) == 1)
    st, out = f.ctl("/events?object=nobody")
    check("events: none for another object", out["items"] == [])
    st, out = f.ctl("/wait", {"events": {"object": "web", "reason":
                                         "WaitingForPet"}, "timeout": 1})
    check("events: /wait for an event", st == 200, out)
    bad = dict(ev, metadata={"name": "x.1"}, involvedObject=dict(
        ev["involvedObject"], namespace="other"))
    st, _, _, s = f.api(NS + "/events", "POST", bad)
    check("events: involvedObject in another namespace: 422", st == 422 and
          "does not match event.namespace" in s["message"], s)
    for n in ("web.17a2b3c4d5e6f708", "web.2"):
        f.api(NS + "/events/" + n, "DELETE")


def test_history_order(f):
    """What the ordinal controller's ordering tests will do: claim, pod,
    wait for Ready, next claim, next pod."""
    since = f.ctl("/history")[1]["last"]
    ps = get(f, PS + "/web")
    for i in (0, 1):
        f.api(NS + "/persistentvolumeclaims", "POST", claim("www-web-%d" % i))
        f.api(NS + "/pods", "POST", pet("web-%d" % i, owner=ps))
        st, out = f.ctl("/wait", {"history": {
            "kind": "Pod", "name": "web-%d" % i, "event": "ready",
            "since": since}, "timeout": 3})
        check("history: /wait for web-%d ready" % i, st == 200, out)
    st, h = f.ctl("/history?kind=Pod,PersistentVolumeClaim&event=created,"
                  "ready&since=%d" % since)
    check("history: claim, pod, ready, claim, pod, ready", h["lines"] == [
        "created PersistentVolumeClaim default/www-web-0",
        "created Pod default/web-0", "ready Pod default/web-0",
        "created PersistentVolumeClaim default/www-web-1",
        "created Pod default/web-1", "ready Pod default/web-1"], h["lines"])
    items = h["items"]
    check("history: entries carry seq, time, rv, by, uid", all(
        a["seq"] < b["seq"] and a["time"] <= b["time"] and a["rv"] < b["rv"]
        for a, b in zip(items, items[1:])) and items[0]["by"] == "api" and
        items[2]["by"] == "kubelet" and items[1]["uid"], items)
    st, h = f.ctl("/history?kind=pods&by=api&since=%d" % since)
    check("history: by=api, kind as plural", h["lines"] == [
        "created Pod default/web-0", "created Pod default/web-1"],
        h["lines"])
    c = http.client.HTTPConnection("127.0.0.1", f.cport, timeout=5)
    c.request("GET", "/history?kind=Pod&name=web-0&since=%d&format=text"
              % since)
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    check("history: format=text", r.getheader("Content-Type").startswith(
        "text/plain") and text == "created Pod default/web-0\n"
        "phase Pod default/web-0 Running\nready Pod default/web-0\n", text)
    st, out = f.ctl("/wait", {"ready": [{"name": "web-0"}, {"name":
                                                            "web-1"}],
                              "exists": [{"kind": "PersistentVolumeClaim",
                                          "name": "www-web-1"}],
                              "gone": [{"name": "web-2"}], "timeout": 1})
    check("history: /wait ready, exists, gone", st == 200, out)
    # Deleting the set: the garbage collector takes the owned pets, never
    # the claims (no owner).
    st, _, _, s = f.api(PS + "/web", "DELETE", {"propagationPolicy":
                                                "Orphan"})
    time.sleep(0.4)
    o = pod(f, "web-0")
    check("gc: Orphan: pets stay, owner reference removed", o and
          "ownerReferences" not in o["metadata"] and
          phase(o) == "Running", o)
    f.put(json.load(open(PETSET))["items"][2])
    ps = get(f, PS + "/web")
    for n in ("web-0", "web-1"):
        f.api(NS + "/pods/" + n, "PATCH", {"metadata": {"ownerReferences": [
            {"apiVersion": "petdns.io/v1alpha1", "kind": "PetSet",
             "name": "web", "uid": ps["metadata"]["uid"], "controller": True,
             "blockOwnerDeletion": True}]}})
    since = f.ctl("/history")[1]["last"]
    f.api(PS + "/web", "DELETE")
    ok = gone(f, NS + "/pods/web-0") and gone(f, NS + "/pods/web-1")
    h = history(f, since=since, kind="Pod", by="garbage-collector")
    h2 = history(f, since=since, kind="Pod", by="kubelet", event="deleted")
    check("gc: deleting the set deletes its pets (background, graceful)",
          ok and sorted(h) == ["terminating Pod default/web-0",
                               "terminating Pod default/web-1"] and
          sorted(h2) == ["deleted Pod default/web-0",
                         "deleted Pod default/web-1"], (h, h2))
    check("gc: claims have no owner and stay", all(
        f.api(NS + "/persistentvolumeclaims/www-web-%d" % i)[0] == 200
        for i in (0, 1)))
    for i in (0, 1):
        f.api(NS + "/persistentvolumeclaims/www-web-%d" % i, "DELETE")
    f.put(json.load(open(PETSET))["items"][2])


def test_sim_switches():
    """Off by default; POST /config switches simulations on and off."""
    f = Fake("--state", PETSET)
    try:
        st, _, _, o = f.api(NS + "/pods", "POST", pet("s-0", claims=()))
        time.sleep(0.2)
        check("switches: off by default (no status, no slice, no scale)",
              "status" not in o and "status" not in pod(f, "s-0") and
              slices_of(f, "nginx") == [] and
              f.api(PS + "/web/scale")[0] == 404 and
              f.ctl("/config")[1]["simulate"] == [])
        st, _, _, o = f.api(NS + "/pods/s-0", "DELETE")
        check("switches: DELETE is immediate when off", st == 200 and
              f.api(NS + "/pods/s-0")[0] == 404)
        st, c = f.ctl("/config", {"simulate": "kubelet,endpointslices",
                                  "kubelet_delay": 0.1,
                                  "fresh_pod_ips": True})
        check("switches: POST /config simulate", st == 200 and
              c["simulate"] == ["kubelet", "endpointslices"] and
              c["endpointslices"] and not c["petsets"], c)
        f.api(NS + "/pods", "POST", pet("s-0", claims=()))
        ok = running_ready(f, "s-0")
        ip = pod(f, "s-0")["status"]["podIP"]
        check("switches: kubelet on at run time", ok)
        check("switches: endpointslices on at run time (resync)",
              eventually(lambda: "s-0" in eps_of(f, "nginx")))
        f.api(NS + "/pods/s-0", "DELETE")
        f.api(NS + "/pods", "POST", pet("s-0", claims=()))
        ok = running_ready(f, "s-0")
        check("switches: fresh_pod_ips: a recreated pod gets a new IP",
              ok and pod(f, "s-0")["status"]["podIP"] != ip)
        f.ctl("/config", {"kubelet": False, "petsets": True})
        f.api(NS + "/pods", "POST", pet("s-1", claims=()))
        time.sleep(0.3)
        check("switches: kubelet off again",
              "status" not in pod(f, "s-1"))
        check("switches: petsets on: scale served",
              f.api(PS + "/web/scale")[0] == 200)
        st, c = f.ctl("/config", {"simulate": ["nope"]})
        check("switches: unknown simulation: 400", st == 400, c)
    finally:
        f.stop()
    r = subprocess.run([sys.executable, FAKEAPI, "--simulate", "kubelet,bad"],
                       capture_output=True, timeout=10)
    check("switches: --simulate with an unknown name fails", r.returncode
          == 2 and b"unknown simulation" in r.stderr, r.stderr)


def test_simulation():
    f = Fake("--simulate-cluster", "--state", PETSET, "--kubelet-delay",
             "0.2", "--grace", "0.3")
    try:
        for t in (test_sim_state, test_kubelet, test_graceful,
                  test_endpointslices, test_petset_api, test_sim_events,
                  test_history_order):
            try:
                t(f)
            except Exception:
                check(t.__name__ + " raised", False, traceback.format_exc())
    finally:
        f.stop()


def main():
    f = Fake("--state", CLUSTER)
    try:
        for t in (test_discovery, test_list, test_paging, test_selectors,
                  test_watch, test_expiry, test_faults, test_writes,
                  test_crd, test_churn):
            try:
                t(f)
            except Exception:
                check(t.__name__ + " raised", False, traceback.format_exc())
    finally:
        f.stop()
    for t in (test_token, test_k8s_120, test_tls, test_sigterm,
              test_simulation, test_sim_switches):
        try:
            t()
        except Exception:
            check(t.__name__ + " raised", False, traceback.format_exc())
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
