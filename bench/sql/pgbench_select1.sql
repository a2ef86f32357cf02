-- the floor under every pgbench figure: one round trip from pgbench to the server and back
SELECT 1;
