#!/usr/bin/env bash
# corefile.sh -- Corefile handling of the real binary: errors with file:line, ports, routing, env, bind.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig

conf=$(mktemp -d "${TMPDIR:-/tmp}/petdns-corefile.XXXXXX")
LIB_DIRS+=("$conf")

# expect_error NAME LINE-PATTERN COREFILE-TEXT: petdns exits 1 naming the file and line.
expect_error() {
	local out status
	printf '%s\n' "$3" >"$conf/Corefile"
	out=$("$PETDNS" -conf "$conf/Corefile" 2>&1)
	status=$?
	check "$1: exit status" "1" "$status"
	check_match "$1: message" "$conf/Corefile:$2" "$out"
}
expect_error "unknown directive" "2: unknown directive 'nosuch'" "cluster.local:1053 {
    nosuch
}"
expect_error "unknown kubernetes option" "3: .*'podz'" "cluster.local:1053 {
    kubernetes {
        podz insecure
    }
}"
expect_error "bad ttl" "3: .*ttl" "cluster.local:1053 {
    kubernetes {
        ttl 99999
    }
}"
expect_error "bad pods mode" "3: .*pods" "cluster.local:1053 {
    kubernetes {
        pods sometimes
    }
}"
expect_error "unclosed block" "[0-9]+: " "cluster.local:1053 {
    kubernetes {
        pods insecure
"

check_match "-plugins lists the directives" "dns\.kubernetes" "$("$PETDNS" -plugins)"
check_match "-version" "^petdns-[0-9]" "$("$PETDNS" -version)"

# -dns.port overrides the Corefile's port; {\$ENV} is substituted.
PORT=$(free_port)
MANIFESTS_DIR="$TESTDATA/local" petdns_start ".:1 {
    kubernetes cluster.local in-addr.arpa {
        manifests {\$MANIFESTS_DIR}
        fallthrough in-addr.arpa
    }
}" -dns.port "$PORT"
check "-dns.port and {\$ENV}" "10.244.0.2" "$(ask +short web-0.nginx.default.svc.cluster.local)"
# A root block with no forwarder: outside names and fallen-through NXDOMAINs fail.
check_match "outside the kubernetes zones in a . block: SERVFAIL" "status: SERVFAIL" "$(ask example.com)"
check_match "fallthrough with nothing after it: SERVFAIL" "status: SERVFAIL" "$(ask -x 192.0.2.1)"
check_match "no fallthrough for cluster.local: NXDOMAIN" "status: NXDOMAIN" "$(ask nosuch.cluster.local)"
check "reverse still answered" "web-0.nginx.default.svc.cluster.local." "$(ask +short -x 10.244.0.2)"
petdns_stop

# Two blocks on one port: the longest zone wins; bind limits the addresses.
PORT=$(free_port)
petdns_start "cluster.local:$PORT {
    bind 127.0.0.1
    kubernetes {
        manifests $TESTDATA/local
        ttl 17
    }
}
example.org:$PORT {
    bind 127.0.0.1
}"
check_match "cluster.local block answers with its ttl" "web-0.nginx.default.svc.cluster.local.[[:space:]]+17[[:space:]]" \
    "$(ask +noall +answer web-0.nginx.default.svc.cluster.local)"
check_match "example.org block has nothing to answer: REFUSED" "status: REFUSED" "$(ask www.example.org)"
check_match "no block: REFUSED" "status: REFUSED" "$(ask www.example.net)"
check_match "bind 127.0.0.1: no answer on 127.0.0.2" "timed out|no servers could be reached" \
    "$(dig @127.0.0.2 -p "$PORT" +time=1 +tries=1 web-0.nginx.default.svc.cluster.local 2>&1)"
finish
