-- the floor under has_permission: pick a random membership (what pgbench_has_permission.sql
-- does besides calling the function)
\set k random(1, 1000000)
SELECT m.user_id, m.tenant_id FROM bench_members m WHERE m.n = :k;
