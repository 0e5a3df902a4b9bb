import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** One shard of the catalog's change counter; see CatalogVersions. */
export interface CatalogVersionsTable {
  shard: number;
  version: number;
  /** Epoch ms of the last write counted here. */
  changed_at: number;
}

export interface PornstarsTable {
  id: Generated<number>;
  /** The feed's `id`, as text (the seed's API takes it as a string). */
  external_id: string;
  name: string;
  /** `searchKey(name)`: what `q` is matched against. Written by the repositories with `name`. */
  name_search: string;
  /** The first 191 characters of `name_search`, computed by the database: what `sort=name` orders by (indexed). */
  name_sort: ColumnType<string, never, never>;
  link: string | null;
  license: string | null;
  /** 0/1 on SQLite and MySQL, boolean on PostgreSQL: read it through `toBool`. */
  wl_status: number | boolean;
  hair_color: string | null;
  ethnicity: string | null;
  has_tattoos: number | boolean | null;
  has_piercings: number | boolean | null;
  breast_size: string | null;
  breast_type: string | null;
  gender: string | null;
  orientation: string | null;
  age: number | null;
  subscriptions: number | null;
  monthly_searches: number | null;
  views: number | null;
  videos_count: number | null;
  premium_videos_count: number | null;
  white_label_video_count: number | null;
  rank: number | null;
  rank_premium: number | null;
  rank_wl: number | null;
  /** sha256 of the normalized feed item; an item with the same hash costs no write. */
  content_hash: string | null;
  /** Set when the item left the feed; hidden from listings unless asked for. */
  removed_at: number | null;
  /** Set while the feed run that inserted it has not finished: hidden from every reader, with its children. */
  pending_run_id: number | null;
  /** sha256 of the aliases and thumbnails the feed last gave (null once the API changed any): unchanged children are not synced. */
  children_hash: string | null;
  /** The sequence number (`catalog_changes.seq`) of its last change, its children and their image state included. */
  change_seq: Generated<number>;
  created_at: number;
  updated_at: number;
}

/** The catalog's change sequence; see migration 018. */
export interface CatalogChangesTable {
  id: number;
  seq: number;
  epoch: string;
  pruned_seq: number;
}

/** A pornstar deleted through the API, kept for delta sync until `CATALOG_TOMBSTONE_RETENTION_DAYS` have passed. */
export interface CatalogTombstonesTable {
  pornstar_id: number;
  external_id: string;
  removed_at: number;
  change_seq: number;
}

export type FeedRunChange = 'created' | 'updated' | 'removed';

/** One pornstar a feed run changed. */
export interface FeedRunChangesTable {
  run_id: number;
  pornstar_id: number;
  external_id: string;
  change: FeedRunChange;
  /** The content hash the run wrote (null for a removal). */
  content_hash: string | null;
}

export interface PornstarAliasesTable {
  id: Generated<number>;
  pornstar_id: number;
  alias: string;
  /** Lower-cased alias: aliases are unique per pornstar regardless of case. */
  alias_key: string;
  /** `searchKey(alias)`: what `q` is matched against. Written by the repositories with `alias`. */
  alias_search: string;
  created_at: number;
  updated_at: number;
}

/**
 * Who made a thumbnail: the feed (one per pornstar and type, kept in sync by every run) or a
 * client of the API (any number per type; the feed never touches it).
 */
export const THUMBNAIL_SOURCES = ['feed', 'api'] as const;
export type ThumbnailSource = (typeof THUMBNAIL_SOURCES)[number];

export interface PornstarThumbnailsTable {
  id: Generated<number>;
  pornstar_id: number;
  type: string;
  source: ThumbnailSource;
  /** Generated: `type` on a feed row, NULL on an api row; unique with pornstar_id (migration 007). */
  feed_type: ColumnType<string | null, never, never>;
  width: number | null;
  height: number | null;
  created_at: number;
  updated_at: number;
}

export interface PornstarThumbnailUrlsTable {
  id: Generated<number>;
  thumbnail_id: number;
  url: string;
  /** sha256 of the URL: joins `images.url_hash`. */
  url_hash: string;
  local_path: string | null;
  created_at: number;
  updated_at: number;
}

export type ImageStatus = 'pending' | 'cached' | 'failed';

export interface ImagesTable {
  id: Generated<number>;
  url: string;
  url_hash: string;
  status: ImageStatus;
  /** sha256 of the bytes: the file is DATA_DIR/images/ab/cd/<sha256>.<ext>. */
  sha256: string | null;
  ext: string | null;
  content_type: string | null;
  bytes: number | null;
  attempts: Generated<number>;
  last_error: string | null;
  fetched_at: number | null;
  /** NULL while a change of its state has not been stamped onto its pornstars' `change_seq`. */
  state_seq: Generated<number | null>;
  created_at: number;
  updated_at: number;
}

export type FeedRunStatus = 'running' | 'succeeded' | 'failed' | 'not_modified' | 'unchanged';

export interface FeedRunsTable {
  id: Generated<number>;
  status: FeedRunStatus;
  trigger: 'cli' | 'schedule' | 'startup' | 'api';
  source: string;
  http_status: number | null;
  bytes: number | null;
  etag: string | null;
  last_modified: string | null;
  generation_date: string | null;
  body_sha256: string | null;
  items_seen: Generated<number>;
  created_count: Generated<number>;
  updated_count: Generated<number>;
  unchanged_count: Generated<number>;
  removed_count: Generated<number>;
  invalid_count: Generated<number>;
  repaired_count: Generated<number>;
  images_enqueued: Generated<number>;
  /** The envelope's `itemsCount`, when it declares one. */
  items_declared: number | null;
  /** What the run noticed without failing, e.g. an `itemsCount` that disagrees with the items seen. */
  warning: string | null;
  /** JSON array of the first invalid items: `{line, id, errors}`. */
  invalid_samples: string | null;
  error: string | null;
  started_at: number;
  finished_at: number | null;
  /** The catalog change sequence number of the run's commit, when it changed the catalog. */
  change_seq: Generated<number | null>;
}

export type PornstarRow = Selectable<PornstarsTable>;
export type NewPornstarRow = Insertable<PornstarsTable>;
export type PornstarUpdate = Updateable<PornstarsTable>;
export type AliasRow = Selectable<PornstarAliasesTable>;
export type ThumbnailRow = Selectable<PornstarThumbnailsTable>;
export type ThumbnailUrlRow = Selectable<PornstarThumbnailUrlsTable>;
export type ImageRow = Selectable<ImagesTable>;
export type FeedRunRow = Selectable<FeedRunsTable>;

export interface CatalogTables {
  pornstars: PornstarsTable;
  catalog_versions: CatalogVersionsTable;
  catalog_changes: CatalogChangesTable;
  catalog_tombstones: CatalogTombstonesTable;
  feed_run_changes: FeedRunChangesTable;
  pornstar_aliases: PornstarAliasesTable;
  pornstar_thumbnails: PornstarThumbnailsTable;
  pornstar_thumbnail_urls: PornstarThumbnailUrlsTable;
  images: ImagesTable;
  feed_runs: FeedRunsTable;
}
