-- Every kind the schema reader models on PostgreSQL, for tests/e2e/test_schema_dump.sh;
-- b.sql is the same schema written otherwise, which must read the same.
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'the app';
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA app;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE SEQUENCE app.counter AS integer START 10 INCREMENT 5 MINVALUE 10 MAXVALUE 1000 CYCLE;
CREATE TABLE app.items (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text COLLATE "C" NOT NULL,
  price numeric(10,2) CHECK (price >= 0),
  doubled numeric GENERATED ALWAYS AS (price * 2) STORED,
  mood app.mood DEFAULT 'ok',
  during tsrange,
  parent_id bigint REFERENCES app.items (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
  UNIQUE (name),
  EXCLUDE USING gist (during WITH &&)
);
ALTER SEQUENCE app.counter OWNED BY app.items.price;
CREATE INDEX items_lower_name_idx ON app.items (lower(name)) INCLUDE (price) WHERE price > 0;
CREATE VIEW app.cheap WITH (security_invoker = true, security_barrier) AS SELECT id, name FROM app.items WHERE price < 10 WITH CASCADED CHECK OPTION;
CREATE MATERIALIZED VIEW app.stats AS SELECT count(*) AS n FROM app.items;
CREATE TABLE app.events (at date NOT NULL, what text) PARTITION BY RANGE (at);
CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE PROCEDURE app.reset(n integer) LANGUAGE plpgsql AS $$ BEGIN PERFORM n; END $$;
CREATE FUNCTION app.f(a integer) RETURNS integer LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN a + 1;
CREATE FUNCTION app.trg() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = '' AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER items_trg BEFORE INSERT OR UPDATE OF name ON app.items FOR EACH ROW WHEN (NEW.name <> '') EXECUTE FUNCTION app.trg('x');
ALTER TABLE app.items ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.items FORCE ROW LEVEL SECURITY;
CREATE POLICY items_read ON app.items AS RESTRICTIVE FOR SELECT TO public USING (price IS NOT NULL);
GRANT USAGE ON SCHEMA app TO PUBLIC;
GRANT SELECT (name), UPDATE (name) ON app.items TO PUBLIC;
GRANT USAGE ON SEQUENCE app.counter TO anon WITH GRANT OPTION;
REVOKE EXECUTE ON FUNCTION app.f(integer) FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO PUBLIC;
COMMENT ON COLUMN app.items.name IS 'the name';
COMMENT ON POLICY items_read ON app.items IS 'p';
CREATE DOMAIN app.posint AS integer CHECK (VALUE > 0);
