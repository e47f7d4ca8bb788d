/** The `WITH` options of the connectors' SQL tables: checked once, the same way for each. */
import { JobDefinitionError } from "../../core/errors.ts";

/** A table's `WITH` options. */
export type SqlOptions = Readonly<Record<string, string>>;

/** Checks that `options` holds only `known` keys (and `connector`) and has the `required` ones. */
export function checkOptions(
  connector: string,
  options: SqlOptions,
  known: readonly string[],
  required: readonly string[],
): void {
  for (const k of Object.keys(options))
    if (k !== "connector" && !known.includes(k))
      throw new JobDefinitionError(`the ${connector} connector has no option '${k}' (it takes ${known.join(", ")})`);
  for (const k of required)
    if (options[k] === undefined) throw new JobDefinitionError(`the ${connector} connector needs option '${k}'`);
}

/** The `scan.startup.mode` option: true for `initial` (snapshot, then stream; the default), false for `latest-offset`. */
export function snapshotFirst(options: SqlOptions): boolean {
  const mode = options["scan.startup.mode"] ?? "initial";
  if (mode !== "initial" && mode !== "latest-offset")
    throw new JobDefinitionError(`'scan.startup.mode' must be 'initial' or 'latest-offset', got '${mode}'`);
  return mode === "initial";
}
