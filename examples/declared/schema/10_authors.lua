-- What the authors table should be: as released, plus an email.
return function(db)
  db:create_table("authors", {
    { "id", "integer", primary_key = true },
    { "name", "text", not_null = true },
    { "email", "text" },
  })
  db:create_index("authors", { "email" }, { unique = true })
end
