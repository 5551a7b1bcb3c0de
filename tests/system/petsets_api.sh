#!/usr/bin/env bash
# petsets_api.sh -- the ordinal controller against the fake API with a simulated kubelet and endpoint controller.
. "$TOPSRC/tests/system/lib.sh"
need_cmd dig python3

fakeapi_start --state "$TESTDATA/fakeapi/petset.json" \
    --simulate kubelet,graceful-deletion,endpointslices,petsets --kubelet-delay 0.3
PORT=$(free_port)
export PETDNS_WATCH_BACKOFF_MS=200 PETDNS_WATCH_BACKOFF_MAX_MS=1000
petdns_start "cluster.local:$PORT {
    kubernetes {
        endpoint http://127.0.0.1:$FAKEAPI_PORT
        petsets
    }
}"
# history FILTER: the fake cluster's ordered changes, one "event Kind ns/name" a line.
history() { ctl GET "/history?kind=Pod,PersistentVolumeClaim&namespace=default&format=text$1" | grep -E '^(created|deleted|terminating|ready) '; }
api() {	# api METHOD PATH [JSON]: a request to the fake API itself
	python3 - "$FAKEAPI_PORT" "$@" <<'PY'
import sys, urllib.request
port, method, path = sys.argv[1], sys.argv[2], sys.argv[3]
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), data=body, method=method,
                             headers={"Content-Type": "application/merge-patch+json"})
print(urllib.request.urlopen(req, timeout=10).status)
PY
}
scale() { api PATCH /apis/petdns.io/v1alpha1/namespaces/default/petsets/web/scale "{\"spec\":{\"replicas\":$1}}" >/dev/null; }

# DESIGN.md section 7: claim and pet 0, then (pet 0 ready) claim and pet 1.
wait_answer "web-1 resolves" "10.244.0.11" web-1.nginx.default.svc.cluster.local
check "web-0 resolves" "10.244.0.10" "$(ask +short web-0.nginx.default.svc.cluster.local)"
check "ordered creation, claims first, each after the one before is ready" \
"created PersistentVolumeClaim default/www-web-0
created Pod default/web-0
ready Pod default/web-0
created PersistentVolumeClaim default/www-web-1
created Pod default/web-1
ready Pod default/web-1" "$(history)"
check "SRV names both pets" "2" "$(ask +short _web._tcp.nginx.default.svc.cluster.local SRV | wc -l)"
pod=$(ctl GET "/objects?kind=Pod&namespace=default" | python3 -c '
import json, sys
p = [o for o in json.load(sys.stdin)["items"] if o["metadata"]["name"] == "web-1"][0]
ref = p["metadata"]["ownerReferences"][0]
print(p["spec"]["hostname"], p["spec"]["subdomain"], p["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"],
      p["metadata"]["labels"]["apps.kubernetes.io/pod-index"], ref["kind"], ref["name"], ref["controller"],
      [v["persistentVolumeClaim"]["claimName"] for v in p["spec"]["volumes"] if "persistentVolumeClaim" in v])')
check "the pet pod's identity" "web-1 nginx web-1 1 PetSet web True ['www-web-1']" "$pod"
status=""
end=$(($(date +%s) + 10))
while [ "$status" != "2 2 1" ] && [ "$(date +%s)" -lt "$end" ]; do
	status=$(ctl GET "/objects?kind=PetSet" | python3 -c '
import json, sys
s = json.load(sys.stdin)["items"][0].get("status", {})
print(s.get("replicas"), s.get("readyReplicas"), s.get("observedGeneration"))')
	sleep 0.1
done
check "status through the status subresource" "2 2 1" "$status"
check_match "decisions posted as events" "SuccessfulCreate PetSet/web: creating web-1" "$(ctl GET '/events?object=web&format=text')"

# Both pets deleted by hand: back with the same names and claims, and their DNS names.
mark=$(ctl GET /history | python3 -c 'import json,sys; print(json.load(sys.stdin)["last"])')
api DELETE /api/v1/namespaces/default/pods/web-0 >/dev/null
api DELETE /api/v1/namespaces/default/pods/web-1 >/dev/null
ctl POST /wait '{"ready":[{"name":"web-0"},{"name":"web-1"}],"timeout":15}' >/dev/null
wait_answer "web-0 back" "10.244.0.10" web-0.nginx.default.svc.cluster.local
wait_answer "web-1 back" "10.244.0.11" web-1.nginx.default.svc.cluster.local
check "no new claims: the same ones are reused" "" "$(history "&since=$mark" | grep PersistentVolumeClaim)"
check "recreated in order" "created Pod default/web-0 created Pod default/web-1" \
    "$(history "&since=$mark" | grep '^created' | tr '\n' ' ' | sed 's/ $//')"

# A failed pet is deleted and made again.
ctl POST /kubelet '{"namespace":"default","name":"web-1","phase":"Failed"}' >/dev/null
ctl POST /wait '{"history":{"kind":"Pod","name":"web-1","event":"created","min":2},"ready":[{"name":"web-1"}],"timeout":15}' >/dev/null
wait_answer "failed pet replaced" "10.244.0.11" web-1.nginx.default.svc.cluster.local
check_match "its replacement logged" "deleting web-1: it failed" "$(cat "$PETDNS_LOG")"

# Scale up: web-2 comes; its name is published only while it is ready.
scale 3
wait_answer "scaled up: web-2 resolves" "10.244.0.12" web-2.nginx.default.svc.cluster.local
ctl POST /kubelet '{"namespace":"default","name":"web-2","ready":false}' >/dev/null
wait_answer "an unready pet has no name" "" web-2.nginx.default.svc.cluster.local
check_match "NXDOMAIN then" "status: NXDOMAIN" "$(ask web-2.nginx.default.svc.cluster.local)"
ctl POST /kubelet '{"namespace":"default","name":"web-2","ready":true}' >/dev/null
wait_answer "ready again: the name is back" "10.244.0.12" web-2.nginx.default.svc.cluster.local
# Then down to 1: the highest first, one at a time.
mark=$(ctl GET /history | python3 -c 'import json,sys; print(json.load(sys.stdin)["last"])')
scale 1
ctl POST /wait '{"gone":[{"name":"web-2"},{"name":"web-1"}],"timeout":15}' >/dev/null
check "scaled down from the top, one at a time" "deleted Pod default/web-2 deleted Pod default/web-1" \
    "$(history "&since=$mark" | grep '^deleted' | tr '\n' ' ' | sed 's/ $//')"
wait_answer "only web-0 left in DNS" "10.244.0.10" nginx.default.svc.cluster.local

# Freeze: a pet annotated initialized=false stops the set.
python3 - "$FAKEAPI_PORT" <<'PY'
import json, sys, urllib.request
url = "http://127.0.0.1:%s/api/v1/namespaces/default/pods/web-0" % sys.argv[1]
body = json.dumps({"metadata": {"annotations": {"pod.alpha.kubernetes.io/initialized": "false"}}}).encode()
urllib.request.urlopen(urllib.request.Request(url, data=body, method="PATCH",
                       headers={"Content-Type": "application/merge-patch+json"}), timeout=10)
PY
end=$(($(date +%s) + 10))
until grep -q "frozen" "$PETDNS_LOG" || [ "$(date +%s)" -ge "$end" ]; do sleep 0.1; done
scale 2
sleep 1.5	# a pet would have been created within this time; none may be
check "frozen: no pet created" "" "$(ctl GET '/objects?kind=Pod&namespace=default' | python3 -c '
import json, sys
print(" ".join(o["metadata"]["name"] for o in json.load(sys.stdin)["items"] if o["metadata"]["name"] != "web-0"))')"
check_match "frozen: says why" "web-0 has pod.alpha.kubernetes.io/initialized=false|frozen" "$(cat "$PETDNS_LOG")"
status=0
petdns_stop || status=$?
check "clean exit" "0" "$status"
finish
