-- Must FAIL under the harness: Argo CD does not open the string library for custom checks.
hs = { status = "Healthy", message = "" }
if obj.metadata.name:find("sample") then
  hs.message = string.upper("found")
end
return hs
