-- get.lua: a fixed GET (the URL on wrk's command line), with
-- "Authorization: Bearer $BENCH_TOKEN" when that is set.  The request is
-- built once by wrk and responses are not parsed (lowest client cost), so
-- non-2xx is wrk's count of statuses > 399.
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
end
