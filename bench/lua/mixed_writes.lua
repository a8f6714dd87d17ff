-- Mixed workload, write side: refresh with rotation and login, in the ratio
-- $BENCH_REFRESH_WEIGHT : $BENCH_LOGIN_WEIGHT (default 8 : 2, the mix's 8 % and 2 %).
-- A second wrk process sends the GET /api/me/ side (get.lua) at the same time, so the GETs'
-- latency is measured on its own.
--
-- Refresh tokens come from $BENCH_TOKENS and every 200 answer (refresh or login) adds its
-- fresh refresh token to the queue; each refresh spends a token never sent before. With an
-- empty queue the request becomes a login (counted in sent.refresh_as_login). The unspent
-- rest goes to $BENCH_POOL_OUT.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require "common"

local logins, nlogin, li, refresh_path, headers, login_share

function setup(thread) common.setup(thread) end

function init(args)
   queue = common.share(common.read_lines(os.getenv("BENCH_TOKENS")))
   qhead, qtail = 1, #queue
   local users = common.read_lines(os.getenv("BENCH_USERS"))
   assert(#users > 0, "mixed_writes.lua: no users in BENCH_USERS")
   local password = assert(os.getenv("BENCH_PASSWORD"), "mixed_writes.lua: BENCH_PASSWORD unset")
   headers = { ["Content-Type"] = "application/json" }
   logins = {}
   for k, user in ipairs(users) do
      logins[k] = wrk.format("POST", "/api/token/", headers,
                             '{"username":"' .. user .. '","password":"' .. password .. '"}')
   end
   nlogin = #logins
   li = (bench_id * 13) % nlogin
   refresh_path = "/api/token/refresh/"
   local rw = tonumber(os.getenv("BENCH_REFRESH_WEIGHT") or "8")
   local lw = tonumber(os.getenv("BENCH_LOGIN_WEIGHT") or "2")
   login_share = lw / (rw + lw)
   math.randomseed(1234 + bench_id)
end

local function login()
   li = li % nlogin + 1
   return logins[li]
end

function request()
   if math.random() < login_share then
      common.sent("login")
      return login()
   end
   if qhead > qtail then
      common.sent("refresh_as_login")
      return login()
   end
   local tok = queue[qhead]
   queue[qhead] = nil
   qhead = qhead + 1
   common.sent("refresh")
   return wrk.format("POST", refresh_path, headers, '{"refresh":"' .. tok .. '"}')
end

function response(status, hdrs, body)
   common.count(status)
   if status == 200 then
      local tok = common.refresh_of(body)
      if tok then
         qtail = qtail + 1
         queue[qtail] = tok
      end
   end
end

function done(summary, latency, requests)
   common.done(summary, latency, function(result, threads)
      result.pool_left = common.write_pool(threads)
   end)
end
