export interface ImageType {
  ext: ImageExt;
  contentType: string;
}

export const IMAGE_TYPES = {
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
} as const;
export type ImageExt = keyof typeof IMAGE_TYPES;

/** Enough leading bytes to tell every supported format apart. */
export const SNIFF_BYTES = 12;

/** The format the leading bytes prove, or undefined when they are not a supported image. */
export function sniffImageType(head: Uint8Array): ImageType | undefined {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  const ext: ImageExt | undefined = starts(0xff, 0xd8, 0xff)
    ? 'jpg'
    : starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)
      ? 'png'
      : starts(0x47, 0x49, 0x46, 0x38)
        ? 'gif'
        : starts(0x52, 0x49, 0x46, 0x46) && head.length >= 12 && Buffer.from(head.subarray(8, 12)).toString('latin1') === 'WEBP'
          ? 'webp'
          : undefined;
  return ext && { ext, contentType: IMAGE_TYPES[ext] };
}

/** `<64 hex>.<ext>`: the only file names the store holds and serves. */
export const IMAGE_FILE_NAME = /^([0-9a-f]{64})\.(jpg|png|gif|webp)$/;

export function parseImageFileName(name: string): { sha256: string; ext: ImageExt } | undefined {
  const match = IMAGE_FILE_NAME.exec(name);
  return match ? { sha256: match[1]!, ext: match[2] as ImageExt } : undefined;
}

/** An original's key in the image store (its path inside DATA_DIR/images on disk): `ab/cd/<sha256>.<ext>`. */
export function imageRelativePath(sha256: string, ext: string): string {
  return `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}.${ext}`;
}

/**
 * A resized copy's key in the image store: `variants/ab/cd/<sha256>.<ext>-w<width>.<format>`.
 * Named by its source's content and its recipe, so that it too never changes once written.
 */
export function variantRelativePath(sha256: string, ext: string, width: number, format: string): string {
  return `variants/${imageRelativePath(sha256, ext)}-w${width}.${format}`;
}

/**
 * The store could not write: a full disk (ENOSPC), a read-only or missing mount, a path component
 * that is a file. Such a fault may pass (space freed, mount repaired), so downloads retry it.
 */
export class ImageStoreError extends Error {
  constructor(error: unknown) {
    super(`image store not writable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    this.name = 'ImageStoreError';
  }
}
