import {
  ALIAS_COUNT, BREAST_SIZE, BREAST_TYPE, ETHNICITY, ETHNICITY_ORDER, FEMALE_FIRST, HAIR, HAIR_ORDER, LAST, MALE_FIRST,
  NON_ASCII_FIRST, NON_ASCII_LAST, misspell, mhToken, pipeJoined, slugOf, titleCase,
} from './feed-vocabulary.js';
import { createRandom, mixSeed, type Random } from './prng.js';

/** One item of the real feed, with its keys in the feed's order. */
export interface FeedItem {
  attributes: FeedAttributes;
  id: number;
  name: string;
  license: 'REGULAR' | 'PREMIUM';
  wlStatus: '1' | '0';
  aliases: string[];
  link: string;
  thumbnails: FeedThumbnail[];
}

export interface FeedAttributes {
  hairColor?: string;
  ethnicity?: string;
  tattoos: boolean;
  piercings: boolean;
  breastSize?: number;
  breastType?: string;
  gender: string;
  orientation: string;
  age?: number;
  stats: FeedStats;
}

export interface FeedStats {
  subscriptions: number;
  monthlySearches: number;
  views: number;
  videosCount: number;
  premiumVideosCount: number;
  whiteLabelVideoCount: number;
  rank: number;
  rankPremium: number;
  rankWl: number;
}

export interface FeedThumbnail {
  height: number;
  width: number;
  type: 'pc' | 'mobile' | 'tablet';
  urls: string[];
}

export interface FeedItemOptions {
  /** How many items. */
  items: number;
  /** Same seed, same feed. Default 1. */
  seed?: number;
  /** Where the thumbnails point: the mock CDN's `url`. Default {@link DEFAULT_IMAGE_BASE_URL}. */
  imageBaseUrl?: string;
  /** The first item's id; later ids grow with small gaps, as in the real feed. Default 1. */
  startId?: number;
  /**
   * Share of the items with thumbnails whose URL is not their own: half reuse one of a few
   * placeholder images, half reuse an earlier item's URL. The default 0.27 gives about 15k distinct
   * URLs for 21k items, like the real feed.
   */
  sharedUrlRatio?: number;
  /** Share of the items whose own URL serves the same bytes as an earlier item's (another path, same `thumb_<n>`). Default 0. */
  duplicateContentRatio?: number;
}

/** The mock CDN on its conventional port (`startMockCdn({ port: 8089 })`). */
export const DEFAULT_IMAGE_BASE_URL = 'http://127.0.0.1:8089/cdn';

const THUMBNAIL_RATE = 0.96;
const SPLIT_URL_RATE = 0.02;
const PLACEHOLDERS = 4;
const PIC_STRIDE = 37;
/** Which optional attributes an item lacks (males never have breast attributes either). */
const MISSING = [['none', 84.7], ['both', 9], ['age', 5], ['breast', 1.3]] as const;
const ALIAS_KIND = [['misspelt', 35], ['first', 15], ['other', 35], ['casing', 15]] as const;

interface Plan {
  idJitter: number;
  thumbnails: boolean;
  shareRoll: number;
  placeholder: number | null;
  refRoll: number;
  split: boolean;
  duplicateRoll: number;
  duplicateRef: number;
  picJitter: number;
  mh: string;
  mhSplit: string;
}

/** Per-index decisions drawn from their own stream, so any item's URL can be computed without the items before it. */
function planOf(seed: number, index: number): Plan {
  const random = createRandom(mixSeed(seed, index, 0x504c414e));
  return {
    idJitter: random.next() * 0.5,
    thumbnails: random.chance(THUMBNAIL_RATE),
    shareRoll: random.next(),
    placeholder: random.chance(0.5) ? random.int(1, PLACEHOLDERS) : null,
    refRoll: random.next(),
    split: random.chance(SPLIT_URL_RATE),
    duplicateRoll: random.next(),
    duplicateRef: random.next(),
    picJitter: random.int(0, PIC_STRIDE - 6),
    mh: mhToken(random),
    mhSplit: mhToken(random),
  };
}

/** Builds the items one by one; each depends only on (seed, index) and the options. */
export class FeedItemFactory {
  readonly seed: number;
  readonly base: string;
  readonly startId: number;
  readonly sharedUrlRatio: number;
  readonly duplicateContentRatio: number;
  private readonly maxRank: number;

  constructor(readonly options: FeedItemOptions) {
    this.seed = options.seed ?? 1;
    this.base = (options.imageBaseUrl ?? DEFAULT_IMAGE_BASE_URL).replace(/\/+$/, '');
    this.startId = options.startId ?? 1;
    this.sharedUrlRatio = options.sharedUrlRatio ?? 0.27;
    this.duplicateContentRatio = options.duplicateContentRatio ?? 0;
    this.maxRank = Math.max(1000, Math.round(options.items * 0.86));
  }

  private readonly plans = new Map<number, Plan>();

  /** The plan of an index, from a small cache: an item needs its own plan several times and a few earlier ones. */
  private plan(index: number): Plan {
    let plan = this.plans.get(index);
    if (!plan) {
      if (this.plans.size >= 256) this.plans.clear();
      plan = planOf(this.seed, index);
      this.plans.set(index, plan);
    }
    return plan;
  }

  idOf(index: number): number {
    return this.startId + Math.floor(1.5 * index + this.plan(index).idJitter);
  }

  /** The thumbnail URLs of item `index`: pc, then mobile and tablet (usually the same), or null for none. */
  urlsOf(index: number): { pc: string; other: string } | null {
    if (!this.plan(index).thumbnails) return null;
    let at = index;
    for (let step = 0; step < 32 && at >= 0; step++) {
      const plan = this.plan(at);
      if (!plan.thumbnails) {
        at -= 1;
        continue;
      }
      if (at === 0 || plan.shareRoll >= this.sharedUrlRatio) return this.ownUrls(at, plan);
      if (plan.placeholder !== null) {
        const url = `${this.base}/pics/pornstars/default/(m=lciuhScOb_c)thumb_${plan.placeholder}.jpg`;
        return { pc: url, other: url };
      }
      at = Math.floor(plan.refRoll * at);
    }
    return this.ownUrls(index, this.plan(index));
  }

  private ownUrls(index: number, plan: Plan): { pc: string; other: string } {
    const id = this.idOf(index);
    const directory = String(id).padStart(9, '0').replace(/(\d{3})(?=\d)/g, '$1/');
    let pic = 100 + id * PIC_STRIDE + plan.picJitter;
    if (index > 0 && plan.duplicateRoll < this.duplicateContentRatio) {
      const earlier = Math.floor(plan.duplicateRef * index);
      pic = 100 + this.idOf(earlier) * PIC_STRIDE + this.plan(earlier).picJitter;
    }
    const pc = `${this.base}/pics/pornstars/${directory}/(m=lciuhScOb_c)(mh=${plan.mh})thumb_${pic}.jpg`;
    if (!plan.split) return { pc, other: pc };
    const other = `${this.base}/pics/pornstars/${directory}/(m=lciuhScOb_c)(mh=${plan.mhSplit})thumb_${100 + id * PIC_STRIDE + PIC_STRIDE - 2}.jpg`;
    return { pc, other };
  }

  item(index: number): FeedItem {
    const random = createRandom(mixSeed(this.seed, index, 0x4954454d));
    const id = this.idOf(index);
    const male = random.chance(0.03);
    const lower = random.chance(0.45);
    const cased = (text: string): string => (lower ? text.toLowerCase() : titleCase(text));
    const name = cased(this.nameOf(random, male));
    const attributes = this.attributesOf(random, male);
    const urls = this.urlsOf(index);
    const thumbnails: FeedThumbnail[] = urls
      ? (['pc', 'mobile', 'tablet'] as const).map((type) => ({ height: 344, width: 234, type, urls: [type === 'pc' ? urls.pc : urls.other] }))
      : [];
    return {
      attributes,
      id,
      name,
      license: random.chance(0.03) ? 'PREMIUM' : 'REGULAR',
      wlStatus: random.chance(0.87) ? '1' : '0',
      aliases: this.aliasesOf(random, name, male, cased),
      link: `https://www.pornhub.com/pornstar/${slugOf(name) || `pornstar-${id}`}`,
      thumbnails,
    };
  }

  private nameOf(random: Random, male: boolean): string {
    const nonAscii = random.chance(0.03);
    const first = nonAscii && random.chance(0.5) ? random.pick(NON_ASCII_FIRST) : random.pick(male ? MALE_FIRST : FEMALE_FIRST);
    if (random.chance(0.05)) return first;
    const last = nonAscii && !/[^\x20-\x7e]/.test(first) ? random.pick(NON_ASCII_LAST) : random.pick(LAST);
    return `${first} ${last}`;
  }

  private attributesOf(random: Random, male: boolean): FeedAttributes {
    const hair = random.chance(0.08) ? pipeJoined(random, HAIR_ORDER, 2, 4) : random.weighted(HAIR);
    const ethnicity = random.chance(0.01) ? pipeJoined(random, ETHNICITY_ORDER, 2, 2) : random.weighted(ETHNICITY);
    const missing = random.weighted(MISSING);
    const attributes: FeedAttributes = {
      hairColor: random.chance(0.005) ? undefined : hair,
      ethnicity: random.chance(0.01) ? undefined : ethnicity,
      tattoos: random.chance(0.54),
      piercings: random.chance(0.49),
      breastSize: random.weighted(BREAST_SIZE),
      breastType: random.weighted(BREAST_TYPE),
      gender: male ? 'male' : 'female',
      orientation: male && random.chance(0.2) ? 'gay' : 'straight',
      age: Math.min(75, Math.max(18, Math.round(41 + 6 * (random.next() + random.next() + random.next() - 1.5) * 2))),
      stats: this.statsOf(random),
    };
    if (male || missing === 'both' || missing === 'breast') {
      delete attributes.breastSize;
      delete attributes.breastType;
    }
    if (missing === 'both' || missing === 'age') delete attributes.age;
    if (attributes.hairColor === undefined) delete attributes.hairColor;
    if (attributes.ethnicity === undefined) delete attributes.ethnicity;
    return attributes;
  }

  private statsOf(random: Random): FeedStats {
    const videosCount = random.chance(0.09) ? 0 : Math.min(5000, 1 + random.logNormal(30, 1.2));
    const rank = random.int(1, this.maxRank);
    return {
      subscriptions: random.logNormal(4200, 1.6),
      monthlySearches: Math.max(1, random.logNormal(2056, 1.4)) * 100,
      views: Math.max(1000, random.logNormal(440_000, 1.4)),
      videosCount,
      premiumVideosCount: Math.round(videosCount * random.next() * 0.9),
      whiteLabelVideoCount: Math.round(videosCount * (0.3 + 0.7 * random.next())),
      rank,
      rankPremium: Math.max(1, Math.round(rank * (0.95 + 0.15 * random.next()))),
      rankWl: Math.max(1, Math.round(rank * (0.9 + 0.15 * random.next()))),
    };
  }

  private aliasesOf(random: Random, name: string, male: boolean, cased: (text: string) => string): string[] {
    const count = random.weighted(ALIAS_COUNT);
    const firstName = name.split(' ')[0] ?? name;
    const aliases: string[] = [];
    for (let attempt = 0; aliases.length < count && attempt < count * 3; attempt++) {
      let alias: string;
      const kind = random.weighted(ALIAS_KIND);
      if (kind === 'misspelt') alias = misspell(random, name);
      else if (kind === 'first') alias = random.chance(0.5) ? firstName : misspell(random, firstName);
      else if (kind === 'other') alias = cased(`${random.pick(male ? MALE_FIRST : FEMALE_FIRST)} ${random.pick(LAST)}`);
      else alias = random.chance(0.5) ? name.toLowerCase() : titleCase(name.toLowerCase());
      // Repeats come only from the explicit rule below, at the excerpt's rate.
      if (!aliases.includes(alias)) aliases.push(alias);
    }
    if (aliases.length >= 2 && random.chance(0.05)) aliases.push(random.pick(aliases));
    if (aliases.length >= 1 && random.chance(0.026)) aliases.push('');
    return aliases;
  }
}

export interface GeneratedItem {
  index: number;
  item: FeedItem;
}

/** The feed's items as objects, in order (before any `mutate` hook or injected defect). */
export function* generateItems(options: FeedItemOptions): Generator<GeneratedItem> {
  const factory = new FeedItemFactory(options);
  for (let index = 0; index < options.items; index++) yield { index, item: factory.item(index) };
}
