-- seed_users.sql: 1,000 users sharing one bcrypt hash (psql -v hash=...).
--
-- Ids are derived from the row number (md5('bench-user-N')::uuid) so the
-- other seed files and the Lua scripts can name a user without a lookup.
--   user1..user5      SUPER_ADMIN (user1 is the benchmark's admin caller)
--   user6..user30     ADMIN (lead assignees and consultants)
--   user31..user1000  USER; every fifth user above 950 is deactivated
-- Emails are userN@bench.example; every user's password is the one hashed.
INSERT INTO users (id, email, password_hash, name, company, phone, job_title,
                   role, email_verified, is_active, last_login_at,
                   created_at, updated_at)
SELECT md5('bench-user-' || i)::uuid,
       'user' || i || '@bench.example',
       :'hash',
       'Bench User ' || i,
       (ARRAY['Northwind', 'Globex', 'Initech', 'Umbrella', 'Hooli',
              'Stark Industries', 'Wayne Enterprises', 'Acme Corp'])[1 + i % 8],
       '+1 555 01' || lpad(i::text, 4, '0'),
       (ARRAY['Consultant', 'Account Manager', 'Analyst', 'Director'])[1 + i % 4],
       CASE WHEN i <= 5 THEN 'SUPER_ADMIN'
            WHEN i <= 30 THEN 'ADMIN'
            ELSE 'USER' END::lcrm_role,
       true,
       NOT (i > 950 AND i % 5 = 0),
       now() - (i % 90) * interval '1 day',
       now() - interval '730 days' + i * interval '17 hours',
       now() - interval '730 days' + i * interval '17 hours'
  FROM generate_series(1, 1000) AS i;
