-- DuckDB reference SQL for the public Nexmark q18 (riffle's translation): the last bid of each
-- (bidder, auction). Bids of equal dateTime rank by their whole row, ascending, as riffle's
-- deduplication breaks ties (core/sql/rank.ts): Flink breaks them by arrival order, which
-- parallel sources do not fix. Final table, not the changelog.
SELECT auction, bidder, price, channel, url, dateTime, extra
FROM (
  SELECT *, ROW_NUMBER() OVER (
    PARTITION BY bidder, auction
    ORDER BY dateTime DESC, auction, bidder, price, channel, url, dateTime, extra
  ) AS rank_number
  FROM bid
)
WHERE rank_number <= 1;
