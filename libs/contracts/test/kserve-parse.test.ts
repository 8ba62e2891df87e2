import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KserveInferRequestSchema, parseKserveInferRequest } from '../src';

// Mostly well-formed headers with a fault now and then: names of 0/1/256/257 characters, shapes of 8/9 dims,
// parameters that are objects, arrays or null, odd prototypes, and missing or extra fields.
const often = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) => fc.oneof({ arbitrary: good, weight: 12 }, { arbitrary: bad, weight: 1 });
const name = often(fc.oneof(fc.string({ minLength: 1, maxLength: 4 }), fc.constant('x'.repeat(256))), fc.oneof(fc.constant(''), fc.constant('x'.repeat(257)), fc.integer()));
const params = often(
  fc.oneof(fc.constant(undefined), fc.dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })),
  fc.oneof(fc.constant([]), fc.constant(null), fc.constant(Object.create(null) as object), fc.constant('p')),
);
const datatype = often(fc.constantFrom('FP32', 'INT64', 'BYTES', 'BOOL', 'x'.repeat(32)), fc.oneof(fc.constant('x'.repeat(33)), fc.integer()));
const shape = often(fc.array(fc.oneof(fc.integer({ min: -2, max: 4 }), fc.string({ maxLength: 2 })), { maxLength: 8 }), fc.oneof(fc.constant(Array(9).fill(1)), fc.constant('2x2'), fc.constant(null)));
const tensor = often(
  fc.record(
    { name, shape, datatype, parameters: params, data: fc.oneof(fc.constant(undefined), fc.array(fc.double(), { maxLength: 4 })), extra: fc.jsonValue({ maxDepth: 1 }) },
    { requiredKeys: ['name', 'shape', 'datatype'] },
  ),
  fc.oneof(fc.constant(null), fc.constant([1]), fc.record({ shape, datatype })),
);
const output = often(fc.record({ name, parameters: params }, { requiredKeys: ['name'] }), fc.oneof(fc.constant('out'), fc.constant(null), fc.constant({})));
const many = <T>(n: number, f: (i: number) => T) => fc.constant(Array.from({ length: n }, (_, i) => f(i)));
const header = often(
  fc.record(
    {
      id: often(fc.oneof(fc.string({ maxLength: 4 }), fc.constant('x'.repeat(256))), fc.oneof(fc.constant('x'.repeat(257)), fc.integer())),
      parameters: params,
      inputs: often(fc.array(tensor, { minLength: 1, maxLength: 3 }), fc.oneof(fc.constant([]), many(65, (i) => ({ name: `i${i}`, shape: [1], datatype: 'FP32' })), fc.constant({}))),
      outputs: often(fc.oneof(fc.constant(undefined), fc.array(output, { maxLength: 3 })), fc.oneof(many(65, (i) => ({ name: `o${i}` })), fc.constant('all'))),
      model_name: fc.string({ maxLength: 3 }),
    },
    { requiredKeys: ['inputs'] },
  ),
  fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(Object.create(null) as object)),
);

describe('parseKserveInferRequest (the fast path in front of KserveInferRequestSchema)', () => {
  it('accepts exactly what the schema accepts and returns the value the schema returns', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(header, (h) => {
        const fast = parseKserveInferRequest(h);
        const slow = KserveInferRequestSchema.safeParse(h);
        expect(fast.success).toBe(slow.success);
        if (fast.success && slow.success) {
          accepted++;
          expect(fast.data).toEqual(slow.data);
        } else {
          rejected++;
          expect(fast.error?.issues).toEqual(slow.error?.issues);
        }
      }),
      { numRuns: 3000, seed: 20261204 },
    );
    // Both sides of the fast path are exercised, not only the fallback.
    expect(accepted).toBeGreaterThan(300);
    expect(rejected).toBeGreaterThan(300);
  });

  it('returns a well-formed header as it is, without copying it', () => {
    const h = JSON.parse('{"id":"7","inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}}],"outputs":[{"name":"y","parameters":{"binary_data":true}}]}');
    const r = parseKserveInferRequest(h);
    expect(r.success && r.data).toBe(h);
  });

  it('leaves every fault to the schema, which names it', () => {
    const r = parseKserveInferRequest({ inputs: [{ name: '', shape: [1], datatype: 'FP32' }] });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['inputs', 0, 'name']);
  });
});
