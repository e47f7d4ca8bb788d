-- Nexmark q17: per auction and UTC day ('yyyy-MM-dd'): bid counts by price band (as in q15) and
-- min / max / avg / sum of price. avg_price is BIGINT as in Flink: sum / count truncated toward zero.
-- Final table, not the changelog.
SELECT
  auction,
  strftime(epoch_ms(dateTime), '%Y-%m-%d') AS day,
  COUNT(*) AS total_bids,
  COUNT(*) FILTER (WHERE price < 10000) AS rank1_bids,
  COUNT(*) FILTER (WHERE price >= 10000 AND price < 1000000) AS rank2_bids,
  COUNT(*) FILTER (WHERE price >= 1000000) AS rank3_bids,
  MIN(price) AS min_price,
  MAX(price) AS max_price,
  CAST(SUM(price) // COUNT(*) AS BIGINT) AS avg_price,
  SUM(price) AS sum_price
FROM bid
GROUP BY 1, 2;
