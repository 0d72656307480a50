-- login.lua: POST /auth/login, cycling over the seeded users user31 ..
-- user950 (all active, all with the password in BENCH_PASSWORD), so each
-- request updates a different user's last_login_at.  Every success spends
-- one bcrypt verification (cost 10) and opens a session.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local password = os.getenv("BENCH_PASSWORD")
local n = 0
local headers = {["Content-Type"] = "application/json"}

function request()
    local user = 31 + n % 920
    n = n + 1
    return wrk.format("POST", "/auth/login", headers, string.format(
        '{"email":"user%d@bench.example","password":"%s"}', user, password))
end

function response(status, headers, body)
    count_response(status)
end
