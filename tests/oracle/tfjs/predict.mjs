// TensorFlow.js (CPU backend) as an independent Keras oracle for graft's tests.
//   node predict.mjs MODEL.h5 OUT_DIR IN.npy [IN2.npy ...] [--config ARCH.json]
//   node predict.mjs --batch JOBS.json   (a list of {model, config, out, inputs}: one Node start for many models)
// Builds the model from model_config (or ARCH.json) with tf.models.modelFromJSON, sets every
// layer's weights from the h5 datasets named by its weight_names (read with h5wasm), predicts
// and writes OUT_DIR/output_<i>.npy (float32). Conv kernels of a Theano-saved file are flipped
// as Keras's own load_weights does when it loads them into TensorFlow.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import h5wasm from 'h5wasm/node';
import fs from 'fs';
import path from 'path';

function readNpy(file) {
  const buf = fs.readFileSync(file);
  const hlen = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map(s => s.trim()).filter(s => s.length).map(Number);
  if (descr !== '<f4') throw new Error(`${file}: dtype ${descr}, expected <f4`);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + hlen, buf.byteOffset + buf.length));
  return { shape, data };
}

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1'); h[6] = 1; h[7] = 0; h.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

function attrString(node, name) {
  const a = node.attrs[name];
  if (!a) return null;
  const v = a.value;
  return Array.isArray(v) ? v[0] : v;
}

function names(node, name) {
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

function flip(t) {
  // kernel (kh, kw, in, out): reverse both spatial axes
  return tf.reverse(t, [0, 1]);
}

async function main() {
  const args = process.argv.slice(2);
  await h5wasm.ready;
  await tf.setBackend('cpu');
  if (args[0] === '--batch') {
    const jobs = JSON.parse(fs.readFileSync(args[1], 'utf8'));
    for (const j of jobs) {
      try {
        await predict(j.model, j.config ? JSON.parse(fs.readFileSync(j.config, 'utf8')) : null, j.out, j.inputs);
      } catch (e) {
        fs.mkdirSync(j.out, { recursive: true });
        fs.writeFileSync(path.join(j.out, 'error.txt'), String(e && e.message || e));
      }
    }
    return;
  }
  let config = null;
  const ci = args.indexOf('--config');
  if (ci >= 0) { config = JSON.parse(fs.readFileSync(args[ci + 1], 'utf8')); args.splice(ci, 2); }
  const [modelFile, outDir, ...inputs] = args;
  await predict(modelFile, config, outDir, inputs);
}

async function predict(modelFile, config, outDir, inputs) {
  const f = new h5wasm.File(modelFile, 'r');
  if (!config) config = JSON.parse(attrString(f, 'model_config'));
  tf.disposeVariables();
  const backend = attrString(f, 'backend') || (f.get('model_weights') && attrString(f.get('model_weights'), 'backend'));
  const root = f.keys().includes('model_weights') ? f.get('model_weights') : f;
  // tf.keras writes kernel_* initializer fields on SeparableConv2D, which TensorFlow.js rejects;
  // initializers play no part in prediction, so they are dropped.
  const layerList = Array.isArray(config.config) ? config.config : (config.config.layers || []);
  for (const l of layerList) {
    if (l.class_name === 'SeparableConv2D') {
      for (const k of ['kernel_initializer', 'kernel_regularizer', 'kernel_constraint']) delete l.config[k];
    }
  }
  const model = await tf.models.modelFromJSON({ modelTopology: config });
  const conv = new Set(['Conv2D', 'Conv2DTranspose', 'Conv1D', 'Conv3D']);
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const g = root.get(layer.name);
    if (!g) throw new Error(`no weights group for layer ${layer.name}`);
    const ws = names(g, 'weight_names').map(n => {
      const d = g.get(n);
      return tf.tensor(Float32Array.from(d.value), d.shape, 'float32');
    });
    if (backend === 'theano' && conv.has(layer.getClassName())) ws[0] = flip(ws[0]);
    layer.setWeights(ws);
  }
  const xs = inputs.map(p => { const a = readNpy(p); return tf.tensor(a.data, a.shape, 'float32'); });
  let ys = model.predict(xs.length === 1 ? xs[0] : xs);
  if (!Array.isArray(ys)) ys = [ys];
  fs.mkdirSync(outDir, { recursive: true });
  ys.forEach((y, i) => writeNpy(path.join(outDir, `output_${i}.npy`), y.shape, y.dataSync()));
  f.close();
}

main().catch(e => { console.error(String(e && e.stack || e)); process.exit(1); });
