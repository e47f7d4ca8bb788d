-- Nexmark q4: per category, the average of each auction's highest bid placed within the auction's life
-- (BETWEEN is inclusive at both ends). Flink's AVG over BIGINT is BIGINT: sum / count truncated toward
-- zero (DuckDB's // on integers truncates toward zero). Final table, not the changelog.
SELECT
  Q.category AS category,
  CAST(SUM(Q.final) // COUNT(*) AS BIGINT) AS final
FROM (
  SELECT MAX(B.price) AS final, A.category AS category
  FROM auction A
  JOIN bid B ON A.id = B.auction
  WHERE B.dateTime BETWEEN A.dateTime AND A.expires
  GROUP BY A.id, A.category
) Q
GROUP BY Q.category;
