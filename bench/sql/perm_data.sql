-- bench workload 5: 100,000 tenants and 1,000,000 memberships for has_permission() and the
-- RLS read, in a database at the RBAC schema whose catalogue and templates are synced
-- (`rbacmig seed` with the shipped rbac/). Run by bench/run.sh with psql -v rls=0|1
-- (1: the Supabase layer is present, so every user also goes into auth.users).
-- The tenants_seed_roles trigger gives the tenants their template roles and grants.
-- Tenants are md5('tenant-' || k)::uuid for k in 0..99,999 and users md5('user-' || k)::uuid
-- for k in 0..249,999 (each in 4 tenants on average), so that a client can name the ids of
-- membership i without asking the database: tenant i % 100,000, user i % 250,000.
-- bench_members numbers the memberships 1..1,000,000 for perm_latency.sql to pick from.
\set ON_ERROR_STOP 1
\if :rls
INSERT INTO auth.users (id) SELECT md5('user-' || k)::uuid FROM generate_series(0, 249999) k;
\endif
INSERT INTO tenants (id, slug, name)
SELECT md5('tenant-' || k)::uuid, 'perm-' || k, 'Tenant ' || k FROM generate_series(0, 99999) k;

-- membership i: tenant i mod 100,000, user i mod 250,000, the role of template
-- (i / 100,000) mod 4: never the same (tenant, user, role) twice
INSERT INTO memberships (tenant_id, user_id, role_id)
SELECT r.tenant_id, md5('user-' || (i % 250000))::uuid, r.id
FROM generate_series(0, 999999) i
JOIN roles r ON r.tenant_id = md5('tenant-' || (i % 100000))::uuid
            AND r.template = (ARRAY['owner', 'admin', 'member', 'viewer'])[1 + (i / 100000) % 4];

CREATE TABLE bench_members AS
SELECT (row_number() OVER ())::int AS n, tenant_id, user_id FROM memberships;
ALTER TABLE bench_members ADD PRIMARY KEY (n);
VACUUM ANALYZE;
SELECT (SELECT count(*) FROM tenants) || ' tenants, '
    || (SELECT count(*) FROM roles) || ' roles, '
    || (SELECT count(*) FROM role_permissions) || ' grants, '
    || (SELECT count(*) FROM memberships) || ' memberships' AS data;
