/**
 * The harness's FakeOpenRouter in a process of its own, for the benchmark and the soak run: in the load
 * generator's process it would compete with autocannon for one event loop and distort both the direct and the
 * gateway figures. Prints `{"baseUrl", "provisioningKey"}` once listening; exits when stdin closes or on SIGTERM.
 *
 * The fake logs every request it serves (it is a test double); FAKE_LOG_LIMIT caps that log so that a long run
 * does not grow this process without bound. Each call costs one micro-dollar (FAKE_COST_USD): the spend path is
 * exercised, and a run of a million calls stays far below a key's limit, past which the fake (as OpenRouter)
 * answers 403 and the rows would measure refusals.
 */
import { FakeOpenRouter } from '../../test/support/fake-openrouter';

async function main(): Promise<void> {
  const fake = new FakeOpenRouter({
    chatDelayMs: Number(process.env.FAKE_CHAT_DELAY_MS ?? 0),
    usage: { cost: Number(process.env.FAKE_COST_USD ?? 0.000001) },
  });
  await fake.start();
  const limit = Number(process.env.FAKE_LOG_LIMIT ?? 10_000);
  const log = fake.requests as unknown[];
  setInterval(() => {
    if (log.length > limit) log.splice(0, log.length - limit);
  }, 1000).unref();
  process.stdout.write(JSON.stringify({ baseUrl: fake.baseUrl, provisioningKey: fake.provisioningKey }) + '\n');
  // The fake's server is unreferenced; stdin keeps this process alive until the parent goes.
  const exit = () => void fake.stop().finally(() => process.exit(0));
  process.stdin.on('end', exit).resume();
  process.once('SIGTERM', exit);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
