import type { Static } from 'typebox';
import type { AliasRow, PornstarRow, ThumbnailRow } from '../catalog.tables.js';
import { imageView, variantLinks } from '../images/images.service.js';
import type { AliasView, ThumbnailUrlView, ThumbnailView } from './catalog.schemas.js';
import type { PornstarViewData } from './pornstars.schemas.js';
import type { ThumbnailUrlWithImage } from './thumbnail-urls.repository.js';

export type AliasViewData = Static<typeof AliasView>;
export type ThumbnailViewData = Static<typeof ThumbnailView>;
export type ThumbnailUrlViewData = Static<typeof ThumbnailUrlView>;

/** A thumbnail with its URLs, as the services load it. */
export interface ThumbnailWithUrls {
  thumbnail: ThumbnailRow;
  urls: ThumbnailUrlWithImage[];
}

/** A pornstar with everything its resource shows. */
export interface PornstarGraph {
  pornstar: PornstarRow;
  aliases: AliasRow[];
  thumbnails: ThumbnailWithUrls[];
}

/** 0/1 on SQLite and MySQL, a boolean on PostgreSQL. */
export function toBool(value: number | boolean | null): boolean | null {
  return value === null ? null : Boolean(value);
}

const iso = (ms: number) => new Date(Number(ms)).toISOString();
const int = (value: number | null) => (value === null ? null : Number(value));

export function presentAlias(alias: AliasRow): AliasViewData {
  return { id: alias.id, pornstar_id: alias.pornstar_id, alias: alias.alias };
}

/** What the image links of a resource need: the request's `protocol://host` and IMAGE_VARIANT_WIDTHS. */
export interface ImageLinks {
  baseUrl: string;
  imageVariantWidths: readonly number[];
}

/**
 * `cached_url` is absolute (`<base>/images/<sha256>.<ext>`) once the image is cached, and
 * `variants` lists its resized copies; `local_path` is the stored one, or the cache's relative
 * path once cached.
 */
export function presentThumbnailUrl(url: ThumbnailUrlWithImage, links: ImageLinks): ThumbnailUrlViewData {
  const image = imageView(url.image_status === null ? undefined : { status: url.image_status, sha256: url.image_sha256, ext: url.image_ext }, links.baseUrl);
  return {
    id: url.id,
    thumbnail_id: url.thumbnail_id,
    url: url.url,
    local_path: url.local_path ?? image.local_path,
    cached_url: image.cached_url,
    image_status: image.image_status,
    variants: image.cached_url === null ? null : variantLinks(image.cached_url, links.imageVariantWidths),
  };
}

export function presentThumbnail({ thumbnail, urls }: ThumbnailWithUrls, links: ImageLinks): ThumbnailViewData {
  return {
    id: thumbnail.id,
    pornstar_id: thumbnail.pornstar_id,
    type: thumbnail.type,
    source: thumbnail.source,
    width: int(thumbnail.width),
    height: int(thumbnail.height),
    urls: urls.map((url) => presentThumbnailUrl(url, links)),
  };
}

export function presentPornstar({ pornstar: p, aliases, thumbnails }: PornstarGraph, links: ImageLinks): PornstarViewData {
  return {
    id: p.id,
    external_id: p.external_id,
    name: p.name,
    link: p.link,
    license: p.license,
    wl_status: toBool(p.wl_status) ?? false,
    attributes: {
      hair_color: p.hair_color,
      ethnicity: p.ethnicity,
      has_tattoos: toBool(p.has_tattoos),
      has_piercings: toBool(p.has_piercings),
      breast_size: p.breast_size,
      breast_type: p.breast_type,
      gender: p.gender,
      orientation: p.orientation,
      age: int(p.age),
    },
    stats: {
      subscriptions: int(p.subscriptions),
      monthly_searches: int(p.monthly_searches),
      views: int(p.views),
      videos_count: int(p.videos_count),
      premium_videos_count: int(p.premium_videos_count),
      white_label_video_count: int(p.white_label_video_count),
      rank: int(p.rank),
      rank_premium: int(p.rank_premium),
      rank_wl: int(p.rank_wl),
    },
    aliases: aliases.map(presentAlias),
    thumbnails: thumbnails.map((t) => presentThumbnail(t, links)),
    created_at: iso(p.created_at),
    updated_at: iso(p.updated_at),
  };
}

/** Groups child rows under their parents' ids, keeping the rows' order. */
export function groupBy<T, K>(rows: T[], key: (row: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}
