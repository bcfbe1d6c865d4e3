-- wrk script of bench/submit_bench.py: GET a page, or POST reports with a fresh client_uuid each.
--
--   wrk -s bench/wrk_load.lua URL -- get
--   wrk -s bench/wrk_load.lua URL -- post BODIES_FILE API_KEY NONCE
--
-- BODIES_FILE holds one JSON report a line with the placeholder @UUID@; the requests take the
-- lines in turn. Each client_uuid is NONCE (16 hex digits, one per run) with the thread's number
-- and a counter: unique within a run and across runs. Answers are counted by status in every
-- thread; done() prints one line, "WRK_RESULT {...}" (JSON), for the Python side to read.

threads = {}
local thread_count = 0

function setup(thread)
   thread_count = thread_count + 1
   thread:set("thread_number", thread_count)
   table.insert(threads, thread)
end

local bodies = {}
local sent = 0
local nonce = "0000000000000000"
statuses = {}

function init(args)
   mode = args[1] or "get"
   if mode == "post" then
      for line in io.lines(args[2]) do
         if #line > 0 then
            table.insert(bodies, line)
         end
      end
      nonce = args[4]
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
      wrk.headers["Authorization"] = "Api-Key " .. args[3]
   end
end

local function next_uuid()
   sent = sent + 1
   -- xxxxxxxx-xxxx-4xxx-8ttt-cccccccccccc: version 4, RFC 4122 variant.
   return string.format(
      "%s-%s-4%s-8%03x-%012x",
      nonce:sub(1, 8), nonce:sub(9, 12), nonce:sub(13, 15), thread_number, sent
   )
end

function request()
   if mode ~= "post" then
      return wrk.format()
   end
   local body = bodies[(sent % #bodies) + 1]
   body = body:gsub("@UUID@", next_uuid())
   return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      local seen = thread:get("statuses")
      for status, count in pairs(seen) do
         counts[status] = (counts[status] or 0) + count
      end
   end
   local parts = {}
   for status, count in pairs(counts) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   local errors = summary.errors
   io.write(string.format(
      'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, '
         .. '"p99_us": %d, "max_us": %d, "statuses": {%s}, "errors": {"connect": %d, '
         .. '"read": %d, "write": %d, "timeout": %d}}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
      latency:percentile(99), latency.max, table.concat(parts, ", "), errors.connect,
      errors.read, errors.write, errors.timeout
   ))
end
