"""Helm proofs for charts/vpn-operator, through the real Helm v4 SDK (PyPI `helm-python-sdk`).

Each subcommand is one check: it prints what it saw and exits 0 (pass) or 1 (fail).

    lint VALUES                       helm lint --strict with these values
    template VALUES RELEASE NS OUT    helm template; write the manifests to OUT and check them
    reject VALUES                     the values schema must refuse VALUES, for the reason given
                                      in its first line (`# expect: <part of the error>`)
    install VALUES RELEASE NS         helm install / upgrade / uninstall against $KUBECONFIG,
                                      with the memory release storage (see the kube stand-in)
    kustomize FILE                    check the output of `kubectl kustomize deploy/`
    kustomize-namespaced FILE         the same with the namespaced component (deploy/namespaced)
    promtool-files RENDERED DIR       from a rendered chart, write DIR/rules.yaml (the
                                      PrometheusRule's groups) and DIR/dashboard-queries.yaml
                                      (every dashboard query as a recording rule), for promtool
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import tempfile
import sys
from pathlib import Path

import helm_python as helm
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "vpn-operator"
RULES = REPO / "deploy" / "rbac-rules.yaml"


class Failure(Exception):
    """A failed check; the message says what was wrong."""


class UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate mapping keys (which Kubernetes would reject)."""


def _mapping_without_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise Failure(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node, deep)


UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def load_values(path: str) -> dict:
    values = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(values, dict):
        raise Failure(f"{path}: values must be a mapping")
    return values


def rule_set(rules: list[dict]) -> set[tuple[str, str, str]]:
    """Rules as (apiGroup, resource, verb) triples, so that grouping and order do not matter."""
    out = set()
    for r in rules:
        for g in r.get("apiGroups", []):
            for res in r.get("resources", []):
                for v in r.get("verbs", []):
                    out.add((g, res, v))
    return out


def rule_sets() -> dict[str, set]:
    data = yaml.safe_load(RULES.read_text())
    return {k: rule_set(v) for k, v in data.items()}


def check_rbac(by_kind: dict[str, list[dict]], watched: list[str], operator_ns: str,
               sa: str, credentials: str, leader_election: bool) -> str:
    """The RBAC objects of either mode against deploy/rbac-rules.yaml. All namespaces (`watched`
    empty): one ClusterRole with clusterRules + watchedRules. A list: a ClusterRole with
    clusterRules only (no Secret, Event or object verb anywhere cluster-wide), a Role with every
    watchedRules verb in each watched namespace, and the credentials Secret alone (resourceNames)
    in the operator's namespace when that is not watched. Every binding names the operator."""
    want = rule_sets()
    (crole,) = by_kind["ClusterRole"]
    got = rule_set(crole["rules"])
    cluster = want["clusterRules"] | (set() if watched else want["watchedRules"])
    if got != cluster:
        raise Failure(f"ClusterRole: extra {sorted(got - cluster)}, missing {sorted(cluster - got)}")
    if watched and any(res == "secrets" or res == "events" for _, res, _ in got):
        raise Failure("namespaced mode: the ClusterRole grants Secrets or Events")
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]): r for r in by_kind.get("Role", [])}
    leader = [k for k in roles if k[1].endswith("leader-election")]
    if leader_election:
        if leader != [(operator_ns, leader[0][1] if leader else "")] or rule_set(roles[leader[0]]["rules"]) != want["namespaceRules"]:
            raise Failure(f"leader-election Role: want one in {operator_ns} with namespaceRules, got {leader}")
    elif leader:
        raise Failure("a leader-election Role was rendered although leader election is off")
    in_ns: dict[str, list[dict]] = {}
    for (ns, name), r in roles.items():
        if not name.endswith("leader-election") and not name.endswith("-credentials"):
            in_ns.setdefault(ns, []).append(r)
    if sorted(in_ns) != sorted(watched):
        raise Failure(f"Roles for the operator's objects in {sorted(in_ns)}, want {sorted(watched)}")
    for ns, rs in in_ns.items():
        (r,) = rs
        if rule_set(r["rules"]) != want["watchedRules"]:
            raise Failure(f"Role in {ns}: extra {sorted(rule_set(r['rules']) - want['watchedRules'])}, "
                          f"missing {sorted(want['watchedRules'] - rule_set(r['rules']))}")
        if any(rule.get("resourceNames") for rule in r["rules"]):
            raise Failure(f"Role in {ns} is limited by resourceNames: the operator's Secrets are chosen later")
    creds = [k for k in roles if k[1].endswith("-credentials")]
    if watched and credentials and operator_ns not in watched:
        if creds != [(operator_ns, creds[0][1] if creds else "")]:
            raise Failure(f"want the credentials Role in {operator_ns}, got {creds}")
        rules = roles[creds[0]]["rules"]
        if rule_set(rules) != want["credentialsRules"] or any(r.get("resourceNames") != [credentials] for r in rules):
            raise Failure(f"the credentials Role must grant credentialsRules on {credentials!r} alone: {rules}")
    elif creds:
        raise Failure(f"a credentials Role was rendered although it is not needed: {creds}")
    bound = {(b["metadata"].get("namespace"), b["roleRef"]["kind"], b["roleRef"]["name"])
             for b in by_kind.get("RoleBinding", []) + by_kind.get("ClusterRoleBinding", [])}
    for (ns, name) in roles:
        if (ns, "Role", name) not in bound:
            raise Failure(f"Role {ns}/{name} is bound by no RoleBinding in its namespace")
    if (None, "ClusterRole", crole["metadata"]["name"]) not in bound:
        raise Failure("the ClusterRole is not bound")
    for b in by_kind.get("ClusterRoleBinding", []) + by_kind.get("RoleBinding", []):
        if b["subjects"] != [{"kind": "ServiceAccount", "name": sa, "namespace": operator_ns}]:
            raise Failure(f"{b['kind']} {b['metadata']['name']} binds {b['subjects']}, not the operator")
    mode = f"namespaced ({', '.join(watched)})" if watched else "cluster-wide"
    return f"RBAC {mode}: ClusterRole {len(got)} triples, Roles {sorted(roles)}"


def cmd_lint(values_path: str) -> None:
    values = load_values(values_path)
    report = helm.lint(str(CHART), values, strict=True, namespace="vpn-operator-system")
    for m in report.get("messages", []):
        print(f"  [{ {0: 'UNKNOWN', 1: 'INFO', 2: 'WARNING', 3: 'ERROR'}.get(m['severity'], m['severity']) }] {m['path']}: {m['error']}")
    problems = [m for m in report.get("messages", []) if m["severity"] >= 2] + [
        e for e in report.get("errors", [])
    ]
    if report.get("total_charts_linted") != 1:
        raise Failure(f"linted {report.get('total_charts_linted')} charts, want 1")
    if problems:
        raise Failure(f"helm lint --strict found {len(problems)} problem(s)")


def documents(rendered: dict[str, str]) -> list[dict]:
    docs = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.load_all(text, Loader=UniqueKeyLoader):
            if doc:
                if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
                    raise Failure(f"{path}: a document without kind/apiVersion")
                docs.append(doc)
    return docs


def check_rendered(docs: list[dict], values: dict, merged: dict, release_ns: str) -> list[str]:
    """Checks a rendered chart for what users rely on. Returns notes for the log."""
    notes = []
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
        ns = d["metadata"].get("namespace")
        watched_ns = merged_watched(merged)
        in_watched = d["kind"] in ("Role", "RoleBinding") and ns in watched_ns
        if d["kind"] not in ("ClusterRole", "ClusterRoleBinding") and ns != release_ns and not in_watched:
            raise Failure(f"{d['kind']}/{d['metadata']['name']} is in namespace {ns!r}, want {release_ns!r}")

    deployments = by_kind.get("Deployment", [])
    if len(deployments) != 1:
        raise Failure(f"{len(deployments)} Deployments rendered, want 1")
    dep = deployments[0]
    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["args"]
    if args[0] != "run" or not all(a.startswith("--") for a in args[1:]):
        raise Failure(f"container args must be `run` then flags: {args}")
    flags = dict(a[2:].split("=", 1) for a in args[1:] if "=" in a)
    if flags.get("cloud") != merged["cloud"]:
        raise Failure(f"--cloud={flags.get('cloud')}, want {merged['cloud']}")
    if merged["cloud"] == "real":
        for flag, key in (("region", "region"), ("project-id", "projectId")):
            if flags.get(flag) != str(merged[key]):
                raise Failure(f"--{flag}={flags.get(flag)!r}, want {merged[key]!r}")
        if not flags.get("credentials-secret"):
            raise Failure("--credentials-secret is missing with cloud: real")
    if flags.get("leader-election") != str(merged["leaderElection"]["enabled"]).lower():
        raise Failure(f"--leader-election={flags.get('leader-election')}")
    if flags.get("metrics-addr") != f"0.0.0.0:{merged['metrics']['port']}":
        raise Failure(f"--metrics-addr={flags.get('metrics-addr')}")
    env = {e["name"]: e for e in container.get("env", [])}
    for name, path in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace")):
        if env.get(name, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != path:
            raise Failure(f"env {name} must come from the downward API field {path}")
    probes = {
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    for probe, path in probes.items():
        if container.get(probe, {}).get("httpGet", {}).get("path") != path:
            raise Failure(f"{probe} must GET {path}")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    if ports.get("http") != merged["metrics"]["port"]:
        raise Failure(f"container port http={ports.get('http')}, want {merged['metrics']['port']}")
    if merged["securityContext"] == yaml.safe_load((CHART / "values.yaml").read_text())["securityContext"]:
        hardened(container)
    if dep["spec"]["replicas"] != merged["replicaCount"]:
        raise Failure(f"replicas={dep['spec']['replicas']}, want {merged['replicaCount']}")
    selector = dep["spec"]["selector"]["matchLabels"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in selector.items()):
        raise Failure("the pod template labels do not match the Deployment selector")

    services = by_kind.get("Service", [])
    if merged["metrics"]["service"]["enabled"]:
        (svc,) = services
        if any(labels.get(k) != v for k, v in svc["spec"]["selector"].items()):
            raise Failure("the metrics Service selects no operator pod")
        if svc["spec"]["ports"][0]["targetPort"] != "http":
            raise Failure("the metrics Service must target the container port named http")
    monitors = by_kind.get("ServiceMonitor", [])
    if merged["metrics"]["serviceMonitor"]["enabled"]:
        (mon,) = monitors
        svc_labels = services[0]["metadata"]["labels"]
        if any(svc_labels.get(k) != v for k, v in mon["spec"]["selector"]["matchLabels"].items()):
            raise Failure("the ServiceMonitor selects no Service")
        notes.append("ServiceMonitor rendered and selects the metrics Service")
    elif monitors:
        raise Failure("a ServiceMonitor was rendered although it is disabled")

    notes.extend(check_monitoring(by_kind, merged))

    secrets = by_kind.get("Secret", [])
    if merged["credentials"]["create"]:
        (sec,) = secrets
        if flags.get("credentials-secret") != sec["metadata"]["name"]:
            raise Failure("--credentials-secret does not name the created Secret")
        if "checksum/credentials" not in dep["spec"]["template"]["metadata"].get("annotations", {}):
            raise Failure("pods do not restart when the created credentials change")
        notes.append(f"credentials Secret keys: {sorted(sec['data'])}")
    elif secrets:
        raise Failure("a Secret was rendered although credentials.create is false")

    accounts = by_kind.get("ServiceAccount", [])
    if merged["serviceAccount"]["create"] != bool(accounts):
        raise Failure("ServiceAccount rendered contrary to serviceAccount.create")
    sa_name = pod["serviceAccountName"]
    if accounts and accounts[0]["metadata"]["name"] != sa_name:
        raise Failure("the pod does not use the rendered ServiceAccount")

    watched = merged_watched(merged)
    if flags.get("watch-namespaces", "") != ",".join(watched):
        raise Failure(f"--watch-namespaces={flags.get('watch-namespaces')!r}, want {','.join(watched)!r}")
    notes.append(check_rbac(by_kind, watched, release_ns, sa_name,
                            flags.get("credentials-secret", ""), merged["leaderElection"]["enabled"]))
    notes.append(check_doctor_test(by_kind.get("Pod", []), container, pod, flags))
    notes.append(f"rendered {len(docs)} objects: {sorted(by_kind)}")
    return notes


ALERTS = {"VpnTunnelDown", "VpnObjectsNotReady", "VpnOperatorReconcileErrors",
          "VpnOperatorThrottled", "VpnOperatorAbsent"}


def merged_watched(merged: dict) -> list[str]:
    """The namespaces the values ask to watch (watchNamespace and watchNamespaces), sorted."""
    return sorted(set(merged.get("watchNamespaces") or []) | ({merged["watchNamespace"]} if merged.get("watchNamespace") else set()))


def check_monitoring(by_kind: dict[str, list[dict]], merged: dict) -> list[str]:
    """The PrometheusRule and the dashboard ConfigMap: rendered exactly when enabled, with every
    alert, and a dashboard whose queries use only the operator's metrics."""
    notes = []
    rules = by_kind.get("PrometheusRule", [])
    if merged["metrics"]["prometheusRule"]["enabled"]:
        (rule,) = rules
        names = {r.get("alert") for g in rule["spec"]["groups"] for r in g["rules"]}
        if names != ALERTS:
            raise Failure(f"PrometheusRule alerts {sorted(names)}, want {sorted(ALERTS)}")
        for g in rule["spec"]["groups"]:
            for r in g["rules"]:
                if "{{" in r["expr"] or not r["annotations"].get("summary"):
                    raise Failure(f"alert {r['alert']}: unrendered expr or no summary")
        notes.append(f"PrometheusRule with {len(names)} alerts")
    elif rules:
        raise Failure("a PrometheusRule was rendered although it is disabled")
    dashboards = [c for c in by_kind.get("ConfigMap", []) if c["metadata"]["name"].endswith("-dashboard")]
    if merged["metrics"]["grafanaDashboard"]["enabled"]:
        (cm,) = dashboards
        want = merged["metrics"]["grafanaDashboard"]["labels"]
        if any(cm["metadata"]["labels"].get(k) != v for k, v in want.items()):
            raise Failure("the dashboard ConfigMap lacks the sidecar's label")
        dash = json.loads(cm["data"]["vpn-operator.json"])
        exprs = dashboard_queries(dash)
        bad = [e for e in exprs if "vpn_operator_" not in e]
        if not exprs or bad:
            raise Failure(f"dashboard queries without an operator metric: {bad}")
        notes.append(f"dashboard {dash['title']!r} with {len(dash['panels'])} panels, {len(exprs)} queries")
    elif dashboards:
        raise Failure("a dashboard ConfigMap was rendered although it is disabled")
    return notes


def dashboard_queries(dash: dict) -> list[str]:
    return [t["expr"] for p in dash.get("panels", []) for t in p.get("targets", [])]


def cmd_promtool_files(rendered: str, out_dir: str) -> None:
    docs = [d for d in yaml.safe_load_all(Path(rendered).read_text()) if d]
    (rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
    (cm,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboard")]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "rules.yaml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))
    queries = dashboard_queries(json.loads(cm["data"]["vpn-operator.json"]))
    recorded = [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(queries)]
    (out / "dashboard-queries.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}, sort_keys=False)
    )
    print(f"  {out}/rules.yaml, {out}/dashboard-queries.yaml ({len(queries)} queries)")


def check_doctor_test(pods: list[dict], operator: dict, operator_pod: dict, flags: dict) -> str:
    """The `helm test` hook: one Pod that runs `vpn-operator doctor` with the release's cloud
    flags, as the operator's ServiceAccount, hardened like the operator."""
    tests = [p for p in pods if p["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"]
    if len(tests) != 1 or len(pods) != 1:
        raise Failure(f"want exactly one Pod, the helm test hook; got {len(pods)} Pods, {len(tests)} hooks")
    (test,) = tests
    spec = test["spec"]
    if spec.get("restartPolicy") != "Never":
        raise Failure("the helm test Pod must not restart (restartPolicy: Never)")
    if spec.get("serviceAccountName") != operator_pod["serviceAccountName"]:
        raise Failure("the helm test Pod must run as the operator's ServiceAccount (its RBAC is checked)")
    (c,) = spec["containers"]
    if c["image"] != operator["image"]:
        raise Failure(f"the helm test Pod runs {c['image']}, the operator {operator['image']}")
    args = c["args"]
    if args[0] != "doctor":
        raise Failure(f"the helm test Pod must run `doctor`: {args}")
    got = dict(a[2:].split("=", 1) for a in args[1:] if "=" in a)
    for flag in ("cloud", "region", "project-id", "endpoint", "ies-endpoint", "credentials-secret", "cluster-name", "watch-namespaces"):
        if got.get(flag) != flags.get(flag):
            raise Failure(f"helm test doctor --{flag}={got.get(flag)!r}, the operator's {flags.get(flag)!r}")
    if operator.get("securityContext") == yaml.safe_load((CHART / "values.yaml").read_text())["securityContext"]:
        hardened(c)
    return f"helm test Pod runs doctor with the operator's flags: {sorted(got)}"


def hardened(container: dict) -> None:
    sc = container.get("securityContext", {})
    want = {"runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}
    for k, v in want.items():
        if sc.get(k) != v:
            raise Failure(f"container securityContext.{k}={sc.get(k)!r}, want {v!r}")
    if sc.get("capabilities", {}).get("drop") != ["ALL"]:
        raise Failure("container must drop ALL capabilities")
    if sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        raise Failure("container seccompProfile must be RuntimeDefault")


def cmd_kustomize_namespaced(path: str) -> None:
    """deploy/ with the namespaced component: the watched namespaces' Roles, a ClusterRole
    without Secrets, and VPN_OPERATOR_WATCH_NAMESPACES naming exactly the Roles' namespaces."""
    docs = [d for d in yaml.load_all(Path(path).read_text(), Loader=UniqueKeyLoader) if d]
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    (ns,) = by_kind["Namespace"]
    namespace = ns["metadata"]["name"]
    (cm,) = by_kind["ConfigMap"]
    watched = sorted(n for n in cm["data"].get("VPN_OPERATOR_WATCH_NAMESPACES", "").split(",") if n)
    if not watched:
        raise Failure("the namespaced component does not set VPN_OPERATOR_WATCH_NAMESPACES")
    (dep,) = by_kind["Deployment"]
    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    secret = next(a.split("=", 1)[1] for a in container["args"] if a.startswith("--credentials-secret="))
    print("  " + check_rbac(by_kind, watched, namespace, pod["serviceAccountName"], secret, True))


def cmd_kustomize(path: str) -> None:
    docs = [d for d in yaml.load_all(Path(path).read_text(), Loader=UniqueKeyLoader) if d]
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    crds = sorted(d["metadata"]["name"] for d in by_kind.get("CustomResourceDefinition", []))
    want_crds = sorted(
        yaml.safe_load(p.read_text())["metadata"]["name"] for p in (REPO / "crds").glob("*.yaml")
    )
    if crds != want_crds:
        raise Failure(f"CRDs {crds}, want {want_crds}")
    (ns,) = by_kind["Namespace"]
    namespace = ns["metadata"]["name"]
    for d in docs:
        if d["kind"] not in ("Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"):
            if d["metadata"].get("namespace") != namespace:
                raise Failure(f"{d['kind']}/{d['metadata']['name']} is not in {namespace}")
    if "Secret" in by_kind:
        raise Failure("deploy/ must not ship a Secret (credentials are created by the user)")
    (dep,) = by_kind["Deployment"]
    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["args"]
    if args[0] != "run" or not any(a.startswith("--credentials-secret=") for a in args):
        raise Failure(f"args must be `run` with --credentials-secret: {args}")
    hardened(container)
    if pod["securityContext"].get("runAsNonRoot") is not True:
        raise Failure("pod securityContext must set runAsNonRoot")
    env = {e["name"]: e for e in container["env"]}
    for name, field in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace")):
        if env.get(name, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != field:
            raise Failure(f"env {name} must come from {field}")
    if container["livenessProbe"]["httpGet"]["path"] != "/healthz" or container["readinessProbe"]["httpGet"]["path"] != "/readyz":
        raise Failure("probes must be /healthz (liveness) and /readyz (readiness)")
    if not container.get("resources", {}).get("requests") or not container.get("resources", {}).get("limits"):
        raise Failure("resources must have requests and limits")
    config_maps = {d["metadata"]["name"]: d for d in by_kind.get("ConfigMap", [])}
    for src in container.get("envFrom", []):
        name = src["configMapRef"]["name"]
        if name not in config_maps:
            raise Failure(f"envFrom names ConfigMap {name}, which kustomize did not generate")
        unknown = [k for k in config_maps[name]["data"] if not k.startswith("VPN_OPERATOR_")]
        if unknown:
            raise Failure(f"config.env sets variables the operator does not read: {unknown}")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    (svc,) = by_kind["Service"]
    if any(labels.get(k) != v for k, v in svc["spec"]["selector"].items()):
        raise Failure("the metrics Service selects no operator pod")
    sa = pod["serviceAccountName"]
    if [d["metadata"]["name"] for d in by_kind["ServiceAccount"]] != [sa]:
        raise Failure("the pod does not use the ServiceAccount deploy/ creates")
    print("  " + check_rbac(by_kind, [], namespace, sa, "", True))
    print(f"  {len(docs)} objects in {namespace}; {len(crds)} CRDs; args {args}")


def cmd_template(values_path: str, release: str, namespace: str, out: str) -> None:
    values = load_values(values_path)
    with helm.Chart.load(str(CHART)) as chart:
        merged = chart.merge_values(values)
        rendered = chart.render(values, name=release, namespace=namespace, is_install=True)
        notes_txt = next((t for p, t in rendered.items() if p.endswith("NOTES.txt")), "")
        if not notes_txt.strip():
            raise Failure("NOTES.txt rendered empty")
        if "kubectl apply" not in notes_txt or "crds/" not in notes_txt:
            raise Failure("NOTES.txt lacks the CRD upgrade instruction")
        if (merged["cloud"] == "sim") != ("SIMULATOR MODE" in notes_txt):
            raise Failure("NOTES.txt must warn about simulator mode exactly when cloud is sim")
        docs = documents(rendered)
        for note in check_rendered(docs, values, merged, namespace):
            print("  " + note)
        Path(out).write_text(
            "".join("---\n" + yaml.safe_dump(d, sort_keys=False) for d in docs)
        )


def cmd_reject(values_path: str) -> None:
    first = Path(values_path).read_text().splitlines()[0]
    if not first.startswith("# expect: "):
        raise Failure(f"{values_path}: the first line must be `# expect: <part of the error>`")
    want = first[len("# expect: "):].strip()
    values = load_values(values_path)
    with helm.Chart.load(str(CHART)) as chart:
        try:
            chart.validate_schema(values)
        except helm.HelmValuesError as e:
            message = str(e)
        else:
            raise Failure("the values schema accepted these values")
    if want not in message:
        raise Failure(f"refused, but not for the expected reason ({want!r}): {message}")
    report = helm.lint(str(CHART), values, strict=True)
    if not report.get("errors"):
        raise Failure("helm lint accepted these values")
    print(f"  refused: {message.strip().splitlines()[-1].strip()}")


def kubectl(*args: str) -> str:
    r = subprocess.run(["kubectl", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise Failure(f"kubectl {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def cmd_install(values_path: str, release: str, namespace: str) -> None:
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig:
        raise Failure("KUBECONFIG is not set")
    values = load_values(values_path)
    server = json.loads(kubectl("get", "--raw", "/version"))
    minor = int("".join(ch for ch in server.get("minor", "0") if ch.isdigit()) or 0)
    chart_dir = CHART
    if (int(server.get("major", "1")), minor) < (1, 28):
        # The kube stand-in reports an old version while enforcing none of what 1.28 adds. Helm
        # must refuse the real chart there (its kubeVersion guards real old clusters); the
        # lifecycle is then tested with a copy whose only change is that line.
        with helm.Config(kubeconfig_path=kubeconfig, storage_driver="memory", namespace=namespace) as cfg:
            try:
                cfg.install(str(CHART), release, values, namespace=namespace, timeout=60)
            except helm.HelmReleaseError as e:
                if "kubeVersion" not in str(e):
                    raise
                print(f"  refused on {server.get('gitVersion')} as it should be: {e}")
            else:
                raise Failure(f"Helm installed the chart on Kubernetes {server.get('gitVersion')} (< 1.28)")
        tmp = tempfile.mkdtemp(prefix="vpn-chart-")
        atexit.register(shutil.rmtree, tmp, True)
        chart_dir = Path(tmp) / "vpn-operator"
        shutil.copytree(CHART, chart_dir)
        meta = chart_dir / "Chart.yaml"
        meta.write_text("".join(l for l in meta.read_text().splitlines(True) if not l.startswith("kubeVersion:")))
    with helm.Config(kubeconfig_path=kubeconfig, storage_driver="memory", namespace=namespace) as cfg:
        cfg.check_reachable()
        with helm.Chart.load(str(chart_dir)) as chart:
            rel = cfg.install(chart, release, values, namespace=namespace, timeout=60)
            print(f"  installed {release}: {expect_release(rel, 1)}")
            fullname = release if "vpn-operator" in release else f"{release}-vpn-operator"
            dep = kubectl("-n", namespace, "get", "deployment", fullname, "-o", "jsonpath={.spec.replicas}")
            if dep != "1":
                raise Failure(f"installed Deployment has replicas={dep!r}, want 1")
            for crd in ("vpngateways", "customergateways", "vpnconnections", "cloudvpnservices"):
                cond = kubectl("get", "crd", f"{crd}.vpn.hwcloud.dev", "-o",
                               "jsonpath={.status.conditions[?(@.type=='Established')].status}")
                if cond != "True":
                    raise Failure(f"CRD {crd} is not Established after the install")
            kubectl("get", "clusterrole", fullname)
            kubectl("-n", namespace, "get", "serviceaccount", fullname)

            upgraded = dict(values, replicaCount=2)
            rel = cfg.upgrade(chart, release, upgraded, namespace=namespace, timeout=60)
            print(f"  upgraded {release}: {expect_release(rel, 2)}")
            dep = kubectl("-n", namespace, "get", "deployment", fullname, "-o", "jsonpath={.spec.replicas}")
            if dep != "2":
                raise Failure(f"upgraded Deployment has replicas={dep!r}, want 2")
            history = cfg.history(release)
            if len(history) != 2:
                raise Failure(f"release history has {len(history)} revisions, want 2")

        cfg.uninstall(release, timeout=60)
        left = kubectl("-n", namespace, "get", "deployment", "--ignore-not-found", "-o", "name")
        if fullname in left:
            raise Failure(f"Deployment {fullname} is still there after helm uninstall")
        crd = kubectl("get", "crd", "vpngateways.vpn.hwcloud.dev", "--ignore-not-found", "-o", "name")
        if not crd.strip():
            raise Failure("helm uninstall removed a CRD; Helm must keep the CRDs from crds/")
        print("  uninstalled; CRDs kept")


def expect_release(rel, revision: int) -> str:
    """Checks an install/upgrade result: deployed, at the given revision."""
    if not isinstance(rel, dict):
        raise Failure(f"unexpected release summary: {rel!r}")
    if rel.get("status") != "deployed" or rel.get("revision") != revision:
        raise Failure(f"release is {rel.get('status')} at revision {rel.get('revision')}, want deployed at {revision}")
    return f"revision {revision}, {rel['status']}, chart {rel.get('chart_name')}-{rel.get('chart_version')}"


def main(argv: list[str]) -> int:
    commands = {
        "lint": (cmd_lint, 1),
        "template": (cmd_template, 4),
        "reject": (cmd_reject, 1),
        "install": (cmd_install, 3),
        "kustomize": (cmd_kustomize, 1),
        "kustomize-namespaced": (cmd_kustomize_namespaced, 1),
        "promtool-files": (cmd_promtool_files, 2),
    }
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    fn, _ = commands[argv[1]]
    try:
        fn(*argv[2:])
    except Failure as e:
        print(f"  {e}", file=sys.stderr)
        return 1
    except helm.HelmError as e:
        print(f"  helm: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
