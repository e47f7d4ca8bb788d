/**
 * Dead-letter replay on the embedded runtime, as an operator does it: `riffle dlq
 * replay --state-dir` of the letters written since the job's last savepoint restore
 * (older ones may belong to a history the restore undid, as on aws-local), served
 * by the running job. A refusal (no running job, a finished partition) is one line
 * and exit 2; a job that stops before the replay is durable leaves it to its next run.
 */

import { readDeadLetters, stateDirDlq } from "../../cli/dlq.ts";
import { jobRecord } from "./db-dump.ts";
import type { EmbeddedWorld } from "./embedded-world.ts";
import { describeExit, isOneLineError, runRiffle, tail } from "./proc.ts";
import type { OpEntry } from "./report.ts";

/** The generation of a dead letter id (`task#partition#generation#segment#index`). */
const generationOf = (id: string) => Number(id.split("#")[2]);

/** Replays the pending dead letters of the current history; records the outcome in `e`. */
export async function replayDeadLetters(w: EmbeddedWorld, e: OpEntry): Promise<void> {
  w.stateOps++;
  const files = stateDirDlq(w.stateDir);
  const record = jobRecord(w.stateDir);
  if (w.from !== undefined && record?.restoredFrom?.savepoint !== w.from) {
    e.outcome = `not now: the restore of '${w.from}' has not happened yet (which letters it keeps is unknown)`;
    return;
  }
  const since = record?.restoredFrom?.generation ?? 0;
  const pending = readDeadLetters(files.dlq, files.replayed).filter((d) => d.replayedAt === undefined);
  const ids = pending.filter((d) => generationOf(d.id) >= since).map((d) => d.id);
  e.detail = `${ids.length} of ${pending.length} pending letter(s) (since generation ${since})${w.run ? "" : ", job stopped"}`;
  if (ids.length === 0) {
    e.outcome = "nothing to replay";
    return;
  }
  const args = ["dlq", "replay", "chaos-counter", "--state-dir", w.stateDir, "--timeout", "30"];
  const r = await runRiffle([...args, ...ids.flatMap((id) => ["--id", id])], w.env(), 45_000);
  e.outcome = describeExit(r, r.stderr || r.stdout);
  if (r.code === 0 || (r.code === 2 && isOneLineError(r.stderr))) return;
  if (r.code === 1 && isOneLineError(r.stderr) && /before the replay was durable/.test(r.stderr)) return;
  w.j.violate(`riffle dlq replay: ${describeExit(r, "")}`, tail(r.stderr, 6));
}
