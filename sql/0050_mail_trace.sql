-- 0050_mail_trace: the trace context of the request that queued a mail
-- (issue 17: "child spans for ... SMTP delivery").
--
-- A mail is delivered by the worker long after the request that caused
-- it, outside any request.  So that its "smtp send" span still joins that
-- request's trace, the row keeps the request's W3C traceparent (trace id,
-- the request span as parent, the sampled flag).
--
-- Rows are written by triggers and functions (0015 and later), not by the
-- module's own SQL, so the value comes in as a column default: a recorded
-- request that may write sets the session setting lcrm.traceparent when it
-- takes its connection and resets it before the connection goes back
-- (httpd/lcrm_db.c); everywhere else (other requests, the worker, psql)
-- the setting is absent and the column NULL.  Token mails go through
-- mail_jobs first: the worker copies a job's value to the mail row it
-- makes.  The default accepts only the exact traceparent form, so a stray
-- setting can never make an insert fail.  No function is replaced; the
-- app role's table grants (0020) cover the new columns.

CREATE FUNCTION lcrm_trace_context() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT t FROM (SELECT current_setting('lcrm.traceparent', true) AS t) s
     WHERE t ~ '^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$'
$$;

ALTER TABLE mail_outbox ADD COLUMN traceparent text
    DEFAULT lcrm_trace_context();
ALTER TABLE mail_jobs ADD COLUMN traceparent text
    DEFAULT lcrm_trace_context();
