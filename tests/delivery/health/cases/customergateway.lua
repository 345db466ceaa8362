-- CustomerGateway: no cloud status of its own; the operator reports ACTIVE while it can read it.
local cr, c = builders.cr, builders.c
local K = "CustomerGateway"
return {
  kind = K,
  cases = {
    { name = "no status yet", expect = { status = "Progressing" }, obj = cr(K) },
    { name = "available", expect = { status = "Healthy", message = "Available: the customer gateway exists" },
      obj = cr(K, { cloudState = "ACTIVE", conditions = {
        c("Ready", "True", "Available", "the customer gateway exists"), c("Synced", "True", "ReconcileSuccess", "") } }) },
    { name = "creating", expect = { status = "Progressing", message = "Creating" },
      obj = cr(K, { conditions = { c("Ready", "False", "Creating", ""), c("Synced", "True", "ReconcileSuccess", "") } }) },
    { name = "stale generation", expect = { status = "Progressing" },
      obj = cr(K, { generation = 2, observed = 1, conditions = { c("Ready", "True", "Available", "") } }) },
    { name = "invalid spec", expect = { status = "Degraded", message = "InvalidSpec: idValue is not an IPv4 address" },
      obj = cr(K, { conditions = { c("Ready", "False", "InvalidSpec", "idValue is not an IPv4 address"), c("Synced", "False", "InvalidSpec", "idValue is not an IPv4 address") } }) },
    { name = "deleted in the cloud", expect = { status = "Degraded" },
      obj = cr(K, { conditions = { c("Ready", "False", "NotFound", "customer gateway 1 does not exist in the cloud") } }) },
    { name = "in use when deleting", expect = { status = "Progressing" },
      obj = cr(K, { deletionTimestamp = "2026-05-01T11:00:00Z", conditions = {
        c("Ready", "False", "WaitingForDependents", "VpnConnections still use it"), c("Synced", "True", "ReconcileSuccess", "") } }) },
    { name = "retried error while deleting",
      expect = { status = "Progressing", message = "Deleting: deletion is being retried; retrying: CloudServerError: HTTP 500" },
      obj = cr(K, { deletionTimestamp = "2026-05-01T11:00:00Z", conditions = {
        c("Ready", "False", "Deleting", "deletion is being retried"), c("Synced", "False", "CloudServerError", "HTTP 500") } }) },
    { name = "paused", expect = { status = "Suspended" },
      obj = cr(K, { annotations = { ["vpn.hwcloud.dev/paused"] = "TRUE" } }) },
  },
}
