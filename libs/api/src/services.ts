import type { AnsweredBy, InferResponse, ModelRecord, VadOptions, VadResult, WireTensor, WireFormat } from '@lepton/contracts';

/**
 * What the router needs from its host. The server implements these on its registry and onnxruntime-node; the
 * edge agent on its cache with fallback to the server. Errors are LeptonError (code from ERROR_CODES).
 */
export interface ModelService {
  list(): Promise<ModelRecord[]>;
  get(id: string, version?: string): Promise<ModelRecord>;
}

export interface InferenceService {
  infer(req: {
    model: string;
    version?: string;
    inputs: WireTensor[];
    outputs?: string[];
    format: WireFormat;
  }): Promise<InferResponse>;
  vadDetect(req: {
    model: string;
    wav: Uint8Array;
    options: VadOptions;
    includeProbabilities: boolean;
  }): Promise<VadResult>;
}

export interface LeptonServices {
  /** Which platform answers when the local path does (server or edge). */
  platform: AnsweredBy;
  models: ModelService;
  inference: InferenceService;
}

export interface LeptonContext {
  services: LeptonServices;
}
