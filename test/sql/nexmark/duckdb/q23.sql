-- DuckDB reference SQL for the public Nexmark q23 (riffle's translation): bids joined with their
-- bidder and with every auction that bidder sells. Columns are compared by position.
SELECT
  B.bidder AS c0, B.price AS c1, B.channel AS c2, B.url AS c3, B.extra AS c4,
  P.id AS c5, P.name AS c6, P.emailAddress AS c7, P.creditCard AS c8, P.city AS c9, P.state AS c10, P.extra AS c11,
  A.itemName AS c12, A.description AS c13, A.initialBid AS c14, A.reserve AS c15, A.dateTime AS c16,
  A.expires AS c17, A.seller AS c18, A.category AS c19, A.extra AS c20
FROM bid B
JOIN person P ON P.id = B.bidder
JOIN auction A ON A.seller = B.bidder;
