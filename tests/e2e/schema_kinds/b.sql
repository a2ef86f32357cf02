-- The same schema as a.sql (tests/e2e/test_schema_dump.sh), written otherwise: other spellings, order and layout.
create schema app;
create extension btree_gist schema app;
create type app.mood as enum ('sad', 'ok', 'happy');
create table app.items (
  id int8 generated always as identity,
  name TEXT collate "C" not null,
  price NUMERIC(10, 2),
  doubled NUMERIC generated always as (price*2) stored,
  mood app.mood default 'ok'::app.mood,
  during TSRANGE,
  parent_id INT8,
  constraint items_pkey primary key (id)
);
alter table app.items add constraint items_price_check check (price>=0);
alter table app.items add constraint items_name_key unique (name);
alter table app.items add constraint items_during_excl exclude using gist (during with &&);
alter table app.items add constraint items_parent_id_fkey foreign key (parent_id)
  references app.items on delete set null deferrable initially deferred;
create sequence app.counter as int4 increment by 5 minvalue 10 maxvalue 1000 start with 10 cycle owned by app.items.price;
create index items_lower_name_idx on app.items using btree (LOWER(name)) include (price) where price>0;
create view app.cheap with (security_barrier = true, security_invoker = on) as
  select id, name from app.items where price<10
  with check option;
create materialized view app.stats as select COUNT(*) as n from app.items;
create table app.events (at DATE not null, what TEXT) partition by range (at);
create table app.events_2026 partition of app.events for values from ('2026-01-01') to ('2027-01-01');
create procedure app.reset(in n int4) language plpgsql as $$ BEGIN PERFORM n; END $$;
create function app.f(a int4) returns int4 strict immutable parallel safe language sql return a+1;
create function app.trg() returns trigger security definer language plpgsql set search_path to '' as $$ BEGIN RETURN NEW; END $$;
create trigger items_trg before update of name or insert on app.items for each row when (new.name <> '') execute procedure app.trg('x');
comment on column app.items.name is 'the name';
alter table app.items force row level security;
alter table app.items enable row level security;
create policy items_read on app.items as restrictive for select using (price is not null);
comment on policy items_read on app.items is 'p';
alter default privileges in schema app grant select on tables to public;
grant update (name), select (name) on app.items to public;
grant usage on schema app to public;
grant usage on sequence app.counter to anon with grant option;
revoke all on function app.f(int4) from public;
comment on schema app is 'the app';
create domain app.posint as int4 check (value > 0);
