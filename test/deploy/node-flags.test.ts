import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { INTAKE_NODE_FLAGS } from '../../bench/support/settings.js';
import { ROOT } from '../support/processes.js';

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

describe('the V8 flags intake runs with', () => {
  it('are the same for npm start, the image and the benchmarks', () => {
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start;
    expect(start).toBe(`node ${INTAKE_NODE_FLAGS.join(' ')} dist/src/main.js`);
    const cmd = /^CMD (\[.*\])$/m.exec(read('deploy/Dockerfile'))?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', ...INTAKE_NODE_FLAGS, 'dist/src/main.js']);
  });

  it('are flags this Node accepts', () => {
    for (const flag of INTAKE_NODE_FLAGS) expect(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0]!), flag).toBe(true);
  });
});
