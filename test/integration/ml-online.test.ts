/**
 * The ML pipeline API on streams with a known answer, on the embedded runtime:
 * online logistic regression learns a planted plane, online k-means finds planted
 * centres, the model versions are the same under injected faults and across a
 * savepoint restore as on a clean run (the model state is exactly-once), and offline
 * fits on the same rows give the same models within tolerance.
 */
import { describe, expect, it } from "vitest";
import { defineJob, type Job } from "../../core/api/environment.ts";
import { InMemoryCheckpointStore } from "../../core/memory/in-memory-checkpoint-store.ts";
import { InMemoryStateStore } from "../../core/memory/in-memory-state-store.ts";
import {
  areaUnderRoc,
  blobRows,
  KMeans,
  type KMeansData,
  LogisticRegression,
  type LogisticRegressionData,
  LogisticRegressionModel,
  type ModelVersion,
  type Row,
  separableRows,
} from "../../core/ml/index.ts";
import { ManualClock } from "../../core/ports/clock.ts";
import { EmbeddedRuntime } from "../../core/runtime/embedded.ts";
import { runToCompletion } from "../../core/runtime/run-to-completion.ts";
import { runWithFaults } from "../support/embedded-faults.ts";

const PLANE = { coefficients: [1.5, -2, 1, 0.5, -1], intercept: 0.3 };
const train = separableRows({ seed: 11, ...PLANE, noise: 0.5 });
const heldOut = separableRows({ seed: 12, ...PLANE, noise: 0.5 });
const N = 20_000;
const lrParams = { versionEvery: 1500, modelVersionCol: "modelVersion" }; // 20 000 is no multiple: the end emits a last version

/**
 * Trains on `N` rows and serves the same rows (×2) as they come, each by the newest
 * version that reached its partition (prequential: a row is mostly served by a model
 * that has not learned from it yet).
 */
function lrJob(batch = 200): Job {
  return defineJob("ml-lr", (env) => {
    env.configure({ sourceBatchSize: batch, maxRecordsPerEnvelope: 100 });
    env.enableCheckpointing(10);
    const rows = env.fromGenerator((i) => ({ id: i, ...train(i) }), { count: N, splits: 1 }).uid("train");
    const model = new LogisticRegression(lrParams).fit(rows.setParallelism(1));
    model.modelVersions().sinkTo("versions");
    model.transform(rows).uid("serve").setParallelism(2).sinkTo("scored");
  });
}

const CENTRES = [
  [0, 0],
  [12, 0],
  [0, 12],
  [12, 12],
  [6, 6],
];
const SPREAD = 1;
const blobs = blobRows({ seed: 21, centres: CENTRES, spread: SPREAD });
const POINTS = 40_000;

function kmeansJob(): Job {
  return defineJob("ml-kmeans", (env) => {
    env.configure({ sourceBatchSize: 300, maxRecordsPerEnvelope: 100 });
    env.enableCheckpointing(10);
    const rows = env.fromGenerator(blobs, { count: POINTS, splits: 1 }).uid("points").setParallelism(1);
    new KMeans({ k: 5, seed: 7, versionEvery: 3000 }).fit(rows).modelVersions().sinkTo("versions");
  });
}

type LrVersion = ModelVersion<LogisticRegressionData>;
type KmVersion = ModelVersion<KMeansData>;
const byVersion = <V extends { version: number }>(vs: readonly unknown[]) =>
  ([...vs] as V[]).sort((a, b) => a.version - b.version);
const rows = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const auc = (model: LogisticRegressionModel) => {
  const test = rows(5000, (i) => heldOut(i)) as { label: 0 | 1 }[];
  return areaUnderRoc(
    model.transform(test).map((r) => r.probability as number),
    test.map((r) => r.label),
  );
};
const cosine = (a: readonly number[], b: readonly number[]) => {
  const dot = a.reduce((s, x, i) => s + x * (b[i] as number), 0);
  return dot / Math.hypot(...a) / Math.hypot(...b);
};
/** For each planted centre, the index of the nearest fitted centre and the distance to it. */
const matched = (centroids: readonly number[][]) =>
  CENTRES.map((c) => {
    const d = centroids.map((f) => Math.hypot(...f.map((x, i) => x - (c[i] as number))));
    const j = d.indexOf(Math.min(...d));
    return { j, d: d[j] as number };
  });

describe("online logistic regression", async () => {
  const clean = await runToCompletion(lrJob(), { clock: new ManualClock() });
  const versions = byVersion<LrVersion>(clean.get("versions") ?? []);
  const last = versions.at(-1) as LrVersion;

  it("emits a version every 1500 rows and one at the end, and reaches AUC ≥ 0.95 on held-out rows", () => {
    expect(versions.map((v) => v.records)).toEqual([...rows(13, (i) => (i + 1) * 1500), N]);
    expect(versions.map((v) => v.version)).toEqual(rows(14, (i) => i + 1));
    expect(auc(new LogisticRegressionModel(last))).toBeGreaterThanOrEqual(0.95);
    // The learned plane points the planted way (the scale is the model's confidence).
    expect(
      cosine([...last.data.coefficients, last.data.intercept], [...PLANE.coefficients, PLANE.intercept]),
    ).toBeGreaterThan(0.99);
    // An early version, from 1500 rows, is worse: the stream is what it learns from.
    expect(auc(new LogisticRegressionModel(versions[0] as LrVersion))).toBeLessThan(
      auc(new LogisticRegressionModel(last)),
    );
  });

  it("serves every row once while it learns, each with exactly what the version it names predicts", () => {
    const scored = (clean.get("scored") ?? []) as Row[];
    expect(scored.map((r) => r.id).sort((a, b) => (a as number) - (b as number))).toEqual(rows(N, (i) => i));
    // The model updated while it served: many versions served rows.
    expect(new Set(scored.map((r) => r.modelVersion)).size).toBeGreaterThanOrEqual(5);
    for (const r of scored) {
      // A row that came before its partition's first version waited for it: every row names one.
      const v = versions.find((x) => x.version === r.modelVersion) as LrVersion;
      expect(v).toBeDefined();
      expect(r.probability).toBe(new LogisticRegressionModel(v).transform([r])[0]?.probability);
    }
  });

  for (const seed of [1, 2]) {
    it(`emits the very same versions under injected faults (seed ${seed})`, async () => {
      const { output, faults } = await runWithFaults(lrJob(), seed);
      expect(faults).toBeGreaterThan(10);
      expect(byVersion(output.get("versions") ?? [])).toEqual(versions);
      expect(
        ((output.get("scored") ?? []) as Row[]).map((r) => r.id).sort((a, b) => (a as number) - (b as number)),
      ).toEqual(rows(N, (i) => i));
    });
  }

  it("emits the very same versions when stopped with a savepoint and restored", async () => {
    const store = new InMemoryStateStore({ copy: true });
    const checkpoints = new InMemoryCheckpointStore();
    const clock = new ManualClock();
    const first: unknown[] = [];
    const stop = new AbortController();
    await new EmbeddedRuntime(lrJob(50), {
      clock,
      store,
      checkpoints,
      batchTimeMs: 1,
      signal: stop.signal,
      stopWithSavepoint: "mid-training",
      onOutput: (sink, values) => {
        if (sink !== "versions") return;
        first.push(...values);
        if (first.length >= 3) stop.abort();
      },
    }).run();
    const second: unknown[] = [];
    await new EmbeddedRuntime(lrJob(50), {
      clock,
      store,
      checkpoints,
      batchTimeMs: 1,
      fromSavepoint: "mid-training",
      onOutput: (sink, values) => sink === "versions" && second.push(...values),
    }).run();
    expect(first.length).toBeGreaterThanOrEqual(3);
    expect(second.length).toBeGreaterThan(0);
    expect(byVersion([...first, ...second])).toEqual(versions);
  });

  it("fits the same model offline on the same rows: exactly in one epoch, within tolerance in five", () => {
    const table = rows(N, (i) => ({ id: i, ...train(i) }));
    const once = new LogisticRegression(lrParams).fit(table).getModelData() as LrVersion;
    expect(once.data).toEqual(last.data);
    const five = new LogisticRegression({ epochs: 5 }).fit(table);
    const data = (five.getModelData() as LrVersion).data;
    expect(
      cosine([...data.coefficients, data.intercept], [...last.data.coefficients, last.data.intercept]),
    ).toBeGreaterThan(0.999);
    expect(Math.abs(auc(five) - auc(new LogisticRegressionModel(last)))).toBeLessThan(0.002);
  });
});

describe("online k-means", async () => {
  const clean = await runToCompletion(kmeansJob(), { clock: new ManualClock() });
  const versions = byVersion<KmVersion>(clean.get("versions") ?? []);
  const last = versions.at(-1) as KmVersion;

  it("recovers the 5 planted centres within 5% of their spread", () => {
    expect(last.records).toBe(POINTS);
    const m = matched(last.data.centroids);
    expect(new Set(m.map((x) => x.j)).size).toBe(5);
    for (const { d } of m) expect(d).toBeLessThan(0.05 * SPREAD);
  });

  for (const seed of [3, 4]) {
    it(`emits the very same versions under injected faults (seed ${seed})`, async () => {
      const { output, faults } = await runWithFaults(kmeansJob(), seed);
      expect(faults).toBeGreaterThan(10);
      expect(byVersion(output.get("versions") ?? [])).toEqual(versions);
    });
  }

  it("fits the same centres offline (k-means++ and Lloyd's iterations) within 1% of the spread", () => {
    const offline = (new KMeans({ k: 5, seed: 7 }).fit(rows(POINTS, blobs)).getModelData() as KmVersion).data;
    last.data.centroids.forEach((c, j) => {
      const o = offline.centroids[j] as number[];
      expect(Math.hypot(...c.map((x, i) => x - (o[i] as number)))).toBeLessThan(0.01 * SPREAD);
    });
  });
});
