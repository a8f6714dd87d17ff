-- Protected GET (the hot path): GET $BENCH_PATH (default /api/me/) with
-- "Authorization: Bearer <access>", cycling through the access tokens in $BENCH_TOKENS
-- (one per benchmark user). Requests are built once in init(); non-2xx are counted.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require "common"

local reqs, n, i

function setup(thread) common.setup(thread) end

function init(args)
   local tokens = common.read_lines(os.getenv("BENCH_TOKENS"))
   assert(#tokens > 0, "get.lua: no access tokens in BENCH_TOKENS")
   local path = os.getenv("BENCH_PATH") or "/api/me/"
   reqs = {}
   for k, tok in ipairs(tokens) do
      reqs[k] = wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tok })
   end
   n = #reqs
   i = (bench_id * 7) % n
end

function request()
   i = i % n + 1
   return reqs[i]
end

function response(status, headers, body)
   common.count(status)
end

function done(summary, latency, requests)
   common.done(summary, latency)
end
