//! Client-side token buckets. (cloud-core)
