#!/usr/bin/env bash
# manifests.sh -- local mode: edits picked up while running, broken documents skipped with their place.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig

dir=$(mktemp -d "${TMPDIR:-/tmp}/petdns-manifests.XXXXXX")
LIB_DIRS+=("$dir")
cp "$TESTDATA/local/"*.yaml "$dir/"
# Document 2 of this file is broken (a port that is not a number); 1 and 3 must load.
cat >"$dir/40-mixed.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: good-one, namespace: shop}
spec: {clusterIP: 10.96.50.1, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: broken, namespace: shop}
spec: {clusterIP: 10.96.50.2, ports: [{name: http, port: eighty}]}
---
apiVersion: v1
kind: Service
metadata: {name: good-two, namespace: shop}
spec: {clusterIP: 10.96.50.3, ports: [{name: http, port: 80}]}
YAML
printf 'this: is: not: yaml: [\n' >"$dir/50-garbage.yaml"

PORT=$(free_port)
petdns_start "cluster.local:$PORT {
    kubernetes {
        manifests $dir
    }
}"

check "document before the broken one" "10.96.50.1" "$(ask +short good-one.shop.svc.cluster.local)"
check "document after the broken one" "10.96.50.3" "$(ask +short good-two.shop.svc.cluster.local)"
check_match "broken document is not served" "status: NXDOMAIN" "$(ask broken.shop.svc.cluster.local)"
check_match "broken document logged with file and number" "40-mixed.yaml: document 2: .*broken" "$(cat "$PETDNS_LOG")"
check_match "unparsable file logged with its name" "50-garbage.yaml" "$(cat "$PETDNS_LOG")"
check "rest of the cluster served" "10.244.0.2" "$(ask +short web-0.nginx.default.svc.cluster.local)"

# wait_for DESCRIPTION EXPECTED DIG_ARGS...: polls (bounded) until the answer matches.
wait_for() {
	local what=$1 want=$2 got end
	shift 2
	end=$(($(date +%s%N) / 1000000 + 2500))
	while :; do
		got=$(ask +short "$@" | sort | tr '\n' ' ')
		[ "$got" = "$want" ] && break
		[ $(($(date +%s%N) / 1000000)) -lt "$end" ] || break
		sleep 0.05
	done
	check "$what (within 2.5 s)" "$want" "$got"
}

# A new pet appears: its pod, its name, the headless service, the SRV.
cat >"$dir/60-web-2.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web-2, labels: {app: nginx}}
spec: {hostname: web-2, subdomain: nginx, containers: [{name: nginx, image: nginx}]}
YAML
wait_for "added pet resolves" "10.244.0.6 " web-2.nginx.default.svc.cluster.local
check "headless service lists three pets" "10.244.0.2
10.244.0.3
10.244.0.6" "$(ask +short nginx.default.svc.cluster.local | sort)"
check "SRV lists three pets" "3" "$(ask +short _web._tcp.nginx.default.svc.cluster.local SRV | wc -l)"

# Fixing the broken document brings it in; removing a file removes its objects.
sed -i 's/port: eighty/port: 8080/' "$dir/40-mixed.yaml"
wait_for "fixed document served" "10.96.50.2 " broken.shop.svc.cluster.local
rm "$dir/60-web-2.yaml"
wait_for "removed pet gone from the service" "10.244.0.2 10.244.0.3 " nginx.default.svc.cluster.local
check_match "removed pet is NXDOMAIN" "status: NXDOMAIN" "$(ask web-2.nginx.default.svc.cluster.local)"
check "allocations stay stable across reloads" "10.244.0.2" "$(ask +short web-0.nginx.default.svc.cluster.local)"
finish
