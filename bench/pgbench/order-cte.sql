-- The same order as order.sql, its writes folded into one statement (data-modifying CTEs): 3 round trips instead of 8.
\set uid random(1, 1000)
SELECT token_hash, abilities, user_id FROM tok WHERE id = :uid;
SELECT * FROM ik WHERE scope = 'user:' || :uid AND key = md5(random()::text);
WITH no AS (INSERT INTO o (user_id, client_identity, client_contact_point, content_hash, created_at, updated_at) VALUES (:uid, 'ACME', 'ops@acme', md5(random()::text), 1, 1) RETURNING *),
 ni AS (INSERT INTO oi (order_id, position, label, kind, cost_cents, meta, priority, status, details, created_at, updated_at) SELECT no.id, v.p, v.l, v.k, 999, '{}', 2, v.s, null, 1, 1 FROM no, (VALUES (0,'a','recurring','received'),(1,'b','single','completed'),(2,'c','recurring','received')) v(p,l,k,s) RETURNING *),
 nb AS (INSERT INTO ob (queue, payload, headers, priority, created_at) SELECT 'orders.integration', '{"itemId":' || ni.id || '}', '{}', 2, 1 FROM ni WHERE ni.kind = 'recurring'),
 nk AS (INSERT INTO ik (scope, key, fingerprint, status_code, response_body, response_headers, created_at, expires_at) VALUES ('user:' || :uid, md5(random()::text), 'f', 201, repeat('x', 600), '{}', 1, 2))
SELECT (SELECT row_to_json(no) FROM no), (SELECT json_agg(ni) FROM ni);
