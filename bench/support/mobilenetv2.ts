/**
 * MobileNetV2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", 2018,
 * Table 2), width 1.0, built in code with seeded random weights: the shape of the model that
 * matters for speed, without downloading weights. Layer names follow Keras's
 * (`block_{i}_expand`, `block_{i}_depthwise`, `block_{i}_project`, `Conv_1`, ...).
 */
import * as tfl from '@tensorflow/tfjs-layers';

/** (expansion t, output channels c, repeats n, first stride s) per stage, from the paper's Table 2. */
const STAGES: ReadonlyArray<readonly [number, number, number, number]> = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export const mobileNetV2 = (size: number, classes = 1000, seed = 1): tfl.LayersModel => {
  let k = seed;
  const init = () => tfl.initializers.heNormal({ seed: k++ });
  // Identity statistics (mean 0, variance 1) with He-initialised convolutions keep the signal's
  // scale through the depth; random statistics made every image's features the same.
  const bn = (name: string) => tfl.layers.batchNormalization({ name, epsilon: 1e-3, momentum: 0.999 });
  const relu6 = (name: string) => tfl.layers.reLU({ maxValue: 6, name });
  const conv = (name: string, filters: number, kernel: number, stride: number) =>
    tfl.layers.conv2d({ name, filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false, kernelInitializer: init() });
  const apply = (layer: tfl.layers.Layer, x: tfl.SymbolicTensor): tfl.SymbolicTensor => layer.apply(x) as tfl.SymbolicTensor;

  const input = tfl.input({ shape: [size, size, 3], name: 'input' });
  let x = apply(relu6('Conv1_relu'), apply(bn('bn_Conv1'), apply(conv('Conv1', 32, 3, 2), input)));
  let channels = 32;
  let block = 0;
  for (const [t, c, n, s] of STAGES) {
    for (let r = 0; r < n; r++) {
      const stride = r === 0 ? s : 1;
      const prefix = block === 0 ? 'expanded_conv' : `block_${block}`;
      let h = x;
      if (t !== 1) h = apply(relu6(`${prefix}_expand_relu`), apply(bn(`${prefix}_expand_BN`), apply(conv(`${prefix}_expand`, channels * t, 1, 1), h)));
      // He initialisation by the depthwise filter's own fan-in (9), not tfjs's (9 × channels).
      const dwInit = tfl.initializers.randomNormal({ stddev: Math.sqrt(2 / 9), seed: k++ });
      const dw = tfl.layers.depthwiseConv2d({ name: `${prefix}_depthwise`, kernelSize: 3, strides: stride, padding: 'same', useBias: false, depthwiseInitializer: dwInit });
      h = apply(relu6(`${prefix}_depthwise_relu`), apply(bn(`${prefix}_depthwise_BN`), apply(dw, h)));
      h = apply(bn(`${prefix}_project_BN`), apply(conv(`${prefix}_project`, c, 1, 1), h));
      x = stride === 1 && channels === c ? (tfl.layers.add({ name: `${prefix}_add` }).apply([x, h]) as tfl.SymbolicTensor) : h;
      channels = c;
      block++;
    }
  }
  x = apply(relu6('out_relu'), apply(bn('Conv_1_bn'), apply(conv('Conv_1', 1280, 1, 1), x)));
  const pooled = apply(tfl.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }), x);
  const probs = apply(tfl.layers.dense({ name: 'predictions', units: classes, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: k++ }) }), pooled);
  return tfl.model({ inputs: input, outputs: probs, name: 'mobilenetv2' });
};

/** Multiply-adds of the convolutions and dense layers from the input up to `layerName` inclusive. */
export const multiplyAdds = (model: tfl.LayersModel, layerName: string): number => {
  let total = 0;
  for (const layer of model.layers) {
    const out = layer.outputShape as number[];
    const kind = layer.getClassName();
    if (kind === 'Conv2D' || kind === 'DepthwiseConv2D') {
      // [kh, kw, in, out] for a convolution; [kh, kw, channels, multiplier] for a depthwise one.
      const [kh, kw, cin, cout] = layer.weights[0]!.shape as number[];
      total += out[1]! * out[2]! * kh! * kw! * cin! * cout!;
    } else if (kind === 'Dense') {
      const [cin, cout] = layer.weights[0]!.shape as number[];
      total += cin! * cout!;
    }
    if (layer.name === layerName) break;
  }
  return total;
};
