-- rbacmig.schema.sqlite_parse: a tokenizer and parser of SQLite's stored CREATE TABLE text
-- (the model a table rebuild edits) and its rendering back to SQL; also which column a
-- constraint, an index or an expression names.
--
-- Depends on nothing but base, string, table and math: it runs inside the migration sandbox.

local check = require("rbacmig.schema.check")
local argerror, raise = check.argerror, check.raise
local ddl = require("rbacmig.schema.ddl")
local named, q = ddl.named, ddl.q

-- SQLite's own tokens: [ident], `ident`, x'blob', '' and "" unescaped into values, words and
-- numbers for the parser below, and no dollar quotes. src/sql_lex.c is the C scanner that
-- finds parameters and statement ends in statements; it is not this tokenizer.
local function tokenize(op, sql)
  local tokens, i, n = {}, 1, #sql
  local function push(kind, s, e, value)
    local text = sql:sub(s, e)
    tokens[#tokens + 1] = { kind = kind, s = s, e = e, text = text, value = value or text,
      up = kind == "word" and text:upper() or nil }
  end
  local function quoted(close, kind)
    local j = i + 1
    while true do
      local at = sql:find(close, j, true)
      if not at then raise("%s: cannot parse the table definition (unterminated quote)", op) end
      if close ~= "]" and sql:sub(at + 1, at + 1) == close then j = at + 2
      else
        local inner = sql:sub(i + 1, at - 1)
        if close ~= "]" then inner = inner:gsub(close .. close, close) end
        push(kind, i, at, inner)
        i = at + 1
        return
      end
    end
  end
  while i <= n do
    local c = sql:sub(i, i)
    if c:find("%s") then
      i = i + 1
    elseif sql:sub(i, i + 1) == "--" then
      i = (sql:find("\n", i, true) or n) + 1
    elseif sql:sub(i, i + 1) == "/*" then
      local _, e = sql:find("*/", i + 2, true)
      i = (e or n) + 1
    elseif (c == "x" or c == "X") and sql:sub(i + 1, i + 1) == "'" then
      i = i + 1
      quoted("'", "literal")
      tokens[#tokens].s = tokens[#tokens].s - 1
    elseif c == "'" then
      quoted("'", "literal")
    elseif c == '"' then
      quoted('"', "ident")
    elseif c == "`" then
      quoted("`", "ident")
    elseif c == "[" then
      quoted("]", "ident")
    elseif c:find("[%a_\128-\255]") then
      local word = sql:match("^[%w_$\128-\255]+", i)
      push("word", i, i + #word - 1)
      i = i + #word
    elseif c:find("%d") or c == "." and sql:sub(i + 1, i + 1):find("%d") then
      local num = sql:match("^0[xX]%x+", i) or sql:match("^%d*%.?%d*", i)
      num = num .. (sql:match("^[eE][+-]?%d+", i + #num) or "")
      push("number", i, i + #num - 1)
      i = i + #num
    else
      push("punct", i, i)
      i = i + 1
    end
  end
  return tokens
end

local function is_kw(tok, ...)
  if not tok or tok.kind ~= "word" then return false end
  for _, kw in ipairs({ ... }) do
    if tok.up == kw then return true end
  end
  return false
end

local function is_punct(tok, p)
  return tok ~= nil and tok.kind == "punct" and tok.text == p
end

-- Index just past the parenthesised group that opens at tokens[k].
local function skip_group(op, tokens, k)
  local depth = 0
  for j = k, #tokens do
    if is_punct(tokens[j], "(") then depth = depth + 1
    elseif is_punct(tokens[j], ")") then
      depth = depth - 1
      if depth == 0 then return j + 1 end
    end
  end
  raise("%s: cannot parse the table definition (unbalanced parentheses)", op)
end

local function name_value(op, tok)
  if tok and (tok.kind == "ident" or tok.kind == "word" or tok.kind == "literal") then
    return tok.value
  end
  raise("%s: cannot parse the table definition near '%s'", op, tok and tok.text or "end")
end

-- Words that start a column constraint; a column's type runs until one of them.
local CLAUSE_START = {
  CONSTRAINT = true, PRIMARY = true, NOT = true, NULL = true, UNIQUE = true, CHECK = true,
  DEFAULT = true, COLLATE = true, REFERENCES = true, GENERATED = true, AS = true,
}

local TABLE_CONSTRAINT = {
  CONSTRAINT = true, PRIMARY = true, UNIQUE = true, CHECK = true, FOREIGN = true,
}

-- After "REFERENCES target [(cols)]": the ON/MATCH/DEFERRABLE tail of a foreign key.
local function skip_fk_actions(op, t, k, last)
  while k <= last do
    if is_kw(t[k], "ON") then
      k = k + 2
      if is_kw(t[k], "SET", "NO") then k = k + 2 else k = k + 1 end
    elseif is_kw(t[k], "MATCH") then
      k = k + 2
    elseif is_kw(t[k], "NOT") and is_kw(t[k + 1], "DEFERRABLE") or is_kw(t[k], "DEFERRABLE") then
      k = k + (is_kw(t[k], "NOT") and 2 or 1)
      if is_kw(t[k], "INITIALLY") then k = k + 2 end
    else
      break
    end
  end
  return k
end

-- Splits "... REFERENCES target rest" so the target can be renamed on output.
local function split_reference(sql, t, r, last)
  local after = r + 2 <= last and sql:sub(t[r + 2].s, t[last].e) or ""
  return { target = t[r + 1].value, after = after }
end

local function parse_conflict(t, k)
  if is_kw(t[k], "ON") and is_kw(t[k + 1], "CONFLICT") then return k + 3 end
  return k
end

-- Parses tokens t[first..last] of one column definition.
local function parse_column(op, sql, t, first, last)
  local col = { name = name_value(op, t[first]), clauses = {} }
  local k = first + 1
  while k <= last and not (t[k].kind == "word" and CLAUSE_START[t[k].up]) do
    k = is_punct(t[k], "(") and skip_group(op, t, k) or k + 1
  end
  col.type = k > first + 1 and sql:sub(t[first + 1].s, t[k - 1].e) or ""
  while k <= last do
    local clause = {}
    if is_kw(t[k], "CONSTRAINT") then
      clause.name = name_value(op, t[k + 1])
      k = k + 2
    end
    local s, kw = k, t[k] and t[k].up
    if kw == "PRIMARY" and is_kw(t[k + 1], "KEY") then
      clause.kind, k = "primary_key", k + 2
      if is_kw(t[k], "ASC", "DESC") then k = k + 1 end
      k = parse_conflict(t, k)
      if is_kw(t[k], "AUTOINCREMENT") then clause.autoincrement, k = true, k + 1 end
    elseif kw == "NOT" and is_kw(t[k + 1], "NULL") then
      clause.kind, k = "not_null", parse_conflict(t, k + 2)
    elseif kw == "NULL" then
      clause.kind, k = "null", parse_conflict(t, k + 1)
    elseif kw == "UNIQUE" then
      clause.kind, k = "unique", parse_conflict(t, k + 1)
    elseif kw == "CHECK" and is_punct(t[k + 1], "(") then
      clause.kind, k = "check", skip_group(op, t, k + 1)
    elseif kw == "DEFAULT" then
      clause.kind, k = "default", k + 1
      if is_punct(t[k], "(") then k = skip_group(op, t, k)
      elseif is_punct(t[k], "-") or is_punct(t[k], "+") then k = k + 2
      else k = k + 1 end
    elseif kw == "COLLATE" then
      clause.kind, k = "collate", k + 2
    elseif kw == "REFERENCES" then
      clause.kind, k = "references", k + 2
      if is_punct(t[k], "(") then k = skip_group(op, t, k) end
      k = skip_fk_actions(op, t, k, last)
      clause.ref = split_reference(sql, t, s, k - 1)
    elseif kw == "GENERATED" or kw == "AS" then
      clause.kind = "generated"
      while k <= last and not is_punct(t[k], "(") do k = k + 1 end
      k = skip_group(op, t, k)
      if is_kw(t[k], "STORED", "VIRTUAL") then k = k + 1 end
      col.generated = true
    else
      raise("%s: cannot parse the definition of column '%s' near '%s'", op, col.name,
        t[k] and t[k].text or "end")
    end
    if k - 1 > last then raise("%s: cannot parse the definition of column '%s'", op, col.name) end
    clause.text = sql:sub(t[s].s, t[k - 1].e)
    col.clauses[#col.clauses + 1] = clause
  end
  return col
end

-- Parses tokens t[first..last] of one table constraint.
local function parse_table_constraint(op, sql, t, first, last)
  local con, k = {}, first
  if is_kw(t[k], "CONSTRAINT") then
    con.name = name_value(op, t[k + 1])
    k = k + 2
  end
  if not (t[k] and t[k].kind == "word") then
    raise("%s: cannot parse a constraint of the table definition near '%s'", op,
      t[k] and t[k].text or "end")
  end
  con.kind = t[k].up:lower()
  con.text = sql:sub(t[k].s, t[last].e)
  if con.kind == "foreign" then
    local r = k
    while r <= last and not is_kw(t[r], "REFERENCES") do r = r + 1 end
    if r >= last then raise("%s: cannot parse a foreign key of the table definition", op) end
    con.before = sql:sub(t[k].s, t[r].e)
    con.ref = split_reference(sql, t, r, last)
  end
  return con
end

-- Splits a comma-separated definition list; calls item(first, last) for each entry.
local function each_item(op, t, first, last, item)
  local depth, start = 0, first
  for k = first, last + 1 do
    local tok = t[k]
    if k > last or depth == 0 and is_punct(tok, ",") then
      if start > k - 1 then raise("%s: cannot parse the table definition (empty item)", op) end
      item(start, k - 1)
      start = k + 1
    elseif is_punct(tok, "(") then depth = depth + 1
    elseif is_punct(tok, ")") then depth = depth - 1 end
  end
end

-- Parses a stored CREATE TABLE statement into { columns, constraints, tail }.
local function parse_create_table(op, sql)
  local t = tokenize(op, sql)
  local open
  for k, tok in ipairs(t) do
    if is_kw(tok, "AS") then break end
    if is_punct(tok, "(") then open = k break end
  end
  if not open then raise("%s: cannot rebuild a table created with CREATE TABLE ... AS", op) end
  local close = skip_group(op, t, open) - 1
  local model = { columns = {}, constraints = {} }
  each_item(op, t, open + 1, close - 1, function(first, last)
    if t[first].kind == "word" and TABLE_CONSTRAINT[t[first].up] then
      model.constraints[#model.constraints + 1] = parse_table_constraint(op, sql, t, first, last)
    else
      model.columns[#model.columns + 1] = parse_column(op, sql, t, first, last)
    end
  end)
  model.tail = close < #t and sql:sub(t[close + 1].s, t[#t].e):gsub("%s*;$", "") or ""
  return model
end

-- Definitions made by this module for the rebuild go through the same parser as the stored
-- ones, so the model holds one shape only.
local function parse_column_sql(op, sql)
  local t = tokenize(op, sql)
  return parse_column(op, sql, t, 1, #t)
end

local function parse_constraint_sql(op, sql)
  local t = tokenize(op, sql)
  return parse_table_constraint(op, sql, t, 1, #t)
end

local function render_reference(db, before, ref, self_name, target)
  local to = ref.target
  if to:lower() == self_name:lower() then to = target end
  return before .. " " .. q(db, to) .. (ref.after ~= "" and " " .. ref.after or "")
end

-- self_target: what the table's references to itself must say in the new definition.
local function render_model(db, model, name, self_target)
  local items = {}
  for _, col in ipairs(model.columns) do
    local parts = { q(db, col.name) }
    if col.type ~= "" then parts[#parts + 1] = col.type end
    for _, c in ipairs(col.clauses) do
      local body = c.ref and render_reference(db, "REFERENCES", c.ref, model.name, self_target)
        or c.text
      parts[#parts + 1] = named(db, c.name) .. body
    end
    items[#items + 1] = "    " .. table.concat(parts, " ")
  end
  for _, con in ipairs(model.constraints) do
    local body = con.ref and render_reference(db, con.before, con.ref, model.name, self_target)
      or con.text
    items[#items + 1] = "    " .. named(db, con.name) .. body
  end
  return "CREATE TABLE " .. q(db, name) .. " (\n" .. table.concat(items, ",\n") .. "\n)"
    .. (model.tail ~= "" and " " .. model.tail or "")
end

local function find_column(op, model, name)
  for _, col in ipairs(model.columns) do
    if col.name:lower() == name:lower() then return col end
  end
  argerror(op, "column '%s' does not exist in table '%s'", name, model.name)
end

local function constraint_exists(model, name)
  local lname = name:lower()
  for _, con in ipairs(model.constraints) do
    if con.name and con.name:lower() == lname then return true end
  end
  for _, col in ipairs(model.columns) do
    for _, c in ipairs(col.clauses) do
      if c.name and c.name:lower() == lname then return true end
    end
  end
  return false
end

-- Words of SQL expressions: unquoted, they are never the column that is dropped.
local EXPRESSION_WORDS = {}
for w in ([[AND OR NOT NULL IS IN BETWEEN LIKE GLOB REGEXP MATCH CASE WHEN THEN ELSE END CAST
    AS COLLATE ESCAPE EXISTS DISTINCT WHERE ASC DESC ISNULL NOTNULL TRUE FALSE]]):gmatch("%a+") do
  EXPRESSION_WORDS[w] = true
end

-- Whether tokens t[first..last] name column `name` (a function call of that name does not).
local function names_column(t, first, last, name)
  local lname = name:lower()
  for k = first, last do
    local tok = t[k]
    local candidate = tok.kind == "ident"
      or tok.kind == "word" and not EXPRESSION_WORDS[tok.up] and not is_punct(t[k + 1], "(")
    if candidate and tok.value:lower() == lname then return true end
  end
  return false
end

-- Whether the first parenthesised group of `sql` (a constraint's columns or expression, a
-- generated column's expression) names column `name`.
local function group_names_column(op, sql, name)
  local t = tokenize(op, sql)
  for k, tok in ipairs(t) do
    if is_punct(tok, "(") then return names_column(t, k + 1, skip_group(op, t, k) - 2, name) end
  end
  return false
end

-- Whether a CREATE INDEX statement uses column `name`: as a key, in an expression or in
-- the WHERE of a partial index (everything after "ON table").
local function index_names_column(op, sql, name)
  local t = tokenize(op, sql)
  for k, tok in ipairs(t) do
    if is_kw(tok, "ON") then return names_column(t, k + 2, #t, name) end
  end
  return false
end

return {
  constraint_exists = constraint_exists,
  find_column = find_column,
  group_names_column = group_names_column,
  index_names_column = index_names_column,
  parse_column_sql = parse_column_sql,
  parse_constraint_sql = parse_constraint_sql,
  parse_create_table = parse_create_table,
  render_model = render_model,
}
