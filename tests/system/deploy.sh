#!/usr/bin/env bash
# deploy.sh -- deploy/: every manifest's structure, the objects and names that replace CoreDNS, probes and
# ports against the ConfigMap's Corefile, least-privilege RBAC, the Containerfile read against the build; then
# the ConfigMap's Corefile run by the real binary (parse only, and against the fake API server with the
# kube-dns Service from deploy/service.yaml), answering on what the probes and the Service point at.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig python3 openssl
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml is not installed"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/petdns-deploy.XXXXXX") || lib_die "mktemp failed"
LIB_DIRS+=("$work")
dns_port=$(free_port)
health_port=$(free_port)
ready_port=$(free_port)
metrics_port=$(free_port)
POD_IP=10.244.0.53	# the address the Deployment's POD_IP (status.podIP) would carry

# Static checks. The checker writes name NUL expected NUL actual NUL per check (a name starting with
# "SKIP" is a note), the files the live part runs on, and meta.sh (facts it found, for the live part).
python3 - "$TOPSRC" "$TESTDATA" "$work" "$PETDNS" "$POD_IP" \
    "$dns_port" "$health_port" "$ready_port" "$metrics_port" >"$work/checker.out" 2>&1 <<'PY'
import glob, json, os, re, shlex, shutil, subprocess, sys
import yaml

top, testdata, work, petdns, pod_ip = sys.argv[1:6]
live_ports = dict(zip(("dns", "health", "ready", "prometheus"), map(int, sys.argv[6:10])))
deploy = os.path.join(top, "deploy")
results = open(os.path.join(work, "results"), "wb")
meta = {}


def check(name, expected, actual):
    for s in (name, expected, actual):
        results.write(str(s).encode().replace(b"\0", b"") + b"\0")


def ok(name, cond, why):
    """A condition: passes as "ok", fails showing why."""
    check(name, "ok", "ok" if cond else why)


def skip(why):
    check("SKIP " + why, "", "")


# --- every file parses; every document is an object --------------------------------------------------
files = sorted(glob.glob(os.path.join(deploy, "*.yaml")) + glob.glob(os.path.join(deploy, "*.yml")))
base = os.path.basename
objects = []  # (file, document number, object)
kustomization = None
for f in files:
    try:
        with open(f) as fh:
            docs = list(yaml.safe_load_all(fh))
    except yaml.YAMLError as e:
        ok(base(f) + " parses", False, str(e).replace("\n", " "))
        continue
    ok(base(f) + " parses", True, "")
    if base(f) == "kustomization.yaml":
        kustomization = docs[0] if docs else None
        continue
    for i, d in enumerate(docs, 1):
        if d is None:
            continue
        good = (isinstance(d, dict) and isinstance(d.get("apiVersion"), str) and
                isinstance(d.get("kind"), str) and isinstance(d.get("metadata"), dict) and
                isinstance(d["metadata"].get("name"), str) and d["metadata"]["name"] != "")
        ok("%s document %d: apiVersion, kind, metadata.name" % (base(f), i), good, repr(d)[:200])
        if good:
            objects.append((base(f), i, d))


def key(o):
    return (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])


def show(k):
    return "%s %s%s" % (k[0], k[1] + "/" if k[1] else "", k[2])


EXPECTED = [
    ("ClusterRole", None, "system:coredns"),
    ("ClusterRole", None, "system:petdns:petsets"),
    ("ClusterRoleBinding", None, "system:coredns"),
    ("ClusterRoleBinding", None, "system:petdns:petsets"),
    ("ConfigMap", "kube-system", "coredns"),
    ("CustomResourceDefinition", None, "petsets.petdns.io"),
    ("Deployment", "kube-system", "coredns"),
    ("Service", "kube-system", "kube-dns"),
    ("ServiceAccount", "kube-system", "coredns"),
]
check("the objects (kind, namespace/name), each once", "\n".join(map(show, EXPECTED)),
      "\n".join(sorted(show(key(o)) for _, _, o in objects)))
API = {"ServiceAccount": "v1", "ConfigMap": "v1", "Service": "v1", "Deployment": "apps/v1",
       "ClusterRole": "rbac.authorization.k8s.io/v1", "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
       "CustomResourceDefinition": "apiextensions.k8s.io/v1"}
check("apiVersions are the GA ones", "",
      "\n".join("%s: %s" % (show(key(o)), o["apiVersion"]) for _, _, o in objects
                if API.get(o["kind"]) != o["apiVersion"]))


def string_maps(o, path=""):
    """Labels, annotations and ConfigMap data anywhere in o that are not string -> string."""
    bad = []
    if isinstance(o, dict):
        for k, v in o.items():
            p = path + "." + str(k)
            if (k in ("matchLabels", "nodeSelector") or
                    (k in ("labels", "annotations") and path.endswith(".metadata")) or
                    (k == "selector" and path == ".spec" and "ports" in o) or
                    (k == "data" and path == "")) and isinstance(v, dict):
                bad += [p + "." + str(kk) for kk, vv in v.items()
                        if not isinstance(kk, str) or not isinstance(vv, str)]
            else:
                bad += string_maps(v, p)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            bad += string_maps(v, "%s[%d]" % (path, i))
    return bad


check("labels, annotations, selectors and data are strings (quote true, 9153, ...)", "",
      "\n".join(show(key(o)) + ": " + b for _, _, o in objects for b in string_maps(o)))

by_key = {key(o): o for _, _, o in objects}


def get(kind, ns, name):
    return by_key.get((kind, ns, name)) or {}


# --- the kustomization --------------------------------------------------------------------------------
k = kustomization or {}
check("kustomization: apiVersion and kind", "kustomize.config.k8s.io/v1beta1 Kustomization",
      "%s %s" % (k.get("apiVersion"), k.get("kind")))
listed = k.get("resources") or []
check("kustomization: lists every other manifest in deploy/, each once",
      "\n".join(sorted(base(f) for f in files if base(f) != "kustomization.yaml")),
      "\n".join(sorted(map(str, listed))))
if shutil.which("kubectl"):
    p = subprocess.run(["kubectl", "kustomize", deploy], capture_output=True, text=True)
    built = [d for d in yaml.safe_load_all(p.stdout) if d] if p.returncode == 0 else []
    check("kubectl kustomize deploy/ builds the same objects",
          "\n".join(map(show, EXPECTED)) if p.returncode == 0 else "exit 0",
          "\n".join(sorted(show(key(o)) for o in built)) if p.returncode == 0 else
          "exit %d: %s" % (p.returncode, p.stderr.strip()))
else:
    skip("kubectl is not installed: kustomize build not tried")

# --- the ConfigMap's Corefile -------------------------------------------------------------------------
cm = get("ConfigMap", "kube-system", "coredns")
corefile = (cm.get("data") or {}).get("Corefile", "")
with open(os.path.join(testdata, "corefile", "kubeadm.Corefile")) as fh:
    kubeadm_corefile = fh.read()
check("ConfigMap coredns: Corefile is kubeadm's default, byte for byte", kubeadm_corefile, corefile)


def parse_corefile(text):
    """Server blocks as (keys, [(line, name, args, {option: args})]); raises ValueError."""
    toks = [(n, t) for n, line in enumerate(text.split("\n"), 1) for t in shlex.split(line, comments=True)]
    blocks, pos = [], 0

    def tok(i):
        if i >= len(toks):
            raise ValueError("unexpected end")
        return toks[i]

    while pos < len(toks):
        keys = []
        while tok(pos)[1] != "{":
            keys.append(tok(pos)[1])
            pos += 1
        pos += 1
        dirs = []
        while tok(pos)[1] != "}":
            line, name = tok(pos)
            pos += 1
            args = []
            while pos < len(toks) and toks[pos][0] == line and toks[pos][1] not in ("{", "}"):
                args.append(toks[pos][1])
                pos += 1
            opts = {}
            if pos < len(toks) and toks[pos][1] == "{":
                pos += 1
                depth, sub = 1, []
                while True:
                    t = tok(pos)
                    pos += 1
                    depth += (t[1] == "{") - (t[1] == "}")
                    if depth == 0:
                        break
                    sub.append(t)
                for n in sorted({n for n, _ in sub}):
                    words = [t for m, t in sub if m == n]
                    opts[words[0]] = words[1:]
            dirs.append((line, name, args, opts))
        pos += 1
        blocks.append((keys, dirs))
    return blocks


def addr(a):
    """(host, port) of ADDR as health/ready/prometheus take it: [HOST]:PORT."""
    host, _, port = a.rpartition(":")
    return host.strip("[]"), int(port)


try:
    blocks = parse_corefile(corefile)
except ValueError as e:
    blocks = []
    ok("Corefile parses (test's reader)", False, str(e))
root = [b for b in blocks if any(re.sub(r"^dns://", "", kk).split(":")[0] == "." for kk in b[0])]
ok("Corefile: one server block serves the root zone", len(root) == 1, "blocks: %r" % [b[0] for b in blocks])
keys, dirs = root[0] if root else ([], [])
dns_port = 53
for kk in keys:
    kk = re.sub(r"^dns://", "", kk)
    if ":" in kk:
        dns_port = int(kk.rsplit(":", 1)[1])
d = {name: (line, args, opts) for line, name, args, opts in dirs}
# CoreDNS's defaults: health :8080, ready :8181, prometheus localhost:9153.
admin = {}
for name, default in (("health", ":8080"), ("ready", ":8181"), ("prometheus", "localhost:9153")):
    ok("Corefile: %s is configured" % name, name in d, "directives: %s" % " ".join(d))
    if name in d:
        admin[name] = addr(d[name][1][0] if d[name][1] else default)
        ok("Corefile: %s listens on every address (the kubelet and Prometheus reach the pod IP)" % name,
           admin[name][0] in ("", "0.0.0.0", "::"), "host %r" % admin[name][0])
lameduck = 0.0
if "health" in d and "lameduck" in d["health"][2]:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", d["health"][2]["lameduck"][0])
    lameduck = float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)] if m else -1
p = subprocess.run([petdns, "-plugins"], capture_output=True, text=True)
known = set(re.findall(r"^\s+dns\.(\S+)$", p.stdout, re.M))
check("every directive of the Corefile is one petdns -plugins lists", "",
      " ".join(name for _, name, _, _ in dirs if name not in known))

# --- the Deployment -----------------------------------------------------------------------------------
dep = get("Deployment", "kube-system", "coredns")
spec = dep.get("spec") or {}
tmpl = spec.get("template") or {}
pod = tmpl.get("spec") or {}
containers = pod.get("containers") or []
c = containers[0] if containers else {}
check("Deployment: labels k8s-app=kube-dns", "kube-dns", ((dep.get("metadata") or {}).get("labels") or {}).get("k8s-app"))
check("Deployment: kubeadm's (immutable) selector", {"k8s-app": "kube-dns"},
      (spec.get("selector") or {}).get("matchLabels"))
sel = (spec.get("selector") or {}).get("matchLabels") or {}
tlabels = (tmpl.get("metadata") or {}).get("labels") or {}
ok("Deployment: the pod template carries the selector's labels",
   sel and all(tlabels.get(a) == b for a, b in sel.items()), "template labels %r" % tlabels)
check("Deployment: 2 replicas", 2, spec.get("replicas"))
check("Deployment: one container, kubeadm's name (kubectl set image ... coredns=)", "coredns",
      " ".join(str(x.get("name")) for x in containers))
with open(os.path.join(top, "configure.ac")) as fh:
    version = re.search(r"AC_INIT\(\[petdns\],\s*\[([^]]+)\]", fh.read()).group(1)
check("Deployment: image petdns:<configure.ac version>", "petdns:" + version, c.get("image"))
v = subprocess.run([petdns, "-version"], capture_output=True, text=True).stdout.strip()
check("the binary's -version agrees with the image tag", "petdns-" + version, v)
args = c.get("args") or []
check("Deployment: args", ["-conf", "/etc/coredns/Corefile"], args)
conf = args[args.index("-conf") + 1] if "-conf" in args[:-1] else ""
mounts = {m.get("mountPath"): m for m in c.get("volumeMounts") or []}
mount = mounts.get(os.path.dirname(conf)) or {}
vol = {x.get("name"): x for x in pod.get("volumes") or []}.get(mount.get("name")) or {}
items = {i.get("path"): i.get("key") for i in (vol.get("configMap") or {}).get("items") or []}
ok("Deployment: -conf's directory is the ConfigMap, read-only, the file its Corefile key",
   (vol.get("configMap") or {}).get("name") == "coredns" and mount.get("readOnly") is True and
   items.get(os.path.basename(conf), os.path.basename(conf)) == "Corefile",
   "mount %r volume %r" % (mount, vol))
cports = c.get("ports") or []


def port_of(p):
    """A probe's or a targetPort's port: a number, or a container port's name."""
    if isinstance(p, int):
        return p
    for x in cports:
        if x.get("name") == p:
            return x.get("containerPort")
    return None


for probe, name, path in (("livenessProbe", "health", "/health"), ("readinessProbe", "ready", "/ready")):
    pr = c.get(probe) or {}
    hg = pr.get("httpGet") or {}
    check("Deployment: %s is GET %s on the Corefile's %s port" % (probe, path, name),
          "HTTP %s %s" % (path, admin.get(name, ("", "?"))[1]),
          "%s %s %s" % (hg.get("scheme", "HTTP"), hg.get("path"), port_of(hg.get("port"))))
    meta[name.upper() + "_PATH"] = hg.get("path", "")
lp = c.get("livenessProbe") or {}
check("Deployment: liveness timings as CoreDNS (60 s delay, 5 s timeout, 1/5 thresholds)", "60 5 1 5",
      " ".join(str(lp.get(x)) for x in ("initialDelaySeconds", "timeoutSeconds", "successThreshold",
                                         "failureThreshold")))
cp = sorted((x.get("containerPort"), x.get("protocol", "TCP"), x.get("name")) for x in cports)
want = [(dns_port, "TCP", "dns-tcp"), (dns_port, "UDP", "dns"),
        (admin.get("prometheus", ("", 9153))[1], "TCP", "metrics")]
ok("Deployment: container ports dns %d/UDP, dns-tcp %d/TCP (the Corefile's server port), metrics %d/TCP "
   "(its prometheus port)" % (dns_port, dns_port, want[2][0]),
   all(w in cp for w in want), "ports %r" % cp)
ok("Deployment: container ports are unique", len({(p, q) for p, q, _ in cp}) == len(cp), "ports %r" % cp)
env = {e.get("name"): e for e in c.get("env") or []}
check("Deployment: env POD_IP from status.podIP", "status.podIP",
      (((env.get("POD_IP") or {}).get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath"))
psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}


def sc(k):
    return csc.get(k, psc.get(k))


check("Deployment: non-root (runAsNonRoot, runAsUser 65532)", "True 65532",
      "%s %s" % (sc("runAsNonRoot"), sc("runAsUser")))
check("Deployment: no privilege escalation, read-only root filesystem", "False True",
      "%s %s" % (csc.get("allowPrivilegeEscalation"), csc.get("readOnlyRootFilesystem")))
caps = csc.get("capabilities") or {}
check("Deployment: capabilities drop ALL, add only NET_BIND_SERVICE", "drop ['ALL'] add ['NET_BIND_SERVICE']",
      "drop %s add %s" % (sorted(map(str.upper, caps.get("drop") or [])), caps.get("add")))
check("Deployment: seccomp RuntimeDefault", "RuntimeDefault", (sc("seccompProfile") or {}).get("type"))
res = c.get("resources") or {}


def mem(q):
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|k|M|G)?", str(q))
    return int(m.group(1)) * {None: 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "k": 1000, "M": 1000**2,
                              "G": 1000**3}[m.group(2)] if m else None


req, lim = res.get("requests") or {}, res.get("limits") or {}
ok("Deployment: cpu and memory requested, memory limited, limit >= request",
   req.get("cpu") and mem(req.get("memory")) and mem(lim.get("memory")) and
   mem(lim.get("memory")) >= mem(req.get("memory")), "resources %r" % res)
meta["MEMORY_LIMIT"] = mem(lim.get("memory")) or 0
check("Deployment: priorityClassName", "system-cluster-critical", pod.get("priorityClassName"))
check("Deployment: dnsPolicy Default (upstreams from the node)", "Default", pod.get("dnsPolicy"))
tol = [(t.get("key"), t.get("operator", "Equal"), t.get("effect")) for t in pod.get("tolerations") or []]
ok("Deployment: tolerates CriticalAddonsOnly and control-plane nodes",
   ("CriticalAddonsOnly", "Exists", None) in tol and
   ("node-role.kubernetes.io/control-plane", "Equal", "NoSchedule") in tol, "tolerations %r" % tol)
terms = (((pod.get("affinity") or {}).get("podAntiAffinity") or {})
         .get("preferredDuringSchedulingIgnoredDuringExecution") or [])
ok("Deployment: anti-affinity prefers one kube-dns pod per node",
   any((t.get("podAffinityTerm") or {}).get("topologyKey") == "kubernetes.io/hostname" and
       {"key": "k8s-app", "operator": "In", "values": ["kube-dns"]} in
       (((t.get("podAffinityTerm") or {}).get("labelSelector") or {}).get("matchExpressions") or [])
       for t in terms), "terms %r" % terms)
grace = pod.get("terminationGracePeriodSeconds", 30)
ok("Deployment: terminationGracePeriodSeconds (%s) outlasts the Corefile's lameduck (%gs)" % (grace, lameduck),
   lameduck >= 0 and grace > lameduck, "")
meta["GRACE"] = int(grace)
sa = pod.get("serviceAccountName")
check("Deployment: its service account is in deploy/", "coredns",
      sa if ("ServiceAccount", "kube-system", sa) in by_key else "%s (no such ServiceAccount)" % sa)

# --- the Service --------------------------------------------------------------------------------------
svc = get("Service", "kube-system", "kube-dns")
sspec = svc.get("spec") or {}
smeta = svc.get("metadata") or {}
check("Service kube-dns: labels as kubeadm's", {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"},
      {a: b for a, b in (smeta.get("labels") or {}).items() if a in ("k8s-app", "kubernetes.io/name")})
check("Service kube-dns: selects the Deployment's pods", sel, sspec.get("selector"))
check("Service kube-dns: clusterIP (kubeadm's default; must be the kubelets' clusterDNS)", "10.96.0.10",
      sspec.get("clusterIP"))
sports = sspec.get("ports") or []
check("Service kube-dns: ports", "53/UDP dns\n53/TCP dns-tcp\n%d/TCP metrics" % admin.get("prometheus", ("", 9153))[1],
      "\n".join("%s/%s %s" % (p.get("port"), p.get("protocol", "TCP"), p.get("name")) for p in sports))
check("Service kube-dns: each port's target is a container port of the same protocol", "",
      " ".join("%s/%s" % (p.get("name"), p.get("protocol", "TCP")) for p in sports
               if (port_of(p.get("targetPort", p.get("port"))), p.get("protocol", "TCP"))
               not in [(x.get("containerPort"), x.get("protocol", "TCP")) for x in cports]))
ann = smeta.get("annotations") or {}
check("Service kube-dns: prometheus.io annotations name the Corefile's prometheus port",
      "scrape=true port=%s" % admin.get("prometheus", ("", "?"))[1],
      "scrape=%s port=%s" % (ann.get("prometheus.io/scrape"), ann.get("prometheus.io/port")))
meta["METRICS_PATH"] = ann.get("prometheus.io/path", "/metrics")
meta["CLUSTER_IP"] = sspec.get("clusterIP", "")

# --- RBAC ---------------------------------------------------------------------------------------------
role = get("ClusterRole", None, "system:coredns")
grants = sorted({(g, r, v) for rule in role.get("rules") or [] for g in rule.get("apiGroups") or ["?"]
                 for r in rule.get("resources") or ["?"] for v in rule.get("verbs") or ["?"]})
want = sorted({(g, r, v) for g, r in (("", "namespaces"), ("", "services"), ("", "pods"),
                                      ("discovery.k8s.io", "endpointslices")) for v in ("list", "watch")})
check("ClusterRole system:coredns: list and watch on namespaces, services, pods, endpointslices; nothing else",
      "\n".join(map(repr, want)), "\n".join(map(repr, grants)))
ok("ClusterRole system:coredns: no resourceNames, nonResourceURLs or aggregation",
   not role.get("aggregationRule") and
   not any(r.get("resourceNames") or r.get("nonResourceURLs") for r in role.get("rules") or []), "")
for name in ("system:coredns", "system:petdns:petsets"):
    b = get("ClusterRoleBinding", None, name)
    ref = b.get("roleRef") or {}
    check("ClusterRoleBinding %s: binds ClusterRole %s of deploy/ to the Deployment's service account" % (name, name),
          "ClusterRole %s -> ServiceAccount kube-system/%s" % (name, sa),
          "%s %s%s -> %s" % (ref.get("kind"), ref.get("name"),
                             "" if ("ClusterRole", None, ref.get("name")) in by_key else " (missing)",
                             " ".join("%s %s/%s" % (s.get("kind"), s.get("namespace"), s.get("name"))
                                      for s in b.get("subjects") or [])))
crd = get("CustomResourceDefinition", None, "petsets.petdns.io")
cs = crd.get("spec") or {}
check("CRD: named plural.group", "petsets.petdns.io",
      "%s.%s" % ((cs.get("names") or {}).get("plural"), cs.get("group")))

# --- the Containerfile, read against the build --------------------------------------------------------
with open(os.path.join(deploy, "Containerfile")) as fh:
    text = re.sub(r"\\\n", " ", fh.read())
instr = [(m.group(1).upper(), m.group(2).strip()) for m in
         re.finditer(r"^\s*([A-Za-z]+)\s+(.*)$", "\n".join(l for l in text.split("\n")
                                                            if not l.lstrip().startswith("#")), re.M)]
stages, names = [], {}
for op, rest in instr:
    if op == "FROM":
        m = re.match(r"(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
        stages.append({"image": m.group(1), "name": m.group(2), "ops": []})
        if m.group(2):
            names[m.group(2)] = stages[-1]
    elif stages:
        stages[-1]["ops"].append((op, rest))
ok("Containerfile: multi-stage, every stage on Debian 12 (bookworm)",
   len(stages) >= 2 and all(re.search(r"(^|/)debian:bookworm(-slim)?$", s["image"]) for s in stages),
   "FROM %s" % [s["image"] for s in stages])


def apt(stage):
    pk = []
    for op, rest in stage["ops"] if stage else []:
        for m in re.finditer(r"apt-get install((?:\s+(?!&&|;|\|)\S+)+)", rest) if op == "RUN" else []:
            pk += [w for w in m.group(1).split() if not w.startswith("-")]
    return set(pk)


final = stages[-1] if stages else None
copies = [re.match(r"--from=(\S+)\s+(\S+)\s+(\S+)", r) for o, r in final["ops"] if o == "COPY"] if final else []
copy = next((m for m in copies if m and m.group(3) == "/usr/bin/petdns"), None)
build = names.get(copy.group(1)) if copy else None
ok("Containerfile: the final stage copies petdns from the build stage to /usr/bin/petdns", build is not None,
   "COPY lines %r" % [m.group(0) if m else None for m in copies])
with open(os.path.join(top, "configure.ac")) as fh:
    cac = fh.read()
need = set(re.findall(r"PETDNS_DEP\(\[\w+\],\s*\[[^]]*\],\s*\[([^]]+)\]\)", cac)) | \
    set(re.findall(r"apt-get install ([\w.+-]+)\]\)", cac)) | {"build-essential", "autoconf", "automake", "pkg-config"}
check("Containerfile: the build stage installs what configure.ac checks for", "",
      " ".join(sorted(need - apt(build))))
runs = " ".join(r for o, r in (build or {"ops": []})["ops"] if o == "RUN")
ok("Containerfile: the build stage runs ./bootstrap, ./configure and make",
   all(re.search(p, runs) for p in (r"\./bootstrap", r"\./configure", r"\bmake\b")), runs)
dev = sorted(p for p in apt(final) if re.search(r"-dev$|^build-essential$|^(gcc|g\+\+|cpp|make|autoconf|automake|"
                                                r"libtool|pkg-?config|pkgconf)(-|$)", p))
check("Containerfile: no compiler, build tool or -dev package in the runtime stage", "", " ".join(dev))
runtime = {"libevent-2.1-7", "libevent-pthreads-2.1-7", "libldns3", "libjson-c5", "libcurl4", "libyaml-0-2",
           "libssl3", "liburcu8"}
check("Containerfile: the runtime stage installs petdns's libraries", "",
      " ".join(sorted(runtime - apt(final))))
# The libraries the tested binary links directly, by owning Debian package (when readelf and dpkg can tell).
if shutil.which("readelf") and shutil.which("dpkg-query"):
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]",
                        subprocess.run(["readelf", "-d", petdns], capture_output=True, text=True).stdout)
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(["ldd", petdns], capture_output=True,
                                                                   text=True).stdout, re.M))
    cands = {p2 for so in needed if so in paths for p2 in (paths[so], os.path.realpath(paths[so]))}
    q = subprocess.run(["dpkg-query", "-S"] + sorted(cands), capture_output=True, text=True)
    owner_of = {path: pkg.split(":")[0] for pkg, path in re.findall(r"^(\S+): (\S+)$", q.stdout, re.M)}
    owners, unknown = set(), []
    for so in needed:
        path = paths.get(so, "")
        pkg = owner_of.get(path) or owner_of.get(os.path.realpath(path)) if path else None
        if pkg is None:
            unknown.append(so)
        elif not re.match(r"(libc6|libgcc-s1|libstdc\+\+6|libasan\d*|libubsan\d*)$", pkg):
            owners.add(pkg)
    if unknown:
        skip("no Debian package owns %s: not compared with the Containerfile" % " ".join(unknown))
    check("Containerfile: the runtime stage installs the package of every library %s links" % base(petdns), "",
          " ".join(sorted(owners - apt(final))))
else:
    skip("readelf or dpkg-query missing: linked libraries not compared with the Containerfile")
fops = final["ops"] if final else []
last = lambda op: next((r for o, r in reversed(fops) if o == op), None)
user = last("USER") or ""
check("Containerfile: USER is the Deployment's runAsUser", str(sc("runAsUser")), user.split(":")[0])
ok("Containerfile: petdns gets the cap_net_bind_service file capability (non-root binds 53)",
   any(o == "RUN" and re.search(r"setcap\s+cap_net_bind_service[=+]", r) for s in stages for o, r in s["ops"]), "")
expose = set((last("EXPOSE") or "").split())
wantx = {"%d/udp" % dns_port, "%d/tcp" % dns_port} | {str(admin[n][1]) for n in admin}
check("Containerfile: EXPOSE the Corefile's ports", "", " ".join(sorted(wantx - expose)))


def exec_form(s):
    try:
        return json.loads(s)
    except (TypeError, ValueError):
        return s


check("Containerfile: ENTRYPOINT", ["/usr/bin/petdns"], exec_form(last("ENTRYPOINT")))
check("Containerfile: CMD is the Deployment's args", args, exec_form(last("CMD")))

# --- files for the live part --------------------------------------------------------------------------
lines = corefile.split("\n")
with open(os.path.join(work, "Corefile"), "w") as fh:
    fh.write(corefile)
meta["K8S_LINE"] = d["kubernetes"][0] if "kubernetes" in d else 0
# A control: an unknown directive just before the root block's closing brace.
close = max(i for i, l in enumerate(lines) if l.strip() == "}")
with open(os.path.join(work, "Corefile.bogus"), "w") as fh:
    fh.write("\n".join(lines[:close] + ["    nosuchdirective"] + lines[close:]))
meta["BOGUS_LINE"] = close + 1
# The same Corefile with the health, ready and prometheus listeners on free ports (other tests may hold
# 8080, 8181 and 9153); nothing else changes.
live = list(lines)
for name in ("health", "ready", "prometheus"):
    if name in d:
        n = d[name][0] - 1
        words = live[n].split()
        indent = live[n][:len(live[n]) - len(live[n].lstrip())]
        at = words.index(name) + 1
        if len(d[name][1]) > 0:
            words[at] = ":%d" % live_ports[name]
        else:
            words.insert(at, ":%d" % live_ports[name])
        live[n] = indent + " ".join(words)
with open(os.path.join(work, "Corefile.live"), "w") as fh:
    fh.write("\n".join(live))
# The fake cluster: tests/data/fakeapi/cluster.json with its kube-dns replaced by deploy/'s Service, and
# the EndpointSlice the endpoint-slice controller would write for one petdns pod at POD_IP.
with open(os.path.join(testdata, "fakeapi", "cluster.json")) as fh:
    items = json.load(fh)["items"]
items = [o for o in items if not (o["metadata"].get("namespace") == "kube-system" and
         (o["metadata"]["name"] == "kube-dns" or
          (o["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == "kube-dns"))]
service = json.loads(json.dumps(svc))
service["spec"].setdefault("type", "ClusterIP")
service["spec"].setdefault("clusterIPs", [sspec.get("clusterIP")])
items.append(service)
items.append({
    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
    "metadata": {"name": "kube-dns-x7k2p", "namespace": "kube-system",
                 "labels": {"kubernetes.io/service-name": "kube-dns"}},
    "addressType": "IPv4",
    "endpoints": [{"addresses": [pod_ip], "conditions": {"ready": True},
                   "targetRef": {"kind": "Pod", "namespace": "kube-system", "name": "coredns-5d78c9869d-abcde"}}],
    "ports": [{"name": p.get("name"), "protocol": p.get("protocol", "TCP"),
               "port": port_of(p.get("targetPort", p.get("port")))} for p in sports],
})
with open(os.path.join(work, "state.json"), "w") as fh:
    json.dump({"kind": "List", "apiVersion": "v1", "items": items}, fh)
meta["DNS_SRV_PORT"] = port_of(next((p.get("targetPort", p.get("port")) for p in sports if p.get("name") == "dns"), 0))
meta["METRICS_SRV_PORT"] = port_of(next((p.get("targetPort", p.get("port")) for p in sports
                                         if p.get("name") == "metrics"), 0))
with open(os.path.join(work, "meta.sh"), "w") as fh:
    for k2, v2 in sorted(meta.items()):
        fh.write("%s=%s\n" % (k2, shlex.quote(str(v2))))
PY
status=$?
[ "$status" -eq 0 ] || sed 's/^/    /' "$work/checker.out"
check "static checker ran to the end" "0" "$status"
while IFS= read -r -d '' name && IFS= read -r -d '' want && IFS= read -r -d '' got; do
	case $name in
	SKIP*) echo "# $name" ;;
	*) check "$name" "$want" "$got" ;;
	esac
done <"$work/results"
[ -s "$work/meta.sh" ] || finish
# shellcheck source=/dev/null
. "$work/meta.sh"

# The ConfigMap's Corefile, verbatim, outside a cluster: it must get as far as the kubernetes directive's
# start and fail there only; the control shows that a Corefile error would have been caught first.
out=$(cd "$work" && env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT -u KUBECONFIG -u POD_IP \
    timeout 10 "$PETDNS" -conf Corefile -dns.port "$dns_port" 2>&1)
status=$?
check "verbatim Corefile outside a cluster: exit status 1" "1" "$status"
check_match "verbatim Corefile: parsed, then stopped by the missing cluster" \
    "^\[WARNING\] Corefile:$K8S_LINE: kubernetes: not running in a cluster" "$out"
check "verbatim Corefile: no other complaint" "" "$(printf '%s\n' "$out" | grep -Ev \
    "^\[WARNING\] Corefile:$K8S_LINE: kubernetes: (not running in a cluster|cannot start)|^\[FATAL\] cannot start$|^$")"
out=$(cd "$work" && env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT timeout 10 \
    "$PETDNS" -conf Corefile.bogus -dns.port "$dns_port" 2>&1)
check_match "control: a bad directive at the end is reported first" \
    "Corefile.bogus:$BOGUS_LINE: unknown directive 'nosuchdirective'" "$out"

# The same Corefile (admin listeners on free ports) in a fake cluster holding deploy/'s kube-dns Service,
# with the service account the kubelet mounts and the POD_IP the Deployment sets.
certs=$work/certs
mkdir -p "$certs/sa"
python3 "$TOPSRC/tests/fakeapi/fakeapi.py" --make-certs "$certs" >/dev/null || lib_die "cannot make certificates"
fakeapi_start --state "$work/state.json" --token sa-token \
    --tls-cert "$certs/server.crt" --tls-key "$certs/server.key"
echo sa-token >"$certs/sa/token"
cp "$certs/ca.crt" "$certs/sa/ca.crt"
echo kube-system >"$certs/sa/namespace"
export KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$FAKEAPI_PORT
export PETDNS_SERVICEACCOUNT_DIR=$certs/sa POD_IP
PORT=$dns_port petdns_start "$(cat "$work/Corefile.live")" -dns.port "$dns_port"

end=$(($(date +%s) + 10))
until [ "$(http_get "http://127.0.0.1:$ready_port$READY_PATH" | cut -d' ' -f1)" = 200 ] ||
    [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.1
done
check "readinessProbe's GET $READY_PATH: 200 once synced" "200" \
    "$(http_get "http://127.0.0.1:$ready_port$READY_PATH" | cut -d' ' -f1)"
check "livenessProbe's GET $HEALTH_PATH: 200" "200" \
    "$(http_get "http://127.0.0.1:$health_port$HEALTH_PATH" | cut -d' ' -f1)"
check "the Service's clusterIP answers for kube-dns.kube-system" "$CLUSTER_IP" \
    "$(ask +short kube-dns.kube-system.svc.cluster.local)"
check_match "SRV _dns._udp: the Service's dns port" "^0 100 $DNS_SRV_PORT " \
    "$(ask +short _dns._udp.kube-dns.kube-system.svc.cluster.local SRV)"
check_match "SRV _metrics._tcp: the Service's metrics port" "^0 100 $METRICS_SRV_PORT " \
    "$(ask +short _metrics._tcp.kube-dns.kube-system.svc.cluster.local SRV)"
check "NS glue: POD_IP leads to the kube-dns Service's clusterIP" "$CLUSTER_IP" \
    "$(ask +short ns.dns.cluster.local A)"
metrics=$(http_get "http://127.0.0.1:$metrics_port$METRICS_PATH" | sed 's/\\n/\n/g')
check_match "prometheus: GET $METRICS_PATH is 200" "^200 " "$metrics"
check_match "prometheus: CoreDNS's request counter" "^coredns_dns_requests_total\{.*\} [1-9]" "$metrics"
rss=$(printf '%s\n' "$metrics" | sed -n 's/^process_resident_memory_bytes \([0-9.e+]*\)$/\1/p')
awk -v r="${rss:-0}" -v l="$MEMORY_LIMIT" \
    'BEGIN { printf "# resident memory in this small cluster: %.1f MiB (memory limit %.0f MiB)\n", r / 1048576, l / 1048576 }'
if [ -n "${PETDNS_WRAPPER:-}" ] || ldd "$PETDNS" 2>/dev/null | grep -Eq 'lib(a|ub)san'; then
	echo "# sanitizer build: resident memory not compared with the limit"
else
	check "resident memory well under the memory limit (a quarter)" "yes" \
	    "$(python3 -c "print('yes' if float('${rss:-inf}') < $MEMORY_LIMIT / 4 else 'no: ${rss:-none}')")"
fi

# SIGTERM as the kubelet sends it: petdns drains for the lameduck, then exits 0, within the grace period.
kill -TERM "$PETDNS_PID"
end=$(($(date +%s) + GRACE))
while kill -0 "$PETDNS_PID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
	sleep 0.2
done
status=0
kill -0 "$PETDNS_PID" 2>/dev/null && status=timeout
[ "$status" = timeout ] || wait "$PETDNS_PID" || status=$?
check "SIGTERM: exits 0 within terminationGracePeriodSeconds ($GRACE s)" "0" "$status"
finish
