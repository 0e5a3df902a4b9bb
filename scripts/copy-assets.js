// tsc compiles only TypeScript: the dashboard's page, scripts and styles are copied beside the compiled server.
import fs from 'node:fs';

const from = 'src/admin/dashboard/public';
const to = 'dist/src/admin/dashboard/public';
fs.rmSync(to, { recursive: true, force: true });
fs.cpSync(from, to, { recursive: true });

// The mark of a finished build, read by scripts/build-if-stale.js.
fs.writeFileSync('dist/.build-stamp', `${new Date().toISOString()}\n`);
