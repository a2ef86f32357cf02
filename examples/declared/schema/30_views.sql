-- Plain SQL declarations run as one script each, as psql or sqlite3 would read them.
CREATE VIEW book_titles AS
  SELECT b.id, b.title, a.name AS author
  FROM books b JOIN authors a ON a.id = b.author_id;
