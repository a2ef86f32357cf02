-- the floor under pgbench_has_permission.sql: the same statement shape and the same two
-- md5() ids, without the call (what has_permission adds is the difference)
\set i random(0, 999999)
SELECT md5('user-' || (:i % 250000))::uuid, md5('tenant-' || (:i % 100000))::uuid;
