-- GET /Users?filter=userName eq "<random existing user>"
request = function()
  local path = base .. '/Users?filter=userName%20eq%20%22' .. login(math.random(1, users)) .. '%22'
  return wrk.format("GET", path)
end
