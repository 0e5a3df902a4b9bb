import sharp, { type Metadata, type SharpOptions } from 'sharp';

// Each image is read once into a variant or a check: libvips' operation cache would only hold
// memory (50 MB by default) for inputs that never come back.
sharp.cache(false);

/** IMAGE_MAX_PIXELS and IMAGE_MAX_FRAMES. */
export interface ImageLimits {
  /** Width × height of one frame. */
  maxPixels: number;
  maxFrames: number;
}

/** What an image's header declares. */
export interface ImageHeader {
  format: string;
  width: number;
  height: number;
  frames: number;
}

/**
 * An image intake will not decode: its header declares too many pixels or frames (an image bomb),
 * or cannot be read, or its pixel data turned out unreadable. A property of the bytes: asking again
 * gets the same answer.
 */
export class ImageRefusedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImageRefusedError';
  }
}

/** The formats the store holds (see sniffImageType), as sharp names them. */
const STORED_FORMATS = new Set(['jpeg', 'png', 'gif', 'webp']);

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Reads the header only (dimensions and frame count, no pixel data) and refuses an image bomb
 * before anything decodes it: a frame over `maxPixels`, more frames than `maxFrames`, a header
 * that cannot be read, or a format the store does not hold. A 74-byte PNG may declare
 * 50,000 × 50,000 pixels (7.5 GB decoded); this answers in milliseconds in constant memory.
 */
export async function checkImageHeader(input: string | Buffer, limits: ImageLimits): Promise<ImageHeader> {
  let metadata: Metadata;
  try {
    // No pixel limit on the header read itself, so that the refusal can say what was declared.
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageRefusedError(`not an image: its header cannot be read (${messageOf(error)})`, { cause: error });
  }
  const { format, width, pages } = metadata;
  const height = metadata.pageHeight ?? metadata.height;
  if (!STORED_FORMATS.has(format)) throw new ImageRefusedError(`not an image: it reads as ${format}, not JPEG, PNG, GIF or WebP`);
  if (!(width > 0 && height > 0)) throw new ImageRefusedError('not an image: its header declares no size');
  if (width * height > limits.maxPixels) {
    throw new ImageRefusedError(`image is ${width} × ${height} pixels, over the ${limits.maxPixels}-pixel limit`);
  }
  const frames = pages ?? 1;
  if (frames > limits.maxFrames) throw new ImageRefusedError(`image has ${frames} frames, over the ${limits.maxFrames}-frame limit`);
  return { format, width, height, frames };
}

/**
 * How a checked image is decoded: sharp's own pixel limit as a second guard, the first frame only,
 * turned upright by its EXIF orientation. Pixel data with errors (a truncated file included) is
 * refused; mere decoder warnings are not.
 */
export function decodeOptions(limits: ImageLimits): SharpOptions {
  return { limitInputPixels: limits.maxPixels, pages: 1, autoOrient: true, failOn: 'error' };
}
