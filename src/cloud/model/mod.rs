//! VPN v5 wire models: the JSON bodies of the Huawei Cloud VPN v5 API, field
//! names exactly as documented (`/work/shared/reference/huawei-vpn-v5-*.md`).
//!
//! Rules every type here follows, because both the client (`cloud::vpn`) and the
//! simulator (`sim`) use these same types:
//! - every type derives `Clone, Debug, PartialEq, Serialize, Deserialize`
//!   (requests are also parsed by the simulator, responses also built by it);
//! - unknown response fields are ignored (no `deny_unknown_fields`);
//! - optional fields are `Option` and are left out of the JSON when `None`, so a
//!   decoded example re-encodes to the same JSON;
//! - every documented enum keeps values it does not know in an `Other(String)`
//!   variant (see the `wire_enum!` macro below), so a new cloud-side value never breaks decoding;
//! - write-only secrets (`psk`, private keys) exist only on request types, wrapped
//!   in [`common::Redacted`] so `Debug` never prints them;
//! - timestamps are [`common::Timestamp`]: kept verbatim, parsed leniently on demand.
//!
//! Files, one per API area:
//! - [`common`] - tags, paging, request-id wrappers, timestamps, redaction, IPsec algorithm enums;
//! - [`gateway`] - VPN gateways, availability zones, jobs, certificates, routing table, upgrade;
//! - [`customer_gateway`] - customer gateways;
//! - [`connection`] - VPN connections (single and batch create, logs);
//! - [`monitor`] - connection monitors (NQA health checks);
//! - [`quota`] - quotas;
//! - [`tag`] - the resource tag APIs;
//! - [`ies`] - CloudOpera IES: service catalog, service manager, CloudVPN traffic (not re-exported).

/// Defines a string enum for a documented wire value set that never fails on an
/// unknown value: the value is kept in an `Other(String)` variant and written back
/// verbatim. Each variant names its canonical wire spelling (used when encoding)
/// and optionally `| "alias"` spellings that also decode to it.
///
/// Generated API: `as_str`, `parse` (infallible), `is_known`, `KNOWN`,
/// `Display`, `FromStr<Err = Infallible>`, `From<&str>`, `From<String>`,
/// `Serialize` (as the string) and `Deserialize` (from a string; numbers and
/// booleans are also accepted and kept as `Other` text).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $wire:literal $(| $alias:literal)*
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
            /// A value not documented when this client was written; kept verbatim.
            Other(String),
        }

        impl $name {
            /// The documented wire values, canonical spellings only.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// The wire spelling (canonical for known values, verbatim for `Other`).
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(s) => s.as_str(),
                }
            }

            /// Maps a wire string to a variant; unknown strings become `Other`.
            pub fn parse(s: &str) -> Self {
                match s {
                    $($wire $(| $alias)* => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }

            /// False for values kept in `Other`.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::parse(s))
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::parse(s)
            }
        }

        impl ::std::convert::From<String> for $name {
            fn from(s: String) -> Self {
                Self::parse(&s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                deserializer
                    .deserialize_any($crate::cloud::model::ScalarText)
                    .map(|s| Self::parse(&s))
            }
        }
    };
}

/// Serde visitor that accepts any JSON scalar as text; used by [`wire_enum!`] so a
/// number or boolean where a string enum was documented is kept, not rejected.
#[doc(hidden)]
pub struct ScalarText;

impl serde::de::Visitor<'_> for ScalarText {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string (or number/boolean) enum value")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

pub mod common;
pub mod connection;
pub mod customer_gateway;
pub mod gateway;
pub mod ies;
pub mod monitor;
pub mod quota;
pub mod tag;

pub use common::*;
pub use connection::*;
pub use customer_gateway::*;
pub use gateway::*;
pub use monitor::*;
pub use quota::*;
pub use tag::*;

#[cfg(test)]
pub(crate) mod test_support;
