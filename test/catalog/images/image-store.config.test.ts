import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to throw');
}

const S3 = { IMAGE_STORE: 's3', IMAGE_S3_BUCKET: 'intake-images' };

describe('image store configuration', () => {
  it('keeps images on disk and streams them unless told otherwise', () => {
    const { store, serve } = loadConfig({}).images;
    expect(store).toEqual({
      driver: 'disk',
      s3: { endpoint: undefined, region: 'us-east-1', bucket: undefined, prefix: 'images/', accessKeyId: undefined, secretAccessKey: undefined, forcePathStyle: true },
    });
    expect(serve).toEqual({ mode: 'stream', redirectTtlSeconds: 3_600 });
  });

  it('reads every IMAGE_S3_* setting', () => {
    const { store, serve } = loadConfig({
      ...S3,
      IMAGE_S3_ENDPOINT: 'http://127.0.0.1:9000',
      IMAGE_S3_REGION: 'eu-west-3',
      IMAGE_S3_PREFIX: 'cache/images',
      IMAGE_S3_ACCESS_KEY_ID: 'id',
      IMAGE_S3_SECRET_ACCESS_KEY: 'secret',
      IMAGE_S3_FORCE_PATH_STYLE: 'false',
      IMAGE_SERVE: 'redirect',
      IMAGE_REDIRECT_TTL_S: '600',
    }).images;
    expect(store).toEqual({
      driver: 's3',
      s3: { endpoint: 'http://127.0.0.1:9000', region: 'eu-west-3', bucket: 'intake-images', prefix: 'cache/images/', accessKeyId: 'id', secretAccessKey: 'secret', forcePathStyle: false },
    });
    expect(serve).toEqual({ mode: 'redirect', redirectTtlSeconds: 600 });
  });

  it('takes "/" as the bucket root and a prefix without its leading slash', () => {
    expect(loadConfig({ ...S3, IMAGE_S3_PREFIX: '/' }).images.store.s3.prefix).toBe('');
    expect(loadConfig({ ...S3, IMAGE_S3_PREFIX: '/a/b/' }).images.store.s3.prefix).toBe('a/b/');
  });

  it('refuses s3 without a bucket, half the credentials, a redirect from disk and bad values, all at once', () => {
    expect(problemsOf({ IMAGE_STORE: 's3' })).toEqual(['IMAGE_S3_BUCKET is required when IMAGE_STORE=s3']);
    const problems = problemsOf({
      IMAGE_STORE: 'ftp',
      IMAGE_S3_ENDPOINT: 'minio:9000',
      IMAGE_S3_SECRET_ACCESS_KEY: 'do-not-echo-me',
      IMAGE_S3_FORCE_PATH_STYLE: 'maybe',
      IMAGE_SERVE: 'redirect',
      IMAGE_REDIRECT_TTL_S: '604801',
    });
    expect(problems).toEqual([
      'IMAGE_STORE must be one of disk, s3, got "ftp"',
      'IMAGE_S3_ENDPOINT must be an http(s) URL, got "minio:9000"',
      'IMAGE_S3_FORCE_PATH_STYLE must be true or false, got "maybe"',
      'IMAGE_REDIRECT_TTL_S must be an integer between 1 and 604800, got "604801"',
      "IMAGE_S3_ACCESS_KEY_ID and IMAGE_S3_SECRET_ACCESS_KEY must be set together (or neither, for the AWS SDK's default credentials)",
      'IMAGE_SERVE=redirect needs IMAGE_STORE=s3: only a bucket signs URLs',
    ]);
    expect(problems.join('\n')).not.toContain('do-not-echo-me');
  });
});
