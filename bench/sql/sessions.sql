-- sessions.sql: :n login sessions for the refresh scenario, each with one
-- live refresh token, exactly as lcrm_session_open() (sql/0003_auth.sql)
-- leaves them after a login; prints the tokens, one a line.
-- Tokens are 43 base64url characters (the module's shape) derived from
-- :'salt'; the database keeps only their SHA-256, like the module.
CREATE TEMP TABLE bench_tokens AS
SELECT s, md5('bench-session-' || :'salt' || s)::uuid AS session_id,
       md5('bench-user-' || (100 + s))::uuid AS user_id,
       translate(rtrim(encode(sha256(convert_to('bench-refresh-' || :'salt'
                                                || s, 'UTF8')), 'base64'),
                       '='), '+/', '-_') AS token
  FROM generate_series(1, :n) AS s;

INSERT INTO sessions (id, user_id, expires_at, user_agent, client_ip)
SELECT session_id, user_id, now() + interval '7 days', 'bench', '127.0.0.1'
  FROM bench_tokens;
INSERT INTO refresh_tokens (session_id, token_hash)
SELECT session_id, sha256(convert_to(token, 'UTF8')) FROM bench_tokens;

SELECT token FROM bench_tokens ORDER BY s;
