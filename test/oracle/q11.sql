-- Nexmark q11: bids per bidder per event-time session, gap 10 s. As in Flink's session windows, each
-- bid opens [t, t + 10000) and windows merge when they intersect with closed bounds
-- (TimeWindow.intersects: start <= other.end AND end >= other.start). So a bid joins the previous
-- session when it comes at most 10000 ms after that session's last bid (exactly 10000 ms still merges).
-- starttime = first bid time, endtime = last bid time + 10000.
WITH flagged AS (
  SELECT
    bidder,
    dateTime,
    event_id,
    CASE
      WHEN dateTime - LAG(dateTime) OVER (PARTITION BY bidder ORDER BY dateTime, event_id) <= 10000 THEN 0
      ELSE 1
    END AS starts_session
  FROM bid
),
numbered AS (
  SELECT
    bidder,
    dateTime,
    SUM(starts_session) OVER (
      PARTITION BY bidder ORDER BY dateTime, event_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS session_no
  FROM flagged
)
SELECT
  bidder,
  COUNT(*) AS bid_count,
  MIN(dateTime) AS starttime,
  MAX(dateTime) + 10000 AS endtime
FROM numbered
GROUP BY bidder, session_no;
