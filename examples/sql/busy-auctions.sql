-- examples/sql/busy-auctions.sql: auctions with at least 800 bids in a second of event time.
CREATE TABLE nexmark (
  event_type INT,
  person ROW<id BIGINT, name VARCHAR, `dateTime` TIMESTAMP(3)>,
  auction ROW<id BIGINT, seller BIGINT, category BIGINT, `dateTime` TIMESTAMP(3)>,
  bid ROW<auction BIGINT, bidder BIGINT, price BIGINT, `dateTime` TIMESTAMP(3)>,
  `dateTime` AS CASE
    WHEN event_type = 0 THEN person.`dateTime`
    WHEN event_type = 1 THEN auction.`dateTime`
    ELSE bid.`dateTime`
  END,
  WATERMARK FOR `dateTime` AS `dateTime` - INTERVAL '4' SECOND
) WITH ('connector' = 'nexmark', 'events.num' = '50000');

CREATE VIEW bid AS
SELECT bid.auction, bid.bidder, bid.price, `dateTime` FROM nexmark WHERE event_type = 2;

CREATE TABLE busy_auctions (auction BIGINT, bids BIGINT, top_price BIGINT, window_end TIMESTAMP(3))
WITH ('connector' = 'print');

INSERT INTO busy_auctions
SELECT auction, COUNT(*), MAX(price), window_end
FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '1' SECOND))
GROUP BY auction, window_start, window_end
HAVING COUNT(*) >= 800;
