-- DuckDB reference SQL for the public Nexmark q10: every bid with its UTC day and 'HH:mm' (the
-- partition columns of the filesystem sink, read back from the directory names).
SELECT
  auction,
  bidder,
  price,
  dateTime,
  extra,
  strftime(epoch_ms(dateTime), '%Y-%m-%d') AS dt,
  strftime(epoch_ms(dateTime), '%H:%M') AS hm
FROM bid;
