// snappyjs ships no types: the two functions the snappy tests and bench compare against.
declare module 'snappyjs' {
  export function compress(input: Uint8Array): Uint8Array;
  export function uncompress(input: Uint8Array): Uint8Array;
  const SnappyJS: { compress: typeof compress; uncompress: typeof uncompress };
  export default SnappyJS;
}
