-- Compact constructors for health-check fixtures (objects shaped as the operator writes them).
local B = {}

-- A condition as the operator writes it.
function B.c(type_, status, reason, message, generation)
  return {
    type = type_,
    status = status,
    reason = reason,
    message = message or "",
    lastTransitionTime = "2026-05-01T10:00:00Z",
    observedGeneration = generation or 3,
  }
end

-- A custom resource of `kind`. opts: generation (default 3), observed (status.observedGeneration,
-- default = generation; false to omit), conditions (nil = no status at all), cloudState,
-- annotations, deletionTimestamp, finalizers, spec (merged over the default spec).
function B.cr(kind, opts)
  opts = opts or {}
  local generation = opts.generation or 3
  local o = {
    apiVersion = "vpn.hwcloud.dev/v1alpha1",
    kind = kind,
    metadata = {
      name = "sample",
      namespace = "network",
      uid = "5f0c6a9e-0000-4000-8000-000000000001",
      generation = generation,
      annotations = opts.annotations,
      deletionTimestamp = opts.deletionTimestamp,
      finalizers = opts.finalizers or { "vpn.hwcloud.dev/cleanup" },
    },
    spec = { name = "sample" },
  }
  for k, v in pairs(opts.spec or {}) do
    o.spec[k] = v
  end
  if opts.conditions ~= nil then
    local observed = opts.observed
    if observed == nil then
      observed = generation
    end
    o.status = {
      conditions = opts.conditions,
      cloudState = opts.cloudState,
      cloudId = "0d3a1b6c-7e8f-4a9b-8c7d-6e5f4a3b2c1d",
    }
    if observed ~= false then
      o.status.observedGeneration = observed
    end
  end
  return o
end

return B
