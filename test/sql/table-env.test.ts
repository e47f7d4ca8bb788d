/** SQL and DataStream in one job: a DataStream as a table, a query back as a DataStream, inserts alongside. */
import { describe, expect, it } from "vitest";
import { buildGraph, defineJob } from "../../core/api/environment.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { type ChangeRecord, foldChangelog } from "../../core/sql/changelog.ts";
import { SqlError } from "../../core/sql/errors.ts";
import { StreamTableEnvironment } from "../../core/sql/table-env.ts";

const USERS = ["ada", "bob", "cy"];
const click = (i: number) => ({ user: USERS[i % 3] as string, n: i % 7, ts: 1000 * i });

describe("StreamTableEnvironment", () => {
  it("runs a query over a DataStream and gives its changelog back as a DataStream, next to an INSERT", async () => {
    let refused: unknown;
    const job = defineJob("mixed", (env) => {
      const tenv = StreamTableEnvironment.create(env);
      const clicks = env.fromGenerator(click, { count: 300 });
      tenv.fromDataStream("clicks", clicks, "`user` VARCHAR, n BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts");
      const totals = tenv.sqlQuery("SELECT `user`, COUNT(*) AS c, SUM(n) AS s FROM clicks GROUP BY `user`");
      expect(totals.mode).toEqual(["+I", "-U", "+U", "-D"]);
      expect(totals.explain()).toMatch(/GroupAggregate/);
      totals.toChangelogStream().sinkTo("totals");
      try {
        totals.toDataStream();
      } catch (e) {
        refused = e;
      }
      tenv.sqlQuery("SELECT `user`, n * 2 AS twice FROM clicks WHERE n > 4").toDataStream().sinkTo("big");
      tenv.executeSql(`CREATE TABLE per_window (\`user\` VARCHAR, c BIGINT) WITH ('connector' = 'print');
        INSERT INTO per_window SELECT \`user\`, COUNT(*) FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '100' SECOND))
        GROUP BY \`user\`, window_start, window_end`);
    });
    const out = await runToCompletion(job, { clock: new ManualClock(), parallelism: 2 });
    expect(refused).toBeInstanceOf(SqlError);

    const clicks = Array.from({ length: 300 }, (_, i) => click(i));
    const totals = foldChangelog((out.get("totals") ?? []) as ChangeRecord[]).sort((a, b) =>
      String(a.user).localeCompare(String(b.user)),
    );
    expect(totals).toEqual(
      USERS.map((user) => {
        const mine = clicks.filter((c) => c.user === user);
        return { user, c: mine.length, s: mine.reduce((a, c) => a + c.n, 0) };
      }),
    );
    expect((out.get("big") ?? []).length).toBe(clicks.filter((c) => c.n > 4).length);
    expect(foldChangelog(out.get("per_window") ?? []).length).toBe(3 * 3);
  });

  it("refuses a query over a datastream table no stream stands behind", () => {
    let error: unknown;
    buildGraph(
      defineJob("x", (env) => {
        const tenv = StreamTableEnvironment.create(env);
        tenv.executeSql("CREATE TABLE t (a BIGINT) WITH ('connector' = 'datastream')");
        try {
          tenv.sqlQuery("SELECT a FROM t");
        } catch (e) {
          error = e;
        }
        env.fromElements([1]).sinkTo("s");
      }),
    );
    expect(error).toBeInstanceOf(SqlError);
    expect(String(error)).toMatch(/line 1, column 1: table 't' has no DataStream behind it/);
  });
});
