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
finish
