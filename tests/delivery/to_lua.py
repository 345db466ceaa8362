"""Turns Kubernetes objects (JSON, as `kubectl get -o json` prints them) into a cases file for
health/harness.lua, the way Argo CD hands an object to Lua (JSON null becomes nil).

usage: python3 to_lua.py KIND OUT.lua NAME=EXPECTED_STATUS:FILE.json...
"""

import json
import sys


def lua(value) -> str:
    if value is None:
        return "nil"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        out = []
        for byte in value.encode("utf-8"):
            ch = chr(byte)
            if 32 <= byte < 127 and ch not in '"\\':
                out.append(ch)
            else:
                out.append(f"\\{byte:03d}")
        return '"' + "".join(out) + '"'
    if isinstance(value, list):
        return "{" + ", ".join(lua(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua(str(k))}] = {lua(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot convert {type(value).__name__}")


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    kind, out, specs = argv[1], argv[2], argv[3:]
    cases = []
    for spec in specs:
        name, rest = spec.split("=", 1)
        status, path = rest.split(":", 1)
        with open(path) as f:
            obj = json.load(f)
        cases.append(f"  {{ name = {lua(name)}, expect = {{ status = {lua(status)} }}, obj = {lua(obj)} }},")
    with open(out, "w") as f:
        f.write(f"return {{ kind = {lua(kind)}, cases = {{\n" + "\n".join(cases) + "\n} }\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
