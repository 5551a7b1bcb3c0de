#!/usr/bin/env bash
# kubeadm.sh -- the kubeadm default Corefile, unchanged, in a (fake) cluster: names, probes, metrics, lameduck.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig python3 openssl

certs=$(mktemp -d "${TMPDIR:-/tmp}/petdns-kubeadm.XXXXXX")
LIB_DIRS+=("$certs")
python3 "$TOPSRC/tests/fakeapi/fakeapi.py" --make-certs "$certs" >/dev/null ||
    lib_die "cannot make certificates"
fakeapi_start --state "$TESTDATA/fakeapi/cluster.json" --token sa-token \
    --tls-cert "$certs/server.crt" --tls-key "$certs/server.key"
# What the kubelet mounts for a pod's service account.
mkdir -p "$certs/sa"
echo sa-token >"$certs/sa/token"
cp "$certs/ca.crt" "$certs/sa/ca.crt"
echo kube-system >"$certs/sa/namespace"
export KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$FAKEAPI_PORT
export PETDNS_SERVICEACCOUNT_DIR=$certs/sa

# The upstream behind `forward . /etc/resolv.conf`: resolv.conf has no ports,
# so it listens on port 53 of a spare loopback address; the file's path is the
# one change made to the kubeadm Corefile. 127.53.0.2 has no server: the
# forward fails over from it.
UPADDR=127.53.0.1
printf 'nameserver 127.53.0.2\nnameserver %s\n' "$UPADDR" >"$certs/resolv.conf"
printf 'upstream.test:53 {\n    bind %s\n    log\n    kubernetes {\n        manifests %s\n    }\n}\n' \
    "$UPADDR" "$TESTDATA/local" >"$certs/upstream.conf"
"$PETDNS" -conf "$certs/upstream.conf" >"$certs/upstream.log" 2>&1 &
LIB_PIDS+=($!)
LIB_LOGS+=("$certs/upstream.log")
end=$(($(date +%s) + $(lib_secs 10)))
until dig @$UPADDR +time=1 +tries=1 dns-version.upstream.test TXT >/dev/null 2>&1; do
	[ "$(date +%s)" -lt "$end" ] || lib_die "the upstream did not start (port 53 on $UPADDR needs root)"
	sleep 0.1
done
up_queries() { grep -c "\"A IN $1\. " "$certs/upstream.log"; }

# The services LIST answers after 5 s: /ready must say 503 until then.
ctl POST /faults '{"path": "/api/v1/services", "verb": "list", "delay": 5}' >/dev/null
PORT=$(free_port)
petdns_start "$(sed "s|/etc/resolv.conf|$certs/resolv.conf|" "$TESTDATA/corefile/kubeadm.Corefile")" -dns.port "$PORT"
check_match "/ready: 503 before the sync" "^503 " "$(http_get http://127.0.0.1:8181/ready)"
check "/health meanwhile" "200 OK" "$(http_get http://127.0.0.1:8080/health)"
end=$(($(date +%s) + $(lib_secs 10)))
until [ "$(http_get http://127.0.0.1:8181/ready | cut -d' ' -f1)" = 200 ] || [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.1
done
check "/ready" "200 OK" "$(http_get http://127.0.0.1:8181/ready)"
check "/health" "200 OK" "$(http_get http://127.0.0.1:8080/health)"

# Everything else is forwarded (past the dead upstream), and cached.
check "forwarded name" "10.96.0.11" "$(ask +short api.shop.svc.upstream.test)"
check "forwarded NXDOMAIN" "NXDOMAIN" "$(ask nosuch.shop.svc.upstream.test | grep -o NXDOMAIN | head -1)"
hits() {
	http_get http://127.0.0.1:9153/metrics | sed 's/\\n/\n/g' |
	    sed -nE "s/^coredns_cache_hits_total\{server=\"dns:\/\/:$PORT\",type=\"success\",view=\"\",zones=\"\.\"\} ([0-9]+)$/\1/p"
}
before=$(hits)
check "cached: same answer" "10.96.0.11" "$(ask +short api.shop.svc.upstream.test)"
check "cached: the upstream asked once" "1" "$(up_queries api.shop.svc.upstream.test)"
check "cache hits counter moved" "$((${before:-0} + 1))" "$(hits)"
metrics=$(http_get http://127.0.0.1:9153/metrics | sed 's/\\n/\n/g')
check_match "forward requests to the live upstream" "coredns_forward_requests_total\{to=\"$UPADDR:53\"\} [1-9]" "$metrics"
check_match "forward responses by rcode" "coredns_forward_responses_total\{rcode=\"NXDOMAIN\",to=\"$UPADDR:53\"\} 1" "$metrics"
check_match "a forwarded answer in the response metrics" \
    "coredns_dns_responses_total\{plugin=\"forward\",rcode=\"NOERROR\",server=\"dns://:$PORT\",view=\"\",zone=\".\"\} [1-9]" "$metrics"
check "pet from the cluster" "10.244.1.10" "$(ask +short web-0.nginx.default.svc.cluster.local)"
# ttl 30, counting down once cached.
check_match "ttl 30" "web-0\.nginx\.default\.svc\.cluster\.local\.[[:space:]]+(30|29)[[:space:]]" \
    "$(ask +noall +answer web-0.nginx.default.svc.cluster.local)"
check "reverse" "web-0.nginx.default.svc.cluster.local." "$(ask +short -x 10.244.1.10)"
ask api.default.svc.cluster.local AAAA >/dev/null

metrics=$(http_get http://127.0.0.1:9153/metrics | sed 's/\\n/\n/g')
check_match "metrics served" "^200 " "$metrics"
check_match "requests counted with CoreDNS's labels" \
    "coredns_dns_requests_total\{family=\"1\",proto=\"udp\",server=\"dns://:$PORT\",type=\"A\",view=\"\",zone=\".\"\} [1-9]" "$metrics"
check_match "responses by rcode and plugin" \
    "coredns_dns_responses_total\{plugin=\"kubernetes\",rcode=\"NOERROR\",server=\"dns://:$PORT\",view=\"\",zone=\".\"\} [1-9]" "$metrics"
check_match "duration histogram" "coredns_dns_request_duration_seconds_bucket\{server=\"dns://:$PORT\",view=\"\",zone=\".\",le=\"0.00025\"\} [0-9]" "$metrics"
check_match "build info" "coredns_build_info\{.*\} 1" "$metrics"
check_match "process metrics" "process_resident_memory_bytes [0-9]" "$metrics"
check_match "cache entries" "coredns_cache_entries\{server=\"dns://:$PORT\",type=\"success\",view=\"\",zones=\".\"\} [1-9]" "$metrics"
check_match "cache requests" "coredns_cache_requests_total\{server=\"dns://:$PORT\",view=\"\",zones=\".\"\} [1-9]" "$metrics"

# The endpoints controller stamps its change: the programming latency is observed.
trigger=$(python3 -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=0.25)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))')
ctl POST /objects '{"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "nginx-7xkqp", "namespace": "default",
    "labels": {"kubernetes.io/service-name": "nginx"},
    "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "'"$trigger"'"}},
  "addressType": "IPv4", "ports": [{"name": "web", "protocol": "TCP", "port": 80}],
  "endpoints": [{"addresses": ["10.244.1.10"], "hostname": "web-0", "conditions": {"ready": true},
    "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-0"}}]}' >/dev/null
wait_answer "the change served" "" +short web-1.nginx.default.svc.cluster.local
metrics=$(http_get http://127.0.0.1:9153/metrics | sed 's/\\n/\n/g')
check_match "programming duration observed" \
    'coredns_kubernetes_dns_programming_duration_seconds_count\{service_kind="headless_with_selector"\} 1' "$metrics"
check_match "at least the 0.25 s since the trigger" \
    'coredns_kubernetes_dns_programming_duration_seconds_bucket\{service_kind="headless_with_selector",le="0.128"\} 0' "$metrics"

# SIGHUP reloads under load, cluster and forwarded names alike: no query fails.
load_log=$certs/load
( i=0; while [ ! -e "$certs/stop" ]; do
	i=$((i + 1))
	r=$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 +short web-0.nginx.default.svc.cluster.local 2>&1)
	[ "$r" = 10.244.1.10 ] && echo ok || echo "bad cluster: $r"
	r=$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 n$i.shop.svc.upstream.test 2>&1 | grep -o 'status: [A-Z]*')
	[ "$r" = "status: NXDOMAIN" ] && echo ok || echo "bad forwarded $i: $r"
done >"$load_log" ) &
loader=$!
for i in 1 2 3; do
	sleep 1
	kill -HUP "$PETDNS_PID"
done
# Under valgrind a reload takes seconds: wait for the third (bounded).
end=$(($(date +%s) + $(lib_secs 10)))
while [ "$(grep -c 'running the new configuration' "$PETDNS_LOG")" -lt 3 ] &&
    [ "$(date +%s)" -lt "$end" ]; do
	sleep 0.2
done
sleep 1
touch "$certs/stop"
wait "$loader"
check "reloaded" "3" "$(grep -c 'running the new configuration' "$PETDNS_LOG")"
check "no query failed during the reloads" "0" "$(grep -vc '^ok$' "$load_log")"
grep -v '^ok$' "$load_log" | head -5
check_match "and there were some" "^([4-9]|[0-9]{2,})$" "$(grep -c '^ok$' "$load_log")"

# SIGTERM: lameduck 5s answering all along, then a clean exit.
kill -TERM "$PETDNS_PID"
sleep 1
check "lameduck: still answering" "10.244.1.10" "$(ask +short web-0.nginx.default.svc.cluster.local)"
check_match "lameduck logged" "Going into lameduck mode for 5" "$(cat "$PETDNS_LOG")"
check "lameduck: still alive after 1 s" "alive" "$(kill -0 "$PETDNS_PID" 2>/dev/null && echo alive)"
end=$(($(date +%s) + 10))
while kill -0 "$PETDNS_PID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do
	sleep 0.2
done
status=0
wait "$PETDNS_PID" || status=$?
check "exits 0 after the lameduck" "0" "$status"
finish
