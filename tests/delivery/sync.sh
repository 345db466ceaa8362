#!/usr/bin/env bash
# Refreshes the generated delivery files from their single sources:
# - deploy/crds/ and charts/vpn-operator/crds/ from crds/ (kustomize and Helm cannot reach crds/);
# - deploy/argocd/argocd-cm-health.yaml from deploy/argocd/health.lua;
# - the configuration table in docs/INSTALL.md from src/config.rs.
# tests/delivery/run.sh fails while any of them is stale.
set -euo pipefail
cd "$(dirname "$0")/../.."

for dir in deploy/crds charts/vpn-operator/crds; do
  rm -f "$dir"/*.yaml
  cp crds/*.yaml "$dir"/
done

kinds=(VpnGateway CustomerGateway VpnConnection CloudVpnService)
{
  cat <<'HEAD'
# Argo CD health checks for the vpn.hwcloud.dev kinds. GENERATED from deploy/argocd/health.lua by
# tests/delivery/sync.sh; do not edit here. Merge into Argo CD's argocd-cm ConfigMap:
#
#   kubectl -n argocd patch configmap argocd-cm --patch-file deploy/argocd/argocd-cm-health.yaml
#
# (with the Argo CD Helm chart, put the same keys under configs.cm instead).
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
  labels:
    app.kubernetes.io/name: argocd-cm
    app.kubernetes.io/part-of: argocd
data:
HEAD
  for kind in "${kinds[@]}"; do
    echo "  resource.customizations.health.vpn.hwcloud.dev_${kind}: |"
    sed 's/^\(.\)/    \1/' deploy/argocd/health.lua
  done
} > deploy/argocd/argocd-cm-health.yaml
python3 tests/delivery/static_checks.py write-config-table
echo "synced: deploy/crds, charts/vpn-operator/crds, deploy/argocd/argocd-cm-health.yaml, docs/INSTALL.md table"
