# lib.sh -- sourced by bench scripts: a scratch directory, the processes they start, /proc readers.
#
# bench_scratch NAME makes WORK (/tmp/bench-NAME.XXXXXX) and arms the traps:
# on exit every pid in PIDS is stopped and WORK removed (KEEP=1 keeps it).

PIDS=()

bench_cleanup() {
	local pid
	for pid in ${PIDS[@]+"${PIDS[@]}"}; do
		stop_pid "$pid"
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept $WORK"
	else
		rm -rf "$WORK"
	fi
}

bench_scratch() {
	WORK=$(mktemp -d "/tmp/bench-$1.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# stop_pid PID [SIGNAL]: the signal (TERM), SIGKILL after 10 s; forgets PID,
# so that cleanup never signals a number the system may have handed on.
stop_pid() {
	local p keep=()
	for p in ${PIDS[@]+"${PIDS[@]}"}; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=(${keep[@]+"${keep[@]}"})
	kill "-${2:-TERM}" "$1" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

mib() { awk -v k="$1" 'BEGIN { if (k == "") print "-"; else printf "%.1f", k / 1024 }'; }
pss_kb() { awk '$1 == "Pss:" { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }
