#!/usr/bin/env bash
# records.sh -- the embedded default answers DESIGN.md section 7 and section 4 names to dig, kdig and nslookup.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig kdig nslookup

PORT=$(free_port)
petdns_start "cluster.local:$PORT in-addr.arpa:$PORT ip6.arpa:$PORT {
    bind 127.0.0.1
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        manifests $TESTDATA/local
        pods insecure
    }
}"
kask() { kdig @127.0.0.1 -p "$PORT" +time=2 +retry=0 "$@"; }

check "pet web-0" "10.244.0.2" "$(ask +short web-0.nginx.default.svc.cluster.local)"
check "pet web-1" "10.244.0.3" "$(ask +short web-1.nginx.default.svc.cluster.local)"
check "headless service: both pets" "10.244.0.2
10.244.0.3" "$(ask +short nginx.default.svc.cluster.local | sort)"
check "SRV names each pet" "0 50 80 web-0.nginx.default.svc.cluster.local.
0 50 80 web-1.nginx.default.svc.cluster.local." \
    "$(ask +short _web._tcp.nginx.default.svc.cluster.local SRV | sort)"
check_match "SRV glue in additional" "web-0.nginx.default.svc.cluster.local.[[:space:]]+5[[:space:]]+IN[[:space:]]+A[[:space:]]+10.244.0.2" \
    "$(ask +noall +additional _web._tcp.nginx.default.svc.cluster.local SRV)"
check "pet over TCP (kdig)" "10.244.0.2" "$(kask +tcp +short web-0.nginx.default.svc.cluster.local)"
check "pet over UDP (kdig)" "10.244.0.2" "$(kask +short web-0.nginx.default.svc.cluster.local A)"
check_match "nslookup finds the pet" "Address: 10.244.0.2" \
    "$(nslookup -port="$PORT" web-0.nginx.default.svc.cluster.local 127.0.0.1)"
check "ClusterIP service" "10.96.0.11" "$(ask +short api.shop.svc.cluster.local)"
check "named port SRV" "0 100 80 api.shop.svc.cluster.local." "$(ask +short _http._tcp.api.shop.svc.cluster.local SRV)"
check "UDP port SRV" "0 100 9100 api.shop.svc.cluster.local." "$(ask +short _metrics._udp.api.shop.svc.cluster.local SRV)"
check "dual-stack AAAA" "fd00:10:96::7" "$(ask +short cart.shop.svc.cluster.local AAAA)"
check "ExternalName CNAME" "search.example.com." "$(ask +short search.shop.svc.cluster.local)"
check "in-zone ExternalName chased" "10.244.0.2
10.244.0.3
nginx.default.svc.cluster.local." "$(ask +short www.default.svc.cluster.local | sort)"
check "pod insecure" "10.244.0.2" "$(ask +short 10-244-0-2.default.pod.cluster.local)"
check "reverse of a pet" "web-0.nginx.default.svc.cluster.local." "$(ask +short -x 10.244.0.2)"
check "reverse of a ClusterIP" "kube-dns.kube-system.svc.cluster.local." "$(ask +short -x 10.96.0.10)"
check "reverse IPv6" "cart.shop.svc.cluster.local." "$(ask +short -x fd00:10:96::7)"
check "dns-version" '"1.1.0"' "$(ask +short dns-version.cluster.local TXT)"
check "NS" "ns.dns.cluster.local." "$(ask +short cluster.local NS)"
check "NS glue" "10.96.0.10" "$(ask +short ns.dns.cluster.local)"
check_match "SOA" "^ns.dns.cluster.local. hostmaster.cluster.local. [0-9]+ 7200 1800 86400 5$" "$(ask +short cluster.local SOA)"

# Negative answers: NXDOMAIN for missing names, NODATA for empty non-terminals, both with the SOA.
out=$(ask web-2.nginx.default.svc.cluster.local)
check_match "missing pet is NXDOMAIN" "status: NXDOMAIN" "$out"
check_match "NXDOMAIN carries the SOA" "AUTHORITY: 1" "$out"
out=$(ask default.svc.cluster.local)
check_match "empty non-terminal is NODATA" "status: NOERROR.*" "$out"
check_match "NODATA has no answer" "ANSWER: 0, AUTHORITY: 1" "$out"
check_match "AAAA on an IPv4 name is NODATA" "ANSWER: 0, AUTHORITY: 1" "$(ask web-0.nginx.default.svc.cluster.local AAAA)"
check_match "not-ready pod has no name" "status: NXDOMAIN" "$(ask 10-244-9-9.api.shop.svc.cluster.local)"
check_match "authoritative" "flags: qr aa;" "$(ask +norec api.shop.svc.cluster.local)"
check_match "names outside the zones are refused" "status: REFUSED" "$(ask example.com)"

# Case: the answer copies the question's spelling, in owners and generated names.
check_match "owner keeps the question's case" "^WEB-0.Nginx.default.svc.Cluster.Local.[[:space:]]" \
    "$(ask +noall +answer WEB-0.Nginx.default.svc.Cluster.Local)"
check "SRV target keeps the zone's case" "0 50 80 web-0.nginx.default.svc.CLUSTER.LOCAL.
0 50 80 web-1.nginx.default.svc.CLUSTER.LOCAL." \
    "$(ask +short _web._tcp.nginx.default.svc.CLUSTER.LOCAL SRV | sort)"
finish
