/**
 * A keyed remote function: a {@link KeyedProcessFunction} whose logic runs in
 * another process. Before a slice is processed, the keyed operator hands it the
 * slice's records with each key's current state ({@link KeyedPrefetch}); it sends
 * them to the function in batches and keeps the answers. Processing then emits each
 * record's outputs and writes the key's state with the key's last record of each
 * input envelope (a slice may end between envelopes: the function answers the state
 * at those cuts too), so the state is riffle's keyed state, committed with the
 * segment: exactly-once whatever the function does. A record whose answer is an error (or whose batch failed after
 * its retries) fails like a throwing local function: retried, then dead-lettered.
 */

import type { KeyedContext, KeyedProcessFunction, RuntimeContext } from "../api/functions.ts";
import { type StateDescriptor, type ValueState, valueState } from "../api/state.ts";
import { InternalError, OperatorError } from "../errors.ts";
import type { Key } from "../keys.ts";
import type { KeyedPrefetch, PrefetchingFunction } from "../operators/prefetch.ts";
import { type GroupOutcome, sendGroups } from "./batches.ts";
import { type RemoteFunctionSpec, type ResolvedRemote, resolveRemote } from "./spec.ts";
import type { RemoteTargeted } from "./targets.ts";
import { recordOutcomes, type WireGroup } from "./wire.ts";

type RemoteState = { remote: StateDescriptor<ValueState<unknown>> };

/** Where a slice's processing is in one key's group: the index of the record it should process next. */
interface Track {
  next: number;
}

/** One record's prepared outcome: its place in its key's group, and its outputs and state write or its error. */
type Prepared = { readonly track: Track; readonly j: number } & (
  | { readonly ok: true; readonly out: readonly unknown[]; readonly write?: { readonly state: unknown } }
  | { readonly ok: false; readonly error: unknown }
);

/** One key's records in a slice, as they go out, and where each came from. */
interface Group {
  readonly key: Key;
  readonly state: unknown;
  readonly values: unknown[];
  readonly times: (number | null)[];
  readonly cuts: number[];
  readonly at: [readonly unknown[], number][];
  timed: boolean;
}

class RemoteProcessFunction
  implements KeyedProcessFunction<unknown, Key, RemoteState, unknown>, PrefetchingFunction, RemoteTargeted
{
  readonly state: RemoteState = { remote: valueState<unknown>() };
  /** Where it runs (the deploy grants the task invoke on a Lambda target). */
  readonly remoteTarget: string;
  private readonly remote: ResolvedRemote;
  private uid = "remote";
  private job = "job";
  /** Outcomes by the records array of their envelope (weak: partitions of one process share the function). */
  private readonly prepared = new WeakMap<readonly unknown[], (Prepared | undefined)[]>();
  private selected: Prepared | undefined;

  constructor(spec: RemoteFunctionSpec) {
    this.remote = resolveRemote(spec);
    this.remoteTarget = this.remote.target;
  }

  open(ctx: RuntimeContext): void {
    this.uid = ctx.operator;
    this.job = ctx.job;
  }

  async prefetch(p: KeyedPrefetch): Promise<void> {
    const groups = new Map<string, Group>();
    for (const e of p.envelopes) {
      this.prepared.set(e.records, new Array(e.records.length));
      e.items.forEach((item, i) => {
        if (!item) return; // its key could not be read: fails when processed
        let g = groups.get(item.enc);
        if (!g) {
          g = { key: item.key, state: p.stateOf(item) ?? null, values: [], times: [], cuts: [], at: [], timed: false };
          groups.set(item.enc, g);
        } else if ((g.at[g.at.length - 1] as [readonly unknown[], number])[0] !== e.records) {
          g.cuts.push(g.values.length); // a slice may end between envelopes: the state there is needed too
        }
        g.values.push(item.value);
        g.times.push(item.time ?? null);
        g.timed ||= item.time !== undefined;
        g.at.push([e.records, i]);
      });
    }
    const list = [...groups.values()];
    const wire: WireGroup[] = list.map((g) => ({
      key: g.key,
      state: g.state,
      values: g.values,
      ...(g.timed ? { times: g.times } : {}),
      ...(g.cuts.length > 0 ? { cuts: g.cuts } : {}),
    }));
    const outcomes = await sendGroups(
      { invoker: this.remote.invoker(), name: this.remote.name, kind: "process", policy: this.remote.policy },
      wire,
      `${this.job}/${this.uid}/${p.site}`,
    );
    list.forEach((g, gi) => {
      this.place(g, outcomes[gi]);
    });
  }

  /**
   * Keeps each record of `g` its prepared outcome. The state at a cut (and at the
   * end) is written with the last record before it that succeeded.
   */
  private place(g: Group, o: GroupOutcome | undefined): void {
    if (!o) throw new InternalError(`remote function ${this.remote.name}: a group has no outcome`);
    const track: Track = { next: 0 };
    const results = o.ok ? recordOutcomes("process", o.result) : undefined;
    const ends = [...g.cuts, g.values.length];
    let from = 0;
    ends.forEach((end, k) => {
      const hasState = k < g.cuts.length || (o.ok && "state" in o.result);
      const state = o.ok ? (k < g.cuts.length ? o.result.states?.[k] : o.result.state) : undefined;
      let lastOk = -1;
      for (let j = from; j < end; j++) if (results?.[j]?.ok) lastOk = j;
      for (let j = from; j < end; j++) {
        const [records, i] = g.at[j] as [readonly unknown[], number];
        const slot = this.prepared.get(records) as (Prepared | undefined)[];
        const r = results?.[j];
        if (!o.ok || !r) slot[i] = { track, j, ok: false, error: o.ok ? new Error("no result") : o.error };
        else if (!r.ok) slot[i] = { track, j, ok: false, error: new Error(r.error) };
        else slot[i] = { track, j, ok: true, out: r.out, ...(j === lastOk && hasState ? { write: { state } } : {}) };
      }
      from = end;
    });
  }

  select(records: readonly unknown[], index: number): void {
    this.selected = this.prepared.get(records)?.[index];
  }

  processElement(_value: unknown, ctx: KeyedContext<Key, RemoteState, unknown>): void {
    const p = this.selected;
    this.selected = undefined;
    if (!p) throw new InternalError(`remote function ${this.remote.name}: a record was processed without its answer`);
    if (p.j !== p.track.next) {
      // The answer assumed the key's earlier records of the slice ran first; the slice left one out.
      throw new InternalError(
        `remote function ${this.remote.name}: a record's answer assumed a record this slice skipped`,
      );
    }
    p.track.next = p.j + 1;
    if (!p.ok) throw new OperatorError(this.uid, p.error);
    for (const o of p.out) ctx.emit(o);
    if (p.write) {
      if (p.write.state === null || p.write.state === undefined) ctx.state.remote.clear();
      else ctx.state.remote.update(p.write.state);
    }
  }
}

/**
 * A keyed remote function, for `keyBy(...).process(...)`. The function gets each
 * key's state (`null` at first) and records, and answers the new state and outputs.
 *
 * @example
 * ```ts
 * clicks.keyBy((c) => c.user).process(remoteProcess({ name: "count", target: "http://127.0.0.1:8080/" }));
 * ```
 */
export function remoteProcess<T, O>(spec: RemoteFunctionSpec): KeyedProcessFunction<T, Key, RemoteState, O> {
  return new RemoteProcessFunction(spec) as unknown as KeyedProcessFunction<T, Key, RemoteState, O>;
}
