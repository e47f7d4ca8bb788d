/** Side-output tags: name a second output of an operator, read with `getSideOutput(tag)`. */

/**
 * Names a side output of type `T`: late window data, or anything a process function
 * sends with `ctx.output(tag, value)`. Tags are matched by id.
 *
 * @example
 * ```ts
 * const late = new OutputTag<Bid>("late-bids");
 * ```
 */
export class OutputTag<T> {
  readonly id: string;
  /** @internal */
  declare readonly __type?: T;
  constructor(id: string) {
    this.id = id;
  }
}
