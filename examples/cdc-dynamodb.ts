// examples/cdc-dynamodb.ts
import { defineJob } from "riffle";
import { changeKey, dynamodbCdc, dynamodbSink } from "riffle/dynamodb";

// The AWS SDK's region and credentials; AWS_ENDPOINT_URL points it at DynamoDB Local.
export default defineJob("carts-copy", (env) => {
  env.enableCheckpointing(1000);
  env
    // `carts` has a stream (NEW_AND_OLD_IMAGES): a scan, then its changes, as { kind, row, key }.
    .fromSource(dynamodbCdc({ table: "carts" }))
    // Changes of one key stay in order on one sink partition.
    .keyBy(changeKey)
    // Puts and deletes in transactions fenced by a progress item, exactly once.
    .addSink(dynamodbSink({ table: "carts_copy" }));
});
