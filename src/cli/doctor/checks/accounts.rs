//! The verdict on one namespace's cloud account (its account Secret, `--account-secret-name`),
//! from what [`crate::cli::doctor::accounts`] found: the operator's own resolution of the
//! namespace's account, and the signed read made with the Secret's credentials.
use super::{Check, Status};

/// The group and name of the namespace-account checks (`namespace/account`).
pub const GROUP: &str = "namespace";
pub const NAME: &str = "account";

/// What was found of a namespace's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// No account Secret: the namespace's objects use the operator's own account.
    Missing,
    /// The operator would give the namespace's objects no account: its condition reason
    /// (`AccountMissing` under `--require-namespace-account`, `AccountInvalid` for a Secret it
    /// cannot use) and message.
    Refused {
        reason: &'static str,
        message: String,
    },
    /// The Secret could not be read (e.g. forbidden).
    Unreadable(String),
    /// A usable Secret: the account it names and the `[credentials, project]` checks of one
    /// signed read with its credentials.
    Usable {
        project: String,
        region: String,
        endpoint: String,
        signed: Box<[Check; 2]>,
    },
}

/// "3 objects" / "1 object".
fn objects(n: usize) -> String {
    match n {
        1 => "1 object".into(),
        n => format!("{n} objects"),
    }
}

/// The check of namespace `ns`, whose account Secret is `secret` (`ns/name`) and which holds
/// `users` objects that would use it (objects of the VPN kinds without a credentials Secret of
/// their own). A missing Secret matters only when some object would use it.
pub fn namespace(ns: &str, secret: &str, users: usize, found: &Found) -> Check {
    let create = format!(
        "kubectl -n {ns} create secret generic {} --from-literal=region=REGION \
         --from-literal=projectId=PROJECT_ID --from-literal=accessKey=AK --from-literal=secretKey=SK",
        secret.rsplit('/').next().unwrap_or(secret)
    );
    match found {
        Found::Missing if users == 0 => Check::pass(
            GROUP,
            NAME,
            format!("{ns}: no Secret {secret}, and no object would use one"),
        ),
        Found::Missing => Check::warn(
            GROUP,
            NAME,
            format!(
                "{ns}: no Secret {secret}: its {} use the operator's own account",
                objects(users)
            ),
        )
        .fix(format!(
            "if the namespace should have an account of its own: {create}; to refuse the \
             operator's account to such namespaces, run it with --require-namespace-account"
        )),
        Found::Refused { reason, .. } if users == 0 && Some(*reason) == missing() => Check::pass(
            GROUP,
            NAME,
            format!("{ns}: no Secret {secret}, and no object would use one"),
        ),
        Found::Refused { reason, message } => {
            let fix = match Some(*reason) == missing() {
                true => create,
                false => format!(
                    "fix Secret {secret} (keys region, projectId, accessKey, secretKey; optional \
                     endpoint, securityToken)"
                ),
            };
            Check::fail(
                GROUP,
                NAME,
                format!(
                    "{ns}: {} would get Synced=False {reason}: {message}",
                    objects(users)
                ),
            )
            .fix(fix)
        }
        Found::Unreadable(e) => Check::warn(
            GROUP,
            NAME,
            format!("{ns}: Secret {secret} cannot be read: {e}"),
        )
        .fix(format!(
            "run doctor with permission to get secrets in {ns} (as the operator's ServiceAccount)"
        )),
        Found::Usable {
            project,
            region,
            endpoint,
            signed,
        } => {
            let [cred, proj] = signed.as_ref();
            let worst = if cred.status != Status::Pass {
                cred
            } else {
                proj
            };
            let account =
                format!("Secret {secret}, project {project} in region {region} ({endpoint})");
            match worst.status {
                Status::Pass => Check::pass(
                    GROUP,
                    NAME,
                    format!(
                        "{ns}: {account}: {}; used by {}",
                        cred.message,
                        objects(users)
                    ),
                ),
                status => Check {
                    group: GROUP,
                    name: NAME,
                    status,
                    message: format!("{ns}: {account}: {}", worst.message),
                    fix: worst.fix.clone(),
                },
            }
        }
    }
}

fn missing() -> Option<&'static str> {
    Some(crate::crd::common::reasons::ACCOUNT_MISSING)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "team-a/vpn-operator-account";

    fn signed(cred: Status, proj: Status) -> Box<[Check; 2]> {
        let c = Check {
            group: "cloud",
            name: "credentials",
            status: cred,
            message: "the request signature of access key AK1 was accepted".into(),
            fix: (cred != Status::Pass).then(|| "check secretKey".into()),
        };
        let p = Check {
            group: "cloud",
            name: "project",
            status: proj,
            message: "project p1 is not theirs".into(),
            fix: (proj != Status::Pass).then(|| "use the project id".into()),
        };
        Box::new([c, p])
    }

    #[test]
    fn each_state_of_a_namespace_account_reads_as_the_operator_would_act() {
        let usable = |cred, proj| Found::Usable {
            project: "p1".into(),
            region: "cn-north-4".into(),
            endpoint: "https://vpn.example".into(),
            signed: signed(cred, proj),
        };
        let refused = |reason: &'static str| Found::Refused {
            reason,
            message: "the message".into(),
        };
        use crate::crd::common::reasons::{ACCOUNT_INVALID, ACCOUNT_MISSING};
        use Status::{Fail, Pass, Warn};
        // (found, objects that would use it) -> status, message contains, fix contains.
        let table = [
            (Found::Missing, 0, Pass, "no object would use one", None),
            (
                Found::Missing,
                2,
                Warn,
                "its 2 objects use the operator's own account",
                Some("--require-namespace-account"),
            ),
            (refused(ACCOUNT_MISSING), 0, Pass, "no object would use one", None),
            (
                refused(ACCOUNT_MISSING),
                1,
                Fail,
                "1 object would get Synced=False AccountMissing: the message",
                Some("create secret generic vpn-operator-account"),
            ),
            (
                refused(ACCOUNT_INVALID),
                0,
                Fail,
                "0 objects would get Synced=False AccountInvalid: the message",
                Some("fix Secret team-a/vpn-operator-account"),
            ),
            (
                Found::Unreadable("forbidden".into()),
                1,
                Warn,
                "cannot be read: forbidden",
                Some("permission to get secrets in team-a"),
            ),
            (
                usable(Pass, Pass),
                3,
                Pass,
                "project p1 in region cn-north-4 (https://vpn.example): the request signature of access key AK1 was accepted; used by 3 objects",
                None,
            ),
            (usable(Fail, Warn), 3, Fail, "was accepted", Some("check secretKey")),
            (usable(Pass, Fail), 3, Fail, "is not theirs", Some("use the project id")),
        ];
        for (found, users, status, text, fix) in table {
            let c = namespace("team-a", S, users, &found);
            assert_eq!(c.status, status, "{found:?}: {c:?}");
            assert!(c.message.starts_with("team-a: "), "{}", c.message);
            assert!(c.message.contains(text), "{found:?}: {}", c.message);
            match fix {
                Some(f) => assert!(c.fix.as_deref().unwrap_or("").contains(f), "{c:?}"),
                None => assert_eq!(c.fix, None),
            }
        }
    }
}
