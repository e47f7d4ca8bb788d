/**
 * Least privilege for remote functions: each task function of the synthesized stack
 * may `lambda:InvokeFunction` exactly the Lambda functions its own operators name
 * (an ARN as given, a bare name as that function's ARN in the stack's account and
 * region), never with a wildcard; a URL target and every other function get no
 * invoke grant at all. A Python function the stack deploys beside the job
 * (`configureAws({ pythonFunctions })`) is granted by its own ARN.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { OFFLINE_ACCOUNT, type SynthesizedJob } from "../../stacks/synth.ts";
import { COUNT_ARN } from "../fixtures/remote-job.ts";
import {
  actionsOf,
  hasWildcard,
  policyStatements,
  refTarget,
  resolveIntrinsics,
  resources,
  resourcesOf,
  roleOf,
  synthForTest,
} from "../support/stack-template.ts";

let s: SynthesizedJob;
let py: SynthesizedJob;
beforeAll(async () => {
  // One after the other: SST keeps its app in module state while a stack is built.
  s = await synthForTest("test/fixtures/remote-job.ts");
  py = await synthForTest("test/fixtures/remote-python-job.ts");
}, 180_000);

/** The resources (as JSON) of every `lambda:InvokeFunction` statement of each riffle function, by function id. */
function invokeGrants(s: SynthesizedJob): Map<string, { role: string; resources: string[] }> {
  const out = new Map<string, { role: string; resources: string[] }>();
  for (const fn of resources(s, "AWS::Lambda::Function").filter((f) => roleOf(f) !== undefined)) {
    const role = refTarget(fn.props.Role) ?? "";
    const statements = policyStatements(s)
      .filter((p) => p.roles.includes(role))
      .map((p) => p.statement)
      .filter((st) => actionsOf(st).some((a) => a.startsWith("lambda:Invoke")));
    for (const st of statements) {
      expect(actionsOf(st)).toEqual(["lambda:InvokeFunction"]);
      expect(hasWildcard(st.Resource), JSON.stringify(st.Resource)).toBe(false);
    }
    const list = statements.flatMap((st) => resourcesOf(st).map((r) => JSON.stringify(r)));
    out.set(fn.id, { role: roleOf(fn) as string, resources: list });
  }
  return out;
}

describe("remote functions in the stack", () => {
  it("each task may invoke exactly the Lambda functions its operators name, and nothing else may invoke any", () => {
    const byTask = new Map(s.deployment.tasks.map((t) => [t.task.id, t.invokes]));
    expect([...byTask.values()].flat().sort()).toEqual([COUNT_ARN, "upper-words"].sort());
    const grants = invokeGrants(s);
    const tasks = resources(s, "AWS::Lambda::Function").filter((f) => roleOf(f) === "task");
    expect(tasks.length).toBe(s.deployment.tasks.length);
    const granted: string[] = [];
    for (const [id, g] of grants) {
      if (g.role !== "task") {
        expect(g.resources, `${g.role} ${id}`).toEqual([]);
        continue;
      }
      const t = s.deployment.tasks.find((d) => id === `Task${d.index}` || id.startsWith(`Task${d.index}`));
      expect(t, id).toBeDefined();
      expect(g.resources.length, id).toBe(t?.invokes.length);
      granted.push(...g.resources);
    }
    expect(granted).toContain(JSON.stringify(COUNT_ARN));
    const byName = granted.find((r) => r.includes("function:upper-words"));
    expect(byName, granted.join("\n")).toBeDefined();
    const partition = (id: string) => (id === "AWS::Partition" ? "aws" : `<${id}>`);
    expect(resolveIntrinsics(JSON.parse(byName as string), partition)).toBe(
      `arn:aws:lambda:us-east-1:${OFFLINE_ACCOUNT}:function:upper-words`,
    );
    expect(granted.some((r) => r.includes("127.0.0.1"))).toBe(false);
    expect(granted).toHaveLength(2);
  });

  it("deploys a Python function from sdk/python beside the job, and the task may invoke exactly it", () => {
    const fn = resources(py, "AWS::Lambda::Function").find((f) => f.props.FunctionName === "words-count");
    expect(fn?.props).toMatchObject({ Runtime: "python3.12", Handler: "functions.handler", MemorySize: 256 });
    const grants = [...invokeGrants(py).values()];
    const granted = grants.flatMap((g) => g.resources);
    expect(granted).toEqual([JSON.stringify({ "Fn::GetAtt": [fn?.id, "Arn"] })]);
    expect(grants.filter((g) => g.resources.length > 0).map((g) => g.role)).toEqual(["task"]);
  });
});
