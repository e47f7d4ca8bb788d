-- DuckDB reference SQL for the public Nexmark q9 (riffle's translation): the winning bid of each
-- auction among its bids between the auction's dateTime and expires: the highest price, then the
-- earliest bid; rows still equal rank by the whole joined row, ascending, as riffle's TopN breaks
-- ties (core/sql/rank.ts). Columns are compared by position.
SELECT
  id AS c0, itemName AS c1, description AS c2, initialBid AS c3, reserve AS c4, a_dateTime AS c5, expires AS c6,
  seller AS c7, category AS c8, a_extra AS c9, auction AS c10, bidder AS c11, price AS c12, bid_dateTime AS c13,
  bid_extra AS c14
FROM (
  SELECT
    A.id, A.itemName, A.description, A.initialBid, A.reserve, A.dateTime AS a_dateTime, A.expires, A.seller,
    A.category, A.extra AS a_extra, B.auction, B.bidder, B.price, B.dateTime AS bid_dateTime, B.extra AS bid_extra,
    ROW_NUMBER() OVER (
      PARTITION BY A.id
      ORDER BY B.price DESC, B.dateTime ASC,
        A.id, A.itemName, A.description, A.initialBid, A.reserve, A.dateTime, A.expires, A.seller, A.category,
        A.extra, B.auction, B.bidder, B.price, B.channel, B.url, B.dateTime, B.extra
    ) AS rownum
  FROM auction A
  JOIN bid B ON A.id = B.auction
  WHERE B.dateTime BETWEEN A.dateTime AND A.expires
)
WHERE rownum <= 1;
