//! Reading the manifests `plan` is given: files, directories (their `.yaml`, `.yml` and `.json`
//! files, sorted, recursively) and `-` for standard input (e.g. `kustomize build | vpn-operator
//! plan -f -`); YAML streams of several documents and `kind: List` are unpacked.
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize;
use serde_json::Value;

use crate::crd::{GROUP, VERSION};

/// The kinds `plan` knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    VpnGateway,
    CustomerGateway,
    VpnConnection,
    CloudVpnService,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::VpnGateway,
        Kind::CustomerGateway,
        Kind::VpnConnection,
        Kind::CloudVpnService,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::VpnGateway => "VpnGateway",
            Kind::CustomerGateway => "CustomerGateway",
            Kind::VpnConnection => "VpnConnection",
            Kind::CloudVpnService => "CloudVpnService",
        }
    }

    pub fn parse(kind: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == kind)
    }
}

/// One object of this operator's API group found in the manifests.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// `file#n` (the n-th document, from 1), or `-#n` for standard input.
    pub source: String,
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// The object as written (namespace filled in).
    pub value: Value,
}

/// A document that is not usable as one of the operator's objects.
#[derive(Clone, Debug)]
pub struct Refused {
    pub source: String,
    /// Kind, namespace and name, as far as they can be told.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub message: String,
}

/// What the manifests hold for `plan`.
#[derive(Debug, Default)]
pub struct Manifests {
    pub objects: Vec<Manifest>,
    /// Secrets, `(namespace, name)` → data (values never printed).
    pub secrets: BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>,
    pub refused: Vec<Refused>,
}

/// Reading the manifests failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{source_name}: not YAML or JSON: {message}")]
    Parse {
        source_name: String,
        message: String,
    },
}

/// The files a path stands for: the file itself, or a directory's manifest files (sorted).
fn files(path: &Path) -> Result<Vec<PathBuf>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.display().to_string(),
        source,
    };
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            out.extend(files(&e)?);
        } else if e
            .extension()
            .is_some_and(|x| matches!(x.to_str(), Some("yaml" | "yml" | "json")))
        {
            out.push(e);
        }
    }
    Ok(out)
}

/// The documents of `paths` (`-`: `stdin`), each with its source.
pub fn read(paths: &[String], stdin: &mut dyn Read) -> Result<Vec<(String, Value)>, ReadError> {
    let mut docs = Vec::new();
    for p in paths {
        let inputs: Vec<(String, String)> = if p == "-" {
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .map_err(|source| ReadError::Io {
                    path: "standard input".into(),
                    source,
                })?;
            vec![("-".to_string(), text)]
        } else {
            let mut v = Vec::new();
            for f in files(Path::new(p))? {
                let text = std::fs::read_to_string(&f).map_err(|source| ReadError::Io {
                    path: f.display().to_string(),
                    source,
                })?;
                v.push((f.display().to_string(), text));
            }
            v
        };
        for (name, text) in inputs {
            docs.extend(parse(&name, &text)?);
        }
    }
    Ok(docs)
}

/// The documents of one YAML (or JSON) text; empty documents are skipped, Lists unpacked.
pub fn parse(name: &str, text: &str) -> Result<Vec<(String, Value)>, ReadError> {
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let v = Value::deserialize(doc).map_err(|e| ReadError::Parse {
            source_name: name.to_string(),
            message: e.to_string(),
        })?;
        let source = format!("{name}#{}", i + 1);
        match v {
            Value::Null => {}
            Value::Object(ref m) if m.get("kind").and_then(Value::as_str) == Some("List") => {
                for item in m
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    out.push((source.clone(), item.clone()));
                }
            }
            v => out.push((source, v)),
        }
    }
    Ok(out)
}

/// Sorts the documents: the operator's objects (namespace defaulted to `namespace`), Secrets,
/// and what cannot be used (other kinds are ignored).
pub fn classify(docs: Vec<(String, Value)>, namespace: &str) -> Manifests {
    let mut m = Manifests::default();
    for (source, mut v) in docs {
        let api_version = v["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = v["kind"].as_str().unwrap_or_default().to_string();
        let ns = v["metadata"]["namespace"]
            .as_str()
            .filter(|s| !s.is_empty())
            .unwrap_or(namespace)
            .to_string();
        let name = v["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if api_version == "v1" && kind == "Secret" {
            if let Ok(s) = serde_json::from_value::<Secret>(v.clone()) {
                let mut data: BTreeMap<String, Vec<u8>> = s
                    .data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, b)| (k, b.0))
                    .collect();
                for (k, s) in s.string_data.unwrap_or_default() {
                    data.insert(k, s.into_bytes());
                }
                m.secrets.insert((ns, name), data);
            }
            continue;
        }
        let Some((group, version)) = api_version.split_once('/') else {
            continue;
        };
        if group != GROUP {
            continue;
        }
        let refuse = |message: String| Refused {
            source: source.clone(),
            kind: kind.clone(),
            namespace: ns.clone(),
            name: name.clone(),
            message,
        };
        let kind_known = Kind::parse(&kind);
        match kind_known {
            Some(k) if version == VERSION => {
                if name.is_empty() {
                    m.refused.push(refuse(
                        "metadata.name: Required value: name or generateName is required".into(),
                    ));
                    continue;
                }
                v["metadata"]["namespace"] = Value::String(ns.clone());
                m.objects.push(Manifest {
                    source,
                    kind: k,
                    namespace: ns,
                    name,
                    value: v,
                });
            }
            _ => m.refused.push(refuse(format!(
                "no matches for kind \"{kind}\" in version \"{api_version}\" (this operator serves \
                 VpnGateway, CustomerGateway, VpnConnection and CloudVpnService in {GROUP}/{VERSION})"
            ))),
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_lists_secrets_and_foreign_kinds() {
        let text = r#"
apiVersion: v1
kind: Secret
metadata: {name: psk}
stringData: {psk: Abcdefg-123}
data: {other: aGk=}
---
apiVersion: vpn.hwcloud.dev/v1alpha1
kind: VpnGateway
metadata: {name: gw}
spec: {}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
---
apiVersion: v1
kind: List
items:
- apiVersion: vpn.hwcloud.dev/v1alpha1
  kind: CustomerGateway
  metadata: {name: cgw, namespace: other}
- apiVersion: vpn.hwcloud.dev/v1beta9
  kind: VpnGateway
  metadata: {name: future}
"#;
        let m = classify(parse("m.yaml", text).unwrap(), "team-a");
        let names: Vec<_> = m
            .objects
            .iter()
            .map(|o| {
                (
                    o.kind,
                    o.namespace.as_str(),
                    o.name.as_str(),
                    o.source.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                (Kind::VpnGateway, "team-a", "gw", "m.yaml#2"),
                (Kind::CustomerGateway, "other", "cgw", "m.yaml#4")
            ]
        );
        let secret = &m.secrets[&("team-a".to_string(), "psk".to_string())];
        assert_eq!(secret["psk"], b"Abcdefg-123");
        assert_eq!(secret["other"], b"hi");
        assert_eq!(m.refused.len(), 1);
        assert!(m.refused[0].message.starts_with(
            "no matches for kind \"VpnGateway\" in version \"vpn.hwcloud.dev/v1beta9\""
        ));
        assert!(parse("bad.yaml", "a: [").is_err());
    }
}
