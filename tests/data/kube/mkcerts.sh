#!/bin/sh
# mkcerts.sh -- throwaway PKI for test_kube in DIR: ca, server (IP:127.0.0.1), client, and an unrelated ca.
set -eu
cd "$1"

newkey="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

ca() {
	openssl req -x509 $newkey -keyout "$1.key" -out "$1.crt" -days 2 \
	    -subj "/CN=$2" -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign
}

leaf() {
	openssl req $newkey -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
	printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=%s\n%s\n' \
	    "$3" "$4" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key \
	    -set_serial "$5" -days 2 -extfile "$1.ext" -out "$1.crt"
}

{
	ca ca petdns-test-ca
	ca other petdns-other-ca
	leaf server 127.0.0.1 serverAuth subjectAltName=IP:127.0.0.1 2
	leaf client petdns-test-client clientAuth "" 3
} 2>/dev/null
