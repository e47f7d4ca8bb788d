-- DuckDB reference SQL for the public Nexmark q13: each bid joined with the side input row whose
-- key is its auction mod 10000 (the side input is the same CSV file; ${SIDE_INPUT} is its path).
SELECT b.auction, b.bidder, b.price, b.dateTime, s.value
FROM bid b
JOIN read_csv('${SIDE_INPUT}', header = false, columns = {'key': 'BIGINT', 'value': 'VARCHAR'}) s
  ON b.auction % 10000 = s.key;
