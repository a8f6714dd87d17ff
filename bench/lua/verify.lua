-- Verify: POST /api/token/verify/ {"token": <access>}, cycling through the access tokens in
-- $BENCH_TOKENS. Requests are built once in init(); non-2xx are counted.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require "common"

local reqs, n, i

function setup(thread) common.setup(thread) end

function init(args)
   local tokens = common.read_lines(os.getenv("BENCH_TOKENS"))
   assert(#tokens > 0, "verify.lua: no access tokens in BENCH_TOKENS")
   local path = os.getenv("BENCH_PATH") or "/api/token/verify/"
   reqs = {}
   for k, tok in ipairs(tokens) do
      reqs[k] = wrk.format("POST", path, { ["Content-Type"] = "application/json" },
                           '{"token":"' .. tok .. '"}')
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
