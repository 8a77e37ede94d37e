-- Argo CD health check for realtime.directus-operator.io/DirectusSubscription.
-- It reads the conditions the operator sets for kstatus (docs/status.md) and
-- answers as kstatus does: Current is Healthy, InProgress is Progressing,
-- Failed is Degraded. A suspended subscription is Suspended, as Argo CD's own
-- checks for Flux objects say.
local hs = {}
local function says(c)
  return (c.reason or "") .. ": " .. (c.message or "")
end
if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true: the connection is closed and the target keeps its last content"
  return hs
end
local status = obj.status
if status == nil or status.observedGeneration == nil or status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation)
  return hs
end
local ready = nil
if status.conditions ~= nil then
  for _, c in ipairs(status.conditions) do
    if c.type == "Stalled" and c.status == "True" then
      hs.status = "Degraded"
      hs.message = says(c)
      return hs
    end
    if c.type == "Reconciling" and c.status == "True" then
      hs.status = "Progressing"
      hs.message = says(c)
      return hs
    end
    if c.type == "Ready" then
      ready = c
    end
  end
end
if ready == nil or ready.status == "True" then
  -- kstatus takes an object without a Ready condition as Current too.
  hs.status = "Healthy"
  hs.message = ready ~= nil and ready.message or "No Ready condition"
  return hs
end
hs.status = "Progressing"
hs.message = says(ready)
return hs
