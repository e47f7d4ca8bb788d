/**
 * A keyed remote function: a {@link KeyedProcessFunction} whose logic runs in
 * another process. Before a slice is processed, the keyed operator hands it the
 * slice's records with each key's current state ({@link KeyedPrefetch}); it sends
 * them to the function in batches and keeps the answers. Processing then emits each
 * record's outputs and writes the key's new state with the key's last record, so the
 * state is riffle's keyed state, committed with the segment: exactly-once whatever
 * the function does. A record whose answer is an error (or whose batch failed after
 * its retries) fails like a throwing local function: retried, then dead-lettered.
 */

import type { KeyedContext, KeyedProcessFunction, RuntimeContext } from "../api/functions.ts";
import { type StateDescriptor, type ValueState, valueState } from "../api/state.ts";
import { InternalError, OperatorError } from "../errors.ts";
import type { Key } from "../keys.ts";
import type { KeyedPrefetch, PrefetchingFunction } from "../operators/prefetch.ts";
import { sendGroups } from "./batches.ts";
import { type RemoteFunctionSpec, type ResolvedRemote, resolveRemote } from "./spec.ts";
import type { RemoteTargeted } from "./targets.ts";
import type { WireGroup, WireRecord } from "./wire.ts";

type RemoteState = { remote: StateDescriptor<ValueState<unknown>> };

/** One record's prepared outcome. */
type Prepared =
  | { readonly ok: true; readonly out: readonly unknown[]; readonly write?: { readonly state: unknown } }
  | { readonly ok: false; readonly error: unknown };

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
    const groups = new Map<string, { key: Key; state: unknown; records: WireRecord[]; at: [unknown[], number][] }>();
    const prepared = this.prepared;
    for (const e of p.envelopes) {
      prepared.set(e.records, new Array(e.records.length));
      e.items.forEach((item, i) => {
        if (!item) return; // its key could not be read: fails when processed
        let g = groups.get(item.enc);
        if (!g) {
          g = { key: item.key, state: p.stateOf(item) ?? null, records: [], at: [] };
          groups.set(item.enc, g);
        }
        g.records.push({ value: item.value, time: item.time ?? null });
        g.at.push([e.records as unknown[], i]);
      });
    }
    const list = [...groups.values()];
    const wire: WireGroup[] = list.map((g) => ({ key: g.key, state: g.state, records: g.records }));
    const outcomes = await sendGroups(
      { invoker: this.remote.invoker(), name: this.remote.name, kind: "process", policy: this.remote.policy },
      wire,
      `${this.job}/${this.uid}/${p.site}`,
    );
    list.forEach((g, gi) => {
      const o = outcomes[gi];
      const lastOk = o?.ok ? o.result.results.findLastIndex((r) => "out" in r) : -1;
      g.at.forEach(([records, i], j) => {
        const slot = prepared.get(records) as (Prepared | undefined)[];
        if (!o) throw new InternalError(`remote function ${this.remote.name}: a group has no outcome`);
        if (!o.ok) {
          slot[i] = { ok: false, error: o.error };
          return;
        }
        const r = o.result.results[j];
        if (!r || !("out" in r)) {
          slot[i] = { ok: false, error: new Error(r && "error" in r ? r.error : "no result") };
          return;
        }
        const write = j === lastOk && "state" in o.result ? { state: o.result.state } : undefined;
        slot[i] = { ok: true, out: r.out, ...(write ? { write } : {}) };
      });
    });
  }

  select(records: readonly unknown[], index: number): void {
    this.selected = this.prepared.get(records)?.[index];
  }

  processElement(_value: unknown, ctx: KeyedContext<Key, RemoteState, unknown>): void {
    const p = this.selected;
    this.selected = undefined;
    if (!p) throw new InternalError(`remote function ${this.remote.name}: a record was processed without its answer`);
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
