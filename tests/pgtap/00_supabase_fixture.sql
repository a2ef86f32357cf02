-- tests/pgtap/00_supabase_fixture.sql: just enough of Supabase, on plain PostgreSQL, for the
-- RBAC migration to add its row-level security and for the pgTAP tests beside this file to
-- run, with the privileges a real project has, because they decide what a migration may do
-- and what the Data API sees:
--   - `postgres`, the role migrations and `supabase test db` run as, is NOT a superuser
--     (NOSUPERUSER CREATEDB CREATEROLE BYPASSRLS), owns what it creates, and is a member of
--     anon, authenticated and service_role (so it may SET ROLE to them, as the tests do);
--   - anon, authenticated, service_role (BYPASSRLS); `authenticator`, PostgREST's login
--     role, a NOINHERIT member of the three, switching to one per request;
--   - the auth schema, owned by supabase_auth_admin, with auth.users (postgres may read,
--     write and reference it) and auth.uid(), which reads request.jwt.claim.sub or the
--     "sub" of request.jwt.claims, as PostgREST sets them;
--   - Supabase's default privileges: anon, authenticated and service_role get ALL on the
--     tables, sequences and functions that `postgres` creates in public, so the tests prove
--     that the migration (and rbacmig's own tables) take that back.
--
-- Load it into the database, before `rbacmig upgrade`, as a superuser (Supabase's is
-- supabase_admin; scripts/pg-test-server.sh sets RBACMIG_TEST_PG_ADMIN_URL):
--   psql -v ON_ERROR_STOP=1 -d "$ADMIN_URL_OF_THE_DATABASE" -f tests/pgtap/00_supabase_fixture.sql
-- Roles are shared by the cluster; the rest is per database. Idempotent, and harmless on a
-- real Supabase project: it creates only what is missing and never replaces Supabase's own
-- auth functions (there, skip it anyway).

-- Roles belong to the cluster, so two databases loading this at once (parallel tests) may
-- race to create or grant the same one: the loser's duplicate is not an error.
DO $fixture$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT * FROM (VALUES
      ('postgres', 'LOGIN NOSUPERUSER CREATEDB CREATEROLE BYPASSRLS'),
      ('anon', 'NOLOGIN NOINHERIT'),
      ('authenticated', 'NOLOGIN NOINHERIT'),
      ('service_role', 'NOLOGIN NOINHERIT BYPASSRLS'),
      ('authenticator', 'LOGIN NOINHERIT'),
      ('supabase_auth_admin', 'NOLOGIN NOINHERIT CREATEROLE')) AS v(name, options)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r.name) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I %s', r.name, r.options);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
  FOR r IN SELECT m.member, g.role
           FROM unnest(ARRAY['authenticator', 'postgres']) AS m(member),
                unnest(ARRAY['anon', 'authenticated', 'service_role']) AS g(role)
  LOOP
    IF NOT pg_has_role(r.member, r.role, 'MEMBER') THEN
      BEGIN
        EXECUTE format('GRANT %I TO %I', r.role, r.member);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
      END;
    END IF;
  END LOOP;
END
$fixture$;

CREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION supabase_auth_admin;

CREATE TABLE IF NOT EXISTS auth.users (
  id uuid NOT NULL PRIMARY KEY,
  email text,
  raw_user_meta_data jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE auth.users OWNER TO supabase_auth_admin;

DO $fixture$
BEGIN
  -- Supabase reads the old single-claim setting first, then the claims object.
  IF to_regprocedure('auth.uid()') IS NULL THEN
    CREATE FUNCTION auth.uid() RETURNS uuid
    LANGUAGE sql STABLE
    SET search_path = ''
    AS $fn$
      SELECT coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
      )::uuid
    $fn$;
    ALTER FUNCTION auth.uid() OWNER TO supabase_auth_admin;
  END IF;
  IF to_regprocedure('auth.role()') IS NULL THEN
    CREATE FUNCTION auth.role() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = ''
    AS $fn$
      SELECT coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
      )
    $fn$;
    ALTER FUNCTION auth.role() OWNER TO supabase_auth_admin;
  END IF;
  IF to_regprocedure('auth.jwt()') IS NULL THEN
    CREATE FUNCTION auth.jwt() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = ''
    AS $fn$
      SELECT coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $fn$;
    ALTER FUNCTION auth.jwt() OWNER TO supabase_auth_admin;
  END IF;
END
$fixture$;

GRANT USAGE ON SCHEMA auth TO postgres, anon, authenticated, service_role;
GRANT ALL ON TABLE auth.users TO postgres;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.jwt() TO postgres, anon, authenticated, service_role;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON SCHEMA public TO postgres;

-- What Supabase does for objects its `postgres` role creates in public.
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
