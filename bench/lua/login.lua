-- Login: POST /api/token/ {"username","password"}, round-robin over the users in
-- $BENCH_USERS (one name per line), all with the password $BENCH_PASSWORD. Dominated by one
-- bcrypt check per request. The refresh tokens received are written to $BENCH_POOL_OUT
-- (they are fresh and unspent: the refresh workload uses them).
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require "common"

local reqs, n, i

function setup(thread) common.setup(thread) end

function init(args)
   local users = common.read_lines(os.getenv("BENCH_USERS"))
   assert(#users > 0, "login.lua: no users in BENCH_USERS")
   local password = assert(os.getenv("BENCH_PASSWORD"), "login.lua: BENCH_PASSWORD unset")
   local path = os.getenv("BENCH_PATH") or "/api/token/"
   reqs = {}
   for k, user in ipairs(users) do
      reqs[k] = wrk.format("POST", path, { ["Content-Type"] = "application/json" },
                           '{"username":"' .. user .. '","password":"' .. password .. '"}')
   end
   n = #reqs
   i = (bench_id * 13) % n
   harvest = {}
end

function request()
   i = i % n + 1
   return reqs[i]
end

function response(status, headers, body)
   common.count(status)
   if status == 200 then
      local tok = common.refresh_of(body)
      if tok then harvest[#harvest + 1] = tok end
   end
end

function done(summary, latency, requests)
   common.done(summary, latency, function(result, threads)
      result.pool_left = common.write_pool(threads)
   end)
end
