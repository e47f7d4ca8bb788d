-- DuckDB reference SQL for the public Nexmark q12, on what a batch can say about processing-time
-- windows: summed over all of a bidder's windows, the bid counts are the bidder's number of bids.
SELECT bidder, count(*) AS bids FROM bid GROUP BY bidder;
