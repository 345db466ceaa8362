#!/usr/bin/env bash
# Delivery proofs: everything a user meets when installing the operator, each checked with the
# real tool.
#
#   KUBECONFIG=/path/to/stand-in/kubeconfig tests/delivery/run.sh
#   tests/delivery/run.sh --operator-bin    # only prints the binary the live checks would use
#
# - static: CRD copies in deploy/ and the chart equal crds/; the argocd-cm snippet carries the
#   current health.lua; docs/INSTALL.md's flag table and docs/CONDITIONS.md match the code;
# - Argo CD health checks: deploy/argocd/health.lua under lua5.1 in Argo CD's sandbox against
#   fixtures for every state (and two broken scripts the harness must refuse);
# - Helm (real Helm v4 through the PyPI helm-python-sdk): lint --strict and template with default
#   and non-default values, every rendered object checked; the values schema refuses bad values;
# - Kubernetes schemas (PyPI kubernetes-validate, strict): the kustomize output and every
#   rendered chart, for the oldest and newest supported Kubernetes;
# - the API server at $KUBECONFIG (a kube stand-in in CI): `kubectl apply` of
#   `kubectl kustomize deploy/` (twice: the second apply must change nothing), of rendered
#   charts, and of the argocd-cm snippet; helm install / upgrade / uninstall (memory driver);
# - alerting (Debian's `prometheus` package, installed when promtool is missing): the chart's
#   PrometheusRule rendered with the default values passes `promtool check rules`, and its alerts
#   pass the unit tests of tests/delivery/alerts/ (`promtool test rules`: each alert fires and
#   stays silent where it should); every query of the Grafana dashboard parses;
# - live: the operator binary (--cloud sim) reconciles a good and a broken VpnGateway on the
#   API server; the health check must call them Healthy and Degraded; its /healthz, /readyz
#   and /metrics (the Deployment's probes and Service) answer, and a scrape of /metrics passes
#   `promtool check metrics`. Needs the binary
#   ($VPN_OPERATOR_BIN, default the debug build: ${CARGO_TARGET_DIR:-target}/debug/vpn-operator;
#   relative paths are taken from the caller's directory): with CI=true or
#   VPN_DELIVERY_REQUIRE_LIVE=1 a missing binary is a failure, otherwise a notice.
#
# Tools it installs: a Python venv under a temp dir (or $VPN_DELIVERY_VENV, reused if present)
# with pinned helm-python-sdk, PyYAML and kubernetes-validate; lua5.1 and prometheus (promtool)
# with apt-get when missing.
# It needs kubectl and python3 >= 3.9. Prints one PASS/FAIL line per check and a final
# "N passed, M failed"; exits 1 on any failure, 2 when it cannot run at all.
set -uo pipefail
caller="$(pwd)"
cd "$(dirname "$0")/../.."
repo="$(pwd)"

# The operator binary of the live checks: cargo puts its builds under $CARGO_TARGET_DIR when set.
from_caller() { case "$1" in /*) echo "$1" ;; *) echo "$caller/$1" ;; esac; }
bin="$(from_caller "${VPN_OPERATOR_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/vpn-operator}")"
if [ "${1:-}" = --operator-bin ]; then echo "$bin"; exit 0; fi

die() { echo "FATAL: $*" >&2; exit 2; }

[ -n "${KUBECONFIG:-}" ] || die "KUBECONFIG must point at a kube stand-in or a disposable cluster"
[ -r "$KUBECONFIG" ] || die "KUBECONFIG=$KUBECONFIG is not readable"
command -v kubectl >/dev/null || die "kubectl is required"
command -v python3 >/dev/null || die "python3 is required"

work="$(mktemp -d /tmp/vpn-delivery.XXXXXX)"
operator_pid=""
cleanup() {
  if [ -n "$operator_pid" ]; then kill "$operator_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export KUBECACHEDIR="$work/kubecache"   # fresh discovery cache: the stand-in may be new

step() { printf '\n==== %s\n' "$*"; }

# ---------------------------------------------------------------- tools
step "tools"
# apt_install COMMAND PACKAGE: installs PACKAGE when COMMAND is missing (the package lists are
# refreshed only when the install fails without a refresh).
apt_install() {
  command -v "$1" >/dev/null && return 0
  echo "$1 is missing: installing the $2 package with apt-get"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    die "$1 is missing and neither root nor sudo is available to install $2"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends "$2" >"$work/apt.log" 2>&1 \
    || { $sudo apt-get update -qq >>"$work/apt.log" 2>&1 \
      && $sudo apt-get install -y -qq --no-install-recommends "$2" >>"$work/apt.log" 2>&1; } \
    || { cat "$work/apt.log" >&2; die "apt-get install $2 failed"; }
  command -v "$1" >/dev/null || die "the $2 package did not provide $1"
}
apt_install lua5.1 lua5.1
lua5.1 -v 2>&1 | head -1
apt_install promtool prometheus
promtool --version 2>&1 | head -1

venv="${VPN_DELIVERY_VENV:-$work/venv}"
py="$venv/bin/python"
requirements=(helm-python-sdk==0.2.2 PyYAML==6.0.3 kubernetes-validate==1.37.0)
if ! "$py" -c 'import helm_python, yaml, kubernetes_validate' 2>/dev/null; then
  python3 -m venv "$venv" || die "python3 -m venv failed (install the python3-venv package)"
  "$py" -m pip install -q --disable-pip-version-check "${requirements[@]}" \
    || die "pip install ${requirements[*]} failed"
fi
"$py" -c 'import helm_python as h; print("helm SDK", h.helm_sdk_version())' || die "helm-python-sdk does not load"
kubectl version --client 2>/dev/null | head -1
kubectl get --raw /version >/dev/null 2>"$work/version.err" || { cat "$work/version.err" >&2; die "the API server at $KUBECONFIG does not answer"; }

# ---------------------------------------------------------------- bookkeeping
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
# check NAME CMD...: CMD must succeed; its output is shown indented.
check() {
  local name="$1"; shift
  if "$@" >"$work/out" 2>&1; then pass "$name"; else fail "$name"; fi
  sed 's/^/    /' "$work/out" | head -40
}
# refuse NAME CMD...: CMD must fail.
refuse() {
  local name="$1"; shift
  if "$@" >"$work/out" 2>&1; then fail "$name (it succeeded)"; else pass "$name"; fi
  sed 's/^/    /' "$work/out" | tail -3
}
# harness NAME CASEFILES...: runs the Lua harness and counts each case.
harness() {
  local out="$work/harness.out"
  lua5.1 tests/delivery/health/harness.lua deploy/argocd/health.lua "$@" >"$out" 2>&1
  local rc=$?
  local p f
  p=$(grep -c '^PASS ' "$out")
  f=$(grep -c '^FAIL ' "$out")
  cat "$out"
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail "health harness exited $rc"; fi
}

# ---------------------------------------------------------------- static
step "static: copies and generated files match their sources"
check "deploy/crds equals crds/" python3 tests/delivery/static_checks.py crds deploy/crds
check "charts/vpn-operator/crds equals crds/" python3 tests/delivery/static_checks.py crds charts/vpn-operator/crds
check "argocd-cm snippet carries health.lua for every kind" python3 tests/delivery/static_checks.py argocd-cm
check "docs/INSTALL.md configuration table matches src/config.rs" python3 tests/delivery/static_checks.py config-table
check "docs/CONDITIONS.md documents every condition reason" python3 tests/delivery/static_checks.py conditions-doc
check "health.lua names only reasons the code writes" python3 tests/delivery/static_checks.py health-reasons
check "Dockerfile: multi-stage, non-root 65532, vpn-operator run" python3 tests/delivery/static_checks.py dockerfile
check "examples carry Argo CD sync waves (gateways 0, connections 1)" python3 tests/delivery/static_checks.py sync-waves

# ---------------------------------------------------------------- Argo CD health
step "Argo CD health checks under lua5.1 (Argo CD's sandbox)"
harness tests/delivery/health/cases/*.lua
for bad in tests/delivery/health/negative/*.lua; do
  refuse "harness refuses $(basename "$bad")" \
    lua5.1 tests/delivery/health/harness.lua "$bad" tests/delivery/health/cases/vpngateway.lua
done

# ---------------------------------------------------------------- Helm
step "Helm: lint, template, values schema"
mkdir -p "$work/rendered"
for values in tests/delivery/values/good/*.yaml; do
  name="$(basename "$values" .yaml)"
  check "helm lint --strict ($name)" "$py" tests/delivery/helm_checks.py lint "$values"
  check "helm template ($name)" "$py" tests/delivery/helm_checks.py template "$values" \
    "vpn-$name" "delivery-$name" "$work/rendered/$name.yaml"
done
for values in tests/delivery/values/bad/*.yaml; do
  check "values schema rejects $(basename "$values" .yaml)" "$py" tests/delivery/helm_checks.py reject "$values"
done

# ---------------------------------------------------------------- alerting
step "Alerting: the chart's alert rules and dashboard through promtool"
check "rules and dashboard queries extracted from the rendered chart (monitoring)" \
  "$py" tests/delivery/helm_checks.py promtool-files "$work/rendered/monitoring.yaml" "$work/alerts"
check "promtool check rules: the PrometheusRule" promtool check rules "$work/alerts/rules.yaml"
check "promtool check rules: every Grafana dashboard query" promtool check rules "$work/alerts/dashboard-queries.yaml"
cp tests/delivery/alerts/alerts.test.yaml "$work/alerts/"
check "promtool test rules: each alert fires and stays silent where it should" \
  promtool test rules "$work/alerts/alerts.test.yaml"

# ---------------------------------------------------------------- Kubernetes schemas
step "Kubernetes object schemas (strict)"
check "kubectl kustomize deploy/" sh -c "kubectl kustomize deploy/ > '$work/kustomize.yaml'"
check "deploy/ objects: hardened pod, probes, config, Service, RBAC" "$py" tests/delivery/helm_checks.py kustomize "$work/kustomize.yaml"
# The namespaced component, enabled the way docs/INSTALL.md says (uncommenting `components:`).
with_component() {
  cp -r deploy "$work/deploy-namespaced" \
    && sed -i 's/^# components:/components:/; s/^#   - namespaced/  - namespaced/' "$work/deploy-namespaced/kustomization.yaml" \
    && grep -qx '  - namespaced' "$work/deploy-namespaced/kustomization.yaml" \
    && kubectl kustomize "$work/deploy-namespaced" > "$work/kustomize-namespaced.yaml"
}
check "kubectl kustomize deploy/ with the namespaced component" with_component
check "deploy/ namespaced: Roles in the watched namespaces, no Secret in the ClusterRole" \
  "$py" tests/delivery/helm_checks.py kustomize-namespaced "$work/kustomize-namespaced.yaml"
# 1.28 is the documented minimum (docs/INSTALL.md, Chart.yaml kubeVersion): the CRDs' CEL rules
# use fieldPath, which older API servers reject.
for k in 1.28.0 1.33.0; do
  check "kustomize output (CRDs included) is valid Kubernetes $k" \
    "$venv/bin/kubernetes-validate" --strict --quiet -k "$k" "$work/kustomize.yaml" "$work/kustomize-namespaced.yaml"
  check "rendered charts are valid Kubernetes $k" \
    "$venv/bin/kubernetes-validate" --strict --quiet -k "$k" "$work"/rendered/*.yaml
done
refuse "the CRDs are refused by Kubernetes 1.27 (so 1.28 is the true minimum)" \
  "$venv/bin/kubernetes-validate" --strict --quiet -k 1.27.0 crds/*.yaml
chart_min_version() { grep -qx 'kubeVersion: ">=1.28.0-0"' charts/vpn-operator/Chart.yaml; }
check "Chart.yaml requires Kubernetes >= 1.28" chart_min_version

# ---------------------------------------------------------------- API server
step "API server at \$KUBECONFIG: kubectl apply, helm install"
ns_apply() {  # creates namespaces without protobuf (the stand-in refuses `kubectl create ns`)
  for ns in "$@"; do kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - || return 1; done
}
crds_before=$(kubectl get crd -o name 2>/dev/null | grep -c 'vpn.hwcloud.dev' || true)
check "namespaces for the install tests" ns_apply delivery-helm delivery-default delivery-real-existing-secret delivery-live argocd
check "helm install, upgrade, uninstall (memory storage; CRDs present before: $crds_before)" \
  "$py" tests/delivery/helm_checks.py install tests/delivery/values/good/default.yaml vpn-helm delivery-helm
check "kubectl apply kustomize deploy/" kubectl apply -f "$work/kustomize.yaml"
apply_again() {
  kubectl apply -f "$work/kustomize.yaml" | tee "$work/again.out"
  ! grep -v ' unchanged$' "$work/again.out"
}
check "applying deploy/ again changes nothing" apply_again
installed() {
  kubectl -n vpn-operator-system get deployment/vpn-operator serviceaccount/vpn-operator \
    service/vpn-operator-metrics role/vpn-operator-leader-election rolebinding/vpn-operator-leader-election -o name &&
    kubectl get clusterrole/vpn-operator clusterrolebinding/vpn-operator -o name &&
    kubectl -n vpn-operator-system get configmap -o name | grep -q vpn-operator-config
}
check "deploy/ objects are on the server" installed
for name in default real-existing-secret; do
  check "kubectl apply rendered chart ($name)" kubectl apply -f "$work/rendered/$name.yaml"
done
argocd_cm_roundtrip() {
  kubectl apply -f deploy/argocd/argocd-cm-health.yaml &&
    kubectl -n argocd get configmap argocd-cm -o json >"$work/argocd-cm.json" &&
    python3 - "$work/argocd-cm.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))["data"]
script = open("deploy/argocd/health.lua").read()
kinds = ["VpnGateway", "CustomerGateway", "VpnConnection", "CloudVpnService"]
bad = [k for k in kinds if data.get(f"resource.customizations.health.vpn.hwcloud.dev_{k}") != script]
sys.exit(f"argocd-cm keys differ from health.lua: {bad}" if bad else 0)
PY
}
check "argocd-cm snippet applies and round-trips health.lua" argocd_cm_roundtrip

# ---------------------------------------------------------------- live operator
step "live: the operator binary against the API server"
if [ ! -x "$bin" ]; then
  if [ "${CI:-}" = true ] || [ "${VPN_DELIVERY_REQUIRE_LIVE:-}" = 1 ]; then
    fail "live checks: no operator binary at $bin (build it before this script in CI)"
  else
    echo "SKIP live checks: no operator binary at $bin (cargo build --bin vpn-operator, or set VPN_OPERATOR_BIN)"
  fi
else
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  POD_NAMESPACE=delivery-live POD_NAME=delivery-live-operator "$bin" run --cloud sim \
    --namespace delivery-live --metrics-addr "127.0.0.1:$port" --log-format text \
    >"$work/operator.log" 2>&1 &
  operator_pid=$!
  http_get() {  # http_get PATH [WANT_SUBSTRING]: 200 within 30 s
    python3 - "$port" "$1" "${2:-}" <<'PY'
import sys, time, urllib.request
port, path, want = sys.argv[1], sys.argv[2], sys.argv[3]
deadline, last = time.monotonic() + 30, ""
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            body = r.read().decode()
            if r.status == 200 and want in body:
                print(body.strip().splitlines()[-1] if body.strip() else "(empty)")
                sys.exit(0)
            last = f"HTTP {r.status}"
    except Exception as e:
        last = str(e)
    time.sleep(0.5)
sys.exit(f"GET {path}: no 200 with {want!r} within 30 s (last: {last})")
PY
  }
  check "operator /readyz answers 200 (readiness probe)" http_get /readyz "readyz check passed"
  check "operator /healthz answers 200 (liveness probe)" http_get /healthz
  broken() { sed -e 's/name: edge-gateway/name: broken-gateway/' \
    -e 's/a0000000-0000-4000-8000-000000000001/a0000000-0000-4000-8000-00000000dead/' examples/vpngateway.yaml; }
  apply_gateways() {
    kubectl -n delivery-live apply -f examples/vpngateway.yaml && broken | kubectl -n delivery-live apply -f -
  }
  check "apply a good and a broken VpnGateway" apply_gateways
  check "the good VpnGateway becomes Ready" kubectl -n delivery-live wait vpngateway/edge-gateway \
    --for=jsonpath='{.status.conditions[?(@.type=="Ready")].status}'=True --timeout=90s
  check "the broken VpnGateway is reported" kubectl -n delivery-live wait vpngateway/broken-gateway \
    --for=jsonpath='{.status.conditions[?(@.type=="Synced")].status}'=False --timeout=90s
  kubectl -n delivery-live get vpngateway edge-gateway -o json >"$work/good.json"
  kubectl -n delivery-live get vpngateway broken-gateway -o json >"$work/broken.json"
  python3 tests/delivery/to_lua.py VpnGateway "$work/live.lua" \
    "live: operator-written status of a working gateway=Healthy:$work/good.json" \
    "live: operator-written status of a gateway with a bad VPC=Degraded:$work/broken.json"
  harness "$work/live.lua"
  check "operator /metrics counts the reconciles (metrics Service)" http_get /metrics "vpn_operator_reconciles_total"
  scrape_lint() {  # a live scrape, as promtool reads it (the classic text format), must be clean
    python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
      "http://127.0.0.1:$port/metrics" >"$work/scrape.txt" || return 1
    grep -c '^vpn_operator_' "$work/scrape.txt" | sed 's/$/ samples scraped/'
    local problems
    problems="$(promtool check metrics <"$work/scrape.txt" 2>&1)"
    local rc=$?
    [ -n "$problems" ] && echo "$problems"
    [ "$rc" -eq 0 ] && [ -z "$problems" ]
  }
  check "promtool check metrics: a live scrape of the operator is clean" scrape_lint
  check "deleting the gateways completes (finalizers removed)" \
    kubectl -n delivery-live delete vpngateway edge-gateway broken-gateway --timeout=90s
  kill "$operator_pid" 2>/dev/null
  wait "$operator_pid" 2>/dev/null
  operator_pid=""
  if [ "$failed" -gt 0 ]; then echo "---- operator log (tail)"; tail -20 "$work/operator.log"; fi
fi

# ---------------------------------------------------------------- cleanup
step "cleanup"
kubectl delete namespace delivery-helm delivery-default delivery-real-existing-secret delivery-live \
  vpn-operator-system --ignore-not-found --wait=false >/dev/null 2>&1 || true
kubectl -n argocd delete configmap argocd-cm --ignore-not-found >/dev/null 2>&1 || true
for n in vpn-operator vpn-default-vpn-operator vpn-real-existing-secret-vpn-operator; do
  kubectl delete clusterrole "$n" --ignore-not-found >/dev/null 2>&1 || true
  kubectl delete clusterrolebinding "$n" --ignore-not-found >/dev/null 2>&1 || true
done
echo "left in place: the vpn.hwcloud.dev CRDs (other suites may share this API server)"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
