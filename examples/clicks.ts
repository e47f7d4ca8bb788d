/**
 * Clicks per user, fed over HTTP. The `clicks` ingest source checks every record
 * against a zod schema (a record that does not match is refused with 422), and a
 * keyed counter emits `{ user, n }` for each click: the n-th click of that user.
 *
 *   ./riffle dev examples/clicks.ts                       # embedded runtime
 *   ./riffle dev examples/clicks.ts --runtime aws-local   # SQS + DynamoDB + Step Functions emulators
 *
 * A click on the page `/poison` makes the map throw until `faults.poisonFixed` is
 * set: it shows how a poison record is dead-lettered while the job goes on, and
 * replayed after the fix.
 */
import { defineJob, valueState } from "riffle";
import { z } from "zod";

/** One click, as posted to `POST /jobs/clicks/sources/clicks/events`. */
export const Click = z.object({
  user: z.string().min(1),
  page: z.string().startsWith("/"),
  ts: z.number().int().nonnegative(),
});
export type Click = z.infer<typeof Click>;

/** Switch for the poison-record demo and tests. */
export const faults = { poisonFixed: false };

export default defineJob("clicks", (env) => {
  env.enableCheckpointing(1000);
  env.setRecordFailureStrategy("dead-letter"); // a record that keeps failing is set aside; the job goes on
  env
    .fromIngest("clicks", { schema: Click, partitions: 4 })
    .map((c) => {
      if (c.page === "/poison" && !faults.poisonFixed) throw new Error(`poison click by ${c.user}`);
      return c;
    })
    .keyBy((c) => c.user)
    .process({
      state: { n: valueState<number>() },
      processElement(c, ctx) {
        const n = (ctx.state.n.value() ?? 0) + 1;
        ctx.state.n.update(n);
        ctx.emit({ user: c.user, n });
      },
    })
    .sinkTo("counts");
});
