-- Shared by every workload script of keyward's benchmark (loaded with require "common").
--
-- Environment (set by bench/tools/drive.py for each wrk run):
--   BENCH_THREADS  the -t given to wrk (threads split the token files between them)
--   BENCH_OUT      where done() writes the run's result as one JSON object
--   BENCH_TOKENS   token file (one per line) the script reads, when it needs one
--   BENCH_POOL_OUT where unspent / newly received refresh tokens are written at the end
--
-- Each wrk thread has its own Lua state; setup() and done() run in the main state.
-- Per-thread counters (non2xx, statuses, starved, sent) are globals of the thread states,
-- read in done() with thread:get().

local M = {}

local threads = {}

function M.setup(thread)
   thread:set("bench_id", #threads)
   table.insert(threads, thread)
end

-- thread-state counters
non2xx = 0
statuses = {}
starved = 0
sent = {}

function M.count(status)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      local key = tostring(status)
      statuses[key] = (statuses[key] or 0) + 1
   end
end

function M.sent(kind)
   sent[kind] = (sent[kind] or 0) + 1
end

function M.nthreads()
   return tonumber(os.getenv("BENCH_THREADS") or "1")
end

function M.read_lines(path)
   local lines = {}
   if not path or path == "" then return lines end
   local f = io.open(path, "r")
   if not f then return lines end
   for line in f:lines() do
      if line ~= "" then lines[#lines + 1] = line end
   end
   f:close()
   return lines
end

-- This thread's share: lines i with (i - 1) % nthreads == bench_id.
function M.share(lines)
   local n, id, mine = M.nthreads(), bench_id or 0, {}
   for i = 1, #lines do
      if (i - 1) % n == id then mine[#mine + 1] = lines[i] end
   end
   return mine
end

local function encode(value)
   local t = type(value)
   if t == "number" then
      if value ~= value or value == math.huge or value == -math.huge then return "null" end
      if value == math.floor(value) and math.abs(value) < 1e15 then
         return string.format("%d", value)
      end
      return string.format("%.6f", value)
   elseif t == "string" then
      return '"' .. value:gsub('[%c"\\]', function(c)
         return string.format("\\u%04x", c:byte())
      end) .. '"'
   elseif t == "boolean" then
      return tostring(value)
   elseif t == "table" then
      local parts = {}
      for k, v in pairs(value) do
         parts[#parts + 1] = encode(tostring(k)) .. ":" .. encode(v)
      end
      table.sort(parts)
      return "{" .. table.concat(parts, ",") .. "}"
   end
   return "null"
end
M.encode = encode

local function merge(into, from)
   for k, v in pairs(from or {}) do into[k] = (into[k] or 0) + v end
end

-- Writes the run's figures to BENCH_OUT; `extra(result)` may add fields (called in the
-- main state, with the thread list, after the counters are merged).
function M.done(summary, latency, extra)
   local result = {
      requests = summary.requests,
      duration_us = summary.duration,
      bytes = summary.bytes,
      errors = {
         connect = summary.errors.connect,
         read = summary.errors.read,
         write = summary.errors.write,
         status = summary.errors.status,
         timeout = summary.errors.timeout,
      },
      latency_us = {
         min = latency.min,
         mean = latency.mean,
         stdev = latency.stdev,
         max = latency.max,
         p50 = latency:percentile(50),
         p90 = latency:percentile(90),
         p99 = latency:percentile(99),
         p999 = latency:percentile(99.9),
      },
      non2xx = 0,
      statuses = {},
      starved = 0,
      sent = {},
   }
   for _, thread in ipairs(threads) do
      result.non2xx = result.non2xx + (thread:get("non2xx") or 0)
      result.starved = result.starved + (thread:get("starved") or 0)
      merge(result.statuses, thread:get("statuses"))
      merge(result.sent, thread:get("sent"))
   end
   if extra then extra(result, threads) end
   local path = os.getenv("BENCH_OUT")
   if path and path ~= "" then
      local f = assert(io.open(path, "w"))
      f:write(encode(result), "\n")
      f:close()
   end
end

-- Appends refresh tokens to BENCH_POOL_OUT: for each thread, the unspent rest of its queue
-- (queue[qhead..qtail]) and what it harvested. Returns how many were written.
function M.write_pool(threads_list)
   local path = os.getenv("BENCH_POOL_OUT")
   if not path or path == "" then return 0 end
   local f = assert(io.open(path, "a"))
   local written = 0
   for _, thread in ipairs(threads_list) do
      local queue, head, tail = thread:get("queue"), thread:get("qhead"), thread:get("qtail")
      if queue and head and tail then
         for i = head, tail do
            local tok = queue[i]
            if tok then f:write(tok, "\n"); written = written + 1 end
         end
      end
      local harvest = thread:get("harvest")
      if harvest then
         for _, tok in pairs(harvest) do f:write(tok, "\n"); written = written + 1 end
      end
   end
   f:close()
   return written
end

-- The refresh token of a 200 {"access":...,"refresh":...} body, or nil.
function M.refresh_of(body)
   return body:match('"refresh"%s*:%s*"([^"]+)"')
end

return M
