-- Nexmark q0: pass-through of every bid.
SELECT auction, bidder, price, dateTime, extra
FROM bid;
