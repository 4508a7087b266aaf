-- PATCH /Users/<random existing id>: set active to true, which every generated user already is (a
-- PATCH that changes no stored value, as Entra ID repeats them: no statement is written)
request = function()
  local body = '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ' ..
    '[{"op": "replace", "path": "active", "value": true}]}'
  return wrk.format("PATCH", base .. "/Users/" .. math.random(1, users), json_headers, body)
end
