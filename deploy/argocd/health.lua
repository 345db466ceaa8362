-- Argo CD health check for the vpn.hwcloud.dev kinds: VpnGateway, CustomerGateway,
-- VpnConnection and CloudVpnService (one script, registered once per kind in argocd-cm).
--
-- Healthy      Ready=True, the operator has observed the current generation and the last
--              reconcile succeeded (Synced not False).
-- Suspended    the vpn.hwcloud.dev/paused annotation is "true", or Synced has reason Paused, or
--              a VpnGateway's upgrade waits for a person to confirm it (Ready reason
--              UpgradePendingConfirm with spec.upgrade.policy Manual).
-- Degraded     a terminal reason (the user must change the spec, credentials or quota, or the
--              cloud resource is broken), or the cloud reports FAULT, FREEZED or ERROR.
-- Progressing  everything else: no status yet, a generation not yet observed, the cloud still
--              working (Creating/Updating/Upgrading/UpgradeRollingBack/Deleting, an upgrade
--              waiting for the operator's own confirmation under spec.upgrade.policy Auto),
--              waiting for a dependency or dependents, and errors the operator retries by
--              itself (CloudBusy, Throttled, InsufficientCapacity, ...).
--
-- Argo CD runs custom health checks without Lua's string and math libraries, so this script
-- uses only the base functions, tables and the `..` operator. Keep it that way.

local PAUSED_ANNOTATION = "vpn.hwcloud.dev/paused"

-- Reasons that need a person: the operator will not succeed by retrying.
local TERMINAL = {
  InvalidSpec = true,
  AuthFailed = true,
  QuotaExceeded = true,
  OwnershipConflict = true,
  PeerConfigConflict = true,
  ImmutableFieldDrift = true,
  CloudFault = true,
  Frozen = true,
  NotFound = true,
  CloudResponseInvalid = true,
}

-- Cloud states that mean the resource itself is broken or blocked.
local BROKEN_CLOUD_STATES = { FAULT = true, FREEZED = true, ERROR = true }

local function condition(conditions, type_)
  for _, c in ipairs(conditions) do
    if c.type == type_ then
      return c
    end
  end
  return nil
end

local function describe(c)
  local message = c.message
  if message == nil or message == "" then
    return c.reason or ""
  end
  return (c.reason or "") .. ": " .. message
end

local function is_true_word(v)
  return v == "true" or v == "True" or v == "TRUE"
end

local hs = { status = "Progressing", message = "Waiting for the operator to report status" }

local meta = obj.metadata or {}
local annotations = meta.annotations or {}
if is_true_word(annotations[PAUSED_ANNOTATION]) then
  hs.status = "Suspended"
  hs.message = "Paused by the " .. PAUSED_ANNOTATION .. " annotation: the operator changes nothing in the cloud"
  return hs
end

local status = obj.status
if status == nil or status.conditions == nil or next(status.conditions) == nil then
  if meta.deletionTimestamp ~= nil then
    hs.message = "Deleting"
  end
  return hs
end

local ready = condition(status.conditions, "Ready")
local synced = condition(status.conditions, "Synced")

if synced ~= nil and synced.reason == "Paused" then
  hs.status = "Suspended"
  hs.message = describe(synced)
  return hs
end

-- Status written for an older spec says nothing about the current one. (tonumber: Argo CD may
-- hand over a number as a string.)
local observed = status.observedGeneration
if meta.generation ~= nil and (observed == nil or tonumber(observed) ~= tonumber(meta.generation)) then
  hs.message = "Waiting for the operator to observe generation " .. tostring(meta.generation)
  if observed ~= nil then
    hs.message = hs.message .. " (status describes generation " .. tostring(observed) .. ")"
  end
  return hs
end

if synced ~= nil and synced.status == "False" and TERMINAL[synced.reason] then
  hs.status = "Degraded"
  hs.message = describe(synced)
  return hs
end
if ready ~= nil and ready.status == "False" and TERMINAL[ready.reason] then
  hs.status = "Degraded"
  hs.message = describe(ready)
  return hs
end
if status.cloudState ~= nil and BROKEN_CLOUD_STATES[status.cloudState] then
  hs.status = "Degraded"
  hs.message = "The cloud reports " .. status.cloudState
  if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
    hs.message = hs.message .. ": " .. ready.message
  end
  return hs
end

if meta.deletionTimestamp ~= nil then
  hs.message = "Deleting"
  if ready ~= nil and ready.status == "False" then
    hs.message = describe(ready)
  end
  if synced ~= nil and synced.status == "False" then
    hs.message = hs.message .. "; retrying: " .. describe(synced)
  end
  return hs
end

-- A VpnGateway whose upgrade waits for finish or rollback: a person decides (Manual), or the
-- operator does from the connections' health (Auto).
if ready ~= nil and ready.status == "False" and ready.reason == "UpgradePendingConfirm" then
  local spec = obj.spec or {}
  local upgrade = spec.upgrade or {}
  if upgrade.policy ~= "Auto" then
    hs.status = "Suspended"
  end
  hs.message = describe(ready)
  return hs
end

if synced ~= nil and synced.status == "False" then
  -- A failure the operator retries with backoff (CloudBusy, Throttled, CloudUnreachable, ...).
  hs.message = "Retrying: " .. describe(synced)
  return hs
end

if ready == nil then
  hs.message = "Waiting for the Ready condition"
  return hs
end

if ready.status ~= "True" then
  -- Creating, Updating, Deleting, DependencyNotReady, WaitingForDependents, ...
  hs.message = describe(ready)
  return hs
end

hs.status = "Healthy"
hs.message = describe(ready)
-- VpnConnection: provisioned but the tunnel is not up (normal until the peer is configured).
local tunnel = condition(status.conditions, "TunnelUp")
if tunnel ~= nil and tunnel.status ~= "True" then
  hs.message = hs.message .. "; tunnel not up: " .. describe(tunnel)
end
-- CloudVpnService: a bandwidth change is running.
local scaling = condition(status.conditions, "Scaling")
if scaling ~= nil and scaling.status == "True" then
  hs.message = hs.message .. "; scaling: " .. describe(scaling)
end
return hs
