//! Finding an object's cloud resource, the same way for every kind: by the id recorded in
//! status; else by `spec.cloudId` (adoption, or the resource to observe); else by the owner tag
//! (a create whose response was lost, or a crash before the status write). When the recorded
//! resource is gone, a copy carrying the owner tag is looked for before anything is recreated.
//! A resource another object owns is never managed by this one.
use std::future::Future;

use super::error::{Error, Result};
use super::events::{actions, Note, ADOPTED, NOT_DELETED, RECOVERED, RECREATING};
use super::ownership::{Ownership, TAG_UID};

/// How a kind's cloud resources are read, for [`find`]. A kind implements it on a small view
/// of its client (e.g. "the gateways of this account").
pub trait Lookup: Sync {
    /// The resource as the cloud reports it (with whatever [`Lookup::owner`] needs).
    type Resource: Clone + Send + Sync;

    /// The resource `id`, or `None` when the cloud answers 404.
    fn get(&self, id: &str) -> impl Future<Output = Result<Option<Self::Resource>>> + Send;

    /// The resource created for the object with `uid` (the oldest, should there be several).
    fn find_owned(&self, uid: &str) -> impl Future<Output = Result<Option<Self::Resource>>> + Send;

    /// Who owns `resource`, relative to the object with `uid`. Kinds whose cloud keeps no owner
    /// answer [`Ownership::Unowned`].
    fn owner(&self, resource: &Self::Resource, uid: &str) -> Ownership;

    /// The resource's cloud id.
    fn id(resource: &Self::Resource) -> &str;
}

/// Where an object's resource is looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Locate {
    /// By the id recorded in `status.cloudId`.
    Recorded(String),
    /// By `spec.cloudId` (adoption, or the resource to observe).
    Adopt(String),
    /// By the owner tag.
    ByOwnerTag,
    /// Nowhere: observe-only without a cloud id (the CRD's rules prevent this).
    Nothing,
}

/// Status first, then `spec.cloudId`, then (only when the operator may create) the owner tag.
pub fn locate(recorded: Option<&str>, adopt: Option<&str>, observe_only: bool) -> Locate {
    match (recorded, adopt) {
        (Some(id), _) => Locate::Recorded(id.to_string()),
        (None, Some(id)) => Locate::Adopt(id.to_string()),
        (None, None) if observe_only => Locate::Nothing,
        (None, None) => Locate::ByOwnerTag,
    }
}

/// How an existing resource was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// Its id was in status.
    Recorded,
    /// It is the resource named by `spec.cloudId`, seen for the first time.
    Adopted,
    /// It carries this object's owner tag.
    Recovered,
}

/// What the object needs found.
#[derive(Clone, Copy, Debug)]
pub struct Search<'a> {
    /// `status.cloudId`.
    pub recorded: Option<&'a str>,
    /// `spec.cloudId`.
    pub adopt: Option<&'a str>,
    /// The object's uid (its owner tag).
    pub uid: &'a str,
    /// `managementPolicy: Observe`: read anything, own nothing.
    pub observe_only: bool,
    /// The object is being deleted: no copies are searched for, and a resource another object
    /// owns is reported (to be left in place) instead of refused.
    pub deleting: bool,
}

/// What the cloud holds for an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Found<R> {
    /// The resource, and how it was found.
    pub resource: Option<(R, How)>,
    /// An id (recorded, or `spec.cloudId`) that answered 404.
    pub gone: Option<String>,
    /// Deleting: the resource's owner tag names this other object.
    pub foreign: Option<String>,
}

impl<R> Default for Found<R> {
    fn default() -> Self {
        Self {
            resource: None,
            gone: None,
            foreign: None,
        }
    }
}

/// When there is no resource: what the object can do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Absent {
    /// Nothing was ever made: create.
    Create,
    /// The recorded resource is gone and no copy carries the owner tag: create another.
    Recreate { gone: String },
    /// The resource the object points at (`spec.cloudId`, or observe-only) does not exist;
    /// the operator must not create one. `None`: observe-only without an id.
    Missing { id: Option<String> },
}

impl<R> Found<R> {
    /// A found resource.
    pub fn exists(resource: R, how: How) -> Self {
        Self {
            resource: Some((resource, how)),
            ..Self::default()
        }
    }

    /// The resource, if one was found.
    pub fn resource(&self) -> Option<&R> {
        self.resource.as_ref().map(|(r, _)| r)
    }

    /// What the object can do when nothing was found (`adopt`: its `spec.cloudId`).
    pub fn absent(&self, adopt: Option<&str>, observe_only: bool) -> Absent {
        match &self.gone {
            Some(id) if observe_only || adopt.is_some() => Absent::Missing {
                id: Some(id.clone()),
            },
            Some(id) => Absent::Recreate { gone: id.clone() },
            None if observe_only => Absent::Missing {
                id: adopt.map(str::to_string),
            },
            None => Absent::Create,
        }
    }

    /// The Events for how the resource was found: adopted, or recovered by its owner tag.
    pub fn notes(&self, noun: &str, id: impl Fn(&R) -> String, observe_only: bool) -> Vec<Note> {
        match &self.resource {
            Some((r, How::Adopted)) if !observe_only => vec![Note::normal(
                ADOPTED,
                actions::ADOPT,
                format!("adopted existing {noun} {} (spec.cloudId)", id(r)),
            )],
            Some((r, How::Recovered)) => vec![Note::normal(
                RECOVERED,
                actions::ADOPT,
                format!(
                    "found {noun} {} created for this object earlier; using it instead of \
                     creating another",
                    id(r)
                ),
            )],
            _ => Vec::new(),
        }
    }
}

/// Finds the resource of an object (see the module documentation). Outside deletion, a
/// resource owned by another object is refused with [`Error::OwnershipConflict`] unless only
/// observing.
pub async fn find<L: Lookup>(cloud: &L, noun: &str, s: &Search<'_>) -> Result<Found<L::Resource>> {
    let search_copies = !s.deleting && !s.observe_only && s.adopt.is_none();
    let mut found = match locate(s.recorded, s.adopt, s.observe_only) {
        Locate::Recorded(id) => match cloud.get(&id).await? {
            Some(r) => Found::exists(r, How::Recorded),
            None if search_copies => Found {
                resource: cloud.find_owned(s.uid).await?.map(|r| (r, How::Recovered)),
                gone: Some(id),
                foreign: None,
            },
            None => Found {
                gone: Some(id),
                ..Found::default()
            },
        },
        Locate::Adopt(id) => match cloud.get(&id).await? {
            Some(r) => Found::exists(r, How::Adopted),
            None => Found {
                gone: Some(id),
                ..Found::default()
            },
        },
        Locate::ByOwnerTag => Found {
            resource: cloud.find_owned(s.uid).await?.map(|r| (r, How::Recovered)),
            ..Found::default()
        },
        Locate::Nothing => Found::default(),
    };
    let owner = match found.resource.as_ref().map(|(r, _)| cloud.owner(r, s.uid)) {
        Some(Ownership::Foreign(owner)) if !s.observe_only => owner,
        _ => return Ok(found),
    };
    let id = found
        .resource
        .as_ref()
        .map_or("", |(r, _)| L::id(r))
        .to_string();
    if s.deleting {
        found.foreign = Some(owner);
        return Ok(found);
    }
    Err(Error::OwnershipConflict(format!(
        "{noun} {id} is managed by {owner} (its {TAG_UID} tag names another object); refusing to \
         adopt it. Use managementPolicy Observe to only read it"
    )))
}

/// The Event when a deleted object's resource belongs to another object and stays.
pub fn not_deleted_note(noun: &str, id: &str, owner: &str) -> Note {
    Note::warning(
        NOT_DELETED,
        actions::DELETE,
        format!(
            "{noun} {id} is managed by {owner} (its {TAG_UID} tag names another object); it was \
             left in place"
        ),
    )
}

/// The Event when the recorded resource is gone and a new one is created.
pub fn recreating_note(noun: &str, gone: &str) -> Note {
    Note::warning(
        RECREATING,
        actions::CREATE,
        format!(
            "{noun} {gone} recorded in status no longer exists (NotFound) and no copy carries \
             this object's owner tag; creating a new one"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::runtime::ownership::TAG_UID;
    use std::sync::Mutex;

    /// A cloud of `(id, owner uid)` pairs that counts its calls.
    struct Fake {
        items: Vec<(&'static str, &'static str)>,
        calls: Mutex<Vec<String>>,
    }

    impl Lookup for Fake {
        type Resource = (&'static str, &'static str);
        async fn get(&self, id: &str) -> Result<Option<Self::Resource>> {
            self.calls.lock().unwrap().push(format!("get {id}"));
            Ok(self.items.iter().find(|(i, _)| *i == id).copied())
        }
        async fn find_owned(&self, uid: &str) -> Result<Option<Self::Resource>> {
            self.calls.lock().unwrap().push(format!("search {uid}"));
            Ok(self.items.iter().find(|(_, o)| *o == uid).copied())
        }
        fn owner(&self, r: &Self::Resource, uid: &str) -> Ownership {
            match r.1 {
                "" => Ownership::Unowned,
                o if o == uid => Ownership::Ours,
                o => Ownership::Foreign(format!("c:ns:{o}")),
            }
        }
        fn id(r: &Self::Resource) -> &str {
            r.0
        }
    }

    fn cloud(items: Vec<(&'static str, &'static str)>) -> Fake {
        Fake {
            items,
            calls: Mutex::default(),
        }
    }

    fn search<'a>(recorded: Option<&'a str>, adopt: Option<&'a str>) -> Search<'a> {
        Search {
            recorded,
            adopt,
            uid: "me",
            observe_only: false,
            deleting: false,
        }
    }

    #[tokio::test]
    async fn a_recorded_resource_that_is_gone_is_searched_for_by_owner_tag_before_recreating() {
        let c = cloud(vec![("copy", "me")]);
        let f = find(&c, "VPN gateway", &search(Some("old"), None))
            .await
            .unwrap();
        assert_eq!(f.resource, Some((("copy", "me"), How::Recovered)));
        assert_eq!(f.gone.as_deref(), Some("old"));
        assert_eq!(
            f.notes("VPN gateway", |r| r.0.to_string(), false)[0].reason,
            RECOVERED
        );

        let c = cloud(vec![]);
        let f = find(&c, "VPN gateway", &search(Some("old"), None))
            .await
            .unwrap();
        assert_eq!(
            f.absent(None, false),
            Absent::Recreate { gone: "old".into() }
        );
        assert_eq!(*c.calls.lock().unwrap(), ["get old", "search me"]);
    }

    #[tokio::test]
    async fn an_adopted_id_that_is_gone_is_never_recreated_nor_searched() {
        let c = cloud(vec![("copy", "me")]);
        let f = find(&c, "VPN gateway", &search(None, Some("gone")))
            .await
            .unwrap();
        assert_eq!(
            f.absent(Some("gone"), false),
            Absent::Missing {
                id: Some("gone".into())
            }
        );
        assert_eq!(*c.calls.lock().unwrap(), ["get gone"]);
    }

    #[tokio::test]
    async fn nothing_recorded_means_an_owner_tag_search_then_create() {
        let c = cloud(vec![("theirs", "other")]);
        let f = find(&c, "VPN gateway", &search(None, None)).await.unwrap();
        assert_eq!(f.absent(None, false), Absent::Create);
        let observe = Search {
            observe_only: true,
            ..search(None, None)
        };
        let f = find(&c, "VPN gateway", &observe).await.unwrap();
        assert_eq!(f.absent(None, true), Absent::Missing { id: None });
    }

    #[tokio::test]
    async fn another_objects_resource_is_refused_read_when_observing_and_left_when_deleting() {
        let c = cloud(vec![("theirs", "other")]);
        let err = find(&c, "VPN gateway", &search(None, Some("theirs")))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::OwnershipConflict(_)));
        assert!(
            err.to_string()
                .contains("VPN gateway theirs is managed by c:ns:other"),
            "{err}"
        );
        assert!(err.to_string().contains(TAG_UID));
        // A recorded id is checked too (recorded while observing, then switched to Manage).
        assert!(find(&c, "VPN gateway", &search(Some("theirs"), None))
            .await
            .is_err());
        let observe = Search {
            observe_only: true,
            ..search(None, Some("theirs"))
        };
        let f = find(&c, "VPN gateway", &observe).await.unwrap();
        assert!(f.resource.is_some() && f.foreign.is_none());
        assert!(
            f.notes("VPN gateway", |r| r.0.to_string(), true).is_empty(),
            "observing adopts nothing"
        );
        let deleting = Search {
            deleting: true,
            ..search(Some("theirs"), None)
        };
        let f = find(&c, "VPN gateway", &deleting).await.unwrap();
        assert_eq!(f.foreign.as_deref(), Some("c:ns:other"));
    }

    #[tokio::test]
    async fn deleting_does_not_search_for_copies_of_a_gone_resource() {
        let c = cloud(vec![("copy", "me")]);
        let deleting = Search {
            deleting: true,
            ..search(Some("old"), None)
        };
        let f = find(&c, "VPN gateway", &deleting).await.unwrap();
        assert!(f.resource.is_none());
        assert_eq!(*c.calls.lock().unwrap(), ["get old"]);
    }
}
