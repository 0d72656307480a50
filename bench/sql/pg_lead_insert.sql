-- pgbench: what an anonymous POST /api/leads runs (sql_create in
-- mod_leadcrm/api/lcrm_leads.c), with the values bench/lua/lead_post.lua
-- sends, bound as parameters (pgbench -D name=... etc.; fields the body
-- leaves out are NULL, as the module binds them).  One difference: the
-- email is built in SQL from a random number, because a pgbench string
-- variable cannot change per transaction; the module binds it whole.
\set n random(1, 2000000000)
INSERT INTO leads (name, email, phone, company, job_title, message, source, utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, landing_page, user_id) VALUES (:name, 'pgbench' || :n || '@bench.example', :phone, :company, :job_title, :message, coalesce(CAST(:source AS lcrm_lead_source), 'WEBSITE'), :utm_source, :utm_medium, :utm_campaign, NULL, NULL, NULL, :landing_page, CAST(NULL AS uuid)) RETURNING id, lcrm_lead_json(leads);
