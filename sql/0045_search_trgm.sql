-- 0045_search_trgm: the consultation list's search through a trigram index
-- (issue 11: "a trigram index per searched column set, used by the planner
-- for 3+ characters").
--
-- 0001 gave users and leads a GIN trigram index on the lowered, joined
-- search columns, and their list SQL repeats that exact expression.  The
-- consultation search matched lower(concat_ws(chr(10), name, email,
-- topic)), which no index can hold (concat_ws is only STABLE), so every
-- search read the whole table.  The list now matches the expression below
-- (name, email and topic are NOT NULL, so it equals the concat_ws text,
-- and a search value cannot contain the newline that joins them: the
-- result set is unchanged).  A query uses the index only when it repeats
-- this exact expression (api/lcrm_consultations.c).
CREATE INDEX consultations_search_trgm_idx
    ON consultations USING gin
       ((lower(name || chr(10) || email || chr(10) || topic)) gin_trgm_ops);
