-- wrk script: logged-in writers POST comments; every 303 names the comment it stored.
-- bench/scenarios.py prepends WRITERS, POST_ID, FORM_STARTED, COOKIE_NAME, PATH, ROUND and
-- RESULT_FILE; ROUND keeps each round's texts apart (the same text again would be a duplicate).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  counter = 0
  accepted = {}
  refused = {}
end

function request()
  counter = counter + 1
  local writer = WRITERS[(counter * 7 + thread_number) % #WRITERS + 1]
  local body = "csrf_token=" .. writer.token .. "&post_id=" .. POST_ID
    .. "&form_started=" .. FORM_STARTED
    .. "&comment=Benchmark+comment+" .. ROUND .. "-" .. thread_number .. "-" .. counter
  return wrk.format("POST", PATH, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = COOKIE_NAME .. "=" .. writer.cookie,
  }, body)
end

function response(status, headers, body)
  local id = string.match(headers["Location"] or "", "#comment%-(%d+)$")
  if status == 303 and id then
    accepted[#accepted + 1] = id
  else
    refused[#refused + 1] = tostring(status)
  end
end

function done(summary, latency, requests)
  local out = io.open(RESULT_FILE, "w")
  for _, thread in ipairs(threads) do
    for _, id in ipairs(thread:get("accepted")) do out:write("accepted ", id, "\n") end
    for _, status in ipairs(thread:get("refused")) do out:write("refused ", status, "\n") end
  end
  out:close()
end
