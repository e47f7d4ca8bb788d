/**
 * A pipeline fitted on a stream: a standard scaler trains online and serves the
 * logistic regression after it, which trains online on what it serves; the pipeline
 * model then serves unseen rows through both, and its final versions, loaded offline,
 * rank held-out rows of the planted plane with AUC ≥ 0.95.
 */
import { describe, expect, it } from "vitest";
import { defineJob } from "../../core/api/environment.ts";
import {
  areaUnderRoc,
  LogisticRegression,
  type LogisticRegressionData,
  LogisticRegressionModel,
  type ModelVersion,
  Pipeline,
  PipelineModel,
  type Row,
  StandardScaler,
  type StandardScalerData,
  StandardScalerModel,
  separableRows,
} from "../../core/ml/index.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";

const plane = separableRows({ seed: 31, coefficients: [3, -2, 1], intercept: 0.5, noise: 0.3 });
const SCALE = [100, 0.01, 5];
const OFFSET = [1000, 0, -3];
/** Row `i` of the plane, its features on very different scales. */
const row = (i: number) => {
  const { features, label } = plane(i);
  return { id: i, raw: features.map((x, j) => x * (SCALE[j] as number) + (OFFSET[j] as number)), label };
};
const N = 20_000;
const LIVE = 2000;
const scalerColumns = { inputCol: "raw", outputCol: "features", withMean: true };

describe("a pipeline fitted on a stream", async () => {
  const out = await runToCompletion(
    defineJob("ml-pipeline", (env) => {
      env.configure({ sourceBatchSize: 200 });
      const training = env.fromGenerator(row, { count: N, splits: 1 }).uid("train").setParallelism(1);
      const model = new Pipeline([
        new StandardScaler({ ...scalerColumns, versionEvery: 1000 }),
        new LogisticRegression({ versionEvery: 1000 }),
      ]).fit(training);
      const [scaler, lr] = model.stages as [StandardScalerModel, LogisticRegressionModel];
      scaler.modelVersions().sinkTo("scaler");
      lr.modelVersions().sinkTo("lr");
      const live = env.fromGenerator((i) => row(N + i), { count: LIVE, splits: 1 }).uid("live");
      model.transform(live.setParallelism(1)).sinkTo("scored");
    }),
    { clock: new ManualClock() },
  );
  const last = <D>(sink: string) =>
    ((out.get(sink) ?? []) as ModelVersion<D>[]).reduce((a, b) => (b.version > a.version ? b : a));

  it("trains both stages online, and the final versions rank held-out rows with AUC ≥ 0.95", () => {
    const scaler = last<StandardScalerData>("scaler");
    const lr = last<LogisticRegressionData>("lr");
    expect([scaler.records, lr.records]).toEqual([N, N]);
    expect(scaler.data.mean[0]).toBeCloseTo(1000, -1); // the offset of the first feature, learned
    const loaded = new PipelineModel([new StandardScalerModel(scaler, scalerColumns), new LogisticRegressionModel(lr)]);
    const heldOut = Array.from({ length: 5000 }, (_, i) => row(N + LIVE + i));
    const scored = loaded.transform(heldOut);
    expect(
      areaUnderRoc(
        scored.map((r) => r.probability as number),
        heldOut.map((r) => r.label),
      ),
    ).toBeGreaterThanOrEqual(0.95);
  });

  it("serves every unseen row once through both stages", () => {
    const scored = (out.get("scored") ?? []) as Row[];
    expect(scored.map((r) => r.id as number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: LIVE }, (_, i) => N + i),
    );
    for (const r of scored) {
      expect(r.features).toHaveLength(3);
      expect(typeof r.probability).toBe("number");
    }
  });
});
