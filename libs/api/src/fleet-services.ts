import type {
  ApiKeyCreated,
  Assignment,
  Deployment,
  DeploymentCreate,
  DeviceReport,
  DeviceSummary,
  EnrollTokenCreated,
  ModelManifestInput,
  ModelRecord,
  Principal,
  Role,
  TelemetryEvent,
} from '@lepton/contracts';
import type { DeviceCapabilities } from './schemas';

/**
 * Fleet management, served by the server only (an edge agent has none; its procedures then answer
 * NOT_IMPLEMENTED). Every method receives the authenticated caller when it acts on the caller's own data.
 */
export interface FleetService {
  createEnrollToken(req: { ttlSeconds: number; group?: string }): Promise<EnrollTokenCreated>;
  createApiKey(req: { name: string; role: 'admin' | 'client' }): Promise<ApiKeyCreated>;
  listApiKeys(): Promise<{ id: string; name: string; role: Role; createdAt: string; revokedAt?: string }[]>;
  revokeApiKey(id: string): Promise<{ id: string; revoked: boolean }>;
  listDevices(): Promise<DeviceSummary[]>;
  publicKey(): Promise<{ keyId: string; publicKey: string }>;
  registerModel(req: { manifest: ModelManifestInput; variants: { precision: string; target: string; data: Uint8Array }[] }): Promise<{ record: ModelRecord; created: boolean }>;
  createDeployment(req: DeploymentCreate): Promise<Deployment>;
  listDeployments(): Promise<Deployment[]>;
  deploymentStatus(id: string): Promise<Deployment & { devices: { deviceId: string; state: string; message?: string; updatedAt: string }[] }>;
  /** What the calling device should run now; also records its capabilities and last-seen time. */
  sync(deviceId: string, req: { capabilities?: DeviceCapabilities }): Promise<{ assignments: Assignment[]; pollAfterMs: number }>;
  report(deviceId: string, reports: DeviceReport[]): Promise<{ accepted: number }>;
  ingestTelemetry(deviceId: string, events: TelemetryEvent[]): Promise<{ stored: number; duplicates: number }>;
}

/** How a host turns an Authorization header into a caller. */
export interface Authenticator {
  /** undefined header: no credential (role none). A credential that matches nothing throws UNAUTHORIZED. */
  authenticate(authorization: string | undefined): Promise<Principal | undefined>;
}

/** The caller, as the host authenticated it. Absent on hosts that do not authenticate (the edge agent, tests). */
export interface AuthState {
  principal: Principal | undefined;
}
