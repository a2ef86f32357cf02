-- Isolation between tenants: a signed-in user reads only the tenants they belong to and
-- those tenants' roles, grants and memberships; anon reads nothing; a removed member
-- loses access at once. Needs the RBAC migration applied on Supabase (or on the fixture,
-- 00_supabase_fixture.sql) and `rbacmig seed` run. Everything is rolled back.
BEGIN;
SELECT plan(30);

-- alice owns acme, bob is a viewer in acme, carol owns globex, erin belongs to no tenant.
INSERT INTO auth.users (id, email) VALUES
  ('00000000-0000-4000-8000-0000000000a1', 'alice@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a2', 'bob@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a3', 'carol@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a5', 'erin@rbac.pgtap.test');
INSERT INTO tenants (id, slug, name) VALUES
  ('11111111-0000-4000-8000-000000000001', 'pgtap-acme', 'Acme'),
  ('22222222-0000-4000-8000-000000000002', 'pgtap-globex', 'Globex');
INSERT INTO memberships (tenant_id, user_id, role_id)
SELECT r.tenant_id, m.user_id::uuid, r.id
FROM (VALUES ('11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a1', 'owner'),
             ('11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a2', 'viewer'),
             ('22222222-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a3', 'owner'))
     AS m(tenant_id, user_id, template)
JOIN roles r ON r.tenant_id = m.tenant_id::uuid AND r.template = m.template;

-- ---- bob, a viewer in acme ------------------------------------------------------------
SET LOCAL ROLE authenticated;
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a2", "role": "authenticated"}';

SELECT results_eq('SELECT slug FROM tenants ORDER BY slug', ARRAY['pgtap-acme'],
  'bob sees exactly his own tenant');
SELECT is_empty($$SELECT 1 FROM tenants WHERE id = '22222222-0000-4000-8000-000000000002'$$,
  'bob cannot see globex even by id');
SELECT results_eq('SELECT DISTINCT tenant_id FROM roles',
  $$VALUES ('11111111-0000-4000-8000-000000000001'::uuid)$$, 'bob sees only acme''s roles');
SELECT is((SELECT count(*) FROM roles), 4::bigint, 'bob sees acme''s four template roles');
SELECT results_eq('SELECT DISTINCT tenant_id FROM role_permissions',
  $$VALUES ('11111111-0000-4000-8000-000000000001'::uuid)$$, 'bob sees only acme''s grants');
SELECT results_eq('SELECT user_id FROM memberships ORDER BY user_id',
  $$VALUES ('00000000-0000-4000-8000-0000000000a1'::uuid), ('00000000-0000-4000-8000-0000000000a2'::uuid)$$,
  'bob sees acme''s two memberships and no others');
SELECT ok((SELECT count(*) FROM permissions) > 0, 'bob reads the permission catalogue');
SELECT ok((SELECT count(*) FROM role_templates) > 0, 'bob reads the role templates');
SELECT ok((SELECT count(*) FROM role_template_permissions) > 0, 'bob reads the template grants');
SELECT is_empty($$UPDATE tenants SET name = 'pwned' WHERE id = '22222222-0000-4000-8000-000000000002' RETURNING id$$,
  'bob cannot rename globex');
SELECT is_empty($$UPDATE tenants SET name = 'pwned' WHERE id = '11111111-0000-4000-8000-000000000001' RETURNING id$$,
  'bob (no tenants.update) cannot rename acme');
SELECT is_empty($$DELETE FROM memberships WHERE tenant_id = '22222222-0000-4000-8000-000000000002' RETURNING user_id$$,
  'bob cannot delete globex''s memberships');
SELECT is_empty($$DELETE FROM tenants RETURNING id$$, 'bob (no tenants.delete) cannot delete any tenant');

-- ---- carol, the owner of globex ---------------------------------------------------------
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a3", "role": "authenticated"}';
SELECT results_eq('SELECT slug FROM tenants ORDER BY slug', ARRAY['pgtap-globex'],
  'carol sees exactly her own tenant');
SELECT results_eq('SELECT user_id FROM memberships',
  $$VALUES ('00000000-0000-4000-8000-0000000000a3'::uuid)$$, 'carol sees only globex''s membership');
SELECT is_empty($$SELECT 1 FROM roles WHERE tenant_id = '11111111-0000-4000-8000-000000000001'$$,
  'carol cannot see acme''s roles');

-- ---- erin, in no tenant; and a request without a user ------------------------------------
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a5", "role": "authenticated"}';
SELECT is_empty('SELECT 1 FROM tenants', 'erin sees no tenant');
SELECT is_empty('SELECT 1 FROM roles UNION ALL SELECT 1 FROM role_permissions UNION ALL SELECT 1 FROM memberships',
  'erin sees no role, grant or membership');
SET LOCAL request.jwt.claims = '{"role": "authenticated"}';
SELECT is_empty('SELECT 1 FROM permissions UNION ALL SELECT 1 FROM role_templates',
  'authenticated without a user id reads not even the catalogue');

-- ---- anon -----------------------------------------------------------------------------
-- Refused for want of a privilege on the table, or, when the RBAC tables live in a schema
-- other than public, on the schema itself.
SET LOCAL ROLE anon;
SET LOCAL request.jwt.claims = '{"role": "anon"}';
SELECT throws_matching(format('SELECT * FROM %I', t), '^permission denied|does not exist',
                       format('anon cannot read %s', t))
FROM unnest(ARRAY['tenants', 'permissions', 'role_templates', 'role_template_permissions', 'roles',
                  'role_permissions', 'memberships']) AS t;
SELECT throws_matching($$INSERT INTO memberships (tenant_id, user_id, role_id)
                        SELECT '11111111-0000-4000-8000-000000000001',
                               '00000000-0000-4000-8000-0000000000a5', gen_random_uuid()$$,
  '^permission denied|does not exist', 'anon cannot insert a membership');

-- ---- what the attempts left, and removal taking effect at once ------------------------
RESET ROLE;
SELECT results_eq('SELECT name FROM tenants WHERE slug LIKE $p$pgtap-%$p$ ORDER BY slug',
  ARRAY['Acme', 'Globex'], 'no tenant was renamed');
SELECT is((SELECT count(*) FROM memberships WHERE tenant_id IN
            ('11111111-0000-4000-8000-000000000001', '22222222-0000-4000-8000-000000000002')),
  3::bigint, 'no membership was deleted');

DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a2';
SET LOCAL ROLE authenticated;
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a2", "role": "authenticated"}';
SELECT is_empty('SELECT 1 FROM tenants UNION ALL SELECT 1 FROM memberships',
  'bob, removed from acme, sees nothing in the same transaction');

SELECT * FROM finish();
ROLLBACK;
