import type { Random } from './prng.js';

/**
 * Word lists and value weights for the synthetic feed, read off the real 100-item excerpt
 * (`test/fixtures/feed100.json`): weights are counts per 100 items there.
 */

export const FEMALE_FIRST = [
  'Aaliyah', 'Abbey', 'Abby', 'Abigail', 'Adriana', 'Adrianna', 'Agatha', 'Aiden', 'Aika', 'Aimee',
  'Aisha', 'Akane', 'Alana', 'Alanah', 'Alanna', 'Alaura', 'Alayah', 'Alektra', 'Alessia', 'Alexa',
  'Alexandra', 'Alexis', 'Alice', 'Alina', 'Alison', 'Allie', 'Allysin', 'Alyssa', 'Amber', 'Amy',
  'Ana', 'Anastasia', 'Angela', 'Angelina', 'Anna', 'April', 'Ariel', 'Asa', 'Ashley', 'Aubrey',
  'Audrey', 'Ava', 'Bailey', 'Bella', 'Bianca', 'Bonnie', 'Brandi', 'Bree', 'Brittany', 'Brooke',
  'Candice', 'Carmen', 'Casey', 'Cassidy', 'Chanel', 'Charlotte', 'Cherry', 'Chloe', 'Christy', 'Claire',
  'Daisy', 'Dana', 'Daphne', 'Destiny', 'Diana', 'Eva', 'Emily', 'Emma', 'Gina', 'Hanna',
  'Holly', 'Isabella', 'Ivy', 'Jade', 'Jasmine', 'Jenna', 'Jessica', 'Julia', 'Kara', 'Katie',
  'Kelly', 'Kendra', 'Kira', 'Lana', 'Layla', 'Lena', 'Lexi', 'Lily', 'Lola', 'Lucy',
  'Madison', 'Maya', 'Mia', 'Misty', 'Monica', 'Nadia', 'Naomi', 'Natalia', 'Nicole', 'Nina',
  'Olivia', 'Paige', 'Penny', 'Piper', 'Rachel', 'Riley', 'Rosa', 'Ruby', 'Sabrina', 'Sara',
  'Scarlett', 'Sienna', 'Sophia', 'Stella', 'Summer', 'Tara', 'Tiffany', 'Valentina', 'Vanessa', 'Veronica',
  'Victoria', 'Violet', 'Whitney', 'Yuki', 'Zoe', 'Adajja', 'Kiara', 'Leah', 'Megan', 'Nikki',
];

export const MALE_FIRST = [
  'Alan', 'Alec', 'Alex', 'Bruce', 'Chad', 'Charles', 'Danny', 'Derek', 'Erik', 'Evan',
  'Frank', 'James', 'Johnny', 'Keiran', 'Kyle', 'Lexington', 'Manuel', 'Mark', 'Mick', 'Nacho',
  'Owen', 'Peter', 'Ramon', 'Rocco', 'Ryan', 'Sean', 'Steve', 'Toni', 'Tommy', 'Xander',
];

export const LAST = [
  'Jolie', 'Barra', 'Brooks', 'Rode', 'Clayton', 'Lee', 'Rose', 'Jewel', 'Malkova', 'Nevaeh',
  'Sage', 'Deville', 'Faust', 'Nicole', 'Night', 'Cristine', 'Meirelles', 'Zalontai', 'Astyn', 'Layne',
  'Starr', 'Miura', 'Sweet', 'Tyler', 'San', 'Hotaru', 'Novak', 'Evans', 'Leigh', 'Rae',
  'Ackerman', 'Eden', 'Sashu', 'Knight', 'Blue', 'Roma', 'Love', 'Cat', 'Chaynes', 'Adams',
  'Banks', 'Black', 'Blake', 'Bloom', 'Brown', 'Carter', 'Cruz', 'Dalton', 'Diaz', 'Fox',
  'Grey', 'Hart', 'Hayes', 'Hill', 'Holmes', 'James', 'Jordan', 'Kane', 'Kay', 'King',
  'Lane', 'Lopez', 'Lynn', 'Marie', 'Mars', 'Monroe', 'Moon', 'Morgan', 'North', 'Paris',
  'Pearl', 'Price', 'Quinn', 'Rain', 'Reed', 'Reyes', 'Rivera', 'Rogue', 'Ross', 'Ryder',
  'Scott', 'Silver', 'Sky', 'Snow', 'Stone', 'Storm', 'Summers', 'Taylor', 'Vega', 'Vixen',
  'Wilde', 'Winters', 'Wolf', 'Wood', 'Young', 'Zane', 'Steele', 'Valentine', 'Lawrence', 'Cole',
];

/** Names outside ASCII (the real feed's `\xNN` defects come from such strings). All in the BMP. */
export const NON_ASCII_FIRST = ['Zoë', 'Chloé', 'Renée', 'Anaïs', 'Ágnes', 'Bárbara', 'Lucía', 'Žaneta', 'Łucja', 'Céline', 'Dóra', 'Noémi', 'さくら', '美咲', 'Алиса'];
export const NON_ASCII_LAST = ['Müller', 'Nikolić', 'Jiménez', 'Østergaard', 'Dvořák', 'Szabó', 'Kovács', 'Lefèvre', 'Çelik', 'Nováková', 'Ibáñez', '桜井', 'Иванова'];

export const HAIR_ORDER = ['Blonde', 'Red', 'Brunette', 'Black'] as const;
export const HAIR: readonly (readonly [string, number])[] = [['Brunette', 45], ['Blonde', 36], ['Black', 9], ['Red', 1.5], ['Auburn', 0.5]];
export const ETHNICITY_ORDER = ['White', 'Latin', 'Black', 'Asian', 'Middle Eastern', 'Indian'] as const;
export const ETHNICITY: readonly (readonly [string, number])[] = [['White', 73], ['Latin', 14], ['Black', 7], ['Asian', 4], ['Middle Eastern', 0.6], ['Indian', 0.4]];
export const BREAST_SIZE: readonly (readonly [number, number])[] = [[34, 46], [32, 16], [36, 15], [38, 4], [33, 3], [39, 2], [35, 1], [30, 0.7], [40, 0.7], [42, 0.3]];
export const BREAST_TYPE: readonly (readonly [string, number])[] = [['C', 25], ['B', 22], ['D', 20], ['A', 7], ['DD', 7], ['E', 3], ['FF', 1], ['DDD', 1], ['GG', 1], ['F', 0.6], ['G', 0.4], ['H', 0.2]];

/** Values joined with `|` in a fixed order, as the feed does ("Blonde|Red|Brunette|Black"). */
export function pipeJoined(random: Random, order: readonly string[], min: number, max: number): string {
  const count = random.int(min, Math.min(max, order.length));
  const chosen = new Set<string>();
  while (chosen.size < count) chosen.add(random.pick(order));
  return order.filter((value) => chosen.has(value)).join('|');
}

/** Alias counts per 100 items in the excerpt: many have none, a few have a dozen or more. */
export const ALIAS_COUNT: readonly (readonly [number, number])[] = [
  [0, 23], [1, 16], [2, 22], [3, 10], [4, 11], [5, 3], [6, 1], [7, 2], [8, 1], [9, 1], [10, 2], [11, 4], [12, 2], [17, 1], [22, 1],
];

const VOWELS = 'aeiouy';

/** A plausible misspelling: a vowel swapped, a letter doubled or a letter dropped. */
export function misspell(random: Random, name: string): string {
  if (name.length < 3) return `${name}${name.slice(-1)}`;
  let at = random.int(1, name.length - 2);
  if (name.charAt(at) === ' ') at -= 1;
  const char = name.charAt(at);
  switch (random.int(0, 2)) {
    case 0:
      return VOWELS.includes(char.toLowerCase()) ? name.slice(0, at) + random.pick([...VOWELS]) + name.slice(at + 1) : name.slice(0, at) + char + name.slice(at);
    case 1:
      return name.slice(0, at) + char + name.slice(at);
    default:
      return name.slice(0, at) + name.slice(at + 1);
  }
}

export function titleCase(words: string): string {
  return words.replace(/(^|\s)(\S)/g, (_match, space: string, first: string) => space + first.toUpperCase());
}

/** The slug of a name as in `https://www.pornhub.com/pornstar/aaliyah-jolie`; '' when nothing Latin is left. */
export function slugOf(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

const MH_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The 16-character `mh=` token of a thumbnail URL. */
export function mhToken(random: Random): string {
  let token = '';
  for (let i = 0; i < 16; i++) token += MH_ALPHABET.charAt(random.int(0, 63));
  return token;
}
