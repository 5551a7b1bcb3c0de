#!/usr/bin/env bash
# badinput.sh -- malformed manifests, Corefiles and kubeconfigs: one clear error each, naming the place; what serves keeps serving.
#
# Fixtures in tests/data/bad/: manifests/ (EXPECT lists each file's expected
# error), corefile/*.Corefile (first line "# error: LINE: regex"; several use
# the broken kubeconfig/ files).
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig

bad=$TESTDATA/bad
work=$(mktemp -d "${TMPDIR:-/tmp}/petdns-badinput.XXXXXX")
LIB_DIRS+=("$work")
# count REGEX FILE: lines of FILE matching the ERE.
count() { grep -Ec -- "$1" "$2"; }

# --- Manifests: every bad document is one warning naming file and document;
# the good documents around it, and the rest of the cluster, are served.
dir=$work/manifests
mkdir "$dir"
cp "$TESTDATA/local/"*.yaml "$bad/manifests/"*.yaml "$bad/manifests/"*.json "$dir/"
mkdir "$dir/60-a-directory.yaml"
ln -s /nonexistent/petdns-manifest "$dir/61-dangling.yaml"
PORT=$(free_port)
petdns_start "cluster.local:$PORT {
    kubernetes {
        manifests $dir
    }
}"
log=$PETDNS_LOG
while IFS=$'\t' read -r file regex; do
	check "$file: one error: $regex" "1" "$(count "^\[WARNING\] $dir/$file: $regex" "$log")"
done <"$bad/manifests/EXPECT"
check "a directory named like a manifest: one error" "1" \
    "$(count "^\[WARNING\] $dir/60-a-directory.yaml: not a regular file, skipped$" "$log")"
check "a dangling symlink: one error" "1" \
    "$(count "^\[WARNING\] $dir/61-dangling.yaml: No such file or directory$" "$log")"
check "every warning names its file" "" "$(grep '^\[WARNING\]' "$log" | grep -v "^\[WARNING\] $dir/[0-9]")"
check "one warning per bad input, no more" "$(($(wc -l <"$bad/manifests/EXPECT") + 2))" \
    "$(count '^\[WARNING\]' "$log")"
check "empty and comment-only files are no error" "0" "$(count '5[34]-' "$log")"
for name in ok-syntax-1 ok-syntax-3 ok-kinds ok-names ok-ips ok-ports ok-dup-b ok-list-1 ok-list-3; do
	check_match "good document beside bad ones: $name" "^10\.96\.[0-9]+\.[0-9]+$" \
	    "$(ask +short "$name.shop.svc.cluster.local")"
done
check "duplicate: the later definition wins" "10.96.65.2" "$(ask +short dup.shop.svc.cluster.local)"
for name in broken-syntax wrong-group no-kind bad-ipv4 bad-ipv6 port-too-big port-zero bad-protocol bad-list-2 trunc; do
	check_match "bad document not served: $name" "status: NXDOMAIN" "$(ask "$name.shop.svc.cluster.local")"
done
check "the rest of the cluster is served" "10.244.0.2" "$(ask +short web-0.nginx.default.svc.cluster.local)"

# While serving: a new broken file, and a good file broken by an edit, are
# each one error; everything else (the edited file's good documents too)
# keeps serving.
# Each change re-reads the directory, so it is checked before the next.
# wait_log FILE: waits (bounded) until the log names FILE.
wait_log() {
	local end=$(($(date +%s) + $(lib_secs 10)))
	until grep -q "$1" "$log" || [ "$(date +%s)" -ge "$end" ]; do
		sleep 0.1
	done
}
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: late, namespace: shop\nspec: {}\n' >"$dir/70-late.yaml"
wait_log 70-late.yaml
check "a file added while serving: one error naming its line" "1" \
    "$(count "^\[WARNING\] $dir/70-late.yaml: document 1: line [0-9]+: " "$log")"
rm "$dir/70-late.yaml"
sed 's/ok-syntax-/edited-/' "$dir/41-syntax.yaml" >"$dir/.71-edited.yaml"
mv "$dir/.71-edited.yaml" "$dir/71-edited.yaml"
wait_log 71-edited.yaml
check "a broken document in a new file: one error" "1" \
    "$(count "^\[WARNING\] $dir/71-edited.yaml: document 2: line 10: " "$log")"
wait_answer "its good documents are served" "10.96.60.3" edited-3.shop.svc.cluster.local
check "still serving the cluster" "10.244.0.2" "$(ask +short web-0.nginx.default.svc.cluster.local)"
check "still serving good documents of bad files" "10.96.61.6" "$(ask +short ok-kinds.shop.svc.cluster.local)"
petdns_stop

# --- Corefiles at startup: exit 1 with exactly one line, naming file and line.
for f in "$bad"/corefile/*.Corefile; do
	name=${f##*/}
	want=$(sed -n '1s/^# error: //p' "$f")
	out=$("$PETDNS" -conf "$f" 2>&1)
	status=$?
	check "$name: exit status 1" "1" "$status"
	check "$name: one line" "1" "$(printf '%s\n' "$out" | wc -l)"
	check_match "$name: names file and line" "^\[FATAL\] $f(:|: )$want" "$out"
done
out=$("$PETDNS" -conf "$work/no-such-Corefile" 2>&1)
check_match "a missing Corefile: one error naming it" "^\[FATAL\] $work/no-such-Corefile: .*No such file" "$out"

# --- Reload (SIGHUP): every bad Corefile is one error naming file and line,
# and the running configuration keeps serving (its ttl 17 shows it).
conf_ttl() {
	printf 'cluster.local:%s {\n    kubernetes {\n        manifests %s\n        ttl %s\n    }\n}\n' \
	    "$PORT" "$TESTDATA/local" "$1"
}
PORT=$(free_port)
petdns_start "$(conf_ttl 17)"
ttl() { ask +noall +answer web-0.nginx.default.svc.cluster.local | awk '{print $2}'; }
check "running configuration" "17" "$(ttl)"
reloads=0
# hup_error NAME REGEX: SIGHUP; waits for the next reload error; checks it.
hup_error() {
	local end=$(($(date +%s) + $(lib_secs 10)))
	kill -HUP "$PETDNS_PID"
	reloads=$((reloads + 1))
	until [ "$(count 'keeping the running configuration' "$PETDNS_LOG")" -ge "$reloads" ] ||
	    [ "$(date +%s)" -ge "$end" ]; do
		sleep 0.05
	done
	check_match "SIGHUP, $1: the error names file and line" \
	    "^\[ERROR\] reload: $2.*; keeping the running configuration$" \
	    "$(grep 'keeping the running configuration' "$PETDNS_LOG" | sed -n "${reloads}p")"
	check "SIGHUP, $1: the running configuration serves" "17" "$(ttl)"
}
# Each fixture also beside the Corefile under its own name, for the import cycle.
for f in "$bad"/corefile/*.Corefile; do
	cp "$f" "$PETDNS_DIR/"
	cp "$f" "$PETDNS_CONF"
	hup_error "${f##*/}" "$PETDNS_DIR/[^:]+(:|: )$(sed -n '1s/^# error: //p' "$f")"
done
rm "$PETDNS_CONF"
hup_error "a missing Corefile" "$PETDNS_CONF: No such file or directory"
check "one error per bad reload, no more" "$reloads" "$(count '^\[ERROR\]' "$PETDNS_LOG")"
check "nothing else complained" "" "$(grep -E '^\[(WARNING|FATAL)\]' "$PETDNS_LOG")"
petdns_stop

# --- The reload directive: a bad Corefile is one error, not one per check,
# and the running configuration serves until a good one replaces it.
conf_reload() {
	printf 'cluster.local:%s {\n    reload 2s 1s\n    kubernetes {\n        manifests %s\n        ttl %s\n    }\n}\n' \
	    "$PORT" "$TESTDATA/local" "$1"
}
PORT=$(free_port)
petdns_start "$(conf_reload 17)"
cp "$bad/corefile/unknown-option.Corefile" "$PETDNS_CONF"
end=$(($(date +%s) + $(lib_secs 10)))
until grep -q "keeping the running configuration" "$PETDNS_LOG" || [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.1
done
sleep $(lib_secs 7)	# two more checks of the unchanged file
check "reload directive: one error for a bad Corefile, not one per check" "1" \
    "$(count "^\[ERROR\] reload: $PETDNS_CONF:4: .*podz.*keeping the running configuration$" "$PETDNS_LOG")"
check "reload directive: the running configuration serves" "17" "$(ttl)"
conf_reload 23 >"$PETDNS_CONF"
end=$(($(date +%s) + $(lib_secs 15)))
until [ "$(ttl)" = 23 ] || [ "$(date +%s)" -ge "$end" ]; do
	sleep 0.1
done
check "reload directive: a good Corefile after the bad one applies" "23" "$(ttl)"
status=0
petdns_stop || status=$?
check "clean exit" "0" "$status"
finish
