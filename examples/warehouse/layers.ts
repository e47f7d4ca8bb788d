/**
 * A layered warehouse in three jobs, each layer a dynamic table fed by the table of the
 * layer below (`riffleTableSource`), and a correction of a planted bug.
 *
 * - ODS `wh-ods.orders_ods`: the raw orders, amounts in cents of their own currency
 *   (an append table);
 * - DWD `wh-dwd.orders_dwd`: the paid orders with their amount in US cents beside the
 *   original (an upsert table keyed by order);
 * - DWS `wh-dws.sales_dws`: orders and sales per region, kept from DWD's changes with
 *   retractions (an upsert table keyed by region).
 *
 * The planted bug: the DWD job converts euros at 0.92, the dollar-to-euro rate, where
 * 1.08 belongs. The correction stops it with a savepoint and restores the fixed job
 * from that savepoint with `replay` set: its source reads the retained ODS snapshot
 * again, so every order is converted once more and overwrites its DWD row by key
 * (an `INSERT OVERWRITE` of the layer). The DWS job keeps running: it reads each
 * rewritten euro order as a retraction of the wrong row and an insert of the right one
 * (unchanged rows make no change), and its totals become right.
 */
import { defineJob, riffleTableSource, valueState } from "riffle";
import { StreamTableEnvironment } from "riffle/sql";

/** Orders the ODS job takes in. */
export const ORDERS = 3_000;
const REGIONS = ["north", "south", "east", "west"];
const CURRENCIES = ["USD", "EUR", "GBP"];

/** US cents per 100 units of each currency. */
export const RATES: Readonly<Record<string, number>> = { USD: 100, EUR: 108, GBP: 127 };
/** The planted bug: euros converted at the dollar-to-euro rate. */
const BUGGY_RATES: Readonly<Record<string, number>> = { ...RATES, EUR: 92 };

/** The order of index `i`: whole units in cents; every 11th is a test order. */
export function order(i: number) {
  return {
    order_id: i,
    region: REGIONS[i % REGIONS.length] as string,
    currency: CURRENCIES[(i * 7) % CURRENCIES.length] as string,
    amount: ((i % 40) + 1) * 100,
    status: i % 11 === 0 ? "test" : "paid",
  };
}

/** ODS: the raw orders as they come. */
export const odsJob = defineJob("wh-ods", (env) => {
  env.enableCheckpointing(50);
  env.configure({ sourceBatchSize: 100 });
  const tenv = StreamTableEnvironment.create(env);
  tenv.fromDataStream(
    "orders",
    env.fromGenerator(order, { count: ORDERS }).uid("orders"),
    "order_id BIGINT, region VARCHAR, currency VARCHAR, amount BIGINT, status VARCHAR",
  );
  tenv.executeSql(`
    CREATE TABLE orders_ods (order_id BIGINT, region VARCHAR, currency VARCHAR, amount BIGINT, status VARCHAR)
      WITH ('connector' = 'riffle');
    INSERT INTO orders_ods SELECT * FROM orders;
  `);
});

/** DWD: the paid orders in US cents; `fixed` converts at the right rates and replays ODS. */
export function dwdJob(version: "buggy" | "fixed") {
  const rates = version === "fixed" ? RATES : BUGGY_RATES;
  const rate = Object.entries(rates)
    .map(([c, r]) => `WHEN '${c}' THEN ${r}`)
    .join(" ");
  return defineJob("wh-dwd", (env) => {
    env.enableCheckpointing(50);
    const ods = env
      .fromSource(riffleTableSource("wh-ods", "orders_ods", version === "fixed" ? { replay: "fix-eur" } : {}))
      .uid("ods")
      .filter((c) => c.kind === "+I")
      .map((c) => c.row);
    const tenv = StreamTableEnvironment.create(env);
    tenv.fromDataStream("ods", ods, "order_id BIGINT, region VARCHAR, currency VARCHAR, amount BIGINT, status VARCHAR");
    tenv.executeSql(`
      CREATE TABLE orders_dwd (order_id BIGINT, region VARCHAR, currency VARCHAR, amount BIGINT, amount_usd BIGINT,
        PRIMARY KEY (order_id) NOT ENFORCED) WITH ('connector' = 'riffle');
      INSERT INTO orders_dwd
        SELECT order_id, region, currency, amount, amount * CASE currency ${rate} END / 100 FROM ods WHERE status = 'paid';
    `);
  });
}

/** DWS: orders and sales per region, from DWD's changes (a retraction takes its row back out). */
export const dwsJob = defineJob("wh-dws", (env) => {
  env.enableCheckpointing(50);
  env
    .fromSource(riffleTableSource("wh-dwd", "orders_dwd"))
    .uid("dwd")
    .keyBy((c) => String(c.row.region))
    .process({
      state: { orders: valueState<number>(), sales: valueState<number>() },
      processElement(c, ctx) {
        const sign = c.kind === "+I" || c.kind === "+U" ? 1 : -1;
        const orders = (ctx.state.orders.value() ?? 0) + sign;
        const sales = (ctx.state.sales.value() ?? 0) + sign * Number(c.row.amount_usd);
        ctx.state.orders.update(orders);
        ctx.state.sales.update(sales);
        ctx.emit({ region: ctx.key, orders, sales });
      },
    })
    .uid("per-region")
    .toTable("sales_dws", { columns: "region VARCHAR, orders BIGINT, sales BIGINT", primaryKey: ["region"] });
});

export default odsJob;
