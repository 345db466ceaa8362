//! Which cloud account an object talks to, as named by its `spec.cloud`: plain data, resolved
//! against the operator's defaults into a client by [`super::clouds::Clouds`].

/// The account of an object: a VPN v5 project, or an IES tenant (CloudVpnService).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Account {
    Vpn(CloudOverride),
    Ies(IesTarget),
}

impl Account {
    /// The name of the credentials Secret the object names (in its own namespace), if any.
    pub fn credentials_secret_name(&self) -> Option<Box<str>> {
        let secret = match self {
            Account::Vpn(o) => &o.credentials_secret,
            Account::Ies(t) => &t.credentials_secret,
        };
        secret.as_ref().map(|(_, name)| name.as_str().into())
    }
}

/// Per-object VPN settings (from the object's `spec.cloud`); unset fields come from the
/// operator's defaults. `credentials_secret` names a Secret in the object's own namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CloudOverride {
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub endpoint: Option<String>,
    pub credentials_secret: Option<(String, String)>,
}

/// Per-object IES settings (from a `CloudVpnService`'s `spec.cloud`). `credentials_secret`
/// names a Secret in the object's own namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct IesTarget {
    pub endpoint: Option<String>,
    pub credentials_secret: Option<(String, String)>,
}

/// The name of a namespace's account Secret unless the operator is started with another
/// `--account-secret-name`.
pub const DEFAULT_ACCOUNT_SECRET: &str = "vpn-operator-account";

/// A namespace's cloud account, as its account Secret states it (the credentials stay in the
/// Secret: they are read, checked and cached with the client, never copied here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamespaceAccount {
    pub region: String,
    pub project_id: String,
    pub endpoint: Option<String>,
}

/// Reads a namespace's account from its Secret's data: `region`, `projectId`, optional
/// `endpoint`, and the credentials under the keys of the operator's credentials Secret
/// (`accessKey` + `secretKey`, optional `securityToken`; or `token`). The problem text names
/// the key and never contains a value.
pub fn namespace_account(
    secret: &crate::config::SecretRef,
    data: &super::secrets::SecretData,
) -> Result<NamespaceAccount, String> {
    let text = |key: &str| -> Result<Option<String>, String> {
        match data.get(key) {
            None => Ok(None),
            Some(bytes) => {
                let v = std::str::from_utf8(bytes)
                    .map_err(|_| format!("key {key} is not UTF-8 text"))?
                    .trim();
                if v.is_empty() {
                    Err(format!("key {key} is empty"))
                } else {
                    Ok(Some(v.to_string()))
                }
            }
        }
    };
    let required = |key: &str, example: &str| -> Result<String, String> {
        text(key)?.ok_or_else(|| format!("has no key {key} (e.g. {example})"))
    };
    let region = crate::config::check_region(required("region", "cn-north-4")?)
        .map_err(|_| "key region is not a region name (e.g. cn-north-4)".to_string())?;
    let project_id = crate::config::check_project_id(required(
        "projectId",
        "the IAM project id of the region, 32 hex digits",
    )?)
    .map_err(|_| "key projectId is not a project id (letters, digits, '-' and '_')".to_string())?;
    let endpoint = text("endpoint")?;
    if let Some(e) = &endpoint {
        match url::Url::parse(e) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => return Err("key endpoint is not an http(s) URL".into()),
        }
    }
    crate::config::credentials_from_secret(secret, data).map_err(|e| e.to_string())?;
    Ok(NamespaceAccount {
        region,
        project_id,
        endpoint,
    })
}

/// The account an object resolves to now, with what its status records of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub account: Account,
    pub status: crate::crd::common::AccountStatus,
}

/// Whether `a` and `b` name the same place in the cloud: the same project, region and endpoint.
/// Where the settings came from and which Secret holds the credentials do not matter: new
/// credentials for the same project (a rotated or renamed Secret, a namespace that gets its own
/// keys) reach the same resources.
pub fn same_account(
    a: &crate::crd::common::AccountStatus,
    b: &crate::crd::common::AccountStatus,
) -> bool {
    (&a.project_id, &a.region, &a.endpoint) == (&b.project_id, &b.region, &b.endpoint)
}

/// The account an object uses: the one it resolves to now, unless its cloud resource exists
/// and was made in another one (recorded in its status), which it keeps: `Some` is then that
/// recorded account. An object with a resource but no record (made before accounts were
/// recorded) takes the one it resolves to now.
pub fn keep_recorded(
    recorded: Option<&crate::crd::common::AccountStatus>,
    has_resource: bool,
    now: &crate::crd::common::AccountStatus,
) -> Option<crate::crd::common::AccountStatus> {
    recorded
        .filter(|r| has_resource && !same_account(r, now))
        .cloned()
}

/// The account a status records, to connect to again. `ies`: the object talks to IES.
pub fn recorded_account(r: &crate::crd::common::AccountStatus, ies: bool) -> Account {
    let secret = r
        .secret
        .as_deref()
        .and_then(|s| s.split_once('/'))
        .map(|(ns, name)| (ns.to_string(), name.to_string()));
    if ies {
        return Account::Ies(IesTarget {
            endpoint: Some(r.endpoint.clone()),
            credentials_secret: secret,
        });
    }
    Account::Vpn(CloudOverride {
        region: r.region.clone(),
        project_id: r.project_id.clone(),
        endpoint: Some(r.endpoint.clone()),
        credentials_secret: secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::common::{AccountSource, AccountStatus};

    fn data(pairs: &[(&str, &str)]) -> super::super::secrets::SecretData {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    fn secret() -> crate::config::SecretRef {
        crate::config::SecretRef {
            namespace: "team-a".into(),
            name: DEFAULT_ACCOUNT_SECRET.into(),
        }
    }

    #[test]
    fn a_namespace_account_secret_names_its_problem_and_never_a_value() {
        let good = [
            ("region", "cn-north-4"),
            ("projectId", "0c1a55f0000000000000000000000002"),
            ("accessKey", "AKEXAMPLE"),
            ("secretKey", "SKEXAMPLE"),
        ];
        let a = namespace_account(&secret(), &data(&good)).unwrap();
        assert_eq!(
            (a.region.as_str(), a.project_id.as_str(), a.endpoint),
            ("cn-north-4", "0c1a55f0000000000000000000000002", None)
        );
        let with = |k: &str, v: &str| {
            let mut d = data(&good);
            d.insert(k.into(), v.as_bytes().to_vec());
            d
        };
        let without = |k: &str| {
            let mut d = data(&good);
            d.remove(k);
            d
        };
        let e = namespace_account(&secret(), &with("endpoint", "https://vpn.example:8443"));
        assert_eq!(
            e.unwrap().endpoint.as_deref(),
            Some("https://vpn.example:8443")
        );
        for (d, want) in [
            (without("region"), "has no key region"),
            (without("projectId"), "has no key projectId"),
            (with("region", "CN North"), "key region is not a region"),
            (
                with("projectId", "a/b"),
                "key projectId is not a project id",
            ),
            (
                with("endpoint", "vpn.example"),
                "key endpoint is not an http(s) URL",
            ),
            (with("region", " "), "key region is empty"),
            (without("secretKey"), "no key secretKey"),
            (without("accessKey"), "no key accessKey"),
        ] {
            let e = namespace_account(&secret(), &d).unwrap_err();
            assert!(e.contains(want), "{e}");
            assert!(!e.contains("SKEXAMPLE") && !e.contains("AKEXAMPLE"), "{e}");
        }
    }

    fn status(source: AccountSource, project: &str) -> AccountStatus {
        AccountStatus {
            source,
            secret: Some("team-a/vpn-operator-account".into()),
            project_id: Some(project.into()),
            region: Some("cn-north-4".into()),
            endpoint: "https://vpn.example".into(),
        }
    }

    #[test]
    fn a_resource_keeps_the_account_it_was_made_in() {
        let (p1, p2) = (
            status(AccountSource::Namespace, "p1"),
            status(AccountSource::Namespace, "p2"),
        );
        // (recorded, has a resource, resolves to now) -> the recorded one kept, if any.
        let table = [
            (None, false, &p1, None),
            (None, true, &p1, None),
            (Some(&p1), false, &p2, None),
            (Some(&p1), true, &p1, None),
            (Some(&p1), true, &p2, Some(p1.clone())),
        ];
        for (recorded, has, now, want) in table {
            assert_eq!(
                keep_recorded(recorded, has, now),
                want,
                "{recorded:?} {has}"
            );
        }
        // The same account named by spec.cloud instead of the namespace is not a change, nor
        // are other credentials for the same project.
        let pinned = status(AccountSource::Object, "p1");
        assert_eq!(keep_recorded(Some(&p1), true, &pinned), None);
        let other_keys = AccountStatus {
            secret: Some("team-a/new-keys".into()),
            ..p1.clone()
        };
        assert_eq!(keep_recorded(Some(&p1), true, &other_keys), None);
        let other_region = AccountStatus {
            region: Some("ap-southeast-1".into()),
            ..p1.clone()
        };
        assert_eq!(
            keep_recorded(Some(&p1), true, &other_region),
            Some(p1.clone())
        );
        assert_eq!(
            recorded_account(&p1, false),
            Account::Vpn(CloudOverride {
                region: Some("cn-north-4".into()),
                project_id: Some("p1".into()),
                endpoint: Some("https://vpn.example".into()),
                credentials_secret: Some(("team-a".into(), "vpn-operator-account".into())),
            })
        );
    }
}
