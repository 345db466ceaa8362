//! IAM token auth. (cloud-core)
