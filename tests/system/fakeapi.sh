#!/usr/bin/env bash
# fakeapi.sh -- the fake API server's own self-test: the test double must speak the real wire format.
. "$TOPSRC/tests/system/lib.sh"
need_cmd python3 openssl
exec python3 "$TOPSRC/tests/fakeapi/test_fakeapi.py"
