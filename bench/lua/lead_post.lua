-- lead_post.lua: anonymous POST /api/leads, a distinct email per request
-- ("wrk-<BENCH_RUN_ID>-<thread>-<n>@bench.example").  The other fields are
-- the ones bench/sql/pg_lead_insert.sql binds.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local run_id = os.getenv("BENCH_RUN_ID") or "0"
local n = 0
local headers = {["Content-Type"] = "application/json"}
local template = '{"name":"Bench Prospect","email":"wrk-%s-%d-%d@bench.example",'
    .. '"phone":"+1 555 0100","company":"Acme Benchmarks","jobTitle":"CTO",'
    .. '"message":"Please call me back about a project.","source":"REFERRAL",'
    .. '"utmSource":"newsletter","utmMedium":"email","utmCampaign":"spring",'
    .. '"landingPage":"https://www.example.com/contact"}'

function request()
    n = n + 1
    return wrk.format("POST", "/api/leads", headers,
                      template:format(run_id, thread_index or 0, n))
end

function response(status, headers, body)
    count_response(status)
end
