/**
 * Where a replayed dead letter goes in the job as it runs now. A keyed record goes
 * to the partition that owns its key at the current parallelism (after a rescale
 * that may not be the partition that set it aside), by the same rule the router
 * uses; other records go back to their partition (modulo the parallelism). The
 * replay channel names an input channel that exists now, so intake accepts it and
 * the chain finds its input edge.
 */

import type { KeySelector } from "../api/functions.ts";
import { channelId, originalChannel } from "../envelope.ts";
import { RiffleError } from "../errors.ts";
import type { JobGraph } from "../graph/graph.ts";
import type { Plan, TaskPlan } from "../graph/plan.ts";
import { encodeKey, type Key, keyGroupOf, partitionOfKeyGroup } from "../keys.ts";
import type { StoredDeadLetter } from "../ports/output-store.ts";

/** Where one replayed record goes. */
export interface ReplayDestination {
  readonly partition: number;
  /** The original input channel to replay on (the replay prefix is added by the caller). */
  readonly channel: string;
}

/** A dead letter's task is not in the job any more (its uid changed). */
export class ReplayTargetError extends RiffleError {
  constructor(message: string) {
    super("replay-target", message);
  }
}

/** Routes dead letters of `plan`'s job to their partitions now. */
export function replayRouter(plan: Plan, graph: JobGraph): (letter: StoredDeadLetter) => ReplayDestination {
  const tasks = new Map(plan.tasks.map((t) => [t.id, t]));
  return (letter) => {
    const task = tasks.get(letter.task);
    if (!task) {
      throw new ReplayTargetError(
        `dead letter ${letter.id} belongs to task '${letter.task}', which the job no longer has`,
      );
    }
    const channel = originalChannel(letter.channel);
    const cut = channel.lastIndexOf("#");
    const input = cut < 0 ? undefined : task.inputs.find((i) => i.sender === channel.slice(0, cut));
    const upstream = input ? tasks.get(input.from) : undefined;
    if (!input || !upstream) return { partition: letter.partition % task.parallelism, channel };
    const upPartition = Number(channel.slice(cut + 1)) % upstream.parallelism;
    if (input.partitioner === "forward") {
      const partition = letter.partition % task.parallelism;
      return { partition, channel: channelId(input.sender, partition) };
    }
    const key = input.partitioner === "hash" ? keySelector(graph, task, upstream, input.sender) : undefined;
    const partition = key
      ? partitionOfKeyGroup(
          keyGroupOf(encodeKey(key(letter.value)), plan.maxParallelism),
          task.parallelism,
          plan.maxParallelism,
        )
      : letter.partition % task.parallelism;
    return { partition, channel: channelId(input.sender, upPartition) };
  };
}

/** The key selector of the hash edge that `upstream` sends as `sender` into `task`'s head. */
function keySelector(
  graph: JobGraph,
  task: TaskPlan,
  upstream: TaskPlan,
  sender: string,
): KeySelector<unknown, Key> | undefined {
  const head = task.operators[0]?.node ?? -1;
  const out = upstream.outputs.find((o) => o.toNode === head && o.sender === sender);
  const edge = graph.nodes[head]?.inputs.find((e) => e.node === out?.fromNode);
  return edge?.partition?.kind === "hash" ? (edge.partition.key as KeySelector<unknown, Key>) : undefined;
}
