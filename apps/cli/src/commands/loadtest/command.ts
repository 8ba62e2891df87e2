import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { LOAD_PROTOCOLS, type LoadProtocol } from './payload';
import { runLoadTest } from './runner';
import { toCsv, toTable } from './stats';

function levels(what: string, max: number) {
  return (value: string): number[] => {
    const parts = value.split(',').map((s) => Number(s.trim()));
    if (parts.length === 0 || parts.length > 16 || parts.some((n) => !Number.isInteger(n) || n < 1 || n > max)) {
      throw new InvalidArgumentError(`expected up to 16 comma-separated ${what} in [1, ${max}], e.g. 1,8,64.`);
    }
    return parts;
  };
}

function count(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || n < 1 || n > max) throw new InvalidArgumentError(`expected one integer in [1, ${max}].`);
    return n;
  };
}

function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError('expected seconds in (0, 3600].');
  return n;
}

interface LoadtestFlags {
  url: string;
  model: string;
  protocol: LoadProtocol;
  concurrency?: number[];
  rate?: number[];
  duration: number;
  maxRequests: number;
  batch: number;
  json?: string | boolean;
  csv?: string | boolean;
}

/** A model id: not empty, no surrounding space (it goes into /v2/models/<id> as it is). */
function modelId(value: string): string {
  if (value.trim() === '' || value.trim() !== value) throw new InvalidArgumentError(`expected a model id such as silero-vad-v5; got ${JSON.stringify(value)}.`);
  return value;
}

/**
 * `lepton loadtest`: closed-loop concurrency steps (--concurrency 1,8,64) or open-loop rates (--rate R) against a
 * loopback server, over tRPC, KServe JSON or KServe binary. Prints a table; --json/--csv print (or write) the same.
 */
export function registerLoadtestCommand(program: Command, io: { out(text: string): void }): Command {
  return program
    .command('loadtest')
    .description('measure throughput and p50/p90/p95/p99 latency of a model on a local server')
    .requiredOption('--model <id>', 'model id (its inputs come from GET /v2/models/<id>)', modelId)
    .option('--url <url>', 'loopback server URL', 'http://127.0.0.1:8080')
    .addOption(new Option('--protocol <p>', 'request encoding').choices([...LOAD_PROTOCOLS]).default('kserve-binary'))
    .option('--concurrency <list>', 'closed-loop steps: requests in flight', levels('levels', 1024))
    .option('--rate <list>', 'open-loop steps: requests per second', levels('rates', 100_000))
    .option('--duration <s>', 'seconds per step', seconds, 10)
    .option('--max-requests <n>', 'cap on requests per step', count(10_000_000), 1_000_000)
    .option('--batch <n>', 'rows per request for a variable batch dim', count(4096), 1)
    .option('--json [file]', 'print JSON (or write it to file)')
    .option('--csv [file]', 'print CSV (or write it to file)')
    .action(async (flags: LoadtestFlags) => {
      if (flags.rate && flags.concurrency) throw new InvalidArgumentError('give --concurrency or --rate, not both.');
      const results = await runLoadTest({
        url: flags.url,
        model: flags.model,
        protocol: flags.protocol,
        ...(flags.rate ? { rate: flags.rate } : { concurrency: flags.concurrency ?? [1, 8, 64] }),
        durationSec: flags.duration,
        maxRequests: flags.maxRequests,
        batch: flags.batch,
      });
      const json = JSON.stringify({ url: flags.url, model: flags.model, results }, null, 2);
      const csv = toCsv(results);
      if (typeof flags.json === 'string') await writeFile(flags.json, `${json}\n`);
      if (typeof flags.csv === 'string') await writeFile(flags.csv, `${csv}\n`);
      if (flags.json === true) io.out(json);
      else if (flags.csv === true) io.out(csv);
      else io.out(toTable(results));
    });
}
