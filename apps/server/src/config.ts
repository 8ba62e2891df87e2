import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The server's whole configuration, parsed once from the environment (nobody else reads process.env).
 * LEPTON_ENROLL_TOKEN: a reusable enrollment token (`npm start` sets the documented development value
 * `lepton-dev-enroll-token`); without it only the one-time token printed at first start enrolls devices.
 */
export const ServerConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  LEPTON_DATA_DIR: z.string().min(1).default('./.lepton'),
  LEPTON_DATABASE_URL: z
    .string()
    .regex(/^(postgres(ql)?:\/\/|sqlite:|file:)/, 'expected postgres://..., sqlite:PATH or file:PATH')
    .optional(),
  LEPTON_ENROLL_TOKEN: z.string().min(8, 'enrollment tokens have at least 8 characters').optional(),
  LEPTON_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Built web app to serve at / (default apps/web/dist of this checkout). */
  LEPTON_WEB_DIR: z.string().min(1).optional(),
});

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  /** postgres://... for PostgreSQL; otherwise the SQLite file (default DATA_DIR/registry.sqlite). */
  databaseUrl: string | undefined;
  enrollToken: string | undefined;
  logLevel: z.infer<typeof ServerConfigSchema>['LEPTON_LOG_LEVEL'];
  webDir: string | undefined;
}

export function loadConfig(env: Record<string, string | undefined>): ServerConfig {
  // An empty variable (PORT= in a shell) means "use the default", not "0".
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ServerConfigSchema.safeParse(set);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid server configuration: ${problems}`);
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    dataDir: resolve(c.LEPTON_DATA_DIR),
    databaseUrl: c.LEPTON_DATABASE_URL,
    enrollToken: c.LEPTON_ENROLL_TOKEN,
    logLevel: c.LEPTON_LOG_LEVEL,
    webDir: c.LEPTON_WEB_DIR ? resolve(c.LEPTON_WEB_DIR) : undefined,
  };
}
