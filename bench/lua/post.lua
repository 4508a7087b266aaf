-- POST /Users with a unique userName per request (BENCH_PREFIX makes it unique per run)
local counter = 0
request = function()
  counter = counter + 1
  local name = prefix .. "-" .. counter
  local body = '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "' .. name ..
    '", "name": {"givenName": "Bench", "familyName": "Poster' .. counter .. '"}, ' ..
    '"displayName": "Bench Poster' .. counter .. '", "title": "Engineer", ' ..
    '"emails": [{"type": "work", "value": "' .. name .. '@example.com"}], ' ..
    '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales", ' ..
    '"employeeNumber": "P' .. counter .. '"}, "active": true}'
  return wrk.format("POST", base .. "/Users", json_headers, body)
end
