-- VpnGateway in every state the operator reports.
local cr, c = builders.cr, builders.c
local K = "VpnGateway"
local synced_ok = c("Synced", "True", "ReconcileSuccess", "")

return {
  kind = K,
  cases = {
    { name = "no status yet", expect = { status = "Progressing", message = "Waiting for the operator to report status" },
      obj = cr(K) },
    { name = "empty conditions", expect = { status = "Progressing", message = "Waiting for the operator to report status" },
      obj = cr(K, { conditions = {} }) },
    { name = "creating (PENDING_CREATE)",
      expect = { status = "Progressing", message = "Creating: the VPN gateway is being created (PENDING_CREATE)" },
      obj = cr(K, { cloudState = "PENDING_CREATE", conditions = {
        c("Ready", "False", "Creating", "the VPN gateway is being created (PENDING_CREATE)"),
        c("Synced", "True", "ReconcileSuccess", "create requested") } }) },
    { name = "available", expect = { status = "Healthy", message = "Available: the VPN gateway is ACTIVE" },
      obj = cr(K, { cloudState = "ACTIVE", conditions = {
        c("Ready", "True", "Available", "the VPN gateway is ACTIVE"), synced_ok } }) },
    { name = "available, status from an older generation",
      expect = { status = "Progressing", message = "Waiting for the operator to observe generation 4 (status describes generation 3)" },
      obj = cr(K, { generation = 4, observed = 3, cloudState = "ACTIVE", conditions = {
        c("Ready", "True", "Available", "the VPN gateway is ACTIVE"), synced_ok } }) },
    { name = "conditions but no observedGeneration",
      expect = { status = "Progressing", message = "Waiting for the operator to observe generation 3" },
      obj = cr(K, { observed = false, conditions = { c("Ready", "True", "Available", "the VPN gateway is ACTIVE") } }) },
    { name = "updating (PENDING_UPDATE)",
      expect = { status = "Progressing", message = "Updating: the VPN gateway is being changed (PENDING_UPDATE)" },
      obj = cr(K, { cloudState = "PENDING_UPDATE", conditions = {
        c("Ready", "False", "Updating", "the VPN gateway is being changed (PENDING_UPDATE)"), synced_ok } }) },
    { name = "upgrading",
      expect = { status = "Progressing", message = "Upgrading: the VPN gateway's software is being upgraded (UPGRADING)" },
      obj = cr(K, { cloudState = "UPGRADING", conditions = {
        c("Ready", "False", "Upgrading", "the VPN gateway's software is being upgraded (UPGRADING)"), synced_ok } }) },
    { name = "upgrade waits for a person (Manual, the default)",
      expect = { status = "Suspended", message = "UpgradePendingConfirm: annotate it with vpn.hwcloud.dev/upgrade=finish or =rollback" },
      obj = cr(K, { cloudState = "PENDING_UPGRADE_CONFIRM", conditions = {
        c("Ready", "False", "UpgradePendingConfirm", "annotate it with vpn.hwcloud.dev/upgrade=finish or =rollback"), synced_ok } }) },
    { name = "upgrade waits for a person (Manual, explicit), even while a retry is pending",
      expect = { status = "Suspended" },
      obj = cr(K, { cloudState = "PENDING_UPGRADE_CONFIRM", spec = { upgrade = { policy = "Manual" } }, conditions = {
        c("Ready", "False", "UpgradePendingConfirm", "annotate it"),
        c("Synced", "False", "CloudBusy", "The gateway is not ready.") } }) },
    { name = "upgrade waits for the operator's health gate (Auto)",
      expect = { status = "Progressing", message = "UpgradePendingConfirm: the operator finishes it once every connection is ACTIVE again, or rolls it back in 540 s" },
      obj = cr(K, { cloudState = "PENDING_UPGRADE_CONFIRM", spec = { upgrade = { policy = "Auto", confirmWindowSeconds = 600 } }, conditions = {
        c("Ready", "False", "UpgradePendingConfirm", "the operator finishes it once every connection is ACTIVE again, or rolls it back in 540 s"), synced_ok } }) },
    { name = "upgrade rolling back",
      expect = { status = "Progressing", message = "UpgradeRollingBack: the upgrade of the VPN gateway is being rolled back (ROLLING_BACK)" },
      obj = cr(K, { cloudState = "ROLLING_BACK", conditions = {
        c("Ready", "False", "UpgradeRollingBack", "the upgrade of the VPN gateway is being rolled back (ROLLING_BACK)"), synced_ok } }) },
    { name = "deleting a gateway whose upgrade waited for confirmation",
      expect = { status = "Progressing", message = "Deleting: g1: confirming its pending upgrade before the delete" },
      obj = cr(K, { deletionTimestamp = "2026-05-01T11:00:00Z", cloudState = "PENDING_UPGRADE_CONFIRM", conditions = {
        c("Ready", "False", "Deleting", "g1: confirming its pending upgrade before the delete"), synced_ok } }) },
    { name = "gateway abnormal (VPN.0510) is surfaced",
      expect = { status = "Degraded", message = "CloudFault: UpdateVgw: Abnormal (HTTP 500, VPN.0510): The gateway status is abnormal." },
      obj = cr(K, { cloudState = "ACTIVE", conditions = {
        c("Ready", "False", "CloudFault", "UpdateVgw: Abnormal (HTTP 500, VPN.0510): The gateway status is abnormal."),
        c("Synced", "False", "CloudFault", "UpdateVgw: Abnormal (HTTP 500, VPN.0510): The gateway status is abnormal.") } }) },
    { name = "GM certificate failed to bind",
      expect = { status = "Degraded", message = "CloudFault: the GM certificate of VPN gateway g1 failed to bind (FAULT)" },
      obj = cr(K, { cloudState = "ACTIVE", conditions = {
        c("Ready", "True", "Available", "the VPN gateway is ACTIVE"),
        c("Synced", "False", "CloudFault", "the GM certificate of VPN gateway g1 failed to bind (FAULT)") } }) },
    { name = "capacity short (VPN.0505), retried",
      expect = { status = "Progressing", message = "Retrying: InsufficientCapacity: CreateVgw: Gateway resources are insufficient." },
      obj = cr(K, { conditions = {
        c("Ready", "False", "InsufficientCapacity", "CreateVgw: Gateway resources are insufficient."),
        c("Synced", "False", "InsufficientCapacity", "CreateVgw: Gateway resources are insufficient.") } }) },
    { name = "quota full before the create",
      expect = { status = "Degraded", message = "QuotaExceeded: the project's vpn_gateway quota is full: used 50 of 50" },
      obj = cr(K, { conditions = {
        c("Ready", "False", "QuotaExceeded", "the project's vpn_gateway quota is full: used 50 of 50"),
        c("Synced", "False", "QuotaExceeded", "the project's vpn_gateway quota is full: used 50 of 50") } }) },
    { name = "deleting (PENDING_DELETE)",
      expect = { status = "Progressing", message = "Deleting: the VPN gateway is being deleted (PENDING_DELETE)" },
      obj = cr(K, { deletionTimestamp = "2026-05-01T11:00:00Z", cloudState = "PENDING_DELETE", conditions = {
        c("Ready", "False", "Deleting", "the VPN gateway is being deleted (PENDING_DELETE)"), synced_ok } }) },
    { name = "deleting, no status", expect = { status = "Progressing", message = "Deleting" },
      obj = cr(K, { deletionTimestamp = "2026-05-01T11:00:00Z" }) },
    { name = "deletion waits for connections",
      expect = { status = "Progressing", message = "WaitingForDependents: VpnConnections still use this gateway: office-link" },
      obj = cr(K, { deletionTimestamp = "2026-05-01T11:00:00Z", cloudState = "ACTIVE", conditions = {
        c("Ready", "False", "WaitingForDependents", "VpnConnections still use this gateway: office-link"), synced_ok } }) },
    { name = "cloud busy (retried)",
      expect = { status = "Progressing", message = "Retrying: CloudBusy: the gateway is being updated (retry later)" },
      obj = cr(K, { cloudState = "ACTIVE", conditions = {
        c("Ready", "True", "Available", "the VPN gateway is ACTIVE"),
        c("Synced", "False", "CloudBusy", "the gateway is being updated (retry later)") } }) },
    { name = "throttled (retried)", expect = { status = "Progressing", message = "Retrying: Throttled: HTTP 429" },
      obj = cr(K, { conditions = {
        c("Ready", "False", "Creating", "create requested"), c("Synced", "False", "Throttled", "HTTP 429") } }) },
    { name = "cloud unreachable (retried)", expect = { status = "Progressing", message = "Retrying: CloudUnreachable: connection refused" },
      obj = cr(K, { conditions = { c("Ready", "False", "CloudUnreachable", "connection refused"), c("Synced", "False", "CloudUnreachable", "connection refused") } }) },
    { name = "invalid spec", expect = { status = "Degraded", message = "InvalidSpec: VPC.0002: vpc_id is invalid" },
      obj = cr(K, { conditions = {
        c("Ready", "False", "InvalidSpec", "VPC.0002: vpc_id is invalid"),
        c("Synced", "False", "InvalidSpec", "VPC.0002: vpc_id is invalid") } }) },
    { name = "credentials Secret missing (Ready says so too)",
      expect = { status = "Progressing", message = "Retrying: SecretNotReady: secret ns/creds: not found" },
      obj = cr(K, { conditions = {
        c("Ready", "False", "SecretNotReady", "secret ns/creds: not found"),
        c("Synced", "False", "SecretNotReady", "secret ns/creds: not found") } }) },
    { name = "paused before anything was made", expect = { status = "Suspended" },
      obj = cr(K, { conditions = {
        c("Ready", "False", "Paused", "vpn.hwcloud.dev/paused is set"),
        c("Synced", "False", "Paused", "vpn.hwcloud.dev/paused is set") } }) },
    { name = "auth failed", expect = { status = "Degraded", message = "AuthFailed: the cloud refused the credentials (HTTP 401)" },
      obj = cr(K, { conditions = { c("Ready", "False", "AuthFailed", "the cloud refused the credentials (HTTP 401)"), c("Synced", "False", "AuthFailed", "the cloud refused the credentials (HTTP 401)") } }) },
    { name = "quota exceeded", expect = { status = "Degraded", message = "QuotaExceeded: VPN gateway quota exhausted" },
      obj = cr(K, { conditions = { c("Ready", "False", "QuotaExceeded", "VPN gateway quota exhausted"), c("Synced", "False", "QuotaExceeded", "VPN gateway quota exhausted") } }) },
    { name = "ownership conflict", expect = { status = "Degraded", message = "OwnershipConflict: owned by cluster prod, object net/gw" },
      obj = cr(K, { conditions = { c("Ready", "False", "OwnershipConflict", "owned by cluster prod, object net/gw"), c("Synced", "False", "OwnershipConflict", "owned by cluster prod, object net/gw") } }) },
    { name = "immutable field drift while available",
      expect = { status = "Degraded", message = "ImmutableFieldDrift: these fields differ from the cloud and cannot be changed there: vpcId" },
      obj = cr(K, { cloudState = "ACTIVE", conditions = {
        c("Ready", "True", "Available", "the VPN gateway is ACTIVE"),
        c("Synced", "False", "ImmutableFieldDrift", "these fields differ from the cloud and cannot be changed there: vpcId") } }) },
    { name = "fault", expect = { status = "Degraded", message = "CloudFault: the VPN gateway is FAULT" },
      obj = cr(K, { cloudState = "FAULT", conditions = {
        c("Ready", "False", "CloudFault", "the VPN gateway is FAULT"), synced_ok } }) },
    { name = "frozen", expect = { status = "Degraded", message = "Frozen: the VPN gateway is FREEZED (billing)" },
      obj = cr(K, { cloudState = "FREEZED", conditions = {
        c("Ready", "False", "Frozen", "the VPN gateway is FREEZED (billing)"), synced_ok } }) },
    { name = "cloud state FAULT whatever the reason",
      expect = { status = "Degraded", message = "The cloud reports FAULT: the VPN gateway is being changed" },
      obj = cr(K, { cloudState = "FAULT", conditions = {
        c("Ready", "False", "Updating", "the VPN gateway is being changed"), synced_ok } }) },
    { name = "not found", expect = { status = "Degraded", message = "NotFound: VPN gateway 0d3a does not exist in the cloud" },
      obj = cr(K, { conditions = {
        c("Ready", "False", "NotFound", "VPN gateway 0d3a does not exist in the cloud"),
        c("Synced", "False", "NotFound", "VPN gateway 0d3a does not exist in the cloud") } }) },
    { name = "paused by annotation",
      expect = { status = "Suspended", message = "Paused by the vpn.hwcloud.dev/paused annotation: the operator changes nothing in the cloud" },
      obj = cr(K, { annotations = { ["vpn.hwcloud.dev/paused"] = "true" }, conditions = {
        c("Ready", "True", "Available", "the VPN gateway is ACTIVE"), synced_ok } }) },
    { name = "paused annotation wins over a stale generation", expect = { status = "Suspended" },
      obj = cr(K, { generation = 5, observed = 4, annotations = { ["vpn.hwcloud.dev/paused"] = "True" }, conditions = {
        c("Synced", "False", "AuthFailed", "401") } }) },
    { name = "paused annotation not true", expect = { status = "Healthy" },
      obj = cr(K, { annotations = { ["vpn.hwcloud.dev/paused"] = "false" }, conditions = {
        c("Ready", "True", "Available", "the VPN gateway is ACTIVE"), synced_ok } }) },
    { name = "paused reported by the operator",
      expect = { status = "Suspended", message = "Paused: vpn.hwcloud.dev/paused is set: no cloud calls are made for this object until it is removed" },
      obj = cr(K, { conditions = {
        c("Ready", "True", "Available", "the VPN gateway is ACTIVE"),
        c("Synced", "False", "Paused", "vpn.hwcloud.dev/paused is set: no cloud calls are made for this object until it is removed") } }) },
    { name = "observe only", expect = { status = "Healthy", message = "Available: the VPN gateway is ACTIVE" },
      obj = cr(K, { cloudState = "ACTIVE", conditions = {
        c("Ready", "True", "Available", "the VPN gateway is ACTIVE"),
        c("Synced", "True", "ObserveOnly", "managementPolicy is Observe: the gateway is only read") } }) },
    { name = "generation as a string (json.Number) still compares",
      expect = { status = "Healthy" },
      obj = (function()
        local o = cr(K, { cloudState = "ACTIVE", conditions = { c("Ready", "True", "Available", "ok"), synced_ok } })
        o.status.observedGeneration = "3"
        return o
      end)() },
    { name = "large generations compare as numbers",
      expect = { status = "Progressing", message = "Waiting for the operator to observe generation 123456790 (status describes generation 123456789)" },
      obj = cr(K, { generation = 123456790, observed = 123456789, conditions = { c("Ready", "True", "Available", "ok"), synced_ok } }) },
  },
}
