-- A new table: declarations apply in file-name order, so authors exists already.
return function(db)
  db:create_table("books", {
    { "id", "integer", primary_key = true },
    { "author_id", "integer", not_null = true, references = "authors.id", on_delete = "cascade" },
    { "title", "text", not_null = true },
  })
  db:create_index("books", { "author_id" })
end
