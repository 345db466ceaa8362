//! The Huawei Cloud VPN policy values and their standard names: one table, the only place the
//! export looks them up. docs/PEER-CONFIG.md prints it (a test keeps the two equal).
//!
//! IANA names are those of the IKEv2 transform registry (RFC 7296 and its successors); the
//! strongSwan keywords are those of swanctl.conf proposals (strongSwan 5.9). `None` means
//! strongSwan has no such algorithm: the export then writes no `swanctl.conf` connection and
//! says why (see [`super::swanctl`]).

/// What a value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `encryption_algorithm` (IKE and IPsec).
    Encryption,
    /// `authentication_algorithm` (IKE and IPsec): integrity, and the IKE PRF.
    Authentication,
    /// `dh_group` (IKE) and `pfs` (IPsec).
    DhGroup,
}

/// One Huawei value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Algorithm {
    pub kind: Kind,
    /// As the Huawei API spells it.
    pub huawei: &'static str,
    /// The IANA transform (name and id).
    pub iana: &'static str,
    /// The strongSwan proposal keyword; `None`: strongSwan 5.9 has none.
    pub strongswan: Option<&'static str>,
    /// Authentication only: the IANA PRF an IKE SA uses with it.
    pub prf_iana: Option<&'static str>,
    /// Authentication only: the strongSwan PRF keyword (needed with AEAD encryption).
    pub prf_strongswan: Option<&'static str>,
    /// Encryption only: an AEAD cipher (no separate integrity transform).
    pub aead: bool,
}

const fn enc(huawei: &'static str, iana: &'static str, ss: Option<&'static str>) -> Algorithm {
    Algorithm {
        kind: Kind::Encryption,
        huawei,
        iana,
        strongswan: ss,
        prf_iana: None,
        prf_strongswan: None,
        aead: false,
    }
}

const fn aead(huawei: &'static str, iana: &'static str, ss: &'static str) -> Algorithm {
    Algorithm {
        aead: true,
        ..enc(huawei, iana, Some(ss))
    }
}

const fn auth(
    huawei: &'static str,
    iana: &'static str,
    ss: Option<&'static str>,
    prf: (&'static str, &'static str),
) -> Algorithm {
    Algorithm {
        kind: Kind::Authentication,
        huawei,
        iana,
        strongswan: ss,
        prf_iana: Some(prf.0),
        prf_strongswan: match ss {
            Some(_) => Some(prf.1),
            None => None,
        },
        aead: false,
    }
}

const fn dh(huawei: &'static str, iana: &'static str, ss: &'static str) -> Algorithm {
    Algorithm {
        kind: Kind::DhGroup,
        huawei,
        iana,
        strongswan: Some(ss),
        prf_iana: None,
        prf_strongswan: None,
        aead: false,
    }
}

/// Every value the CRD accepts for an algorithm or group, and its names.
pub const TABLE: &[Algorithm] = &[
    enc("aes-128", "ENCR_AES_CBC (12), 128-bit key", Some("aes128")),
    enc("aes-192", "ENCR_AES_CBC (12), 192-bit key", Some("aes192")),
    enc("aes-256", "ENCR_AES_CBC (12), 256-bit key", Some("aes256")),
    aead(
        "aes-128-gcm-16",
        "ENCR_AES_GCM_16 (20), 128-bit key",
        "aes128gcm16",
    ),
    aead(
        "aes-256-gcm-16",
        "ENCR_AES_GCM_16 (20), 256-bit key",
        "aes256gcm16",
    ),
    enc("3des", "ENCR_3DES (3)", Some("3des")),
    enc("sm4", "SM4-CBC (GM/T 0002, no IANA IKEv2 id)", None),
    auth(
        "md5",
        "AUTH_HMAC_MD5_96 (1)",
        Some("md5"),
        ("PRF_HMAC_MD5 (1)", "prfmd5"),
    ),
    auth(
        "sha1",
        "AUTH_HMAC_SHA1_96 (2)",
        Some("sha1"),
        ("PRF_HMAC_SHA1 (2)", "prfsha1"),
    ),
    auth(
        "sha2-256",
        "AUTH_HMAC_SHA2_256_128 (12)",
        Some("sha256"),
        ("PRF_HMAC_SHA2_256 (5)", "prfsha256"),
    ),
    auth(
        "sha2-384",
        "AUTH_HMAC_SHA2_384_192 (13)",
        Some("sha384"),
        ("PRF_HMAC_SHA2_384 (6)", "prfsha384"),
    ),
    auth(
        "sha2-512",
        "AUTH_HMAC_SHA2_512_256 (14)",
        Some("sha512"),
        ("PRF_HMAC_SHA2_512 (7)", "prfsha512"),
    ),
    auth(
        "sm3",
        "HMAC-SM3 (GM/T 0004, no IANA IKEv2 id)",
        None,
        ("HMAC-SM3 (no IANA IKEv2 id)", ""),
    ),
    dh("group1", "768-bit MODP Group (1)", "modp768"),
    dh("group2", "1024-bit MODP Group (2)", "modp1024"),
    dh("group5", "1536-bit MODP Group (5)", "modp1536"),
    dh("group14", "2048-bit MODP Group (14)", "modp2048"),
    dh("group15", "3072-bit MODP Group (15)", "modp3072"),
    dh("group16", "4096-bit MODP Group (16)", "modp4096"),
    dh("group19", "256-bit random ECP Group (19)", "ecp256"),
    dh("group20", "384-bit random ECP Group (20)", "ecp384"),
    dh("group21", "521-bit random ECP Group (21)", "ecp521"),
];

/// The row of Huawei value `huawei` of `kind`; `None` for a value the table does not know (a
/// value the cloud reports that this operator's CRD does not accept).
pub fn lookup(kind: Kind, huawei: &str) -> Option<&'static Algorithm> {
    TABLE.iter().find(|a| a.kind == kind && a.huawei == huawei)
}

/// The table as Markdown rows (docs/PEER-CONFIG.md holds them verbatim).
pub fn markdown() -> String {
    let mut out =
        String::from("| Huawei value | Kind | IANA | strongSwan |\n| --- | --- | --- | --- |\n");
    for a in TABLE {
        let kind = match a.kind {
            Kind::Encryption if a.aead => "encryption (AEAD)",
            Kind::Encryption => "encryption",
            Kind::Authentication => "authentication",
            Kind::DhGroup => "DH group / PFS",
        };
        let iana = match a.prf_iana {
            Some(prf) => format!("{}; PRF {prf}", a.iana),
            None => a.iana.to_string(),
        };
        let ss = match (a.strongswan, a.prf_strongswan) {
            (Some(s), Some(prf)) => format!("`{s}` (PRF `{prf}`)"),
            (Some(s), None) => format!("`{s}`"),
            (None, _) => "none".to_string(),
        };
        out.push_str(&format!("| `{}` | {kind} | {iana} | {ss} |\n", a.huawei));
    }
    out
}
