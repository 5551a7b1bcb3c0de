#!/usr/bin/env bash
# protocol.sh -- DNS protocol rules against the real binary: EDNS, truncation, TCP, malformed packets.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig kdig python3 unshare ip

# A headless service with 120 ready pets: its A RRset does not fit 512 or 1232 bytes.
dir=$(big_manifests protocol)
LIB_DIRS+=("$dir")

PORT=$(free_port)
petdns_start ".:$PORT {
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        manifests $dir
    }
}"
raw() { python3 "$TOPSRC/tests/system/rawdns.py" "$PORT" "$1"; }
BIG=big.default.svc.cluster.local

# EDNS0.
check_match "OPT echoed with our UDP size" "udp: 1232" "$(ask +edns=0 api.shop.svc.cluster.local)"
check_match "no OPT without EDNS" "ADDITIONAL: 0" "$(ask +noedns api.shop.svc.cluster.local)"
check_match "EDNS version 1 gets BADVERS" "status: BADVERS" "$(ask +edns=1 +noednsneg api.shop.svc.cluster.local)"

# Truncation: 512 without EDNS, the client's size with it; TCP gets everything.
out=$(ask +noedns +ignore $BIG)
check_match "UDP without EDNS truncates" "flags: qr aa tc" "$out"
check_match "truncated answer is empty" "ANSWER: 0" "$out"
out=$(ask +bufsize=1232 +ignore $BIG)
check_match "UDP truncates at the EDNS size" "flags: qr aa tc" "$out"
check "UDP with a 4096 EDNS size carries all 120" "120" "$(ask +bufsize=4096 +ignore +short $BIG | wc -l)"
check "dig retries over TCP after TC" "120" "$(ask +noedns +short $BIG | wc -l)"
check "TCP carries all 120" "120" "$(ask +tcp +short $BIG | wc -l)"
check "kdig TCP carries all 120" "120" "$(kdig @127.0.0.1 -p "$PORT" +tcp +short $BIG | wc -l)"
out=$(ask +noedns +ignore _peer._tcp.$BIG SRV)
check_match "large SRV truncated over UDP" "flags: qr aa tc" "$out"
check "SRV over TCP: 120 records of weight 1" "120" "$(ask +tcp +short _peer._tcp.$BIG SRV | grep -c '^0 1 7000 ')"

# ANY is answered minimally (RFC 8482), AXFR/IXFR refused, non-IN classes refused.
check "ANY gets one RRset" "1" "$(ask +short api.shop.svc.cluster.local ANY | wc -l)"
check "AXFR over TCP refused" "id=4660 rcode=5 qr=1 tc=0 qd=1 an=0" "$(raw axfr-tcp)"
check "IXFR refused" "id=4660 rcode=5 qr=1 tc=0 qd=1 an=0" "$(raw ixfr-udp)"
check "CH class refused" "id=4660 rcode=5 qr=1 tc=0 qd=1 an=0" "$(raw class-ch)"
check "ANY class refused" "id=4660 rcode=5 qr=1 tc=0 qd=1 an=0" "$(raw class-any)"

# Malformed and unusual packets: FORMERR, NOTIMP, or dropped; never a crash.
check "valid raw query" "id=4660 rcode=0 qr=1 tc=0 qd=1 an=1" "$(raw valid)"
check "short packets dropped" "none
none
none" "$(raw short)"
check "QR set dropped" "none" "$(raw qr-set)"
check "QDCOUNT 0 is FORMERR" "id=4660 rcode=1 qr=1 tc=0 qd=0 an=0" "$(raw qdcount-0)"
check "QDCOUNT 2 is FORMERR" "id=4660 rcode=1 qr=1 tc=0 qd=0 an=0" "$(raw qdcount-2)"
check "records in a query's answer section: FORMERR" "id=4660 rcode=1 qr=1 tc=0 qd=0 an=0" "$(raw answer-in-query)"
check "opcode STATUS is NOTIMP" "id=4660 rcode=4 qr=1 tc=0 qd=0 an=0" "$(raw opcode-status)"
check "opcode UPDATE is NOTIMP" "id=4660 rcode=4 qr=1 tc=0 qd=0 an=0" "$(raw opcode-update)"
check "compression loop is FORMERR" "id=4660 rcode=1 qr=1 tc=0 qd=0 an=0" "$(raw pointer-loop)"
check "forward pointer is FORMERR" "id=4660 rcode=1 qr=1 tc=0 qd=0 an=0" "$(raw forward-pointer)"
check "label past the end is FORMERR" "id=4660 rcode=1 qr=1 tc=0 qd=0 an=0" "$(raw label-past-end)"
check "name over 255 bytes is FORMERR" "id=4660 rcode=1 qr=1 tc=0 qd=0 an=0" "$(raw name-too-long)"
check_match "garbage is FORMERR or dropped" "^(none|id=[0-9]+ rcode=[14] qr=1)" "$(raw garbage)"

# TCP: pipelining in order, one byte at a time, and a garbage frame.
check "TCP pipelined queries answered in order" "id=1 rcode=0 qr=1 tc=0 qd=1 an=1
id=2 rcode=0 qr=1 tc=0 qd=1 an=1
id=3 rcode=0 qr=1 tc=0 qd=1 an=1" "$(raw tcp-pipelined)"
check "TCP one byte at a time" "id=7 rcode=0 qr=1 tc=0 qd=1 an=1
id=8 rcode=0 qr=1 tc=0 qd=1 an=1" "$(raw tcp-bytewise)"
check_match "TCP garbage frame: FORMERR or closed" "^(none|id=[0-9]+ rcode=1 qr=1)" "$(raw tcp-garbage-frame)"

# An answer over the interface's MTU is never sent in fragments (DF, RFC
# 9715): it goes again truncated, its OPT kept, and dig retries over TCP.
# A network namespace of our own (user namespace: no root needed) whose
# loopback's MTU is 1300 shows it; the same port is free there.
mtu=$(unshare -rn bash -c '
	port=$3 big=$4 secs=$6
	ip link set lo up && ip link set lo mtu 1300 || exit 1
	"$1" -conf "$2" >"$5" 2>&1 &
	pid=$!
	ask() { dig +time="$secs" +tries=1 @127.0.0.1 -p "$port" +bufsize=4096 "$@"; }
	for i in $(seq $((10 * secs))); do
		ask "$big" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ask +ignore "$big"
	echo "== retried over TCP: $(ask +short "$big" | wc -l)"
	ask +ignore api.shop.svc.cluster.local
	kill "$pid" && wait "$pid"' bash "$PETDNS" "$PETDNS_CONF" "$PORT" $BIG \
	    "$PETDNS_DIR/mtu.log" "$(lib_secs 2)" 2>&1)
LIB_LOGS+=("$PETDNS_DIR/mtu.log")
check_match "over the MTU: TC, no records, the OPT kept" \
    "flags: qr aa tc rd; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1" "$mtu"
check_match "over the MTU: dig's TCP retry gets all 120" "== retried over TCP: 120" "$mtu"
check_match "under the MTU: whole over UDP" "flags: qr aa rd; QUERY: 1, ANSWER: 1," "$mtu"

# After all of that, the server still answers correctly.
check "still serving" "10.96.0.11" "$(ask +short api.shop.svc.cluster.local)"
kill -0 "$PETDNS_PID" && lib_pass "process alive" || check "process alive" alive dead
finish
