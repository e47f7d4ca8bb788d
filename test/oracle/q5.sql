-- Nexmark q5: hot items. HOP(slide 2 s, size 10 s): a bid at t is in every window [s, s + 10000) with
-- s a multiple of 2000 and t - 10000 < s <= t (five windows). Per window, every auction whose bid count
-- equals the window's maximum is emitted (ties all emitted), as (auction, num) without the window.
WITH hop AS (
  SELECT
    B.auction,
    B.dateTime - ((B.dateTime % 2000) + 2000) % 2000 - k.i * 2000 AS starttime
  FROM bid B
  CROSS JOIN range(0, 5) AS k(i)
),
auction_bids AS (
  SELECT auction, starttime, COUNT(*) AS num
  FROM hop
  GROUP BY auction, starttime
),
max_bids AS (
  SELECT starttime, MAX(num) AS maxn
  FROM auction_bids
  GROUP BY starttime
)
SELECT AB.auction, AB.num
FROM auction_bids AB
JOIN max_bids MB ON AB.starttime = MB.starttime AND AB.num >= MB.maxn;
