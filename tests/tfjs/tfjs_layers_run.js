#!/usr/bin/env node
// tfjs_layers_run.js — runs a TF.js layers-model on the real TF.js runtime
// (@tensorflow/tfjs 4.9.0, CPU backend) through a custom IO handler that
// reads model.json and its weight shards from files. Test oracle only.
//
//   node tests/tfjs/tfjs_layers_run.js MODEL.json INPUT.npy[,INPUT2.npy...] OUT_DIR
// Writes OUT_DIR/output_<i>.npy (float32), one per model output in order.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(msg) { process.stderr.write(`tfjs_layers_run: ${msg}\n`); process.exit(2); }

function readNpy(file) {
  const b = fs.readFileSync(file);
  const hlen = b.readUInt16LE(8);
  const header = b.slice(10, 10 + hlen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const data = Buffer.from(b.slice(10 + hlen));
  const ab = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  if (descr === '<f4') return { shape, dtype: 'float32', values: new Float32Array(ab) };
  if (descr === '<i4') return { shape, dtype: 'int32', values: new Int32Array(ab) };
  fail(`${file}: dtype ${descr} not supported`);
}

function writeNpy(file, shape, values) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = 1; h[7] = 0;
  h.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(new Float32Array(values).buffer)]));
}

async function main() {
  const [modelJson, inputs, outDir] = process.argv.slice(2);
  if (!outDir) fail('usage: tfjs_layers_run.js MODEL.json INPUT.npy[,...] OUT_DIR');
  const tf = require(path.join(__dirname, '..', '..', 'node_modules', '@tensorflow', 'tfjs'));
  await tf.setBackend('cpu');
  const j = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const dir = path.dirname(modelJson);
  const specs = [];
  const bufs = [];
  for (const g of j.weightsManifest || []) {
    for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
    for (const w of g.weights) specs.push(w);
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  // A model without weights: no weight fields (tfjs-layers 4.9 fails on an empty weight map).
  const art = specs.length ? { modelTopology: j.modelTopology, weightSpecs: specs, weightData, format: j.format }
                           : { modelTopology: j.modelTopology, format: j.format };
  const handler = { load: async () => art };
  const model = await tf.loadLayersModel(handler);
  const xs = inputs.split(',').map((f) => { const a = readNpy(f); return tf.tensor(a.values, a.shape, a.dtype); });
  let outs = model.predict(xs.length === 1 ? xs[0] : xs);
  if (!Array.isArray(outs)) outs = [outs];
  fs.mkdirSync(outDir, { recursive: true });
  for (let i = 0; i < outs.length; ++i) writeNpy(path.join(outDir, `output_${i}.npy`), outs[i].shape, await outs[i].data());
}
main().catch((e) => fail(e.stack || String(e)));
