-- has_permission(user_id, tenant_id, permission) for a random membership, as an application
-- asks it: the ids are in hand (computed here as bench/sql/perm_data.sql made them, which
-- costs the server two md5() calls), one statement, one round trip. 'projects.update' is
-- granted by owner, admin and member, not by viewer.
\set i random(0, 999999)
SELECT has_permission(md5('user-' || (:i % 250000))::uuid, md5('tenant-' || (:i % 100000))::uuid,
                      'projects.update');
