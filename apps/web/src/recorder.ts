/**
 * Microphone capture to mono float32 PCM at the AudioContext's rate. The worklet only copies channel 0 of each
 * render quantum to the main thread; resampling to the model's rate happens in the shared pipeline, exactly as
 * for an uploaded file.
 */
const WORKLET_SOURCE = `
class LeptonCapture extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.port.postMessage(channel.slice(0));
    return true;
  }
}
registerProcessor('lepton-capture', LeptonCapture);
`;

export interface Recording {
  samples: Float32Array;
  sampleRate: number;
}

export interface ActiveRecording {
  stop(): Promise<Recording>;
}

export async function startRecording(): Promise<ActiveRecording> {
  // Echo cancellation and noise suppression would change the audio the model sees; keep the raw signal.
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  const context = new AudioContext();
  const moduleUrl = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: 'text/javascript' }));
  try {
    await context.audioWorklet.addModule(moduleUrl);
  } finally {
    URL.revokeObjectURL(moduleUrl);
  }
  const source = context.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(context, 'lepton-capture', { numberOfInputs: 1, numberOfOutputs: 0 });
  const parts: Float32Array[] = [];
  node.port.onmessage = (event: MessageEvent<Float32Array>) => parts.push(event.data);
  source.connect(node);

  return {
    async stop(): Promise<Recording> {
      source.disconnect();
      node.port.onmessage = null;
      for (const track of stream.getTracks()) track.stop();
      const sampleRate = context.sampleRate;
      await context.close();
      const total = parts.reduce((n, p) => n + p.length, 0);
      const samples = new Float32Array(total);
      let offset = 0;
      for (const p of parts) {
        samples.set(p, offset);
        offset += p.length;
      }
      return { samples, sampleRate };
    },
  };
}
