#!/usr/bin/env bash
# quickstart.sh -- install dependencies, build, and run petdns on the embedded default (zones/).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
cd "$top"
[ -x configure ] || ./bootstrap >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || ../configure --quiet
make -s -j"$(nproc)" petdns
echo "petdns: serving zones/ on 127.0.0.1:1053; try: dig @127.0.0.1 -p 1053 web-0.nginx.default.svc.cluster.local"
exec ./petdns -conf "$top/zones/Corefile" "$@"
