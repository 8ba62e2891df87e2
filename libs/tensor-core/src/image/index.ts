// Image input: interleaved 8-bit pixels to normalised float tensors.
export * from './image-to-tensor';
