#!/usr/bin/env bash
# directives.sh -- log, errors, loadbalance, whoami and prometheus's per-block counting as CoreDNS has them.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig

PORT=$(free_port)
MPORT=$(free_port)
petdns_start ".:$PORT {
    errors
    prometheus 127.0.0.1:$MPORT
    log
    loadbalance
    kubernetes cluster.local {
        manifests $TESTDATA/local
    }
}
whoami.test:$PORT {
    whoami
}"

ask web-0.nginx.default.svc.cluster.local >/dev/null
check_match "log: CoreDNS's common format" \
    '\[INFO\] 127\.0\.0\.1:[0-9]+ - [0-9]+ "A IN web-0\.nginx\.default\.svc\.cluster\.local\. udp [0-9]+ false 1232" NOERROR qr,aa,rd [0-9]+ [0-9.]+s' \
    "$(cat "$PETDNS_LOG")"
ask +tcp +noedns api.shop.svc.cluster.local AAAA >/dev/null
check_match "log: TCP, no EDNS" '"AAAA IN api\.shop\.svc\.cluster\.local\. tcp [0-9]+ false 512" NOERROR qr,aa,rd' \
    "$(cat "$PETDNS_LOG")"
check_match "a SERVFAIL" "status: SERVFAIL" "$(ask example.com)"
check_match "errors: the reason logged" '\[ERROR\] plugin/errors: 2 example\.com\. A: no next plugin found' "$(cat "$PETDNS_LOG")"

# log rules by name and class, {combined}; errors consolidate.
FPORT=$(free_port)
PORT=$FPORT petdns_start ".:$FPORT {
    log shop.svc.cluster.local {combined} {
        class denial
    }
    log nosuch.test {
        class error
    }
    errors {
        consolidate 2s \"no next plugin\" warning
    }
    kubernetes cluster.local {
        manifests $TESTDATA/local
    }
}"
for n in api.shop.svc.cluster.local gone.shop.svc.cluster.local web-0.nginx.default.svc.cluster.local; do
    ask $n >/dev/null
done
for i in 1 2 3; do ask a$i.nosuch.test >/dev/null; done
flog=$(cat "$PETDNS_LOG")
check_match "log class denial: the NXDOMAIN logged, {combined}" '"A IN gone\.shop\.svc\.cluster\.local\. udp [0-9]+ false 1232" NXDOMAIN qr,aa,rd [0-9]+ [0-9.]+s "0"' "$flog"
check "log class denial: the answer not logged" "0" "$(grep -c '"A IN api\.shop' <<<"$flog")"
check "log names: other names not logged" "0" "$(grep -c 'web-0\.nginx' <<<"$flog")"
check_match "log class error: SERVFAIL logged" '"A IN a1\.nosuch\.test\. udp' "$flog"
check "consolidated: no single error lines" "0" "$(grep -c 'plugin/errors: 2 ' <<<"$flog")"
sleep 2.5
check_match "consolidated: one summary after the period" "\[WARNING\] plugin/errors: 3 errors like 'no next plugin' occurred in last 2s" "$(cat "$PETDNS_LOG")"
petdns_stop >/dev/null 2>&1
PETDNS_PORT=$PORT

# loadbalance: the two pets come back in both orders.
orders=$(for i in $(seq 40); do ask +short nginx.default.svc.cluster.local | tr '\n' ' '; echo; done | sort -u | wc -l)
check "loadbalance: both orders seen" "2" "$orders"
# Without log or cache: the fast path, answers from the memo, shuffled each time still.
LPORT=$(free_port)
PORT=$LPORT petdns_start "cluster.local:$LPORT {
    loadbalance
    kubernetes cluster.local {
        manifests $TESTDATA/local
    }
}"
orders=$(for i in $(seq 40); do ask +short nginx.default.svc.cluster.local | tr '\n' ' '; echo; done | sort -u | wc -l)
check "loadbalance: both orders seen, answers kept in the memo" "2" "$orders"
petdns_stop >/dev/null 2>&1
PETDNS_PORT=$PORT

# whoami: our own address and port.
out=$(ask +noall +answer +additional whoami.test A)
check_match "whoami: the client's address" "whoami\.test\.[[:space:]]+0[[:space:]]+IN[[:space:]]+A[[:space:]]+127\.0\.0\.1" "$out"
check_match "whoami: the port in an SRV" "_udp\.whoami\.test\.[[:space:]]+0[[:space:]]+IN[[:space:]]+SRV[[:space:]]+0 0 [0-9]+ whoami\.test\." "$out"
check_match "whoami over TCP says so" "_tcp\.whoami\.test\." "$(ask +tcp +noall +additional whoami.test A)"

# prometheus counts the queries of its own block only, as CoreDNS's does:
# whoami.test's block has none, so its queries above are in no series.
metrics=$(http_get http://127.0.0.1:$MPORT/metrics | sed 's/\\n/\n/g')
check_match "prometheus: its block's queries counted" \
    "coredns_dns_requests_total\{family=\"1\",proto=\"udp\",server=\"dns://:$PORT\",type=\"A\",view=\"\",zone=\".\"\} [1-9]" "$metrics"
check "prometheus: a block without it counts nothing" "0" \
    "$(grep -c 'zone="whoami\.test\."' <<<"$metrics")"
finish
