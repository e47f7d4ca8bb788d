/**
 * A layered streaming warehouse in one job: every layer is a dynamic table, fed by the
 * layer below, and every layer can be queried at a consistent checkpoint while the job
 * runs (`riffle query`, `GET /jobs/warehouse/tables/...`).
 *
 * - ODS `orders_ods`: the raw orders, as they come (an append table);
 * - DWD `orders_dwd`: the cleaned orders, test orders and refunds left out (an append table);
 * - DWS `sales_dws`: sales per region from the DWD layer (an upsert table keyed by region).
 *
 *   ./riffle run examples/warehouse/warehouse.ts --state-dir wh --out wh.jsonl
 *   ./riffle query "SELECT * FROM sales_dws" --state-dir wh --format table
 */
import { defineJob } from "riffle";
import { StreamTableEnvironment } from "riffle/sql";

/** Orders the generator makes. */
export const ORDERS = 5_000;
const REGIONS = ["north", "south", "east", "west"];

/** The order of index `i`: every 13th is a test order, every 17th a refund (negative amount). */
export function order(i: number) {
  return {
    order_id: i,
    region: REGIONS[i % REGIONS.length] as string,
    amount: i % 17 === 0 ? -((i % 50) + 1) : (i % 50) + 1,
    status: i % 13 === 0 ? "test" : "paid",
  };
}

export default defineJob("warehouse", (env) => {
  env.enableCheckpointing(100);
  env.configure({ sourceBatchSize: 250 });
  const tenv = StreamTableEnvironment.create(env);
  tenv.fromDataStream(
    "orders",
    env.fromGenerator(order, { count: ORDERS, splits: 2 }),
    "order_id BIGINT, region VARCHAR, amount BIGINT, status VARCHAR",
  );
  tenv.executeSql(`
    CREATE TABLE orders_ods (order_id BIGINT, region VARCHAR, amount BIGINT, status VARCHAR)
      WITH ('connector' = 'riffle');
    CREATE TABLE orders_dwd (order_id BIGINT, region VARCHAR, amount BIGINT)
      WITH ('connector' = 'riffle');
    CREATE VIEW dwd AS SELECT order_id, region, amount FROM orders WHERE status = 'paid' AND amount > 0;
    INSERT INTO orders_ods SELECT * FROM orders;
    INSERT INTO orders_dwd SELECT * FROM dwd;
    CREATE MATERIALIZED TABLE sales_dws (PRIMARY KEY (region) NOT ENFORCED) AS
      SELECT region, COUNT(*) AS orders, SUM(amount) AS sales FROM dwd GROUP BY region;
  `);
});
