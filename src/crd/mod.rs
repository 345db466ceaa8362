//! Kubernetes API types. (CRD work)
