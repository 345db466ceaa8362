//! The named API operations every client call carries: for metrics, limiter buckets, retry
//! rules and error messages. Plain data, shared by the transport and its parts (limiter, retry,
//! token).

/// Whether an operation reads or mutates; picks the limiter bucket and retry rules
/// (writes are not retried after a timeout unless the caller says the operation is idempotent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    Read,
    Write,
}

/// A named API operation, e.g. `Operation::write("CreateVpnGateway")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operation {
    pub name: &'static str,
    pub kind: OpKind,
    /// True when repeating the request cannot create a second resource (PUT, DELETE, GET).
    pub idempotent: bool,
}

impl Operation {
    /// A read (GET): limited by the read bucket, always safe to retry.
    pub const fn read(name: &'static str) -> Self {
        Self {
            name,
            kind: OpKind::Read,
            idempotent: true,
        }
    }
    /// An idempotent mutation (PUT / DELETE).
    pub const fn write(name: &'static str) -> Self {
        Self {
            name,
            kind: OpKind::Write,
            idempotent: true,
        }
    }
    /// A create (POST): retried only when the request surely did not reach the server.
    pub const fn create(name: &'static str) -> Self {
        Self {
            name,
            kind: OpKind::Write,
            idempotent: false,
        }
    }
}
