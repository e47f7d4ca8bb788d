-- Nexmark q9: the winning bid of each auction: among bids with auction.dateTime <= bid.dateTime <=
-- auction.expires, the highest price, then the earliest dateTime, then the earliest event.
SELECT
  id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra,
  auction, bidder, price, bid_dateTime, bid_extra
FROM (
  SELECT
    A.id, A.itemName, A.description, A.initialBid, A.reserve, A.dateTime, A.expires, A.seller,
    A.category, A.extra,
    B.auction, B.bidder, B.price, B.dateTime AS bid_dateTime, B.extra AS bid_extra,
    ROW_NUMBER() OVER (
      PARTITION BY A.id
      ORDER BY B.price DESC, B.dateTime ASC, B.event_id ASC, A.event_id ASC
    ) AS rownum
  FROM auction A
  JOIN bid B ON A.id = B.auction
  WHERE B.dateTime BETWEEN A.dateTime AND A.expires
)
WHERE rownum <= 1;
