-- peer_seed.sql: seeds the Express + Prisma peer's database (its own
-- schema, prisma/migrations/0001_init) like seed_users.sql and
-- seed_leads.sql seed ours, so both serve the same data
-- (psql -v hash=... -v leads=N; bench/peer.sh runs it).
--
--   users  user1..user1000@bench.example sharing one bcrypt hash of the
--          benchmark password; user1..5 SUPER_ADMIN, 6..30 ADMIN, the rest
--          USER, every fifth user above 950 inactive (as ours).
--   leads  :leads rows, the same draws as seed_leads.sql (same seed, same
--          order of random() calls): status NEW 30%, CONTACTED 20%,
--          QUALIFIED 15%, PROPOSAL 10%, CONVERTED 15%, LOST 10%, where the
--          peer has no PROPOSAL: those 10% are CONTACTED; source WEBSITE 35%,
--          REFERRAL 15%, SOCIAL 15%, EMAIL 10%, ADS 15%, EVENT 5%,
--          OTHER 5%; created over the last 730 days; company NULL for
--          10%.  The peer has no soft delete: the 1% ours marks deleted
--          are plain rows here.
-- The lead indexes are dropped for the load and rebuilt after it (as
-- Prisma's migration names them).
INSERT INTO users (id, email, password, name, role, "isActive",
                   "createdAt", "updatedAt")
SELECT md5('bench-user-' || i)::uuid::text,
       'user' || i || '@bench.example',
       :'hash',
       'Bench User ' || i,
       CASE WHEN i <= 5 THEN 'SUPER_ADMIN'
            WHEN i <= 30 THEN 'ADMIN'
            ELSE 'USER' END::"Role",
       NOT (i > 950 AND i % 5 = 0),
       now() - interval '730 days' + i * interval '17 hours',
       now() - interval '730 days' + i * interval '17 hours'
  FROM generate_series(1, 1000) AS i;

ALTER TABLE leads DROP CONSTRAINT leads_pkey;
DROP INDEX leads_status_idx;
DROP INDEX "leads_createdAt_idx";

SELECT setseed(0.42);

INSERT INTO leads (id, name, email, phone, company, message, source, status,
                   "createdAt", "updatedAt")
SELECT md5('bench-lead-' || i)::uuid::text,
       (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Ken',
              'Dennis', 'Margaret', 'Linus', 'Guido', 'Frances', 'John',
              'Radia', 'Tim', 'Sophie', 'Niklaus', 'Leslie', 'Hedy',
              'Katherine'])[1 + i % 20]
         || ' ' ||
       (ARRAY['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth',
              'Thompson', 'Ritchie', 'Hamilton', 'Torvalds', 'Rossum',
              'Allen', 'McCarthy', 'Perlman', 'Berners-Lee', 'Wilson',
              'Wirth', 'Lamport', 'Lamarr', 'Johnson', 'Backus', 'Kay',
              'Cerf', 'Kahn', 'Hoare'])[1 + (i / 20) % 25],
       'lead' || i || '@' ||
       (ARRAY['example.com', 'example.org', 'mail.example', 'corp.example',
              'shop.example', 'eu.example', 'startup.example',
              'bigco.example'])[1 + i % 8],
       '+44 20 7946 ' || lpad((i % 10000)::text, 4, '0'),
       CASE WHEN r.company < 0.10 THEN NULL ELSE
       (ARRAY['Northwind Traders', 'Globex', 'Initech', 'Umbrella Health',
              'Hooli', 'Stark Industries', 'Wayne Enterprises', 'Acme Corp',
              'Cyberdyne', 'Soylent', 'Tyrell', 'Wonka Industries',
              'Aperture Labs', 'Black Mesa', 'Massive Dynamic', 'Vandelay',
              'Gringotts', 'Oscorp', 'Monarch Solutions', 'Blue Sun',
              'Pied Piper', 'Dunder Mifflin', 'Prestige Worldwide',
              'Bluth Company', 'Los Pollos', 'Sterling Cooper', 'Gekko & Co',
              'Virtucon', 'Nakatomi Trading', 'Weyland', 'Oceanic',
              'Duff Brewing', 'Krusty Brands', 'Acme Logistics', 'Contoso',
              'Fabrikam', 'Tailspin Toys', 'Woodgrove Bank', 'Litware',
              'Proseware'])[1 + floor(r.pick * 40)::int] END,
       'We would like to talk about a consultancy project (request '
         || i || ').',
       CASE WHEN r.source < 0.35 THEN 'WEBSITE'
            WHEN r.source < 0.50 THEN 'REFERRAL'
            WHEN r.source < 0.65 THEN 'SOCIAL'
            WHEN r.source < 0.75 THEN 'EMAIL'
            WHEN r.source < 0.90 THEN 'ADS'
            WHEN r.source < 0.95 THEN 'EVENT'
            ELSE 'OTHER' END,
       CASE WHEN r.st < 0.30 THEN 'NEW'
            WHEN r.st < 0.50 THEN 'CONTACTED'
            WHEN r.st < 0.65 THEN 'QUALIFIED'
            WHEN r.st < 0.75 THEN 'CONTACTED'
            WHEN r.st < 0.90 THEN 'CONVERTED'
            ELSE 'LOST' END::"LeadStatus",
       t.created, t.created
  FROM generate_series(1, :leads) AS i
 CROSS JOIN LATERAL (SELECT random() AS st, random() AS source,
                            random() AS pick, random() AS company,
                            random() AS assigned, random() AS owned,
                            random() AS who, random() AS convert,
                            random() AS deleted,
                            random() AS age, i AS dep) AS r
 CROSS JOIN LATERAL (SELECT now() - r.age * interval '730 days' AS created)
       AS t;

ALTER TABLE leads ADD CONSTRAINT leads_pkey PRIMARY KEY (id);
CREATE INDEX leads_status_idx ON leads (status);
CREATE INDEX "leads_createdAt_idx" ON leads ("createdAt");
VACUUM ANALYZE users, leads, refresh_tokens;
