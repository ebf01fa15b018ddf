/**
 * JobLease around a mocked lease table (Nest testing module, no database): a lease is taken only when the table
 * grants it; each acquisition carries its own token, and extending or releasing names that token, so that a holder
 * can never extend or free a lease someone else took after it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Test } from '@nestjs/testing';
import { JobLease } from './job-lease';
import { JobLeaseRepository } from './job-lease.repository';

async function build(grant: boolean) {
  const calls: string[] = [];
  const repository = {
    ensure: async (name: string) => void calls.push(`ensure ${name}`),
    take: async (name: string, owner: string, ttlMs: number) => {
      calls.push(`take ${name} ${owner} ${ttlMs}`);
      return grant;
    },
    extend: async (name: string, owner: string, ttlMs: number) => {
      calls.push(`extend ${name} ${owner} ${ttlMs}`);
      return true;
    },
    release: async (name: string, owner: string) => void calls.push(`release ${name} ${owner}`),
    holder: async () => ({ owner: 'host:1:abcd', until: new Date(0) }),
  };
  const moduleRef = await Test.createTestingModule({
    providers: [JobLease, { provide: JobLeaseRepository, useValue: repository }],
  }).compile();
  return { lease: moduleRef.get(JobLease), calls };
}

describe('JobLease', () => {
  it('makes sure the row exists, then takes the lease for a token of this process', async () => {
    const { lease, calls } = await build(true);
    const held = await lease.tryAcquire('nightly', 60_000);
    assert.ok(held);
    assert.equal(held.name, 'nightly');
    assert.match(held.token, new RegExp(`:${process.pid}:[0-9a-f]{8}$`));
    assert.deepEqual(calls, ['ensure nightly', `take nightly ${held.token} 60000`]);
  });

  it('extends and releases with the token it took the lease with', async () => {
    const { lease, calls } = await build(true);
    const held = (await lease.tryAcquire('nightly', 60_000))!;
    assert.equal(await held.extend(), true);
    await held.release();
    assert.deepEqual(calls.slice(2), [`extend nightly ${held.token} 60000`, `release nightly ${held.token}`]);
  });

  it('gives each acquisition its own token', async () => {
    const { lease } = await build(true);
    const a = (await lease.tryAcquire('nightly', 1000))!;
    const b = (await lease.tryAcquire('nightly', 1000))!;
    assert.notEqual(a.token, b.token);
  });

  it('answers null while someone else holds it, and names the holder', async () => {
    const { lease } = await build(false);
    assert.equal(await lease.tryAcquire('nightly', 60_000), null);
    assert.equal((await lease.holder('nightly'))?.owner, 'host:1:abcd');
  });
});
