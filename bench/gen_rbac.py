#!/usr/bin/env python3
"""Generate the RBAC seeding workload (bench workload 4).

    gen_rbac.py TENANTS OUTDIR

writes, for a database already migrated to the RBAC schema (migration 91759229c32b):

    OUTDIR/rbac/permissions.lua   a 50-permission catalogue: 10 resources x 5 actions
    OUTDIR/rbac/roles.lua         4 role templates: owner (*), admin (8 of the 10
                                  resources), member (read, create, update of every
                                  resource), viewer (read of every resource): 130 grants
    OUTDIR/tenants.sql            TENANTS tenants in one set-based INSERT
    OUTDIR/setbased.sql           the hand-written limit: tenants, catalogue, templates,
                                  every tenant's roles and grants, set-based (6 INSERTs)
    OUTDIR/naive.sql              the same rows with one INSERT per row (ids made here),
                                  all in one transaction (psql -1)
    OUTDIR/expected.txt           "tenants roles grants" the three must all end with

Tenants are inserted before the role templates exist in every variant, so the
tenants_seed_roles trigger finds no template and the roles and grants come from the
statements measured (rbacmig seed, or the script's own INSERTs).
Standard library only.
"""

import os
import sys
import uuid

RESOURCES = ["projects", "tasks", "documents", "comments", "files",
             "reports", "dashboards", "webhooks", "billing", "audit_log"]
ACTIONS = ["read", "create", "update", "delete", "manage"]


def templates():
    """name -> (description, list of patterns as rbac/roles.lua writes them, expanded names)"""
    perms = [f"{r}.{a}" for r in RESOURCES for a in ACTIONS]
    admin_res = RESOURCES[:8]
    return perms, {
        "owner": ("Everything", ["*"], perms),
        "admin": ("Everything but billing and the audit log",
                  [f"{r}.*" for r in admin_res],
                  [f"{r}.{a}" for r in admin_res for a in ACTIONS]),
        "member": ("Reads, creates and updates",
                   [f"{r}.{a}" for r in RESOURCES for a in ("read", "create", "update")],
                   [f"{r}.{a}" for r in RESOURCES for a in ("read", "create", "update")]),
        "viewer": ("Reads", [f"{r}.read" for r in RESOURCES],
                   [f"{r}.read" for r in RESOURCES]),
    }


def uid(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "rbacmig-bench/" + "/".join(parts)))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen_rbac.py TENANTS OUTDIR")
    n = int(sys.argv[1])
    out = sys.argv[2]
    perms, tmpls = templates()

    write(f"{out}/rbac/permissions.lua", "-- bench: 10 resources x 5 actions\nreturn {\n" + "".join(
        f'  {{ name = "{p}", description = "{p}" }},\n' for p in perms) + "}\n")
    lua_roles = ["-- bench: 4 templates, 130 grants\nreturn {\n"]
    for name, (desc, patterns, _) in tmpls.items():
        pats = ", ".join(f'"{p}"' for p in patterns)
        lua_roles.append(f'  {{ name = "{name}", description = "{desc}", permissions = {{ {pats} }} }},\n')
    lua_roles.append("}\n")
    write(f"{out}/rbac/roles.lua", "".join(lua_roles))

    tenants_sql = ("INSERT INTO tenants (slug, name)\n"
                   f"SELECT 'tenant-' || i, 'Tenant ' || i FROM generate_series(1, {n}) i;\n")
    write(f"{out}/tenants.sql", tenants_sql)

    perm_values = ",\n".join(f"  ('{p}', '{p}')" for p in perms)
    tmpl_values = ",\n".join(f"  ('{t}', '{d}')" for t, (d, _, _) in tmpls.items())
    grant_values = ",\n".join(f"  ('{t}', '{p}')" for t, (_, _, ps) in tmpls.items() for p in ps)
    write(f"{out}/setbased.sql", f"""-- hand-written, set-based: {n} tenants, 50 permissions, 4 templates, their roles and grants
{tenants_sql}
INSERT INTO permissions (name, description) VALUES
{perm_values};

INSERT INTO role_templates (name, description) VALUES
{tmpl_values};

INSERT INTO role_template_permissions (template, permission_id)
SELECT v.template, p.id
FROM (VALUES
{grant_values}) AS v (template, permission)
JOIN permissions p ON p.name = v.permission;

INSERT INTO roles (tenant_id, name, description, template)
SELECT t.id, rt.name, rt.description, rt.name
FROM tenants t CROSS JOIN role_templates rt;

INSERT INTO role_permissions (tenant_id, role_id, permission_id)
SELECT r.tenant_id, r.id, tp.permission_id
FROM roles r JOIN role_template_permissions tp ON tp.template = r.template;
""")

    grants = 0
    with open(f"{out}/naive.sql", "w", encoding="utf-8") as f:
        f.write(f"-- naive: one INSERT per row ({n} tenants), in one transaction (psql -1)\n")
        for i in range(1, n + 1):
            f.write(f"INSERT INTO tenants (id, slug, name) VALUES ('{uid('t', str(i))}', "
                    f"'tenant-{i}', 'Tenant {i}');\n")
        for p in perms:
            f.write(f"INSERT INTO permissions (id, name, description) VALUES ('{uid('p', p)}', '{p}', '{p}');\n")
        for t, (d, _, ps) in tmpls.items():
            f.write(f"INSERT INTO role_templates (name, description) VALUES ('{t}', '{d}');\n")
            for p in ps:
                f.write("INSERT INTO role_template_permissions (template, permission_id) "
                        f"VALUES ('{t}', '{uid('p', p)}');\n")
        for i in range(1, n + 1):
            tid = uid("t", str(i))
            for t, (d, _, ps) in tmpls.items():
                rid = uid("r", str(i), t)
                f.write("INSERT INTO roles (tenant_id, id, name, description, template) "
                        f"VALUES ('{tid}', '{rid}', '{t}', '{d}', '{t}');\n")
                for p in ps:
                    f.write("INSERT INTO role_permissions (tenant_id, role_id, permission_id) "
                            f"VALUES ('{tid}', '{rid}', '{uid('p', p)}');\n")
                    grants += 1
    write(f"{out}/expected.txt", f"{n} {n * len(tmpls)} {grants}\n")


if __name__ == "__main__":
    main()
