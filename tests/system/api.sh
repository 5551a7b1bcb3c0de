#!/usr/bin/env bash
# api.sh -- the watcher against the fake API server: sync, live changes, and every failure it must survive.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig python3 openssl

certs=$(mktemp -d "${TMPDIR:-/tmp}/petdns-certs.XXXXXX")
LIB_DIRS+=("$certs")
python3 "$TOPSRC/tests/fakeapi/fakeapi.py" --make-certs "$certs" >/dev/null ||
    lib_die "cannot make certificates"
echo tok-1 >"$certs/token"
fakeapi_start --state "$TESTDATA/fakeapi/cluster.json" --token tok-1 \
    --tls-cert "$certs/server.crt" --tls-key "$certs/server.key"
cat >"$certs/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "https://127.0.0.1:$FAKEAPI_PORT", certificate-authority: ca.crt}
users:
- name: petdns
  user: {tokenFile: token}
contexts:
- name: fake
  context: {cluster: fake, user: petdns}
current-context: fake
KC

# Short timers so that every failure is recovered from within seconds.
export PETDNS_WATCH_PAGE_LIMIT=4 PETDNS_WATCH_TIMEOUT=4 PETDNS_WATCH_IDLE_MARGIN=2
export PETDNS_WATCH_BACKOFF_MS=200 PETDNS_WATCH_BACKOFF_MAX_MS=1000
export PETDNS_WATCH_MAX_LINE=100000
PORT=$(free_port)
petdns_start "cluster.local:$PORT in-addr.arpa:$PORT {
    kubernetes cluster.local in-addr.arpa {
        kubeconfig $certs/kubeconfig
    }
}"

# svc NAME IP / slice NAME SERVICE READY IP: objects for the control API.
svc() {
	printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"%s","namespace":"default"},"spec":{"clusterIP":"%s","ports":[{"name":"http","port":80,"protocol":"TCP"}]}}' "$1" "$2"
}
slice() {
	printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"%s","namespace":"default","labels":{"kubernetes.io/service-name":"%s"}},"addressType":"IPv4","ports":[{"name":"http","port":8080,"protocol":"TCP"}],"endpoints":[{"addresses":["%s"],"conditions":{"ready":%s}}]}' "$1" "$2" "$4" "$3"
}
requests() { ctl GET "/requests${1:+?since=$1}"; }

# Initial sync over TLS with a bearer token, paged.
wait_answer "synced: pet" "10.244.1.10" web-0.nginx.default.svc.cluster.local
check "synced: ClusterIP" "10.96.0.50" "$(ask +short api.default.svc.cluster.local)"
check "synced: PTR" "web-1.nginx.default.svc.cluster.local." "$(ask +short -x 10.244.1.11)"
log=$(requests)
check_match "LIST paged with limit" '"raw_query": "limit=4"' "$(printf '%s' "$log" | python3 -m json.tool)"
check_match "LIST followed its continue token" '"raw_query": "limit=4&continue=' "$(printf '%s' "$log" | python3 -m json.tool)"
check_match "WATCH asks for bookmarks from the list's version" 'watch=1&allowWatchBookmarks=true&resourceVersion=[0-9]+&timeoutSeconds=' "$(printf '%s' "$log" | python3 -m json.tool)"
check_match "the token was sent" '"token": "tok-1"' "$(printf '%s' "$log" | python3 -m json.tool)"
check_match "ready logged" "all reflectors synced" "$(cat "$PETDNS_LOG")"

# Live changes: add, make unready, delete.
ctl POST /objects "[$(svc web2 10.96.7.1), $(slice web2-a web2 true 10.244.7.1)]" >/dev/null
wait_answer "added service resolves" "10.96.7.1" web2.default.svc.cluster.local
wait_answer "its endpoint resolves" "10.244.7.1" 10-244-7-1.web2.default.svc.cluster.local
ctl POST /objects "$(slice web2-a web2 false 10.244.7.1)" >/dev/null
wait_answer "endpoint gone when not ready" "" 10-244-7-1.web2.default.svc.cluster.local
ctl DELETE /objects/v1/Service/default/web2 >/dev/null
wait_answer "deleted service gone" "" web2.default.svc.cluster.local
check_match "deleted service is NXDOMAIN" "status: NXDOMAIN" "$(ask web2.default.svc.cluster.local)"

# A malformed line aborts the stream; the watch resumes from the last good version.
ctl POST /faults '{"malformed":true,"verb":"watch","resource":"services","times":3}' >/dev/null
ctl POST /drop-watches >/dev/null
ctl POST /objects "$(svc after-malformed 10.96.7.2)" >/dev/null
wait_answer "change after a malformed line" "10.96.7.2" after-malformed.default.svc.cluster.local
end=$(($(date +%s) + 5))
until grep -q "watch services: malformed event" "$PETDNS_LOG" || [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.1
done
check_match "malformed line logged" "watch services: malformed event" "$(cat "$PETDNS_LOG")"

# A disconnect in the middle of a line: resume, nothing lost.
ctl POST /faults '{"disconnect":"mid-line","verb":"watch","resource":"services"}' >/dev/null
ctl POST /drop-watches >/dev/null
ctl POST /objects "$(svc after-cut 10.96.7.3)" >/dev/null
wait_answer "change after a mid-line disconnect" "10.96.7.3" after-cut.default.svc.cluster.local

# An event larger than the line cap is skipped; the stream goes on.
ctl POST /faults '{"huge":300000,"verb":"watch","resource":"services"}' >/dev/null
ctl POST /drop-watches >/dev/null
ctl POST /wait '{"watches":{"services":1},"timeout":10}' >/dev/null
ctl POST /objects "$(svc after-huge 10.96.7.4)" >/dev/null
wait_answer "change after a huge event" "10.96.7.4" after-huge.default.svc.cluster.local
# The fake sends the huge line after the first event: wait for it (bounded).
end=$(($(date +%s) + 10))
until grep -q "event over 100000 bytes skipped" "$PETDNS_LOG" || [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.1
done
check_match "huge event logged" "event over 100000 bytes skipped" "$(cat "$PETDNS_LOG")"

# 410: the watch's version is compacted away while a service is deleted; the
# relist replaces the store, so the deletion it never saw is applied too.
lists_before=$(grep -c "listed [0-9]* services" "$PETDNS_LOG")
ctl POST /faults '{"disconnect":"now","verb":"watch","resource":"services","times":-1}' >/dev/null
ctl POST /drop-watches >/dev/null
ctl DELETE /objects/v1/Service/default/after-cut >/dev/null
ctl POST /compact '{}' >/dev/null
ctl DELETE /faults >/dev/null
wait_answer "deletion missed during the outage applied by the relist" "" after-cut.default.svc.cluster.local
# Usually the watch's 410 ("too old resource version"); when the reflector
# relisted on its own after the cuts, that list already had the deletion.
check "one relist at least" "yes" "$([ "$(grep -c "listed [0-9]* services" "$PETDNS_LOG")" -gt "$lists_before" ] && echo yes)"
check "other services kept" "10.96.7.4" "$(ask +short after-huge.default.svc.cluster.local)"

# 500 and 429 with Retry-After on the relist: back off, then recover. The
# change comes first, so that the compaction is past the version of the
# services watch even when it sits in a backoff (no stream to expire).
ctl POST /faults '[{"status":500,"verb":"list","resource":"services"},{"status":429,"retry_after":1,"verb":"list","resource":"services"}]' >/dev/null
ctl POST /objects "$(svc after-errors 10.96.7.5)" >/dev/null
ctl POST /compact '{"expire_watches":true}' >/dev/null
wait_answer "change after 500 and 429" "10.96.7.5" after-errors.default.svc.cluster.local
end=$(($(date +%s) + $(lib_secs 15)))
until grep -q "list services: HTTP 429" "$PETDNS_LOG" || [ "$(date +%s)" -ge "$end" ]; do sleep 0.1; done
check_match "500 logged with a retry" "list services: HTTP 500; retrying in" "$(cat "$PETDNS_LOG")"
check_match "429 honoured Retry-After" "list services: HTTP 429; retrying in 1\.[0-9]s" "$(cat "$PETDNS_LOG")"

# Token rotation: the server now wants tok-2; the 401 makes petdns re-read its file.
since=$(requests | python3 -c 'import json,sys; print(json.load(sys.stdin)["last"])')
# The server rotates first: petdns must meet a 401 before the file changes.
ctl POST /token '{"token":"tok-2"}' >/dev/null
ctl POST /drop-watches >/dev/null
end=$(($(date +%s) + $(lib_secs 10)))
until requests "$since" | python3 -m json.tool | grep -q '"status": 401' || [ "$(date +%s)" -ge "$end" ]; do sleep 0.1; done
echo tok-2 >"$certs/token"
ctl POST /objects "$(svc after-rotation 10.96.7.6)" >/dev/null
wait_answer "change after token rotation" "10.96.7.6" after-rotation.default.svc.cluster.local
log=$(requests "$since" | python3 -m json.tool)
check_match "a 401 was seen" '"status": 401' "$log"
check_match "then the new token was used" '"token": "tok-2"' "$log"

# A watch that stalls (accepted, never answered) is declared dead and replaced.
ctl POST /faults '{"stall":true,"verb":"watch","resource":"services"}' >/dev/null
ctl POST /drop-watches >/dev/null
ctl POST /objects "$(svc after-stall 10.96.7.7)" >/dev/null
end=$(($(date +%s) + 25))
until [ "$(ask +short after-stall.default.svc.cluster.local)" = 10.96.7.7 ] || [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.2
done
check "change after a stalled watch" "10.96.7.7" "$(ask +short after-stall.default.svc.cluster.local)"

# endpoint_pod_names needs the pods' names that slices carry (targetRef),
# which are dropped for memory when nothing reads them.
podnames=$(mktemp "$certs/Corefile.XXXXXX")
printf 'cluster.local:%s {\n    kubernetes cluster.local {\n        kubeconfig %s\n        %s\n    }\n}\n' \
    "$(free_port)" "$certs/kubeconfig" endpoint_pod_names >"$podnames"
check_match "endpoint_pod_names: named by its pod" "^stray\.nginx\.default\.svc\.cluster\.local\.[[:space:]].*10\.244\.1\.12" \
    "$("$PETDNS" -conf "$podnames" -quiet -zone-dump 2>&1)"

# The API goes away: the last zone keeps serving.
kill "$FAKEAPI_PID"
wait "$FAKEAPI_PID" 2>/dev/null
check "API down: still serving" "10.244.1.10" "$(ask +short web-0.nginx.default.svc.cluster.local)"
check "API down: still serving recent changes" "10.96.7.7" "$(ask +short after-stall.default.svc.cluster.local)"
status=0
petdns_stop || status=$?
check "clean exit (no leaks under sanitizers)" "0" "$status"
finish
