-- seed_consultations.sql: 100,000 consultations (one INSERT).
--
-- Consultation k (0-based) belongs to consultant user(6 + k % 25) (the 25
-- ADMINs) and sits in that consultant's slot k / 25 of a 4-hour grid that
-- starts 640 days ago and ends about 26 days ahead; each lasts 30 or 60
-- minutes, so no two of one consultant ever overlap and the exclusion
-- constraint holds whatever their status.  Past ones are mostly COMPLETED
-- (some CANCELLED, NO_SHOW, CONFIRMED), future ones SCHEDULED, CONFIRMED or
-- CANCELLED.  The booking scenario books 35+ days ahead, so its slots are
-- free.  Each is linked to lead 10k+1 (taken modulo the lead count :leads,
-- psql -v leads=N, when fewer than 1,000,000 leads are seeded) and carries
-- that lead's email.
SELECT setseed(0.17);

INSERT INTO consultations (id, lead_id, consultant_id, name, email, topic,
                           scheduled_at, duration_minutes, meeting_type,
                           status, cancellation_reason, cancelled_at,
                           completed_at, created_at, updated_at)
SELECT md5('bench-consultation-' || k)::uuid,
       md5('bench-lead-' || ((10 * k) % :leads + 1))::uuid,
       md5('bench-user-' || (6 + k % 25))::uuid,
       'Bench Client ' || k,
       'lead' || ((10 * k) % :leads + 1) || '@' ||
       (ARRAY['example.com', 'example.org', 'mail.example', 'corp.example',
              'shop.example', 'eu.example', 'startup.example',
              'bigco.example'])[1 + ((10 * k) % :leads + 1) % 8],
       (ARRAY['Cloud migration', 'Data strategy', 'Security review',
              'Hiring plan', 'Pricing'])[1 + k % 5],
       g.at,
       CASE WHEN k % 3 = 0 THEN 60 ELSE 30 END,
       (ARRAY['VIDEO', 'PHONE', 'IN_PERSON'])[1 + k % 3]::lcrm_meeting_type,
       s.status,
       CASE WHEN s.status = 'CANCELLED' THEN 'Client rescheduled' END,
       CASE WHEN s.status = 'CANCELLED' THEN g.at - interval '1 day' END,
       CASE WHEN s.status = 'COMPLETED' THEN g.at + interval '1 hour' END,
       g.at - interval '14 days',
       g.at - interval '14 days'
  FROM generate_series(0, 99999) AS k
 CROSS JOIN LATERAL (SELECT date_trunc('hour', now()) - interval '640 days'
                            + (k / 25) * interval '4 hours' AS at,
                            random() AS r, k AS dep) AS g
 CROSS JOIN LATERAL (SELECT CASE
            WHEN g.at < now() THEN
                CASE WHEN g.r < 0.70 THEN 'COMPLETED'
                     WHEN g.r < 0.85 THEN 'CANCELLED'
                     WHEN g.r < 0.95 THEN 'NO_SHOW'
                     ELSE 'CONFIRMED' END
            ELSE
                CASE WHEN g.r < 0.60 THEN 'SCHEDULED'
                     WHEN g.r < 0.90 THEN 'CONFIRMED'
                     ELSE 'CANCELLED' END
            END::lcrm_consultation_status AS status) AS s;
