//! Builders for the CEL rules (`x-kubernetes-validations`) shared by every kind.
//!
//! The API server runs these rules on create and update. Transition rules (the ones that use
//! `oldSelf`) only run on update, and only where the old and the new object both have a value
//! at the rule's path. That is why immutability is checked on the parent object (the spec,
//! which always exists): an optional field must not be added or removed either, and a rule on
//! the field itself would never see those two cases.
use kube::core::{Message, Rule};

/// A CEL expression that is true when `root.path[0].path[1]...` exists, for example
/// `has(self.cloud) && has(self.cloud.region)`.
fn present(root: &str, path: &[&str]) -> String {
    let mut parts = Vec::with_capacity(path.len());
    let mut prefix = root.to_string();
    for segment in path {
        parts.push(format!("has({prefix}.{segment})"));
        prefix = format!("{prefix}.{segment}");
    }
    parts.join(" && ")
}

/// The field `path` (relative to the object the rule is attached to) cannot be added, changed
/// or removed after creation. The message names the field, and the API server reports the
/// error at that field (`fieldPath`).
pub(crate) fn immutable(path: &[&str]) -> Rule {
    let dotted = path.join(".");
    let now = present("self", path);
    let before = present("oldSelf", path);
    let rule = format!("({now}) == ({before}) && (!({now}) || self.{dotted} == oldSelf.{dotted})");
    Rule::new(rule)
        .message(Message::Message(format!(
            "{dotted} is immutable: it cannot be added, changed or removed after creation (delete and recreate the object to change it)"
        )))
        .field_path(format!(".{dotted}"))
}

/// Like [`immutable`], for a map of strings: compares entry by entry through lookups, because
/// the API server cannot bound the length of map keys and would estimate a whole-map `==` as
/// too expensive.
pub(crate) fn immutable_map(path: &[&str]) -> Rule {
    let dotted = path.join(".");
    let now = present("self", path);
    let before = present("oldSelf", path);
    let rule = format!(
        "({now}) == ({before}) && (!({now}) || (size(self.{dotted}) == size(oldSelf.{dotted}) \
         && self.{dotted}.all(k, k in oldSelf.{dotted} && self.{dotted}[k] == oldSelf.{dotted}[k])))"
    );
    Rule::new(rule)
        .message(Message::Message(format!(
            "{dotted} is immutable: it cannot be added, changed or removed after creation (delete and recreate the object to change it)"
        )))
        .field_path(format!(".{dotted}"))
}

/// Observe-only management needs a cloud id: there is nothing to observe otherwise.
pub(crate) fn observe_needs_cloud_id() -> Rule {
    Rule::new("!has(self.managementPolicy) || self.managementPolicy != 'Observe' || has(self.cloudId)")
        .message("managementPolicy Observe needs cloudId: the operator only reads an existing cloud resource in this mode")
        .field_path(".cloudId")
}

/// Exactly one of two optional fields is set.
pub(crate) fn exactly_one_of(a: &str, b: &str) -> Rule {
    Rule::new(format!("has(self.{a}) != has(self.{b})"))
        .message(Message::Message(format!("set exactly one of {a} or {b}")))
}

/// Prefix of the tag keys the operator stamps on every cloud resource it creates (owner uid and
/// name); users cannot set them.
pub(crate) const RESERVED_TAG_PREFIX: &str = "vpn.hwcloud.dev:";

/// Resource tag keys have 1-128 characters (the schema bounds the values to 255 characters of
/// [`patterns::TAG_TEXT`] and the count to 18: 20 per resource in the cloud, 2 of which the
/// operator uses). The characters of keys are checked by the operator: see [`tag_text_ok`].
pub(crate) fn tags() -> Rule {
    Rule::new("self.all(k, size(k) >= 1 && size(k) <= 128)")
        .message("tag keys must have 1-128 characters")
}

/// User tags must not use the operator's reserved key prefix.
pub(crate) fn no_reserved_tags() -> Rule {
    Rule::new(format!("self.all(k, !k.startsWith('{RESERVED_TAG_PREFIX}'))")).message(Message::Message(format!(
        "tag keys starting with {RESERVED_TAG_PREFIX} are reserved for the operator's ownership tags"
    )))
}

/// Regular expressions used in the schemas (Go RE2 syntax, which the API server uses; no
/// look-around, literal UTF-8 characters rather than `\u` escapes). They contain no
/// backslashes, so they can also be embedded in CEL string literals (`matches()`).
pub mod patterns {
    /// Cloud resource names: 1-64 digits, letters, Chinese characters, `_`, `-`, `.`.
    pub const CLOUD_NAME: &str = r"^[0-9A-Za-z一-龥_.-]{1,64}$";
    /// Cloud ids. Documented as UUIDs, but the documentation's own examples are not valid
    /// UUIDs, so only the character set is checked.
    pub const CLOUD_ID: &str = r"^[A-Za-z0-9-]{1,64}$";
    /// A dotted-decimal IPv4 address.
    pub const IPV4: &str = r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])[.]){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$";
    /// An IPv4 CIDR block, e.g. `192.168.0.0/24`.
    pub const IPV4_CIDR: &str = r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])[.]){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(3[0-2]|[12]?[0-9])$";
    /// An IPv6 CIDR block, e.g. `16af:cacc:1097::/48` (shape only: hex digits, at least one
    /// colon, a prefix length of 0-128).
    pub const IPV6_CIDR: &str = r"^[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$";
    /// An IPv4 or IPv6 CIDR block.
    pub const CIDR: &str = r"^((((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])[.]){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(3[0-2]|[12]?[0-9]))|([0-9A-Fa-f.]*:[0-9A-Fa-f:.]*/(12[0-8]|1[01][0-9]|[1-9]?[0-9])))$";
    /// A VPN tunnel interface address: `169.254.x.y/30`, not in `169.254.195.0/24`.
    pub const TUNNEL_ADDRESS: &str = r"^169[.]254[.](25[0-5]|2[0-4][0-9]|19[0-46-9]|1[0-8][0-9]|[1-9]?[0-9])[.](25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/30$";
    /// Enterprise project id: a UUID, or `0` for the default project.
    pub const ENTERPRISE_PROJECT_ID: &str = r"^(0|[A-Za-z0-9-]{1,64})$";
    /// Resource tag values (and, checked by the operator, keys): the characters the cloud
    /// documents for both, letters, digits, Chinese characters and `_ . : = + - @`
    /// ([`super::tag_text_ok`] is the same set in Rust).
    pub const TAG_TEXT: &str = r"^[0-9A-Za-z一-龥_.:=+@-]*$";
}

/// Whether `s` uses only the characters the cloud documents for tag keys and values (the VPN
/// reference's tag constraints: letters, digits, Chinese characters and `_ . : = + - @`; the
/// spaces and other Unicode letters it marks as uncertain are refused), as
/// [`patterns::TAG_TEXT`]. The schemas check values with that pattern; keys cannot be checked
/// by the API server (a map key's length is unbounded when it estimates a rule's cost, so a
/// `matches()` on keys would get the CRD refused), so the operator checks them before any cloud
/// call (`ownership::check_tags`) and `vpn-operator plan` reports it.
pub fn tag_text_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || ('一'..='龥').contains(&c) || "_.:=+@-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immutable_rule_guards_nested_paths_with_has() {
        let rule = immutable(&["cloud", "region"]);
        assert_eq!(
            rule.rule,
            "(has(self.cloud) && has(self.cloud.region)) == (has(oldSelf.cloud) && has(oldSelf.cloud.region)) \
             && (!(has(self.cloud) && has(self.cloud.region)) || self.cloud.region == oldSelf.cloud.region)"
        );
        assert_eq!(rule.field_path.as_deref(), Some(".cloud.region"));
    }

    #[test]
    fn immutable_rule_message_names_the_field() {
        let rule = immutable(&["vpcId"]);
        let json = serde_json::to_value(&rule).unwrap_or_default();
        let message = json["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("vpcId is immutable"), "{message}");
    }
}
