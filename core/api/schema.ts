/**
 * The record schema an ingest source declares. riffle accepts any validator that
 * implements the Standard Schema interface (https://standardschema.dev): zod,
 * valibot, arktype, … . The types below are the spec's, copied as it recommends.
 */

/** A validator in the Standard Schema v1 shape. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** Outcome of one validation. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly StandardIssue[] };

/** One problem found in a value. */
export interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** Why a value failed its schema, as one line: `field.path: message; …`. */
export function describeIssues(issues: readonly StandardIssue[]): string {
  return issues
    .map((i) => {
      const path = (i.path ?? []).map((p) => String(typeof p === "object" ? p.key : p)).join(".");
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join("; ");
}
