-- VpnConnection: Ready is provisioning; TunnelUp is the IPsec tunnel (reported, not a failure).
local cr, c = builders.cr, builders.c
local K = "VpnConnection"
local synced_ok = c("Synced", "True", "ReconcileSuccess", "")
return {
  kind = K,
  cases = {
    { name = "no status yet", expect = { status = "Progressing" }, obj = cr(K) },
    { name = "waiting for the gateway",
      expect = { status = "Progressing", message = "DependencyNotReady: VpnGateway edge-gateway is not Ready" },
      obj = cr(K, { conditions = {
        c("Ready", "False", "DependencyNotReady", "VpnGateway edge-gateway is not Ready"), synced_ok } }) },
    { name = "waiting for the PSK Secret", expect = { status = "Progressing" },
      obj = cr(K, { conditions = {
        c("Ready", "False", "DependencyNotReady", "Secret office-psk does not exist"),
        c("Synced", "False", "SecretNotReady", "Secret network/office-psk: not found") } }) },
    { name = "creating", expect = { status = "Progressing" },
      obj = cr(K, { cloudState = "PENDING_CREATE", conditions = {
        c("Ready", "False", "Creating", "PENDING_CREATE"), synced_ok,
        c("TunnelUp", "Unknown", "TunnelStateUnknown", "not provisioned yet") } }) },
    { name = "tunnel up", expect = { status = "Healthy", message = "Available: the connection is provisioned" },
      obj = cr(K, { cloudState = "ACTIVE", conditions = {
        c("Ready", "True", "Available", "the connection is provisioned"), synced_ok,
        c("TunnelUp", "True", "TunnelActive", "the cloud reports ACTIVE") } }) },
    { name = "provisioned, tunnel down (peer not configured yet)",
      expect = { status = "Healthy",
        message = "Available: the connection is provisioned; tunnel not up: TunnelDown: the cloud reports DOWN" },
      obj = cr(K, { cloudState = "DOWN", conditions = {
        c("Ready", "True", "Available", "the connection is provisioned"), synced_ok,
        c("TunnelUp", "False", "TunnelDown", "the cloud reports DOWN") } }) },
    { name = "cloud ERROR", expect = { status = "Degraded", message = "CloudFault: the connection is ERROR" },
      obj = cr(K, { cloudState = "ERROR", conditions = {
        c("Ready", "False", "CloudFault", "the connection is ERROR"), synced_ok,
        c("TunnelUp", "False", "TunnelDown", "ERROR") } }) },
    { name = "cloud state ERROR with a generic reason",
      expect = { status = "Degraded", message = "The cloud reports ERROR" },
      obj = cr(K, { cloudState = "ERROR", conditions = { c("Ready", "False", "Updating", ""), synced_ok } }) },
    { name = "frozen", expect = { status = "Degraded" },
      obj = cr(K, { cloudState = "FREEZED", conditions = { c("Ready", "False", "Frozen", "FREEZED"), synced_ok } }) },
    { name = "connection limit reached", expect = { status = "Degraded" },
      obj = cr(K, { conditions = { c("Ready", "False", "QuotaExceeded", "the gateway has no free connection"), c("Synced", "False", "QuotaExceeded", "the gateway has no free connection") } }) },
    { name = "peer configuration Secret owned by someone else",
      expect = { status = "Degraded", message = "PeerConfigConflict: Secret office-peer exists and was not created for this connection" },
      obj = cr(K, { cloudState = "ACTIVE", conditions = {
        c("Ready", "True", "Available", "the connection is provisioned"),
        c("Synced", "False", "PeerConfigConflict", "Secret office-peer exists and was not created for this connection") } }) },
    { name = "updating after a spec change", expect = { status = "Progressing" },
      obj = cr(K, { generation = 7, observed = 7, cloudState = "PENDING_UPDATE", conditions = {
        c("Ready", "False", "Updating", "PENDING_UPDATE"), synced_ok } }) },
  },
}
