/**
 * Preloaded into a benchmarked child (`node --import <this file> …`): on exit, writes the process's
 * peak resident set size in bytes (getrusage ru_maxrss) to $BENCH_MAX_RSS_FILE.
 */
import fs from 'node:fs';

const file = process.env.BENCH_MAX_RSS_FILE;
if (file) {
  process.once('exit', () => {
    try {
      fs.writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
    } catch {
      // the bench falls back to the VmHWM it polled
    }
  });
}
