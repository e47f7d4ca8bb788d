-- DuckDB reference SQL for the public Nexmark q20 (riffle's translation): bids joined with their
-- auction, for auctions of category 10. Columns are compared by position (two are named dateTime).
SELECT
  B.auction AS c0, B.bidder AS c1, B.price AS c2, B.channel AS c3, B.url AS c4, B.dateTime AS c5, B.extra AS c6,
  A.itemName AS c7, A.description AS c8, A.initialBid AS c9, A.reserve AS c10, A.dateTime AS c11, A.expires AS c12,
  A.seller AS c13, A.category AS c14, A.extra AS c15
FROM bid B
JOIN auction A ON B.auction = A.id
WHERE A.category = 10;
