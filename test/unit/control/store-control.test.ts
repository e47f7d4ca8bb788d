/**
 * `GET /jobs/{job}` over the stores (AWS, aws-local) says `finished` only once the
 * final checkpoint's output is published: the poll completes the checkpoint, the
 * complete step publishes its output after, and a client that reads the output as
 * soon as the job says finished must find all of it.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../../core/api/environment.ts";
import { StoreJobControl } from "../../../core/control/store-control.ts";
import { InMemoryCheckpointStore } from "../../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryIngestLog } from "../../../core/memory/in-memory-ingest-log.ts";
import { InMemoryOutputStore } from "../../../core/memory/in-memory-output-store.ts";
import { InMemoryQueue } from "../../../core/memory/in-memory-queue.ts";
import { InMemoryStateStore } from "../../../core/memory/in-memory-state-store.ts";
import type { CheckpointStore } from "../../../core/ports/checkpoint-store.ts";
import { SystemClock } from "../../../core/ports/clock.ts";
import type { PublishedSegment } from "../../../core/ports/output-store.ts";
import { EmbeddedRuntime } from "../../../core/runtime/embedded.ts";

/**
 * An output store that holds the publication of the final checkpoint (its records
 * and its published marks) until `open()` is called.
 */
class GatedOutputStore extends InMemoryOutputStore {
  private release: () => void = () => {};
  private readonly gate = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  private readonly checkpoints: CheckpointStore;
  /** True once the final checkpoint's publication waits at the gate. */
  holding = false;
  constructor(checkpoints: CheckpointStore) {
    super();
    this.checkpoints = checkpoints;
  }
  open(): void {
    this.release();
  }
  private async hold(job: string): Promise<void> {
    const record = await this.checkpoints.loadJob(job);
    const last = record ? await this.checkpoints.getManifest(job, record.lastCompleted) : undefined;
    if (!last?.final) return;
    this.holding = true;
    await this.gate;
  }
  override async publish(job: string, segments: readonly PublishedSegment[]): Promise<void> {
    await this.hold(job);
    await super.publish(job, segments);
  }
  override async setPublished(job: string, through: Readonly<Record<string, number>>): Promise<void> {
    await this.hold(job);
    await super.setPublished(job, through);
  }
}

const N = 50;
const job = defineJob("status", (env) => {
  env
    .fromElements(Array.from({ length: N }, (_, i) => i))
    .map((n) => n * 2)
    .sinkTo("out");
});

describe("StoreJobControl.status", () => {
  it("is not finished while the final checkpoint's output is unpublished, and all output is readable once it is", async () => {
    const clock = new SystemClock();
    const checkpoints = new InMemoryCheckpointStore();
    const ports = {
      store: new InMemoryStateStore(),
      checkpoints,
      queue: new InMemoryQueue(clock),
      output: new GatedOutputStore(checkpoints),
    };
    const rt = new EmbeddedRuntime(job, { ...ports, clock });
    const control = new StoreJobControl({
      plan: rt.plan,
      graph: rt.graph,
      state: ports.store,
      checkpoints: ports.checkpoints,
      queue: ports.queue,
      output: ports.output,
      clock,
      ingest: new InMemoryIngestLog(),
    });
    const run = rt.run();
    // Wait until the final checkpoint has completed and its publication is held.
    for (let i = 0; !((await control.status()).lastCheckpoint?.final && ports.output.holding); i++) {
      if (i > 2000) throw new Error("the final checkpoint never completed");
      await new Promise((r) => setTimeout(r, 5));
    }
    const held = await control.status();
    expect(held.lastCheckpoint?.final).toBe(true);
    expect(held.finished).toBe(false);
    ports.output.open();
    await run;
    const done = await control.status();
    expect(done.finished).toBe(true);
    const page = await ports.output.read("status", "out", { limit: 1000 });
    expect([...page.values].sort((a, b) => (a as number) - (b as number))).toEqual(
      Array.from({ length: N }, (_, i) => i * 2),
    );
  });
});
