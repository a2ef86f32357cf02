-- Row-level security's FORCE toggle, default privileges and owners (PostgreSQL). The roles
-- rbacmig_objs_owner and rbacmig_objs_reader come from the test (tests/e2e/test_schema_objects.sh).
return {
  revision = "0b0000000006",
  down_revision = "0b0000000005",
  message = "privileges and owners",
  upgrade = function(db)
    if db.dialect ~= "postgresql" then return end
    db:enable_rls("items")
    db:force_rls("items")
    db:grant_default({ "select", "insert" }, "tables", "rbacmig_objs_reader",
      { schema = "public", with_grant_option = true })
    db:grant_default("usage", "sequences", "rbacmig_objs_reader", { for_role = "postgres" })
    db:grant_default("usage", "types", "rbacmig_objs_reader", { schema = { "public" } })
    db:revoke_default("execute", "functions", "public", { for_role = "current_user" })
    db:grant_default("usage", "schemas", "rbacmig_objs_reader")
    db:create_table("owned", { { "id", "integer" } })
    db:create_view("owned_v", { as = "SELECT id FROM owned" })
    db:create_view("owned_mv", { as = "SELECT id FROM owned", materialized = true })
    db:create_sequence("owned_seq")
    db:create_enum("owned_enum", { "a" })
    db:create_function("owned_fn", { args = "x integer", returns = "integer", language = "sql",
      body = "SELECT x" })
    db:create_schema("owned_schema")
    for _, o in ipairs({ { "table", "owned" }, { "view", "owned_v" },
        { "materialized_view", "owned_mv" }, { "sequence", "owned_seq" }, { "type", "owned_enum" },
        { "schema", "owned_schema" } }) do
      db:set_owner(o[1], o[2], "rbacmig_objs_owner")
    end
    db:set_owner("function", "owned_fn", "rbacmig_objs_owner", { args = "integer", schema = "public" })
  end,
  downgrade = function(db)
    if db.dialect ~= "postgresql" then return end
    db:drop_schema("owned_schema")
    db:drop_function("owned_fn")
    db:drop_enum("owned_enum")
    db:drop_sequence("owned_seq")
    db:drop_view("owned_mv", { materialized = true })
    db:drop_view("owned_v")
    db:drop_table("owned")
    db:revoke_default("usage", "schemas", "rbacmig_objs_reader")
    db:grant_default("execute", "functions", "public", { for_role = "current_user" })
    db:revoke_default("usage", "types", "rbacmig_objs_reader", { schema = "public" })
    db:revoke_default("usage", "sequences", "rbacmig_objs_reader", { for_role = "postgres" })
    db:revoke_default({ "select", "insert" }, "tables", "rbacmig_objs_reader",
      { schema = "public" })
    db:no_force_rls("items")
    db:disable_rls("items")
  end,
}
