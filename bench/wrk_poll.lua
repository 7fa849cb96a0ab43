-- wrk script: widgets polling GET <path> with their own bearer token, paced like the widget.
-- Arguments after `--`: a file of "path<TAB>token" lines (one per widget), the number of wrk
-- threads, the connections per thread, the pause between polls in ms (0: closed loop), and an
-- Origin header value ("-" for none).
--
-- wrk keeps Lua state per thread, not per connection, and request() does not say which
-- connection it is for. So widgets are dealt to threads (widget i to thread i mod threads) and
-- each thread hands its widgets out round robin to whichever of its connections is ready. With
-- as many connections as widgets, each connection waits `pause` after every answer (delay()), so
-- every widget is polled about once per pause. The first delay of each connection is random in
-- [0, pause) so the widgets do not start in step, as real ones do not.
local next_id = 0
local widgets = {}
local position = 0
local pause = 500
local first_delays = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

function init(args)
  local threads = tonumber(args[2])
  first_delays = tonumber(args[3])
  pause = tonumber(args[4])
  local origin = args[5]
  local index = 0
  for line in io.lines(args[1]) do
    local path, token = line:match("^(%S+)\t(%S+)$")
    if path and index % threads == thread_id then
      local headers = { ["Authorization"] = "Bearer " .. token }
      if origin ~= "-" then
        headers["Origin"] = origin
      end
      widgets[#widgets + 1] = wrk.format("GET", path, headers)
    end
    index = index + 1
  end
  math.randomseed(os.time() + thread_id)
end

function request()
  position = position % #widgets + 1
  return widgets[position]
end

function delay()
  if pause == 0 then
    return 0
  end
  if first_delays > 0 then
    first_delays = first_delays - 1
    return math.random(0, pause - 1)
  end
  return pause
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d duration_us=%d status_errors=%d other_errors=%d p50_us=%d p90_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
