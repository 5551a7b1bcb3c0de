#!/usr/bin/env bash
# forward.sh -- forward and cache: answers from an upstream (a second petdns), failover, SERVFAIL, cache hits.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig

# The upstream: a petdns serving the local fixture, logging every query it gets.
UP=$(free_port)
PORT=$UP petdns_start "cluster.local:$UP {
    log
    kubernetes {
        manifests $TESTDATA/local
    }
}"
up_log=$PETDNS_LOG
up_queries() { grep -c "\"$1 IN $2\. " "$up_log"; }

DEAD=$(free_port)	# nothing listens there
PORT=$(free_port)
PROM=$(free_port)
petdns_start ".:$PORT {
    errors
    prometheus 127.0.0.1:$PROM
    cache 30
    forward . 127.0.0.1:$DEAD 127.0.0.1:$UP {
        policy sequential
        max_fails 0
    }
}
broken.test:$PORT {
    errors
    forward . 127.0.0.1:$DEAD
}"

check "forwarded, past a dead upstream" "10.244.0.2" "$(ask +short web-0.nginx.default.svc.cluster.local)"
check_match "the upstream's answer is passed on" "flags: qr aa rd;" "$(ask web-1.nginx.default.svc.cluster.local)"
check "over TCP too" "10.96.0.11" "$(ask +tcp +short api.shop.svc.cluster.local)"
check_match "NXDOMAIN passed on with the SOA" "status: NXDOMAIN.*AUTHORITY: 1" "$(ask nosuch.default.svc.cluster.local | tr '\n' ' ')"

# cache: the second ask is answered without the upstream.
before=$(up_queries A web-0.nginx.default.svc.cluster.local)
check "cached answer" "10.244.0.2" "$(ask +short web-0.nginx.default.svc.cluster.local)"
check "the upstream was not asked again" "$before" "$(up_queries A web-0.nginx.default.svc.cluster.local)"
ttl=$(ask +noall +answer web-0.nginx.default.svc.cluster.local | awk '{print $2}')
check_match "cached TTL at most the upstream's" "^[0-5]$" "$ttl"
check "negative answers cached too" "1" "$(up_queries A nosuch.default.svc.cluster.local)"
ask nosuch.default.svc.cluster.local >/dev/null
check "still once" "1" "$(up_queries A nosuch.default.svc.cluster.local)"

metrics=$(http_get "http://127.0.0.1:$PROM/metrics" | sed 's/\\n/\n/g')
check_match "forward requests per upstream" "coredns_forward_requests_total\{to=\"127\.0\.0\.1:$UP\"\} [1-9]" "$metrics"
check_match "forward responses by rcode" "coredns_forward_responses_total\{rcode=\"NXDOMAIN\",to=\"127\.0\.0\.1:$UP\"\} 1" "$metrics"
check_match "cache hits" "coredns_cache_hits_total\{server=\"dns://:$PORT\",type=\"success\",view=\"\",zones=\"\.\"\} [1-9]" "$metrics"

# No upstream answers: SERVFAIL, and errors says why.
check_match "no upstream: SERVFAIL" "status: SERVFAIL" "$(dig @127.0.0.1 -p "$PORT" +time=10 +tries=1 www.broken.test)"
check_match "errors logs why" "\[ERROR\] plugin/errors: 2 www\.broken\.test\. A: plugin/forward: no upstream answered" "$(cat "$PETDNS_LOG")"
status=0
petdns_stop || status=$?
check "clean exit" "0" "$status"

# loop: forwarding to ourselves is found at startup and stops petdns, as CoreDNS does.
LOOP=$(free_port)
printf '.:%s {\n    loop\n    forward . 127.0.0.1:%s\n}\n' "$LOOP" "$LOOP" >"$PETDNS_DIR/loop.conf"
status=0
out=$(timeout 20 "$PETDNS" -conf "$PETDNS_DIR/loop.conf" 2>&1) || status=$?
check "loop: exits 1" "1" "$status"
check_match "loop: says so" "plugin/loop: Loop \(dns://:$LOOP\) detected for zone \"\.\".*Query: \"HINFO [0-9]+\.[0-9]+\.\"" "$out"

# prefetch and serve_stale, against an upstream with 4 s TTLs that we stop.
UP2=$(free_port)
PORT=$UP2 petdns_start "cluster.local:$UP2 {
    log
    kubernetes {
        manifests $TESTDATA/local
        ttl 4
    }
}"
up2_pid=$PETDNS_PID up2_log=$PETDNS_LOG
up2_queries() { grep -c "\"$1 IN $2\. " "$up2_log"; }
SPROM=$(free_port) SPORT=$(free_port) VPORT=$(free_port)
PORT=$SPORT petdns_start ".:$SPORT {
    prometheus 127.0.0.1:$SPROM
    cache 30 {
        success 100 30 1
        prefetch 2 1m 80%
        serve_stale 1h immediate
    }
    forward . 127.0.0.1:$UP2
}
.:$VPORT {
    cache 30 {
        success 100 30 1
        serve_stale 1h verify
    }
    forward . 127.0.0.1:$UP2 {
        max_fails 0
    }
}"
PF=api.shop.svc.cluster.local
check "prefetch: first answer" "10.96.0.11" "$(PETDNS_PORT=$SPORT ask +short $PF)"
check "verify: first answer" "10.244.0.3" "$(PETDNS_PORT=$VPORT ask +short web-1.nginx.default.svc.cluster.local)"
sleep 2
# TTL 4 with 2 left is under 80%: the second hit in a minute re-asks upstream.
PETDNS_PORT=$SPORT ask +short $PF >/dev/null
PETDNS_PORT=$SPORT ask +short $PF >/dev/null
wait_for() { local end=$(($(date +%s) + 5)); until eval "$1" || [ "$(date +%s)" -ge "$end" ]; do sleep 0.1; done; }
wait_for '[ "$(up2_queries A $PF)" -ge 2 ]'
check "prefetch: upstream asked again before expiry" "2" "$(up2_queries A $PF)"
metrics=$(http_get "http://127.0.0.1:$SPROM/metrics" | sed 's/\\n/\n/g')
check_match "prefetch counted" "coredns_cache_prefetch_total\{server=\"dns://:$SPORT\",view=\"\",zones=\"\.\"\} [1-9]" "$metrics"
# The upstream goes away; entries expire; stale answers (TTL 0) keep names resolving.
kill "$up2_pid"
sleep 5
out=$(PETDNS_PORT=$SPORT ask +noall +answer $PF)
check_match "serve_stale immediate: expired answer with TTL 0" "^api\.shop\.svc\.cluster\.local\.[[:space:]]+0[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.96\.0\.11" "$out"
out=$(PETDNS_PORT=$VPORT ask +time=5 +tries=1 +noall +answer web-1.nginx.default.svc.cluster.local)
check_match "serve_stale verify: upstream failed, stale answer" "[[:space:]]0[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.244\.0\.3" "$out"
metrics=$(http_get "http://127.0.0.1:$SPROM/metrics" | sed 's/\\n/\n/g')
check_match "served stale counted" "coredns_cache_served_stale_total\{server=\"dns://:$SPORT\",view=\"\",zones=\"\.\"\} [1-9]" "$metrics"
check "never cached: still SERVFAIL" "SERVFAIL" "$(PETDNS_PORT=$VPORT ask +time=5 +tries=1 nosuch.default.svc.cluster.local | grep -o SERVFAIL | head -1)"

finish
