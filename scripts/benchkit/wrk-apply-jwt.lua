-- wrk script: POST applications as the users of a token file (couponctl
-- token --count N), one token per request in order, body {}: the gateway
-- takes the user from the verified token. Past the last token it starts
-- over (then the answers are 409s, counted as non-2xx).
function init(args)
  campaign = args[1]
  tokens = {}
  for line in io.lines(args[2]) do tokens[#tokens + 1] = line end
  counter = 0
end

function request()
  counter = counter + 1
  local token = tokens[(counter - 1) % #tokens + 1]
  return wrk.format("POST", "/api/v1/campaigns/" .. campaign .. "/applications",
                    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, "{}")
end
