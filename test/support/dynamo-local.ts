/** DynamoDB Local for tests: the launcher lives in `functions/local/dynamo-local.ts` (riffle dev uses it too). */
export {
  type DynamoLocal,
  type DynamoLocalOptions,
  dynamoLocalDir,
  sharedDynamoLocal,
  startDynamoLocal,
  stopSharedDynamoLocal,
  uniquePrefix,
} from "../../functions/local/dynamo-local.ts";
