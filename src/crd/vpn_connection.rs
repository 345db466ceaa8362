//! `VpnConnection`: one IPsec tunnel between one address of a VpnGateway and a CustomerGateway
//! (Huawei VPN v5 `vpn-connection`), plus its optional health check (connection monitor).
//!
//! Immutable after creation (not in the PUT body): the gateway and which of its addresses,
//! `style`, `haRole`, `enableNqa` and `ikePolicy.authenticationMethod`. Everything else,
//! including the customer gateway and the pre-shared key, can change.
use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    impl_managed, AccountStatus, CloudSettings, Condition, DeletionPolicy, DriftEntry,
    ManagementPolicy, ResourceRef, SecretKeySelector,
};
use super::rules::{self, patterns};

/// CEL: the IKE authentication method is the GM digital envelope.
const DIGITAL_ENVELOPE: &str = "has(self.ikePolicy) && has(self.ikePolicy.authenticationMethod) \
     && self.ikePolicy.authenticationMethod == 'digital-envelope-v2'";

/// Desired state of a site-to-site VPN connection.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "vpn.hwcloud.dev",
    version = "v1alpha1",
    kind = "VpnConnection",
    plural = "vpnconnections",
    namespaced,
    status = "VpnConnectionStatus",
    shortname = "vpnconn",
    category = "hwvpn",
    doc = "A Huawei Cloud site-to-site VPN connection: one IPsec tunnel from one VpnGateway address to a CustomerGateway.",
    printcolumn = r#"{"name":"Cloud ID","type":"string","jsonPath":".status.cloudId"}"#,
    printcolumn = r#"{"name":"State","type":"string","jsonPath":".status.cloudState"}"#,
    printcolumn = r#"{"name":"Tunnel","type":"string","jsonPath":".status.tunnelState"}"#,
    printcolumn = r#"{"name":"Gateway","type":"string","jsonPath":".spec.vpnGatewayRef.name","priority":1}"#,
    printcolumn = r#"{"name":"Address","type":"string","jsonPath":".spec.gatewayIp","priority":1}"#,
    printcolumn = r#"{"name":"Customer Gateway","type":"string","jsonPath":".spec.customerGatewayRef.name","priority":1}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = rules::immutable(&["vpnGatewayRef"]))]
#[x_kube(validation = rules::immutable(&["gatewayIp"]))]
#[x_kube(validation = rules::immutable(&["style"]))]
#[x_kube(validation = rules::immutable(&["haRole"]))]
#[x_kube(validation = rules::immutable(&["enableNqa"]))]
#[x_kube(validation = rules::immutable(&["ikePolicy", "authenticationMethod"]))]
#[x_kube(validation = rules::immutable(&["cloudId"]))]
#[x_kube(validation = rules::immutable(&["cloud", "region"]))]
#[x_kube(validation = rules::immutable(&["cloud", "projectId"]))]
#[x_kube(validation = rules::observe_needs_cloud_id())]
#[x_kube(validation = Rule::new("self.style == 'policy' || ((!has(self.policyRules) || size(self.policyRules) == 0) && (!has(self.policyRulesV6) || size(self.policyRulesV6) == 0))")
    .message("policyRules and policyRulesV6 are only allowed with style policy")
    .field_path(".policyRules"))]
#[x_kube(validation = Rule::new("!has(self.enableNqa) || !self.enableNqa || self.style == 'static'")
    .message("enableNqa is only allowed with style static")
    .field_path(".enableNqa"))]
#[x_kube(validation = Rule::new("!has(self.enableHub) || !self.enableHub || self.style == 'bgp'")
    .message("enableHub is only allowed with style bgp")
    .field_path(".enableHub"))]
#[x_kube(validation = Rule::new("(!has(self.tunnelLocalAddress) && !has(self.tunnelPeerAddress)) || self.style == 'static' || self.style == 'bgp'")
    .message("tunnelLocalAddress and tunnelPeerAddress are only allowed with style static or bgp"))]
#[x_kube(validation = Rule::new("!has(self.tunnelLocalAddress) || !has(self.tunnelPeerAddress) || self.tunnelLocalAddress != self.tunnelPeerAddress")
    .message("tunnelLocalAddress and tunnelPeerAddress must differ (two addresses of the same /30)")
    .field_path(".tunnelPeerAddress"))]
#[x_kube(validation = Rule::new("self.haRole != 'slave' || self.gatewayIp == 'eip2' || self.gatewayIp == 'accessPrivateIp2'")
    .message("haRole slave is only for the connection on the gateway's second (standby) address: gatewayIp eip2 or accessPrivateIp2")
    .field_path(".haRole"))]
#[x_kube(validation = Rule::new("!has(self.peerConfig) || self.managementPolicy != 'Observe'")
    .message("peerConfig needs managementPolicy Default: the operator only knows the pre-shared key of a connection it manages (the cloud never returns it)")
    .field_path(".peerConfig"))]
#[x_kube(validation = Rule::new("!has(self.peerConfig) || !has(self.pskSecretRef) || self.peerConfig.secretName != self.pskSecretRef.name")
    .message("peerConfig.secretName must differ from pskSecretRef.name: the operator writes the peer Secret and never touches the key's Secret")
    .field_path(".peerConfig.secretName"))]
#[x_kube(validation = Rule::new(format!("({DIGITAL_ENVELOPE}) != has(self.pskSecretRef)"))
    .message("pskSecretRef is required, except with ikePolicy.authenticationMethod digital-envelope-v2 (GM gateways), where it is not allowed")
    .field_path(".pskSecretRef"))]
pub struct VpnConnectionSpec {
    /// Connection name in the cloud: 1-64 letters, digits, Chinese characters, `_`, `-`, `.`.
    /// Defaults to the object's name (cut to 64 characters). Can be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_NAME))]
    pub name: Option<String>,

    /// The VPN gateway: `name` of a VpnGateway in this namespace, or `cloudId` of a gateway
    /// not managed here. The connection waits until the gateway is ACTIVE. Immutable.
    pub vpn_gateway_ref: ResourceRef,

    /// Which gateway address terminates this tunnel: `eip1` or `eip2` (public gateway), or
    /// `accessPrivateIp1` or `accessPrivateIp2` (private gateway). For two tunnels to one
    /// customer gateway, create two connections, one per address. Immutable.
    pub gateway_ip: GatewayIp,

    /// The customer gateway: `name` of a CustomerGateway in this namespace, or `cloudId` of one
    /// not managed here. Can be changed (the tunnel moves to the new customer gateway).
    pub customer_gateway_ref: ResourceRef,

    /// Routing mode: `static` (default), `bgp`, `policy` or `policy-template`. Immutable.
    #[serde(default)]
    pub style: ConnectionStyle,

    /// IPv4 customer-side CIDRs, at most 50; must not overlap the VPC's subnets or cloud
    /// reserved ranges such as 100.64.0.0/10 and 214.0.0.0/8. Required by the cloud for static
    /// connections on VPC-attached IPv4 gateways. Can be changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50), inner(length(max = 18), regex(pattern = patterns::IPV4_CIDR)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub peer_subnets: Vec<String>,

    /// IPv6 customer-side CIDRs, at most 50 (IPv6 gateways). Can be changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50), inner(length(max = 49), regex(pattern = patterns::IPV6_CIDR)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub peer_subnets_v6: Vec<String>,

    /// Gateway-side tunnel interface address, `169.254.x.y/30` (not 169.254.195.x), in the same
    /// /30 as tunnelPeerAddress. Static and BGP styles only. Default: chosen by the cloud.
    /// Can be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 18), regex(pattern = patterns::TUNNEL_ADDRESS))]
    pub tunnel_local_address: Option<String>,

    /// Customer-side tunnel interface address, `169.254.x.y/30`; same rules as
    /// tunnelLocalAddress. Can be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 18), regex(pattern = patterns::TUNNEL_ADDRESS))]
    pub tunnel_peer_address: Option<String>,

    /// Enable NQA (network quality analysis) on the tunnel. Static style only. Default false.
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_nqa: Option<bool>,

    /// Enable branch (hub) interconnection. BGP style only. Default false. Can be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_hub: Option<bool>,

    /// Secret key holding the pre-shared key: 8-128 characters with at least three of upper
    /// case, lower case, digits and the specials `~!@#$%^()-_+={ },./:;`. Required unless
    /// ikePolicy.authenticationMethod is `digital-envelope-v2`. Edit the Secret, or point to
    /// another one, to rotate the key; only its SHA-256 appears in status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psk_secret_ref: Option<SecretKeySelector>,

    /// IPv4 policy rules (at most 5), style `policy` only. Can be changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub policy_rules: Vec<PolicyRule>,

    /// IPv6 policy rules (at most 5), style `policy` only. Can be changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub policy_rules_v6: Vec<PolicyRule>,

    /// IKE (phase 1) policy. Unset fields take the cloud's defaults (v2, sha2-256, aes-128,
    /// group15, pre-share, 86400 s; SM algorithms on GM gateways). Can be changed, except
    /// authenticationMethod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ike_policy: Option<IkePolicy>,

    /// IPsec (phase 2) policy. Unset fields take the cloud's defaults (sha2-256, aes-128, pfs
    /// group15, esp, 3600 s, tunnel). Can be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipsec_policy: Option<IpsecPolicy>,

    /// Role on an active-standby gateway: `master` (default) for the connection on the first
    /// address, `slave` for the one on the second. Immutable.
    #[serde(default)]
    pub ha_role: HaRole,

    /// Health check (connection monitor: ICMP probes from the gateway to the customer
    /// gateway). Can be turned on and off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheck>,

    /// Resource tags: at most 18 (the cloud allows 20; the operator adds two ownership tags
    /// with keys starting `vpn.hwcloud.dev:`, which users cannot set); keys 1-128, values
    /// 0-255 characters, both of letters, digits, Chinese characters and `_ . : = + - @` (the
    /// cloud's rule; the operator refuses other key characters before any cloud call). Can be
    /// changed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 18, "additionalProperties" = {"type": "string", "maxLength": 255, "pattern": patterns::TAG_TEXT}))]
    #[x_kube(validation = rules::tags())]
    #[x_kube(validation = rules::no_reserved_tags())]
    pub tags: BTreeMap<String, String>,

    /// Adopt an existing connection with this cloud id instead of creating one. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub cloud_id: Option<String>,

    /// `Delete` (default) deletes the connection (and its health check) in the cloud when this
    /// object is deleted; `Orphan` leaves them.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// `Default` manages the connection; `Observe` only reads the connection named by cloudId.
    #[serde(default)]
    pub management_policy: ManagementPolicy,

    /// Region, project, endpoint and credentials overriding the operator's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudSettings>,

    /// Export the on-premises side's configuration (gateway address, identities, IKE and
    /// IPsec settings in Huawei and standard names, subnets, tunnel and BGP addresses, the
    /// pre-shared key) to a Secret in this namespace, kept current with the cloud. Remove it
    /// to delete that Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_config: Option<PeerConfig>,
}

/// Where and how to export the on-premises device's configuration.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PeerConfig {
    /// The Secret to write, in this namespace. The operator creates it with an owner
    /// reference to this connection (it is deleted with the connection) and the label
    /// `vpn.hwcloud.dev/connection`; it never touches a Secret of that name that it did not
    /// create (Synced=False, reason PeerConfigConflict). Must differ from pskSecretRef.name.
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    )]
    pub secret_name: String,
    /// What to write, one Secret key each: `json` (`peer-config.json`, every effective
    /// parameter), `strongswan` (`swanctl.conf`, a complete strongSwan swanctl
    /// configuration), `text` (`peer-config.txt`, a parameter sheet for any device). Default
    /// `json` and `strongswan`.
    #[serde(default = "default_formats")]
    #[schemars(length(min = 1, max = 3))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub formats: Vec<PeerConfigFormat>,
}

fn default_formats() -> Vec<PeerConfigFormat> {
    vec![PeerConfigFormat::Json, PeerConfigFormat::Strongswan]
}

/// A format of the exported peer configuration.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum PeerConfigFormat {
    /// `peer-config.json`: every effective parameter, Huawei and standard names.
    Json,
    /// `swanctl.conf`: a strongSwan swanctl configuration of the on-premises side.
    Strongswan,
    /// `peer-config.txt`: a plain parameter sheet.
    Text,
}

impl PeerConfigFormat {
    /// Every format, in Secret key order.
    pub const ALL: [PeerConfigFormat; 3] = [Self::Json, Self::Strongswan, Self::Text];

    /// The Secret key this format is written under.
    pub fn key(self) -> &'static str {
        match self {
            Self::Json => "peer-config.json",
            Self::Strongswan => "swanctl.conf",
            Self::Text => "peer-config.txt",
        }
    }
}

/// Which address of the gateway terminates the tunnel.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(description = "")]
pub enum GatewayIp {
    /// The gateway's first (or active) EIP.
    Eip1,
    /// The gateway's second (or standby) EIP.
    Eip2,
    /// The gateway's first (or active) private access IP.
    AccessPrivateIp1,
    /// The gateway's second (or standby) private access IP.
    AccessPrivateIp2,
}

/// Routing mode of a connection.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "")]
pub enum ConnectionStyle {
    /// Policy-based: traffic selected by policyRules.
    Policy,
    /// Static routing (default).
    #[default]
    Static,
    /// BGP routing.
    Bgp,
    /// Policy-template mode (non-fixed-IP gateways).
    PolicyTemplate,
}

/// Role of a connection on an active-standby gateway.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum HaRole {
    /// On the first (active) address (default).
    #[default]
    Master,
    /// On the second (standby) address.
    Slave,
}

/// Health check settings.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    /// Create a connection monitor for this connection (true) or delete it (false).
    #[serde(default)]
    pub enabled: bool,
}

/// A policy rule: traffic from `source` to any of `destination` goes through the tunnel.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    /// Cloud-side source CIDR, in the gateway's IP version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 49), regex(pattern = patterns::CIDR))]
    pub source: Option<String>,
    /// Customer-side destination CIDRs, at most 50.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50), inner(length(max = 49), regex(pattern = patterns::CIDR)))]
    pub destination: Vec<String>,
}

/// IKE (phase 1) policy.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.authenticationMethod) || self.authenticationMethod != 'digital-envelope-v2' || !has(self.ikeVersion) || self.ikeVersion == 'v1'")
    .message("authenticationMethod digital-envelope-v2 (GM) only works with ikeVersion v1")
    .field_path(".ikeVersion"))]
#[x_kube(validation = Rule::new("!has(self.localIdType) || self.localIdType != 'fqdn' || has(self.localId)")
    .message("localId is required when localIdType is fqdn")
    .field_path(".localId"))]
#[x_kube(validation = Rule::new("!has(self.peerIdType) || self.peerIdType != 'fqdn' || has(self.peerId)")
    .message("peerId is required when peerIdType is fqdn")
    .field_path(".peerId"))]
pub struct IkePolicy {
    /// IKE version: `v1` or `v2` (GM gateways: `v1` only). Cloud default `v2` (GM `v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ike_version: Option<IkeVersion>,
    /// Phase 1 negotiation mode, IKE v1 only: `main` (more secure) or `aggressive` (faster).
    /// Cloud default `main`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase1_negotiation_mode: Option<Phase1NegotiationMode>,
    /// Authentication algorithm. `sha1` and `md5` are weak; `sm3` is for GM gateways. Cloud
    /// default `sha2-256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_algorithm: Option<AuthenticationAlgorithm>,
    /// Encryption algorithm. `3des` and the non-GCM AES modes are flagged as weak; `sm4` is for
    /// GM gateways. Cloud default `aes-128`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// Diffie-Hellman group. group1, group2, group5 and group14 are weak; not for GM
    /// gateways. Cloud default `group15`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dh_group: Option<DhGroup>,
    /// `pre-share` (pre-shared key, the default) or `digital-envelope-v2` (GM certificates).
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_method: Option<AuthenticationMethod>,
    /// IKE SA lifetime in seconds, 60-604800. Cloud default 86400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 60, max = 604_800))]
    pub lifetime_seconds: Option<i64>,
    /// Local (gateway) identity type: `ip` (default) or `fqdn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_id_type: Option<IkeIdType>,
    /// Local identity; required with localIdType `fqdn` (at most 255 characters, must equal
    /// the peer id configured on the customer device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub local_id: Option<String>,
    /// Peer (customer device) identity type: `ip` (default) or `fqdn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id_type: Option<IkeIdType>,
    /// Peer identity; required with peerIdType `fqdn` (must equal the local id configured on the
    /// customer device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub peer_id: Option<String>,
    /// Dead peer detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpd: Option<Dpd>,
}

/// Dead peer detection settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dpd {
    /// DPD packet retransmission interval in seconds, 2-60. Cloud default 15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 60))]
    pub timeout: Option<i64>,
    /// DPD idle interval in seconds, 10-3600. Cloud default 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 3600))]
    pub interval: Option<i64>,
    /// DPD packet format: `seq-hash-notify` (default) or `seq-notify-hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<DpdMsg>,
}

/// IPsec (phase 2) policy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IpsecPolicy {
    /// Authentication algorithm. Cloud default `sha2-256` (GM `sm3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_algorithm: Option<AuthenticationAlgorithm>,
    /// Encryption algorithm. Cloud default `aes-128` (GM `sm4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// DH group for perfect forward secrecy, or `disable`. Not for GM gateways. Cloud default
    /// `group15`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pfs: Option<PfsGroup>,
    /// Transform protocol: `esp` (the only value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform_protocol: Option<TransformProtocol>,
    /// IPsec SA lifetime in seconds, 30-604800. Cloud default 3600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 30, max = 604_800))]
    pub lifetime_seconds: Option<i64>,
    /// Encapsulation mode: `tunnel` (the only value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encapsulation_mode: Option<EncapsulationMode>,
}

/// IKE version.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum IkeVersion {
    /// IKEv1.
    V1,
    /// IKEv2.
    V2,
}

/// IKE v1 phase 1 negotiation mode.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum Phase1NegotiationMode {
    /// Main mode.
    Main,
    /// Aggressive mode.
    Aggressive,
}

/// Authentication (integrity) algorithms.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(description = "")]
pub enum AuthenticationAlgorithm {
    /// SHA2-512.
    #[serde(rename = "sha2-512")]
    Sha2_512,
    /// SHA2-384.
    #[serde(rename = "sha2-384")]
    Sha2_384,
    /// SHA2-256.
    #[serde(rename = "sha2-256")]
    Sha2_256,
    /// SHA1 (weak).
    #[serde(rename = "sha1")]
    Sha1,
    /// MD5 (weak).
    #[serde(rename = "md5")]
    Md5,
    /// SM3 (GM gateways).
    #[serde(rename = "sm3")]
    Sm3,
}

/// Encryption algorithms.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(description = "")]
pub enum EncryptionAlgorithm {
    /// AES-256-GCM-16.
    #[serde(rename = "aes-256-gcm-16")]
    Aes256Gcm16,
    /// AES-128-GCM-16.
    #[serde(rename = "aes-128-gcm-16")]
    Aes128Gcm16,
    /// AES-256.
    #[serde(rename = "aes-256")]
    Aes256,
    /// AES-192.
    #[serde(rename = "aes-192")]
    Aes192,
    /// AES-128.
    #[serde(rename = "aes-128")]
    Aes128,
    /// 3DES (weak).
    #[serde(rename = "3des")]
    TripleDes,
    /// SM4 (GM gateways).
    #[serde(rename = "sm4")]
    Sm4,
}

/// Diffie-Hellman groups for IKE.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum DhGroup {
    /// Group 1 (weak).
    Group1,
    /// Group 2 (weak).
    Group2,
    /// Group 5 (weak).
    Group5,
    /// Group 14 (weak).
    Group14,
    /// Group 15.
    Group15,
    /// Group 16.
    Group16,
    /// Group 19.
    Group19,
    /// Group 20.
    Group20,
    /// Group 21.
    Group21,
}

/// Diffie-Hellman groups for IPsec perfect forward secrecy, or `disable`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum PfsGroup {
    /// Group 1.
    Group1,
    /// Group 2.
    Group2,
    /// Group 5.
    Group5,
    /// Group 14.
    Group14,
    /// Group 15.
    Group15,
    /// Group 16.
    Group16,
    /// Group 19.
    Group19,
    /// Group 20.
    Group20,
    /// Group 21.
    Group21,
    /// No PFS.
    Disable,
}

/// IKE authentication method.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "")]
pub enum AuthenticationMethod {
    /// Pre-shared key.
    PreShare,
    /// GM digital envelope (certificates).
    #[serde(rename = "digital-envelope-v2")]
    DigitalEnvelopeV2,
}

/// IKE identity type.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum IkeIdType {
    /// IP address.
    Ip,
    /// Domain name.
    Fqdn,
}

/// DPD packet format.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "")]
pub enum DpdMsg {
    /// Payload order hash, notify.
    SeqHashNotify,
    /// Payload order notify, hash.
    SeqNotifyHash,
}

/// IPsec transform protocol.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum TransformProtocol {
    /// Encapsulating Security Payload.
    Esp,
}

/// IPsec encapsulation mode.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum EncapsulationMode {
    /// Tunnel mode.
    Tunnel,
}

/// Observed state of a VPN connection.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VpnConnectionStatus {
    /// Cloud id of the connection, recorded right after creation (or adoption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_id: Option<String>,
    /// Cloud status as reported: `PENDING_CREATE`, `PENDING_UPDATE`, `PENDING_DELETE`,
    /// `ACTIVE` (tunnel up), `DOWN` (tunnel not connected), `ERROR`, `FREEZED`, `UNKNOWN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_state: Option<String>,
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Synced` and `TunnelUp` conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// The cloud account this object uses: where it comes from, the credentials Secret,
    /// project, region and endpoint. Fixed once the cloud resource exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountStatus>,
    /// Name in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Up` (cloud status ACTIVE), `Down` (DOWN or ERROR) or `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_state: Option<String>,
    /// Cloud id of the VPN gateway the reference resolved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpn_gateway_id: Option<String>,
    /// The gateway address the tunnel uses, as sent to the cloud (`vgw_ip`: an EIP id or a
    /// private IP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_ip: Option<String>,
    /// The gateway's IP address for this tunnel (the EIP's address or the private IP): what
    /// to configure as the peer on the customer device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_address: Option<String>,
    /// Cloud id of the customer gateway the reference resolved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_gateway_id: Option<String>,
    /// Gateway-side tunnel address in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_local_address: Option<String>,
    /// Customer-side tunnel address in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_peer_address: Option<String>,
    /// Cloud id of the connection monitor (health check), when enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_id: Option<String>,
    /// Connection monitor status: `PENDING_CREATE`, `ACTIVE` or `PENDING_DELETE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_state: Option<String>,
    /// BGP session (style `bgp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bgp_peer: Option<ObservedBgpPeer>,
    /// Hex SHA-256 of the pre-shared key last sent to the cloud. The cloud never returns the
    /// key, so this is how a change of the Secret is detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psk_sha256: Option<String>,
    /// Creation time reported by the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time reported by the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Fields whose cloud value differs from the spec (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub drift: Vec<DriftEntry>,
    /// The exported on-premises configuration (spec.peerConfig), as last written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_config: Option<PeerConfigStatus>,
    /// The last reset requested with the `vpn.hwcloud.dev/reset-requested-at` annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reset: Option<ResetStatus>,
}

/// The peer configuration Secret as last written. Never holds a secret value.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeerConfigStatus {
    /// The Secret written (in this namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// Hex SHA-256 of the rendered content (every key and value of the Secret, keys in
    /// order, each key and value followed by a zero byte): changes whenever the content
    /// does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The Secret keys written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 3))]
    pub keys: Vec<String>,
    /// Effective values a format cannot express, and what the export did with them (e.g. GM
    /// algorithms strongSwan lacks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub notes: Vec<String>,
}

/// What became of a reset request.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(description = "")]
pub enum ResetResult {
    /// The cloud accepted the reset: the tunnel is negotiated again.
    Reset,
    /// Not made: the connection was not in a state that allows a reset (`PENDING_*`, not
    /// provisioned, observe only). Ask again with a new value.
    Refused,
    /// The cloud refused the reset; the message says why. Ask again with a new value.
    Failed,
}

/// The last reset request of a connection.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetStatus {
    /// The annotation's value this record is for (each value is acted on once).
    pub requested_at: String,
    /// What became of it.
    pub result: ResetResult,
    /// When the operator acted on it.
    pub at: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    /// Why, for a refused or failed reset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A BGP session as the cloud reports it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedBgpPeer {
    /// Neighbour address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_ip_address: Option<String>,
    /// Neighbour ASN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_asn: Option<i64>,
    /// Session state, e.g. `established`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Time in the current state, e.g. `3d01h34m24s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_duration: Option<String>,
    /// Routes received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_received_routes: Option<i64>,
}

impl_managed!(VpnConnectionSpec, VpnConnectionStatus);
