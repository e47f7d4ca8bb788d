-- Nexmark q7: highest bid per TUMBLE(10 s) window. For a window [s, s + 10000) with maximum price M,
-- every bid with price = M and s <= dateTime <= s + 10000 is emitted (BETWEEN is inclusive, so a bid
-- exactly at the window end also matches); ties are all emitted, and one bid may match two windows.
WITH windows AS (
  SELECT
    dateTime - ((dateTime % 10000) + 10000) % 10000 AS window_start,
    MAX(price) AS maxprice
  FROM bid
  GROUP BY 1
)
SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
FROM bid B
JOIN windows W ON B.price = W.maxprice
WHERE B.dateTime BETWEEN W.window_start AND W.window_start + 10000;
