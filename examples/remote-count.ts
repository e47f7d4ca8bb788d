// examples/remote-count.ts
import { defineJob, RemoteDataStream, remoteProcess } from "riffle";

const url = process.env.RIFFLE_FUNCTION_URL ?? "http://127.0.0.1:8080/";

export default defineJob("remote-count", (env) => {
  const words = env.fromElements(["ada", "bob", "ada", "cy", "ada"]);
  RemoteDataStream.map<string, string>(words, { name: "shout", target: url })
    .keyBy((w) => w)
    .process(remoteProcess({ name: "count", target: url }))
    .sinkTo("counts");
});
