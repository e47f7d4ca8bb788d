/**
 * The job's segment bucket: segment payloads over 4 KB encoded
 * (`core/log/payload.ts`), one object per append attempt under `<job>/`. Private,
 * encrypted at rest, TLS only; it outlives the stack like the tables do.
 */

import { Duration, RemovalPolicy } from "aws-cdk-lib";
import * as s3 from "aws-cdk-lib/aws-s3";
import type { Construct } from "constructs";

/** Creates the segment bucket (its name is generated; functions get it as `RIFFLE_BUCKET`). */
export function createSegmentBucket(scope: Construct): s3.Bucket {
  return new s3.Bucket(scope, "SegmentBucket", {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}
