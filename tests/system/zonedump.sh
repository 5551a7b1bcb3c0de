#!/usr/bin/env bash
# zonedump.sh -- -zone-dump prints every record of the embedded default, sorted, and exits 0.
. "$TOPSRC/tests/system/lib.sh"

out=$("$PETDNS" -conf "$TOPSRC/zones/Corefile" -zone-dump 2>/dev/null)
check "exit status" "0" "$?"
# The serial is a timestamp: everything else must match the golden file.
got=$(printf '%s\n' "$out" | sed -E 's/(SOA\t[^ ]+ [^ ]+ )[0-9]+/\1SERIAL/')
check "records equal tests/data/zonedump/embedded.txt" "$(cat "$TESTDATA/zonedump/embedded.txt")" "$got"
check "sorted" "$(printf '%s\n' "$out" | LC_ALL=C sort)" "$out"
check_match "the pets are there" "^web-0.nginx.default.svc.cluster.local.	5	IN	A	10.244.0.4$" "$out"
err=$("$PETDNS" -conf /nonexistent/Corefile -zone-dump 2>&1 >/dev/null)
check "a missing Corefile fails" "1" "$?"
check_match "and says which" "/nonexistent/Corefile" "$err"
finish
