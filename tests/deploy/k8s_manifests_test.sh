#!/usr/bin/env bash
# docker/k8s/ as Kubernetes reads it: `kubectl apply --dry-run=client --validate=false -f docker/k8s/` against a
# stand-in for the API server's discovery on loopback (api_stub.py: kubectl maps kinds to resources even in a client
# dry run, and there is no cluster here), then the shape docs/fleet.md promises, read from kubectl's own output: a
# headless Service named by the StatefulSet, per-pod state volumes, the fleet's settings and no fixed first index
# (the pod's ordinal decides). Exits 77 (ctest: skipped) without kubectl (Debian: kubernetes-client).
set -euo pipefail
ROOT="$1"
command -v kubectl >/dev/null || { echo "SKIP: kubectl is not installed (Debian package kubernetes-client)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }

WORK="$(mktemp -d)"
STUB_PID=""
trap '[ -n "$STUB_PID" ] && kill "$STUB_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
python3 "$ROOT/tests/deploy/api_stub.py" >"$WORK/port" &
STUB_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT="$(cat "$WORK/port")"
cat >"$WORK/kubeconfig" <<CONFIG
apiVersion: v1
kind: Config
clusters: [{name: stub, cluster: {server: "http://127.0.0.1:$PORT"}}]
contexts: [{name: stub, context: {cluster: stub, user: stub, namespace: default}}]
users: [{name: stub, user: {}}]
current-context: stub
CONFIG
export KUBECONFIG="$WORK/kubeconfig"

echo "kubectl $(kubectl version --client 2>/dev/null | head -n 1)"
kubectl apply --dry-run=client --validate=false -f "$ROOT/docker/k8s/" | tee "$WORK/applied"
grep -qx 'service/mesim-fleet created (dry run)' "$WORK/applied"
grep -qx 'statefulset.apps/mesim-fleet created (dry run)' "$WORK/applied"

kubectl apply --dry-run=client --validate=false -o json -f "$ROOT/docker/k8s/" >"$WORK/objects.json"
python3 - "$WORK/objects.json" <<'CHECK'
import json, sys
doc = json.load(open(sys.argv[1]))
items = doc["items"] if doc.get("kind") == "List" else [doc]
by_kind = {o["kind"]: o for o in items}
svc, sts = by_kind["Service"], by_kind["StatefulSet"]
problems = []
def need(ok, what):
    if not ok: problems.append(what)
need(svc["spec"].get("clusterIP") == "None", "the Service is headless (clusterIP: None)")
need(sts["spec"]["serviceName"] == svc["metadata"]["name"], "the StatefulSet names the headless Service")
labels = sts["spec"]["template"]["metadata"]["labels"]
need(all(labels.get(k) == v for k, v in sts["spec"]["selector"]["matchLabels"].items()), "selector matches the pods")
need(all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()), "the Service selects the pods")
claims = [t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])]
container = sts["spec"]["template"]["spec"]["containers"][0]
mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
need(claims and all(mounts.get(c) == "/var/lib/mesim" for c in claims), "a per-pod state volume on /var/lib/mesim")
env = {e["name"]: e for e in container.get("env", [])}
for name in ("MESIM_FLEET", "MESIM_FLEET_SEED", "MESIM_FLEET_PORT_BASE"):
    need(name in env, name + " is set")
need("MESIM_FLEET_FIRST_INDEX" not in env and "MESIM_SHARD" not in env,
     "no fixed shard: the pod's ordinal (its host name) decides")
need(int(env.get("MESIM_FLEET", {}).get("value", "0")) >= 1, "MESIM_FLEET is a device count")
if problems:
    print("FAIL:", "; ".join(problems)); sys.exit(1)
print("ok: headless Service %s, StatefulSet of %s pods x %s devices, volume claims %s" % (
    svc["metadata"]["name"], sts["spec"]["replicas"], env["MESIM_FLEET"]["value"], claims))
CHECK
