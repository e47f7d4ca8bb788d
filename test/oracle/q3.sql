-- Nexmark q3: sellers in OR, ID or CA of auctions in category 10 (unbounded inner join).
SELECT P.name, P.city, P.state, A.id
FROM auction AS A
JOIN person AS P ON A.seller = P.id
WHERE A.category = 10 AND P.state IN ('OR', 'ID', 'CA');
