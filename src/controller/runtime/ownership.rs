//! Who owns a cloud resource: the tags the operator stamps on everything it creates, the
//! deterministic cloud name, and the checks that prevent duplicates and foreign adoption.
//!
//! Tag keys and values only use the characters the VPN API allows (letters, digits, spaces
//! and `_ . : = + - @`, reference §3.2), so `/` never appears in them.
use std::collections::BTreeMap;

use kube::{Resource, ResourceExt};

use crate::cloud::model::common::VpnResourceTag;

/// The Kubernetes uid of the owning object (the primary identity).
pub const TAG_UID: &str = "vpn.hwcloud.dev:uid";
/// `cluster:namespace:name` of the owning object, for humans reading the console.
pub const TAG_OWNER: &str = "vpn.hwcloud.dev:owner";
/// Most tags a resource may carry (API limit).
pub const MAX_TAGS: usize = 20;

/// What the tags of a cloud resource say about its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// Tagged with this object's uid.
    Ours,
    /// No owner tag: created outside this operator.
    Unowned,
    /// Tagged by another object (its `owner` tag, or its uid when that is missing).
    Foreign(String),
}

/// The owner tags for `obj` in `cluster`.
pub fn owner_tags<K: Resource>(cluster: &str, obj: &K) -> Vec<VpnResourceTag> {
    let owner = format!(
        "{cluster}:{}:{}",
        obj.namespace().unwrap_or_default(),
        obj.name_any()
    );
    vec![
        VpnResourceTag::new(TAG_UID, obj.uid().unwrap_or_default()),
        VpnResourceTag::new(TAG_OWNER, truncate(&owner, 255)),
    ]
}

/// User tags plus owner tags (owner keys cannot be overridden by the user), sorted by key.
pub fn desired_tags<K: Resource>(
    cluster: &str,
    obj: &K,
    user: &BTreeMap<String, String>,
) -> Vec<VpnResourceTag> {
    let mut tags: Vec<VpnResourceTag> = user
        .iter()
        .filter(|(k, _)| k.as_str() != TAG_UID && k.as_str() != TAG_OWNER)
        .map(|(k, v)| VpnResourceTag::new(k.clone(), v.clone()))
        .collect();
    tags.extend(owner_tags(cluster, obj));
    tags.sort_by(|a, b| a.key.cmp(&b.key));
    tags
}

/// Reads the owner from a resource's tags, relative to the object with `uid`.
pub fn ownership(tags: Option<&[VpnResourceTag]>, uid: &str) -> Ownership {
    let tags = tags.unwrap_or_default();
    let get = |k: &str| tags.iter().find(|t| t.key == k).map(|t| t.value.clone());
    match get(TAG_UID) {
        None => Ownership::Unowned,
        Some(u) if u == uid => Ownership::Ours,
        Some(u) => Ownership::Foreign(get(TAG_OWNER).unwrap_or(u)),
    }
}

/// The name of the cloud resource: `spec.name`, else the object's name, cut to 64 characters.
pub fn cloud_name(spec_name: Option<&str>, object_name: &str) -> String {
    truncate(spec_name.unwrap_or(object_name), 64)
}

/// Tag changes that make a resource's tags match the desired set (for the tag API, which is
/// the only way to change tags after creation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagDiff {
    /// Tags to add or whose value to overwrite (`tags/create`).
    pub add: Vec<VpnResourceTag>,
    /// Tags to remove (`tags/delete`). Never an owner tag.
    pub remove: Vec<VpnResourceTag>,
}

impl TagDiff {
    /// True when the tags already match.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// What to add and remove so that `observed` becomes `desired`. Owner tags are only ever added
/// (or overwritten), never removed: removing them would orphan the resource.
pub fn tag_diff(desired: &[VpnResourceTag], observed: &[VpnResourceTag]) -> TagDiff {
    let add = desired
        .iter()
        .filter(|d| {
            !observed
                .iter()
                .any(|o| o.key == d.key && o.value == d.value)
        })
        .cloned()
        .collect();
    let remove = observed
        .iter()
        .filter(|o| o.key != TAG_UID && o.key != TAG_OWNER)
        .filter(|o| !desired.iter().any(|d| d.key == o.key))
        .cloned()
        .collect();
    TagDiff { add, remove }
}

/// Refuses a tag set the cloud would reject, before any cloud call: at most [`MAX_TAGS`] per
/// resource (the operator adds its two owner tags to the user's), and user keys and values of
/// the cloud's characters only ([`crate::crd::tag_text_ok`]: the schema checks values,
/// but the API server cannot check map keys).
pub fn check_tags(tags: &[VpnResourceTag]) -> super::error::Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(super::error::Error::InvalidSpec(format!(
            "{} tags requested but a cloud resource holds at most {MAX_TAGS}, and the operator adds \
             its own {TAG_UID} and {TAG_OWNER} tags: use at most {} tags in spec.tags",
            tags.len(),
            MAX_TAGS - 2
        )));
    }
    let user = tags
        .iter()
        .filter(|t| t.key != TAG_UID && t.key != TAG_OWNER);
    for t in user {
        if !crate::crd::tag_text_ok(&t.key) || !crate::crd::tag_text_ok(&t.value) {
            return Err(super::error::Error::InvalidSpec(format!(
                "spec.tags: tag {:?}: the cloud allows only letters, digits, Chinese characters and \
                 _ . : = + - @ in tag keys and values: rename or remove it",
                t.key
            )));
        }
    }
    Ok(())
}

/// Takes this object's owner tags off cloud resource `id` (with `deletionPolicy: Orphan`), so
/// that another object can adopt it later through `spec.cloudId`. Only tags naming `uid` are
/// removed: a resource that is not (or no longer) ours is left alone. Returns whether tags were
/// removed; a resource that is gone counts as nothing to do.
pub async fn release(
    cloud: &crate::cloud::VpnClient,
    kind: &crate::cloud::model::tag::TagResourceType,
    id: &str,
    uid: &str,
) -> super::error::Result<bool> {
    let tags = match cloud.list_tags(kind, id).await {
        Ok(t) => t,
        Err(e) if e.is_not_found() => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    if ownership(Some(&tags), uid) != Ownership::Ours {
        return Ok(false);
    }
    let owner_tags: Vec<VpnResourceTag> = tags
        .into_iter()
        .filter(|t| t.key == TAG_UID || t.key == TAG_OWNER)
        .collect();
    match cloud.remove_tags(kind, id, &owner_tags).await {
        Ok(()) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Renders tags as `k=v, k=v` sorted by key, for drift entries and events.
pub fn render_tags(tags: &[VpnResourceTag]) -> String {
    let mut pairs: Vec<String> = tags
        .iter()
        .map(|t| format!("{}={}", t.key, t.value))
        .collect();
    pairs.sort();
    pairs.join(", ")
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;

    fn obj(name: &str, uid: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("team-a".into()),
                uid: Some(uid.into()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn owner_tags_identify_the_object_and_use_allowed_characters() {
        let tags = owner_tags("prod", &obj("gw", "1234-abcd"));
        assert_eq!(tags[0], VpnResourceTag::new(TAG_UID, "1234-abcd"));
        assert_eq!(tags[1], VpnResourceTag::new(TAG_OWNER, "prod:team-a:gw"));
        for t in &tags {
            assert!(!t.key.contains('/') && !t.value.contains('/'));
        }
    }

    #[test]
    fn user_tags_cannot_fake_ownership() {
        let user = BTreeMap::from([
            (TAG_UID.to_string(), "other".to_string()),
            ("env".to_string(), "prod".to_string()),
        ]);
        let tags = desired_tags("c", &obj("gw", "me"), &user);
        assert_eq!(tags.iter().filter(|t| t.key == TAG_UID).count(), 1);
        assert_eq!(ownership(Some(&tags), "me"), Ownership::Ours);
        assert!(tags.iter().any(|t| t.key == "env"));
    }

    #[test]
    fn ownership_distinguishes_ours_unowned_and_foreign() {
        let ours = owner_tags("c", &obj("gw", "me"));
        let theirs = owner_tags("c", &obj("other-gw", "them"));
        assert_eq!(ownership(Some(&ours), "me"), Ownership::Ours);
        assert_eq!(ownership(None, "me"), Ownership::Unowned);
        assert_eq!(
            ownership(Some(&theirs), "me"),
            Ownership::Foreign("c:team-a:other-gw".into())
        );
    }

    #[test]
    fn cloud_name_defaults_to_object_name_within_64_chars() {
        assert_eq!(cloud_name(Some("edge"), "gw"), "edge");
        assert_eq!(cloud_name(None, &"x".repeat(80)).len(), 64);
    }

    #[test]
    fn tag_diff_adds_missing_overwrites_changed_and_never_removes_owner_tags() {
        let t = VpnResourceTag::new;
        let desired = vec![t("env", "prod"), t("team", "net"), t(TAG_UID, "me")];
        let observed = vec![
            t("env", "dev"),
            t("stale", "x"),
            t(TAG_OWNER, "c:ns:gw"),
            t(TAG_UID, "me"),
        ];
        let diff = tag_diff(&desired, &observed);
        assert_eq!(diff.add, vec![t("env", "prod"), t("team", "net")]);
        assert_eq!(diff.remove, vec![t("stale", "x")]);
        assert!(tag_diff(&desired, &desired).is_empty());
    }

    #[test]
    fn rendered_tags_are_sorted() {
        let t = VpnResourceTag::new;
        assert_eq!(render_tags(&[t("b", "2"), t("a", "1")]), "a=1, b=2");
    }
}
