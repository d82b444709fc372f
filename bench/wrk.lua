-- wrk script for the CellShop bench, one connection per wrk thread:
--   wrk -t N -c N -d HARD_STOP -s bench/wrk.lua URL -- PATHS_FILE BUDGET DURATION STOP_FILE
-- Each connection cycles through the paths (from its own offset) and stops after BUDGET
-- responses or at its first response after DURATION seconds, so requests in flight at the
-- deadline still finish; it then appends a line to STOP_FILE (bench/load.py interrupts wrk
-- when every connection has stopped). done() prints one JSON line starting with BENCH_JSON.

local threads = {}
-- Like a browser, accept gzip.
local headers = { ["Accept-Encoding"] = "gzip", ["User-Agent"] = "cellshop-bench" }

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local clock = os.time
local ok, ffi = pcall(require, "ffi")
if ok then
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock_id, bench_timespec *tp);
  ]]
  local ts = ffi.new("bench_timespec")
  clock = function()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
  end
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  budget = tonumber(args[2])
  deadline = clock() + tonumber(args[3])
  stop_file = args[4]
  counter = (id * 7919) % #paths
  received, stopped, hits, misses = 0, 0, 0, 0
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter], headers)
end

function response(status, headers, body)
  received = received + 1
  -- The page cache's diagnostic header (PAGE_CACHE_DIAGNOSTICS): counted per connection.
  local cached = headers["X-Page-Cache"]
  if cached == "hit" then hits = hits + 1 elseif cached == "miss" then misses = misses + 1 end
  if received >= budget or clock() >= deadline then
    stopped = 1
    local f = io.open(stop_file, "a")
    f:write(id, "\n")
    f:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  -- A connection that never stopped by itself was still waiting for a response at the hard stop.
  local unfinished, hits, misses = 0, 0, 0
  for _, thread in ipairs(threads) do
    if thread:get("stopped") ~= 1 then unfinished = unfinished + 1 end
    hits = hits + (thread:get("hits") or 0)
    misses = misses + (thread:get("misses") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "unfinished": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"cache_hits": %d, "cache_misses": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, unfinished,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, hits, misses))
end
