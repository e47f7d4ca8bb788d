/**
 * riffle: a stream processor in the spirit of Apache Flink, for AWS serverless.
 *
 * @example
 * ```ts
 * import { defineJob, valueState } from "riffle";
 *
 * export default defineJob("clicks", (env) => {
 *   env
 *     .fromGenerator((i) => ({ user: `u${i % 10}`, page: `/p${i % 7}` }), { count: 10_000 })
 *     .keyBy((c) => c.user)
 *     .process({
 *       state: { views: valueState<number>() },
 *       processElement(click, ctx) {
 *         const views = (ctx.state.views.value() ?? 0) + 1;
 *         ctx.state.views.update(views);
 *         ctx.emit({ user: ctx.key, views });
 *       },
 *     })
 *     .sinkTo("views");
 * });
 * ```
 * @packageDocumentation
 */

export { AsyncDataStream, type AsyncFunction } from "./api/async-stream.ts";
export type { ApiThrottle, AwsConfig, AwsConfigOptions, AwsFunctionSettings } from "./api/aws-config.ts";
export {
  type BroadcastContext,
  type BroadcastProcessFunction,
  type BroadcastState,
  type KeyedBroadcastProcessFunction,
  type KeyedBroadcastTimerContext,
  type KeyedReadOnlyBroadcastContext,
  MapStateDescriptor,
  type ReadOnlyBroadcastAccess,
  type ReadOnlyBroadcastContext,
  type ReadOnlyBroadcastState,
} from "./api/broadcast.ts";
export { BroadcastStream } from "./api/broadcast-stream.ts";
export {
  BroadcastConnectedStreams,
  ConnectedStreams,
  KeyedBroadcastConnectedStreams,
  KeyedConnectedStreams,
} from "./api/connected-streams.ts";
export { DataStream, KeyedStream } from "./api/datastream.ts";
export { DataStreamSink } from "./api/datastream-sink.ts";
export {
  type BuildOptions,
  buildGraph,
  defineJob,
  isJob,
  type Job,
  StreamExecutionEnvironment,
} from "./api/environment.ts";
export { FilesSourceError, type FilesSourceOptions, filesSource } from "./api/files-source.ts";
export type {
  ImpliedTimers,
  KeyedContext,
  KeyedCoProcessFunction,
  KeyedProcessFunction,
  KeySelector,
  ProcessContext,
  ProcessFunction,
  RichFilterFunction,
  RichFlatMapFunction,
  RichFunction,
  RichMapFunction,
  RuntimeContext,
  TimerContext,
  TimerService,
  TimeService,
} from "./api/functions.ts";
export { type HybridPosition, type HybridSource, type HybridSourceOptions, hybridSource } from "./api/hybrid-source.ts";
export { type IngestOptions, ingestSource } from "./api/ingest.ts";
export { type IntervalJoinContext, intervalJoin, join } from "./api/joins.ts";
export { OutputTag } from "./api/output-tag.ts";
export {
  elementsSource,
  type GeneratorOptions,
  generatorSource,
  type Source,
  type SourceChunk,
  type SourceSplit,
  type SplitReader,
} from "./api/source.ts";
export {
  type AggregatingState,
  aggregatingState,
  type ListState,
  listState,
  type MapState,
  type MapStateOptions,
  mapState,
  type ReducingState,
  reducingState,
  type StateCodec,
  type StateDescriptor,
  type StateOptions,
  type ValueState,
  valueState,
} from "./api/state.ts";
export { StateTtlConfig, type TtlStateVisibility, type TtlUpdateType } from "./api/state-ttl.ts";
export type { TransactionContext, TwoPhaseCommitSink } from "./api/two-phase-sink.ts";
export { WatermarkStrategy } from "./api/watermarks.ts";
export { WindowedStream, type WindowResultStream } from "./api/windowed-stream.ts";
export {
  type AggregateFunction,
  EventTimeSessionWindows,
  ProcessingTimeSessionWindows,
  SlidingEventTimeWindows,
  SlidingProcessingTimeWindows,
  type TimeWindow,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
  type WindowAssigner,
} from "./api/windows.ts";
export { SqliteCheckpointStore } from "./durable/sqlite-checkpoint-store.ts";
export {
  type OpenStateDirOptions,
  openStateDir,
  type StateDir,
  StateDirError,
  stateDirJob,
} from "./durable/sqlite-db.ts";
export { SqliteStateStore } from "./durable/sqlite-state-store.ts";
export type { Envelope, Signal } from "./envelope.ts";
export * from "./errors.ts";
export type { JobGraph } from "./graph/graph.ts";
export type { Plan, TaskPlan } from "./graph/plan.ts";
export { planJob } from "./graph/planner.ts";
export { encodeKey, type Key, keyGroupOf, keyGroupRange, partitionOfKeyGroup } from "./keys.ts";
export { OffloadingStateStore, type OffloadingStateStoreOptions } from "./log/offloading-store.ts";
export { InMemoryBlobStore } from "./memory/in-memory-blob-store.ts";
export { InMemoryCheckpointStore } from "./memory/in-memory-checkpoint-store.ts";
export { InMemoryIngestLog } from "./memory/in-memory-ingest-log.ts";
export { InMemoryOutputStore } from "./memory/in-memory-output-store.ts";
export { InMemoryQueue } from "./memory/in-memory-queue.ts";
export { InMemoryStateStore } from "./memory/in-memory-state-store.ts";
export { InMemoryTableStore } from "./memory/in-memory-table-store.ts";
export type { BlobStore } from "./ports/blob-store.ts";
export { type Clock, ManualClock, SystemClock } from "./ports/clock.ts";
export type { AppendedRange, IngestedRecord, IngestLog } from "./ports/ingest-log.ts";
export type { OutputPage, OutputStore, PublishedSegment, StoredDeadLetter } from "./ports/output-store.ts";
export type { Queue } from "./ports/queue.ts";
export type { Segment, StateStore } from "./ports/state-store.ts";
export { HttpInvoker, type RemoteInvoker, setLambdaInvokers } from "./remote/invoker.ts";
export { remoteProcess } from "./remote/remote-process.ts";
export { RemoteDataStream } from "./remote/remote-stream.ts";
export type { RemoteFunctionSpec } from "./remote/spec.ts";
export { MAX_REQUEST_BYTES, WIRE_VERSION, type WireRequest, type WireResponse } from "./remote/wire.ts";
export { type EmbeddedOptions, EmbeddedRuntime, JobStalledError } from "./runtime/embedded.ts";
export { runToCompletion } from "./runtime/run-to-completion.ts";
export { type BatchResult, type InboundMessage, TaskRunner } from "./runtime/task-runner.ts";
export { readTable, type TableAnswer, type TableRequest } from "./tables/read-table.ts";
export { type RiffleTableSourceOptions, riffleTableSource } from "./tables/table-source.ts";
