// What the two TensorFlow.js oracles (predict.mjs, facts.mjs) share: .npy float32 read/write,
// HDF5 attribute helpers, and the SpatialDropout2D class TensorFlow.js lacks.
import * as tf from '@tensorflow/tfjs';
import fs from 'fs';

export function readNpy(file) {
  const buf = fs.readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim()).filter(s => s.length).map(Number);
  if (descr !== '<f4') throw new Error(`${file}: dtype ${descr}, expected <f4`);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + hlen, buf.byteOffset + buf.length));
  return { shape, data };
}

export function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1'); h[6] = 1; h[7] = 0; h.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

export function attrString(node, name) {
  const a = node.attrs[name];
  if (!a) return null;
  const v = a.value;
  return Array.isArray(v) ? v[0] : v;
}

export function names(node, name) {
  const a = node.attrs[name];
  if (!a) return [];
  const v = a.value;
  if (typeof v === 'string') return [v];
  return Array.from(v).filter(x => typeof x === 'string');
}

// SpatialDropout2D is the identity at inference (Keras predict never drops); TensorFlow.js has no such class.
class SpatialDropout2D extends tf.layers.Layer {
  static className = 'SpatialDropout2D';
  constructor(config) { super(config); this.rate = config.rate; }
  call(inputs) { return Array.isArray(inputs) ? inputs[0] : inputs; }
  computeOutputShape(shape) { return shape; }
  getConfig() { return { ...super.getConfig(), rate: this.rate }; }
}
tf.serialization.registerClass(SpatialDropout2D);

// tf.keras's GlobalAveragePooling2D / GlobalMaxPooling2D take keepdims (TF 2.6+); TensorFlow.js 4.22's
// do not (they drop the option and give (N, C)). predict.mjs renames such a layer to this class: the
// same mean or max over the spatial axes, keeping them as size 1.
class GlobalPooling2DKeepdims extends tf.layers.Layer {
  static className = 'GlobalPooling2DKeepdims';
  constructor(config) {
    super(config);
    this.max = !!config.max;
    this.channelsFirst = config.dataFormat === 'channelsFirst' || config.data_format === 'channels_first';
  }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const axes = this.channelsFirst ? [2, 3] : [1, 2];
    return tf.tidy(() => (this.max ? tf.max(x, axes, true) : tf.mean(x, axes, true)));
  }
  computeOutputShape(s) {
    return this.channelsFirst ? [s[0], s[1], 1, 1] : [s[0], 1, 1, s[3]];
  }
  getConfig() { return { ...super.getConfig(), max: this.max, dataFormat: this.channelsFirst ? 'channelsFirst' : 'channelsLast' }; }
}
tf.serialization.registerClass(GlobalPooling2DKeepdims);
