/** What a sink method of a stream returns: `sinkTo`, `addSink`, `print`. */

/** The settings of the operator behind a stream (a `DataStream` has them). */
interface OperatorSettings {
  uid(uid: string): unknown;
  setParallelism(parallelism: number): unknown;
  name(name: string): unknown;
}

/** The end of a stream: a sink. Nothing can read from it; it can be named and sized. */
export class DataStreamSink {
  private readonly stream: OperatorSettings;
  /** @internal `stream`: the sink operator's output stream. */
  constructor(stream: OperatorSettings) {
    this.stream = stream;
  }
  /** Gives the sink a stable id. */
  uid(uid: string): this {
    this.stream.uid(uid);
    return this;
  }
  /** Sets the sink's parallelism (default: its input's). */
  setParallelism(parallelism: number): this {
    this.stream.setParallelism(parallelism);
    return this;
  }
  /** Sets a display name. */
  name(name: string): this {
    this.stream.name(name);
    return this;
  }
}
