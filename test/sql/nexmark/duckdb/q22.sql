-- DuckDB reference SQL for the public Nexmark q22 (riffle's translation): the first three directories
-- of a bid's URL. Flink's SPLIT_INDEX is 0-based and NULL past the end; DuckDB lists are 1-based.
SELECT
  auction, bidder, price, channel,
  string_split(url, '/')[4] AS dir1,
  string_split(url, '/')[5] AS dir2,
  string_split(url, '/')[6] AS dir3
FROM bid;
