#!/usr/bin/env python3
"""gencluster.py -- a deterministic synthetic Kubernetes cluster for petdns's benchmarks.

usage: gencluster.py --preset 1k|100k [--seed N]
                     [--format fakeapi --out FILE.json]
                     [--format manifests --out DIR [--manifest-syntax yaml|json] [--no-slices]]
                     [--queries FILE [--nqueries N]] [--summary]

The cluster: NAMESPACES namespaces (plus default and kube-system with the
kubernetes and kube-dns services), each with the same number of services:
~85% ClusterIP services with named TCP/UDP ports backed by Deployment-like
pods (a heavy-tailed number of replicas, some scaled to zero, ~2% of
endpoints not ready), and ~15% headless services governing StatefulSet-like
pets `<set>-<n>` (hostname = pod name, subdomain = the service). Every pod
backs exactly one service, so endpoints ~= pods. Pod IPs come from a /24
per node in 10.128.0.0/10 (100 pods a node), ClusterIPs from 10.96.0.0/12.
The same preset and seed always give the same bytes.

--format fakeapi: one `kind: List` for `fakeapi.py --state`: Namespaces,
Services and EndpointSlices as the EndpointSlice controller writes them
(at most 100 endpoints a slice, label kubernetes.io/service-name, managed-by,
ownerReferences, addresses, conditions ready/serving/terminating, hostname
for pets, targetRef, nodeName, zone, ports named as the service's). There are
no Pod objects: petdns watches pods only with `pods verified`, which the
benchmarks do not use, so pods would only make fakeapi slower.

--format manifests: a directory of one file per namespace (YAML by default,
what one would `kubectl apply`): Namespaces, Services, Pods with spec and
status (phase, Ready condition, podIP/podIPs, hostIP, nodeName) and the
EndpointSlices. With --no-slices the slices are left out and petdns's local
mode simulates them from the selectors and pods.

--queries FILE: a dnsperf data file ("name type" a line) drawn from the same
cluster, uniformly over names: 40% service A, 10% pet A, 5% headless service
A, 10% SRV, 15% AAAA (NODATA: the cluster is IPv4-only), 10% PTR (ClusterIPs
and ready pod IPs), 10% search-path misses (ndots:5 expansions such as
NAME.NS.svc.cluster.local.cluster.local, all NXDOMAIN).

Python 3 standard library only.
"""
import argparse
import hashlib
import ipaddress
import json
import os
import random
import re
import sys

PRESETS = {
    # namespaces, services per namespace, pods per namespace
    "1k": (10, 12, 100),
    "100k": (100, 120, 1000),
}

ZONE = "cluster.local"
SLICE_MAX = 100
PODS_PER_NODE = 100
SERVICE_NET = ipaddress.ip_network("10.96.0.0/12")
POD_NET_BASE = int(ipaddress.ip_address("10.128.0.0"))
ZONES = ("zone-a", "zone-b", "zone-c")

TEAMS = ("shop", "payments", "search", "identity", "media", "ads", "ml",
         "data", "infra", "support", "growth", "mobile", "risk", "maps")
APPS = ("api", "auth", "billing", "cart", "catalog", "checkout", "config",
        "events", "frontend", "gateway", "inventory", "ledger", "mailer",
        "notify", "orders", "pricing", "profile", "quote", "ratings",
        "recommend", "session", "shipping", "users", "web", "worker",
        "reports", "audit", "media", "thumbs", "feed")
# name -> ports (name, port, protocol); a pet's targetPort is its port.
SETS = (
    ("postgres", [("postgres", 5432, "TCP")]),
    ("redis", [("redis", 6379, "TCP")]),
    ("kafka", [("kafka", 9092, "TCP"), ("controller", 9093, "TCP")]),
    ("zookeeper", [("client", 2181, "TCP"), ("peer", 2888, "TCP"),
                   ("leader-election", 3888, "TCP")]),
    ("etcd", [("client", 2379, "TCP"), ("peer", 2380, "TCP")]),
    ("mysql", [("mysql", 3306, "TCP")]),
    ("cassandra", [("cql", 9042, "TCP"), ("intra", 7000, "TCP")]),
    ("elasticsearch", [("http", 9200, "TCP"), ("transport", 9300, "TCP")]),
    ("rabbitmq", [("amqp", 5672, "TCP"), ("epmd", 4369, "TCP")]),
    ("consul", [("http", 8500, "TCP"), ("serflan-tcp", 8301, "TCP"),
                ("serflan-udp", 8301, "UDP"), ("dns", 8600, "UDP")]),
)
SET_REPLICAS = (1, 2, 3, 3, 3, 5)
# (weight, ports as (name, port, protocol, targetPort))
PORT_PROFILES = (
    (40, [("http", 80, "TCP", 8080)]),
    (20, [("http", 80, "TCP", 8080), ("metrics", 9090, "TCP", 9090)]),
    (12, [("grpc", 50051, "TCP", 50051)]),
    (10, [("https", 443, "TCP", 8443)]),
    (8, [("http", 80, "TCP", 8080), ("grpc", 9000, "TCP", 9000)]),
    (6, [("dns", 53, "UDP", 5353), ("dns-tcp", 53, "TCP", 5353)]),
    (4, [("syslog", 514, "UDP", 5514)]),
)


def digest(*parts):
    return hashlib.sha256("/".join(parts).encode()).digest()


def uid(*parts):
    h = digest("uid", *parts).hex()
    return "%s-%s-4%s-8%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:32])


def suffix(n, *parts):
    """The random part of a generateName, as a hash: bcdfghjklmnpqrstvwxz2456789."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest(*parts)[:n])


class Endpoint:
    __slots__ = ("pod", "ip", "node", "ready", "hostname", "uid")


class Service:
    __slots__ = ("ns", "name", "headless", "ip", "ports", "endpoints",
                 "uid", "template")


def weighted_counts(rng, n, total):
    """n heavy-tailed counts (some zero) summing to total, by largest remainder."""
    if n == 0:
        return []
    weights = [0.0 if rng.random() < 0.03 else min(rng.paretovariate(1.3), 60.0)
               for _ in range(n)]
    if sum(weights) == 0:
        weights[0] = 1.0
    s = sum(weights)
    raw = [w * total / s for w in weights]
    counts = [int(r) for r in raw]
    # A service with some weight keeps at least one pod where possible.
    for i, w in enumerate(weights):
        if w > 0 and counts[i] == 0:
            counts[i] = 1
    diff = total - sum(counts)
    order = sorted(range(n), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    i = 0
    while diff != 0 and i < 10 * n + total:
        j = order[i % n]
        if diff > 0 and weights[j] > 0:
            counts[j] += 1
            diff -= 1
        elif diff < 0 and counts[j] > 1:
            counts[j] -= 1
            diff += 1
        i += 1
    return counts


class Cluster:
    def __init__(self, preset, seed):
        nns, nsvc, npods = PRESETS[preset]
        self.rng = random.Random("%s/%d" % (preset, seed))
        self.namespaces = []
        self.services = []
        nodes = max(1, -(-nns * npods // PODS_PER_NODE) + 1)
        self.nodes = nodes
        self.next_host = [2] * nodes
        self.pod_counter = 0
        nips = nns * nsvc + 16
        self.service_ips = iter(self.rng.sample(range(16, SERVICE_NET.num_addresses - 1), nips))
        self._basics()
        for k in range(nns):
            ns = "%s-%d" % (TEAMS[k % len(TEAMS)], k // len(TEAMS))
            self.namespaces.append(ns)
            self._namespace(ns, nsvc, npods)

    def _service_ip(self):
        return str(SERVICE_NET[next(self.service_ips)])

    def _pod_ip(self):
        # Replicas spread over the nodes round-robin (anti-affinity).
        node = self.pod_counter % self.nodes
        self.pod_counter += 1
        host = self.next_host[node]
        self.next_host[node] += 1
        ip = POD_NET_BASE + node * 256 + host
        return str(ipaddress.ip_address(ip)), node

    def _add(self, ns, name, headless, ip, ports, template=None):
        s = Service()
        s.ns, s.name, s.headless, s.ip, s.ports = ns, name, headless, ip, ports
        s.endpoints, s.uid, s.template = [], uid("svc", ns, name), template
        self.services.append(s)
        return s

    def _endpoint(self, svc, pod, ready, hostname):
        e = Endpoint()
        e.pod, e.ready, e.hostname = pod, ready, hostname
        e.ip, e.node = self._pod_ip()
        e.uid = uid("pod", svc.ns, pod)
        svc.endpoints.append(e)

    def _basics(self):
        self.namespaces += ["default", "kube-system"]
        k = self._add("default", "kubernetes", False, "10.96.0.1",
                      [("https", 443, "TCP", 6443)])
        e = Endpoint()
        e.pod, e.ip, e.node, e.ready, e.hostname, e.uid = None, "172.18.0.2", None, True, None, None
        k.endpoints.append(e)
        dns = self._add("kube-system", "kube-dns", False, "10.96.0.10",
                        [("dns", 53, "UDP", 53), ("dns-tcp", 53, "TCP", 53),
                         ("metrics", 9153, "TCP", 9153)], "coredns-5d78c9869d")
        for i in range(2):
            self._endpoint(dns, "coredns-5d78c9869d-" + suffix(5, "coredns", str(i)), True, None)

    def _namespace(self, ns, nsvc, npods):
        rng = self.rng
        nheadless = max(1, round(nsvc * 0.15))
        sets = []
        for i in range(nheadless):
            base, ports = SETS[i % len(SETS)]
            name = base if i < len(SETS) else "%s-%d" % (base, i // len(SETS))
            sets.append((name, [(p, n, proto, n) for p, n, proto in ports],
                         rng.choice(SET_REPLICAS)))
        pet_pods = sum(r for _, _, r in sets)
        ncip = nsvc - nheadless
        counts = weighted_counts(rng, ncip, max(0, npods - pet_pods))
        weights, profiles = zip(*PORT_PROFILES)
        for i in range(ncip):
            app = APPS[i % len(APPS)]
            name = app if i < len(APPS) else "%s-%d" % (app, i // len(APPS))
            ports = rng.choices(profiles, weights)[0]
            tmpl = "%s-%s" % (name, "".join("%x" % b for b in digest("rs", ns, name)[:5]))
            svc = self._add(ns, name, False, self._service_ip(), ports, tmpl)
            for _ in range(counts[i]):
                pod = "%s-%s" % (tmpl, suffix(5, ns, name, str(len(svc.endpoints))))
                self._endpoint(svc, pod, rng.random() >= 0.02, None)
        for name, ports, replicas in sets:
            svc = self._add(ns, name, True, None, ports)
            for n in range(replicas):
                pod = "%s-%d" % (name, n)
                self._endpoint(svc, pod, True, pod)

    # ---- API objects

    def namespace_obj(self, ns):
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "uid": uid("ns", ns),
                             "labels": {"kubernetes.io/metadata.name": ns}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}}

    def service_obj(self, s):
        spec = {"ports": [{"name": p, "protocol": proto, "port": port,
                           "targetPort": tp} for p, port, proto, tp in s.ports],
                "type": "ClusterIP", "sessionAffinity": "None",
                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster"}
        if s.name != "kubernetes":
            spec["selector"] = {"app.kubernetes.io/name": s.name}
        ip = "None" if s.headless else s.ip
        spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        labels = {"app.kubernetes.io/name": s.name}
        if s.name == "kube-dns":
            labels = {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}
            spec["selector"] = {"k8s-app": "kube-dns"}
        return {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": s.name, "namespace": s.ns, "uid": s.uid,
                             "labels": labels},
                "spec": spec, "status": {"loadBalancer": {}}}

    def slice_objs(self, s):
        """The controller's slices: SLICE_MAX endpoints each; a placeholder when none."""
        chunks = [s.endpoints[i:i + SLICE_MAX]
                  for i in range(0, len(s.endpoints), SLICE_MAX)] or [[]]
        out = []
        for k, chunk in enumerate(chunks):
            eps = [self.endpoint_obj(s, e) for e in chunk]
            obj = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                   "metadata": {
                       "name": "%s-%s" % (s.name, suffix(5, "slice", s.ns, s.name, str(k))),
                       "namespace": s.ns,
                       "generateName": s.name + "-",
                       "labels": {"kubernetes.io/service-name": s.name,
                                  "endpointslice.kubernetes.io/managed-by":
                                      "endpointslice-controller.k8s.io"},
                       "ownerReferences": [{"apiVersion": "v1", "kind": "Service",
                                            "name": s.name, "uid": s.uid,
                                            "controller": True,
                                            "blockOwnerDeletion": True}]},
                   "addressType": "IPv4",
                   "endpoints": eps or None,
                   "ports": ([{"name": p, "protocol": proto, "port": tp}
                              for p, _, proto, tp in s.ports] if eps else None)}
            if s.headless:
                obj["metadata"]["labels"]["service.kubernetes.io/headless"] = ""
            out.append(obj)
        return out

    def endpoint_obj(self, s, e):
        ep = {"addresses": [e.ip],
              "conditions": {"ready": e.ready, "serving": e.ready,
                             "terminating": False}}
        if e.hostname:
            ep["hostname"] = e.hostname
        if e.pod:
            ep["targetRef"] = {"kind": "Pod", "namespace": s.ns, "name": e.pod,
                               "uid": e.uid}
            ep["nodeName"] = "node-%04d" % e.node
            ep["zone"] = ZONES[e.node % len(ZONES)]
        return ep

    def pod_obj(self, s, e):
        labels = {"app.kubernetes.io/name": s.name}
        if s.name == "kube-dns":
            labels = {"k8s-app": "kube-dns"}
        spec = {"containers": [{"name": "main", "image": "registry.example/%s:1.0" % s.name,
                                "ports": [{"name": p, "containerPort": tp, "protocol": proto}
                                          for p, _, proto, tp in s.ports]}],
                "nodeName": "node-%04d" % e.node}
        if e.hostname:
            labels["statefulset.kubernetes.io/pod-name"] = e.pod
            spec["hostname"], spec["subdomain"] = e.hostname, s.name
        elif s.template:
            labels["pod-template-hash"] = s.template.rsplit("-", 1)[1]
        node_ip = "172.18.%d.%d" % (e.node // 250, e.node % 250 + 3)
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": e.pod, "namespace": s.ns, "uid": e.uid,
                             "labels": labels},
                "spec": spec,
                "status": {"phase": "Running",
                           "conditions": [{"type": "Ready",
                                           "status": "True" if e.ready else "False"}],
                           "hostIP": node_ip, "podIP": e.ip, "podIPs": [{"ip": e.ip}]}}

    def objects_by_namespace(self, pods, slices):
        by = {ns: [] for ns in self.namespaces}
        for s in self.services:
            by[s.ns].append(self.service_obj(s))
            if pods:
                by[s.ns] += [self.pod_obj(s, e) for e in s.endpoints if e.pod]
            if slices:
                by[s.ns] += self.slice_objs(s)
        return by

    def summary(self):
        eps = [e for s in self.services for e in s.endpoints]
        return {"namespaces": len(self.namespaces),
                "services": len(self.services),
                "headless": sum(1 for s in self.services if s.headless),
                "endpoints": len(eps),
                "ready_endpoints": sum(1 for e in eps if e.ready),
                "pets": sum(1 for e in eps if e.hostname),
                "pods": sum(1 for e in eps if e.pod),
                "slices": sum(max(1, -(-len(s.endpoints) // SLICE_MAX)) for s in self.services),
                "largest_service": max(len(s.endpoints) for s in self.services),
                "nodes": self.nodes}


# ---- output

def write_fakeapi(cluster, path):
    items = [cluster.namespace_obj(ns) for ns in cluster.namespaces]
    for ns, objs in cluster.objects_by_namespace(pods=False, slices=True).items():
        items += objs
    with open(path + ".tmp", "w") as f:
        json.dump({"kind": "List", "apiVersion": "v1", "items": items}, f,
                  separators=(",", ":"))
        f.write("\n")
    os.replace(path + ".tmp", path)
    return len(items)


PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9._/-]*")
RESERVED = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}


def yaml_scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if PLAIN.fullmatch(v) and v.lower() not in RESERVED:
        return v
    return json.dumps(v)   # a JSON string is a valid double-quoted YAML scalar


def yaml_lines(v, indent, out):
    pad = "  " * indent
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x:
                out.append("%s%s:" % (pad, k))
                yaml_lines(x, indent + 1, out)
            else:
                out.append("%s%s: %s" % (pad, k, "{}" if x == {} else "[]" if x == [] else yaml_scalar(x)))
    else:
        for x in v:
            if isinstance(x, (dict, list)) and x:
                sub = []
                yaml_lines(x, indent + 1, sub)
                out.append("%s- %s" % (pad, sub[0].lstrip()))
                out += sub[1:]
            else:
                out.append("%s- %s" % (pad, yaml_scalar(x)))


def write_manifests(cluster, outdir, syntax, slices):
    os.makedirs(outdir, exist_ok=True)
    for name in os.listdir(outdir):
        if name.endswith((".yaml", ".yml", ".json")):
            os.unlink(os.path.join(outdir, name))
    by = cluster.objects_by_namespace(pods=True, slices=slices)
    by["00-namespaces"] = [cluster.namespace_obj(ns) for ns in cluster.namespaces]
    n = 0
    for key in sorted(by):
        objs = by[key]
        n += len(objs)
        path = os.path.join(outdir, "%s.%s" % (key, syntax))
        with open(path + ".tmp", "w") as f:
            if syntax == "json":
                json.dump({"kind": "List", "apiVersion": "v1", "items": objs}, f,
                          separators=(",", ":"))
            else:
                for obj in objs:
                    lines = ["---"]
                    yaml_lines(obj, 0, lines)
                    f.write("\n".join(lines) + "\n")
        os.rename(path + ".tmp", path)
    return n


def reverse(ip):
    return ".".join(reversed(ip.split("."))) + ".in-addr.arpa"


def write_queries(cluster, path, n, seed):
    rng = random.Random("queries/%d" % seed)
    svcs = [s for s in cluster.services if not s.headless]
    heads = [s for s in cluster.services if s.headless]
    pets = [(s, e) for s in heads for e in s.endpoints]
    srv = [(s, p) for s in cluster.services for p in s.ports]
    ips = [s.ip for s in svcs] + [e.ip for s in cluster.services for e in s.endpoints if e.ready]
    nss = cluster.namespaces

    def fq(s):
        return "%s.%s.svc.%s" % (s.name, s.ns, ZONE)

    def miss():
        s = rng.choice(svcs)
        tail = rng.choice(("%s.svc.%s" % (rng.choice(nss), ZONE), "svc." + ZONE, ZONE))
        return "%s.%s A" % (fq(s), tail)

    kinds = (
        (40, lambda: "%s A" % fq(rng.choice(svcs))),
        (10, lambda: "%s.%s A" % (lambda p: (p[1].hostname, fq(p[0])))(rng.choice(pets))),
        (5, lambda: "%s A" % fq(rng.choice(heads))),
        (10, lambda: "_%s._%s.%s SRV" % (lambda p: (p[1][0], p[1][2].lower(), fq(p[0])))(rng.choice(srv))),
        (15, lambda: "%s AAAA" % fq(rng.choice(svcs))),
        (10, lambda: "%s PTR" % reverse(rng.choice(ips))),
        (10, miss),
    )
    weights, makers = zip(*kinds)
    with open(path + ".tmp", "w") as f:
        for _ in range(n):
            f.write(rng.choices(makers, weights)[0]() + "\n")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=("fakeapi", "manifests"))
    ap.add_argument("--out", help="fakeapi: the JSON file; manifests: the directory")
    ap.add_argument("--manifest-syntax", choices=("yaml", "json"), default="yaml")
    ap.add_argument("--no-slices", action="store_true",
                    help="manifests: leave EndpointSlices to petdns's simulation")
    ap.add_argument("--queries", metavar="FILE")
    ap.add_argument("--nqueries", type=int, default=100000)
    ap.add_argument("--summary", action="store_true", help="print the counts as JSON")
    a = ap.parse_args()
    if a.format and not a.out:
        ap.error("--format needs --out")
    cluster = Cluster(a.preset, a.seed)
    if a.format == "fakeapi":
        write_fakeapi(cluster, a.out)
    elif a.format == "manifests":
        write_manifests(cluster, a.out, a.manifest_syntax, not a.no_slices)
    if a.queries:
        write_queries(cluster, a.queries, a.nqueries, a.seed)
    if a.summary or not (a.format or a.queries):
        json.dump(cluster.summary(), sys.stdout)
        sys.stdout.write("\n")


if __name__ == "__main__":
    main()
