#!/usr/bin/env bash
# reload.sh -- reload (directive and SIGHUP): a changed Corefile is applied without a failed query; a bad one changes nothing.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig

PORT=$(free_port)
corefile() {
	printf 'cluster.local:%s {\n    reload 2s 1s\n    kubernetes {\n        manifests %s\n        ttl %s\n    }\n}\n' \
	    "$PORT" "$TESTDATA/local" "$1"
}
petdns_start "$(corefile 5)"
ttl() { ask +noall +answer web-0.nginx.default.svc.cluster.local | awk '{print $2}'; }
check "first configuration" "5" "$(ttl)"

# Queries all along: none may fail while configurations change. One second
# each, scaled under valgrind: there, with another test alongside, two
# queries once went unanswered within 1 s during a reload in CI.
load_log="$PETDNS_DIR/load"
( while [ ! -e "$PETDNS_DIR/stop" ]; do
	r=$(dig @127.0.0.1 -p "$PORT" +time="$(lib_secs 1)" +tries=1 +short web-0.nginx.default.svc.cluster.local 2>&1)
	[ "$r" = 10.244.0.2 ] && echo ok || echo "bad: $r"
done >"$load_log" ) &
loader=$!

# wait_ttl WANT: polls (bounded) until answers carry TTL WANT.
wait_ttl() {
	local end=$(($(date +%s) + 15)) got
	while got=$(ttl); [ "$got" != "$1" ] && [ "$(date +%s)" -lt "$end" ]; do
		sleep 0.1
	done
	check "$2" "$1" "$got"
}
corefile 17 >"$PETDNS_CONF"
wait_ttl 17 "reload directive applies a changed Corefile"
check_match "reload logged" "Reloading" "$(cat "$PETDNS_LOG")"

printf 'cluster.local:%s {\n    reload 2s 1s\n    kubernetes {\n        ttl forever\n    }\n}\n' "$PORT" >"$PETDNS_CONF"
end=$(($(date +%s) + 10))
until grep -q "keeping the running configuration" "$PETDNS_LOG" || [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.1
done
check_match "a bad Corefile is refused, with why" "\[ERROR\] reload: .*Corefile:4: .*ttl.*keeping the running configuration" "$(cat "$PETDNS_LOG")"
check "the running configuration keeps serving" "17" "$(ttl)"

corefile 23 >"$PETDNS_CONF"
kill -HUP "$PETDNS_PID"
wait_ttl 23 "SIGHUP reloads"

touch "$PETDNS_DIR/stop"
wait "$loader"
check "queries answered during the reloads" "0" "$(grep -vc '^ok$' "$load_log")"
grep -v '^ok$' "$load_log" | head -5	# what failed, if anything
check_match "and there were some" "^[0-9]{2,}$" "$(grep -c '^ok$' "$load_log")"
status=0
petdns_stop || status=$?
check "clean exit" "0" "$status"
finish
