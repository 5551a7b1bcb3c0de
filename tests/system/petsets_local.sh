#!/usr/bin/env bash
# petsets_local.sh -- the ordinal controller on the embedded default: ordered pets, claims, scaling, waits.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig

dir=$(mktemp -d "${TMPDIR:-/tmp}/petdns-petsets.XXXXXX")
LIB_DIRS+=("$dir")
cp "$TOPSRC/zones/cluster/"*.yaml "$dir/"
PORT=$(free_port)
petdns_start "cluster.local:$PORT in-addr.arpa:$PORT {
    kubernetes cluster.local in-addr.arpa {
        manifests $dir
        petsets 200ms
    }
}"
# order PATTERN...: the log lines matching each pattern, in log order, as one line.
order() {
	local re
	re=$(IFS='|'; echo "$*")
	grep -oE "$re" "$PETDNS_LOG" | tr '\n' ' ' | sed 's/ $//'
}

# DESIGN.md section 7: claim and pet 0, then (pet 0 ready) claim and pet 1.
wait_answer "web-1 resolves" "10.244.0.5" web-1.nginx.default.svc.cluster.local
check "web-0 resolves" "10.244.0.4" "$(ask +short web-0.nginx.default.svc.cluster.local)"
check "creations in order, claims first" \
    "creating claim www-web-0 creating web-0 waiting for web-0 creating claim www-web-1 creating web-1 waiting for web-1" \
    "$(order 'creating claim www-web-[0-9]' 'creating web-[0-9]' 'waiting for web-[0-9]')"
check "the service has both pets" "10.244.0.4 10.244.0.5" "$(ask +short nginx.default.svc.cluster.local | sort | tr '\n' ' ' | sed 's/ $//')"
check "SRV names both pets" "2" "$(ask +short _web._tcp.nginx.default.svc.cluster.local SRV | wc -l)"
check "PTR of a pet" "web-1.nginx.default.svc.cluster.local." "$(ask +short -x 10.244.0.5)"

# Scale up to 3: web-2 and its claim appear; then down to 1: web-2 goes first, then web-1.
sed -i 's/replicas: 2/replicas: 3/' "$dir/10-web.yaml"
wait_answer "scaled up: web-2 resolves" "10.244.0.6" web-2.nginx.default.svc.cluster.local
check_match "web-2's claim created before it" "creating claim www-web-2 for web-2" "$(cat "$PETDNS_LOG")"
sed -i 's/replicas: 3/replicas: 1/' "$dir/10-web.yaml"
wait_answer "scaled down: only web-0 left" "10.244.0.4" nginx.default.svc.cluster.local
check "deleted highest first, one at a time" "deleting web-2 deleting web-1" \
    "$(order 'deleting web-[0-9]')"
check_match "web-1 is NXDOMAIN" "status: NXDOMAIN" "$(ask web-1.nginx.default.svc.cluster.local)"

# A pet kept not Ready (the local testing aid): the set waits and makes no more pets.
mark=$(wc -l <"$PETDNS_LOG")
sed -i 's/replicas: 1/replicas: 3/; s/^  name: web$/  name: web\n  annotations:\n    petdns.io\/unready: "1"/' "$dir/10-web.yaml"
end=$(($(date +%s) + 10))
until tail -n +"$mark" "$PETDNS_LOG" | grep -q "waiting for web-1 to be Running and Ready" || [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.1
done
check_match "waits for the unready pet" "creating web-1.*waiting for web-1 to be Running and Ready" "$(tail -n +"$mark" "$PETDNS_LOG" | tr '\n' ' ')"
check "its DNS name is not published" "" "$(ask +short web-1.nginx.default.svc.cluster.local)"
check "web-2 not created while web-1 is unready" "" "$(ask +short web-2.nginx.default.svc.cluster.local)"

status=0
petdns_stop || status=$?
check "clean exit" "0" "$status"
finish
