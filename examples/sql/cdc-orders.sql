-- examples/sql/cdc-orders.sql: the changelog of Postgres table `orders`, exactly once into `orders_copy`.
-- Run with: riffle sql examples/sql/cdc-orders.sql --define DATABASE_URL=postgres://…
CREATE TABLE orders (
  id INT,
  item VARCHAR,
  qty INT
) WITH (
  'connector' = 'postgres-cdc',
  'url' = '${DATABASE_URL}',
  'table-name' = 'orders',
  'slot.name' = 'riffle_orders_sql'
);

CREATE TABLE orders_copy (
  id INT,
  item VARCHAR,
  qty INT,
  PRIMARY KEY (id) NOT ENFORCED
) WITH (
  'connector' = 'postgres',
  'url' = '${DATABASE_URL}'
);

INSERT INTO orders_copy SELECT id, item, qty FROM orders;
