/** Dev helpers for tests, benchmarks and offline runs: a synthetic feed, a mock image CDN and a feed server. */
export { generateFeed, writeFeedFile, encodeItem, toByteEscapes, generateItems, DEFAULT_IMAGE_BASE_URL } from './feed-generator.js';
export type { FeedDefect, FeedOptions, FeedStream, FeedSummary, FeedItem, FeedItemOptions, GeneratedItem } from './feed-generator.js';
export { startMockCdn, imageForPath, type CdnFault, type CdnFaultRule, type MockCdn, type MockCdnOptions } from './mock-cdn.js';
export { serveFeed, startDevStack, type DevStackOptions, type FeedFault, type FeedRequest, type FeedServer, type FeedServerOptions, type FeedSource } from './dev-server.js';
export { tinyJpeg, looksLikeJpeg } from './jpeg.js';
