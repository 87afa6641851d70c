-- wrk script for `make bench`: one scenario per run, many users' tokens.
--   wrk -t1 -c32 -d5s -s bench/wrk.lua http://127.0.0.1:PORT -- <scenario> <users-file> [seed]
-- users-file: one line per user, "<jwt> <task id> <task id> ...".
-- Scenarios: health, list, poll_304 (the live board's poll when nothing changed: If-None-Match
-- "*", which the API answers as it does a matching ETag, after the same work), create, complete,
-- chat_add, chat_left, mixed (80 % list, 10 % create, 10 % complete). done() prints one line "BENCH_JSON {...}" that bench/run.py parses.

local scenario
local users = {}
local n_users = 0
local counter = 0

function setup(thread)
  thread:set("thread_index", counter)
  counter = counter + 1
end

function init(args)
  scenario = args[1]
  local f = assert(io.open(args[2], "r"))
  for line in f:lines() do
    local token, ids = nil, {}
    for word in line:gmatch("%S+") do
      if token == nil then token = word else ids[#ids + 1] = word end
    end
    if token ~= nil then
      n_users = n_users + 1
      users[n_users] = { auth = "Bearer " .. token, ids = ids }
    end
  end
  f:close()
  assert(n_users > 0, "no users in " .. args[2])
  math.randomseed(tonumber(args[3] or "1") * 1000 + (thread_index or 0))
end

local JSON = "application/json"
local sequence = 0

local function list(user)
  return wrk.format("GET", "/api/tasks", { ["Authorization"] = user.auth })
end

local function post(user, path, body)
  return wrk.format("POST", path, { ["Authorization"] = user.auth, ["Content-Type"] = JSON }, body)
end

local function create(user)
  sequence = sequence + 1
  return post(user, "/api/tasks", string.format(
    '{"title":"Bench task %d","description":"created by make bench","priority":"high",'
    .. '"tags":["bench","load"]}', sequence))
end

local function complete(user)
  local id = user.ids[math.random(#user.ids)]
  local done = math.random(2) == 1 and "true" or "false"
  return wrk.format("PATCH", "/api/tasks/" .. id,
    { ["Authorization"] = user.auth, ["Content-Type"] = JSON },
    '{"completed":' .. done .. '}')
end

local function chat(user, message)
  return post(user, "/api/chat", '{"message":"' .. message .. '"}')
end

function request()
  if scenario == "health" then
    return wrk.format("GET", "/health")
  end
  local user = users[math.random(n_users)]
  if scenario == "list" then
    return list(user)
  elseif scenario == "poll_304" then
    return wrk.format("GET", "/api/tasks", { ["Authorization"] = user.auth, ["If-None-Match"] = "*" })
  elseif scenario == "create" then
    return create(user)
  elseif scenario == "complete" then
    return complete(user)
  elseif scenario == "chat_add" then
    sequence = sequence + 1
    return chat(user, "add buy oat milk " .. sequence)
  elseif scenario == "chat_left" then
    return chat(user, "what's left?")
  elseif scenario == "mixed" then
    local r = math.random(10)
    if r <= 8 then return list(user) elseif r == 9 then return create(user) end
    return complete(user)
  end
  error("unknown scenario " .. tostring(scenario))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
    .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
    .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
