-- CloudVpnService (IES): cloudState is the IES service status (only `Completed` is documented).
local cr, c = builders.cr, builders.c
local K = "CloudVpnService"
local synced_ok = c("Synced", "True", "ReconcileSuccess", "")
return {
  kind = K,
  cases = {
    { name = "no status yet", expect = { status = "Progressing" }, obj = cr(K) },
    { name = "completed", expect = { status = "Healthy", message = "Available: the service is Completed" },
      obj = cr(K, { cloudState = "Completed", conditions = {
        c("Ready", "True", "Available", "the service is Completed"), synced_ok,
        c("Scaling", "False", "Stable", "utilisation within target") } }) },
    { name = "scaling up", expect = { status = "Healthy",
        message = "Available: the service is Completed; scaling: ScalingUp: 30000 -> 60000" },
      obj = cr(K, { cloudState = "Completed", conditions = {
        c("Ready", "True", "Available", "the service is Completed"), synced_ok,
        c("Scaling", "True", "ScalingUp", "30000 -> 60000") } }) },
    { name = "bandwidth change running", expect = { status = "Progressing" },
      obj = cr(K, { conditions = {
        c("Ready", "False", "Updating", "bandwidth change submitted"), synced_ok } }) },
    { name = "IES endpoint not configured", expect = { status = "Degraded" },
      obj = cr(K, { conditions = { c("Ready", "False", "InvalidSpec", "--ies-endpoint is not set"), c("Synced", "False", "InvalidSpec", "--ies-endpoint is not set") } }) },
    { name = "auth failed", expect = { status = "Degraded" },
      obj = cr(K, { conditions = { c("Ready", "False", "AuthFailed", "HTTP 401"), c("Synced", "False", "AuthFailed", "HTTP 401") } }) },
    { name = "paused", expect = { status = "Suspended" },
      obj = cr(K, { conditions = { c("Ready", "False", "Paused", "paused"), c("Synced", "False", "Paused", "paused") } }) },
  },
}
