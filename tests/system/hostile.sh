#!/usr/bin/env bash
# hostile.sh -- malformed and abusive DNS input against the real binary: each
# case gets its specific answer (FORMERR, NOTIMP, REFUSED, BADVERS, or
# nothing), and after each one valid queries over UDP and TCP still get
# correct answers.
#
# What a case gets, and why (RFC 1035, 6891, 6895, 7766; as CoreDNS and Knot):
#   - shorter than a header, or QR set: dropped (nothing to echo; no loops);
#   - any malformed question or section (labels or compression pointers
#     leaving the packet, pointing forward, at themselves or in loops, names
#     over 255 bytes, QDCOUNT other than 1, records in the answer or
#     authority section, counts the packet does not hold): FORMERR with the
#     header echoed and no question;
#   - opcodes other than QUERY: NOTIMP, opcode echoed;
#   - classes other than IN: REFUSED, question echoed;
#   - EDNS: unknown options ignored; an option or OPT record that does not fit,
#     two OPT records, or an OPT owner other than the root: FORMERR (RFC 6891
#     6.1.1, 6.1.2); version above 0: BADVERS with our OPT; sizes below 512
#     count as 512, and 65535 gets all that fits one datagram;
#   - TCP: no query within the read timeout, or none for the idle timeout
#     after the last, closes; a zero-length frame closes; a client that does
#     not read is closed once 256 KiB wait for it; past the connection cap the
#     least recently active connection is closed.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig kdig python3

# The big headless service: its A RRset (120 pets) needs TCP or EDNS.
dir=$(big_manifests hostile)
LIB_DIRS+=("$dir")

# Short TCP timeouts and a small cap, so that the TCP cases take seconds.
export PETDNS_TCP_READ_MS=1500 PETDNS_TCP_IDLE_MS=4000 PETDNS_TCP_MAX_CONNS=20
PORT=$(free_port)
petdns_start "cluster.local:$PORT {
    kubernetes cluster.local {
        manifests $dir
    }
}"
BIG=big.default.svc.cluster.local
API=api.shop.svc.cluster.local
wait_answer "the zone is loaded" "10.96.0.11" "$API"

# still_serving WHAT: a real query over UDP (dig) and over TCP (kdig).
still_serving() {
	check "$1: then dig (UDP) and kdig (TCP) still answer" "10.96.0.11 10.96.0.11" \
	    "$(ask +short "$API") $(kdig @127.0.0.1 -p "$PORT" +tcp +time=2 +short "$API")"
}

# expect SCENARIO EXPECTED: queues a case of rawdns.py for run_cases.
CASES=()
WANT=()
expect() {
	CASES+=("$1")
	WANT+=("$2")
}

# run_cases WHAT [--detail]: sends the queued cases in one rawdns.py run
# (Python starts slowly on a busy machine); each case is checked, and so is
# the valid UDP and TCP query rawdns.py sends after it. Then dig and kdig.
run_cases() {
	local out i c
	out=$(python3 "$TOPSRC/tests/system/rawdns.py" "$PORT" ${2-} --batch "${CASES[@]}")
	for i in "${!CASES[@]}"; do
		c=${CASES[$i]}
		check "$c" "${WANT[$i]}" "$(printf '%s\n' "$out" | sed -n "s/^$c: //p")"
		check "$c: then a valid query over UDP and TCP" "ok" \
		    "$(printf '%s\n' "$out" | sed -n "s/^$c then: //p")"
	done
	still_serving "$1"
	CASES=()
	WANT=()
}

H="id=4660 opcode=0"
FORMERR="$H rcode=1 qr=1 aa=0 tc=0 qd=0 an=0 ns=0 ar=0"
REFUSED="$H rcode=5 qr=1 aa=0 tc=0 qd=1 an=0 ns=0 ar=0"
ANSWER="$H rcode=0 qr=1 aa=1 tc=0 qd=1 an=1 ns=0 ar=0"
ANSWER_EDNS="$H rcode=0 qr=1 aa=1 tc=0 qd=1 an=1 ns=0 ar=1 opt=v0/1232 xrcode=0"
BADVERS="$H rcode=0 qr=1 aa=0 tc=0 qd=1 an=0 ns=0 ar=1 opt=v0/1232 xrcode=16"

# Headers cut short are dropped; a header without its question is FORMERR.
expect truncated-headers "$(printf 'none\n%.0s' $(seq 12))"
for c in header-only question-no-type question-half-type; do
	expect "$c" "$FORMERR"
done
run_cases "short packets" --detail

# Labels past the end, extended label types, compression pointers.
for c in label-past-end label-past-end-deep label-extended-type \
    pointer-self pointer-loop pointer-loop-2 pointer-forward forward-pointer \
    pointer-to-header pointer-past-end pointer-after-label; do
	expect "$c" "$FORMERR"
done
# 255 bytes is a name (outside our zone: REFUSED); 256 is not.
expect name-255 "$REFUSED"
for c in name-256 name-300 name-too-long; do
	expect "$c" "$FORMERR"
done
run_cases "bad names" --detail

# Section counts: one question, nothing in answer or authority.
for c in qdcount-0 qdcount-2 qdcount-2-present qdcount-65535 \
    answer-in-query answer-record authority-record ancount-no-record \
    arcount-no-record; do
	expect "$c" "$FORMERR"
done
# A record in the additional section is not ours to judge (CoreDNS too),
# nor are bytes after the last record.
expect additional-a-record "$ANSWER"
expect trailing-garbage "$ANSWER"
run_cases "section counts" --detail

# Responses are never answered; every opcode but QUERY is NOTIMP, echoed.
expect qr-set none
expect qr-set-notify none
expect opcode-0 "$ANSWER"
for op in $(seq 1 15); do
	expect "opcode-$op" "id=4660 opcode=$op rcode=4 qr=1 aa=0 tc=0 qd=0 an=0 ns=0 ar=0"
done
# Classes other than IN: REFUSED (CH, HS, NONE, ANY).
for c in class-ch class-hs class-none class-any class-chaos-version; do
	expect "$c" "$REFUSED"
done
run_cases "flags, opcodes and classes" --detail

# EDNS.
expect edns-plain "$ANSWER_EDNS"
expect edns-unknown-option "$ANSWER_EDNS"
expect edns-cookie "$ANSWER_EDNS"
for c in edns-option-too-long edns-option-truncated edns-rdlen-past-end \
    edns-two-opt edns-owner-not-root; do
	expect "$c" "$FORMERR"
done
expect edns-version-1 "$BADVERS"
expect edns-version-255 "$BADVERS"
expect edns-size-0 "$ANSWER_EDNS"
expect edns-size-65535 "$ANSWER_EDNS"
# dig sends at most 32767, whatever +bufsize says: rawdns and kdig ask 65535.
expect edns-size-65535-big "$H rcode=0 qr=1 aa=1 tc=0 qd=1 an=120 ns=0 ar=1 opt=v0/1232 xrcode=0"
run_cases "EDNS" --detail
out=$(ask +bufsize=100 +ignore "$BIG")
check_match "EDNS size under 512 counts as 512: truncated" "flags: qr aa tc rd;.*ANSWER: 0" "$out"
check "kdig, EDNS size 65535: all 120 pets in one datagram" "120" \
    "$(kdig @127.0.0.1 -p "$PORT" +bufsize=65535 +notcp +ignore +short "$BIG" | wc -l)"

# Garbage: one datagram of 64 KB, then 2000 mutated queries at once.
expect udp-64k-garbage "$FORMERR"
expect udp-random "answers most, malformed 0"
run_cases "garbage" --detail

# TCP framing.
expect tcp-zero-frame "closed"
expect tcp-query-then-zero "id=4660 rcode=0 qr=1 tc=0 qd=1 an=1
closed"
# Longer than its data: no answer, closed at the read timeout.
expect tcp-long-frame "closed"
# A 3-byte frame is dropped and the connection serves on until idle.
expect tcp-short-frame "id=9 rcode=0 qr=1 tc=0 qd=1 an=1
closed"
expect tcp-garbage-frame "none"
expect tcp-pipeline-100 "in order"
expect tcp-bytewise "id=7 rcode=0 qr=1 tc=0 qd=1 an=1
id=8 rcode=0 qr=1 tc=0 qd=1 an=1"
run_cases "TCP framing"

# TCP clients that stall: silent ones go at the read timeout (1.5 s); after
# an answer the idle timeout (4 s) applies; a byte every 0.3 s never makes a
# query; one that never reads is cut off.
expect tcp-silent "open
closed"
expect tcp-idle "id=4660 rcode=0 qr=1 tc=0 qd=1 an=1
open
closed"
expect tcp-slowloris "closed"
expect tcp-no-read "closed"
run_cases "stalling TCP clients"

# Many connections: the cap (20) holds, the least recently active go first.
expect tcp-many "id=100 rcode=0 qr=1 tc=0 qd=1 an=1
closed: 1 2 3 4 5
id=200 rcode=0 qr=1 tc=0 qd=1 an=1
id=224 rcode=0 qr=1 tc=0 qd=1 an=1"
expect tcp-flood "closed 180 of 200"
run_cases "many TCP connections"

kill -0 "$PETDNS_PID" && lib_pass "process alive" || check "process alive" alive dead
finish
