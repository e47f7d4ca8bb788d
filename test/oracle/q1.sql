-- Nexmark q1: currency conversion. Flink computes 0.908 * price as DECIMAL(23, 3), which is exact;
-- price * 908 is an exact integer, so one IEEE division gives the double nearest that decimal.
SELECT
  auction,
  bidder,
  CAST(price * 908 AS DOUBLE) / 1000 AS price,
  dateTime,
  extra
FROM bid;
