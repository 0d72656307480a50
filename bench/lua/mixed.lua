-- mixed.lua: a weighted mix in a fixed cycle of ten requests:
--   4 x GET /auth/profile           (Bearer)
--   3 x GET /api/leads?page=1&limit=20  (Bearer)
--   1 x GET /health
--   2 x POST /api/leads             (anonymous, distinct emails)
-- BENCH_TOKEN is an ADMIN's access token.  With BENCH_STOP_AFTER set (the
-- long run) the thread stops after that many responses.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local run_id = os.getenv("BENCH_RUN_ID") or "0"
local n = 0
local cycle
local lead_headers = {["Content-Type"] = "application/json"}
local lead_template = '{"name":"Mixed Prospect","email":"mix-%s-%d-%d@bench.example",'
    .. '"company":"Acme Mixed","message":"Call me.","source":"ADS"}'

function init(args)
    local auth = {["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")}
    local profile = wrk.format("GET", "/auth/profile", auth)
    local list = wrk.format("GET", "/api/leads?page=1&limit=20", auth)
    local health = wrk.format("GET", "/health")
    -- false marks a lead POST (built per request: the email changes)
    cycle = {profile, list, profile, health, list, false,
             profile, list, profile, false}
end

function request()
    n = n + 1
    local r = cycle[(n - 1) % #cycle + 1]
    if r then
        return r
    end
    return wrk.format("POST", "/api/leads", lead_headers,
                      lead_template:format(run_id, thread_index or 0, n))
end

function response(status, headers, body)
    count_response(status)
end
