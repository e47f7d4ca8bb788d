-- Nexmark q19: the ten highest bids of each auction, numbered 1..10 by price descending; equal prices
-- rank by event id (the earlier event ranks first). Final table, not the changelog.
SELECT auction, bidder, price, channel, url, dateTime, extra, rank_number
FROM (
  SELECT
    auction, bidder, price, channel, url, dateTime, extra,
    ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC, event_id ASC) AS rank_number
  FROM bid
)
WHERE rank_number <= 10;
