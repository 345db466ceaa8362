"""Checks that generated or copied delivery files match their single source, and that the
docs cover what the code defines. Standard library only (so tests/delivery/sync.sh can use it).

    crds DIR             DIR holds exactly the files of crds/, byte for byte
    argocd-cm            deploy/argocd/argocd-cm-health.yaml embeds deploy/argocd/health.lua per kind
    config-table         the table in docs/INSTALL.md equals the one generated from src/config.rs
    write-config-table   write that table into docs/INSTALL.md (used by sync.sh)
    conditions-doc       docs/CONDITIONS.md documents every condition reason the code can write
    health-reasons       every reason health.lua names exists in the code's vocabulary
    dockerfile           the Dockerfile runs `vpn-operator run` as uid 65532, like the manifests
    sync-waves           examples/: gateways and customer gateways in Argo CD wave 0, connections in 1
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KINDS = ("VpnGateway", "CustomerGateway", "VpnConnection", "CloudVpnService")
TABLE_BEGIN = "<!-- config-table:begin (generated from src/config.rs by tests/delivery/sync.sh) -->"
TABLE_END = "<!-- config-table:end -->"


class Failure(Exception):
    pass


def check_crds(directory: str) -> None:
    src = {p.name: p.read_bytes() for p in (REPO / "crds").glob("*.yaml")}
    dst = {p.name: p.read_bytes() for p in (REPO / directory).glob("*.yaml")}
    if not src:
        raise Failure("crds/ holds no CRD")
    problems = []
    for name in sorted(src.keys() | dst.keys()):
        if name not in dst:
            problems.append(f"{directory}/{name} is missing")
        elif name not in src:
            problems.append(f"{directory}/{name} has no counterpart in crds/")
        elif src[name] != dst[name]:
            problems.append(f"{directory}/{name} differs from crds/{name}")
    if problems:
        raise Failure("; ".join(problems) + " (run tests/delivery/sync.sh)")
    print(f"  {len(src)} CRDs identical")


def literal_blocks(text: str) -> dict[str, str]:
    """The `key: |` literal blocks under `data:` of a ConfigMap (a small parser: no PyYAML here)."""
    blocks: dict[str, list[str]] = {}
    key = None
    for line in text.splitlines():
        m = re.match(r"^  ([A-Za-z0-9_.\-]+): \|$", line)
        if m:
            key = m.group(1)
            blocks[key] = []
        elif key is not None and (line.startswith("    ") or line == ""):
            blocks[key].append(line[4:])
        else:
            key = None
    return {k: "\n".join(v).rstrip("\n") + "\n" for k, v in blocks.items()}


def check_argocd_cm() -> None:
    script = (REPO / "deploy/argocd/health.lua").read_text()
    blocks = literal_blocks((REPO / "deploy/argocd/argocd-cm-health.yaml").read_text())
    want = {f"resource.customizations.health.vpn.hwcloud.dev_{k}" for k in KINDS}
    if set(blocks) != want:
        raise Failure(f"keys {sorted(blocks)}, want {sorted(want)}")
    stale = [k for k, v in blocks.items() if v != script]
    if stale:
        raise Failure(f"{stale} differ from deploy/argocd/health.lua (run tests/delivery/sync.sh)")
    print(f"  {len(blocks)} kinds carry the current health.lua")


def run_args() -> list[dict]:
    """The flags of `vpn-operator run`, parsed from `struct RunArgs` in src/config.rs."""
    src = (REPO / "src/config.rs").read_text()
    body = re.search(r"pub struct RunArgs \{(.*?)\n\}", src, re.S)
    if not body:
        raise Failure("struct RunArgs not found in src/config.rs")
    consts = dict(re.findall(r'pub const ([A-Z_]+): &str = "([^"]*)";', src))

    def flatten(m: re.Match) -> str:
        # `#[command(flatten)] pub x: CloudArgs`: that struct's flags, in place.
        inner = re.search(r"pub struct " + m.group(1) + r" \{(.*?)\n\}", src, re.S)
        if not inner:
            raise Failure(f"struct {m.group(1)} (flattened into RunArgs) not found in src/config.rs")
        return inner.group(1)

    fields = re.sub(
        r"(?:\s*///[^\n]*\n)*\s*#\[command\(flatten\)\]\s*pub \w+: (\w+),", flatten, body.group(1)
    )
    flags = []
    for m in re.finditer(
        r"((?:\s*///[^\n]*\n)+)\s*#\[arg\((.*?)\)\]\s*pub (\w+): ([^,]+),", fields, re.S
    ):
        doc = " ".join(line.strip()[3:].strip() for line in m.group(1).strip().splitlines())
        attrs, field = m.group(2), m.group(3)
        env = re.search(r'env = "([A-Z_]+)"', attrs)
        default = re.search(r'default_value(?:_t)? = ("([^"]*)"|[\w:.]+)', attrs)
        value = None
        if default:
            value = default.group(2) if default.group(2) is not None else default.group(1)
            value = consts.get(value, value)
            if "::" in value:  # enum variant, e.g. CloudMode::Real -> real
                value = value.split("::")[-1].lower()
        flags.append(
            {
                "flag": "--" + field.replace("_", "-"),
                "env": env.group(1) if env else None,
                "default": value,
                "doc": doc,
            }
        )
    if len(flags) < 10:
        raise Failure(f"parsed only {len(flags)} flags from RunArgs; the parser needs an update")
    return flags


def config_table() -> str:
    rows = [
        "| Flag | Environment | Default | Meaning |",
        "| --- | --- | --- | --- |",
    ]
    for f in run_args():
        default = f"`{f['default']}`" if f["default"] is not None else "none"
        doc = f["doc"].replace("|", "\\|")
        rows.append(f"| `{f['flag']}` | `{f['env']}` | {default} | {doc} |")
    return "\n".join(rows) + "\n"


def write_config_table() -> None:
    path = REPO / "docs/INSTALL.md"
    text = path.read_text()
    pattern = re.escape(TABLE_BEGIN) + r"\n.*?" + re.escape(TABLE_END)
    if not re.search(pattern, text, re.S):
        raise Failure("docs/INSTALL.md lacks the config-table markers")
    table = config_table()
    path.write_text(re.sub(pattern, lambda _: TABLE_BEGIN + "\n" + table + TABLE_END, text, flags=re.S))


def check_config_table() -> None:
    text = (REPO / "docs/INSTALL.md").read_text()
    m = re.search(re.escape(TABLE_BEGIN) + r"\n(.*?)" + re.escape(TABLE_END), text, re.S)
    if not m:
        raise Failure("docs/INSTALL.md lacks the config-table markers")
    want = config_table()
    if m.group(1) != want:
        raise Failure("the configuration table in docs/INSTALL.md is stale (run tests/delivery/sync.sh)")
    missing = [f["env"] for f in run_args() if f["env"] is None]
    if missing:
        raise Failure(f"flags without an environment fallback: {missing}")
    print(f"  {len(run_args())} flags documented")


def code_reasons() -> dict[str, str]:
    """Every condition reason the code can write: reasons::ALL and the error reasons."""
    common = (REPO / "src/crd/common.rs").read_text()
    block = re.search(r"pub mod reasons \{(.*?)\n\}", common, re.S)
    if not block:
        raise Failure("pub mod reasons not found in src/crd/common.rs")
    found = {v: "reasons::ALL" for v in re.findall(r'[A-Z_]+ = "([A-Za-z]+)";', block.group(1))}
    for path in ("src/controller/runtime/error.rs", "src/cloud/error.rs"):
        p = REPO / path
        if not p.exists():
            continue
        fn = re.search(r"pub fn reason\(&self\)[^{]*\{(.*?)\n    \}", p.read_text(), re.S)
        if fn:
            for v in re.findall(r'"([A-Z][A-Za-z]+)"', fn.group(1)):
                found.setdefault(v, path)
    if len(found) < 20:
        raise Failure(f"found only {len(found)} reasons; the parser needs an update")
    return found


def event_words() -> set[str]:
    """Every Event reason that is not a condition reason, and every Event action."""
    text = (REPO / "src/controller/runtime/events.rs").read_text()
    reasons = re.search(r"event_reasons! \{(.*?)\n\}", text, re.S)
    actions = re.search(r"pub mod actions \{(.*?)\n\}", text, re.S)
    if not reasons or not actions:
        raise Failure("event_reasons! or mod actions not found in src/controller/runtime/events.rs")
    found = set(re.findall(r'[A-Z_]+ = "([A-Za-z]+)";', reasons.group(1)))
    found |= set(re.findall(r'pub const [A-Z_]+: &str = "([A-Za-z]+)";', actions.group(1)))
    if len(found) < 15:
        raise Failure(f"found only {len(found)} event words; the parser needs an update")
    return found


def check_conditions_doc() -> None:
    doc = (REPO / "docs/CONDITIONS.md").read_text()
    documented = set(re.findall(r"^\| `([A-Za-z]+)` \|", doc, re.M))
    missing = sorted(set(code_reasons()) - documented)
    if missing:
        raise Failure(f"docs/CONDITIONS.md has no table row for: {missing}")
    missing = sorted(event_words() - documented)
    if missing:
        raise Failure(f"docs/CONDITIONS.md has no table row for the Event words: {missing}")
    print(f"  {len(code_reasons())} reasons and {len(event_words())} Event words documented")


def check_health_reasons() -> None:
    lua = (REPO / "deploy/argocd/health.lua").read_text()
    named = set(re.findall(r"^\s+([A-Z][A-Za-z]+) = true,", lua, re.M))
    named |= set(re.findall(r'reason == "([A-Za-z]+)"', lua))
    states = set(re.findall(r"^local BROKEN_CLOUD_STATES = \{(.*)\}", lua, re.M)[0].split("="))
    named -= {s.strip(" ,") for s in states}
    unknown = sorted(named - set(code_reasons()) - {"FAULT", "FREEZED", "ERROR"})
    if unknown:
        raise Failure(f"health.lua names reasons the code never writes: {unknown}")
    print(f"  {len(named)} reasons in health.lua exist in the code")


def check_dockerfile() -> None:
    text = (REPO / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    if len(stages) < 2:
        raise Failure("the Dockerfile must be multi-stage (build, then a minimal runtime)")
    final = text[text.rindex("\nFROM ") :]
    for want in ("USER 65532:65532", 'ENTRYPOINT ["/usr/local/bin/vpn-operator"]', 'CMD ["run"]'):
        if want not in final:
            raise Failure(f"the final stage lacks {want!r}")
    if "--locked" not in text:
        raise Failure("the build must use --locked (Cargo.lock versions)")
    ignore = (REPO / ".dockerignore").read_text().split()
    if "target/" not in ignore:
        raise Failure(".dockerignore must exclude target/")
    for manifest in ("deploy/deployment.yaml", "charts/vpn-operator/values.yaml"):
        if "runAsUser: 65532" not in (REPO / manifest).read_text():
            raise Failure(f"{manifest} does not run as uid 65532 like the image")
    print(f"  stages {stages}; runs `vpn-operator run` as 65532:65532")


def check_sync_waves() -> None:
    want = {"VpnGateway": "0", "CustomerGateway": "0", "VpnConnection": "1", "CloudVpnService": "0"}
    seen = 0
    for path in sorted((REPO / "examples").glob("*.yaml")):
        for doc in path.read_text().split("\n---"):
            kind = re.search(r"^kind: (\w+)", doc, re.M)
            if not kind or kind.group(1) not in want:
                continue
            wave = re.search(r'argocd\.argoproj\.io/sync-wave: "(-?\d+)"', doc)
            if not wave or wave.group(1) != want[kind.group(1)]:
                raise Failure(f"{path.name}: {kind.group(1)} needs sync-wave \"{want[kind.group(1)]}\"")
            seen += 1
    if seen == 0:
        raise Failure("no example custom resources found")
    print(f"  {seen} examples carry the right sync wave")


def main(argv: list[str]) -> int:
    commands = {
        "crds": lambda: check_crds(argv[2]),
        "argocd-cm": check_argocd_cm,
        "config-table": check_config_table,
        "write-config-table": write_config_table,
        "conditions-doc": check_conditions_doc,
        "health-reasons": check_health_reasons,
        "dockerfile": check_dockerfile,
        "sync-waves": check_sync_waves,
    }
    if len(argv) < 2 or argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        commands[argv[1]]()
    except Failure as e:
        print(f"  {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
