/**
 * Reads a V8 .cpuprofile (written by `node --cpu-prof`) and names where the time went: self time per function,
 * and per package (node_modules/<pkg>, node: internals, the app's own code), which is what points at a fix.
 */
import * as fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  byFunction: Array<{ name: string; ms: number; share: number }>;
  byPackage: Array<{ name: string; ms: number; share: number }>;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const selfMs = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    // Each sample's time is the delta to the next one.
    for (let i = 0; i < profile.samples.length; i++) {
      const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
      selfMs.set(profile.samples[i], (selfMs.get(profile.samples[i]) ?? 0) + dt);
    }
  } else {
    const total = (profile.endTime - profile.startTime) / 1000;
    const hits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0) || 1;
    for (const n of profile.nodes) selfMs.set(n.id, ((n.hitCount ?? 0) / hits) * total);
  }
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    if (!ms) continue;
    totalMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') {
      if (functionName === '(idle)') idleMs += ms;
    }
    const pkg = packageOf(url, functionName);
    const name = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
  }
  const busy = totalMs - idleMs || 1;
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .filter(([name]) => !name.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, share: ms / busy }));
  return { totalMs, idleMs, byFunction: rank(byFunction), byPackage: rank(byPackage) };
}

export function formatProfileSummary(file: string, summary: ProfileSummary, top = 20): string {
  const lines = [
    `CPU profile ${file}: ${(summary.totalMs / 1000).toFixed(1)} s sampled, ${((summary.totalMs - summary.idleMs) / 1000).toFixed(1)} s busy`,
    '  self time by package (share of busy time):',
    ...summary.byPackage.slice(0, 15).map((e) => `    ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name}`),
    '  hottest functions (self time):',
    ...summary.byFunction.slice(0, top).map((e) => `    ${(e.share * 100).toFixed(1).padStart(5)}%  ${e.name}`),
  ];
  return lines.join('\n');
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const dist = /\/dist\/((?:apps|libs)\/[^/]+)/.exec(url);
  if (dist) return `app: ${dist[1]}`;
  return shortUrl(url);
}

function shortUrl(url: string): string {
  return url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/dist\//, '');
}
