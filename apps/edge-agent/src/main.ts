import { isLeptonError } from '@lepton/tensor-core';
import { loadEdgeConfig } from './config';
import { startEdgeAgent } from './agent';

/**
 * `node --import tsx apps/edge-agent/src/main.ts`: the device daemon. Structured logs go to stderr (one JSON
 * object a line), the ready line to stdout; a start-up failure prints `error CODE: message` and exits 1.
 */
function log(event: string, fields: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
}

async function main(): Promise<void> {
  const config = loadEdgeConfig();
  const agent = await startEdgeAgent(config, { log });
  process.stdout.write(`Lepton edge agent listening on ${agent.url}\n`);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    log('agent.stopping', { signal });
    agent.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log('agent.close-failed', { message: String(err) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const code = isLeptonError(err) ? err.code : 'INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`error ${code}: ${message}\n`);
  process.exit(1);
});
