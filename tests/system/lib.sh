# lib.sh -- sourced by system tests: free ports, petdns in the background, checks.
#
# The harness (Makefile.am) sets PETDNS (the binary), TESTDATA and TOPSRC.
# A test looks like:
#	. "$TOPSRC/tests/system/lib.sh"
#	need_cmd dig
#	PORT=$(free_port)
#	petdns_start ".:$PORT {
#		kubernetes cluster.local { manifests $TESTDATA/manifests }
#	}"
#	check "dns-version" '"1.1.0"' "$(ask +short dns-version.cluster.local TXT)"
#	finish

: "${PETDNS:?PETDNS must name the petdns binary}"
: "${TOPSRC:=.}"
: "${TESTDATA:=$TOPSRC/tests/data}"

LIB_PASSED=0
LIB_FAILED=0
LIB_PIDS=()
LIB_DIRS=()
LIB_LOGS=()

# The system's python3 first in PATH when there is one: a version manager's
# shim (pyenv) costs seconds a call on a loaded machine, and the tests need
# only the standard library. (A directory, not a function: a function run in
# the background is a subshell, whose $! is not python's. Shared by every
# test and kept: tests run at once, and some exec without cleaning up.)
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
	LIB_BINDIR=${TMPDIR:-/tmp}/petdns-python3.$(id -u)
	if [ ! -e "$LIB_BINDIR/python3" ]; then
		mkdir -p "$LIB_BINDIR" &&
		    ln -s /usr/bin/python3 "$LIB_BINDIR/python3" 2>/dev/null
	fi
	[ -x "$LIB_BINDIR/python3" ] && PATH=$LIB_BINDIR:$PATH
fi

# PETDNS_TIMEOUT_SCALE (a whole number, default 1) stretches the waits
# below, for a slow petdns (under valgrind); lib_secs N gives N scaled.
LIB_SCALE=${PETDNS_TIMEOUT_SCALE:-1}
case $LIB_SCALE in '' | *[!0-9]* | 0) LIB_SCALE=1 ;; esac
lib_secs() {
	echo $(($1 * LIB_SCALE))
}

# PETDNS_WRAPPER (e.g. "valgrind --log-file=DIR/vg.%p") runs every petdns
# of the test through that command: $PETDNS becomes a script that execs
# it, so tests that run "$PETDNS" themselves are wrapped too, and the
# process id stays petdns's own for signals.
if [ -n "${PETDNS_WRAPPER:-}" ]; then
	LIB_WRAPDIR=$(mktemp -d "${TMPDIR:-/tmp}/petdns-wrap.XXXXXX") || exit 1
	LIB_DIRS+=("$LIB_WRAPDIR")
	printf '#!/usr/bin/env bash\nexec %s %q "$@"\n' "$PETDNS_WRAPPER" \
	    "$(cd "$(dirname "$PETDNS")" && pwd)/$(basename "$PETDNS")" \
	    >"$LIB_WRAPDIR/petdns"
	chmod +x "$LIB_WRAPDIR/petdns"
	PETDNS=$LIB_WRAPDIR/petdns
fi

# Kills every petdns this test started and removes its temp dirs.
lib_cleanup() {
	local pid
	for pid in ${LIB_PIDS[@]+"${LIB_PIDS[@]}"}; do
		lib_stop_pid "$pid" >/dev/null 2>&1 || :
	done
	if [ ${#LIB_DIRS[@]} -gt 0 ]; then
		rm -rf "${LIB_DIRS[@]}"
	fi
}
trap lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints each petdns log, for a failing test's .log file.
lib_show_logs() {
	local log
	for log in ${LIB_LOGS[@]+"${LIB_LOGS[@]}"}; do
		[ -s "$log" ] || continue
		echo "--- $log"
		tail -n 100 "$log"
	done
}

# lib_die MESSAGE: fails the whole test now, with the logs.
lib_die() {
	echo "FAIL: $*"
	lib_show_logs
	exit 1
}

# need_cmd CMD...: skips the test (automake's 77) when a tool is missing.
need_cmd() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "SKIP: $c is not installed"
			exit 77
		fi
	done
}

# free_port: prints a port that is free for both UDP and TCP on every address.
free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c '
import socket
for _ in range(100):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("", port))
    except OSError:
        continue
    finally:
        t.close()
        u.close()
    print(port)
    break
'
		return
	fi
	# Without python: a random high port nothing accepts TCP on.
	local port
	while :; do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
}

# lib_stop_pid PID: SIGTERM, then SIGKILL after 10 s (scaled: valgrind's
# leak check at exit takes a while); returns its exit status.
lib_stop_pid() {
	local pid=$1 status=0
	if kill "$pid" 2>/dev/null; then
		for _ in $(seq $((100 * LIB_SCALE))); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || :
	fi
	wait "$pid" 2>/dev/null || status=$?
	return "$status"
}

# petdns_start COREFILE_TEXT [ARGS...]: runs $PETDNS -conf on the text
# (saved in a new temp dir) with ARGS, logging to $PETDNS_LOG, and waits up
# to 10 s (scaled) for its DNS port to answer. The port is $PORT if set, else the
# first "ZONES:PORT {" of the text. Sets PETDNS_PID, PETDNS_PORT,
# PETDNS_DIR, PETDNS_CONF and PETDNS_LOG. Fails the test if petdns dies or
# never answers.
petdns_start() {
	local text=$1 end status
	shift
	PETDNS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/petdns-test.XXXXXX") ||
	    lib_die "mktemp failed"
	LIB_DIRS+=("$PETDNS_DIR")
	PETDNS_CONF=$PETDNS_DIR/Corefile
	PETDNS_LOG=$PETDNS_DIR/petdns.log
	LIB_LOGS+=("$PETDNS_LOG")
	printf '%s\n' "$text" >"$PETDNS_CONF"
	PETDNS_PORT=${PORT:-$(sed -nE \
	    's/^[^#{]*:([0-9]+)[[:space:]]*\{.*/\1/p' "$PETDNS_CONF" | head -n 1)}
	[ -n "$PETDNS_PORT" ] || lib_die "petdns_start: no PORT and no :PORT in the Corefile"
	"$PETDNS" -conf "$PETDNS_CONF" "$@" >"$PETDNS_LOG" 2>&1 &
	PETDNS_PID=$!
	LIB_PIDS+=("$PETDNS_PID")
	end=$(($(date +%s) + $(lib_secs 10)))
	until dig +time=1 +tries=1 @127.0.0.1 -p "$PETDNS_PORT" \
	    dns-version.cluster.local TXT >/dev/null 2>&1; do
		if ! kill -0 "$PETDNS_PID" 2>/dev/null; then
			status=0
			wait "$PETDNS_PID" || status=$?
			lib_die "petdns exited with status $status before answering on port $PETDNS_PORT"
		fi
		[ "$(date +%s)" -lt "$end" ] ||
		    lib_die "petdns did not answer on port $PETDNS_PORT within $(lib_secs 10) s"
		sleep 0.1
	done
}

# petdns_stop: stops the last petdns started; returns its exit status
# (under set -e, use "petdns_stop || status=$?").
petdns_stop() {
	lib_stop_pid "$PETDNS_PID"
}

# ask DIG_ARGS...: queries the last petdns started, with short timeouts.
ask() {
	dig @127.0.0.1 -p "$PETDNS_PORT" +time=$(lib_secs 2) +tries=1 "$@"
}

lib_pass() {
	LIB_PASSED=$((LIB_PASSED + 1))
	echo "ok - $1"
}

# check NAME EXPECTED ACTUAL: passes when the two strings are equal. Returns
# 0 either way, so that under set -e every check still runs before finish.
check() {
	if [ "$2" = "$3" ]; then
		lib_pass "$1"
		return
	fi
	LIB_FAILED=$((LIB_FAILED + 1))
	echo "FAIL - $1"
	case "$2$3" in
	*$'\n'*)
		diff -u --label expected --label actual \
		    <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    /'
		;;
	*)
		printf '    expected: %s\n    actual:   %s\n' "$2" "$3"
		;;
	esac
}

# check_match NAME REGEX ACTUAL: passes when ACTUAL matches the ERE.
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		lib_pass "$1"
		return
	fi
	LIB_FAILED=$((LIB_FAILED + 1))
	echo "FAIL - $1"
	printf '    expected to match: %s\n' "$2"
	printf '%s\n' "$3" | sed 's/^/    actual: /'
}

# finish: prints the tally; exits 1 (with the petdns logs) on any failure.
finish() {
	echo "$LIB_PASSED passed, $LIB_FAILED failed"
	if [ "$LIB_FAILED" -gt 0 ]; then
		lib_show_logs
		exit 1
	fi
	exit 0
}

# fakeapi_start [ARGS...]: runs tests/fakeapi/fakeapi.py (ports chosen by the
# kernel) and waits for it. Sets FAKEAPI_PORT, FAKEAPI_CTL (control port),
# FAKEAPI_DIR and FAKEAPI_PID.
fakeapi_start() {
	local end
	FAKEAPI_DIR=$(mktemp -d "${TMPDIR:-/tmp}/petdns-fakeapi.XXXXXX") ||
	    lib_die "mktemp failed"
	LIB_DIRS+=("$FAKEAPI_DIR")
	LIB_LOGS+=("$FAKEAPI_DIR/fakeapi.log")
	python3 "$TOPSRC/tests/fakeapi/fakeapi.py" --port 0 \
	    --port-file "$FAKEAPI_DIR/port" \
	    --control-port-file "$FAKEAPI_DIR/cport" "$@" \
	    >"$FAKEAPI_DIR/fakeapi.log" 2>&1 &
	FAKEAPI_PID=$!
	LIB_PIDS+=("$FAKEAPI_PID")
	end=$(($(date +%s) + 10))
	until [ -s "$FAKEAPI_DIR/port" ]; do
		kill -0 "$FAKEAPI_PID" 2>/dev/null || lib_die "fakeapi exited"
		[ "$(date +%s)" -lt "$end" ] || lib_die "fakeapi did not start"
		sleep 0.05
	done
	FAKEAPI_PORT=$(cat "$FAKEAPI_DIR/port")
	FAKEAPI_CTL=$(cat "$FAKEAPI_DIR/cport")
}

# ctl METHOD PATH [JSON]: a call to the fake API's control port; prints the
# JSON answer and fails (status 1) on an HTTP error.
ctl() {
	python3 - "$FAKEAPI_CTL" "$1" "$2" "${3-}" <<'PY'
import sys, urllib.request, urllib.error
port, method, path, body = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path),
                             data=body.encode() if body else None, method=method,
                             headers={"Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, timeout=300).read().decode())
except urllib.error.HTTPError as e:
    print(e.read().decode())
    sys.exit(1)
PY
}

# wait_answer WHAT EXPECTED DIG_ARGS...: polls petdns (bounded: $WAIT_SECS,
# default 10 s, scaled) until the sorted short answer, joined by spaces, is
# EXPECTED; then checks it.
wait_answer() {
	local what=$1 want=$2 got end
	shift 2
	end=$(($(date +%s) + $(lib_secs "${WAIT_SECS:-10}")))
	while :; do
		got=$(ask +short "$@" 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//')
		[ "$got" = "$want" ] && break
		[ "$(date +%s)" -lt "$end" ] || break
		sleep 0.05
	done
	check "$what" "$want" "$got"
}

# http_get URL: prints "STATUS BODY" (body on one line); status 0 when
# unreachable (or no answer within 5 s, scaled).
http_get() {
	python3 - "$1" "$(lib_secs 5)" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]))
    print(r.status, r.read().decode(errors="replace").replace("\n", "\\n"))
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(errors="replace").replace("\n", "\\n"))
except Exception as e:
    print(0, e)
PY
}

# big_manifests NAME: prints a new directory with the local fixture and the
# headless service big with 120 ready pets (its A RRset fits neither 512
# nor 1232 bytes). A subshell runs it: the caller adds it to LIB_DIRS.
big_manifests() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/petdns-$1.XXXXXX") || lib_die "mktemp failed"
	{
		printf 'apiVersion: v1\nkind: Service\nmetadata: {name: big}\n'
		printf 'spec: {clusterIP: None, selector: {app: big}, ports: [{name: peer, port: 7000}]}\n'
		for i in $(seq 0 119); do
			printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: big-%d, labels: {app: big}}\n' "$i"
			printf 'spec: {hostname: big-%d, subdomain: big, containers: [{name: c, image: i}]}\n' "$i"
		done
	} >"$d/big.yaml"
	cp "$TESTDATA/local/"*.yaml "$d/"
	echo "$d"
}
