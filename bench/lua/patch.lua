-- PATCH /Users/<random existing id>: replace one attribute (title)
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ' ..
    '[{"op": "replace", "path": "title", "value": "Title ' .. prefix .. " " .. counter .. '"}]}'
  return wrk.format("PATCH", base .. "/Users/" .. math.random(1, users), json_headers, body)
end
