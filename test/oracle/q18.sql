-- Nexmark q18: the last bid of each (bidder, auction): greatest dateTime, ties to the greatest event id.
-- Final table, not the changelog.
SELECT auction, bidder, price, channel, url, dateTime, extra
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY dateTime DESC, event_id DESC) AS rank_number
  FROM bid
)
WHERE rank_number <= 1;
