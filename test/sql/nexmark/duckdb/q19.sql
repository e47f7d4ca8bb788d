-- DuckDB reference SQL for the public Nexmark q19 (riffle's translation): the ten highest bids of
-- each auction, numbered 1..10. Bids of equal price rank by their whole row, ascending, as riffle's
-- TopN breaks ties (core/sql/rank.ts). Final table, not the changelog.
SELECT auction, bidder, price, channel, url, dateTime, extra, rank_number
FROM (
  SELECT auction, bidder, price, channel, url, dateTime, extra,
    ROW_NUMBER() OVER (
      PARTITION BY auction
      ORDER BY price DESC, auction, bidder, price, channel, url, dateTime, extra
    ) AS rank_number
  FROM bid
)
WHERE rank_number <= 10;
