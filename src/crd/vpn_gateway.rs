//! `VpnGateway`: the cloud end of a site-to-site VPN (Huawei VPN v5 `vpn-gateways`).
//!
//! Field rules come from the API reference (create body, PUT body, update-specification).
//! Only `name`, `localSubnets`, `localSubnetsV6`, the bound EIP ids, `policyTemplate`, `flavor`
//! and `tags` can change after creation; everything else is immutable (CEL rules below).
use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{
    impl_managed, AccountStatus, CloudSettings, Condition, DeletionPolicy, DriftEntry,
    ManagementPolicy, SecretRef,
};
use super::rules::{self, patterns};

/// Desired state of a Huawei Cloud VPN gateway.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "vpn.hwcloud.dev",
    version = "v1alpha1",
    kind = "VpnGateway",
    plural = "vpngateways",
    namespaced,
    status = "VpnGatewayStatus",
    shortname = "vgw",
    category = "hwvpn",
    doc = "A Huawei Cloud site-to-site VPN gateway (VPN v5), attached to a VPC or an Enterprise Router.",
    printcolumn = r#"{"name":"Cloud ID","type":"string","jsonPath":".status.cloudId"}"#,
    printcolumn = r#"{"name":"State","type":"string","jsonPath":".status.cloudState"}"#,
    printcolumn = r#"{"name":"Flavor","type":"string","jsonPath":".status.flavor","priority":1}"#,
    printcolumn = r#"{"name":"EIP1","type":"string","jsonPath":".status.eip1.ipAddress","priority":1}"#,
    printcolumn = r#"{"name":"EIP2","type":"string","jsonPath":".status.eip2.ipAddress","priority":1}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = rules::immutable(&["networkType"]))]
#[x_kube(validation = rules::immutable(&["attachmentType"]))]
#[x_kube(validation = rules::immutable(&["ipVersion"]))]
#[x_kube(validation = rules::immutable(&["vpcId"]))]
#[x_kube(validation = rules::immutable(&["erId"]))]
#[x_kube(validation = rules::immutable(&["connectSubnet"]))]
#[x_kube(validation = rules::immutable(&["accessVpcId"]))]
#[x_kube(validation = rules::immutable(&["accessSubnetId"]))]
#[x_kube(validation = rules::immutable(&["accessPrivateIp1"]))]
#[x_kube(validation = rules::immutable(&["accessPrivateIp2"]))]
#[x_kube(validation = rules::immutable(&["bgpAsn"]))]
#[x_kube(validation = rules::immutable(&["availabilityZoneIds"]))]
#[x_kube(validation = rules::immutable(&["haMode"]))]
#[x_kube(validation = rules::immutable(&["enterpriseProjectId"]))]
#[x_kube(validation = rules::immutable(&["cloudId"]))]
#[x_kube(validation = rules::immutable(&["cloud", "region"]))]
#[x_kube(validation = rules::immutable(&["cloud", "projectId"]))]
#[x_kube(validation = rules::observe_needs_cloud_id())]
#[x_kube(validation = Rule::new("(self.attachmentType == 'er') == has(self.erId)")
    .message("erId is required when attachmentType is er, and not allowed when it is vpc")
    .field_path(".erId"))]
#[x_kube(validation = Rule::new("self.attachmentType != 'vpc' || (has(self.vpcId) && has(self.connectSubnet))")
    .message("attachmentType vpc requires vpcId and connectSubnet"))]
#[x_kube(validation = Rule::new("(self.attachmentType == 'vpc' && self.ipVersion == 'ipv4') == (has(self.localSubnets) && size(self.localSubnets) > 0)")
    .message("localSubnets is required when attachmentType is vpc and ipVersion is ipv4, and not allowed otherwise")
    .field_path(".localSubnets"))]
#[x_kube(validation = Rule::new("(self.attachmentType == 'vpc' && self.ipVersion == 'ipv6') == (has(self.localSubnetsV6) && size(self.localSubnetsV6) > 0)")
    .message("localSubnetsV6 is required when attachmentType is vpc and ipVersion is ipv6, and not allowed otherwise")
    .field_path(".localSubnetsV6"))]
#[x_kube(validation = Rule::new("self.networkType == 'public' ? (has(self.eip1) && has(self.eip2)) : (!has(self.eip1) && !has(self.eip2))")
    .message("eip1 and eip2 are both required for a public gateway and not allowed for a private one"))]
#[x_kube(validation = Rule::new("!has(self.eip1) || !has(self.eip2) || !has(self.eip1.id) || !has(self.eip2.id) || self.eip1.id != self.eip2.id")
    .message("eip1 and eip2 must be different EIPs"))]
#[x_kube(validation = Rule::new("(!has(self.accessPrivateIp1) && !has(self.accessPrivateIp2)) || (self.networkType == 'private' && has(self.accessPrivateIp1) && has(self.accessPrivateIp2) && self.accessPrivateIp1 != self.accessPrivateIp2)")
    .message("accessPrivateIp1 and accessPrivateIp2 are only for a private gateway, must be given together and must differ"))]
#[x_kube(validation = Rule::new("self.flavor != 'Basic' || (self.networkType == 'public' && self.attachmentType == 'vpc')")
    .message("flavor Basic is not available for a private gateway or with attachmentType er")
    .field_path(".flavor"))]
#[x_kube(validation = Rule::new("!has(self.policyTemplate) || self.flavor == 'Professional1-NonFixedIP' || self.flavor == 'Professional2-NonFixedIP'")
    .message("policyTemplate is only for the Professional1-NonFixedIP and Professional2-NonFixedIP flavors")
    .field_path(".policyTemplate"))]
#[x_kube(validation = Rule::new("!has(self.certificate) || self.flavor == 'GM'")
    .message("certificate is only for GM gateways (flavor GM)")
    .field_path(".certificate"))]
#[x_kube(validation = Rule::new(eip_bandwidth_cap("eip1"))
    .message("eip1.bandwidthSize exceeds the flavor's limit (Basic 100, Professional1 300, GM 500, Professional2 1000 Mbit/s)")
    .field_path(".eip1.bandwidthSize"))]
#[x_kube(validation = Rule::new(eip_bandwidth_cap("eip2"))
    .message("eip2.bandwidthSize exceeds the flavor's limit (Basic 100, Professional1 300, GM 500, Professional2 1000 Mbit/s)")
    .field_path(".eip2.bandwidthSize"))]
pub struct VpnGatewaySpec {
    /// Gateway name in the cloud: 1-64 letters, digits, Chinese characters, `_`, `-`, `.`.
    /// Defaults to the object's name (cut to 64 characters). Can be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_NAME))]
    pub name: Option<String>,

    /// `public` (the customer gateway connects over two EIPs, eip1 and eip2) or `private`
    /// (over two private IPs in a VPC). Default `public`. Immutable.
    #[serde(default)]
    pub network_type: NetworkType,

    /// `vpc` (attach to a VPC; needs vpcId, connectSubnet and localSubnets) or `er` (attach to an
    /// Enterprise Router; needs erId). Default `vpc`. Immutable.
    #[serde(default)]
    pub attachment_type: AttachmentType,

    /// IP version of the gateway: `ipv4` or `ipv6`. Default `ipv4`. Immutable.
    #[serde(default)]
    pub ip_version: IpVersion,

    /// With attachmentType `vpc`: the VPC the gateway serves (required). With `er`: the access
    /// VPC (optional; accessVpcId wins when both are set). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub vpc_id: Option<String>,

    /// Enterprise Router id. Required with attachmentType `er`, not allowed otherwise. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub er_id: Option<String>,

    /// Id of the VPC subnet the gateway uses (the interconnection subnet; needs free IPs).
    /// Required with attachmentType `vpc`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub connect_subnet: Option<String>,

    /// IPv4 cloud-side CIDRs reachable over the VPN, e.g. `192.168.0.0/24`; at most 50.
    /// Required when attachmentType is `vpc` and ipVersion is `ipv4`, not allowed otherwise.
    /// Can be changed (the whole list is replaced).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50), inner(length(max = 18), regex(pattern = patterns::IPV4_CIDR)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub local_subnets: Vec<String>,

    /// IPv6 cloud-side CIDRs, e.g. `16af:cacc:1097::/48`; at most 50. Required when
    /// attachmentType is `vpc` and ipVersion is `ipv6`, not allowed otherwise. Can be changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50), inner(length(max = 49), regex(pattern = patterns::IPV6_CIDR)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub local_subnets_v6: Vec<String>,

    /// BGP ASN of the gateway, 1-4294967295. Default 64512. Immutable.
    #[serde(default = "default_bgp_asn")]
    #[schemars(range(min = 1, max = 4_294_967_295_i64))]
    pub bgp_asn: i64,

    /// Gateway size: `Basic` (100 Mbit/s), `Professional1` (300 Mbit/s), `Professional2`
    /// (1 Gbit/s), `GM` (500 Mbit/s, Chinese national cryptography), or the non-fixed-IP
    /// variants. Default `Professional1`. Not `Basic` for private or ER gateways. Can be changed
    /// to a flavor listed in status.supportedFlavors.
    #[serde(default)]
    pub flavor: Flavor,

    /// Availability zones: two different zones when the region offers two or more for this
    /// flavor, otherwise one. Default: chosen by the cloud. Immutable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2), inner(length(min = 1, max = 64)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub availability_zone_ids: Vec<String>,

    /// Enterprise project id (UUID), or `0` for the default enterprise project. Default `0`.
    /// Immutable here (moving between enterprise projects is not supported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::ENTERPRISE_PROJECT_ID))]
    pub enterprise_project_id: Option<String>,

    /// First EIP (active-active) or active EIP (active-standby). Required for a public gateway,
    /// not allowed for a private one. Either `id` of an existing EIP (can be changed later to
    /// bind another EIP) or the parameters of a new EIP (immutable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eip1: Option<EipSpec>,

    /// Second EIP (active-active) or standby EIP (active-standby). Same rules as eip1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eip2: Option<EipSpec>,

    /// Access VPC id. Default: vpcId. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub access_vpc_id: Option<String>,

    /// Subnet in the access VPC. Default: connectSubnet. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub access_subnet_id: Option<String>,

    /// `active-active` or `active-standby`. Default `active-active`. Immutable.
    #[serde(default)]
    pub ha_mode: HaMode,

    /// Private gateway only: first (or active) private access IP, a free IP in the access
    /// subnet. Give both or neither; they must differ. Default: chosen by the cloud. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 15), regex(pattern = patterns::IPV4))]
    pub access_private_ip1: Option<String>,

    /// Private gateway only: second (or standby) private access IP. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 15), regex(pattern = patterns::IPV4))]
    pub access_private_ip2: Option<String>,

    /// IKE/IPsec policy for the non-fixed-IP flavors only (`Professional1-NonFixedIP`,
    /// `Professional2-NonFixedIP`). Applied after creation; can be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_template: Option<PolicyTemplate>,

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

    /// Software upgrades: how an upgrade that waits for confirmation
    /// (`PENDING_UPGRADE_CONFIRM`) is finished or rolled back. An upgrade is started with the
    /// annotation `vpn.hwcloud.dev/upgrade: start` (or in the console). Default: `Manual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeSpec>,

    /// GM gateways (flavor `GM`) only: the Secret with the gateway's certificates, imported
    /// once the gateway is ACTIVE and updated when the Secret changes. Connections on a GM
    /// gateway wait until the certificate is `BOUND`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<GatewayCertificateSpec>,

    /// Adopt an existing gateway with this cloud id instead of creating one. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub cloud_id: Option<String>,

    /// `Delete` (default) deletes the gateway in the cloud when this object is deleted;
    /// `Orphan` leaves it.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// `Default` manages the gateway; `Observe` only reads the gateway named by cloudId.
    #[serde(default)]
    pub management_policy: ManagementPolicy,

    /// Region, project, endpoint and credentials overriding the operator's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudSettings>,
}

fn default_bgp_asn() -> i64 {
    64512
}

/// CEL: the EIP's new-bandwidth size is within the documented per-flavor limit. The limits of
/// the non-fixed-IP flavors are not documented; they are assumed equal to their base flavor.
fn eip_bandwidth_cap(eip: &str) -> String {
    format!(
        "!has(self.{eip}) || !has(self.{eip}.bandwidthSize) || self.{eip}.bandwidthSize <= \
         (self.flavor == 'Basic' ? 100 : (self.flavor == 'GM' ? 500 : \
         ((self.flavor == 'Professional2' || self.flavor == 'Professional2-NonFixedIP') ? 1000 : 300)))"
    )
}

/// How a gateway upgrade that waits for confirmation is decided.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeSpec {
    /// `Manual` (default): a person decides with the annotation
    /// `vpn.hwcloud.dev/upgrade: finish` or `rollback`. `Auto`: the operator finishes the upgrade
    /// when every connection of the gateway that was ACTIVE before it is ACTIVE again within
    /// `confirmWindowSeconds`, and rolls it back otherwise. The annotation works with both.
    #[serde(default)]
    pub policy: UpgradePolicy,
    /// `Auto`: how long the connections may take to come back after the upgrade reached
    /// `PENDING_UPGRADE_CONFIRM` before it is rolled back, 60-86400 seconds. Default 600.
    #[serde(default = "default_confirm_window")]
    #[schemars(range(min = 60, max = 86_400))]
    pub confirm_window_seconds: i64,
}

fn default_confirm_window() -> i64 {
    600
}

/// Who confirms a gateway upgrade.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[schemars(description = "")]
pub enum UpgradePolicy {
    /// A person, with the `vpn.hwcloud.dev/upgrade` annotation (default).
    #[default]
    Manual,
    /// The operator, from the health of the gateway's connections.
    Auto,
}

/// The Secret holding a GM gateway's certificates.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayCertificateSpec {
    /// Secret in this namespace with the PEM texts under the keys `certificate` (signing
    /// certificate), `privateKey` (signing key), `encCertificate` (encryption certificate),
    /// `encPrivateKey` (encryption key) and `certificateChain` (the CA chain). The keys never
    /// leave the Secret except towards the cloud.
    pub secret_ref: SecretRef,
    /// Name of the certificate in the cloud, 3-63 letters, digits, Chinese characters, `_`,
    /// `-`, `.`. Default: generated by the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 3, max = 63),
        regex(pattern = r"^[0-9A-Za-z一-龥_.-]{3,63}$")
    )]
    pub name: Option<String>,
}

/// Gateway network type.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum NetworkType {
    /// Reached over EIPs (default).
    #[default]
    Public,
    /// Reached over private IPs in a VPC.
    Private,
}

/// What the gateway attaches to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum AttachmentType {
    /// A VPC (default).
    #[default]
    Vpc,
    /// An Enterprise Router.
    Er,
}

/// IP version.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum IpVersion {
    /// IPv4 (default).
    #[default]
    Ipv4,
    /// IPv6.
    Ipv6,
}

/// Gateway flavor (size).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[schemars(description = "")]
pub enum Flavor {
    /// Up to 100 Mbit/s.
    Basic,
    /// Up to 300 Mbit/s (default).
    #[default]
    Professional1,
    /// Up to 1 Gbit/s.
    Professional2,
    /// Chinese national cryptography, up to 500 Mbit/s.
    #[serde(rename = "GM")]
    Gm,
    /// Professional1 without fixed IPs (takes a policyTemplate).
    #[serde(rename = "Professional1-NonFixedIP")]
    Professional1NonFixedIp,
    /// Professional2 without fixed IPs (takes a policyTemplate).
    #[serde(rename = "Professional2-NonFixedIP")]
    Professional2NonFixedIp,
}

/// High-availability mode.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(description = "")]
pub enum HaMode {
    /// Both addresses carry traffic (default).
    #[default]
    ActiveActive,
    /// The second address is a standby.
    ActiveStandby,
}

/// An EIP of a public gateway: an existing EIP by `id`, or a new EIP described by `type` and
/// `bandwidthSize` (plus optional `chargeMode`, `bandwidthName`, `bandwidthId`).
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.id) ? !(has(self.type) || has(self.chargeMode) || has(self.bandwidthSize) || has(self.bandwidthName) || has(self.bandwidthId)) : (has(self.type) && has(self.bandwidthSize))")
    .message("give either id (an existing EIP) or type and bandwidthSize (a new EIP), not both"))]
#[x_kube(validation = rules::immutable(&["type"]))]
#[x_kube(validation = rules::immutable(&["chargeMode"]))]
#[x_kube(validation = rules::immutable(&["bandwidthSize"]))]
#[x_kube(validation = rules::immutable(&["bandwidthName"]))]
#[x_kube(validation = rules::immutable(&["bandwidthId"]))]
pub struct EipSpec {
    /// Id of an existing EIP to bind. Can be changed to bind another existing EIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub id: Option<String>,
    /// New EIP: line type `5_bgp` (dynamic BGP), `5_sbgp` (static BGP) or `5_youxuanbgp`
    /// (premium BGP), as the region supports. Immutable.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<EipType>,
    /// New EIP: billed by `bandwidth` (the cloud's default) or by `traffic`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_mode: Option<ChargeMode>,
    /// New EIP: bandwidth in Mbit/s, 1-1000, at most the flavor's limit. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub bandwidth_size: Option<i64>,
    /// New EIP: bandwidth name (1-64 characters). Default: generated by the cloud. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_NAME))]
    pub bandwidth_name: Option<String>,
    /// New EIP: id of an existing shared bandwidth to use. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64), regex(pattern = patterns::CLOUD_ID))]
    pub bandwidth_id: Option<String>,
}

/// EIP line type.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(description = "")]
pub enum EipType {
    /// Dynamic BGP.
    #[serde(rename = "5_bgp")]
    Bgp,
    /// Static BGP.
    #[serde(rename = "5_sbgp")]
    StaticBgp,
    /// Premium BGP.
    #[serde(rename = "5_youxuanbgp")]
    PremiumBgp,
}

/// EIP billing mode.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum ChargeMode {
    /// Billed by bandwidth.
    Bandwidth,
    /// Billed by traffic.
    Traffic,
}

/// IKE and IPsec policy of a non-fixed-IP gateway.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyTemplate {
    /// IKE (phase 1) policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ike_policy: Option<TemplateIkePolicy>,
    /// IPsec (phase 2) policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipsec_policy: Option<TemplateIpsecPolicy>,
}

/// IKE policy of a policy template.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateIkePolicy {
    /// Encryption algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<TemplateEncryptionAlgorithm>,
    /// DH group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dh_group: Option<TemplateDhGroup>,
    /// Authentication algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_algorithm: Option<TemplateAuthenticationAlgorithm>,
    /// IKE SA lifetime in seconds, 60-604800.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 60, max = 604_800))]
    pub lifetime_seconds: Option<i64>,
}

/// IPsec policy of a policy template.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateIpsecPolicy {
    /// Authentication algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_algorithm: Option<TemplateAuthenticationAlgorithm>,
    /// Encryption algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<TemplateEncryptionAlgorithm>,
    /// DH group for perfect forward secrecy, or `disable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pfs: Option<TemplateDhGroup>,
    /// IPsec SA lifetime in seconds, 30-604800.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 30, max = 604_800))]
    pub lifetime_seconds: Option<i64>,
}

/// Encryption algorithms of a policy template.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(description = "")]
pub enum TemplateEncryptionAlgorithm {
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
}

/// Authentication algorithms of a policy template.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(description = "")]
pub enum TemplateAuthenticationAlgorithm {
    /// SHA2-512.
    #[serde(rename = "sha2-512")]
    Sha2_512,
    /// SHA2-384.
    #[serde(rename = "sha2-384")]
    Sha2_384,
    /// SHA2-256.
    #[serde(rename = "sha2-256")]
    Sha2_256,
}

/// DH groups of a policy template (`disable` turns PFS off).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(description = "")]
pub enum TemplateDhGroup {
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
    /// No DH group.
    Disable,
}

/// Observed state of a VPN gateway.
#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VpnGatewayStatus {
    /// Cloud id of the gateway, recorded right after creation (or adoption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_id: Option<String>,
    /// Cloud status as reported: `PENDING_CREATE`, `PENDING_UPDATE`, `PENDING_DELETE`,
    /// `UPGRADING`, `ROLLING_BACK`, `PENDING_UPGRADE_CONFIRM`, `ACTIVE`, `FAULT`, `FREEZED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_state: Option<String>,
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` and `Synced` conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// The cloud account this object uses: where it comes from, the credentials Secret,
    /// project, region and endpoint. Fixed once the cloud resource exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountStatus>,
    /// Gateway name in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Current flavor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<String>,
    /// Flavors the gateway can be changed to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_flavors: Vec<String>,
    /// Availability zones the gateway runs in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_zone_ids: Vec<String>,
    /// First (or active) EIP, once the gateway is ACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eip1: Option<ObservedEip>,
    /// Second (or standby) EIP, once the gateway is ACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eip2: Option<ObservedEip>,
    /// First (or active) private access IP of a private gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_private_ip1: Option<String>,
    /// Second (or standby) private access IP of a private gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_private_ip2: Option<String>,
    /// Enterprise Router attachment id (attachmentType `er`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub er_attachment_id: Option<String>,
    /// Maximum number of VPN connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_number: Option<i64>,
    /// VPN connections in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_connection_number: Option<i64>,
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
    /// The last software upgrade of the gateway (started by the operator or in the console).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeStatus>,
    /// GM gateways: the imported certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<GatewayCertificateStatus>,
    /// Gateways with BGP connections: the routing table, refreshed at every resync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routes: Option<RoutesStatus>,
}

/// Where a gateway upgrade stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[schemars(description = "")]
pub enum UpgradePhase {
    /// The software is being upgraded (job `upgrading`).
    Upgrading,
    /// Upgraded; waits for `finish` or `rollback` (job `pending_upgrade_confirm`).
    PendingConfirm,
    /// The upgrade is being rolled back (job `rolling_back`).
    RollingBack,
    /// Finished: the new software is kept (job `success`).
    Succeeded,
    /// Rolled back to the previous software (job `rollback_success`).
    RolledBack,
    /// The job failed (job `fail`).
    Failed,
}

impl UpgradePhase {
    /// Whether the upgrade is over.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::RolledBack | Self::Failed)
    }
}

/// The last gateway upgrade.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStatus {
    /// The upgrade job in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// Where it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<UpgradePhase>,
    /// The value of the `vpn.hwcloud.dev/upgrade` annotation last acted on (or refused);
    /// cleared when the annotation is removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested: Option<String>,
    /// The last upgrade call the operator made: `start`, `finish` or `rollback`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_action: Option<String>,
    /// When the upgrade started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the operator first saw it wait for confirmation (the start of the `Auto` window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_confirm_since: Option<String>,
    /// When it finished, was rolled back or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// `Auto`: the connections that were ACTIVE when the operator started the upgrade (cloud
    /// ids); they must be ACTIVE again to finish it. Empty: every connection of the gateway.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 200))]
    pub required_connections: Vec<String>,
    /// What happened last, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A GM gateway's certificate as the cloud reports it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GatewayCertificateStatus {
    /// Certificate id in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Certificate name in the cloud.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `BINDING`, `BOUND` or `FAULT` (binding failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Expiry of the signing certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Expiry of the encryption certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enc_expires_at: Option<String>,
    /// Expiry of the CA certificate (chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_expires_at: Option<String>,
    /// Hex SHA-256 of the Secret's certificates and keys last sent to the cloud (never the
    /// values): a change of the Secret is detected by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_sha256: Option<String>,
}

/// The routing table of a gateway.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoutesStatus {
    /// How many routes the gateway has.
    pub count: i64,
    /// The first 20 routes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 20))]
    pub routes: Vec<RouteEntry>,
    /// When the table was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshed_at: Option<String>,
}

/// One route of a gateway.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteEntry {
    /// Destination prefix (CIDR).
    pub destination: String,
    /// Next-hop IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nexthop: Option<String>,
}

/// An EIP as the cloud reports it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedEip {
    /// EIP id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Public IPv4 address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Line type, e.g. `5_bgp`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// `bandwidth` or `traffic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_mode: Option<String>,
    /// Bandwidth id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_id: Option<String>,
    /// Bandwidth in Mbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_size: Option<i64>,
    /// Bandwidth name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_name: Option<String>,
}

impl_managed!(VpnGatewaySpec, VpnGatewayStatus);
