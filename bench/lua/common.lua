-- common.lua: shared by every scenario script (each starts with
--   dofile(os.getenv("BENCH_LUA") .. "/common.lua")).
--
-- It keeps a handle on every wrk thread (setup) so that done() can read
-- the per-thread counters, counts non-2xx answers for scripts that look at
-- responses, and prints ONE machine-readable line at the end:
--   BENCH_RESULT {"requests":..,"rps":..,"p50_ms":..,...}
-- which bench/run collects.  Environment: BENCH_STOP_AFTER (end the run
-- after that many responses, -d being only the upper bound; the long run).

local threads = {}

function setup(thread)
    thread:set("thread_index", #threads)
    table.insert(threads, thread)
end

-- Per-thread globals (thread:get can read globals only).
non2xx = 0
responses = 0
lua_counts = false       -- true once a script counts responses itself
status_counts = {}
stop_after = tonumber(os.getenv("BENCH_STOP_AFTER") or "")

-- Call from response(): counts the status and honours BENCH_STOP_AFTER.
function count_response(status)
    lua_counts = true
    responses = responses + 1
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
        local k = tostring(status)
        status_counts[k] = (status_counts[k] or 0) + 1
    end
    if stop_after and responses == stop_after then
        stop_wrk()
    end
end

-- Stops this run now.  thread:stop() alone ends the thread but wrk's main
-- thread still sleeps out -d; SIGINT (wrk's own "stop and report") ends
-- that sleep.  io.popen, not os.execute: system() ignores SIGINT in the
-- caller while the command runs, so the signal would be lost.
function stop_wrk()
    wrk.thread:stop()
    local stat = io.open("/proc/self/stat")
    local pid = stat:read("*n")
    stat:close()
    io.popen("kill -INT " .. pid):close()
end

local function ms(us)
    return string.format("%.3f", us / 1000)
end

function done(summary, latency, requests)
    local counted, non2xx_total, statuses = false, 0, {}
    for _, t in ipairs(threads) do
        if t:get("lua_counts") then
            counted = true
            non2xx_total = non2xx_total + t:get("non2xx")
            for k, v in pairs(t:get("status_counts")) do
                statuses[k] = (statuses[k] or 0) + v
            end
        end
    end
    if not counted then
        -- wrk's own count: HTTP statuses > 399 (no endpoint answers 3xx)
        non2xx_total = summary.errors.status
    end
    local parts = {}
    for k, v in pairs(statuses) do
        table.insert(parts, string.format('"%s":%d', k, v))
    end
    local e = summary.errors
    local secs = summary.duration / 1e6
    io.write(string.format(
        'BENCH_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,' ..
        '"p50_ms":%s,"p90_ms":%s,"p99_ms":%s,"max_ms":%s,' ..
        '"socket_errors":%d,"timeouts":%d,"non2xx":%d,' ..
        '"non2xx_by_status":{%s}}\n',
        summary.requests, secs, summary.requests / secs,
        ms(latency:percentile(50)), ms(latency:percentile(90)),
        ms(latency:percentile(99)), ms(latency.max),
        e.connect + e.read + e.write + e.timeout, e.timeout, non2xx_total,
        table.concat(parts, ",")))
end
