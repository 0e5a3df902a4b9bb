-- The PostgreSQL statements of one POST /api/orders in scale-out (3 items, 2 recurring): token, idempotency record, then one transaction.
\set uid random(1, 1000)
SELECT token_hash, abilities, user_id FROM tok WHERE id = :uid;
SELECT * FROM ik WHERE scope = 'user:' || :uid AND key = md5(random()::text);
BEGIN;
INSERT INTO o (user_id, client_identity, client_contact_point, content_hash, created_at, updated_at) VALUES (:uid, 'ACME', 'ops@acme', md5(random()::text), 1, 1) RETURNING *;
INSERT INTO oi (order_id, position, label, kind, cost_cents, meta, priority, status, details, created_at, updated_at) VALUES (currval('o_id_seq'), 0, 'a', 'recurring', 999, '{}', 2, 'received', null, 1, 1), (currval('o_id_seq'), 1, 'b', 'single', 999, '{}', 2, 'completed', null, 1, 1), (currval('o_id_seq'), 2, 'c', 'recurring', 999, '{}', 2, 'received', null, 1, 1) RETURNING *;
INSERT INTO ob (queue, payload, headers, priority, created_at) VALUES ('orders.integration', '{"itemId":1}', '{}', 2, 1), ('orders.integration', '{"itemId":3}', '{}', 2, 1);
INSERT INTO ik (scope, key, fingerprint, status_code, response_body, response_headers, created_at, expires_at) VALUES ('user:' || :uid, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2);
END;
