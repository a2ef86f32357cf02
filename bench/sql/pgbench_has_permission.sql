-- has_permission(user_id, tenant_id, permission) for a random membership;
-- 'projects.update' is granted by owner, admin and member, not by viewer
\set k random(1, 1000000)
SELECT has_permission(m.user_id, m.tenant_id, 'projects.update') FROM bench_members m WHERE m.n = :k;
