-- consultation_post.lua: anonymous POST /api/consultations, every request
-- a different free slot: 30-minute slots on weekdays 09:00-16:30 UTC (the
-- default business hours), from 35 days ahead (past the seeded
-- consultations) to 175 days ahead (inside the 180-day horizon), rotating
-- over the consultants in BENCH_CONSULTANTS (comma-separated user ids).
-- Request n takes consultant n % C and slot floor(n / C), so no two
-- requests of a run ever ask for the same consultant and time.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local run_id = os.getenv("BENCH_RUN_ID") or "0"
local consultants = {}
local slots = {}          -- epoch seconds of every bookable slot start
local n = 0
local headers = {["Content-Type"] = "application/json"}
local template = '{"name":"Bench Booker","email":"book-%s-%d-%d@bench.example",'
    .. '"topic":"Benchmark consultation","scheduledAt":"%s",'
    .. '"durationMinutes":30,"consultantId":"%s"}'

function init(args)
    for id in (os.getenv("BENCH_CONSULTANTS") or ""):gmatch("[^,]+") do
        table.insert(consultants, id)
    end
    local today = os.time() - os.time() % 86400     -- 00:00 UTC today
    for day = 35, 175 do
        local midnight = today + day * 86400
        local wday = os.date("!*t", midnight).wday    -- 1 = Sunday
        if wday ~= 1 and wday ~= 7 then
            for half = 0, 15 do
                table.insert(slots, midnight + 9 * 3600 + half * 1800)
            end
        end
    end
end

function request()
    local c = #consultants
    local slot = slots[math.floor(n / c) % #slots + 1]
    local body = template:format(run_id, thread_index or 0, n,
        os.date("!%Y-%m-%dT%H:%M:%S.000Z", slot), consultants[n % c + 1])
    n = n + 1
    return wrk.format("POST", "/api/consultations", headers, body)
end

function response(status, headers, body)
    count_response(status)
end
