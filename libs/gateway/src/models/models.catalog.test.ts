import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenRouterClient, OpenRouterError } from '#libs/openrouter';
import { AppError } from '#libs/common';
import { ModelsCatalog } from './models.catalog';

function fakeClient(answers: (() => Promise<unknown>)[]) {
  let calls = 0;
  const client = { listModels: () => answers[Math.min(calls++, answers.length - 1)]() } as unknown as OpenRouterClient;
  return { client, calls: () => calls };
}

describe('ModelsCatalog', () => {
  it('fetches once for concurrent callers and serves the cache while fresh', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { client, calls } = fakeClient([async () => (await gate, { data: [{ id: 'a' }] })]);
    const catalog = new ModelsCatalog(client);
    const t0 = Date.now();
    const all = Promise.all([catalog.json(t0), catalog.json(t0), catalog.json(t0)]);
    release();
    assert.deepEqual(await all, Array(3).fill('{"data":[{"id":"a"}]}'));
    assert.equal(await catalog.json(t0 + 60_000), '{"data":[{"id":"a"}]}');
    assert.equal(calls(), 1);
  });

  it('refreshes when stale, serves the stale list while OpenRouter fails, then gives up', async () => {
    const { client, calls } = fakeClient([
      async () => ({ data: [{ id: 'old' }] }),
      async () => {
        throw new OpenRouterError('openrouter_unavailable', 'down');
      },
    ]);
    const catalog = new ModelsCatalog(client);
    const t0 = Date.now();
    await catalog.json(t0);
    assert.equal(await catalog.json(t0 + 6 * 60_000), '{"data":[{"id":"old"}]}');
    assert.equal(calls(), 2);
    await assert.rejects(
      catalog.json(t0 + 2 * 3_600_000),
      (err: unknown) => err instanceof AppError && err.status === 502,
    );
  });
});
