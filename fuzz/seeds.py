#!/usr/bin/env python3
"""Writes the seed corpus (fuzz/corpus/<target>/) from the repository's own examples: the
documented JSON bodies in tests/fixtures/vpn/, the IES, IAM and error bodies of the unit tests,
the signer's published test vector and the manifests in examples/. Run it from anywhere;
it replaces only files it names (seed-*)."""
import json, pathlib, re, struct

root = pathlib.Path(__file__).resolve().parent.parent
fixtures = root / "tests/fixtures/vpn"
out = root / "fuzz/corpus"


def write(target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data if isinstance(data, bytes) else data.encode())


def rust_raw_strings(path, pattern):
    text = (root / path).read_text()
    return [m for m in re.findall(r'r#"(.*?)"#', text, re.S) if re.search(pattern, m)]


# cloud_decode: status (u16 LE), Retry-After length + value, body.
def decode_seed(status, body, retry_after=b""):
    return struct.pack("<HB", status, len(retry_after)) + retry_after + body

for f in sorted(fixtures.glob("*_response*.json")):
    write("cloud_decode", f.stem, decode_seed(200, f.read_bytes()))
for f in sorted(fixtures.glob("error_*.json")):
    write("cloud_decode", f.stem, decode_seed(409, f.read_bytes(), b"3"))
for i, body in enumerate(rust_raw_strings("src/cloud/model/ies/tests.rs", r"\{")):
    write("cloud_decode", f"ies-{i}", decode_seed(200, body.encode()))
for i, body in enumerate(rust_raw_strings("src/cloud/error.rs", r"\{")):
    write("cloud_decode", f"error-body-{i}", decode_seed(400 + i % 100, body.encode(), b"Wed, 21 Oct 2015 07:28:00 GMT"))
for i, body in enumerate(rust_raw_strings("src/cloud/token.rs", r'"token"')):
    write("cloud_decode", f"token-{i}", decode_seed(201, body.encode()))

# sim_requests: `METHOD AUTH PATH` then the body; requests separated by `---` lines.
routes = {
    "gateway_create_request": ("POST", "/v5/{p}/vpn-gateways", "GET", "/v5/{p}/vpn-gateways/{0}"),
    "customer_gateway_create_request": ("POST", "/v5/{p}/customer-gateways", "PUT", "/v5/{p}/customer-gateways/{0}"),
    "connection_create_request": ("POST", "/v5/{p}/vpn-connection", "DELETE", "/v5/{p}/vpn-connection/{0}"),
    "connection_batch_create_request": ("POST", "/v5/{p}/vpn-connections/batch-create", "GET", "/v5/{p}/vpn-connection/{0}/log"),
    "monitor_create_request": ("POST", "/v5/{p}/connection-monitors", "GET", "/v5/{p}/connection-monitors/{0}"),
    "tags_filter_request": ("POST", "/v5/{p}/vpn-gateway/resource-instances/filter?limit=10&offset=0", "GET", "/v5/{p}/vpn-gateway/tags"),
    "gateway_update_request": ("PUT", "/v5/{p}/vpn-gateways/{0}", "GET", "/v5/{p}/vpn-gateways?limit=1"),
    "connection_update_request": ("PUT", "/v5/{p}/vpn-connection/{0}", "POST", "/v5/{p}/vpn-connection/{0}/reset"),
    "gateway_certificate": ("POST", "/v5/{p}/vpn-gateways/{0}/certificate", "GET", "/v5/{p}/vpn-gateways/{0}/certificate"),
    "gateway_upgrade_request": ("POST", "/v5/{p}/vpn-gateways/{0}/upgrade", "GET", "/v5/{p}/vpn-gateways/jobs"),
    "gateway_update_specification_request": ("POST", "/v5/{p}/vpn-gateways/{0}/update-specification", "GET", "/v5/{p}/vpn-gateways/{0}/routing-table"),
}
for f in sorted(fixtures.glob("*_request*.json")):
    for prefix, (m1, p1, m2, p2) in routes.items():
        if f.stem.startswith(prefix):
            seq = f"{m1} T {p1}\n".encode() + f.read_bytes() + f"\n---\n{m2} S {p2}\n".encode()
            write("sim_requests", f.stem, seq)
            break
for i, path in enumerate([
    "GET S /v5/{p}/vpn/quotas", "GET T /v5.1/{p}/vpn-gateways/availability-zones",
    "GET T /v5/{p}/vpn-gateways/availability-zones?attachment_type=vpc",
    "GET - /v5/{p}/vpn-gateways", "GET bogus /v5/{p}/customer-gateways?limit=2&marker=x",
    "GET I /rest/catalog/v1/servicedefs", "GET I /rest/servicemanager/v1/services",
    "GET I /rest/cloudvpnwatch/v1/traffic/connections/vpn1/throughput?direction=in&timedim=1h",
]):
    write("sim_requests", f"get-{i}", path + "\n")
for i, body in enumerate(rust_raw_strings("src/cloud/model/ies/tests.rs", r'"service"')):
    write("sim_requests", f"ies-{i}", "POST I /rest/servicemanager/v1/services\n" + body
          + "\n---\nGET I /rest/servicemanager/v1/services/{0}\n")
for body in rust_raw_strings("src/cloud/token.rs", r'"auth"'):
    write("sim_requests", "iam-token", "POST - /v3/auth/tokens\n" + body)

# signer_roundtrip: method, path, query, headers, empty line, body (the published vector first).
write("signer_roundtrip", "published-vector",
      "GET\n/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs\nlimit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n"
      "Content-Type: application/json\n\n")
write("signer_roundtrip", "post-body",
      "POST\n/v5/0a1b2c3d4e5f40718293a4b5c6d7e8f9/vpn-connection\n\nAccept-Language: en-us\n\n"
      + (fixtures / "connection_create_request_a_minimal.json").read_text())
write("signer_roundtrip", "encoded",
      "DELETE\n/v5/p/vpn-gateways/a%20b/c~d\nkey=a%26b&empty=&x=%E4%B8%AD\nX-Custom:  spaced value \n\n")

# spec_bodies: every document of the example manifests of the four kinds.
for f in sorted((root / "examples").glob("*.yaml")):
    for i, doc in enumerate(re.split(r"^---\s*$", f.read_text(), flags=re.M)):
        if re.search(r"^kind: (VpnGateway|CustomerGateway|VpnConnection|CloudVpnService)\s*$", doc, re.M):
            write("spec_bodies", f"{f.stem}-{i}", doc.strip() + "\n")
