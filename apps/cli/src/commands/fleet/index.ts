import { Command, InvalidArgumentError, Option } from 'commander';
import { PrecisionSchema, type DeploymentCreate } from '@lepton/contracts';
import { call, fleetClient, type FleetFlags } from './client';
import { deploymentStatus, deploymentsTable, devicesTable } from './format';

export interface FleetIo {
  out(text: string): void;
}

export { devicesTable, deploymentsTable, deploymentStatus, age, table } from './format';

const url = (value: string): string => {
  if (!/^https?:\/\/[^/]/.test(value)) throw new InvalidArgumentError('expected an http:// or https:// URL.');
  return value.replace(/\/+$/, '');
};

function server(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'server base URL', url, 'http://127.0.0.1:8080')
    .addOption(new Option('--key <key>', 'admin API key').env('LEPTON_API_KEY'))
    .option('--json', 'print JSON');
}

function rate(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name}: expected a number in [0, 1].`);
    return n;
  };
}

function int(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in [${min}, ${max}].`);
    return n;
  };
}

type Flags = FleetFlags & { json?: boolean };

/**
 * `lepton devices token create|list` and `lepton deployments create|list|status`: the fleet, from the
 * command line, with an admin key (--key or LEPTON_API_KEY).
 */
export function registerFleetCommands(program: Command, io: FleetIo): void {
  const devices = program.command('devices').description('enrolled devices and enrollment tokens');
  const token = devices.command('token').description('one-time enrollment tokens');
  server(token.command('create').description('create a one-time enrollment token (expires)'))
    .option('--ttl <seconds>', 'seconds until it expires', int(1, 30 * 24 * 3600), 24 * 3600)
    .option('--group <name>', 'group the device joins')
    .action(async (flags: Flags & { ttl: number; group?: string }) => {
      const t = await call(flags, () => fleetClient(flags).devices.createToken.mutate({ ttlSeconds: flags.ttl, ...(flags.group !== undefined ? { group: flags.group } : {}) }));
      io.out(flags.json ? JSON.stringify(t, null, 2) : `${t.token}\n(one-time; expires ${t.expiresAt}${t.group ? `; group ${t.group}` : ''})`);
    });
  server(devices.command('list').description('devices with versions, health, latency and last seen')).action(async (flags: Flags) => {
    const list = await call(flags, () => fleetClient(flags).devices.list.query());
    io.out(flags.json ? JSON.stringify(list, null, 2) : devicesTable(list));
  });

  const deployments = program.command('deployments').description('roll model versions out to devices');
  server(deployments.command('create').description('deploy a model version to devices (staged by percentage)'))
    .argument('<model>', 'model id')
    .argument('<version>', 'model version')
    .option('--all', 'every device')
    .option('--group <name>', 'devices of this group')
    .option('--device <id...>', 'these devices')
    .option('--percent <n>', 'share of the targeted devices', int(1, 100), 100)
    .option('--variant <policy>', `auto (per device capabilities) or a precision: ${PrecisionSchema.options.join(', ')}`, 'auto')
    .option('--max-failure-rate <r>', 'halt the rollout above this share of failed devices', rate('--max-failure-rate'), 0.2)
    .option('--error-rate <r>', 'a device rolls back above this local error rate', rate('--error-rate'), 0.5)
    .action(async (model: string, version: string, flags: Flags & { all?: boolean; group?: string; device?: string[]; percent: number; variant: string; maxFailureRate: number; errorRate: number }) => {
      const chosen = [flags.all, flags.group, flags.device].filter((x) => x !== undefined).length;
      if (chosen !== 1) throw new InvalidArgumentError('choose exactly one target: --all, --group <name> or --device <id...>');
      const target: DeploymentCreate['target'] = flags.all ? { all: true } : flags.group !== undefined ? { group: flags.group } : { deviceIds: flags.device! };
      const d = await call(flags, () =>
        fleetClient(flags).deployments.create.mutate({
          model,
          version,
          target,
          percent: flags.percent,
          variantPolicy: flags.variant as DeploymentCreate['variantPolicy'],
          maxFailureRate: flags.maxFailureRate,
          errorRateThreshold: flags.errorRate,
        }),
      );
      io.out(flags.json ? JSON.stringify(d, null, 2) : `created ${d.id}: ${d.model}@${d.version} (${d.percent}%)`);
    });
  server(deployments.command('list').description('deployments, newest first')).action(async (flags: Flags) => {
    const list = await call(flags, () => fleetClient(flags).deployments.list.query());
    io.out(flags.json ? JSON.stringify(list, null, 2) : deploymentsTable(list));
  });
  server(deployments.command('status').description('one deployment with each device').argument('<id>', 'deployment id')).action(async (id: string, flags: Flags) => {
    const d = await call(flags, () => fleetClient(flags).deployments.status.query({ id }));
    io.out(flags.json ? JSON.stringify(d, null, 2) : deploymentStatus(d));
  });

  // Nested commands report usage errors through main's handler too.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of [...all(devices), ...all(deployments)]) c.exitOverride();
}
