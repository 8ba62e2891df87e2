// Audio: WAV parsing, PCM decoding, down-mixing, resampling and framing. Every stage is streaming and
// chunking-invariant: feeding the same bytes in any split gives bit-identical output, so a server that streams
// a one-hour upload and a browser that holds the whole file compute the same samples.
export * from './wav';
export * from './resample';
export * from './framer';
