// examples/ml-clicks.ts
import { defineJob } from "riffle";
import { FeatureHasher, LogisticRegression, recordRandom } from "riffle/ml";

const COUNTRIES = ["fr", "de", "us", "jp"];
const DEVICES = ["ios", "android", "web"];

/** Ad impression `i`; a click is likelier on a phone, in the evening, in the US (a planted rule plus noise). */
export function impression(i: number) {
  const random = recordRandom(42, i);
  const country = COUNTRIES[Math.floor(random() * COUNTRIES.length)] as string;
  const device = DEVICES[Math.floor(random() * DEVICES.length)] as string;
  const hour = Math.floor(random() * 24);
  const score = (device === "web" ? -1 : 1) + (hour >= 18 ? 2 : -1) + (country === "us" ? 1 : 0) + random() - 0.5;
  return { id: i, country, device, hour, label: score > 0.5 ? 1 : 0 };
}

export default defineJob("ml-clicks", (env) => {
  const impressions = env.fromGenerator(impression, { count: 40_000, splits: 1 }).uid("impressions");
  const features = new FeatureHasher({
    inputCols: ["country", "device", "hour"],
    categoricalCols: ["hour"],
    numFeatures: 64,
  }).transform(impressions.setParallelism(1));
  const model = new LogisticRegression({ versionEvery: 10_000, modelVersionCol: "model" }).fit(features);
  model.modelVersions().sinkTo("models"); // the model data: a stream of versions
  model
    .transform(features) // each impression scored by the newest version, while the model learns
    .map(({ id, label, prediction, model }) => ({ id, label, prediction, model }))
    .sinkTo("scored");
});
