-- 16 orders per transaction: what order.sql inserts per order (the order, 3 items of which 2 recurring, an outbox
-- row per recurring item, the idempotency record with a 600-byte response), x16, as multi-row INSERTs in one
-- statement (data-modifying CTEs), i.e. one transaction and one commit for 16 orders. There are no token or
-- idempotency SELECTs: in issue 11's design a verified token is cached in process and the idempotency lookup is
-- folded into the write (the claim is an INSERT ... ON CONFLICT DO NOTHING that takes the key). orders/s = tps x 16.
-- Each order has its own user, drawn as in order.sql.
\set u1 random(1, 1000)
\set u2 random(1, 1000)
\set u3 random(1, 1000)
\set u4 random(1, 1000)
\set u5 random(1, 1000)
\set u6 random(1, 1000)
\set u7 random(1, 1000)
\set u8 random(1, 1000)
\set u9 random(1, 1000)
\set u10 random(1, 1000)
\set u11 random(1, 1000)
\set u12 random(1, 1000)
\set u13 random(1, 1000)
\set u14 random(1, 1000)
\set u15 random(1, 1000)
\set u16 random(1, 1000)
WITH no AS (INSERT INTO o (user_id, client_identity, client_contact_point, content_hash, created_at, updated_at) VALUES (:u1, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u2, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u3, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u4, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u5, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u6, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u7, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u8, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u9, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u10, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u11, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u12, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u13, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u14, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u15, 'ACME', 'ops@acme', md5(random()::text), 1, 1), (:u16, 'ACME', 'ops@acme', md5(random()::text), 1, 1) RETURNING id),
 ni AS (INSERT INTO oi (order_id, position, label, kind, cost_cents, meta, priority, status, details, created_at, updated_at) SELECT no.id, v.p, v.l, v.k, 999, '{}', 2, v.s, null, 1, 1 FROM no CROSS JOIN (VALUES (0, 'a', 'recurring', 'received'), (1, 'b', 'single', 'completed'), (2, 'c', 'recurring', 'received')) v(p, l, k, s) RETURNING id, kind),
 nb AS (INSERT INTO ob (queue, payload, headers, priority, created_at) SELECT 'orders.integration', '{"itemId":' || ni.id || '}', '{}', 2, 1 FROM ni WHERE ni.kind = 'recurring' RETURNING id),
 nk AS (INSERT INTO ik (scope, key, fingerprint, status_code, response_body, response_headers, created_at, expires_at) VALUES ('user:' || :u1, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u2, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u3, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u4, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u5, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u6, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u7, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u8, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u9, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u10, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u11, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u12, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u13, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u14, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u15, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2), ('user:' || :u16, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2) ON CONFLICT (scope, key) DO NOTHING RETURNING id)
SELECT (SELECT count(*) FROM no) AS orders, (SELECT count(*) FROM ni) AS items, (SELECT count(*) FROM nb) AS outbox, (SELECT count(*) FROM nk) AS keys;
