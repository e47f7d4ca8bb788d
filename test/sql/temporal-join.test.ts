/**
 * Event-time temporal joins (`FOR SYSTEM_TIME AS OF b.dateTime`) of Nexmark bids with the versions
 * of each seller's latest auction, from a versioned table (PRIMARY KEY and WATERMARK), against
 * DuckDB's ASOF joins of the same events, at parallelism 1 and 4 and under injected faults; a
 * deduplicating view as the versioned side; and the errors of their misuse.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StreamExecutionEnvironment } from "../../core/api/environment.ts";
import { defineJob } from "../../core/api/environment.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { SqlError } from "../../core/sql/errors.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";
import { StreamTableEnvironment } from "../../core/sql/table-env.ts";
import { type Oracle, positionalDiff } from "../oracle/duckdb-oracle.ts";
import { simulate } from "../sim/simulate.ts";
import { nexmarkOracle } from "../support/sql-oracle-runs.ts";
import { nexmarkTables } from "./nexmark/script.ts";

const EVENTS = 2000;
/** One event a millisecond, so that no two auctions of a seller share a time (checked below). */
const RATE = 1000;

/** Each seller's auctions as versions of the seller (rows of other events have a NULL key, and join nothing). */
const SELLERS = `CREATE TABLE sellers (
  event_type INT,
  person ROW<\`dateTime\` TIMESTAMP(3)>,
  auction ROW<id BIGINT, seller BIGINT, category BIGINT, \`dateTime\` TIMESTAMP(3)>,
  bid ROW<\`dateTime\` TIMESTAMP(3)>,
  seller AS auction.seller,
  id AS auction.id,
  category AS auction.category,
  \`dateTime\` AS CASE WHEN event_type = 0 THEN person.\`dateTime\` WHEN event_type = 1 THEN auction.\`dateTime\` ELSE bid.\`dateTime\` END,
  PRIMARY KEY (seller) NOT ENFORCED,
  WATERMARK FOR \`dateTime\` AS \`dateTime\` - INTERVAL '4' SECOND
) WITH ('connector' = 'nexmark', 'seed' = '7', 'events.num' = '${EVENTS}', 'first-event.rate' = '${RATE}', 'next-event.rate' = '${RATE}')`;

const SELECT = "SELECT b.auction, b.bidder, b.price, b.dateTime, a.id, a.category FROM bid b";

/** Each query, and DuckDB's ASOF join of the same events. */
const QUERIES: Record<string, { sql: string; duckdb: string }> = {
  "left join of a versioned table": {
    sql: `${SELECT} LEFT JOIN sellers FOR SYSTEM_TIME AS OF b.dateTime AS a ON b.bidder = a.seller`,
    duckdb: `${SELECT} ASOF LEFT JOIN auction a ON b.bidder = a.seller AND b.dateTime >= a.dateTime`,
  },
  "inner join of a versioned table, filtered after the version is chosen": {
    sql: `${SELECT} JOIN sellers FOR SYSTEM_TIME AS OF b.dateTime AS a ON b.bidder = a.seller AND a.category <> 12`,
    duckdb: `SELECT * FROM (${SELECT} ASOF JOIN auction a ON b.bidder = a.seller AND b.dateTime >= a.dateTime) WHERE category <> 12`,
  },
};

const script = (sql: string, events = EVENTS) =>
  `${nexmarkTables(events, RATE)};
  ${SELLERS};
  CREATE TABLE out (auction BIGINT, bidder BIGINT, price BIGINT, t TIMESTAMP(3), id BIGINT, category BIGINT)
  WITH ('connector' = 'print', 'changelog-mode' = 'insert-only');
  INSERT INTO out ${sql}`;

const diff = positionalDiff;

describe("event-time temporal joins vs DuckDB's ASOF joins", () => {
  let oracle: Oracle;
  beforeAll(async () => {
    oracle = await nexmarkOracle(EVENTS, RATE);
  });
  afterAll(() => oracle?.close());

  it("has no two auctions of a seller at one time (so that the version at a time is one row)", async () => {
    const ties = await oracle.runSql(
      "SELECT seller, dateTime FROM auction GROUP BY seller, dateTime HAVING COUNT(*) > 1",
    );
    expect(ties).toEqual([]);
  });

  it("explains an insert-only temporal join that keeps the versioned side unfiltered", () => {
    const query = QUERIES["inner join of a versioned table, filtered after the version is chosen"]?.sql ?? "";
    const text = planSql(script(query).replace("INSERT INTO", "EXPLAIN INSERT INTO")).explains[0];
    expect(text).toMatch(
      /TemporalJoin\(type=\[InnerJoin\], keys=\[bidder = seller\], where=\[.*category <> 12.*changelogMode=\[I\]/,
    );
  });

  for (const [name, q] of Object.entries(QUERIES)) {
    it(`${name}, at parallelism 1 and 4 and under injected faults`, async () => {
      const expected = await oracle.runSql(q.duckdb);
      expect(expected.filter((r) => r.id !== null).length).toBeGreaterThan(50);
      for (const parallelism of [1, 4]) {
        const out = await runToCompletion(sqlJob("temporal", script(q.sql)), { clock: new ManualClock(), parallelism });
        expect(diff(out, expected), `parallelism ${parallelism}`).toEqual([]);
      }
      const faulty = (env: StreamExecutionEnvironment) => {
        env.configure({ sourceBatchSize: 37, maxRecordsPerEnvelope: 16 });
        env.enableCheckpointing(5).setRestartStrategy({ attempts: 50, delayMs: 5 });
      };
      let crashes = 0;
      for (const seed of [1, 2]) {
        const r = await simulate(
          { name: "temporal", job: sqlJob("temporal", script(q.sql), faulty), check: (out) => diff(out, expected) },
          seed,
        );
        expect(r.diffs, `seed ${seed}`).toEqual([]);
        crashes += r.faults.crashBeforeCommit + r.faults.crashAfterCommit + r.faults.crashMidSend + r.faults.failovers;
      }
      expect(crashes, "crashes injected").toBeGreaterThan(0);
    });
  }

  it("refuses its misuse with line and column", () => {
    const error = (sql: string) => {
      try {
        planSql(script(sql, 10));
      } catch (e) {
        if (e instanceof SqlError) return e.message;
        throw e;
      }
      return "planned";
    };
    expect(error(`${SELECT} JOIN sellers FOR SYSTEM_TIME AS OF b.dateTime AS a ON b.auction = a.id`)).toMatch(
      /column \d+: a temporal join must equate the primary key of 'sellers' \(missing: seller\)$/,
    );
    expect(error(`${SELECT} JOIN sellers FOR SYSTEM_TIME AS OF b.price AS a ON b.bidder = a.seller`)).toMatch(
      /FOR SYSTEM_TIME AS OF must name the rowtime column/,
    );
    expect(error(`${SELECT} JOIN datagen FOR SYSTEM_TIME AS OF b.dateTime AS a ON b.bidder = a.event_type`)).toMatch(
      /column \d+: the versioned table 'datagen' of a temporal join needs a PRIMARY KEY$/,
    );
    expect(error(`${SELECT} RIGHT JOIN sellers FOR SYSTEM_TIME AS OF b.dateTime AS a ON b.bidder = a.seller`)).toMatch(
      /a RIGHT temporal join is not supported yet$/,
    );
  });
});

describe("a deduplicating view as the versioned side", () => {
  it("joins each order with the rate its currency had at the order's time, as the view emitted it", async () => {
    const rates = [
      { currency: "EUR", rate: 110, ts: 1_000 },
      { currency: "GBP", rate: 130, ts: 1_500 },
      { currency: "EUR", rate: 112, ts: 5_000 },
      { currency: "EUR", rate: 109, ts: 9_000 },
    ];
    const orders = [
      { id: 1, currency: "EUR", amount: 2, ts: 500 }, // before any EUR rate
      { id: 2, currency: "EUR", amount: 3, ts: 1_000 }, // at the first rate's time
      { id: 3, currency: "GBP", amount: 1, ts: 7_000 },
      { id: 4, currency: "EUR", amount: 5, ts: 6_000 },
      { id: 5, currency: "USD", amount: 7, ts: 8_000 }, // no USD rate at all
      { id: 6, currency: "EUR", amount: 1, ts: 9_500 },
    ];
    const job = defineJob("rates", (env) => {
      const tenv = StreamTableEnvironment.create(env);
      tenv.fromDataStream(
        "rates",
        env.fromElements(rates),
        "currency VARCHAR, rate BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts",
      );
      tenv.fromDataStream(
        "orders",
        env.fromElements(orders),
        "id BIGINT, currency VARCHAR, amount BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts",
      );
      tenv.executeSql(`CREATE VIEW latest_rates AS SELECT currency, rate, ts FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY currency ORDER BY ts DESC) AS rn FROM rates) WHERE rn = 1`);
      tenv
        .sqlQuery(`SELECT o.id, o.amount * r.rate AS price FROM orders o
          LEFT JOIN latest_rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.currency = r.currency`)
        .toDataStream()
        .sinkTo("out");
    });
    const out = await runToCompletion(job, { clock: new ManualClock(), parallelism: 2 });
    const byId = [...(out.get("out") ?? [])].sort((a, b) => (a as { id: number }).id - (b as { id: number }).id);
    expect(byId).toEqual([
      { id: 1, price: null },
      { id: 2, price: 330 },
      { id: 3, price: 130 },
      { id: 4, price: 560 },
      { id: 5, price: null },
      { id: 6, price: 109 },
    ]);
  });
});
