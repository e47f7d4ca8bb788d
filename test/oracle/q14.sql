-- Nexmark q14: price conversion, hour-of-day bucket (UTC), price filter and a scalar function.
-- The filter 1000000 < 0.908 * price < 50000000 is evaluated exactly, on price * 908 in integers.
-- bidTimeType: hours 8..18 'dayTime'; hours <= 6 or >= 20 'nightTime'; hours 7 and 19 'otherTime'.
-- c_counts counts the character 'c' in extra (0 when extra is null), like nexmark's CountChar UDF.
SELECT
  auction,
  bidder,
  CAST(price * 908 AS DOUBLE) / 1000 AS price,
  CASE
    WHEN hour(epoch_ms(dateTime)) >= 8 AND hour(epoch_ms(dateTime)) <= 18 THEN 'dayTime'
    WHEN hour(epoch_ms(dateTime)) <= 6 OR hour(epoch_ms(dateTime)) >= 20 THEN 'nightTime'
    ELSE 'otherTime'
  END AS bidTimeType,
  dateTime,
  extra,
  COALESCE(length(extra) - length(replace(extra, 'c', '')), 0) AS c_counts
FROM bid
WHERE price * 908 > 1000000000 AND price * 908 < 50000000000;
