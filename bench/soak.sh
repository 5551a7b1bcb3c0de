#!/usr/bin/env bash
# soak.sh -- petdns under query load, endpoint churn and watch drops for N minutes.
#
# usage: PETDNS=/path/to/petdns bench/soak.sh [MINUTES]        (default 10)
#
# Starts tests/fakeapi/fakeapi.py with a bench/gencluster.py cluster (PRESET,
# default 100k) and petdns watching it, then for MINUTES at once:
#   - dnsperf sends the preset's query mix at QPS (default 5000) queries a second;
#   - bench/churn.py makes CHURN (default 100) endpoint changes a second
#     (rolling readiness flips, every service's slices, pets included);
#   - every DROP_EVERY (60) seconds every watch is cut (petdns resumes from its
#     last resourceVersion), and every EXPIRE_EVERY-th (3rd) time instead
#     fakeapi's history is compacted and the watches expire (410: petdns
#     relists 100k pods while it serves).
# fakeapi keeps HISTORY (100000) changes, so a drop resumes without a relist.
# It samples petdns's RSS, PSS and CPU every SAMPLE_S (10) seconds and prints:
# queries sent and answered, the errors (dnsperf's lost queries = no answer
# within 5 s, SERVFAIL, any rcode other than NOERROR/NXDOMAIN: must be zero),
# the churn and drops made, RSS/PSS after sync, after the first minute and at
# the end (and, with gdb, after malloc_trim(0): the part that is free heap
# glibc keeps), and the petdns log's warnings. Finally a second petdns synced
# from scratch is asked the first CHECK (3000) queries of the mix alongside
# the soaked one: the answers must be the same.
# petdns on cpu $SERVER_CPU (0); dnsperf, fakeapi and churn on $LOAD_CPU (1).
# Environment: PETDNS, FAKEAPI, PRESET, QPS, CHURN, DROP_EVERY, EXPIRE_EVERY,
# HISTORY, SAMPLE_S, CHECK, KEEP=1 (keep the scratch directory).
# Prints figures; exits 1 when there were errors, 2 when it cannot run.
set -u

TOPSRC=$(cd "$(dirname "$0")/.." && pwd)
PETDNS=${PETDNS:-}
if [ -z "$PETDNS" ]; then
	for c in /tmp/bench-build/petdns "$TOPSRC/build/petdns" "$TOPSRC/petdns"; do
		[ -x "$c" ] && PETDNS=$c && break
	done
fi
[ -n "$PETDNS" ] && [ -x "$PETDNS" ] || { echo "soak.sh: set PETDNS to the petdns binary" >&2; exit 2; }
for cmd in python3 dnsperf taskset curl; do
	command -v "$cmd" >/dev/null || { echo "soak.sh: $cmd is not installed" >&2; exit 2; }
done
MINUTES=${1:-10}
PRESET=${PRESET:-100k}
QPS=${QPS:-5000}
CHURN=${CHURN:-100}
DROP_EVERY=${DROP_EVERY:-60}
EXPIRE_EVERY=${EXPIRE_EVERY:-3}
HISTORY=${HISTORY:-100000}
SAMPLE_S=${SAMPLE_S:-10}
CHECK=${CHECK:-3000}
FAKEAPI=${FAKEAPI:-$TOPSRC/tests/fakeapi/fakeapi.py}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
HZ=$(getconf CLK_TCK)
DURATION=$((MINUTES * 60))

. "$TOPSRC/bench/lib.sh"
bench_scratch soak

free_port() {
	python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import latency; print(latency.free_port())' \
	    "$TOPSRC/bench"
}
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
# udp_drops PORT: datagrams dropped on the UDP sockets bound to PORT.
udp_drops() {
	awk -v p="$(printf ':%04X' "$1")" 'NR > 1 && substr($2, length($2) - 4) == p { n += $NF } END { print n + 0 }' /proc/net/udp
}
wait_file() {	# wait_file FILE SECONDS PID
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -s "$1" ] && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# start_petdns NAME: a petdns on a free port watching fakeapi; sets PD_PID, PD_PORT, T0.
start_petdns() {
	local rport i
	PD_PORT=$(free_port)
	rport=$(free_port)
	printf 'cluster.local:%s in-addr.arpa:%s {\n    ready 127.0.0.1:%s\n    kubernetes cluster.local in-addr.arpa {\n        endpoint http://127.0.0.1:%s\n    }\n}\n' \
	    "$PD_PORT" "$PD_PORT" "$rport" "$API_PORT" >"$WORK/Corefile.$1"
	T0=$(date +%s.%N)
	taskset -c "$SERVER_CPU" "$PETDNS" -conf "$WORK/Corefile.$1" >"$WORK/petdns.$1.log" 2>&1 &
	PD_PID=$!
	PIDS+=("$PD_PID")
	for ((i = 0; i < 6000; i++)); do
		curl -sf "http://127.0.0.1:$rport/ready" >/dev/null 2>&1 && return 0
		kill -0 "$PD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "soak.sh: petdns $1 did not get ready; log tail:" >&2
	tail -5 "$WORK/petdns.$1.log" >&2
	return 1
}

echo "# petdns soak, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $PETDNS ($("$PETDNS" -version 2>&1)); preset $PRESET; $MINUTES min; dnsperf $QPS qps;" \
    "churn $CHURN endpoint changes/s; watches cut every ${DROP_EVERY}s, 1 time in ${EXPIRE_EVERY} an expiry (relist)"
python3 "$TOPSRC/bench/gencluster.py" --preset "$PRESET" --format fakeapi --out "$WORK/state.json" \
    --queries "$WORK/queries.txt" --summary | sed 's/^/# cluster: /' || exit 2

NODELAY='import os, runpy, socketserver, sys
socketserver.StreamRequestHandler.disable_nagle_algorithm = True
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
runpy.run_path(sys.argv[0], run_name="__main__")'
taskset -c "$LOAD_CPU" python3 -c "$NODELAY" "$FAKEAPI" --port 0 --port-file "$WORK/port" \
    --control-port-file "$WORK/cport" --state "$WORK/state.json" --history-size "$HISTORY" \
    >"$WORK/fakeapi.log" 2>&1 &
FA_PID=$!
PIDS+=("$FA_PID")
wait_file "$WORK/port" 900 "$FA_PID" || { echo "soak.sh: fakeapi did not start" >&2; tail -5 "$WORK/fakeapi.log" >&2; exit 2; }
API_PORT=$(cat "$WORK/port")
CPORT=$(cat "$WORK/cport")

start_petdns soak || exit 2
SOAK_PID=$PD_PID
SOAK_PORT=$PD_PORT
echo "# petdns synced in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s: $(grep -o 'all reflectors synced.*' "$WORK/petdns.soak.log" | head -1)"
sleep 2
RSS0=$(rss_kb "$SOAK_PID")
PSS0=$(pss_kb "$SOAK_PID")
C0=$(cpu_ticks "$SOAK_PID")

taskset -c "$LOAD_CPU" python3 "$TOPSRC/bench/churn.py" --control-port "$CPORT" \
    --rate "$CHURN" --drop-every "$DROP_EVERY" --expire-every "$EXPIRE_EVERY" \
    --ready-file "$WORK/churn.ready" --stats "$WORK/churn.json" >"$WORK/churn.log" 2>&1 &
CH_PID=$!
PIDS+=("$CH_PID")
for ((i = 0; i < 3000; i++)); do
	[ -e "$WORK/churn.ready" ] && break
	kill -0 "$CH_PID" 2>/dev/null || break
	sleep 0.1
done
[ -e "$WORK/churn.ready" ] || { echo "soak.sh: churn.py did not start" >&2; cat "$WORK/churn.log" >&2; exit 2; }
taskset -c "$LOAD_CPU" dnsperf -s 127.0.0.1 -p "$SOAK_PORT" -d "$WORK/queries.txt" -l "$DURATION" \
    -Q "$QPS" -c 4 -q 100 -S "$SAMPLE_S" >"$WORK/dnsperf.txt" 2>&1 &
DP_PID=$!
PIDS+=("$DP_PID")

printf '%6s %8s %8s %8s %6s\n' t_s rss_MiB pss_MiB cpu% drops
echo "0 $RSS0 $PSS0" >"$WORK/samples"
start=$(date +%s)
prev=$C0
RSS1=
PSS1=
d_prev=0
while kill -0 "$DP_PID" 2>/dev/null; do
	sleep "$SAMPLE_S"
	kill -0 "$SOAK_PID" 2>/dev/null || { echo "soak.sh: petdns died"; break; }
	now=$(($(date +%s) - start))
	r=$(rss_kb "$SOAK_PID")
	p=$(pss_kb "$SOAK_PID")
	c=$(cpu_ticks "$SOAK_PID")
	d=$(udp_drops "$SOAK_PORT")
	printf '%6d %8s %8s %8s %6s\n' "$now" "$(mib "$r")" "$(mib "$p")" \
	    "$(awk -v a="$prev" -v b="$c" -v hz="$HZ" -v s="$SAMPLE_S" 'BEGIN { printf "%.0f", (b - a) / hz / s * 100 }')" "$d"
	echo "$now $r $p" >>"$WORK/samples"
	prev=$c
	if [ -z "$RSS1" ] && [ "$now" -ge 60 ]; then
		RSS1=$r
		PSS1=$p
	fi
done
wait "$DP_PID" 2>/dev/null
stop_pid "$CH_PID"
RSS2=$(rss_kb "$SOAK_PID")
PSS2=$(pss_kb "$SOAK_PID")
C2=$(cpu_ticks "$SOAK_PID")
MAXR=$(awk '{ if ($2 > m) m = $2 } END { print m }' "$WORK/samples")
# How much of the end RSS is free heap glibc keeps: RSS after malloc_trim(0).
TRIM=
if command -v gdb >/dev/null; then
	timeout 60 gdb -p "$SOAK_PID" -batch -ex 'call (int) malloc_trim(0)' >/dev/null 2>&1 &&
	    TRIM=$(rss_kb "$SOAK_PID")
fi
UDPDROPS=$(udp_drops "$SOAK_PORT")

perf=$(sed -n '/^Statistics:/,$p' "$WORK/dnsperf.txt")
sent=$(printf '%s\n' "$perf" | awk '/Queries sent:/ { print $3 }')
done_=$(printf '%s\n' "$perf" | awk '/Queries completed:/ { print $3 }')
lost=$(printf '%s\n' "$perf" | awk '/Queries lost:/ { print $3 }')
codes=$(printf '%s\n' "$perf" | sed -n 's/^ *Response codes: *//p')
servfail=$(printf '%s\n' "$codes" | grep -o 'SERVFAIL [0-9]*' | awk '{ print $2 }')
other=$(printf '%s\n' "$codes" | tr ',' '\n' | awk '$1 != "NOERROR" && $1 != "NXDOMAIN" && $1 != "SERVFAIL" && NF { n += $2 } END { print n + 0 }')
errors=$((${lost:-0} + ${servfail:-0} + other))

echo
echo "queries: sent ${sent:-?}, answered ${done_:-?}, lost (no answer in 5 s) ${lost:-?}, SERVFAIL ${servfail:-0}, other rcodes ${other}"
echo "response codes: $codes"
echo "dnsperf: $(printf '%s\n' "$perf" | grep -E 'Queries per second|Average Latency' | sed 's/^ *//' | paste -sd';')"
echo "UDP datagrams dropped on petdns's sockets: $UDPDROPS"
echo "churn: $(cat "$WORK/churn.json" 2>/dev/null || echo '(no stats)')"
echo "petdns CPU: $(awk -v a="$C0" -v b="$C2" -v hz="$HZ" -v s="$DURATION" 'BEGIN { printf "%.1f s over %d s (%.0f%%)", (b - a) / hz, s, (b - a) / hz / s * 100 }')"
echo "RSS MiB: after sync $(mib "$RSS0"), at 1 min $(mib "$RSS1"), end $(mib "$RSS2"), max $(mib "$MAXR");" \
    "PSS MiB: $(mib "$PSS0"), $(mib "$PSS1"), $(mib "$PSS2");" \
    "RSS after malloc_trim(0): $(mib "$TRIM") MiB"
echo "petdns log: $(grep -c '^\[WARNING\]' "$WORK/petdns.soak.log") warnings, $(grep -c '^\[ERROR\]' "$WORK/petdns.soak.log") errors;" \
    "relists: $(grep -c 'listed [0-9]* endpointslices' "$WORK/petdns.soak.log") endpointslice lists"
grep -E '^\[(WARNING|ERROR)\]' "$WORK/petdns.soak.log" | sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -8 | sed 's/^/#   /'

# The soaked zone against a fresh sync of the same objects.
start_petdns fresh || exit 2
python3 - "$TOPSRC/bench" "$WORK/queries.txt" "$CHECK" "$SOAK_PORT" "$PD_PORT" <<'PY'
import json, sys, time
sys.path.insert(0, sys.argv[1]); sys.dont_write_bytecode = True
import compare
# The soaked petdns may be in a watch backoff (at most 30 s plus jitter)
# after the last cut: the churn's last changes reach it after that.
t0 = time.monotonic()
first = r = compare.compare_answers(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
while r["different"] and time.monotonic() - t0 < 60:
    time.sleep(3)
    r = compare.compare_answers(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
late = "" if not first["different"] else " (after %.0f s; at first %d differed: %s)" % (
    time.monotonic() - t0, first["different"], "; ".join(first["examples"]))
print("soaked vs fresh petdns: %d of %d answers the same%s%s" % (
    r["same"], r["asked"], "" if not r["different"] else "; differ: " + "; ".join(r["examples"]), late))
sys.exit(1 if r["different"] else 0)
PY
same=$?
if [ "$errors" -eq 0 ] && [ "$same" -eq 0 ]; then
	echo "errors: 0"
	exit 0
fi
echo "errors: $errors (lost ${lost:-?}, SERVFAIL ${servfail:-0}, other $other); answers differ from a fresh sync: $([ "$same" -ne 0 ] && echo yes || echo no)"
exit 1
