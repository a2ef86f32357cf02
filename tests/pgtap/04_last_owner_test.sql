-- Last-owner protection: whoever asks (a member through the API, the service role, or the
-- database owner as `rbacmig member remove` does), a tenant's last owner cannot be removed
-- or demoted. Deleting the tenant, or the owner's user account, still works. Needs the RBAC
-- migration applied on Supabase (or the fixture) and `rbacmig seed` run.
BEGIN;
SELECT plan(16);

-- acme: alice the only owner, bob admin. globex: carol and dan both owners.
INSERT INTO auth.users (id, email) VALUES
  ('00000000-0000-4000-8000-0000000000a1', 'alice@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a2', 'bob@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a3', 'carol@rbac.pgtap.test'),
  ('00000000-0000-4000-8000-0000000000a7', 'dan@rbac.pgtap.test');
INSERT INTO tenants (id, slug, name) VALUES
  ('11111111-0000-4000-8000-000000000001', 'pgtap-acme', 'Acme'),
  ('22222222-0000-4000-8000-000000000002', 'pgtap-globex', 'Globex');
INSERT INTO memberships (tenant_id, user_id, role_id)
SELECT r.tenant_id, m.user_id::uuid, r.id
FROM (VALUES ('11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a1', 'owner'),
             ('11111111-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000a2', 'admin'),
             ('22222222-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a3', 'owner'),
             ('22222222-0000-4000-8000-000000000002', '00000000-0000-4000-8000-0000000000a7', 'owner'))
     AS m(tenant_id, user_id, template)
JOIN roles r ON r.tenant_id = m.tenant_id::uuid AND r.template = m.template;

-- ---- through the API ----------------------------------------------------------------------
SET LOCAL ROLE authenticated;
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a1", "role": "authenticated"}';
SELECT throws_ok($$DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a1'$$,
  '23000', 'cannot remove the last owner of tenant ''pgtap-acme''', 'the last owner cannot leave');

SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a2", "role": "authenticated"}';
SELECT is_empty($$DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a1' RETURNING 1$$,
  'an admin cannot remove the owner');

SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a7", "role": "authenticated"}';
SELECT isnt_empty($$DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a7' RETURNING 1$$,
  'one of two owners may leave');
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a3", "role": "authenticated"}';
SELECT throws_ok($$DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a3'$$,
  '23000', NULL, 'then the other is the last owner and cannot');

-- Ownership passes by adding the new owner first.
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a1", "role": "authenticated"}';
SELECT lives_ok($$INSERT INTO memberships (tenant_id, user_id, role_id)
                 SELECT r.tenant_id, '00000000-0000-4000-8000-0000000000a2', r.id FROM roles r
                 WHERE r.tenant_id = '11111111-0000-4000-8000-000000000001' AND r.template = 'owner'$$,
  'the owner makes the admin owner too');
SELECT lives_ok($$DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a1'$$,
  'then the first owner may leave');
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a2", "role": "authenticated"}';
SELECT throws_ok($$DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a2'
                   AND role_id = (SELECT id FROM roles WHERE template = 'owner')$$,
  '23000', NULL, 'and the new owner is protected in turn');

-- ---- the service role and the database owner ------------------------------------------------
RESET ROLE;
SET LOCAL ROLE service_role;
SELECT throws_ok($$DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a3'$$,
  '23000', NULL, 'the service role (which bypasses RLS) cannot remove the last owner');
RESET ROLE;
SELECT throws_ok($$DELETE FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a3'$$,
  '23000', NULL, 'the database owner cannot remove the last owner');
SELECT throws_ok($$UPDATE memberships
                   SET role_id = (SELECT id FROM roles WHERE tenant_id = memberships.tenant_id AND template = 'admin')
                   WHERE user_id = '00000000-0000-4000-8000-0000000000a3'$$,
  '23000', NULL, 'nor demote the last owner');
SELECT lives_ok($$UPDATE memberships SET user_id = '00000000-0000-4000-8000-0000000000a7'
                  WHERE user_id = '00000000-0000-4000-8000-0000000000a3'$$,
  'but may hand the owner membership to another user in one statement');
SELECT is((SELECT count(*) FROM memberships m JOIN roles r ON r.tenant_id = m.tenant_id AND r.id = m.role_id
           WHERE r.template = 'owner'
             AND m.tenant_id IN ('11111111-0000-4000-8000-000000000001', '22222222-0000-4000-8000-000000000002')),
  2::bigint, 'each tenant still has exactly one owner');

-- ---- what still works ---------------------------------------------------------------------
SET LOCAL ROLE authenticated;
SET LOCAL request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000a2", "role": "authenticated"}';
SELECT isnt_empty($$DELETE FROM tenants WHERE id = '11111111-0000-4000-8000-000000000001' RETURNING id$$,
  'the owner may delete the tenant (tenants.delete), its last owner with it');
RESET ROLE;
SELECT is((SELECT count(*) FROM memberships WHERE tenant_id = '11111111-0000-4000-8000-000000000001'),
  0::bigint, 'the deleted tenant''s memberships went with it');
SELECT lives_ok($$DELETE FROM auth.users WHERE id = '00000000-0000-4000-8000-0000000000a7'$$,
  'deleting the last owner''s user account is not blocked');
SELECT is((SELECT count(*) FROM memberships WHERE user_id = '00000000-0000-4000-8000-0000000000a7'),
  0::bigint, 'the account''s memberships went with it (on delete cascade)');

SELECT * FROM finish();
ROLLBACK;
