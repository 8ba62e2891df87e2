import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LeptonError } from '@lepton/tensor-core';

export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

interface LockFile {
  pid: number;
  token: string;
  startedAt: string;
  /** The holder's command line, to tell a live holder from a process that reused its pid after a crash. */
  cmd: string;
}

/** Locks this process holds (a second agent in the same process must be refused too). */
const held = new Set<string>();

/**
 * Claim EDGE_DATA_DIR for one agent. Two agents on one folder share the identity, write the same `.partial`
 * download and the same outbox segments (a download spliced from two transfers is refused as tampered, and each
 * agent deletes segments the other is still appending to): the second one is refused with VALIDATION_FAILED
 * naming the holder. A lock left by an agent that died (kill -9, power loss) is taken over, and that is logged.
 */
export async function lockDataDir(dir: string, log: (event: string, fields: Record<string, unknown>) => void): Promise<DataDirLock> {
  await mkdir(dir, { recursive: true });
  const path = join(resolve(dir), 'agent.lock');
  const mine: LockFile = { pid: process.pid, token: randomBytes(8).toString('hex'), startedAt: new Date().toISOString(), cmd: commandLine(process.pid) };
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(JSON.stringify(mine));
        await fh.sync();
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const other = await readLock(path);
    if (other && (held.has(path) || (other.pid !== process.pid && alive(other)))) {
      throw new LeptonError(
        'VALIDATION_FAILED',
        `EDGE_DATA_DIR ${dir} is in use by another edge agent (pid ${other.pid}, since ${other.startedAt}); two agents on one folder would download into the same files and deliver each other's telemetry: give each agent its own EDGE_DATA_DIR`,
        { dir, pid: other.pid },
      );
    }
    if (attempt > 0) throw new LeptonError('INTERNAL', `cannot take the lock ${path}: another process keeps replacing it`);
    // The holder is gone (or the file is unreadable): take the folder over.
    log('data-dir.stale-lock', { path, pid: other?.pid ?? null, startedAt: other?.startedAt ?? null });
    await rm(path, { force: true });
  }
  held.add(path);
  return {
    path,
    async release() {
      held.delete(path);
      // Only our own lock: never remove one that a later agent took over.
      if ((await readLock(path))?.token === mine.token) await rm(path, { force: true });
    },
  };
}

async function readLock(path: string): Promise<LockFile | undefined> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Partial<LockFile>;
    return typeof v.pid === 'number' && typeof v.token === 'string' ? { pid: v.pid, token: v.token, startedAt: String(v.startedAt), cmd: String(v.cmd ?? '') } : undefined;
  } catch {
    return undefined;
  }
}

function alive(l: LockFile): boolean {
  try {
    process.kill(l.pid, 0);
  } catch (err) {
    // EPERM: it exists, under another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A pid reused by an unrelated process since the holder died: not a holder. Without /proc, trust the pid.
  const now = commandLine(l.pid);
  return now === '' || l.cmd === '' || now === l.cmd;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}
