#!/usr/bin/env bash
# explain.sh -- why a name resolves or not, from -explain, /explain (text and JSON) and TXT _explain.NAME,
# on the embedded default, the tests/data/explain manifests, and the same objects behind the fake API.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig python3

FIX=$TESTDATA/explain/cluster
SVC=default.svc.cluster.local

# check_has WHAT TEXT ACTUAL: check_match with TEXT taken literally.
check_has() {
	check_match "$1" "$(printf '%s' "$2" | sed 's/[][\.*^$(){}?+|]/\\&/g')" "$3"
}

# corefile DIR_OR_ENDPOINT OPTIONS...: a block over manifests DIR or an API URL.
corefile() {
	local src=$1 port=${PORT:-1053}
	shift
	case $src in
	http*) src="endpoint $src" ;;
	*) src="manifests $src" ;;
	esac
	printf 'cluster.local:%s in-addr.arpa:%s {\n    bind 127.0.0.1\n%s    kubernetes cluster.local in-addr.arpa {\n        %s\n' \
	    "$port" "$port" "${HEALTH:+    health 127.0.0.1:$HEALTH
}" "$src"
	for o in "$@"; do printf '        %s\n' "$o"; done
	printf '    }\n}\n'
}

CONFDIR=$(mktemp -d "${TMPDIR:-/tmp}/petdns-explain.XXXXXX")
LIB_DIRS+=("$CONFDIR")
# conf TEXT: a Corefile holding TEXT; prints its path.
conf() {
	local f
	f=$(mktemp "$CONFDIR/Corefile.XXXXXX")
	printf '%s\n' "$1" >"$f"
	echo "$f"
}

# cli COREFILE NAME [TYPE]: petdns -explain; prints the text, then "exit N".
cli() {
	local rc=0 f=$1
	shift
	"$PETDNS" -conf "$f" -quiet -explain "$@" 2>&1 || rc=$?
	echo "exit $rc"
}

# http PATH [ACCEPT]: GET on the health listener; prints "STATUS TYPE" then
# the body. Plain bash: a python per request costs seconds on a busy machine.
http() {
	local resp
	exec 3<>"/dev/tcp/127.0.0.1/$HEALTH" || { echo 0; return; }
	printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n' "$1" \
	    "${2:+Accept: $2$'\r\n'}" >&3
	resp=$(tr -d '\r' <&3)
	exec 3<&-
	printf '%s %s\n' "$(printf '%s\n' "$resp" | sed -n '1s/^[^ ]* \([0-9]*\).*/\1/p')" \
	    "$(printf '%s\n' "$resp" | sed -n 's/^Content-Type: //p' | head -n 1)"
	printf '%s\n' "$resp" | sed '1,/^$/d'
}

# txt NAME: the TXT explanation of NAME, one string per line.
txt() {
	ask +short +tcp "_explain.$1" TXT | sed -e 's/^"//' -e 's/"$//' -e 's/" "//g' -e 's/\\"/"/g'
}

# The causes, as "NAME|TEXT": in local mode and behind the fake API alike.
CAUSES="web-0.nginx.$SVC.|(resolves)
web-0.nginx.$SVC.|endpoint hostname web-0 <- Pod default/web-0
nginx.defualt.svc.cluster.local.|namespace defualt does not exist; did you mean default?
ngnix.$SVC.|service default/ngnix does not exist; did you mean nginx?
web-0.api.shop.svc.cluster.local.|service shop/api is not headless (it has a ClusterIP)
cache-0.cache.$SVC.|pod default/cache-0 (endpoint cache-0) is not Ready: its Ready condition is False since 2024-05-01T10:00:00Z
cache-0.cache.$SVC.|service default/cache does not publish not-ready addresses (spec.publishNotReadyAddresses is false)
stray.nginx.$SVC.|pod default/stray has hostname stray but subdomain ngnix: a pod is named <hostname>.<service> only when its spec.subdomain is the service's name (nginx)
plain.nginx.$SVC.|pod default/plain has no spec.hostname: its endpoint is named 10-244-50-3, not plain
loner.nginx.$SVC.|pod default/loner is not an endpoint of service default/nginx: its labels (app=other) do not match the selector app=nginx
web-2.nginx.$SVC.|PetSet default/web has 2 replicas (ordinals 0 to 1): web-2 is not one of its pets
db-1.db.$SVC.|(petset-waiting)
db-1.db.$SVC.|PetSet default/db: waiting for db-0 to be Running and Ready
db-0.db.$SVC.|pod default/db-0 (endpoint db-0) is not Ready
nope.nginx.$SVC.|service default/nginx has no endpoint named nope
_http._tcp.nginx.$SVC.|service default/nginx has no port named http with protocol tcp
empty.$SVC.|no pod in namespace default matches its selector app=none"

# each_cause WHAT FETCH: checks every cause with FETCH NAME (txt, or an HTTP getter).
each_cause() {
	local what=$1 fetch=$2 name text
	while IFS='|' read -r name text; do
		check_has "$what: $name" "$text" "$($fetch "$name")"
	done <<<"$CAUSES"
}

### The embedded default (zones/): the command line, then TXT from a daemon.
ZONES=$TOPSRC/zones/Corefile
out=$(cli "$ZONES" web-0.nginx.default.svc.cluster.local)
check_has "zones CLI: a pet resolves" "A 10.244.0.4 <- EndpointSlice default/nginx-" "$out"
check_has "zones CLI: traced to its pod" "endpoint hostname web-0 <- Pod default/web-0" "$out"
check_has "zones CLI: exit 0 when it resolves" "exit 0" "$out"
out=$(cli "$ZONES" web-2.nginx.default.svc.cluster.local)
check_has "zones CLI: petset replicas" "PetSet default/web has 2 replicas (ordinals 0 to 1): web-2 is not one of its pets" "$out"
check_has "zones CLI: exit 1 when it does not" "exit 1" "$out"
out=$(cli "$ZONES" web-0.nginx.default.svc.cluster.local bogus)
check_has "zones CLI: a bad type is refused" "-explain: unknown type 'bogus'" "$out"
check_has "zones CLI: as a usage error" "exit 2" "$out"
PORT=$(free_port)
petdns_start "$(sed -e "s|manifests cluster|manifests $TOPSRC/zones/cluster\n        explain|" \
    -e "s|:1053|:$PORT|g" "$ZONES")"
wait_answer "zones: both pets up" "10.244.0.4 10.244.0.5" nginx.default.svc.cluster.local
while IFS='|' read -r name text; do
	check_has "zones TXT: $name" "$text" "$(txt "$name")"
done <<ZCAUSES
10-244-9-9.api.shop.svc.cluster.local.|pod shop/api-7d9f8-klmno (endpoint 10-244-9-9) is not Ready: its Ready condition is False
10-244-9-9.api.shop.svc.cluster.local.|service shop/api does not publish not-ready addresses
nginx.defualt.svc.cluster.local.|namespace defualt does not exist; did you mean default?
ngnix.default.svc.cluster.local.|service default/ngnix does not exist; did you mean nginx?
web-0.api.shop.svc.cluster.local.|service shop/api is not headless (it has a ClusterIP)
web-9.nginx.default.svc.cluster.local.|PetSet default/web has 2 replicas
www.default.svc.cluster.local.|CNAME nginx.default.svc.cluster.local. <- Service default/www spec.externalName
ZCAUSES
check_has "zones: a pod's search list" "web-0.nginx.default.svc.cluster.local. A: NOERROR, 1 record (resolves)" \
    "$(ask +short +search +ndots=5 +domain=default.svc.cluster.local _explain.web-0.nginx TXT)"
petdns_stop || :
# What the resolver makes of short names, seen from namespace default.
out=$(cli "$ZONES" web-0.nginx)
check_has "zones CLI: search path" "1. web-0.nginx.default.svc.cluster.local. A: answers" "$out"
out=$(cli "$ZONES" api)
check_has "zones CLI: search path, other namespace" "it resolves from pods in namespace shop" "$out"
# As zones/README.md suggests: three pets, pet 1 kept unready.
zcopy=$CONFDIR/zones
mkdir "$zcopy"
cp "$TOPSRC"/zones/cluster/*.yaml "$zcopy/"
sed -i -e 's/^  replicas: 2/  replicas: 3/' \
    -e 's/^  name: web$/  name: web\n  annotations: {petdns.io\/unready: "1"}/' "$zcopy/10-web.yaml"
zconf=$(conf "$(sed "s|manifests cluster|manifests $zcopy|" "$ZONES")")
out=$(cli "$zconf" web-2.nginx.default.svc.cluster.local)
check_has "zones CLI: petset waiting for a lower pet" "PetSet default/web: waiting for web-1 to be Running and Ready" "$out"
out=$(cli "$zconf" web-1.nginx.default.svc.cluster.local)
check_has "zones CLI: the unready pet" "pod default/web-1 (endpoint web-1) is not Ready" "$out"
# The Corefile's filters, over the same manifests.
ZC=$TOPSRC/zones/cluster
out=$(cli "$(conf "$(corefile "$ZC")")" 10-244-0-4.default.pod.cluster.local)
check_has "zones CLI: pods disabled" "pod records are disabled: the kubernetes block has \`pods disabled\` (the default)" "$out"
out=$(cli "$(conf "$(corefile "$ZC" "namespaces shop")")" nginx.default.svc.cluster.local)
check_has "zones CLI: namespaces" "namespace default is not served: the Corefile's \`namespaces shop\`" "$out"
out=$(cli "$(conf "$(corefile "$ZC" "namespace_labels team=blue")")" nginx.default.svc.cluster.local)
check_has "zones CLI: namespace_labels" "namespace default is not served: its labels (none) do not match the Corefile's \`namespace_labels team=blue\`" "$out"
out=$(cli "$(conf "$(corefile "$ZC" "labels tier=db")")" nginx.default.svc.cluster.local)
check_has "zones CLI: labels" "service default/nginx is filtered out: its labels (app=nginx) do not match the Corefile's \`labels tier=db\`" "$out"

### Local mode on tests/data/explain: a daemon with the explain option.
PORT=$(free_port)
HEALTH=$(free_port)
petdns_start "$(corefile "$FIX" "pods insecure" "petsets 200ms" explain)"
# db-0 never turns ready: wait until the controller waits on it, and until
# the simulated kubelet made web-0 ready (both pets are created at once).
end=$(($(date +%s) + 10))
until { txt "db-1.db.$SVC." | grep -qF "waiting for db-0" &&
	txt "web-0.nginx.$SVC." | grep -qF "(resolves)"; } || [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.1
done
each_cause "local TXT" txt
out=$(ask +short "_explain.web-2.nginx.$SVC." TXT)
check_has "local TXT: the summary first" '"web-2.nginx.default.svc.cluster.local. A: NXDOMAIN (petset-replicas)"' "$(printf '%s\n' "$out" | head -n 1)"
check_match "local TXT: TTL 0" "[[:space:]]0[[:space:]]+IN[[:space:]]+TXT" "$(ask "_explain.web-2.nginx.$SVC." TXT +noall +answer)"
check_match "local TXT: authoritative" "flags:.* aa" "$(ask "_explain.web-2.nginx.$SVC." TXT)"
# From a pod: its resolver completes the short name with its search list.
check_has "local TXT: through a pod's search list" "web-0.nginx.default.svc.cluster.local. A: NOERROR, 1 record (resolves)" \
    "$(ask +short +search +ndots=5 +domain=default.svc.cluster.local _explain.web-0.nginx TXT)"
out=$(http "/explain?name=web-2.nginx.$SVC.")
check_has "local HTTP: text" "200 text/plain" "$out"
check_has "local HTTP: the cause" "PetSet default/web has 2 replicas" "$out"
out=$(http "/explain?name=web-0.nginx" "application/json")
check_has "local HTTP: JSON by Accept" "200 application/json" "$out"
check "local HTTP: JSON fields" "search-path NOERROR True web-0.nginx.default.svc.cluster.local. A" \
    "$(printf '%s\n' "$out" | tail -n +2 | python3 -c '
import json, sys
j = json.load(sys.stdin)
r = j["records"][0]["rr"].split(" 10.")[0]
print(j["cause"], j["rcode"], j["resolves"], r)')"
out=$(http "/explain?name=db-1.db.$SVC.&format=json")
check_has "local HTTP: JSON by format" '"cause":"petset-waiting"' "$out"
out=$(http "/explain?name=web-0.nginx.$SVC.&type=AAAA&format=text" "application/json")
check_has "local HTTP: format=text wins" "the name has no AAAA records; it has A" "$out"
check_has "local HTTP: no name is a 400" "400 text/plain" "$(http /explain)"
check_has "local HTTP: a bad type is a 400" "explain: unknown type 'bogus'" "$(http "/explain?name=x&type=bogus")"
out=$(cli "$(conf "$(corefile "$FIX" "pods insecure" "petsets 200ms")")" "stray.nginx.$SVC.")
check_has "local CLI: subdomain" "(subdomain-mismatch)" "$out"
status=0
petdns_stop || status=$?
check "local: clean exit" "0" "$status"

# Without the option: TXT _explain names are names like any other, and /explain is not served.
petdns_start "$(corefile "$FIX" "pods insecure")"
check_has "no option: TXT is NXDOMAIN" "status: NXDOMAIN" "$(ask "_explain.web-2.nginx.$SVC." TXT)"
check "no option: no TXT answer" "" "$(ask +short "_explain.web-2.nginx.$SVC." TXT)"
check_has "no option: /explain is 404" "404" "$(http "/explain?name=web-2.nginx.$SVC.")"
check_has "no option: /health still answers" "200" "$(http /health)"
petdns_stop || :

### The same objects behind the fake API server.
fakeapi_start --state "$FIX/cluster.json" \
    --simulate kubelet,graceful-deletion,endpointslices,petsets --kubelet-delay 0.2
export PETDNS_WATCH_BACKOFF_MS=200 PETDNS_WATCH_BACKOFF_MAX_MS=1000
API=http://127.0.0.1:$FAKEAPI_PORT
pods() { ctl GET "/objects?kind=Pod&namespace=default" | python3 -c '
import json, sys
print(" ".join(sorted(o["metadata"]["name"] for o in json.load(sys.stdin)["items"])))'; }
# -explain only looks: with no daemon yet, nothing makes the pets.
out=$(cli "$(conf "$(corefile "$API" "pods insecure" petsets)")" "web-0.nginx.$SVC.")
check_has "api CLI: the pet is not there yet" "pod default/web-0 does not exist yet" "$out"
check_has "api CLI: and the controller would make it" "PetSet default/web: creating web-0" "$out"
check "api CLI: -explain wrote nothing to the cluster" "cache-0 loner plain stray" "$(pods)"
PORT=$(free_port)
HEALTH=$(free_port)
petdns_start "$(corefile "$API" "pods insecure" petsets explain)"
ctl POST /wait '{"ready":[{"name":"web-0"},{"name":"web-1"}],"exists":[{"name":"db-0"}],"timeout":15}' >/dev/null ||
    lib_die "the fake cluster did not make the pets"
apihttp() { http "/explain?name=$1" | tail -n +2; }
end=$(($(date +%s) + 10))
until apihttp "db-1.db.$SVC." | grep -qF "waiting for db-0" || [ "$(date +%s)" -ge "$end" ]; do sleep 0.1; done
each_cause "api HTTP" apihttp
check_has "api HTTP: the pet's Ready condition and since when" "pod default/db-0 (endpoint db-0) is not Ready: its Ready condition is False since 20" "$(apihttp "db-0.db.$SVC.")"
check_has "api TXT" "PetSet default/web has 2 replicas" "$(txt "web-2.nginx.$SVC.")"
check_has "api JSON" '"cause":"subdomain-mismatch"' "$(http "/explain?name=stray.nginx.$SVC.&format=json")"
out=$(cli "$(conf "$(corefile "$API" "pods insecure" petsets)")" "db-1.db.$SVC.")
check_has "api CLI: petset waiting" "PetSet default/db: waiting for db-0 to be Running and Ready" "$out"
out=$(cli "$(conf "$(corefile "$API" "pods insecure" petsets)")" web-0.nginx)
check_has "api CLI: search path" "1. web-0.nginx.default.svc.cluster.local. A: answers" "$out"
out=$(cli "$(conf "$(corefile "$API")")" "10-244-50-1.default.pod.cluster.local.")
check_has "api CLI: pods disabled" "pod records are disabled" "$out"
out=$(cli "$(conf "$(corefile "$API" "namespaces shop")")" "nginx.$SVC.")
check_has "api CLI: namespaces" "namespace default is not served: the Corefile's \`namespaces shop\`" "$out"
out=$(cli "$(conf "$(corefile "$API" "namespace_labels team=shop")")" "nginx.$SVC.")
check_has "api CLI: namespace_labels" "its labels (none) do not match the Corefile's \`namespace_labels team=shop\`" "$out"
out=$(cli "$(conf "$(corefile "$API" "labels app=api")")" "nginx.$SVC.")
check_has "api CLI: labels: the server never sent it" "service default/nginx does not exist" "$out"
check_has "api CLI: labels named as the reason" "petdns sees only the services that match the Corefile's \`labels app=api\`" "$out"
status=0
petdns_stop || status=$?
check "api: clean exit" "0" "$status"
finish
