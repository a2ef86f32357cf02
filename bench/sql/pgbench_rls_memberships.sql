-- a user's own memberships through row-level security, as PostgREST reads them: one
-- transaction that sets the role and the JWT claims locally, then selects
\set k random(0, 249999)
BEGIN;
SELECT set_config('role', 'authenticated', true),
       set_config('request.jwt.claims',
                  '{"sub": "' || md5('user-' || :k)::uuid || '", "role": "authenticated"}', true);
SELECT tenant_id, role_id FROM memberships WHERE user_id = (SELECT auth.uid());
COMMIT;
