-- examples/sql/click-counts.sql: clicks posted over HTTP, counted per user.
-- POST /jobs/click-counts/sources/clicks/events  [{"user": "ada", "page": "/a", "ts": 1}]
CREATE TABLE clicks (`user` VARCHAR, page VARCHAR, ts TIMESTAMP(3)) WITH ('connector' = 'ingest');

CREATE TABLE counts (`user` VARCHAR, n BIGINT) WITH ('connector' = 'print');

INSERT INTO counts SELECT `user`, COUNT(*) AS n FROM clicks GROUP BY `user`;
