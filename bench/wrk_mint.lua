-- wrk script: POST /v1/connect-sessions (or the baseline's /echo) with a JSON body and a bearer
-- key, closed loop. Arguments after `--`: the key. Each request names one of 5,000 end users, as
-- the Python load generator does. Prints one WRK line from done() for bench/wrk.py to parse.
local counter = 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local body = string.format('{"end_user":{"id":"user-%d"}}', counter % 5000)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d status_errors=%d other_errors=%d p50_us=%d p90_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
