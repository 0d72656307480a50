-- 0007_lead_email_lookup: booking links the newest live lead with the same
-- email.  With 1M leads the planner preferred walking the created_at index
-- (it keeps no statistics on partial expression indexes), so a booking for
-- a new email scanned the table until statement_timeout (bench/run).  An
-- index that serves the lookup and its order directly, plus statistics on
-- the expression, keep it an index probe.
CREATE INDEX leads_email_newest_idx
    ON leads (lower(email), created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE STATISTICS leads_lower_email_stats ON (lower(email)) FROM leads;
