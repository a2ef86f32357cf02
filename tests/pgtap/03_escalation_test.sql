-- No escalation: changing memberships needs members.manage and changing roles and grants
-- roles.manage, in that tenant; nobody gives a role holding a permission they lack, adds to
-- a role a permission they lack, or touches the template roles that `rbacmig seed` owns.
-- Needs the RBAC migration applied on Supabase (or the fixture) and `rbacmig seed` run.
BEGIN;
SELECT plan(35);

-- acme: alice owner, dave admin (members.* and roles.*, but not billing.manage), bob viewer.
-- globex: carol owner, dave viewer. grace has no role yet.
INSERT INTO auth.users (id, email) VALUES
  ('00000000-0000-4000-8000-0000000000a1', 'alice@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a2', 'bob@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a3', 'carol@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a4', 'dave@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a6', 'grace@rbac.pgtap.test');
INSERT INTO tenants (id, slug, name) VALUES
  ('11111111-0000-4000-8000-000000000001', 'pgtap-acme', 'Acme'),
  ('22222222-0000-4000-8000-000000000002', 'pgtap-globex', 'Globex');
INSERT INTO memberships (tenant_id, user_id, role_id)
SELECT r.tenant_id, m.user_id::uuid, r.id
FROM (VALUES ('11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a1', 'owner'),
             ('11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a4', 'admin'),
             ('11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a2', 'viewer'),
             ('22222222-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a3', 'owner'),
             ('22222222-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a4', 'viewer'))
     AS m(tenant_id, user_id, template)
JOIN roles r ON r.tenant_id = m.tenant_id::uuid AND r.template = m.template;

-- Role and permission ids, for statements run as users who cannot read them.
CREATE TEMP TABLE ids (name text PRIMARY KEY, id uuid NOT NULL) ON COMMIT DROP;
INSERT INTO ids
SELECT t.slug || '/' || r.template, r.id FROM roles r JOIN tenants t ON t.id = r.tenant_id
WHERE t.slug IN ('pgtap-acme', 'pgtap-globex')
UNION ALL
SELECT p.name, p.id FROM permissions p;
GRANT SELECT ON ids TO authenticated;

-- ---- bob, a viewer --------------------------------------------------------------------
SET LOCAL ROLE authenticated;
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a2", "role": "authenticated"}';

SELECT throws_ok($$INSERT INTO memberships (tenant_id, user_id, role_id)
                  SELECT '11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a2', id
                  FROM ids WHERE name = 'pgtap-acme/owner'$$,
  '42501', 'new row violates row-level security policy for table "memberships"',
  'a viewer cannot make itself owner');
SELECT throws_ok($$INSERT INTO memberships (tenant_id, user_id, role_id)
                  SELECT '11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a6', id
                  FROM ids WHERE name = 'pgtap-acme/viewer'$$,
  '42501', NULL, 'a viewer cannot add a member, even as viewer');
SELECT throws_ok($$INSERT INTO role_permissions (tenant_id, role_id, permission_id)
                  SELECT '11111111-0000-4000-8000-000000000001',
                         (SELECT id FROM ids WHERE name = 'pgtap-acme/viewer'),
                         (SELECT id FROM ids WHERE name = 'billing.manage')$$,
  '42501', 'new row violates row-level security policy for table "role_permissions"',
  'a viewer cannot insert a grant');
SELECT throws_ok($$INSERT INTO roles (tenant_id, name) VALUES ('11111111-0000-4000-8000-000000000001', 'bobs')$$,
  '42501', NULL, 'a viewer cannot create a role');
SELECT throws_ok($$UPDATE roles SET template = 'owner' WHERE template = 'viewer'$$,
  '42501', 'permission denied for table roles', 'nobody may change a role''s template');
SELECT throws_ok($$UPDATE memberships SET role_id = (SELECT id FROM ids WHERE name = 'pgtap-acme/owner')
                  WHERE user_id = '00000000-0000-4000-8000-0000000000a2'$$,
  '42501', 'permission denied for table memberships', 'memberships cannot be updated in place');
SELECT is_empty($$UPDATE roles SET name = 'boss' WHERE template = 'viewer' RETURNING id$$,
  'a viewer cannot rename a role');
SELECT is_empty($$DELETE FROM memberships WHERE user_id <> '00000000-0000-4000-8000-0000000000a2' RETURNING user_id$$,
  'a viewer cannot remove other members');
SELECT is_empty($$DELETE FROM role_permissions RETURNING permission_id$$, 'a viewer cannot revoke grants');
SELECT is_empty($$SELECT 1 FROM tenants WHERE id = '22222222-0000-4000-8000-000000000002'$$,
  'a viewer cannot see another tenant');

-- ---- dave, an admin in acme and a viewer in globex ----------------------------------------
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a4", "role": "authenticated"}';

SELECT throws_ok($$INSERT INTO memberships (tenant_id, user_id, role_id)
                  SELECT '11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a4', id
                  FROM ids WHERE name = 'pgtap-acme/owner'$$,
  '42501', NULL, 'an admin cannot make itself owner (owner holds billing.manage, admin does not)');
SELECT throws_ok($$INSERT INTO memberships (tenant_id, user_id, role_id)
                  SELECT '11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a2', id
                  FROM ids WHERE name = 'pgtap-acme/owner'$$,
  '42501', NULL, 'an admin cannot make anyone else owner');
SELECT lives_ok($$INSERT INTO memberships (tenant_id, user_id, role_id)
                 SELECT '11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a2', id
                 FROM ids WHERE name = 'pgtap-acme/member'$$,
  'an admin gives a role it could hold (member)');
SELECT lives_ok($$INSERT INTO memberships (tenant_id, user_id, role_id)
                 SELECT '11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a6', id
                 FROM ids WHERE name = 'pgtap-acme/viewer'$$,
  'an admin adds a new member');
SELECT is_empty($$DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a1' RETURNING user_id$$,
  'an admin cannot remove the owner (a role above it)');
SELECT isnt_empty($$DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a2'
                    AND role_id = (SELECT id FROM ids WHERE name = 'pgtap-acme/viewer') RETURNING user_id$$,
  'an admin removes a viewer');
SELECT throws_ok($$INSERT INTO memberships (tenant_id, user_id, role_id)
                  SELECT '22222222-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a4', id
                  FROM ids WHERE name = 'pgtap-globex/admin'$$,
  '42501', NULL, 'members.manage in acme gives nothing in globex');
SELECT throws_ok($$INSERT INTO memberships (tenant_id, user_id, role_id)
                  SELECT '22222222-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a4', id
                  FROM ids WHERE name = 'pgtap-acme/admin'$$,
  '42501', NULL, 'nor can acme''s role be given in globex');

-- Roles and grants: only the tenant's own roles, only permissions the admin holds.
SELECT lives_ok($$INSERT INTO roles (tenant_id, name, description)
                 VALUES ('11111111-0000-4000-8000-000000000001', 'auditors', 'Read-only auditors')$$,
  'an admin creates a role of the tenant''s own');
SELECT throws_ok($$INSERT INTO roles (tenant_id, name, template)
                  VALUES ('11111111-0000-4000-8000-000000000001', 'owner2', 'owner')$$,
  '42501', NULL, 'a new role cannot claim a template');
SELECT lives_ok($$INSERT INTO role_permissions (tenant_id, role_id, permission_id)
                 SELECT r.tenant_id, r.id, (SELECT id FROM ids WHERE name = 'audit_log.read')
                 FROM roles r WHERE r.tenant_id = '11111111-0000-4000-8000-000000000001' AND r.name = 'auditors'$$,
  'an admin grants its own role a permission it holds');
SELECT throws_ok($$INSERT INTO role_permissions (tenant_id, role_id, permission_id)
                  SELECT r.tenant_id, r.id, (SELECT id FROM ids WHERE name = 'billing.manage')
                  FROM roles r WHERE r.tenant_id = '11111111-0000-4000-8000-000000000001' AND r.name = 'auditors'$$,
  '42501', 'new row violates row-level security policy for table "role_permissions"',
  'an admin cannot grant a permission it lacks');
SELECT throws_ok($$INSERT INTO role_permissions (tenant_id, role_id, permission_id)
                  SELECT '11111111-0000-4000-8000-000000000001', (SELECT id FROM ids WHERE name = 'pgtap-acme/viewer'),
                         (SELECT id FROM ids WHERE name = 'projects.update')$$,
  '42501', NULL, 'template roles are not edited through the API, even with a permission held');
SELECT is_empty($$DELETE FROM roles WHERE template IS NOT NULL RETURNING id$$,
  'an admin cannot delete a template role');
SELECT lives_ok($$INSERT INTO memberships (tenant_id, user_id, role_id)
                 SELECT r.tenant_id, '00000000-0000-4000-8000-0000000000a6', r.id
                 FROM roles r WHERE r.tenant_id = '11111111-0000-4000-8000-000000000001' AND r.name = 'auditors'$$,
  'an admin gives its own role to a member');
SELECT isnt_empty($$UPDATE roles SET description = 'Auditors' WHERE name = 'auditors' RETURNING id$$,
  'an admin edits its own role');
SELECT isnt_empty($$UPDATE tenants SET name = 'Acme Inc' WHERE id = '11111111-0000-4000-8000-000000000001' RETURNING id$$,
  'an admin renames the tenant (tenants.update)');

-- alice (owner) adds billing.manage to auditors: from then on dave can no longer give it.
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a1", "role": "authenticated"}';
SELECT lives_ok($$INSERT INTO role_permissions (tenant_id, role_id, permission_id)
                 SELECT r.tenant_id, r.id, (SELECT id FROM ids WHERE name = 'billing.manage')
                 FROM roles r WHERE r.tenant_id = '11111111-0000-4000-8000-000000000001' AND r.name = 'auditors'$$,
  'the owner grants billing.manage');
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a4", "role": "authenticated"}';
SELECT throws_ok($$INSERT INTO memberships (tenant_id, user_id, role_id)
                  SELECT r.tenant_id, '00000000-0000-4000-8000-0000000000a2', r.id
                  FROM roles r WHERE r.tenant_id = '11111111-0000-4000-8000-000000000001' AND r.name = 'auditors'$$,
  '42501', NULL, 'an admin cannot give a role once it holds a permission the admin lacks');
SELECT is_empty($$DELETE FROM role_permissions WHERE role_id = (SELECT id FROM roles WHERE name = 'auditors')
                  RETURNING permission_id$$,
  'nor strip that role');
SELECT is_empty($$DELETE FROM roles WHERE name = 'auditors' RETURNING id$$, 'nor delete it');

-- ---- what the attempts left -----------------------------------------------------------
RESET ROLE;
SELECT is((SELECT array_agg(m.user_id ORDER BY m.user_id)
           FROM memberships m JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id
           WHERE r.template = 'owner' AND m.tenant_id = '11111111-0000-4000-8000-000000000001'),
  ARRAY['00000000-0000-4000-8000-0000000000a1'::uuid], 'acme''s only owner is still alice');
SELECT is((SELECT name FROM tenants WHERE id = '11111111-0000-4000-8000-000000000001'), 'Acme Inc',
  'the rename went through (its updated_at trigger needs no EXECUTE from authenticated)');
SELECT is((SELECT count(*) FROM memberships WHERE tenant_id = '22222222-0000-4000-8000-000000000002'),
  2::bigint, 'globex''s memberships are unchanged');
SELECT is((SELECT count(*) FROM roles WHERE template = 'viewer' AND name = 'viewer'
            AND tenant_id = '11111111-0000-4000-8000-000000000001'),
  1::bigint, 'acme''s viewer role is unchanged');

SELECT * FROM finish();
ROLLBACK;
