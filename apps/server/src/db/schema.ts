/**
 * Registry tables. Types stay within what SQLite and PostgreSQL share: text, integer, bigint (sizes; pg returns
 * bigint as a string, so readers convert with Number()). Timestamps are ISO-8601 text; JSON columns are text.
 */
export interface ModelsTable {
  id: string;
  name: string;
  task: string;
  created_at: string;
}

export interface ModelVersionsTable {
  model_id: string;
  version: string;
  /** Registration order within a model: the highest is the latest version. */
  seq: number;
  manifest: string;
  created_at: string;
}

export interface ArtifactsTable {
  sha256: string;
  size: number | string;
  created_at: string;
}

export interface VariantsTable {
  model_id: string;
  version: string;
  variant_id: string;
  precision: string;
  target: string;
  sha256: string;
  size: number | string;
  opset: number | null;
  /** 0005_variant_session_options: JSON of the variant's session options, null when it has none. */
  session_options?: string | null;
}

export interface DevicesTable {
  id: string;
  name: string;
  capabilities: string;
  /** sha256 hex of the bearer credential; the credential itself is shown once and never stored. */
  credential_hash: string;
  created_at: string;
  last_seen_at: string | null;
  /** 0003_fleet */
  group_name?: string | null;
}

export interface EnrollmentTokensTable {
  /** sha256 hex of the token. */
  token_hash: string;
  /** 'one-time' (printed at start, consumed by one enrollment) or 'env' (LEPTON_ENROLL_TOKEN, reusable). */
  kind: string;
  created_at: string;
  used_at: string | null;
  device_id: string | null;
  /** 0003_fleet: ISO time after which the token enrolls nothing (null: never, the env token). */
  expires_at?: string | null;
  /** 0003_fleet: group the enrolled device joins. */
  group_name?: string | null;
}

import type { ApiKeysTable, DeploymentsTable, DeploymentDevicesTable, TelemetryTable } from './fleet-schema';
import type { VariantJobsTable } from './variant-jobs-schema';

export interface RegistryDatabase {
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  artifacts: ArtifactsTable;
  variants: VariantsTable;
  devices: DevicesTable;
  enrollment_tokens: EnrollmentTokensTable;
  api_keys: ApiKeysTable;
  deployments: DeploymentsTable;
  deployment_devices: DeploymentDevicesTable;
  telemetry: TelemetryTable;
  variant_jobs: VariantJobsTable;
}
