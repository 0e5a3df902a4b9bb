import type { Priority } from '../platform/queue/queue.js';

export const PRIORITY_NAMES = ['low', 'normal', 'high', 'critical', 'max'] as const;
export type PriorityName = (typeof PRIORITY_NAMES)[number];

const LEVELS: Record<PriorityName, Priority> = { low: 1, normal: 2, high: 3, critical: 4, max: 5 };

/** low=1 … max=5; absent means normal. */
export function priorityLevel(name: PriorityName | undefined): Priority {
  return name === undefined ? LEVELS.normal : LEVELS[name];
}

export function priorityName(level: number): PriorityName {
  return PRIORITY_NAMES[level - 1] ?? 'normal';
}
