//! VPN gateway wire models (`/v5/{project_id}/vpn-gateways...`): create, get, list,
//! update, update-specification, availability zones (v5 and v5.1), jobs, GM
//! certificates, routing table and upgrade. Reference: huawei-vpn-v5-gateways.md §3-4.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::common::{
    push_all, push_opt, AuthenticationAlgorithm, DhGroup, EncryptionAlgorithm, InvalidQuery,
    PageInfo, QueryParams, Redacted, Timestamp, VpnResourceTag,
};

wire_enum! {
    /// How the gateway reaches customer gateways. Default `public`.
    pub enum NetworkType {
        /// Over two EIPs (`eip1`, `eip2`).
        Public = "public",
        /// Over two private IPs in a VPC (`access_private_ip_1/2`).
        Private = "private",
    }
}

wire_enum! {
    /// What the gateway is attached to. Default `vpc`.
    pub enum AttachmentType {
        /// A VPC (`vpc_id`, `local_subnets`, `connect_subnet` required).
        Vpc = "vpc",
        /// An Enterprise Router (`er_id` required).
        Er = "er",
    }
}

wire_enum! {
    /// Gateway IP version. Default `ipv4`.
    pub enum IpVersion {
        Ipv4 = "ipv4",
        Ipv6 = "ipv6",
    }
}

wire_enum! {
    /// Gateway flavor (size). Default `Professional1`. `Basic` is not allowed for
    /// private or ER-attached gateways. Max forwarding bandwidth: Basic 100 Mbit/s,
    /// Professional1 300 Mbit/s, Professional2 1 Gbit/s, GM 500 Mbit/s.
    pub enum GatewayFlavor {
        Basic = "Basic",
        Professional1 = "Professional1",
        Professional2 = "Professional2",
        /// Chinese national cryptography; needs a gateway certificate before connections.
        Gm = "GM",
        /// Non-fixed-IP gateway; carries a `policy_template`.
        Professional1NonFixedIp = "Professional1-NonFixedIP",
        /// Non-fixed-IP gateway; carries a `policy_template`.
        Professional2NonFixedIp = "Professional2-NonFixedIP",
        /// Legacy (300 Mbit/s), kept for existing gateways.
        V300 = "v300",
        /// Legacy (1 Gbit/s), kept for existing gateways.
        V1g = "v1g",
    }
}

impl GatewayFlavor {
    /// Largest EIP bandwidth (Mbit/s) the flavor allows, when documented.
    pub fn max_bandwidth_mbps(&self) -> Option<u32> {
        match self {
            Self::Basic => Some(100),
            Self::Professional1 | Self::Professional1NonFixedIp | Self::V300 => Some(300),
            Self::Professional2 | Self::Professional2NonFixedIp | Self::V1g => Some(1000),
            Self::Gm => Some(500),
            Self::Other(_) => None,
        }
    }

    /// The key of this flavor in the v5 availability-zone response
    /// (`basic`, `professional1`, `professional2`, `gm`, NonFixedIP keys as spelled).
    pub fn availability_zone_key(&self) -> String {
        match self {
            Self::Basic => "basic".into(),
            Self::Professional1 => "professional1".into(),
            Self::Professional2 => "professional2".into(),
            Self::Gm => "gm".into(),
            other => other.as_str().to_owned(),
        }
    }
}

wire_enum! {
    /// High-availability mode. Default `active-active`.
    pub enum HaMode {
        ActiveActive = "active-active",
        ActiveStandby = "active-standby",
    }
}

wire_enum! {
    /// Gateway status. Spelled exactly as the API does (`FREEZED`, not `FROZEN`).
    pub enum GatewayStatus {
        /// Creating.
        PendingCreate = "PENDING_CREATE",
        /// Updating (after PUT or update-specification).
        PendingUpdate = "PENDING_UPDATE",
        /// Deleting; gone when GET returns 404.
        PendingDelete = "PENDING_DELETE",
        /// Software upgrade running.
        Upgrading = "UPGRADING",
        /// Upgrade being rolled back.
        RollingBack = "ROLLING_BACK",
        /// Upgrade done, waiting for `finish` or `rollback`.
        PendingUpgradeConfirm = "PENDING_UPGRADE_CONFIRM",
        /// Normal.
        Active = "ACTIVE",
        /// Abnormal or failed.
        Fault = "FAULT",
        /// Frozen.
        Freezed = "FREEZED",
    }
}

impl GatewayStatus {
    /// True while an operation is in progress (`PENDING_*`, `UPGRADING`, `ROLLING_BACK`).
    pub fn is_transitional(&self) -> bool {
        matches!(
            self,
            Self::PendingCreate
                | Self::PendingUpdate
                | Self::PendingDelete
                | Self::Upgrading
                | Self::RollingBack
        )
    }
}

wire_enum! {
    /// EIP line type. Must be a type the region supports.
    pub enum EipType {
        /// Dynamic BGP.
        Bgp = "5_bgp",
        /// Static BGP.
        StaticBgp = "5_sbgp",
        /// Premium BGP.
        PremiumBgp = "5_youxuanbgp",
    }
}

wire_enum! {
    /// EIP billing. Default `bandwidth`.
    pub enum ChargeMode {
        Bandwidth = "bandwidth",
        Traffic = "traffic",
    }
}

wire_enum! {
    /// EIP bandwidth sharing.
    pub enum ShareType {
        /// Dedicated.
        Per = "PER",
        /// Shared.
        Whole = "WHOLE",
    }
}

/// `eip1` / `eip2` in the create body (`CreateRequestEip`). Give either `id` (bind an
/// existing EIP) or the new-EIP fields (`type`, `charge_mode`, `bandwidth_size`,
/// `bandwidth_name`); mixing gives VPN.0559, an incomplete set VPN.0558.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateRequestEip {
    /// ID (UUID) of an existing EIP to bind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// New EIP: line type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub eip_type: Option<EipType>,
    /// New EIP: billing, default `bandwidth`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_mode: Option<ChargeMode>,
    /// New EIP: Mbit/s, 1-1000, capped by flavor (Basic 100, Professional1 300, Professional2 1000, GM 500).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_size: Option<u32>,
    /// New EIP: bandwidth name, 1-64 characters; default `vpngw-bandwidth-xxxx`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_name: Option<String>,
    /// New EIP: existing shared bandwidth (UUID) to use (uncertain in the source).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_id: Option<String>,
}

/// `eip1` / `eip2` in responses (`ResponseEip`). Returned once the gateway is ACTIVE.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseEip {
    /// EIP ID (UUID); `"0"` in some undocumented case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// IP version, `4` (an integer, unlike the gateway's `ip_version` string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_version: Option<u32>,
    /// Prepaid EIPs only: `order_id:product_id:region_id:project_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_billing_info: Option<String>,
    /// EIP line type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub eip_type: Option<EipType>,
    /// Dotted IPv4 address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Billing mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_mode: Option<ChargeMode>,
    /// Bandwidth ID (UUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_id: Option<String>,
    /// Mbit/s, 1-1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_size: Option<u32>,
    /// 1-64 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_name: Option<String>,
    /// Prepaid bandwidth order info, same format as `ip_billing_info`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_billing_info: Option<String>,
    /// `PER` (dedicated) or `WHOLE` (shared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_type: Option<ShareType>,
}

/// `policy_template`: the IKE/IPsec policy of a non-fixed-IP gateway
/// (`Professional1-NonFixedIP`, `Professional2-NonFixedIP` only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyTemplate {
    /// IKE (phase 1) policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ike_policy: Option<TemplateIkePolicy>,
    /// IPsec (phase 2) policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipsec_policy: Option<TemplateIpsecPolicy>,
}

/// `policy_template.ike_policy`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateIkePolicy {
    /// `aes-256-gcm-16`, `aes-128-gcm-16`, `aes-256`, `aes-192`, `aes-128`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// `group14`, `group15`, `group16`, `group19`, `group20`, `group21`, `disable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dh_group: Option<DhGroup>,
    /// `sha2-512`, `sha2-384`, `sha2-256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_algorithm: Option<AuthenticationAlgorithm>,
    /// IKE SA lifetime, 60-604800 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_seconds: Option<u32>,
}

/// `policy_template.ipsec_policy`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateIpsecPolicy {
    /// `sha2-512`, `sha2-384`, `sha2-256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_algorithm: Option<AuthenticationAlgorithm>,
    /// `aes-256-gcm-16`, `aes-128-gcm-16`, `aes-256`, `aes-192`, `aes-128`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// PFS DH group: `group14`, `group15`, `group16`, `group19`, `group20`, `group21`, `disable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pfs: Option<DhGroup>,
    /// IPsec SA lifetime, 30-604800 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime_seconds: Option<u32>,
}

/// `POST /v5/{project_id}/vpn-gateways` body: `{"vpn_gateway": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnGatewayRequest {
    /// The gateway to create (required).
    pub vpn_gateway: CreateVpnGatewayRequestBody,
}

/// `CreateVgwRequestBodyContent`. Every field is optional on the wire; several are
/// conditionally required as noted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnGatewayRequestBody {
    /// 1-64 characters (digits, letters, Chinese, `_`, `-`, `.`); default `vpngw-xxxx`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `public` (default) or `private`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_type: Option<NetworkType>,
    /// `vpc` (default) or `er`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_type: Option<AttachmentType>,
    /// `ipv4` (default) or `ipv6`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_version: Option<IpVersion>,
    /// Enterprise Router ID (UUID). Required when `attachment_type=er`, otherwise omit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub er_id: Option<String>,
    /// `vpc`: the service VPC, required. `er`: the access VPC, optional
    /// (`access_vpc_id` wins when both are given). UUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// IPv4 local CIDRs; required when `attachment_type=vpc` and `ip_version=ipv4`, else omit. At most 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_subnets: Option<Vec<String>>,
    /// IPv6 local CIDRs; required when `attachment_type=vpc` and `ip_version=ipv6`, else omit. At most 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_subnets_v6: Option<Vec<String>>,
    /// Interconnection subnet ID (UUID). Required when `attachment_type=vpc`;
    /// needs free IPs (2, or 4 when equal to `access_subnet_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_subnet: Option<String>,
    /// Gateway BGP ASN, 1-4294967295; default 64512.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bgp_asn: Option<u64>,
    /// Flavor; default `Professional1`. Not `Basic` when private or ER-attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flavor: Option<GatewayFlavor>,
    /// AZs; default chosen by the service. Two different AZs when the region offers
    /// two or more for the spec (VPN.0514 / VPN.0515), else one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone_ids: Option<Vec<String>>,
    /// UUID or `"0"` (default enterprise project, the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    /// First (active-active) or active (active-standby) EIP. Required when public, omit when private.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eip1: Option<CreateRequestEip>,
    /// Second or standby EIP. Required when public, omit when private.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eip2: Option<CreateRequestEip>,
    /// Access VPC (UUID); default `vpc_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_vpc_id: Option<String>,
    /// Subnet in the access VPC (UUID); default `connect_subnet`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_subnet_id: Option<String>,
    /// `active-active` (default) or `active-standby`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha_mode: Option<HaMode>,
    /// Private gateways only: free IP of the access subnet; give with and differ from `access_private_ip_2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_private_ip_1: Option<String>,
    /// Private gateways only: second (standby) access IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_private_ip_2: Option<String>,
    /// At most 20 tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<VpnResourceTag>>,
}

/// The gateway object in responses (`ResponseVpnGateway`): the union of the fields of
/// the create, get, list, update and update-specification tables. The create response
/// has no `status`, EIPs, timestamps or `supported_*`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseVpnGateway {
    /// Gateway ID (UUID).
    pub id: String,
    /// 1-64 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `public` or `private`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_type: Option<NetworkType>,
    /// Not in create responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<GatewayStatus>,
    /// `vpc` or `er`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_type: Option<AttachmentType>,
    /// `ipv4` or `ipv6`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_version: Option<IpVersion>,
    /// Gateway certificate ID; `GM` flavor only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<String>,
    /// Enterprise Router ID; `er` attachment only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub er_id: Option<String>,
    /// ID of the ER attachment; get/list only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub er_attachment_id: Option<String>,
    /// `vpc`: the service VPC. `er`: usually absent (see `access_vpc_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    /// IPv4 local CIDRs (`vpc` + `ipv4` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_subnets: Option<Vec<String>>,
    /// IPv6 local CIDRs (`vpc` + `ipv6` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_subnets_v6: Option<Vec<String>>,
    /// Interconnection subnet ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_subnet: Option<String>,
    /// Gateway BGP ASN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bgp_asn: Option<u64>,
    /// Flavor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flavor: Option<GatewayFlavor>,
    /// AZs; when not given at create, returned once ACTIVE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone_ids: Option<Vec<String>>,
    /// Public border group, e.g. `center`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_border_group: Option<String>,
    /// Maximum number of connections the gateway supports (e.g. 200).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_number: Option<u32>,
    /// Connections in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_connection_number: Option<u32>,
    /// Connection groups in use (a group is the connection pair to one customer gateway (uncertain)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_connection_group: Option<u32>,
    /// UUID or `"0"` (default enterprise project).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
    /// First / active EIP; public gateways, once ACTIVE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eip1: Option<ResponseEip>,
    /// Second / standby EIP; public gateways, once ACTIVE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eip2: Option<ResponseEip>,
    /// Creation time (UTC); once ACTIVE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Time the configuration took effect; once ACTIVE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<Timestamp>,
    /// Last update time; once ACTIVE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// Access VPC; defaults to `vpc_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_vpc_id: Option<String>,
    /// Subnet in the access VPC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_subnet_id: Option<String>,
    /// Private gateways: first / active access IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_private_ip_1: Option<String>,
    /// Private gateways: second / standby access IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_private_ip_2: Option<String>,
    /// `active-active` or `active-standby`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha_mode: Option<HaMode>,
    /// NonFixedIP flavors only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_template: Option<PolicyTemplate>,
    /// Flavors this gateway can change to with update-specification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_flavors: Option<Vec<GatewayFlavor>>,
    /// Features this gateway supports (free text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_features: Option<Vec<String>>,
    /// Tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<VpnResourceTag>>,
}

/// Response of create (201), get, update and update-specification (200): `{"vpn_gateway": {...}, "request_id": ...}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VpnGatewayResponse {
    /// The gateway.
    pub vpn_gateway: ResponseVpnGateway,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `GET /v5/{project_id}/vpn-gateways` response. Not paged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListVpnGatewaysResponse {
    /// All matching gateways.
    #[serde(default)]
    pub vpn_gateways: Vec<ResponseVpnGateway>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Query of `GET /v5/{project_id}/vpn-gateways`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListVpnGatewaysQuery {
    /// Only gateways of these enterprise projects (documented; repeated parameter).
    pub enterprise_project_id: Vec<String>,
    /// Only this gateway. Not in the source; taken from the vendor SDK (vendor SDK).
    pub vgw_id: Option<String>,
}

impl QueryParams for ListVpnGatewaysQuery {
    fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        push_opt(&mut pairs, "vgw_id", self.vgw_id.as_ref());
        push_all(
            &mut pairs,
            "enterprise_project_id",
            &self.enterprise_project_id,
        );
        pairs
    }

    fn from_pairs<'a, I>(pairs: I) -> Result<Self, InvalidQuery>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut query = Self::default();
        for (name, value) in pairs {
            match name {
                "vgw_id" => query.vgw_id = Some(value.to_owned()),
                "enterprise_project_id" => query.enterprise_project_id.push(value.to_owned()),
                _ => {}
            }
        }
        Ok(query)
    }
}

/// `PUT /v5/{project_id}/vpn-gateways/{vgw_id}` body: `{"vpn_gateway": {...}}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateVpnGatewayRequest {
    /// The changes (required). Send only what changes.
    pub vpn_gateway: UpdateVpnGatewayRequestBody,
}

/// `UpdateVgwRequestBodyContent`: the only gateway fields PUT can change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateVpnGatewayRequestBody {
    /// 1-64 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// IPv4 local CIDRs (replaces the list (uncertain)); `vpc` + `ipv4` only; at most 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_subnets: Option<Vec<String>>,
    /// IPv6 local CIDRs; `vpc` + `ipv6` only; at most 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_subnets_v6: Option<Vec<String>>,
    /// Existing EIP (UUID) to bind as first / active EIP; public gateways only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eip_id_1: Option<String>,
    /// Existing EIP (UUID) to bind as second / standby EIP; public gateways only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eip_id_2: Option<String>,
    /// Only for `Professional1-NonFixedIP` / `Professional2-NonFixedIP` gateways.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_template: Option<PolicyTemplate>,
}

/// `POST /v5/{project_id}/vpn-gateways/{vgw_id}/update-specification` body:
/// `{"vpn_gateway": {"flavor": "..."}}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateVpnGatewaySpecificationRequest {
    /// The new specification (required).
    pub vpn_gateway: UpdateVpnGatewaySpecificationBody,
}

/// The update-specification body content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpdateVpnGatewaySpecificationBody {
    /// Target flavor (required); must be in the gateway's `supported_flavors`.
    pub flavor: GatewayFlavor,
}

/// `vpc` / `er` AZ lists of one flavor in the v5 AZ response (`VpnGatewayAvailabilityZones`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VpnGatewayAvailabilityZones {
    /// AZs for VPC-attached gateways.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc: Option<Vec<String>>,
    /// AZs for ER-attached gateways.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub er: Option<Vec<String>>,
}

impl VpnGatewayAvailabilityZones {
    /// The AZs for one attachment type (empty for unknown types).
    pub fn for_attachment(&self, attachment: &AttachmentType) -> &[String] {
        let list = match attachment {
            AttachmentType::Vpc => &self.vpc,
            AttachmentType::Er => &self.er,
            AttachmentType::Other(_) => &None,
        };
        list.as_deref().unwrap_or(&[])
    }
}

/// `GET /v5/{project_id}/vpn-gateways/availability-zones` response.
///
/// `availability_zones` is keyed by flavor, spelled as the source does: `basic`,
/// `professional1`, `professional2`, `gm` (lower case) and `Professional1-NonFixedIP`,
/// `Professional2-NonFixedIP`. A map keeps keys added later; see
/// [`GatewayFlavor::availability_zone_key`] and [`Self::zones_for`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListAvailabilityZonesResponse {
    /// Flavor key -> AZ lists.
    #[serde(default)]
    pub availability_zones: BTreeMap<String, VpnGatewayAvailabilityZones>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ListAvailabilityZonesResponse {
    /// The AZs offered for a flavor and attachment type (empty when none).
    pub fn zones_for(&self, flavor: &GatewayFlavor, attachment: &AttachmentType) -> &[String] {
        self.availability_zones
            .get(&flavor.availability_zone_key())
            .map(|z| z.for_attachment(attachment))
            .unwrap_or(&[])
    }
}

/// `GET /v5.1/{project_id}/vpn-gateways/availability-zones` response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListExtendedAvailabilityZonesResponse {
    /// One entry per AZ.
    #[serde(default)]
    pub availability_zones: Vec<ExtendedAvailabilityZone>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One AZ with the gateway specs it offers (v5.1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExtendedAvailabilityZone {
    /// AZ name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Public border group, e.g. `center`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_border_group: Option<String>,
    /// Specs available in this AZ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_specs: Option<Vec<AvailableSpec>>,
}

/// A (flavor, attachment type, IP version) combination available in an AZ.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AvailableSpec {
    /// Gateway flavor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flavor: Option<GatewayFlavor>,
    /// `vpc` or `er`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment_type: Option<AttachmentType>,
    /// Gateway IP version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_version: Option<IpVersion>,
}

wire_enum! {
    /// Gateway job type.
    pub enum JobType {
        Upgrade = "upgrade",
        Rollback = "rollback",
    }
}

wire_enum! {
    /// Gateway job status. Terminal: `success`, `rollback_success`, `fail`.
    pub enum JobStatus {
        Upgrading = "upgrading",
        /// Upgraded, waiting for `finish` or `rollback`.
        PendingUpgradeConfirm = "pending_upgrade_confirm",
        Success = "success",
        RollingBack = "rolling_back",
        RollbackSuccess = "rollback_success",
        Fail = "fail",
    }
}

impl JobStatus {
    /// True for `success`, `rollback_success` and `fail`: only such jobs should be deleted.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Success | Self::RollbackSuccess | Self::Fail)
    }
}

wire_enum! {
    /// Sub-job type.
    pub enum SubJobType {
        PrepareResource = "prepare_resource",
        UpgradeWorker1 = "upgrade_worker_1",
        UpgradeWorker2 = "upgrade_worker_2",
    }
}

wire_enum! {
    /// Sub-job status.
    pub enum SubJobStatus {
        Init = "init",
        Upgrading = "upgrading",
        Success = "success",
        Fail = "fail",
    }
}

/// A gateway job (upgrade / rollback).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Job ID (UUID).
    pub id: String,
    /// Gateway ID (UUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// `upgrade` or `rollback`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_type: Option<JobType>,
    /// Job status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<JobStatus>,
    /// UTC creation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Completion time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// Error text; not in the source's table (vendor SDK).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Steps; not in the source's table but in its example.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_jobs: Option<Vec<SubJob>>,
}

/// One step of a [`Job`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SubJob {
    /// Sub-job ID (UUID).
    pub id: String,
    /// Step type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_type: Option<SubJobType>,
    /// Step status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<SubJobStatus>,
    /// Creation time (the example uses `+08:00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Completion time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// Error text; empty on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// `GET /v5/{project_id}/vpn-gateways/jobs` response. Not paged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ListJobsResponse {
    /// Jobs, optionally filtered by `resource_id`.
    #[serde(default)]
    pub jobs: Vec<Job>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

wire_enum! {
    /// `action` of the upgrade call.
    pub enum UpgradeAction {
        Start = "start",
        Finish = "finish",
        Rollback = "rollback",
    }
}

/// `POST /v5/{project_id}/vpn-gateways/{vgw_id}/upgrade` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpgradeVpnGatewayRequest {
    /// `start`, `finish` or `rollback` (required).
    pub action: UpgradeAction,
}

/// Upgrade response (202).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpgradeVpnGatewayResponse {
    /// The job to follow in the jobs list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Request ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

wire_enum! {
    /// Gateway certificate status.
    pub enum CertificateStatus {
        Binding = "BINDING",
        Bound = "BOUND",
        /// Binding failed.
        Fault = "FAULT",
    }
}

/// `POST /v5/{project_id}/vpn-gateways/{vgw_id}/certificate` body: `{"certificate": {...}}` (GM gateways).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnGatewayCertificateRequest {
    /// The certificates to import (required).
    pub certificate: CreateVpnGatewayCertificateBody,
}

/// Certificate import content. Required-ness of the first four fields is from the SDK (vendor SDK).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateVpnGatewayCertificateBody {
    /// 3-63 characters; auto-generated when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Signing certificate, PEM, 1-4096 characters.
    pub certificate: String,
    /// Signing private key, PEM, 1-4096 characters. Write-only secret.
    pub private_key: Redacted<String>,
    /// CA certificate chain, 1-8192 characters.
    pub certificate_chain: String,
    /// GM encryption certificate, 1-4096 characters.
    pub enc_certificate: String,
    /// GM encryption private key, 1-4096 characters. Write-only secret.
    pub enc_private_key: Redacted<String>,
}

/// `PUT /v5/{project_id}/vpn-gateways/{vgw_id}/certificate/{certificate_id}` body.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateVpnGatewayCertificateRequest {
    /// The parts to replace (required); leave out what does not change.
    pub certificate: UpdateVpnGatewayCertificateBody,
}

/// Certificate update content; all optional, same lengths as create.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateVpnGatewayCertificateBody {
    /// 3-63 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Signing certificate, PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// Signing private key, PEM. Write-only secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<Redacted<String>>,
    /// CA certificate chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_chain: Option<String>,
    /// GM encryption certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc_certificate: Option<String>,
    /// GM encryption private key. Write-only secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc_private_key: Option<Redacted<String>>,
}

/// A gateway certificate (`VpnGatewayCertificateConfig` from create/update, plus
/// `project_id`, `status`, `updated_at` from get).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VpnGatewayCertificate {
    /// Certificate ID (UUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// 3-63 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Get only: project ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// Gateway ID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vgw_id: Option<String>,
    /// Get only: `BINDING` -> `BOUND`, or `FAULT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CertificateStatus>,
    /// Issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Signature algorithm, e.g. `SM3WITHSM2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
    /// Signing certificate serial number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_serial_number: Option<String>,
    /// Signing certificate subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_subject: Option<String>,
    /// Signing certificate expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_expire_time: Option<Timestamp>,
    /// CA certificate serial number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_chain_serial_number: Option<String>,
    /// CA certificate subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_chain_subject: Option<String>,
    /// CA certificate expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_chain_expire_time: Option<Timestamp>,
    /// Encryption certificate serial number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc_certificate_serial_number: Option<String>,
    /// Encryption certificate subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc_certificate_subject: Option<String>,
    /// Encryption certificate expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enc_certificate_expire_time: Option<Timestamp>,
    /// Creation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Get only: last update time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
}

/// Response of certificate create (201), get and update (200).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VpnGatewayCertificateResponse {
    /// The certificate.
    pub certificate: VpnGatewayCertificate,
    /// Request ID (absent from the source's examples).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

wire_enum! {
    /// BGP route origin.
    pub enum RouteOrigin {
        Igp = "igp",
        Egp = "egp",
        Incomplete = "incomplete",
    }
}

wire_enum! {
    /// Kind of a route's next-hop resource.
    pub enum NexthopResourceType {
        VpnGateway = "vpn_gateway",
        VpnConnection = "vpn_connection",
        Er = "er",
    }
}

/// The resource a route points at.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NexthopResource {
    /// Resource ID (UUID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `vpn_gateway`, `vpn_connection` or `er`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<NexthopResourceType>,
}

/// One route of a gateway routing table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// Destination CIDR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Next-hop IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nexthop: Option<String>,
    /// Outbound interface IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbound_interface_ip: Option<String>,
    /// BGP origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<RouteOrigin>,
    /// BGP AS path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_path: Option<String>,
    /// BGP MED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub med: Option<i64>,
    /// Next-hop resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nexthop_resource: Option<NexthopResource>,
}

/// `GET /v5/{project_id}/vpn-gateways/{vgw_id}/routing-table` response.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RoutingTableResponse {
    /// Routes.
    #[serde(default)]
    pub routing_table: Vec<Route>,
    /// Total routes on the gateway.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_count: Option<u64>,
    /// Paging (`ResponsePageInfoV3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_info: Option<PageInfo>,
    /// Request ID (absent from the source's example).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests;
