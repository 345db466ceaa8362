//! Small conversions shared by the kinds: CRD enums to their wire strings.
use serde::Serialize;

/// The serialized string of a unit enum (`NetworkType::Public` → `"public"`), which is also
/// the wire value: the CRD enums are spelled as the API spells them.
pub fn enum_str<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::crd::vpn_gateway::{Flavor, HaMode, NetworkType};

    #[test]
    fn crd_enums_render_as_wire_values() {
        assert_eq!(enum_str(&NetworkType::Public), "public");
        assert_eq!(enum_str(&HaMode::ActiveStandby), "active-standby");
        assert_eq!(
            enum_str(&Flavor::Professional1NonFixedIp),
            "Professional1-NonFixedIP"
        );
    }
}
