// TensorFlow.js (CPU backend) as the Keras oracle for layer tables and surgery:
//   node facts.mjs JOBS.json
// JOBS.json is a list of {model, config?, out, inputs?, cut?, head?}. For each job the model is
// built from model_config (or config) with tf.models.modelFromJSON and its h5 weights are set
// as predict.mjs does. Optionally the model is cut at layer `cut` (its output becomes the
// model's) and `head` layers are appended, each {class_name, config, weights?: [npy ...]}
// (class_name as Keras names it: GlobalAveragePooling2D, Dense, Conv2D, Flatten ...).
// Writes OUT/facts.json: model.layers in order with each layer's class and its trainable and
// non-trainable weight counts, the model totals, and the output shapes; and, when inputs are
// given, OUT/output_<i>.npy (float32). A job that fails writes OUT/error.txt instead.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import h5wasm from 'h5wasm/node';
import fs from 'fs';
import path from 'path';

import { readNpy, writeNpy, attrString, names } from './keras_h5.mjs';

const count = ws => ws.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);

async function job(j) {
  const f = new h5wasm.File(j.model, 'r');
  try {
    const config = j.config ? JSON.parse(fs.readFileSync(j.config, 'utf8')) : JSON.parse(attrString(f, 'model_config'));
    tf.disposeVariables();
    // tf.keras writes kernel_* fields on SeparableConv2D, which TensorFlow.js rejects; they play no part here.
    for (const l of (Array.isArray(config.config) ? config.config : (config.config.layers || []))) {
      if (l.class_name === 'SeparableConv2D') {
        for (const k of ['kernel_initializer', 'kernel_regularizer', 'kernel_constraint']) delete l.config[k];
      }
    }
    const root = f.keys().includes('model_weights') ? f.get('model_weights') : f;
    let model = await tf.models.modelFromJSON({ modelTopology: config });
    for (const layer of model.layers) {
      if (layer.weights.length === 0) continue;
      const g = root.get(layer.name);
      if (!g) throw new Error(`no weights group for layer ${layer.name}`);
      layer.setWeights(names(g, 'weight_names').map(n => {
        const d = g.get(n);
        return tf.tensor(Float32Array.from(d.value), d.shape, 'float32');
      }));
    }
    if (j.cut || j.head) {
      let x = j.cut ? model.getLayer(j.cut).output : model.outputs[0];
      const added = [];
      for (const h of j.head || []) {
        const make = tf.layers[(h.class_name.charAt(0).toLowerCase() + h.class_name.slice(1)).replace(/2D$/, '2d')];
        if (!make) throw new Error(`TensorFlow.js has no layer ${h.class_name}`);
        const l = make(h.config || {});
        x = l.apply(x);
        added.push([l, h.weights || []]);
      }
      model = tf.model({ inputs: model.inputs, outputs: x });
      for (const [l, ws] of added) {
        if (ws.length) l.setWeights(ws.map(p => { const a = readNpy(p); return tf.tensor(a.data, a.shape, 'float32'); }));
      }
    }
    const facts = {
      class_name: model.getClassName(),
      layers: model.layers.map(l => ({
        name: l.name, class_name: l.getClassName(), trainable: l.trainable,
        trainable_params: count(l.trainableWeights), non_trainable_params: count(l.nonTrainableWeights),
      })),
      trainable_params: count(model.trainableWeights),
      non_trainable_params: count(model.nonTrainableWeights),
      output_shapes: model.outputs.map(o => o.shape),
    };
    fs.mkdirSync(j.out, { recursive: true });
    fs.writeFileSync(path.join(j.out, 'facts.json'), JSON.stringify(facts));
    const xs = (j.inputs || []).map(p => { const a = readNpy(p); return tf.tensor(a.data, a.shape, 'float32'); });
    if (xs.length) {
      let ys = model.predict(xs.length === 1 ? xs[0] : xs);
      if (!Array.isArray(ys)) ys = [ys];
      ys.forEach((y, i) => writeNpy(path.join(j.out, `output_${i}.npy`), y.shape, y.dataSync()));
    }
  } finally {
    f.close();
  }
}

async function main() {
  await h5wasm.ready;
  await tf.setBackend('cpu');
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  for (const j of jobs) {
    try {
      await job(j);
    } catch (e) {
      fs.mkdirSync(j.out, { recursive: true });
      fs.writeFileSync(path.join(j.out, 'error.txt'), String(e && e.message || e));
    }
  }
}

main().catch(e => { console.error(String(e && e.stack || e)); process.exit(1); });
