-- Keyset-friendly filter indexes for the lead list (issue 11), as 0005 did
-- for status.  The list
-- (and its cursors, and the export's batches) orders by
-- (created_at DESC, id DESC) within a filter; 0001's filter indexes stop at
-- created_at, so ties needed a sort step and a cursor's row comparison
-- (created_at, id) < (...) could not be an index bound.  Each index below
-- replaces its 0001 counterpart (same leading columns, id appended), so no
-- query loses an index.
CREATE INDEX leads_source_created_id_idx
    ON leads (source, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX leads_assigned_to_created_id_idx
    ON leads (assigned_to_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX leads_user_created_id_idx
    ON leads (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
DROP INDEX leads_source_created_at_idx;
DROP INDEX leads_assigned_to_created_at_idx;
DROP INDEX leads_user_created_at_idx;
