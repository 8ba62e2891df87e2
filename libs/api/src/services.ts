import type { AnsweredBy, InferResponse, ModelRecord, VadOptions, VadResult, Variant, VariantJob, VariantReport, WireTensor, WireFormat } from '@lepton/contracts';
import type { Tensor } from '@lepton/tensor-core';
import type { DeviceCapabilities, EnrollResponse } from './schemas';
import type { Authenticator, AuthState, FleetService } from './fleet-services';

/**
 * What the router needs from its host. The server implements these on its registry and onnxruntime-node; the
 * edge agent on its cache with fallback to the server. Errors are LeptonError (code from ERROR_CODES).
 */
export interface ModelService {
  list(): Promise<ModelRecord[]>;
  get(id: string, version?: string): Promise<ModelRecord>;
}

export interface VadDetectCall {
  model: string;
  version?: string;
  options: VadOptions;
  includeProbabilities: boolean;
}

/** Inference on decoded tensors (the KServe binary path skips the JSON wire form entirely). */
export interface TensorInferCall {
  model: string;
  version?: string;
  inputs: Record<string, Tensor>;
  /** Output names to return (default all). */
  outputs?: string[];
}

export interface TensorInferResult {
  model: string;
  version: string;
  outputs: Record<string, Tensor>;
  answeredBy: AnsweredBy;
  timings: { totalMs: number; inferenceMs: number };
}

export interface InferenceService {
  /**
   * Optional: run on tensors directly. Hosts without it still serve the KServe routes, through `infer` with
   * base64 wire tensors (one extra encode/decode).
   */
  inferTensors?(req: TensorInferCall): Promise<TensorInferResult>;
  infer(req: {
    model: string;
    version?: string;
    inputs: WireTensor[];
    outputs?: string[];
    format: WireFormat;
  }): Promise<InferResponse>;
  /** A whole WAV file already in memory (tRPC `vad.detect`, base64 decoded by the router). */
  vadDetect(req: VadDetectCall & { wav: Uint8Array }): Promise<VadResult>;
  /**
   * A WAV file as it arrives (the HTTP route streams the request body here): implementations must consume it
   * chunk by chunk so memory stays bounded whatever the file's length.
   */
  vadDetectStream(req: VadDetectCall & { audio: AsyncIterable<Uint8Array> }): Promise<VadResult>;
}

/** Device enrollment; only the server has it (an edge agent is itself a device). */
export interface DeviceService {
  /** Exchange an enrollment token for a device id and a credential (ENROLLMENT_INVALID for a bad token). */
  enroll(req: { token: string; name: string; capabilities?: DeviceCapabilities }): Promise<EnrollResponse>;
}

/** Background variant builds (server only): jobs per model version and the report of each built variant. */
export interface VariantService {
  /** Jobs of a model version (latest when omitted), oldest first; MODEL_NOT_FOUND for an unknown model. */
  jobs(model: string, version?: string): Promise<VariantJob[]>;
  /** A variant of a model version with its report (null for a variant no job built); ARTIFACT_NOT_FOUND lists the ids. */
  report(model: string, version: string | undefined, variant: string): Promise<{ model: string; version: string; variant: Variant; report: VariantReport | null; job: VariantJob | null }>;
}

export interface LeptonServices {
  /** Which platform answers when the local path does (server or edge). */
  platform: AnsweredBy;
  models: ModelService;
  inference: InferenceService;
  /** Absent on hosts that do not enroll devices: `devices.enroll` then answers NOT_IMPLEMENTED. */
  devices?: DeviceService;
  /** Fleet management (server only). */
  fleet?: FleetService;
  /** Variant builds (server only): `variants.jobs`/`variants.report` answer NOT_IMPLEMENTED without it. */
  variants?: VariantService;
  /** Present on hosts that check credentials (the server); the HTTP layer puts the caller in ctx.auth. */
  auth?: Authenticator;
}

export interface LeptonContext {
  services: LeptonServices;
  /** The authenticated caller; absent where the host does not authenticate (everything is then allowed). */
  auth?: AuthState;
}
