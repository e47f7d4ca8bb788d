/**
 * Routes a task's output records to downstream partitions and packs them into
 * envelopes at the end of a batch. Records accumulate per destination; signals
 * (watermarks, end-of-input) close the current run of records.
 */

import type { KeySelector } from "../api/functions.ts";
import { type Address, channelId, type Envelope, type Signal } from "../envelope.ts";
import { OperatorError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan, TaskOutput, TaskPlan } from "../graph/plan.ts";
import { taskById } from "../graph/planner.ts";
import { encodeKey, type Key, keyGroupOf, partitionOfKeyGroup } from "../keys.ts";
import { emitsSideOutputs, SKIP, selectOutput } from "../operators/side-output.ts";

interface Run {
  records: unknown[];
  times: number[] | undefined;
  signal: Signal | undefined;
}

/** Output buffer of one destination partition. */
class Destination {
  readonly to: Address;
  /** Key of the channel's last seq in the partition's `outSeqs`. */
  readonly key: string;
  /** The channel id envelopes carry (`sender#partition`). */
  readonly from: string;
  runs: Run[] = [];
  constructor(to: Address, from: string, key: string) {
    this.to = to;
    this.from = from;
    this.key = key;
  }
  private open(): Run {
    const last = this.runs[this.runs.length - 1];
    if (last && last.signal === undefined) return last;
    const run: Run = { records: [], times: undefined, signal: undefined };
    this.runs.push(run);
    return run;
  }
  push(value: unknown, time: number | undefined): void {
    const run = this.open();
    if (time !== undefined) {
      if (!run.times) run.times = new Array(run.records.length).fill(Number.NaN);
      run.times.push(time);
    } else if (run.times) run.times.push(Number.NaN);
    run.records.push(value);
  }
  signal(signal: Signal): void {
    this.open().signal = signal;
  }
}

/** A rollback point of the router. */
export type RouterMark = Map<Destination, [runs: number, records: number]>;

interface Route {
  readonly output: TaskOutput;
  readonly dests: Destination[];
  readonly key: KeySelector<unknown, Key> | undefined;
  /** Uid of the keyed operator the edge leads to: a key its selector cannot give fails that operator. */
  readonly keyedUid: string;
  /** The tail can emit side outputs: the edge selects its main output (`undefined` tag) or one tag's. */
  readonly select: { readonly tag: string | undefined } | undefined;
  /** Rebalance cursor. */
  next: number;
}

/**
 * What one operator of the chain emits goes to its own out edges only: in a forked
 * chain each emitting operator has its own group of routes.
 */
export interface RouterOutput {
  /** Sends one record down the operator's out edges. */
  collect(record: unknown, time: number | undefined): void;
  /** Sends a signal down every channel of the operator's out edges. */
  signal(signal: Signal): void;
}

/** Routes one task partition's output. */
export class Router implements RouterOutput {
  private readonly routes: Route[];
  private readonly byEmitter = new Map<number, Route[]>();
  private readonly partition: number;
  private readonly maxParallelism: number;
  private readonly touched = new Set<Destination>();
  /** Records routed in the current batch. */
  recordsOut = 0;

  constructor(plan: Plan, graph: JobGraph, task: TaskPlan, partition: number) {
    this.partition = partition;
    this.maxParallelism = plan.maxParallelism;
    this.routes = task.outputs.map((output) => {
      const down = taskById(plan, output.to);
      const from = channelId(output.sender, partition);
      // Seqs are kept per channel: keyed by destination alone unless the edge leaves a fork.
      const prefix = output.sender === task.id ? "" : `${output.sender}>`;
      const dests = Array.from({ length: down.parallelism }, (_, p) => {
        const to = { task: down.id, partition: p };
        return new Destination(to, from, `${prefix}${down.id}#${p}`);
      });
      const emitter = graph.nodes[output.fromNode];
      const edge = graph.nodes[output.toNode]?.inputs.find((e) => e.node === output.fromNode);
      const key = edge?.partition?.kind === "hash" ? edge.partition.key : undefined;
      const select = emitter && emitsSideOutputs(emitter.op.kind) ? { tag: edge?.output } : undefined;
      const keyedUid = down.operators.find((o) => o.node === output.toNode)?.uid ?? down.id;
      const route: Route = { output, dests, key, keyedUid, select, next: partition % down.parallelism };
      const group = this.byEmitter.get(output.fromNode) ?? [];
      group.push(route);
      this.byEmitter.set(output.fromNode, group);
      return route;
    });
  }

  /** The output of the chain's operator `node`, or undefined when it has no out edge. */
  outputOf(node: number): RouterOutput | undefined {
    const routes = this.byEmitter.get(node);
    if (!routes) return undefined;
    if (routes.length === this.routes.length) return this;
    return { collect: (r, t) => this.collectOn(routes, r, t), signal: (s) => this.signalOn(routes, s) };
  }

  /** Sends one record downstream according to each output's partitioner. */
  collect(record: unknown, time: number | undefined): void {
    this.collectOn(this.routes, record, time);
  }

  private collectOn(routes: readonly Route[], record: unknown, time: number | undefined): void {
    for (const r of routes) {
      const value = r.select ? selectOutput(r.select.tag, record) : record;
      if (value === SKIP) continue;
      switch (r.output.partitioner) {
        case "forward":
          this.to(r.dests[this.partition] as Destination, value, time);
          break;
        case "hash":
          this.to(this.hashed(r, value), value, time);
          break;
        case "rebalance":
          this.to(r.dests[r.next] as Destination, value, time);
          r.next = (r.next + 1) % r.dests.length;
          break;
        case "broadcast":
          for (const d of r.dests) this.to(d, value, time);
          break;
      }
    }
  }

  /**
   * The destination of `value` on a hash edge. One downstream partition owns every key
   * group, so the key is not computed (the keyed operator computes it, and checks it).
   */
  private hashed(r: Route, value: unknown): Destination {
    const n = r.dests.length;
    if (n === 1) return r.dests[0] as Destination;
    let enc: string;
    try {
      enc = encodeKey((r.key as KeySelector<unknown, Key>)(value));
    } catch (cause) {
      // As when the keyed operator computes the key itself (one partition): that operator's
      // failure on this record, which a record-by-record rerun can dead-letter.
      throw new OperatorError(r.keyedUid, cause);
    }
    const kg = keyGroupOf(enc, this.maxParallelism);
    return r.dests[partitionOfKeyGroup(kg, n, this.maxParallelism)] as Destination;
  }

  private to(d: Destination, value: unknown, time: number | undefined): void {
    d.push(value, time);
    this.touched.add(d);
    this.recordsOut++;
  }

  /** Sends a signal down every output channel of this partition. */
  broadcastSignal(signal: Signal): void {
    this.signalOn(this.routes, signal);
  }

  /** {@link RouterOutput.signal} over all of the partition's out edges. */
  signal(signal: Signal): void {
    this.signalOn(this.routes, signal);
  }

  private signalOn(routes: readonly Route[], signal: Signal): void {
    for (const r of routes) {
      // A forward edge is one channel (to the same partition index); every other edge reaches all partitions.
      const dests = r.output.partitioner === "forward" ? [r.dests[this.partition] as Destination] : r.dests;
      for (const d of dests) {
        d.signal(signal);
        this.touched.add(d);
      }
    }
  }

  /** A rollback point. */
  mark(): RouterMark {
    const m: RouterMark = new Map();
    for (const d of this.touched) {
      const last = d.runs[d.runs.length - 1];
      m.set(d, [d.runs.length, last ? last.records.length : 0]);
    }
    return m;
  }

  /** Drops everything routed since `mark`. */
  rollback(mark: RouterMark): void {
    for (const d of this.touched) {
      const [runs, records] = mark.get(d) ?? [0, 0];
      d.runs.length = runs;
      const last = d.runs[runs - 1];
      if (last) {
        last.records.length = records;
        if (last.times) last.times.length = records;
      }
    }
  }

  /**
   * Packs the batch's output into envelopes of at most `maxRecords` records, numbering
   * each channel from `seqs` (destination key → last seq used), and clears the buffers.
   */
  pack(
    gen: number,
    maxRecords: number,
    lastSeq: (destKey: string) => number,
  ): { entries: { to: Address; envelope: Envelope }[]; seqs: Record<string, number> } {
    const entries: { to: Address; envelope: Envelope }[] = [];
    const seqs: Record<string, number> = {};
    for (const d of this.touched) {
      let seq = lastSeq(d.key);
      for (const run of d.runs) {
        const n = run.records.length;
        for (let i = 0; i < n || (i === 0 && run.signal); i += maxRecords) {
          const end = Math.min(n, i + maxRecords);
          const records = i === 0 && end === n ? run.records : run.records.slice(i, end);
          const last = end >= n;
          const envelope: Envelope = {
            gen,
            from: d.from,
            seq: ++seq,
            records,
            ...(run.times ? { times: i === 0 && end === n ? run.times : run.times.slice(i, end) } : {}),
            ...(last && run.signal ? { signal: run.signal } : {}),
          };
          entries.push({ to: d.to, envelope });
          if (n === 0) break;
        }
      }
      seqs[d.key] = seq;
      d.runs = [];
    }
    this.touched.clear();
    return { entries, seqs };
  }
}
