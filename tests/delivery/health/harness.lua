-- Runs an Argo CD health script against sample objects, the way Argo CD does:
-- the object is the global `obj`, the chunk's return value is the health table, and only the
-- libraries Argo CD opens for custom checks are visible (base, table, a safe subset of os;
-- no string, no math, no io: string methods are unavailable too).
--
-- usage: lua5.1 harness.lua HEALTH_SCRIPT CASES_FILE...
-- A cases file returns { kind = "VpnGateway", cases = { { name, expect = {status, message}, obj }, ... } }.
-- It may use the global `builders` (builders.lua next to this file).
-- Prints one "PASS"/"FAIL" line per case and a count; exits 1 on failure.

local script_path = arg[1]
if script_path == nil or arg[2] == nil then
  io.stderr:write("usage: lua5.1 harness.lua HEALTH_SCRIPT CASES_FILE...\n")
  os.exit(2)
end

local here = string.match(arg[0], "^(.*)/[^/]*$") or "."
builders = dofile(here .. "/builders.lua")

local fh = assert(io.open(script_path, "r"))
local script = fh:read("*a")
fh:close()

local VALID = { Healthy = true, Progressing = true, Degraded = true, Suspended = true, Missing = true, Unknown = true }

local function deepcopy(v)
  if type(v) ~= "table" then
    return v
  end
  local out = {}
  for k, x in pairs(v) do
    out[k] = deepcopy(x)
  end
  return out
end

-- The globals Argo CD's VM has with useOpenLibs=false (gopher-lua base + table + safe os).
local function sandbox(object)
  local env = {}
  for _, name in ipairs({ "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall",
    "print", "rawequal", "rawget", "rawset", "select", "setmetatable", "tonumber", "tostring",
    "type", "unpack", "xpcall" }) do
    env[name] = _G[name]
  end
  env.table = table
  env.os = { time = os.time, date = os.date, clock = os.clock, difftime = os.difftime }
  env._G = env
  env.obj = object
  return env
end

local function evaluate(object)
  local chunk, err = loadstring(script, "=" .. script_path)
  if chunk == nil then
    return nil, "does not compile: " .. tostring(err)
  end
  setfenv(chunk, sandbox(deepcopy(object)))
  local string_mt = getmetatable("")
  local string_index = string_mt.__index
  string_mt.__index = nil
  local ok, result = pcall(chunk)
  string_mt.__index = string_index
  if not ok then
    return nil, "raised an error: " .. tostring(result)
  end
  if type(result) ~= "table" then
    return nil, "returned " .. type(result) .. ", not a table"
  end
  if not VALID[result.status] then
    return nil, "returned an invalid status " .. tostring(result.status)
  end
  if result.message ~= nil and type(result.message) ~= "string" then
    return nil, "returned a non-string message"
  end
  return result
end

local passed, failed = 0, 0
for i = 2, #arg do
  local spec = dofile(arg[i])
  assert(type(spec.kind) == "string" and type(spec.cases) == "table", arg[i] .. ": bad cases file")
  for _, case in ipairs(spec.cases) do
    local label = spec.kind .. " / " .. case.name
    local problem
    if case.obj.kind ~= spec.kind or case.obj.apiVersion ~= "vpn.hwcloud.dev/v1alpha1" then
      problem = "fixture is not a vpn.hwcloud.dev/v1alpha1 " .. spec.kind
    else
      local got, err = evaluate(case.obj)
      if got == nil then
        problem = err
      elseif got.status ~= case.expect.status then
        problem = "status " .. got.status .. " (" .. tostring(got.message) .. "), want " .. case.expect.status
      elseif case.expect.message ~= nil and got.message ~= case.expect.message then
        problem = "message " .. string.format("%q", tostring(got.message)) .. ", want " .. string.format("%q", case.expect.message)
      end
    end
    if problem == nil then
      passed = passed + 1
      print("PASS health " .. label)
    else
      failed = failed + 1
      print("FAIL health " .. label .. ": " .. problem)
    end
  end
end
print(string.format("Lua health cases: %d ok, %d wrong", passed, failed))
os.exit(failed == 0 and passed > 0 and 0 or 1)
