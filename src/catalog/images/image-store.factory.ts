import type { Logger } from 'pino';
import type { ImageStoreConfig } from '../../config.js';
import { DiskImageStore } from './disk-image-store.js';
import type { ImageStore } from './image-store.js';

export interface ImageStoreFactoryOptions {
  /** DATA_DIR: the disk store lives in its `images/`. */
  dataDir: string;
  /** `config.images.store`. */
  store: ImageStoreConfig;
  logger?: Pick<Logger, 'warn' | 'error'>;
}

/**
 * The image store IMAGE_STORE names. The S3 client is loaded only when used: a disk deployment
 * never pays for the AWS SDK's import.
 */
export async function createImageStore({ dataDir, store, logger }: ImageStoreFactoryOptions): Promise<ImageStore> {
  if (store.driver === 'disk') return new DiskImageStore(dataDir);
  const { bucket, ...s3 } = store.s3;
  // loadConfig refuses IMAGE_STORE=s3 without a bucket; a hand-made config may not have.
  if (bucket === undefined) throw new Error('IMAGE_S3_BUCKET is required when IMAGE_STORE=s3');
  const { S3ImageStore } = await import('./s3-image-store.js');
  return new S3ImageStore({ ...s3, bucket, logger });
}
