/**
 * The Amazon States Language (JSONPath) shapes the coordinator machines use: plain
 * JSON-serializable types, so `JSON.stringify` of an {@link AslDefinition} is the
 * ASL document.
 */

/** A Retry entry. */
export interface AslRetrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds: number;
  readonly MaxAttempts: number;
  readonly BackoffRate: number;
}

/** A Catch entry. */
export interface AslCatcher {
  readonly ErrorEquals: readonly string[];
  readonly Next: string;
  readonly ResultPath: string;
}

/** A JSON value (a Task state's Parameters may nest objects and hold `null`). */
export type AslJson = string | number | boolean | null | readonly AslJson[] | { readonly [key: string]: AslJson };

/** A Task state: a Lambda function called directly, or a nested workflow started synchronously. */
export interface AslTaskState {
  readonly Type: "Task";
  readonly Comment?: string;
  readonly Resource: string;
  readonly Parameters: Readonly<Record<string, AslJson>>;
  /** Keeps only these fields of the task's result. */
  readonly ResultSelector?: Readonly<Record<string, string>>;
  /** Where the result goes; absent: it replaces the state (as `"$"`). */
  readonly ResultPath?: string;
  /** How long the task may run before the state fails with `States.Timeout` (the States Language's default: 60). */
  readonly TimeoutSeconds?: number;
  readonly Retry: readonly AslRetrier[];
  readonly Catch?: readonly AslCatcher[];
  readonly Next: string;
}

/** A Wait state of a fixed number of seconds. */
export interface AslWaitState {
  readonly Type: "Wait";
  readonly Comment?: string;
  readonly Seconds: number;
  readonly Next: string;
}

/** A JSONPath Choice rule (the operators this machine uses). */
export interface AslChoiceRule {
  readonly Variable?: string;
  readonly BooleanEquals?: boolean;
  readonly StringEquals?: string;
  readonly NumericGreaterThanEquals?: number;
  readonly IsNull?: boolean;
  readonly IsPresent?: boolean;
  readonly And?: readonly AslChoiceRule[];
  readonly Or?: readonly AslChoiceRule[];
  readonly Not?: AslChoiceRule;
  /** Set on top-level rules only. */
  readonly Next?: string;
}

/** A Choice state. */
export interface AslChoiceState {
  readonly Type: "Choice";
  readonly Comment?: string;
  readonly Choices: readonly AslChoiceRule[];
  readonly Default: string;
}

/** A Pass state that reshapes its input. */
export interface AslPassState {
  readonly Type: "Pass";
  readonly Comment?: string;
  readonly Parameters: Readonly<Record<string, string>>;
  readonly Next: string;
}

/** A Succeed state. */
export interface AslSucceedState {
  readonly Type: "Succeed";
  readonly Comment?: string;
}

/** A Fail state. */
export interface AslFailState {
  readonly Type: "Fail";
  readonly Comment?: string;
  readonly Error: string;
  readonly Cause: string;
}

/** Any state of the coordinator machine. */
export type AslState = AslTaskState | AslWaitState | AslChoiceState | AslPassState | AslSucceedState | AslFailState;

/** A state machine definition (a plain JSON value: `JSON.stringify` gives the ASL document). */
export interface AslDefinition {
  readonly Comment: string;
  readonly QueryLanguage: "JSONPath";
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
}
