-- Nexmark q8: people who created an auction in the same TUMBLE(10 s) window [s, s + 10000) in which
-- they registered. Both sides are grouped first, so each (id, name, window) appears at most once.
WITH P AS (
  SELECT DISTINCT id, name, dateTime - ((dateTime % 10000) + 10000) % 10000 AS starttime
  FROM person
),
A AS (
  SELECT DISTINCT seller, dateTime - ((dateTime % 10000) + 10000) % 10000 AS starttime
  FROM auction
)
SELECT P.id, P.name, P.starttime
FROM P
JOIN A ON P.id = A.seller AND P.starttime = A.starttime;
