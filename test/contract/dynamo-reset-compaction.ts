/**
 * A savepoint restore's reset against a compaction in flight (the coordinator's
 * Complete step of a checkpoint taken before the restore, in another Lambda): the
 * compaction read the old log, and its late writes must not land in the new one.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { RiffleError } from "../../core/errors.ts";
import type { PartitionBase } from "../../core/ports/state-store.ts";
import { dynamoClient, type TableNames } from "../../functions/aws/dynamo-client.ts";
import { DynamoStateStore } from "../../functions/aws/dynamo-state-store.ts";
import { ref, seg, sent, set } from "./state-store.contract-helpers.ts";

type Fresh = () => Promise<{ client: DynamoDBClient; tables: TableNames; endpoint: string }>;

/** Whether a request is a compaction's first write after its lease (values or base). */
const isWrite = (command: string, input: string) => command === "BatchWriteItemCommand" || /~base/.test(input);

/**
 * A client of `endpoint` whose first request that `gates` (by default a write after the
 * lease) waits for `open()`; with `freeze`, every request after it waits too (a frozen Lambda).
 */
function gatedClient(endpoint: string, gates = isWrite, freeze = false) {
  const client = dynamoClient(endpoint);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let reached = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if ((freeze && reached) || (!reached && gates(context.commandName ?? "", JSON.stringify(args.input)))) {
        reached = true;
        await gate;
      }
      return next(args);
    },
    { step: "initialize" },
  );
  return { client, open, reached: () => reached };
}

const emptyBase = (through: number): PartitionBase => ({
  through,
  sentThrough: through,
  positions: {},
  outSeqs: {},
  opState: {},
  watermarks: {},
  ended: [],
  finished: false,
  buffered: [],
});

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Defines the tests; `fresh` gives a client and new tables per test. */
export function dynamoResetCompactionTests(fresh: Fresh): void {
  describe("DynamoStateStore: a restore's reset and a compaction in flight", () => {
    it("the reset waits for the compaction, so none of its writes land in the restored log", async () => {
      const { client, tables, endpoint } = await fresh();
      const writer = new DynamoStateStore(client, tables, "job", { foldPolicy: null });
      await writer.append("t", 0, seg(1, { changes: [set("old", 1)] }));
      await writer.append("t", 0, sent(2));
      const gated = gatedClient(endpoint);
      try {
        const compactor = new DynamoStateStore(gated.client, tables, "job", { foldPolicy: null });
        const compaction = compactor.compact("t", 0, 1);
        await until("the compaction to have read the log", gated.reached);
        const restorer = new DynamoStateStore(client, tables, "job");
        let reset = false;
        const resetting = restorer.resetTask("t").then(() => {
          reset = true;
        });
        await new Promise((r) => setTimeout(r, 300));
        expect(reset).toBe(false); // the compaction holds its lease
        gated.open();
        expect(await compaction).toBe(1);
        await resetting;
        await restorer.putState("t", [set("kept", "savepoint")]);
        await restorer.putBase("t", 0, emptyBase(1002));
        await restorer.truncate("t", 0, 1002, 2);
        const cold = new DynamoStateStore(client, tables, "job");
        expect(await cold.readBase("t", 0)).toEqual(emptyBase(1002));
        expect(await cold.getState("t", [ref("old"), ref("kept")])).toEqual([undefined, "savepoint"]);
        expect(await cold.exportState("t", 0, 1002, 0, 127)).toEqual([set("kept", "savepoint")]);
      } finally {
        gated.open();
        gated.client.destroy();
      }
    });

    it("a reset gives up with a retryable compaction-busy on a lease held too long, and changes nothing", async () => {
      const { client, tables, endpoint } = await fresh();
      const writer = new DynamoStateStore(client, tables, "job", { foldPolicy: null });
      await writer.append("t", 0, seg(1, { changes: [set("old", 1)] }));
      await writer.append("t", 0, sent(2));
      // A compaction that died holding its lease (its Lambda timed out): the reset waits, then says so.
      const gated = gatedClient(endpoint);
      const dead = new DynamoStateStore(gated.client, tables, "job", { foldPolicy: null });
      void dead.compact("t", 0, 1).catch(() => undefined);
      await until("the compaction to hold its lease", gated.reached);
      const impatient = new DynamoStateStore(client, tables, "job", { resetWaitMs: 300 });
      const busy = await impatient.resetTask("t").catch((e: unknown) => e);
      expect(busy).toBeInstanceOf(RiffleError);
      expect(busy).toMatchObject({ reason: "compaction-busy", retryable: true });
      expect(await new DynamoStateStore(client, tables, "job").readSegments("t", 0, 0)).toHaveLength(2); // unchanged
      gated.open();
      gated.client.destroy();
    });

    it("a lease whose holder froze is taken over once it ends, and the late holder writes nothing more", async () => {
      // Chaos aws-local seeds 199 and 173: a SIGKILLed coordinator's lease blocked every
      // compaction, checkpoint and restore of the partition for 15 minutes. A lease now
      // lasts `COMPACTION_LEASE_MS` unless its holder renews it; 1.2 s here.
      const { client, tables, endpoint } = await fresh();
      const writer = new DynamoStateStore(client, tables, "job", { foldPolicy: null });
      await writer.append("t", 0, seg(1, { changes: [set("a", 1)] }));
      await writer.append("t", 0, sent(2));
      // It freezes after reading the base, at its read of the segments: its renewals stop too.
      let reads = -1;
      const gated = gatedClient(
        endpoint,
        (command, input) => {
          if (command === "PutItemCommand" && input.includes("~lock")) reads = 0;
          else if (reads >= 0 && command !== "UpdateItemCommand") reads++;
          return reads === 2;
        },
        true,
      );
      try {
        const hung = new DynamoStateStore(gated.client, tables, "job", { foldPolicy: null, compactionLeaseMs: 1_200 });
        const late = hung.compact("t", 0, 1).catch((e: unknown) => e);
        await until("the compaction to hold its lease", gated.reached);
        const other = new DynamoStateStore(client, tables, "job", { foldPolicy: null });
        expect(await other.compact("t", 0, 1).catch((e: unknown) => e)).toMatchObject({ reason: "compaction-busy" });
        await new Promise((r) => setTimeout(r, 1_300));
        expect(await other.compact("t", 0, 1)).toBe(1); // taken over
        gated.open(); // the frozen holder wakes past its term: it writes nothing
        expect(await late).toMatchObject({ reason: "compaction-lease-expired", retryable: true });
        const cold = new DynamoStateStore(client, tables, "job");
        expect((await cold.readBase("t", 0))?.through).toBe(1);
        expect(await cold.getState("t", [ref("a")])).toEqual([1]);
      } finally {
        gated.open();
        gated.client.destroy();
      }
    });

    it("a holder that works longer than a lease keeps it by renewing it", async () => {
      const { client, tables, endpoint } = await fresh();
      const writer = new DynamoStateStore(client, tables, "job", { foldPolicy: null });
      await writer.append("t", 0, seg(1, { changes: [set("a", 1)] }));
      await writer.append("t", 0, sent(2));
      const gated = gatedClient(endpoint); // waits at its first write; its renewals go on
      try {
        const slow = new DynamoStateStore(gated.client, tables, "job", { foldPolicy: null, compactionLeaseMs: 1_200 });
        const compaction = slow.compact("t", 0, 1);
        await until("the compaction to hold its lease", gated.reached);
        await new Promise((r) => setTimeout(r, 2_500)); // two leases' worth
        const other = new DynamoStateStore(client, tables, "job", { foldPolicy: null });
        expect(await other.compact("t", 0, 1).catch((e: unknown) => e)).toMatchObject({ reason: "compaction-busy" });
        gated.open();
        expect(await compaction).toBe(1);
      } finally {
        gated.open();
        gated.client.destroy();
      }
    });
  });
}
