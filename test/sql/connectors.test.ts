/** Connectors: datagen is deterministic at any parallelism; bad options and unknown connectors are named. */
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { foldChangelog } from "../../core/sql/changelog.ts";
import { SqlError } from "../../core/sql/errors.ts";
import { planSql, sqlJob } from "../../core/sql/session.ts";

const DATAGEN = `CREATE TABLE gen (id BIGINT, price INT, name VARCHAR, ok BOOLEAN, ts TIMESTAMP(3)) WITH (
  'connector' = 'datagen', 'number-of-rows' = '5000',
  'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '1000',
  'fields.price.min' = '1', 'fields.price.max' = '100', 'fields.name.length' = '5'
);
CREATE TABLE rows_out (id BIGINT, price INT, name VARCHAR, ok BOOLEAN, ts TIMESTAMP(3)) WITH ('connector' = 'print');
INSERT INTO rows_out SELECT * FROM gen;
`;

describe("datagen", () => {
  it("makes the same rows at any parallelism, within the options' bounds, as many as the shortest bound", async () => {
    const runs: Record<string, unknown>[][] = [];
    for (const parallelism of [1, 3]) {
      const out = await runToCompletion(sqlJob("gen", DATAGEN), { clock: new ManualClock(), parallelism });
      runs.push(foldChangelog(out.get("rows_out") ?? []));
    }
    const [a, b] = runs as [Record<string, unknown>[], Record<string, unknown>[]];
    const key = (r: Record<string, unknown>) => r.id as number;
    expect([...a].sort((x, y) => key(x) - key(y))).toEqual([...b].sort((x, y) => key(x) - key(y)));
    expect(a.map(key).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    for (const r of a) {
      expect(r.price).toBeGreaterThanOrEqual(1);
      expect(r.price).toBeLessThanOrEqual(100);
      expect(r.name).toMatch(/^[a-z]{5}$/);
      expect(typeof r.ok).toBe("boolean");
    }
    expect(new Set(a.map((r) => r.price)).size).toBeGreaterThan(50);
  });
});

function planError(sql: string): SqlError {
  try {
    planSql(sql);
  } catch (e) {
    if (e instanceof SqlError) return e;
    throw e;
  }
  throw new Error(`planned: ${sql}`);
}

describe("connector errors", () => {
  const sink = "CREATE TABLE o (a BIGINT) WITH ('connector' = 'print');\n";
  it("refuses INSERT OVERWRITE at plan time, naming how a layer is corrected", () => {
    const e = planError(
      `${sink}CREATE TABLE g (a BIGINT) WITH ('connector' = 'datagen');\nINSERT OVERWRITE o SELECT a FROM g`,
    );
    expect(e.message).toMatch(
      /^line 3, column 1: INSERT OVERWRITE \(.*riffleTableSource's `replay`\) is not supported yet$/,
    );
  });
  it("names a connector riffle cannot read or write", () => {
    expect(
      planError(`${sink}CREATE TABLE k (a BIGINT) WITH ('connector' = 'kafka');\nINSERT INTO o SELECT a FROM k`)
        .message,
    ).toBe("line 2, column 1: reading from connector 'kafka' is not supported yet");
    expect(
      planError(
        "CREATE TABLE g (a BIGINT) WITH ('connector' = 'datagen');\nCREATE TABLE f (a BIGINT) WITH ('connector' = 'kafka');\nINSERT INTO f SELECT a FROM g",
      ).message,
    ).toBe("line 2, column 1: writing to connector 'kafka' is not supported yet");
    expect(planError("CREATE TABLE n (a BIGINT);\nINSERT INTO n SELECT a FROM n").message).toBe(
      "line 1, column 1: table 'n' has no 'connector' option",
    );
  });

  it("checks the nexmark options", () => {
    const nexmark = (opts: string) =>
      `${sink}CREATE TABLE x (event_type INT) WITH ('connector' = 'nexmark'${opts});\nINSERT INTO o SELECT event_type FROM x`;
    expect(planError(nexmark(", 'events.num' = 'lots'")).message).toBe(
      "line 2, column 1: option 'events.num' of table 'x' must be a number, got 'lots'",
    );
    expect(planError(nexmark(", 'first-event.rate' = '10', 'next-event.rate' = '20'")).kind).toBe("unsupported");
    expect(planError(nexmark(", 'bid.proportion' = '40'")).message).toMatch(
      /nexmark option 'bid.proportion' = '40' \(only 46\)/,
    );
  });
});
