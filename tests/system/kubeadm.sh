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

PORT=$(free_port)
petdns_start "$(cat "$TESTDATA/corefile/kubeadm.Corefile")" -dns.port "$PORT"

# /ready turns 200 once the reflectors synced; /health is 200 all along.
end=$(($(date +%s) + 10))
until [ "$(http_get http://127.0.0.1:8181/ready | cut -d' ' -f1)" = 200 ] || [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.1
done
check "/ready" "200 OK" "$(http_get http://127.0.0.1:8181/ready)"
check "/health" "200 OK" "$(http_get http://127.0.0.1:8080/health)"
check "pet from the cluster" "10.244.1.10" "$(ask +short web-0.nginx.default.svc.cluster.local)"
check_match "ttl 30" "web-0\.nginx\.default\.svc\.cluster\.local\.[[:space:]]+30[[:space:]]" \
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
