-- Shared by every bench script (bench/wrk.py prepends it): the bearer token, the SCIM root, the
-- number of users, and a done() that prints one machine-readable line for bench/wrk.py.
token = os.getenv("BENCH_TOKEN") or ""
base = os.getenv("BENCH_BASE") or "/scim/v2"
users = tonumber(os.getenv("BENCH_USERS") or "1")
prefix = os.getenv("BENCH_PREFIX") or "bench"
wrk.headers["Authorization"] = "Bearer " .. token
-- wrk.format() uses the headers it is given instead of wrk.headers: writes pass these
json_headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/scim+json" }
math.randomseed(tonumber(os.getenv("BENCH_SEED") or "1"))

function login(i)
  return string.format("user%07d", i)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
