-- health_probe.lua: GET /health about every 20 ms on one connection, run
-- beside the login scenario to show bcrypt does not stall other requests.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

function delay()
    return 20
end

function response(status, headers, body)
    count_response(status)
end
