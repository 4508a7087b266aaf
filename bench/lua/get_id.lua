-- GET /Users/<random existing id>
request = function()
  return wrk.format("GET", base .. "/Users/" .. math.random(1, users))
end
