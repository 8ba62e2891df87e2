/** Tables added by 0003_fleet (same type rules as schema.ts: text, integer, bigint, real; JSON as text). */
export interface ApiKeysTable {
  id: string;
  name: string;
  /** 'admin' | 'client' */
  role: string;
  /** sha256 hex of the key; the key itself is shown once. */
  key_hash: string;
  /** 'created' (apiKeys.create), 'bootstrap' (printed at first start) or 'env' (LEPTON_ADMIN_KEY). */
  kind: string;
  created_at: string;
  revoked_at: string | null;
}

export interface DeploymentsTable {
  id: string;
  /** Creation order: the newest deployment that covers a device wins. */
  seq: number;
  model_id: string;
  version: string;
  /** JSON DeploymentTarget. */
  target: string;
  percent: number;
  variant_policy: string;
  max_failure_rate: number;
  error_rate_threshold: number;
  /** 'active' | 'halted' */
  status: string;
  halted_reason: string | null;
  created_at: string;
}

export interface DeploymentDevicesTable {
  deployment_id: string;
  device_id: string;
  /** DeviceInstallState */
  state: string;
  message: string | null;
  updated_at: string;
}

export interface TelemetryTable {
  device_id: string;
  event_id: string;
  at: string;
  kind: string;
  model: string | null;
  version: string | null;
  latency_ms: number | null;
  /** 1 or 0 */
  ok: number;
  answered_by: string | null;
  code: string | null;
  message: string | null;
  received_at: string;
}
