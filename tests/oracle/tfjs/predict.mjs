// TensorFlow.js (CPU backend) as an independent Keras oracle for graft's tests.
//   node predict.mjs MODEL.h5 OUT_DIR IN.npy [IN2.npy ...] [--config ARCH.json]
//   node predict.mjs --batch JOBS.json   (a list of {model, config, out, inputs, layer}: one Node start for many models;
//   an optional layer names the layer whose output is predicted instead of the model's)
// Builds the model from model_config (or ARCH.json) with tf.models.modelFromJSON, sets every
// layer's weights from the h5 datasets named by its weight_names (read with h5wasm), predicts
// and writes OUT_DIR/output_<i>.npy (float32). Conv kernels of a Theano-saved file are flipped
// as Keras's own load_weights does when it loads them into TensorFlow.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import h5wasm from 'h5wasm/node';
import fs from 'fs';
import path from 'path';

import { readNpy, writeNpy, attrString, names } from './keras_h5.mjs';

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
        await predict(j.model, j.config ? JSON.parse(fs.readFileSync(j.config, 'utf8')) : null, j.out, j.inputs, j.layer);
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

async function predict(modelFile, config, outDir, inputs, layerName) {
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
    // keepdims, which TensorFlow.js's global poolings lack: keras_h5.mjs's GlobalPooling2DKeepdims
    if ((l.class_name === 'GlobalAveragePooling2D' || l.class_name === 'GlobalMaxPooling2D') && l.config.keepdims) {
      l.config.max = l.class_name === 'GlobalMaxPooling2D';
      delete l.config.keepdims;
      l.class_name = 'GlobalPooling2DKeepdims';
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
  const runner = layerName ? tf.model({ inputs: model.inputs, outputs: model.getLayer(layerName).output }) : model;
  let ys = runner.predict(xs.length === 1 ? xs[0] : xs);
  if (!Array.isArray(ys)) ys = [ys];
  fs.mkdirSync(outDir, { recursive: true });
  ys.forEach((y, i) => writeNpy(path.join(outDir, `output_${i}.npy`), y.shape, y.dataSync()));
  f.close();
}

main().catch(e => { console.error(String(e && e.stack || e)); process.exit(1); });
