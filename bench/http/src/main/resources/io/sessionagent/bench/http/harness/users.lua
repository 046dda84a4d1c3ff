-- wrk script: every simulated user has its own session and at most one request in flight.
--
-- wrk does not say which connection a response arrived on, so a request names its user in the
-- query (u=N) and the server echoes it in the body ("u=N c=COUNTER"): the response hands the user
-- back to this thread's free list, records the session cookie the first response set and the
-- counter the user saw. Each connection starts with a new user (its first request creates the
-- session); a user whose request never got a 200 back is not reused, a new one takes its place.
--
-- At the end, done() writes to the file named by $WRK_RESULT: the run's totals and one line per
-- user with its cookie and the last counter it saw, for the replica check.

local threads = {}
local count = 0

function setup(thread)
   count = count + 1
   thread:set("tid", count)
   table.insert(threads, thread)
end

function init(args)
   free = {}
   cookies = {}
   seen = {}
   bad = 0
   next_user = tid * 1000000
end

function request()
   local u = table.remove(free)
   if u == nil then
      next_user = next_user + 1
      u = next_user
   end
   local headers = {}
   if cookies[u] ~= nil then
      headers["Cookie"] = cookies[u]
   end
   return wrk.format("GET", "/bench/write?u=" .. u, headers)
end

function response(status, headers, body)
   local u, c = string.match(body or "", "^u=(%d+) c=(%d+)")
   if status ~= 200 or u == nil then
      bad = bad + 1
      return
   end
   u = tonumber(u)
   for name, value in pairs(headers) do
      if string.lower(name) == "set-cookie" then
         cookies[u] = string.match(value, "^([^;]+)")
      end
   end
   seen[u] = tonumber(c)
   table.insert(free, u)
end

function done(summary, latency, requests)
   local out = assert(io.open(os.getenv("WRK_RESULT"), "w"))
   local e = summary.errors
   out:write(string.format("requests\t%d\n", summary.requests))
   out:write(string.format("duration_us\t%d\n", summary.duration))
   out:write(string.format("errors\t%d\n", e.connect + e.read + e.write + e.status + e.timeout))
   out:write(string.format("p50_us\t%d\n", latency:percentile(50)))
   out:write(string.format("p99_us\t%d\n", latency:percentile(99)))
   out:write(string.format("max_us\t%d\n", latency.max))
   local bad = 0
   for _, t in ipairs(threads) do
      bad = bad + t:get("bad")
      local cookies = t:get("cookies")
      for u, c in pairs(t:get("seen")) do
         out:write(string.format("user\t%d\t%s\t%d\n", u, cookies[u] or "", c))
      end
   end
   out:write(string.format("bad_responses\t%d\n", bad))
   out:close()
end
