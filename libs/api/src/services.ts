import type { AnsweredBy, InferResponse, ModelRecord, VadOptions, VadResult, WireTensor, WireFormat } from '@lepton/contracts';
import type { DeviceCapabilities, EnrollResponse } from './schemas';

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

export interface InferenceService {
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

export interface LeptonServices {
  /** Which platform answers when the local path does (server or edge). */
  platform: AnsweredBy;
  models: ModelService;
  inference: InferenceService;
  /** Absent on hosts that do not enroll devices: `devices.enroll` then answers NOT_IMPLEMENTED. */
  devices?: DeviceService;
}

export interface LeptonContext {
  services: LeptonServices;
}
