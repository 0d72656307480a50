-- 0046_inline_ts: lcrm_ts() inlined into the statements that call it
-- (issue 11, profile: "unneeded SQL work").
--
-- 0002 declared lcrm_ts IMMUTABLE, but its body calls to_char(), which is
-- only STABLE; PostgreSQL never inlines a SQL function whose body is more
-- volatile than its declaration, so every call ran as a separate SQL
-- function: its body parsed and planned on each execution of the calling
-- statement and a small executor started per call.  GET /auth/profile
-- renders three timestamps (lcrm_user_json), a page of leads several per
-- row.  Declared STABLE (its true volatility), the planner substitutes
-- the to_char() expression in place: the profile statement measured 2-4x
-- faster in pgbench.  The body is 0002's, unchanged; only IMMUTABLE became
-- STABLE (no index, constraint or generated column uses lcrm_ts).
CREATE OR REPLACE FUNCTION lcrm_ts(timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char($1::timestamptz(3) AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
