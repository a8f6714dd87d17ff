-- Refresh with rotation: POST /api/token/refresh/ {"refresh": <token>}; every request spends a
-- refresh token that was never sent before.
--
-- Each thread takes its share of the pre-minted, unspent tokens in $BENCH_TOKENS as a queue.
-- A 200 answer carries the rotated refresh token (the one sent is now blacklisted): it goes
-- to the back of the queue, so the queue stays full while the run lasts. At the end the
-- unspent rest is written to $BENCH_POOL_OUT for the next run. Tokens in flight when wrk
-- stops are lost; the driver tops the pool up before each run. An empty queue (only after
-- errors) sends "starved" instead, which the server rejects: counted as non-2xx and starved.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require "common"

local path, headers

function setup(thread) common.setup(thread) end

function init(args)
   queue = common.share(common.read_lines(os.getenv("BENCH_TOKENS")))
   qhead, qtail = 1, #queue
   path = os.getenv("BENCH_PATH") or "/api/token/refresh/"
   headers = { ["Content-Type"] = "application/json" }
end

function request()
   local tok
   if qhead <= qtail then
      tok = queue[qhead]
      queue[qhead] = nil
      qhead = qhead + 1
   else
      starved = starved + 1
      tok = "starved"
   end
   return wrk.format("POST", path, headers, '{"refresh":"' .. tok .. '"}')
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
