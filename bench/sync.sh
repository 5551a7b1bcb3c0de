#!/usr/bin/env bash
# sync.sh -- petdns's initial sync time, memory and query rate, per synthetic cluster size.
#
# usage: PETDNS=/path/to/petdns bench/sync.sh [PRESET...]     (default presets: 1k 100k)
#
# For each preset (bench/gencluster.py) and each mode:
#   api        petdns against tests/fakeapi/fakeapi.py holding the cluster
#              (Namespaces, Services, EndpointSlices; no Pods)
#   local      `manifests DIR`: YAML with Pods and EndpointSlices
#   local-sim  `manifests DIR` without EndpointSlices: petdns simulates them
# it prints, as one table row:
#   sync_s     wall time from starting petdns to its sync log line ("all
#              reflectors synced" in api mode, "synced ... records" in local
#              mode); in api mode this includes fakeapi's own (Python) time
#              to serve the paged LISTs, printed above the row
#   cpu_s      petdns's CPU time (user+sys) at that point
#   records    the record count of that log line
#   rss/pss/hwm  VmRSS, Pss (smaps_rollup) and VmHWM in MiB, 2 s after sync
#   idle%      petdns CPU over those 2 s
#   qps        dnsperf's rate over LOAD_S seconds with the preset's query mix
#   us/q       petdns CPU microseconds per answered query during that load
#              (steadier than qps when other work shares the machine)
#   psi%       CPU pressure during the load (/proc/pressure/cpu "some"): the
#              share of time some task waited for a CPU; high = the machine
#              was busy with other work and qps is unreliable
#   rss/pss after load
# Then, for each preset, petdns's RSS after glibc's malloc_trim(0) (via gdb,
# when installed): how much of the RSS is freed heap kept by malloc.
#
# petdns is pinned to core $SERVER_CPU, dnsperf and fakeapi to $LOAD_CPU.
# Environment: PETDNS (binary), FAKEAPI (fakeapi.py), MODES (default "api local local-sim"),
# LOAD_S (5), TIMEOUT_S (per sync, 600), KEEP=1 keeps the scratch directory.
# Prints figures only; exits non-zero only when it cannot run at all.
set -u

TOPSRC=$(cd "$(dirname "$0")/.." && pwd)
PETDNS=${PETDNS:-}
if [ -z "$PETDNS" ]; then
	for c in "$TOPSRC/build/petdns" "$TOPSRC/petdns" /tmp/bench-build/petdns; do
		[ -x "$c" ] && PETDNS=$c && break
	done
fi
[ -n "$PETDNS" ] && [ -x "$PETDNS" ] || { echo "sync.sh: set PETDNS to the petdns binary" >&2; exit 2; }
for cmd in python3 dnsperf taskset; do
	command -v "$cmd" >/dev/null || { echo "sync.sh: $cmd is not installed" >&2; exit 2; }
done
PRESETS=("$@")
[ ${#PRESETS[@]} -gt 0 ] || PRESETS=(1k 100k)
MODES=${MODES:-api local local-sim}
FAKEAPI=${FAKEAPI:-$TOPSRC/tests/fakeapi/fakeapi.py}
LOAD_S=${LOAD_S:-5}
TIMEOUT_S=${TIMEOUT_S:-600}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
HZ=$(getconf CLK_TCK)

. "$TOPSRC/bench/lib.sh"
bench_scratch sync

free_port() {
	python3 -c '
import socket
for _ in range(100):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", port))
    except OSError:
        continue
    print(port)
    break'
}

# EPOCHREALTIME (bash 5) avoids a fork per timestamp.
now_ns() { local t=${EPOCHREALTIME/./}; echo "${t}000"; }
# An fd that never has data: `read -t S -u $NAP_FD` sleeps without a fork.
exec {NAP_FD}<> <(:)
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
status_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }
# Microseconds some task waited for a CPU (PSI); other sessions' load shows here.
psi_us() { awk '/^some/ { sub("total=", "", $5); print $5 }' /proc/pressure/cpu 2>/dev/null || echo 0; }

# gen PRESET: the fakeapi state, manifests (with and without slices) and queries, once.
gen() {
	local p=$1 d=$WORK/$1 t0
	[ -d "$d" ] && return 0
	mkdir -p "$d"
	t0=$(now_ns)
	python3 "$TOPSRC/bench/gencluster.py" --preset "$p" --format fakeapi \
	    --out "$d/state.json" --queries "$d/queries.txt" --summary >"$d/summary.json" || return 1
	echo "# $p: $(cat "$d/summary.json")"
	echo "# $p: fakeapi state $(du -h "$d/state.json" | cut -f1), generated in $(secs "$t0" "$(now_ns)") s"
	case " $MODES " in *" local "*)
		python3 "$TOPSRC/bench/gencluster.py" --preset "$p" --format manifests --out "$d/manifests" || return 1
		echo "# $p: manifests $(du -sh "$d/manifests" | cut -f1) YAML" ;;
	esac
	case " $MODES " in *" local-sim "*)
		python3 "$TOPSRC/bench/gencluster.py" --preset "$p" --format manifests --no-slices \
		    --out "$d/manifests-sim" || return 1 ;;
	esac
}

# start_fakeapi PRESET: sets API_PORT and FAKEAPI_PID.
start_fakeapi() {
	local d=$WORK/$1 t0 i
	rm -f "$d/port" "$d/cport"
	t0=$(now_ns)
	taskset -c "$LOAD_CPU" python3 "$FAKEAPI" --port 0 \
	    --port-file "$d/port" --control-port-file "$d/cport" \
	    --state "$d/state.json" >"$d/fakeapi.log" 2>&1 &
	FAKEAPI_PID=$!
	PIDS+=("$FAKEAPI_PID")
	for ((i = 0; i < TIMEOUT_S * 10; i++)); do
		[ -s "$d/port" ] && break
		kill -0 "$FAKEAPI_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -s "$d/port" ] || { echo "# fakeapi did not start:"; tail -5 "$d/fakeapi.log"; return 1; }
	API_PORT=$(cat "$d/port")
	echo "# $1: fakeapi loaded the state in $(secs "$t0" "$(now_ns)") s (RSS $(mib "$(status_kb "$FAKEAPI_PID" VmRSS)") MiB)"
}

# list_time: how long fakeapi alone takes to serve the three paged LISTs
# petdns makes (limit 500, one after another): the part of api mode's sync_s
# that is the fake server's, not petdns's.
list_time() {
	taskset -c "$SERVER_CPU" python3 - "$API_PORT" <<'PY'
import http.client, json, sys, time, urllib.parse
port, t0, pages = int(sys.argv[1]), time.monotonic(), 0
for path in ("/api/v1/namespaces", "/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices"):
    cont = None
    for _ in range(100000):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        c.request("GET", path + "?limit=500" + ("&continue=" + urllib.parse.quote(cont) if cont else ""))
        d = json.loads(c.getresponse().read())
        c.close()
        pages += 1
        cont = d["metadata"].get("continue")
        if not cont:
            break
print("%.2f s (%d pages)" % (time.monotonic() - t0, pages))
PY
}

# run PRESET MODE: one table row.
run() {
	local p=$1 mode=$2 d=$WORK/$1 dir=$WORK/$1/$2 port t0 t1 pid line pattern
	local rec sync cpu rss pss hwm c0 idle qps rss2 pss2 perf l0 l1 p0 p1 done usq psi
	mkdir -p "$dir"
	port=$(free_port)
	case $mode in
	api)
		start_fakeapi "$p" || return 1
		echo "# $p: fakeapi alone serves petdns's paged LISTs in $(list_time)"
		printf 'cluster.local:%s in-addr.arpa:%s {\n    kubernetes cluster.local in-addr.arpa {\n        endpoint http://127.0.0.1:%s\n    }\n}\n' \
		    "$port" "$port" "$API_PORT" >"$dir/Corefile"
		pattern="all reflectors synced" ;;
	local|local-sim)
		local m=$d/manifests
		[ "$mode" = local-sim ] && m=$d/manifests-sim
		printf 'cluster.local:%s in-addr.arpa:%s {\n    kubernetes cluster.local in-addr.arpa {\n        manifests %s\n    }\n}\n' \
		    "$port" "$port" "$m" >"$dir/Corefile"
		pattern="plugin/kubernetes: synced .* records" ;;
	esac
	: >"$dir/petdns.log"
	t0=$(now_ns)
	taskset -c "$SERVER_CPU" "$PETDNS" -conf "$dir/Corefile" >"$dir/petdns.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	# Fork-free polling every ~2 ms (bash builtins only), so that the loop
	# itself neither lags nor competes with petdns for the CPU.
	line=
	local log_text= i
	for ((i = 0; i < TIMEOUT_S * 500; i++)); do
		IFS= read -r -d '' log_text <"$dir/petdns.log" || :
		if [[ $log_text =~ [^$'\n']*($pattern)[^$'\n']* ]]; then
			line=${BASH_REMATCH[0]}
			break
		fi
		[ -d "/proc/$pid" ] || break
		read -r -t 0.002 -u "$NAP_FD" || :
	done
	t1=$(now_ns)
	if [ -z "$line" ]; then
		if kill -0 "$pid" 2>/dev/null; then
			sync=">$TIMEOUT_S"
		else
			sync="died"
		fi
		printf '%-5s %-9s %9s   (no sync line; log tail below)\n' "$p" "$mode" "$sync"
		tail -3 "$dir/petdns.log" | sed 's/^/#   /'
		stop_pid "$pid"
		[ "$mode" = api ] && stop_pid "$FAKEAPI_PID"
		return 0
	fi
	sync=$(secs "$t0" "$t1")
	cpu=$(awk -v t="$(cpu_ticks "$pid")" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')
	rec=$(printf '%s\n' "$line" | sed -E 's/.*: ([0-9]+) records.*/\1/')
	c0=$(cpu_ticks "$pid")
	sleep 2
	idle=$(awk -v a="$c0" -v b="$(cpu_ticks "$pid")" -v hz="$HZ" 'BEGIN { printf "%.1f", (b - a) / hz / 2 * 100 }')
	rss=$(status_kb "$pid" VmRSS)
	pss=$(pss_kb "$pid")
	hwm=$(status_kb "$pid" VmHWM)
	l0=$(cpu_ticks "$pid")
	p0=$(psi_us)
	t0=$(now_ns)
	perf=$(taskset -c "$LOAD_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$d/queries.txt" \
	    -l "$LOAD_S" -c 4 -q 500 2>&1)
	t1=$(now_ns)
	p1=$(psi_us)
	l1=$(cpu_ticks "$pid")
	printf '%s\n' "$perf" >"$dir/dnsperf.txt"
	qps=$(printf '%s\n' "$perf" | awk '/Queries per second/ { printf "%.0f", $4 }')
	done=$(printf '%s\n' "$perf" | awk '/Queries completed/ { print $3 }')
	usq=$(awk -v a="$l0" -v b="$l1" -v hz="$HZ" -v n="${done:-0}" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / hz * 1e6 / n; else print "-" }')
	psi=$(awk -v a="$p0" -v b="$p1" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", (b - a) * 1e3 / (t1 - t0) * 100 }')
	rss2=$(status_kb "$pid" VmRSS)
	pss2=$(pss_kb "$pid")
	printf '%-5s %-9s %9s %7s %8s %7s %7s %7s %5s %7s %7s %5s %7s %7s\n' "$p" "$mode" "$sync" "$cpu" "$rec" \
	    "$(mib "$rss")" "$(mib "$pss")" "$(mib "$hwm")" "$idle" "${qps:--}" "$usq" "$psi" "$(mib "$rss2")" "$(mib "$pss2")"
	printf '%s\n' "$perf" | grep -E "Queries lost|Response codes" | sed "s/^ */#   $p $mode dnsperf: /"
	if [ "$mode" = api ] && command -v gdb >/dev/null; then
		trimmed "$pid" >"$dir/trim.txt"
	fi
	stop_pid "$pid"
	[ "$mode" = api ] && stop_pid "$FAKEAPI_PID"
	return 0
}

# trimmed PID: RSS after malloc_trim(0) in petdns (gdb attaches briefly).
trimmed() {
	local before after
	before=$(status_kb "$1" VmRSS)
	timeout 60 gdb -p "$1" -batch -ex 'call (int) malloc_trim(0)' >/dev/null 2>&1 || return 0
	after=$(status_kb "$1" VmRSS)
	echo "$(mib "$before") $(mib "$after")"
}

echo "# petdns sync benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "# binary $PETDNS ($("$PETDNS" -version 2>&1)), $FAKEAPI; petdns on cpu $SERVER_CPU, dnsperf+fakeapi on cpu $LOAD_CPU; load ${LOAD_S}s"
for p in "${PRESETS[@]}"; do
	gen "$p" || { echo "# $p: generation failed"; continue; }
done
echo
printf '%-5s %-9s %9s %7s %8s %7s %7s %7s %5s %7s %7s %5s %7s %7s\n' preset mode sync_s cpu_s records \
    rss_MiB pss_MiB hwm_MiB idle% qps us/q psi% rss_load pss_load
for p in "${PRESETS[@]}"; do
	[ -f "$WORK/$p/state.json" ] || continue
	for mode in $MODES; do
		run "$p" "$mode"
	done
done
echo
for p in "${PRESETS[@]}"; do
	[ -s "$WORK/$p/api/trim.txt" ] || continue
	read -r b a <"$WORK/$p/api/trim.txt"
	echo "# $p api: RSS $b MiB, $a MiB after malloc_trim(0) (heap freed but kept by malloc: the difference)"
done
