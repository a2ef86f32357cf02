-- has_permission: the two-argument form answers for the current user (auth.uid()) only and
-- reads the tables on every call, so a change takes effect at once; the three-argument form
-- (any user) is closed to anon and authenticated, and nothing else of the RBAC layer is open
-- to anon. Needs the RBAC migration applied on Supabase (or the fixture) and `rbacmig seed`.
BEGIN;
SELECT plan(23);

-- acme: alice owner, bob viewer. globex: carol owner.
INSERT INTO auth.users (id, email) VALUES
  ('00000000-0000-4000-8000-0000000000a1', 'alice@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a2', 'bob@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a3', 'carol@rbac.pgtap.test');
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

SELECT ok(has_permission('00000000-0000-4000-8000-0000000000a2', '11111111-0000-4000-8000-000000000001', 'projects.read'),
  'the backend asks about any user with has_permission(user_id, tenant_id, permission)');

-- ---- bob ------------------------------------------------------------------------------------
SET LOCAL ROLE authenticated;
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a2", "role": "authenticated"}';
SELECT ok(has_permission('11111111-0000-4000-8000-000000000001', 'projects.read'), 'a viewer may read projects');
SELECT ok(NOT has_permission('11111111-0000-4000-8000-000000000001', 'projects.update'), 'a viewer may not update them');
SELECT ok(NOT has_permission('22222222-0000-4000-8000-000000000002', 'projects.read'), 'nothing in a tenant one is not in');
SELECT ok(NOT has_permission('11111111-0000-4000-8000-000000000001', 'no_such.permission'), 'an unknown permission is denied');
SELECT ok(NOT coalesce(has_permission(NULL, 'projects.read'), false), 'no tenant, no permission');
SELECT results_eq('SELECT rbac_private.member_tenants()',
  $$VALUES ('11111111-0000-4000-8000-000000000001'::uuid)$$, 'the policy helpers answer for auth.uid()');
SELECT is_empty($$SELECT rbac_private.permitted_tenants('billing.manage')$$, 'and only for it');
SELECT throws_ok($$SELECT has_permission('00000000-0000-4000-8000-0000000000a1'::uuid,
                                         '11111111-0000-4000-8000-000000000001'::uuid, 'billing.manage')$$,
  '42501', 'permission denied for function has_permission', 'authenticated cannot ask about another user');
SELECT throws_ok('SELECT rbac_private.keep_last_owner()', '42501', NULL,
  'authenticated cannot call the last-owner trigger function');

-- ---- alice, and a request without a user --------------------------------------------------------
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a1", "role": "authenticated"}';
SELECT ok(has_permission('11111111-0000-4000-8000-000000000001', 'billing.manage'), 'the owner may manage billing');
SELECT ok(NOT has_permission('22222222-0000-4000-8000-000000000002', 'billing.manage'), 'but not in another tenant');
SET LOCAL request.jwt.claims = '{"role": "authenticated"}';
SELECT ok(NOT has_permission('11111111-0000-4000-8000-000000000001', 'projects.read'), 'no user id, no permission');

-- ---- anon ---------------------------------------------------------------------------------------
SET LOCAL ROLE anon;
SET LOCAL request.jwt.claims = '{"role": "anon"}';
-- (Refused for want of EXECUTE, or, outside public, of USAGE on the schema.)
SELECT throws_matching($$SELECT has_permission('11111111-0000-4000-8000-000000000001'::uuid, 'projects.read')$$,
  '^permission denied|does not exist', 'anon cannot call has_permission(tenant_id, permission)');
SELECT throws_matching($$SELECT has_permission('00000000-0000-4000-8000-0000000000a1'::uuid,
                                               '11111111-0000-4000-8000-000000000001'::uuid, 'projects.read')$$,
  '^permission denied|does not exist', 'anon cannot call has_permission(user_id, tenant_id, permission)');
SELECT throws_ok('SELECT rbac_private.member_tenants()', '42501', 'permission denied for schema rbac_private',
  'anon cannot reach rbac_private');

-- ---- changes take effect at once: permissions are rows read on every call ------------------------
RESET ROLE;
DELETE FROM role_permissions
WHERE tenant_id = '11111111-0000-4000-8000-000000000001'
  AND role_id = (SELECT id FROM roles WHERE tenant_id = '11111111-0000-4000-8000-000000000001' AND template = 'viewer')
  AND permission_id = (SELECT id FROM permissions WHERE name = 'projects.read');
INSERT INTO permissions (name, description) VALUES ('reports.read', 'View reports');
INSERT INTO role_permissions (tenant_id, role_id, permission_id)
SELECT r.tenant_id, r.id, p.id FROM roles r, permissions p
WHERE r.tenant_id = '11111111-0000-4000-8000-000000000001' AND r.template = 'viewer' AND p.name = 'reports.read';

SET LOCAL ROLE authenticated;
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a2", "role": "authenticated"}';
SELECT ok(NOT has_permission('11111111-0000-4000-8000-000000000001', 'projects.read'), 'a revoked grant is gone at once');
SELECT ok(has_permission('11111111-0000-4000-8000-000000000001', 'reports.read'), 'a new permission row works at once');
SELECT ok(has_permission('11111111-0000-4000-8000-000000000001', 'tenants.read'), 'the rest of the role stands');

RESET ROLE;
DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a2';
SET LOCAL ROLE authenticated;
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a2", "role": "authenticated"}';
SELECT ok(NOT has_permission('11111111-0000-4000-8000-000000000001', 'tenants.read'), 'a removed member loses access at once');
SELECT is_empty('SELECT rbac_private.member_tenants()', 'and belongs to no tenant');

-- The JWT carries only the user id: claims about roles or permissions change nothing.
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a2", "role": "service_role", "app_metadata": {"permissions": ["tenants.read"]}}';
SELECT ok(NOT has_permission('11111111-0000-4000-8000-000000000001', 'tenants.read'), 'claims in the JWT grant nothing');
SELECT is_empty('SELECT 1 FROM tenants', 'nor show any tenant');

SELECT * FROM finish();
ROLLBACK;
