-- refresh.lua: POST /auth/refresh with rotating cookies.
--
-- BENCH_TOKENS_FILE holds one live refresh token per seeded session (more
-- sessions than connections).  Each request takes a token from the pool
-- and each response puts the rotated token from its Set-Cookie back, so
-- every token is presented exactly once (no reuse, no grace) and each
-- session's rotation chain keeps going.  wrk keeps one request in flight
-- per connection, so the pool never runs dry unless responses are lost; a
-- request made with an empty pool carries no cookie and counts as a 401.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local cookie_name = os.getenv("BENCH_COOKIE") or "leadcrm_refresh"
local pool, head, tail = {}, 1, 0
local pattern = cookie_name:gsub("%-", "%%-") .. "=([%w_%-]+)"

local function push(token)
    tail = tail + 1
    pool[tail] = token
end

function init(args)
    -- bench/run uses one wrk thread (-t1); several would share the tokens
    for line in io.lines(os.getenv("BENCH_TOKENS_FILE")) do
        push(line)
    end
end

function request()
    local headers = {}
    if head <= tail then
        headers["Cookie"] = cookie_name .. "=" .. pool[head]
        pool[head] = nil
        head = head + 1
    end
    return wrk.format("POST", "/auth/refresh", headers)
end

function response(status, headers, body)
    count_response(status)
    local set = headers["Set-Cookie"] or headers["set-cookie"]
    local token = set and set:match(pattern)
    if token then
        push(token)
    end
end
