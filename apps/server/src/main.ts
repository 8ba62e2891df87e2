import { loadConfig } from './config';
import { startServer } from './server';

/**
 * `node --import tsx apps/server/src/main.ts`: configuration from the environment, then exactly one line
 * `Lepton server listening on http://HOST:PORT` on stdout (scripts and tests wait for it). SIGTERM/SIGINT close
 * the server (in-flight requests finish) and exit.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const server = await startServer(config);
  if (server.enrollmentToken !== undefined) {
    console.log(`Enrollment token: ${server.enrollmentToken} (one-time; shown only now)`);
  }
  if (server.adminKey !== undefined) {
    console.log(`Admin API key: ${server.adminKey} (created at first start; shown only now)`);
  }
  console.log(`Lepton server listening on ${server.url}`);
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`Lepton server failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
