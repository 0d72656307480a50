-- indexes_create.sql: re-creates the indexes indexes_drop.sql saved.
-- bench/run runs it twice at once, -v gin=true (the trigram index, the
-- slowest, single-threaded) and -v gin=false (the b-trees), one per core.
SET maintenance_work_mem = '256MB';
SELECT def FROM bench_saved_indexes
 WHERE (def LIKE '% USING gin %') = :gin
 ORDER BY name \gexec
