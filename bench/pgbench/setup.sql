-- Tables shaped like intake's (tokens, orders, items, outbox, idempotency records), for pgbench.
drop table if exists o, oi, ob, ik, tok;
create table tok (id bigserial primary key, token_hash text, abilities text, user_id bigint, last_used_at bigint);
insert into tok (token_hash, abilities, user_id) select md5(g::text), '["orders"]', g from generate_series(1, 1000) g;
create table o (id bigserial primary key, user_id bigint, client_identity text, client_contact_point text, content_hash text, created_at bigint, updated_at bigint);
create index on o (user_id, content_hash, created_at);
create table oi (id bigserial primary key, order_id bigint references o (id), position int, label text, kind text, cost_cents bigint, meta text, priority int, status text, details text, created_at bigint, updated_at bigint);
create index on oi (order_id, position);
create table ob (id bigserial primary key, queue text, payload text, headers text, priority int, created_at bigint, claimed_until bigint);
create index on ob (priority desc, id);
create table ik (id bigserial primary key, scope text, key text, fingerprint text, status_code int, response_body text, response_headers text, created_at bigint, expires_at bigint);
create unique index on ik (scope, key);
create index on ik (expires_at);
