#!/usr/bin/env bash
# test.sh -- build and run every test: once with -Werror, once under ASan+UBSan; then the
# fuzzing smoke run (clang, libFuzzer) and the system tests under valgrind.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x configure ] || ./bootstrap >/dev/null || exit 1
jobs=$(nproc)
passed=0 failed=0 status=0

# run NAME CONFIGURE-FLAGS...: a build directory of its own, then make check.
run() {
	local name=$1; shift
	local dir="$top/build-$name"
	echo "== $name: configure $*"
	mkdir -p "$dir" && cd "$dir" || return 1
	"$top/configure" --quiet --enable-werror "$@" || { status=1; return; }
	make -s -j"$jobs" >/dev/null || { status=1; echo "== $name: build failed"; return; }
	make -s -j"$jobs" check || status=1
	for f in $(find tests -name '*.trs'); do
		if grep -q '^:test-result: PASS' "$f"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	done
	# Failed tests' logs, so CI output says why.
	for f in $(grep -l '^:test-result: FAIL\|^:test-result: ERROR' $(find tests -name '*.trs') 2>/dev/null); do
		echo "---- ${f%.trs}.log"; tail -n 60 "${f%.trs}.log"
	done
	cd "$top"
}

# step NAME CMD...: one more pass/fail line for a whole-suite step.
step() {
	local name=$1; shift
	echo "== $name"
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "== $name FAILED"; fi
}

# fuzz-smoke: each libFuzzer harness replays its corpus and fuzzes briefly (clang).
fuzz_smoke() {
	local dir="$top/build-fuzz"
	mkdir -p "$dir" && cd "$dir" || return 1
	CC=clang "$top/configure" --quiet --enable-fuzzing || return 1
	make -s -j"$jobs" fuzz-smoke
	local rv=$?
	cd "$top"
	return $rv
}

run plain
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run asan --enable-asan --enable-ubsan
step fuzz-smoke fuzz_smoke
step valgrind "$top/scripts/valgrind.sh"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
