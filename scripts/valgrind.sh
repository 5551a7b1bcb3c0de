#!/usr/bin/env bash
# valgrind.sh -- the system tests with every petdns under valgrind: no memory errors, no definite or indirect leaks.
#
#	scripts/valgrind.sh [TEST...]	# names like api.sh; default: every suitable system test
#
# Builds petdns without sanitizers (-O1 -g) in its own directory, then runs the
# system tests (JOBS at a time) with PETDNS_WRAPPER set, so tests/system/lib.sh
# starts each petdns as valgrind --leak-check=full, one log per process. Fails
# when a test fails or a log reports an error, a definite or indirect leak, or
# no summary at all (a process killed before valgrind could check).
#
# Environment: BUILD_DIR (default build-valgrind), JOBS (default: the cores),
# PETDNS_TIMEOUT_SCALE (default 4: the waits in lib.sh are stretched that much).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build-valgrind}
jobs=${JOBS:-$(nproc)}
export PETDNS_TIMEOUT_SCALE=${PETDNS_TIMEOUT_SCALE:-4}

# Not run, and why:
#  fakeapi.sh  the fake API server's self-test: no petdns in it.
#  deploy.sh   measures petdns's resident memory against the Deployment's
#              limit, which valgrind's own memory would fail.
#  lib.sh      the library the tests source.
skip=" fakeapi.sh deploy.sh lib.sh "
# Run, but judged by their valgrind logs alone, not their exit status:
#  hostile.sh    every hostile packet still goes through petdns, but its
#                connection floods assert deadlines (connections closed,
#                answers within a second) that valgrind's slowdown misses.
#  apiconfig.sh  checks the discovery log line at once after start, before
#                a petdns under valgrind has got that far.
#  faults.sh     its reflectors back off for seconds between faults; under
#                valgrind on a busy machine one wait (the oversize event
#                after a reconnect) outlasted its 40 s bound in CI.
memonly=" hostile.sh apiconfig.sh faults.sh "

command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 1; }
[ -x "$top/configure" ] || (cd "$top" && ./bootstrap >/dev/null) || exit 1
mkdir -p "$build" && cd "$build" || exit 1
if [ ! -f Makefile ]; then
	"$top/configure" --quiet CFLAGS="-O1 -g" || exit 1
fi
make -s -j"$jobs" petdns >make.log 2>&1 || { tail -n 30 make.log; echo "build failed"; exit 1; }

if [ $# -gt 0 ]; then
	tests=("$@")
else
	tests=()
	for t in "$top"/tests/system/*.sh; do
		case $skip in *" ${t##*/} "*) continue ;; esac
		tests+=("${t##*/}")
	done
fi

logs=$build/valgrind
rm -rf "$logs"
mkdir -p "$logs"

# run_one NAME: the test with its valgrind logs in $logs/NAME/.
run_one() {
	local name=$1 dir=$logs/$1 start status
	mkdir -p "$dir"
	start=$(date +%s)
	PETDNS="$build/petdns" TOPSRC="$top" TESTDATA="$top/tests/data" \
	    PETDNS_WRAPPER="valgrind --leak-check=full \
--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
--error-exitcode=99 --num-callers=30 --log-file=$dir/vg.%p" \
	    bash "$top/tests/system/$name" >"$dir/test.log" 2>&1
	status=$?
	echo "$status $(($(date +%s) - start))" >"$dir/status"
}

start=$(date +%s)
for t in "${tests[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	run_one "$t" &
done
wait

passed=0 failed=0
for t in "${tests[@]}"; do
	dir=$logs/$t
	read -r status secs <"$dir/status"
	bad=()
	for vg in "$dir"/vg.*; do
		[ -e "$vg" ] || continue
		if ! grep -q "ERROR SUMMARY:" "$vg"; then
			bad+=("$vg: no summary (killed?)")
		elif ! grep -q "ERROR SUMMARY: 0 errors" "$vg"; then
			bad+=("$vg: $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$vg")")
		fi
	done
	# 77: the test skipped itself (a tool missing), which is no pass here.
	note=
	case $memonly in *" $t "*)
		[ "$status" -eq 0 ] || note=", its own checks failed: not judged here"
		status=0
		ls "$dir" | grep -q '^vg\.' || bad+=("$dir: no petdns ran") ;;
	esac
	if [ "$status" -eq 0 ] && [ ${#bad[@]} -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok - $t (${secs}s, $(ls "$dir" | grep -c '^vg\.') processes$note)"
		continue
	fi
	failed=$((failed + 1))
	echo "FAIL - $t (${secs}s, exit status $status)"
	for b in ${bad[@]+"${bad[@]}"}; do
		echo "    $b"
		[ -f "${b%%: *}" ] && sed -n '7,86p' "${b%%: *}" | sed 's/^/        /'
	done
	[ "$status" -eq 0 ] || tail -n 30 "$dir/test.log" | sed 's/^/    | /'
done
echo "# valgrind pass: $(($(date +%s) - start)) s; logs in $logs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
