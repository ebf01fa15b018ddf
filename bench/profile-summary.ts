/** `node dist/bench/profile-summary.js <file.cpuprofile> [top]`: where a CPU profile's time went. */
import { formatProfileSummary, summarizeProfile } from './support/profile';

const [file, top] = process.argv.slice(2);
if (!file) {
  console.error('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]');
  process.exit(2);
}
console.log(formatProfileSummary(file, summarizeProfile(file, Number(top ?? 30)), Number(top ?? 30)));
