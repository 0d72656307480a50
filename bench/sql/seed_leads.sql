-- seed_leads.sql: :leads leads (psql -v leads=N; bench/run passes
-- BENCH_LEADS, 1,000,000 by default) over the last two years (one INSERT).
--
-- Distribution (by uniform random draws, seeded for repeatability):
--   status  NEW 30%, CONTACTED 20%, QUALIFIED 15%, PROPOSAL 10%,
--           CONVERTED 15% (converted_at 0..60 days after creation),
--           LOST 10% (with a lost_reason)
--   source  WEBSITE 35%, REFERRAL 15%, SOCIAL 15%, EMAIL 10%, ADS 15%,
--           EVENT 5%, OTHER 5%
--   40% assigned to an ADMIN (user2..user30), 10% owned by a USER
--   (user31..user950), 1% soft-deleted, company NULL for 10%;
--   2 of the 40 companies contain "acme" (the search scenario's term).
-- Ids are md5('bench-lead-N')::uuid, emails leadN@<domain>.
SELECT setseed(0.42);

INSERT INTO leads (id, name, email, phone, company, job_title, message,
                   source, utm_source, utm_medium, utm_campaign, landing_page,
                   status, score, estimated_value, assigned_to_id, user_id,
                   lost_reason, converted_at, created_at, updated_at,
                   deleted_at)
SELECT md5('bench-lead-' || i)::uuid,
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
       (ARRAY['CTO', 'Head of Sales', 'Founder', 'Operations Manager',
              'Marketing Lead', NULL])[1 + i % 6],
       'We would like to talk about a consultancy project (request '
         || i || ').',
       CASE WHEN r.source < 0.35 THEN 'WEBSITE'
            WHEN r.source < 0.50 THEN 'REFERRAL'
            WHEN r.source < 0.65 THEN 'SOCIAL'
            WHEN r.source < 0.75 THEN 'EMAIL'
            WHEN r.source < 0.90 THEN 'ADS'
            WHEN r.source < 0.95 THEN 'EVENT'
            ELSE 'OTHER' END::lcrm_lead_source,
       CASE WHEN i % 3 = 0 THEN 'newsletter' END,
       CASE WHEN i % 3 = 0 THEN 'email' END,
       CASE WHEN i % 3 = 0 THEN 'campaign-' || (i % 12) END,
       'https://www.example.com/contact',
       s.status,
       CASE WHEN i % 4 = 0 THEN NULL ELSE (i * 7) % 101 END,
       CASE WHEN i % 5 = 0 THEN NULL ELSE ((i * 13) % 500000) * 1.25 END,
       CASE WHEN r.assigned < 0.40
            THEN md5('bench-user-' || (2 + floor(r.who * 29)::int))::uuid END,
       CASE WHEN r.owned < 0.10
            THEN md5('bench-user-' || (31 + floor(r.who * 920)::int))::uuid END,
       CASE WHEN s.status = 'LOST'
            THEN (ARRAY['Budget', 'Chose a competitor', 'No response',
                        'Timing'])[1 + i % 4] END,
       CASE WHEN s.status = 'CONVERTED'
            THEN least(now(), t.created + r.convert * interval '60 days') END,
       t.created,
       CASE WHEN s.status = 'CONVERTED'
            THEN least(now(), t.created + r.convert * interval '60 days')
            ELSE t.created END,
       CASE WHEN r.deleted < 0.01 THEN t.created + interval '1 hour' END
  FROM generate_series(1, :leads) AS i
 CROSS JOIN LATERAL (SELECT random() AS st, random() AS source,
                            random() AS pick, random() AS company,
                            random() AS assigned, random() AS owned,
                            random() AS who, random() AS convert,
                            random() AS deleted,
                            random() AS age, i AS dep) AS r
 CROSS JOIN LATERAL (SELECT now() - r.age * interval '730 days' AS created)
       AS t
 CROSS JOIN LATERAL (SELECT CASE WHEN r.st < 0.30 THEN 'NEW'
                                 WHEN r.st < 0.50 THEN 'CONTACTED'
                                 WHEN r.st < 0.65 THEN 'QUALIFIED'
                                 WHEN r.st < 0.75 THEN 'PROPOSAL'
                                 WHEN r.st < 0.90 THEN 'CONVERTED'
                                 ELSE 'LOST' END::lcrm_lead_status AS status)
       AS s;
