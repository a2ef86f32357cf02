-- has_permission() timed inside the server: psql -v n=CALLS. For each call a random
-- membership of bench_members (bench/sql/perm_data.sql) and, at random, a permission that
-- its roles grant ('projects.update') or may not ('billing.manage': owner only), so both
-- answers are timed. Each call is timed alone with clock_timestamp() around a static call
-- (plan kept, as an application's prepared statement gets), the pick outside the timing.
-- What pgbench's figures add to this is the client round trip (bench/sql/pgbench_select1.sql).
-- Prints one line: calls p50 p95 p99 mean granted (milliseconds).
\set ON_ERROR_STOP 1
CREATE FUNCTION pg_temp.time_has_permission(calls int)
RETURNS TABLE (n bigint, p50 float8, p95 float8, p99 float8, mean float8, granted bigint)
LANGUAGE plpgsql AS $bench$
DECLARE
  k int; u uuid; t uuid; perm text; t0 timestamptz; t1 timestamptz; answer boolean;
  took float8[] := '{}'; yes bigint := 0;
BEGIN
  FOR i IN 1..calls LOOP
    k := 1 + floor(random() * 1000000)::int;  -- not in the WHERE: random() would run per row
    SELECT m.user_id, m.tenant_id INTO u, t FROM bench_members m WHERE m.n = k;
    perm := CASE WHEN random() < 0.5 THEN 'projects.update' ELSE 'billing.manage' END;
    t0 := clock_timestamp();
    answer := has_permission(u, t, perm);
    t1 := clock_timestamp();
    took := took || extract(epoch FROM t1 - t0)::float8 * 1000;
    IF answer THEN yes := yes + 1; END IF;
  END LOOP;
  RETURN QUERY
  SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY d),
         percentile_cont(0.95) WITHIN GROUP (ORDER BY d),
         percentile_cont(0.99) WITHIN GROUP (ORDER BY d), avg(d), yes
  FROM unnest(took) d;
END
$bench$;
-- a warm-up pass over the same kind of calls, then the timed one
SELECT FROM pg_temp.time_has_permission(:n / 10);
SELECT n, round(p50::numeric, 4), round(p95::numeric, 4), round(p99::numeric, 4),
       round(mean::numeric, 4), granted
FROM pg_temp.time_has_permission(:n);
