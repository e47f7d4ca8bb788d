// examples/cdc-orders.ts
import { defineJob } from "riffle";
import { postgresCdc, postgresSink } from "riffle/postgres";

// A role with REPLICATION that may read `orders` and write `orders_copy`.
const url = process.env.DATABASE_URL ?? "postgres://riffle@127.0.0.1:5432/shop";

export default defineJob("orders-copy", (env) => {
  env.enableCheckpointing(1000);
  env
    // The table's changelog: a lock-free snapshot, then its changes, as { kind, row }.
    .fromSource(postgresCdc({ url, table: "orders", slot: "riffle_orders" }))
    // Changes of one key stay in order on one sink partition.
    .keyBy((change) => String(change.row.id))
    // Upserts and deletes, committed once per checkpoint, exactly once.
    .addSink(postgresSink({ url, table: "orders_copy", key: ["id"] }));
});
