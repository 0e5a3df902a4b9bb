import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** s3rver's built-in account: it accepts any SigV4 signature from this key id (it checks the id, the date and a URL's expiry, not the signature). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3Server {
  /** `http://127.0.0.1:<port>`, for path-style requests. */
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps the bucket's files. */
  directory: string;
  close(): Promise<void>;
}

/**
 * An S3-API server in this process (s3rver, from npm) on a free loopback port, with one empty
 * bucket in a temp directory: the S3 suites need no service started beforehand.
 */
export async function startS3Server(bucket = 'intake-images'): Promise<TestS3Server> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    directory,
    close: async () => {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

let buckets = 0;

/**
 * The S3-API server the suites share: the one `.ci/run` starts (`.ci/s3`, which sets
 * S3_TEST_ENDPOINT and S3_TEST_DIRECTORY), with a new bucket for the caller; elsewhere, one in
 * this process. A test that stops its server (an outage) starts its own with startS3Server.
 */
export async function sharedS3Server(): Promise<TestS3Server> {
  const endpoint = process.env.S3_TEST_ENDPOINT;
  if (!endpoint) {
    if (process.env.CI === 'true') console.warn('⚠ S3_TEST_ENDPOINT is not set: the S3 suites run on an s3rver in the test process, not on the one .ci/run starts');
    return startS3Server();
  }
  const bucket = `intake-${process.pid}-${Date.now().toString(36)}-${++buckets}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  // The server and its files outlive the suite: .ci/run removes them when the tests end.
  return { endpoint, bucket, directory: process.env.S3_TEST_DIRECTORY ?? '', close: async () => undefined };
}
