-- DuckDB reference SQL for the public Nexmark q6 (riffle's reading of it): per seller, the average
-- price of the winning bids of its last 10 auctions (each row's frame: 10 rows before it and
-- itself). Valid SQL for what the public file means: it names `rownum` in the WHERE that defines
-- it and the inner tables' qualifiers outside their subquery, which riffle accepts and Flink
-- refuses (see core/sql/over-bind.ts and binder.ts). Ties rank by the whole row, as in riffle
-- (core/sql/rank.ts): the winning bid by price, then the row; the frame by dateTime, then the row.
-- AVG of BIGINT truncates, as in Flink. Final table, not the changelog.
SELECT
  CAST(seller AS VARCHAR) AS c0,
  CAST(trunc(AVG(price) OVER (
    PARTITION BY seller ORDER BY dateTime, id, seller, price ROWS BETWEEN 10 PRECEDING AND CURRENT ROW
  )) AS BIGINT) AS c1
FROM (
  SELECT * FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY id, seller ORDER BY price DESC, id, seller, price, dateTime) AS rownum
    FROM (
      SELECT A.id, A.seller, B.price, B.dateTime
      FROM auction AS A, bid AS B
      WHERE A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
    )
  )
  WHERE rownum <= 1
);
