#!/usr/bin/env bash
# deps.sh -- install petdns's build and test dependencies from Debian (run as root);
# clang, libclang-rt-dev (libFuzzer) and llvm (llvm-symbolizer) are for --enable-fuzzing.
set -euo pipefail
packages=(
	build-essential autoconf automake pkg-config
	libevent-dev libldns-dev libjson-c-dev libyajl-dev libcurl4-openssl-dev libyaml-dev libssl-dev
	liburcu-dev uthash-dev libcmocka-dev
	dnsutils knot-dnsutils python3 python3-yaml valgrind iproute2
	clang libclang-rt-dev llvm
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
