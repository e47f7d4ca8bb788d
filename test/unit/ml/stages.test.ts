/** The stages on in-memory tables (offline) and their refusals. */
import { describe, expect, it } from "vitest";
import type { DataStream } from "../../../core/api/datastream.ts";
import { buildGraph, defineJob } from "../../../core/api/environment.ts";
import { planJob } from "../../../core/graph/planner.ts";
import {
  FeatureHasher,
  fitLearner,
  KMeans,
  type Learner,
  LogisticRegression,
  LogisticRegressionModel,
  MLRecordError,
  MLUsageError,
  type ModelVersion,
  Pipeline,
  type Row,
  ServingModel,
  StandardScaler,
  type StandardScalerData,
  separableRows,
} from "../../../core/ml/index.ts";
import { gaussian, recordRandom } from "../../../core/ml/random.ts";
import { ManualClock } from "../../../core/ports/clock.ts";
import { runToCompletion } from "../../../core/runtime/run-to-completion.ts";

const rows = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

describe("FeatureHasher", () => {
  const hasher = new FeatureHasher({
    inputCols: ["country", "clicks", "mobile", "hour"],
    categoricalCols: ["hour"],
    numFeatures: 32,
  });

  it("one-hot encodes categories and adds numbers, the same way every time", () => {
    const [a, b] = hasher.transform([
      { country: "fr", clicks: 3, mobile: true, hour: 9 },
      { country: "fr", clicks: 5, mobile: true, hour: 9, other: "kept" },
    ]) as Row[];
    const va = a?.features as number[];
    const vb = b?.features as number[];
    expect(va).toHaveLength(32);
    // Three categories each put a 1 somewhere (collisions add up); `clicks` adds its value.
    expect(va.reduce((s, x) => s + x, 0)).toBe(3 + 3);
    expect(vb.reduce((s, x) => s + x, 0)).toBe(3 + 5);
    expect(va.map((x, i) => (vb[i] as number) - x).filter((d) => d !== 0)).toEqual([2]); // only the clicks index moved
    expect(b?.other).toBe("kept");
    expect(hasher.transform([{ country: "fr", clicks: 3, mobile: true, hour: 9 }])[0]?.features).toEqual(va);
  });

  it("skips missing values and refuses objects and non-finite numbers", () => {
    expect(hasher.transform([{}])[0]?.features).toEqual(new Array(32).fill(0));
    expect(() => hasher.transform([{ country: { a: 1 } }])).toThrow(MLRecordError);
    expect(() => hasher.transform([{ clicks: Number.NaN }])).toThrow(/clicks/);
    expect(() => new FeatureHasher({ inputCols: [] })).toThrow(MLUsageError);
    expect(() => new FeatureHasher({ inputCols: ["a"], numFeatures: 0 })).toThrow(
      /numFeatures must be an integer >= 1/,
    );
  });
});

describe("StandardScaler", () => {
  const table = rows(2000, (i) => {
    const r = recordRandom(5, i);
    return { raw: [3 + 2 * gaussian(r), -1 + 0.5 * gaussian(r), 7] };
  });

  it("learns the mean and sample deviation of each feature (as a two-pass computation does) and scales by them", () => {
    const model = new StandardScaler({ inputCol: "raw", outputCol: "x", withMean: true }).fit(table);
    const { data } = model.getModelData() as ModelVersion<StandardScalerData>;
    for (let d = 0; d < 3; d++) {
      const xs = table.map((t) => t.raw[d] as number);
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const std = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
      expect(data.mean[d]).toBeCloseTo(mean, 10);
      expect(data.std[d]).toBeCloseTo(std, 10);
    }
    const [first] = model.transform(table.slice(0, 1));
    const [r0, r1] = (table[0] as { raw: number[] }).raw;
    const [m0, m1] = data.mean;
    const [s0, s1] = data.std;
    expect(first?.x).toEqual([
      ((r0 as number) - (m0 as number)) / (s0 as number),
      ((r1 as number) - (m1 as number)) / (s1 as number),
      0, // a constant feature (deviation 0) scales to 0
    ]);
  });

  it("fits the same on a bounded stream as on the array", async () => {
    const out = await runToCompletion(
      defineJob("scaler", (env) => {
        env.configure({ sourceBatchSize: 64 });
        const stream = env.fromGenerator((i) => table[i] as { raw: number[] }, { count: table.length, splits: 1 });
        new StandardScaler({ inputCol: "raw", versionEvery: 700 })
          .fit(stream.setParallelism(1))
          .modelVersions()
          .sinkTo("v");
      }),
      { clock: new ManualClock() },
    );
    const versions = (out.get("v") ?? []) as ModelVersion<StandardScalerData>[];
    expect(versions.map((v) => v.records).sort((a, b) => a - b)).toEqual([700, 1400, 2000]);
    const last = versions.find((v) => v.records === 2000);
    expect(last?.data).toEqual(
      (new StandardScaler({ inputCol: "raw" }).fit(table).getModelData() as ModelVersion<StandardScalerData>).data,
    );
  });
});

describe("KMeans", () => {
  // Two clusters; halfway through the stream the second one moves from (10, 0) to (10, 6).
  const drift = rows(8000, (i) => {
    const r = recordRandom(13, i);
    const moved = i >= 4000;
    const [cx, cy] = i % 2 === 0 ? [0, 0] : [10, moved ? 6 : 0];
    return { features: [cx + 0.3 * gaussian(r), cy + 0.3 * gaussian(r)] };
  });
  const second = (decayFactor: number) => {
    const { data } = new KMeans({ k: 2, seed: 3, decayFactor, maxIter: 0 }).fit(drift).getModelData() as ModelVersion<{
      centroids: number[][];
    }>;
    return data.centroids.find((c) => (c[0] as number) > 5) as number[];
  };

  it("with decay 1 keeps the running mean; with a decay it follows a centre that moved", () => {
    expect(second(1)[1]).toBeCloseTo(3, 0); // the mean of both halves
    expect(second(0.99)[1]).toBeCloseTo(6, 0); // forgets the old position
  });
});

describe("Pipeline", () => {
  // A click model: features from a country, a device and a price; the label follows a planted rule.
  const plane = separableRows({ seed: 9, coefficients: [2, -1], intercept: 0 });
  const clicks = rows(6000, (i) => {
    const { features, label } = plane(i);
    const country = (features[0] as number) > 0 ? "fr" : "de";
    return { country, device: i % 3 === 0 ? "ios" : "web", price: 10 + 4 * (features[1] as number), label };
  });

  it("fits each estimator on what the stages before it output, and transforms through all of them", () => {
    const model = new Pipeline([
      new FeatureHasher({ inputCols: ["country", "device", "price"], outputCol: "raw", numFeatures: 16 }),
      new StandardScaler({ inputCol: "raw", outputCol: "features", withMean: true }),
      new LogisticRegression({ epochs: 3 }),
    ]).fit(clicks);
    const scored = model.transform(clicks);
    expect(scored).toHaveLength(clicks.length);
    const accuracy = scored.filter((r) => r.prediction === r.label).length / scored.length;
    expect(accuracy).toBeGreaterThan(0.85);
    expect(model.stages[1]?.transform([{ raw: new Array(16).fill(0) }])[0]?.features).toHaveLength(16);
  });

  it("refuses no stages", () => {
    expect(() => new Pipeline([])).toThrow(/at least one stage/);
  });
});

describe("a learner of one's own", () => {
  // The extension point the built-in stages use: a fold (Learner) and a ServingModel.
  const meanOf: Learner<{ n: number; sum: number }, number> = {
    stage: "Mean",
    init: () => ({ n: 0, sum: 0 }),
    update: (s, row) => ({ n: s.n + 1, sum: s.sum + (row.x as number) }),
    data: (s) => (s.n === 0 ? undefined : s.sum / s.n),
  };
  class AboveMean extends ServingModel<number> {
    constructor(data: ModelVersion<number> | DataStream<ModelVersion<number>>) {
      super("Mean", data);
    }
    protected serve(mean: number, row: Row): Row {
      return { ...row, above: (row.x as number) > mean };
    }
  }

  it("fits offline and serves a stream with its versions", async () => {
    const xs = rows(10, (i) => ({ x: i }));
    expect(new AboveMean(fitLearner(meanOf, xs, {})).transform([{ x: 5 }, { x: 4 }]).map((r) => r.above)).toEqual([
      true,
      false,
    ]);
    const out = await runToCompletion(
      defineJob("mean", (env) => {
        const stream = env.fromElements(xs);
        const model = new AboveMean(fitLearner(meanOf, stream, { versionEvery: 4 }));
        model.modelVersions().sinkTo("versions");
      }),
      { clock: new ManualClock() },
    );
    expect(((out.get("versions") ?? []) as ModelVersion<number>[]).map((v) => [v.version, v.records, v.data])).toEqual([
      [1, 4, 1.5],
      [2, 8, 3.5],
      [3, 10, 4.5],
    ]);
  });
});

describe("estimators refuse", () => {
  it("bad parameters when built", () => {
    expect(() => new LogisticRegression({ alpha: 0 })).toThrow(/alpha must be a number > 0/);
    expect(() => new KMeans({ k: 3, initRows: 2 })).toThrow(/initRows must be an integer >= 3/);
    expect(() => new KMeans({ decayFactor: 1.5 })).toThrow(/decayFactor/);
    expect(() => new LogisticRegression({ versionEvery: 0 }).fit([])).toThrow(/versionEvery/);
  });

  it("rows they cannot learn from, naming the stage and the column", () => {
    expect(() => new LogisticRegression().fit([{ features: [1, 2], label: 2 }])).toThrow(
      /LogisticRegression: column 'label' must be a label 0 or 1/,
    );
    expect(() =>
      new LogisticRegression().fit([
        { features: [1, 2], label: 1 },
        { features: [1], label: 0 },
      ]),
    ).toThrow(/has 1 numbers, the model has 2/);
    expect(() => new KMeans().fit([{ features: "x" }])).toThrow(/KMeans: column 'features' must be an array/);
    expect(() => new KMeans({ k: 2 }).fit([{ features: [1] }])).toThrow(/1 rows are too few/);
  });

  it("two training operators of one kind without their own uid, when the job is planned", () => {
    const job = (uids: boolean) =>
      defineJob("two", (env) => {
        const rows = env.fromElements([{ features: [1], label: 1 }]);
        new LogisticRegression(uids ? { uid: "a" } : {}).fit(rows).modelVersions().sinkTo("a");
        new LogisticRegression(uids ? { uid: "b" } : {}).fit(rows).modelVersions().sinkTo("b");
      });
    expect(() => planJob(buildGraph(job(false)))).toThrow(/two operators share the uid 'ml-LogisticRegression'/);
    expect(planJob(buildGraph(job(true))).tasks.map((t) => t.id)).toEqual(expect.arrayContaining(["a", "b"]));
  });

  it("to transform an array with a model fitted on a stream (its data exists only in the job), when the job is built", () => {
    const job = defineJob("misuse", (env) => {
      const model = new LogisticRegression().fit(env.fromElements([{ features: [1], label: 1 }]));
      model.transform([{ features: [1] }]);
    });
    expect(() => buildGraph(job)).toThrow(MLUsageError);
    const fixed = new LogisticRegressionModel({ version: 1, records: 1, data: { coefficients: [1], intercept: 0 } });
    expect(() => fixed.modelVersions()).toThrow(/fixed data/);
  });
});
