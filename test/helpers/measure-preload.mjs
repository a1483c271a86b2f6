// Loaded with --import into a child process: at exit it writes what the process cost (CPU time
// and peak resident memory) to the file named by MESHDRILL_MEASURE, for a test to assert on.
import { writeFileSync } from 'node:fs';

const file = process.env.MESHDRILL_MEASURE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssMb: usage.maxRSS / 1024 }));
  });
}
