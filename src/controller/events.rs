//! Reasons of the Kubernetes Events the controllers publish (not condition reasons: those are
//! in `crd::common::reasons`). One list for every kind, so the same happening has the same word.

/// The cloud resource was created.
pub const CREATED: &str = "Created";
/// Updatable fields, tags or the health check were changed in the cloud.
pub const UPDATED: &str = "Updated";
/// An existing cloud resource (`spec.cloudId`) is now managed by this object.
pub const ADOPTED: &str = "Adopted";
/// A cloud resource created earlier for this object (lost response, crash before the status
/// write) was found by its owner tag and is used instead of creating another.
pub const RECOVERED: &str = "Recovered";
/// The cloud resource is gone from the cloud.
pub const DELETED: &str = "Deleted";
/// Deletion was requested; the operator waits until the cloud answers 404.
pub const DELETE_REQUESTED: &str = "DeleteRequested";
/// A finished gateway job record was deleted.
pub const JOB_DELETED: &str = "JobDeleted";
/// A new pre-shared key was sent to the cloud (the value is never shown).
pub const PSK_ROTATED: &str = "PskRotated";
/// The cloud differs from the spec in a way the operator did not cause.
pub const DRIFT_DETECTED: &str = "DriftDetected";
/// The cloud resource recorded in status is gone; a new one is created.
pub const RECREATING: &str = "Recreating";
/// The object was deleted but its cloud resource belongs to another object (its owner tag
/// names another object): the resource was left in place and the finalizer removed.
pub const NOT_DELETED: &str = "NotDeleted";
