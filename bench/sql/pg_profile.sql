-- pgbench: what GET /auth/profile runs, statement for statement.
-- Variables (pgbench -D): sid, sub = the session id and user id of the
-- admin's access token.
-- 1. the Bearer session check (sql_session, mod_leadcrm/httpd/lcrm_authn.c)
SELECT u.role FROM sessions s JOIN users u ON u.id = s.user_id
 WHERE s.id = CAST(:sid AS uuid) AND s.user_id = CAST(:sub AS uuid)
   AND s.revoked_at IS NULL AND s.expires_at > now()
   AND u.deleted_at IS NULL AND u.is_active;
-- 2. the profile (sql_profile, mod_leadcrm/api/lcrm_auth.c)
SELECT lcrm_user_json(u) FROM users u WHERE u.id = CAST(:sub AS uuid)
   AND u.deleted_at IS NULL;
