#!/usr/bin/env bash
# apiconfig.sh -- the watcher's configuration: startup_timeout, TLS refusal, labels, v1beta1 EndpointSlices.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig python3 openssl

certs=$(mktemp -d "${TMPDIR:-/tmp}/petdns-certs.XXXXXX")
LIB_DIRS+=("$certs")
python3 "$TOPSRC/tests/fakeapi/fakeapi.py" --make-certs "$certs" >/dev/null ||
    lib_die "cannot make certificates"
export PETDNS_WATCH_BACKOFF_MS=200 PETDNS_WATCH_BACKOFF_MAX_MS=1000

# A server whose certificate our CA did not sign: refused, with a clear error.
# Until startup_timeout, a name that may just not be known yet is SERVFAIL;
# after it, petdns answers from what it has (nothing): NXDOMAIN.
fakeapi_start --state "$TESTDATA/fakeapi/cluster.json" \
    --tls-cert "$certs/server.crt" --tls-key "$certs/server.key"
PORT=$(free_port)
petdns_start "cluster.local:$PORT {
    kubernetes {
        endpoint https://127.0.0.1:$FAKEAPI_PORT
        tls $certs/client.crt $certs/client.key $certs/other-ca.crt
        startup_timeout 3s
    }
}"
check_match "before sync: SERVFAIL" "status: SERVFAIL" "$(ask web-0.nginx.default.svc.cluster.local)"
check_match "the apex answers meanwhile" "status: NOERROR" "$(ask cluster.local SOA)"
end=$(($(date +%s) + 10))
until ask web-0.nginx.default.svc.cluster.local | grep -q NXDOMAIN || [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.1
done
check_match "after startup_timeout: NXDOMAIN" "status: NXDOMAIN" "$(ask web-0.nginx.default.svc.cluster.local)"
check_match "certificate refused with a clear error" "(certificate|SSL)" "$(cat "$PETDNS_LOG")"
check_match "startup timeout logged" "not synced after 3000 ms" "$(cat "$PETDNS_LOG")"
grep -m 2 -i certificate "$PETDNS_LOG"
petdns_stop

# The right CA and a client certificate: synced; labels filter services server-side.
PORT=$(free_port)
petdns_start "cluster.local:$PORT {
    kubernetes {
        endpoint https://127.0.0.1:$FAKEAPI_PORT
        tls $certs/client.crt $certs/client.key $certs/ca.crt
        labels team=blue
    }
}"
ctl POST /objects '{"apiVersion":"v1","kind":"Service","metadata":{"name":"blue","namespace":"default","labels":{"team":"blue"}},"spec":{"clusterIP":"10.96.9.1","ports":[{"port":80}]}}' >/dev/null
wait_answer "labelled service served" "10.96.9.1" blue.default.svc.cluster.local
check_match "unlabelled service filtered" "status: NXDOMAIN" "$(ask api.default.svc.cluster.local)"
check_match "selector sent to the server" "labelSelector=team%3Dblue" "$(ctl GET /requests)"
petdns_stop

# A Kubernetes 1.20 server: EndpointSlices only in discovery.k8s.io/v1beta1.
kill "$FAKEAPI_PID"
fakeapi_start --state "$TESTDATA/fakeapi/endpointslice-v1beta1.json" --no-endpointslice-v1
PORT=$(free_port)
petdns_start "cluster.local:$PORT {
    kubernetes {
        endpoint http://127.0.0.1:$FAKEAPI_PORT
    }
}"
end=$(($(date +%s) + $(lib_secs 10)))
until grep -q "EndpointSlices: discovery.k8s.io/v1beta1" "$PETDNS_LOG" || [ "$(date +%s)" -ge "$end" ]; do sleep 0.1; done
check_match "v1beta1 chosen from discovery" "EndpointSlices: discovery.k8s.io/v1beta1" "$(cat "$PETDNS_LOG")"
check_match "v1beta1 slices listed" "/apis/discovery.k8s.io/v1beta1/endpointslices" "$(ctl GET /requests)"
wait_answer "endpoint from a v1beta1 slice" "10.244.0.2" 10-244-0-2.kube-dns.kube-system.svc.cluster.local
check_match "its not-ready endpoint is not" "status: NXDOMAIN" "$(ask 10-244-0-3.kube-dns.kube-system.svc.cluster.local)"
status=0
petdns_stop || status=$?
check "clean exit" "0" "$status"
finish
