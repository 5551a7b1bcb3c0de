#!/usr/bin/env bash
# compare.sh -- petdns against knotd on the same records: one command.
#
# usage: PETDNS=/path/to/petdns bench/compare.sh [compare.py options]
#        e.g. bench/compare.sh --presets 100k --rounds 5;  bench/compare.sh --quick
#
# Installs what it needs from Debian when missing (knot, dnsperf, gnuplot-nox,
# util-linux for taskset; needs root or sudo for that), then runs
# bench/compare.py, which prints the table and writes bench/results/compare-*.txt,
# .json and compare.png. See bench/README.md and `bench/compare.py --help`.
# Installing Debian's knot package on a host with systemd also starts its
# own knot.service on port 53; compare.py runs knotd of its own on a free port.
set -eu

TOPSRC=$(cd "$(dirname "$0")/.." && pwd)
need=()
command -v knotd >/dev/null 2>&1 || [ -x /usr/sbin/knotd ] || need+=(knot)
command -v dnsperf >/dev/null 2>&1 || need+=(dnsperf)
command -v gnuplot >/dev/null 2>&1 || need+=(gnuplot-nox)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	echo "# compare.sh: installing ${need[*]}" >&2
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH=$PATH:/usr/sbin

PETDNS=${PETDNS:-}
if [ -z "$PETDNS" ]; then
	for c in /tmp/bench-build/petdns "$TOPSRC/build/petdns" "$TOPSRC/petdns"; do
		[ -x "$c" ] && PETDNS=$c && break
	done
fi
if [ -z "$PETDNS" ] || [ ! -x "$PETDNS" ]; then
	echo "compare.sh: set PETDNS to an optimised petdns, e.g.:" >&2
	echo "  mkdir -p /tmp/bench-build && cd /tmp/bench-build && $TOPSRC/configure --quiet CFLAGS='-O2 -g' && make -j2 petdns" >&2
	exit 2
fi
exec python3 "$TOPSRC/bench/compare.py" --petdns "$PETDNS" "$@"
