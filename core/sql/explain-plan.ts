/**
 * EXPLAIN's plans: the logical plan one operator a line, and the physical plan with each
 * operator's changelog mode (Flink's notation) and what runs it.
 */
import { hasNativeScan } from "./connectors.ts";
import { type BoundExpr, showExpr } from "./expr.ts";
import { aggregatesInJoin, joinInputs, ranksInJoin } from "./join-fused.ts";
import { describeJoin, fusesWithJoin } from "./join-plan.ts";
import { changelogMode, isUpdating, type Rel } from "./logical.ts";
import { describeLookupJoin } from "./lookup-join.ts";
import { describeOver } from "./over.ts";
import { runsNoOperator } from "./physical.ts";
import { isPlainCalc } from "./plain-calc.ts";
import { describeRank } from "./rank.ts";
import { nativeWatermarksOf } from "./scan-calc.ts";
import { fusableWindow } from "./window-aggregate.ts";

type Calc = Extract<Rel, { kind: "calc" }>;

/** Where calc `rel` runs, for EXPLAIN (`within`: what runs it, said by the operator above). */
function calcRuns(rel: Calc, within: Within): string {
  if (within === "below-native") return "above the watermarks, in the operators that read the source's records";
  if (within === "window-flatMap")
    return `in the window aggregate's flatMap${nativeWatermarksOf(rel.input) ? ", of the source's records" : ""}`;
  if (fusesWithScan(rel)) return "in the source's reader";
  if (fusesWithJoin(rel) && isPlainCalc(rel)) return "in the join";
  if (isPlainCalc(rel) && nativeWatermarksOf(rel.input)) return "filter + map of the source's records";
  return runsNoOperator(rel) ? "no operator (it renames only)" : "filter + map";
}

/** True when {@link fusedScanCalc} runs `rel` inside its scan's source. */
const fusesWithScan = (rel: Calc): boolean =>
  rel.input.kind === "scan" && hasNativeScan(rel.input.table) && isPlainCalc(rel);

/**
 * What runs an operator, as the operator above says: the operators over watermarks of the
 * source's records (scan-calc.ts), or a fused window aggregate's `flatMap` (window-aggregate.ts).
 */
type Within = "below-native" | "window-flatMap" | undefined;

/** What runs the inputs of `rel`, itself run `within` (see {@link Within}). */
function inputsWithin(rel: Rel, within: Within): Within {
  if (nativeWatermarksOf(rel)) return "below-native";
  if (rel.kind === "aggregate" && fusableWindow(rel)) return "window-flatMap";
  // The flatMap runs the calc above the table function, the function, and a view read through below it.
  if (within !== "window-flatMap") return undefined;
  if (rel.kind === "calc" && rel.input.kind === "window-tvf") return within;
  if (rel.kind === "window-tvf" && isPlainCalc(rel.input) && nativeWatermarksOf(rel.input.input)) return within;
  return undefined;
}

/** The physical operators of `rel`, one line each, with their changelog mode (Flink's notation). */
export function describePhysical(rel: Rel, depth = 0, within: Within = undefined): string[] {
  const mode = changelogMode(rel)
    .map((k) => ({ "+I": "I", "-U": "UB", "+U": "UA", "-D": "D" })[k])
    .join(",");
  const pad = "  ".repeat(depth);
  const names = "input" in rel ? rel.input.fields.map((f) => f.name) : [];
  const show = (e: BoundExpr) => showExpr(e, names);
  let line: string;
  switch (rel.kind) {
    case "scan":
      line = `Source(connector=[${rel.table.options.connector}], table=[${rel.table.name}], fields=[${rel.fields.map((f) => f.name).join(", ")}])`;
      break;
    case "watermark":
      line = `Watermarks(rowtime=[${rel.fields[rel.time]?.name}], outOfOrderness=[${rel.delayMs} ms])${nativeWatermarksOf(rel) ? " → over the source's records" : ""}`;
      break;
    case "calc":
      line = `Calc(${rel.filter ? `where=[${show(rel.filter)}], ` : ""}select=[${rel.projects.map((p, i) => (show(p) === rel.fields[i]?.name ? show(p) : `${show(p)} AS ${rel.fields[i]?.name}`)).join(", ")}]) → ${calcRuns(rel, within)}`;
      break;
    case "join":
      line = describeJoin(rel);
      break;
    case "window-tvf":
      line = `WindowTableFunction(${showWindow(rel)}) → ${within === "window-flatMap" ? "in the window aggregate's flatMap (a row to its one pane)" : "flatMap"}`;
      break;
    case "rank":
      line = ranksInJoin(rel)
        ? describeRank(rel, false, "in the join below (partitioned by its key)")
        : describeRank(rel, isUpdating(changelogMode(rel.input)));
      break;
    case "over":
      line = describeOver(rel, { retracting: isUpdating(changelogMode(rel.input)) });
      break;
    case "lookup-join":
      line = describeLookupJoin(rel);
      break;
    case "aggregate": {
      // A group aggregate with one group per join key runs in the join below (aggregated-join.ts).
      const fused = fusableWindow(rel);
      const runs = aggregatesInJoin(rel)
        ? "in the join below (one group per join key: its side is unique on the key)"
        : fused
          ? `flatMap + keyBy + keyed process over panes with ${fused.tvf.window.proctime ? "processing" : "event"}-time timers`
          : `keyBy + keyed process${rel.window ? " with event-time timers" : ""}`;
      line = `${rel.window ? "WindowAggregate" : rel.session ? `SessionWindowAggregate(gap=[${rel.session.gapMs} ms], time=[${names[rel.session.time]}], ` : "GroupAggregate"}${rel.session ? "" : "("}groupBy=[${names.slice(0, rel.groupKeys).join(", ")}], select=[${aggCalls(rel, names)}]) → ${runs}`;
      break;
    }
  }
  const own = `${pad}${line}, changelogMode=[${mode}]`;
  // An extreme join computes its right input (the window aggregate) itself, a window join both.
  const inputs = rel.kind === "join" ? joinInputs(rel) : inputsOf(rel);
  return [own, ...inputs.flatMap((r) => describePhysical(r, depth + 1, inputsWithin(rel, within)))];
}

/** The logical plan of `rel`, one operator per line. */
export function describeLogical(rel: Rel, depth = 0): string[] {
  const pad = "  ".repeat(depth);
  const names = "input" in rel ? rel.input.fields.map((f) => f.name) : [];
  const fields = rel.fields.map((f) => f.name).join(", ");
  let line: string;
  switch (rel.kind) {
    case "scan":
      line = `LogicalTableScan(table=[${rel.table.name}])`;
      break;
    case "watermark":
      line = `LogicalWatermarkAssigner(rowtime=[${rel.fields[rel.time]?.name}], delay=[${rel.delayMs}])`;
      break;
    case "calc":
      line = `LogicalCalc(${rel.filter ? `where=[${showExpr(rel.filter, names)}], ` : ""}select=[${rel.projects.map((p) => showExpr(p, names)).join(", ")}])`;
      break;
    case "join": {
      const all = rel.fields.map((f) => f.name);
      line = `LogicalJoin(type=[${rel.outer?.toLowerCase() ?? "inner"}], condition=[${rel.condition ? showExpr(rel.condition, all) : "true"}]${rel.leftKeys.length ? `, keys=[${rel.leftKeys.length}]` : ""})`;
      break;
    }
    case "window-tvf":
      line = `LogicalTableFunctionScan(${showWindow(rel)})`;
      break;
    case "rank":
      line = `LogicalRank(rankType=[ROW_NUMBER], rankRange=[rankStart=1, rankEnd=${rel.limit}], partitionBy=[${rel.partitionKeys.map((k) => names[k]).join(", ")}], orderBy=[${rel.orderBy.map((k) => `${names[k.column]}${k.desc ? " DESC" : ""}`).join(", ")}], outputRowNumber=[${rel.rowNumber}])`;
      break;
    case "over":
      line = describeOver(rel);
      break;
    case "lookup-join":
      line = `LogicalLookupJoin(table=[${rel.table.name}], type=[${rel.type.toLowerCase()}])`;
      break;
    case "aggregate":
      line = `LogicalAggregate(group=[${names.slice(0, rel.groupKeys).join(", ")}], aggs=[${rel.aggs.map((a) => a.fn).join(", ")}])`;
      break;
  }
  const own = `${pad}${line} → [${fields}]`;
  return [own, ...inputsOf(rel).flatMap((r) => describeLogical(r, depth + 1))];
}

function showWindow(rel: Extract<Rel, { kind: "window-tvf" }>): string {
  const w = rel.window;
  const args =
    w.fn === "TUMBLE"
      ? `size=[${w.sizeMs} ms]`
      : `${w.fn === "HOP" ? "slide" : "step"}=[${w.stepMs} ms], size=[${w.sizeMs} ms]`;
  return `${w.fn}(${w.proctime ? "proctime" : "time"}=[${rel.input.fields[rel.time]?.name}], ${args}${w.offsetMs ? `, offset=[${w.offsetMs} ms]` : ""})`;
}

/** An aggregate's calls as EXPLAIN shows them, over its input's column `names`. */
function aggCalls(rel: Extract<Rel, { kind: "aggregate" }>, names: readonly string[]): string {
  return rel.aggs
    .map(
      (a) =>
        `${a.fn}(${a.distinct ? "DISTINCT " : ""}${a.arg === undefined ? "*" : names[a.arg]})${a.filter === undefined ? "" : ` FILTER ${names[a.filter]}`}`,
    )
    .join(", ");
}

/** The inputs of `rel`. */
function inputsOf(rel: Rel): Rel[] {
  if (rel.kind === "join") return [rel.left, rel.right];
  return "input" in rel ? [rel.input] : [];
}
