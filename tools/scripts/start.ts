/**
 * `npm start`: the main job on embedded defaults. Builds the web app when its bundle is missing or stale, then
 * starts the server (PORT, default 8080) and one local edge agent (EDGE_PORT, default 8081) that enrolls with the
 * documented development token. Ctrl-C stops both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const DEV_ENROLL_TOKEN = 'lepton-dev-enroll-token';
const env = {
  ...process.env,
  LEPTON_ENROLL_TOKEN: process.env['LEPTON_ENROLL_TOKEN'] ?? DEV_ENROLL_TOKEN,
  LEPTON_ADMIN_KEY: process.env['LEPTON_ADMIN_KEY'] ?? 'lepton-dev-admin-key', // development admin key (fleet page, lepton devices/deployments)
  PORT: process.env['PORT'] ?? '8080',
};
const serverUrl = `http://127.0.0.1:${env.PORT}`;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function webNeedsBuild(): boolean {
  const index = join(root, 'apps/web/dist/index.html');
  if (!existsSync(index)) return true;
  const inputs = Math.max(
    newestMtime(join(root, 'apps/web/src')),
    statSync(join(root, 'apps/web/index.html')).mtimeMs,
    statSync(join(root, 'apps/web/vite.config.ts')).mtimeMs,
  );
  return inputs > statSync(index).mtimeMs;
}

function run(cmd: string, args: string[], extraEnv: Record<string, string> = {}): ChildProcess {
  return spawn(cmd, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'inherit'] });
}

function waitForLine(child: ChildProcess, pattern: RegExp, label: string): Promise<string> {
  return new Promise((resolveLine, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      buffered += chunk.toString('utf8');
      const m = pattern.exec(buffered);
      if (m) resolveLine(m[0]);
    });
    child.once('exit', (code) => reject(new Error(`${label} exited with code ${code} before it was ready`)));
  });
}

async function main(): Promise<void> {
  if (webNeedsBuild()) {
    console.log('Building the web app (apps/web) ...');
    const build = spawn('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: join(root, 'apps/web'), stdio: 'inherit', env });
    const code: number = await new Promise((r) => build.once('exit', (c) => r(c ?? 1)));
    if (code !== 0) throw new Error(`web build failed with exit code ${code}`);
  }
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const c of children) c.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const server = run(process.execPath, ['--import', 'tsx', 'apps/server/src/main.ts']);
  children.push(server);
  await waitForLine(server, /Lepton server listening on \S+/, 'server');
  const agent = run(process.execPath, ['--import', 'tsx', 'apps/edge-agent/src/main.ts'], {
    LEPTON_SERVER_URL: serverUrl,
  });
  children.push(agent);
  const edgeUrl = (await waitForLine(agent, /Lepton edge agent listening on \S+/, 'edge agent')).split(' ').at(-1)!;
  console.log(`\nLepton is running: open ${serverUrl}/ in a browser.`);
  // The CLI's defaults are :8080 and :8081; name other ports through the variables it reads.
  const urls = [
    env.PORT === '8080' ? '' : `LEPTON_SERVER_URL=${serverUrl} `,
    edgeUrl === 'http://127.0.0.1:8081' ? '' : `LEPTON_EDGE_URL=${edgeUrl} `,
  ].join('');
  console.log(`Try: ${urls}npx lepton vad /usr/share/sounds/alsa/Front_Center.wav --on edge\n`);
  const exits = children.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r))));
  await Promise.race(exits);
  stop();
  // Return only once both are gone, so whoever stops `npm start` finds the ports free.
  await Promise.all(exits);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
