-- wrk script: POST applications with a fresh userId per request, so every
-- request does the whole apply path (Lua decision, produce, delivery report).
local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  campaign = args[1]
  counter = 0
  -- args[2]: a second wrk beside this one passes another number, so their users differ.
  base = (thread_index + 1 + 100 * (tonumber(args[2]) or 0)) * 1000000000
end

function request()
  counter = counter + 1
  local body = '{"userId":' .. (base + counter) .. '}'
  return wrk.format("POST", "/api/v1/campaigns/" .. campaign .. "/applications",
                    { ["Content-Type"] = "application/json" }, body)
end
