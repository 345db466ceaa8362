//! VPN connection wire models. Paths use the SINGULAR `/v5/{project_id}/vpn-connection`
//! (create, get, list, update, delete, log, reset); only batch-create is plural
//! (`/vpn-connections/batch-create`). Reference: huawei-vpn-v5-connections.md §3-5.
use serde::{Deserialize, Serialize};

use super::common::{
    parse_u32, push_all, push_opt, AuthenticationAlgorithm, DhGroup, EncryptionAlgorithm,
    InvalidQuery, PageInfo, QueryParams, Redacted, Timestamp, VpnResourceTag,
};

/// The special characters a pre-shared key (`psk`) may contain, besides letters and digits: the
/// union of every documented table, so the operator never refuses a key the cloud accepts. The
/// tables differ (connections reference §1.4, seed L6255, L7401, L10007): single create
/// `~!@#$%^()-_+={ }./;`, batch create and update `~@#$%^*()-_+={ },./;`, and the vendor SDK's
/// `~!@#$%^()-_+={ },./:;`.
pub const PSK_SPECIALS: &str = "~!@#$%^*()-_+={ },./:;";

wire_enum! {
    /// Connection routing style as REQUESTS spell it (lower case). Default `static`.
    /// Responses use upper case: see [`ResponseConnectionStyle`].
    pub enum ConnectionStyle {
        /// Policy-based (`policy_rules`).
        Policy = "policy" | "POLICY",
        /// Static routing.
        Static = "static" | "STATIC",
        /// BGP routing (tunnel addresses carry the BGP session).
        Bgp = "bgp" | "BGP",
        /// Policy-template mode (non-fixed-IP gateways).
        PolicyTemplate = "policy-template" | "POLICY-TEMPLATE",
    }
}

wire_enum! {
    /// Connection routing style as RESPONSES spell it (upper case).
    pub enum ResponseConnectionStyle {
        Policy = "POLICY" | "policy",
        Static = "STATIC" | "static",
        Bgp = "BGP" | "bgp",
        PolicyTemplate = "POLICY-TEMPLATE" | "policy-template",
    }
}

impl From<&ConnectionStyle> for ResponseConnectionStyle {
    fn from(style: &ConnectionStyle) -> Self {
        match style {
            ConnectionStyle::Policy => Self::Policy,
            ConnectionStyle::Static => Self::Static,
            ConnectionStyle::Bgp => Self::Bgp,
            ConnectionStyle::PolicyTemplate => Self::PolicyTemplate,
            ConnectionStyle::Other(s) => Self::parse(&s.to_uppercase()),
        }
    }
}

impl From<&ResponseConnectionStyle> for ConnectionStyle {
    fn from(style: &ResponseConnectionStyle) -> Self {
        match style {
            ResponseConnectionStyle::Policy => Self::Policy,
            ResponseConnectionStyle::Static => Self::Static,
            ResponseConnectionStyle::Bgp => Self::Bgp,
            ResponseConnectionStyle::PolicyTemplate => Self::PolicyTemplate,
            ResponseConnectionStyle::Other(s) => Self::parse(&s.to_lowercase()),
        }
    }
}

wire_enum! {
    /// Connection status (GET and list only).
    pub enum ConnectionStatus {
        /// Being created.
        PendingCreate = "PENDING_CREATE",
        /// Being updated.
        PendingUpdate = "PENDING_UPDATE",
        /// Being deleted; gone when GET returns 404.
        PendingDelete = "PENDING_DELETE",
        /// Tunnel up.
        Active = "ACTIVE",
        /// Provisioned, tunnel not up (normal until the peer is configured).
        Down = "DOWN",
        /// Failed.
        Error = "ERROR",
        /// Frozen (spelled `FREEZED` by the API).
        Freezed = "FREEZED",
        /// Documented "unknown" state; treat as transient.
        Unknown = "UNKNOWN",
    }
}

impl ConnectionStatus {
    /// True while an operation is in progress (`PENDING_*`).
    pub fn is_transitional(&self) -> bool {
        matches!(
            self,
            Self::PendingCreate | Self::PendingUpdate | Self::PendingDelete
        )
    }
}

wire_enum! {
    /// IKE version. GM gateways: `v1` only (default); others default `v2`.
    pub enum IkeVersion {
        V1 = "v1",
        V2 = "v2",
    }
}

wire_enum! {
    /// IKE phase-1 negotiation mode, effective with IKE v1 only (uncertain). Default `main`; GM: `main` only.
    pub enum Phase1NegotiationMode {
        /// Higher security.
        Main = "main",
        /// Faster negotiation, lower security.
        Aggressive = "aggressive",
    }
}

wire_enum! {
    /// IKE authentication method. Not updatable.
    pub enum AuthenticationMethod {
        /// Pre-shared key (default for non-GM gateways).
        PreShare = "pre-share",
        /// Digital envelope (GM gateways).
        DigitalEnvelopeV2 = "digital-envelope-v2",
    }
}

wire_enum! {
    /// Type of `local_id` / `peer_id`. Default `ip`. `any` is documented for `peer_id_type` only
    /// (update-response table). Not supported with GM (uncertain).
    pub enum IkeIdType {
        Ip = "ip",
        Fqdn = "fqdn",
        Any = "any",
    }
}

wire_enum! {
    /// DPD packet payload order. Default `seq-hash-notify`.
    pub enum DpdMsg {
        SeqHashNotify = "seq-hash-notify",
        SeqNotifyHash = "seq-notify-hash",
    }
}

wire_enum! {
    /// IPsec transform protocol. Only `esp` (default).
    pub enum TransformProtocol {
        Esp = "esp",
    }
}

wire_enum! {
    /// IPsec encapsulation mode. Only `tunnel` (default).
    pub enum EncapsulationMode {
        Tunnel = "tunnel",
    }
}

wire_enum! {
    /// Role of the connection on an active-standby gateway: `master` on the gateway's
    /// first (active) EIP / private IP, `slave` on the second. Default `master`; immutable.
    pub enum HaRole {
        Master = "master",
        Slave = "slave",
    }
}

/// A policy rule (`PolicyRule`). Requests send `source` and `destination`;
/// responses add the server-assigned `rule_index`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRule {
    /// Response only: rule ID, 0-50, assigned by the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_index: Option<u32>,
    /// Local source CIDR (gateway IP version); unique among the connection's rules (uncertain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Customer-side destination CIDRs, at most 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<Vec<String>>,
}

/// Dead-peer detection (`Dpd`, also `UpdateDpd`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dpd {
    /// DPD retransmission interval, 2-60 s; default 15.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// DPD idle interval, 10-3600 s; default 30.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<u32>,
    /// Payload order; default `seq-hash-notify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<DpdMsg>,
}

/// `UpdateDpd` has the same fields as [`Dpd`].
pub type UpdateDpd = Dpd;

/// IKE (phase 1) policy (`IkePolicy`) of create requests and of responses. The server
/// fills every field in responses (defaults: v2, sha2-256, aes-128, group15, pre-share, 86400 s).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IkePolicy {
    /// `v1` or `v2`; default `v2` (GM: `v1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ike_version: Option<IkeVersion>,
    /// `main` (default) or `aggressive`; IKE v1 only (uncertain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase1_negotiation_mode: Option<Phase1NegotiationMode>,
    /// `sha2-512`, `sha2-384`, `sha2-256` (default), `sha1`, `md5`; GM `sm3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_algorithm: Option<AuthenticationAlgorithm>,
    /// `aes-256-gcm-16`, `aes-128-gcm-16`, `aes-256`, `aes-192`, `aes-128` (default), `3des`; GM `sm4`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// `group1/2/5/14/15/16/19/20/21`; default `group15`; not with GM (uncertain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dh_group: Option<DhGroup>,
    /// `pre-share` (non-GM default) or `digital-envelope-v2` (GM). Not updatable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_method: Option<AuthenticationMethod>,
    /// IKE SA lifetime, 60-604800 s; default 86400.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_seconds: Option<u32>,
    /// `ip` (default) or `fqdn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_id_type: Option<IkeIdType>,
    /// `ip`: optional IPv4 (responses return the gateway IP when unset). `fqdn`: required,
    /// at most 255 characters, no spaces or `& < > [ ] \ ?`; must equal the peer device's `peer_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    /// `ip` (default), `fqdn` (or `any`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_id_type: Option<IkeIdType>,
    /// Mirrors `local_id`; for `fqdn` must equal the peer device's `local_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// Dead-peer detection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpd: Option<Dpd>,
}

/// `UpdateIkePolicy`: like [`IkePolicy`] without `authentication_method` (not updatable).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateIkePolicy {
    /// `v1` or `v2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ike_version: Option<IkeVersion>,
    /// `main` or `aggressive`; IKE v1 only (uncertain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase1_negotiation_mode: Option<Phase1NegotiationMode>,
    /// As on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_algorithm: Option<AuthenticationAlgorithm>,
    /// As on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// As on create; not with GM (uncertain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dh_group: Option<DhGroup>,
    /// 60-604800 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_seconds: Option<u32>,
    /// As on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_id_type: Option<IkeIdType>,
    /// As on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_id: Option<String>,
    /// As on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_id_type: Option<IkeIdType>,
    /// As on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// Dead-peer detection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpd: Option<UpdateDpd>,
}

impl From<&IkePolicy> for UpdateIkePolicy {
    /// Every updatable field of a full policy (drops `authentication_method`).
    fn from(p: &IkePolicy) -> Self {
        Self {
            ike_version: p.ike_version.clone(),
            phase1_negotiation_mode: p.phase1_negotiation_mode.clone(),
            authentication_algorithm: p.authentication_algorithm.clone(),
            encryption_algorithm: p.encryption_algorithm.clone(),
            dh_group: p.dh_group.clone(),
            lifetime_seconds: p.lifetime_seconds,
            local_id_type: p.local_id_type.clone(),
            local_id: p.local_id.clone(),
            peer_id_type: p.peer_id_type.clone(),
            peer_id: p.peer_id.clone(),
            dpd: p.dpd.clone(),
        }
    }
}

/// IPsec (phase 2) policy (`IpsecPolicy`, also `UpdateIpsecPolicy`). Server defaults:
/// sha2-256, aes-128, pfs group15, esp, 3600 s, tunnel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpsecPolicy {
    /// `sha2-512`, `sha2-384`, `sha2-256` (default), `sha1`, `md5`; GM `sm3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_algorithm: Option<AuthenticationAlgorithm>,
    /// `aes-256-gcm-16`, `aes-128-gcm-16`, `aes-256`, `aes-192`, `aes-128` (default), `3des`; GM `sm4`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// PFS DH group or `disable`; default `group15`; not with GM (uncertain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pfs: Option<DhGroup>,
    /// `esp` (default, only value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transform_protocol: Option<TransformProtocol>,
    /// IPsec SA lifetime, 30-604800 s; default 3600.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_seconds: Option<u32>,
    /// `tunnel` (default, only value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encapsulation_mode: Option<EncapsulationMode>,
}

/// `UpdateIpsecPolicy` has the same six fields as [`IpsecPolicy`].
pub type UpdateIpsecPolicy = IpsecPolicy;

/// `POST /v5/{project_id}/vpn-connection` body: `{"vpn_connection": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnConnectionRequest {
    /// The connection to create (required).
    pub vpn_connection: CreateVpnConnectionRequestBody,
}

/// `CreateVpnConnectionRequestBodyContent` (single and batch create). Required:
/// `vgw_id`, `vgw_ip`, `cgw_id`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnConnectionRequestBody {
    /// 1-64 characters (digits, letters, Chinese, `_`, `-`, `.`); default `vpn-xxxx`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// VPN gateway ID (UUID). Required, immutable. GM gateways need their certificate first.
    pub vgw_id: String,
    /// Gateway side: EIP ID (public gateway) or private access IP (private gateway). Required, immutable.
    pub vgw_ip: String,
    /// `policy`, `static` (default), `bgp`, `policy-template`. Immutable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<ConnectionStyle>,
    /// Customer gateway ID (UUID). Required; updatable.
    pub cgw_id: String,
    /// IPv4 customer CIDRs, at most 50; no reserved ranges (100.64.0.0/10, 214.0.0.0/8, ...);
    /// required unless ER-attached or `policy`/`bgp` style (uncertain). IPv4 gateways only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_subnets: Option<Vec<String>>,
    /// IPv6 customer CIDRs, at most 50. IPv6 gateways only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_subnets_v6: Option<Vec<String>>,
    /// Gateway tunnel address `169.254.x.x/30`, not `169.254.195.x`, same /30 as the peer; server-assigned when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_local_address: Option<String>,
    /// Customer tunnel address, same rules; server-assigned when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_peer_address: Option<String>,
    /// NQA health check; `static` style only; default false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_nqa: Option<bool>,
    /// Branch (hub) interconnection; `bgp` style only; default false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_hub: Option<bool>,
    /// Pre-shared key, 8-128 characters with three of: upper, lower, digits,
    /// specials `~!@#$%^()-_+={ },./:;`. Omit for GM gateways. Write-only: never returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psk: Option<Redacted<String>>,
    /// IPv4 policy rules, at most 5; `policy` style only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_rules: Option<Vec<PolicyRule>>,
    /// IPv6 policy rules, at most 5; `policy` style only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_rules_v6: Option<Vec<PolicyRule>>,
    /// IKE policy; server defaults when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ikepolicy: Option<IkePolicy>,
    /// IPsec policy; server defaults when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipsecpolicy: Option<IpsecPolicy>,
    /// `master` (default) or `slave`; matters on active-standby gateways. Immutable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha_role: Option<HaRole>,
    /// At most 20 tags; change later only through the tag API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<VpnResourceTag>>,
}

/// `POST /v5/{project_id}/vpn-connections/batch-create` body: 1-2 connections,
/// all on the same `vgw_id` (uncertain).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchCreateVpnConnectionsRequest {
    /// 1-2 connections.
    pub vpn_connections: Vec<CreateVpnConnectionRequestBody>,
}

/// BGP session information (`BgpPeer`, GET only). Observed state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BgpPeer {
    /// Neighbour address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_ip_address: Option<String>,
    /// Neighbour ASN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_asn: Option<u64>,
    /// Session state, e.g. `established` (values not enumerated by the source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Time in the current state, e.g. `3d01h34m24s`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_duration: Option<String>,
    /// Routes received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_received_routes: Option<u64>,
    /// BGP messages received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_message_received: Option<u64>,
    /// BGP messages sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_message_sent: Option<u64>,
}

/// The connection in responses (`ResponseVpnConnection`). Create/batch/update responses
/// have no `status`; `connection_monitor_id` is in get/list/update; `bgp_peer` in get only.
/// There is no `psk`: it cannot be read back.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseVpnConnection {
    /// Connection ID (UUID).
    pub id: String,
    /// 1-64 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// GET / list only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ConnectionStatus>,
    /// Gateway ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vgw_id: Option<String>,
    /// Gateway EIP ID or private IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vgw_ip: Option<String>,
    /// Upper case: `POLICY`, `STATIC`, `BGP`, `POLICY-TEMPLATE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<ResponseConnectionStyle>,
    /// Customer gateway ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgw_id: Option<String>,
    /// IPv4 customer CIDRs (IPv4 gateways).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_subnets: Option<Vec<String>>,
    /// IPv6 customer CIDRs (IPv6 gateways).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_subnets_v6: Option<Vec<String>>,
    /// Gateway tunnel address (STATIC / BGP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_local_address: Option<String>,
    /// Customer tunnel address (STATIC / BGP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_peer_address: Option<String>,
    /// STATIC only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_nqa: Option<bool>,
    /// BGP only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_hub: Option<bool>,
    /// IPv4 policy rules (POLICY), with `rule_index`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_rules: Option<Vec<PolicyRule>>,
    /// IPv6 policy rules (POLICY).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_rules_v6: Option<Vec<PolicyRule>>,
    /// Effective IKE policy (server defaults filled in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ikepolicy: Option<IkePolicy>,
    /// Effective IPsec policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipsecpolicy: Option<IpsecPolicy>,
    /// Creation time (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Last update time (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// The gateway's enterprise project (UUID or `"0"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    /// The connection's monitor, when one exists (uncertain); get/list/update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_monitor_id: Option<String>,
    /// `master` / `slave`; active-active gateways report `master`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha_role: Option<HaRole>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<VpnResourceTag>>,
    /// GET only: BGP session state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bgp_peer: Option<BgpPeer>,
}

/// Response of create (201), get and update (200).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VpnConnectionResponse {
    /// The connection.
    pub vpn_connection: ResponseVpnConnection,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Batch-create response (201).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchCreateVpnConnectionsResponse {
    /// The created connections (no status).
    #[serde(default)]
    pub vpn_connections: Vec<ResponseVpnConnection>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `GET /v5/{project_id}/vpn-connection` response (marker paged).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListVpnConnectionsResponse {
    /// This page (with `status`, without `bgp_peer`).
    #[serde(default)]
    pub vpn_connections: Vec<ResponseVpnConnection>,
    /// Paging information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_info: Option<PageInfo>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// All matching connections (not just this page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
}

/// Query of `GET /v5/{project_id}/vpn-connection`; every filter optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListVpnConnectionsQuery {
    /// Only connections on this gateway EIP ID or private IP.
    pub vgw_ip: Option<String>,
    /// Only connections of this gateway.
    pub vgw_id: Option<String>,
    /// Only these enterprise projects (repeated parameter; encoding not stated by the source).
    pub enterprise_project_id: Vec<String>,
    /// Page size, 0-2000 as printed (probably 1-2000); default 2000.
    pub limit: Option<u32>,
    /// The previous page's `page_info.next_marker`; use with `limit`.
    pub marker: Option<String>,
}

impl ListVpnConnectionsQuery {
    /// Documented default page size.
    pub const DEFAULT_LIMIT: u32 = 2000;
    /// Documented maximum page size.
    pub const MAX_LIMIT: u32 = 2000;
}

impl QueryParams for ListVpnConnectionsQuery {
    fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        push_opt(&mut pairs, "vgw_ip", self.vgw_ip.as_ref());
        push_opt(&mut pairs, "vgw_id", self.vgw_id.as_ref());
        push_all(
            &mut pairs,
            "enterprise_project_id",
            &self.enterprise_project_id,
        );
        push_opt(&mut pairs, "limit", self.limit.as_ref());
        push_opt(&mut pairs, "marker", self.marker.as_ref());
        pairs
    }

    fn from_pairs<'a, I>(pairs: I) -> Result<Self, InvalidQuery>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut query = Self::default();
        for (name, value) in pairs {
            match name {
                "vgw_ip" => query.vgw_ip = Some(value.to_owned()),
                "vgw_id" => query.vgw_id = Some(value.to_owned()),
                "enterprise_project_id" => query.enterprise_project_id.push(value.to_owned()),
                "limit" => query.limit = Some(parse_u32(name, value, "an integer 0-2000")?),
                "marker" => query.marker = Some(value.to_owned()),
                _ => {}
            }
        }
        Ok(query)
    }
}

/// `PUT /v5/{project_id}/vpn-connection/{vpn_connection_id}` body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateVpnConnectionRequest {
    /// The changes (required).
    pub vpn_connection: UpdateVpnConnectionRequestBody,
}

/// `UpdateVpnConnectionRequestBodyContent`. Merge vs replace is not documented: send
/// complete `ikepolicy` / `ipsecpolicy` objects. `vgw_id`, `vgw_ip`, `style`,
/// `enable_nqa`, `ha_role` and `tags` cannot change here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateVpnConnectionRequestBody {
    /// 1-64 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Customer gateway ID (UUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgw_id: Option<String>,
    /// As on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_subnets: Option<Vec<String>>,
    /// As on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_subnets_v6: Option<Vec<String>>,
    /// As on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_local_address: Option<String>,
    /// As on create.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_peer_address: Option<String>,
    /// `bgp` style only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_hub: Option<bool>,
    /// New pre-shared key, same rules as create; not for GM (uncertain). Write-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psk: Option<Redacted<String>>,
    /// At most 5; `policy` style, IPv4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_rules: Option<Vec<PolicyRule>>,
    /// At most 5; `policy` style, IPv6.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_rules_v6: Option<Vec<PolicyRule>>,
    /// IKE policy without `authentication_method`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ikepolicy: Option<UpdateIkePolicy>,
    /// IPsec policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipsecpolicy: Option<UpdateIpsecPolicy>,
}

/// One negotiation log line (`Log`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionLog {
    /// Unix time in seconds (per the example).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    /// The raw log line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_message: Option<String>,
}

/// `GET /v5/{project_id}/vpn-connection/{vpn_connection_id}/log` response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListConnectionLogsResponse {
    /// Recent IKE/IPsec log lines.
    #[serde(default)]
    pub logs: Vec<ConnectionLog>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests;
