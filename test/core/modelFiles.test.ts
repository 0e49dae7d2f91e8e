import { describe, expect, it } from 'vitest';
import { checkJsonKeys, checkLayerClasses, checkManifestPaths, checkWeightBytes, checkWeightSpecs, isContainedPath } from '../../src/core/modelFiles';
import { err, ok } from '../fixtures/either';

describe("checks of a saved model's files", () => {
  it('keeps weight paths inside the model directory', () => {
    for (const good of ['weights.bin', 'group1-shard1of2.bin', 'sub/dir/w.bin', 'a..b.bin']) expect(isContainedPath(good)).toBe(true);
    for (const bad of ['../weights.bin', 'a/../../b', '..\\w.bin', '/etc/passwd', '\\\\server\\share', 'C:\\w.bin', 'https://evil.example/w.bin', 'file:///etc/passwd', 'w\0.bin', '', 7]) {
      expect(isContainedPath(bad)).toBe(false);
    }
    const e = err(checkManifestPaths([{ paths: ['ok.bin'] }, { paths: ['ok2.bin', '../../secret'] }]));
    expect(e.path).toBe('weightsManifest[1].paths[1]');
    expect(e.received).toBe('"../../secret"');
    expect(ok(checkManifestPaths([{ paths: ['a.bin', 'b.bin'] }]))).toEqual(['a.bin', 'b.bin']);
  });

  it('finds a prototype key at any depth, as JSON.parse makes it', () => {
    const parsed = JSON.parse('{"config": {"layers": [{"class_name": "Dense", "config": {"__proto__": {"polluted": true}}}]}}');
    expect(err(checkJsonKeys('modelTopology', parsed)).path).toBe('modelTopology.config.layers[0].config.__proto__');
    expect(err(checkJsonKeys('userDefinedMetadata', JSON.parse('{"a": {"constructor": {"prototype": 1}}}'))).path).toBe('userDefinedMetadata.a.constructor');
    expect(ok(checkJsonKeys('m', { config: { layers: [{ name: 'x' }] } }))).toBeUndefined();
    // Nesting past the limit is refused (and does not overflow the stack).
    let deep: unknown = {};
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    expect(err(checkJsonKeys('m', deep)).expected).toMatch(/at most 64 levels/);
  });

  it('refuses declared shapes past the limits before anything is allocated, and byte lengths that disagree', () => {
    const spec = (shape: number[], dtype = 'float32') => ({ name: 'w', shape, dtype });
    expect(ok(checkWeightSpecs([spec([3, 4]), spec([2], 'int32')]))).toEqual([
      { name: 'w', shape: [3, 4], bytes: 48 },
      { name: 'w', shape: [2], bytes: 8 },
    ]);
    expect(err(checkWeightSpecs([spec([1e6, 1e6])])).path).toBe('weightSpecs[0].shape');
    expect(err(checkWeightSpecs([spec([1000, 1000])], { maxWeightBytes: 1000 })).expected).toMatch(/at most 1000 bytes/);
    expect(err(checkWeightSpecs([spec([2], 'string')])).path).toBe('weightSpecs[0].dtype');
    expect(err(checkWeightSpecs([spec([-1])])).path).toBe('weightSpecs[0].shape');
    // Quantised weights take their stored dtype's bytes.
    expect(ok(checkWeightSpecs([{ ...spec([10]), quantization: { dtype: 'uint8', scale: 1, min: 0 } }]))[0]!.bytes).toBe(10);
    const declared = ok(checkWeightSpecs([spec([3, 4])]));
    expect(ok(checkWeightBytes(declared, 48))).toBeUndefined();
    const e = err(checkWeightBytes(declared, 44));
    expect(e._tag).toBe('ShapeMismatch');
    expect(e.expected).toMatch(/^48 bytes/);
  });

  it('refuses layer classes the registry does not know, nested models included', () => {
    const known = new Set(['Dense', 'Sequential']);
    const topology = { model_config: { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense' }, { class_name: 'Sequential', config: { layers: [{ class_name: 'Lambda' }] } }] } } };
    const e = err(checkLayerClasses(topology, known));
    expect(e.path).toBe('modelTopology.layers[1].layers[0].class_name');
    expect(e.expected).toBe('a class tfjs-layers has registered: Dense, Sequential');
    expect(err(checkLayerClasses({ config: {} }, known)).expected).toMatch(/its layers/);
  });
});
