// tfjs_common.js — what the TF.js oracle runners share (test code only):
// .npy reading/writing (float32, int32), the TF.js package from the
// repository's node_modules on its CPU backend, and the model artifacts of a
// model.json read from files (topology, weight specs and all shards joined,
// as a custom IO handler hands them to tf.loadGraphModel / loadLayersModel).
'use strict';
const fs = require('fs');
const path = require('path');

function makeFail(tool) {
  return (msg) => { process.stderr.write(`${tool}: ${msg}\n`); process.exit(2); };
}

// { shape, dtype, values } of a little-endian float32 or int32 .npy file;
// null for any other dtype. The data is copied so the typed array is aligned.
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
  return null;
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

async function loadTf() {
  const tf = require(path.join(__dirname, '..', '..', 'node_modules', '@tensorflow', 'tfjs'));
  await tf.setBackend('cpu');
  return tf;
}

// The parsed model.json, its weight specs (manifest order) and the shards
// joined into one ArrayBuffer.
function readModelFiles(modelJson) {
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
  return { json: j, specs, weightData };
}

// Comma-separated .npy files as TF.js tensors.
function readInputs(tf, list, fail) {
  return list.split(',').map((f) => {
    const a = readNpy(f);
    if (!a) fail(`${f}: only float32 and int32 .npy inputs are supported`);
    return tf.tensor(a.values, a.shape, a.dtype);
  });
}

async function writeOutputs(outDir, outs) {
  fs.mkdirSync(outDir, { recursive: true });
  for (let i = 0; i < outs.length; ++i) writeNpy(path.join(outDir, `output_${i}.npy`), outs[i].shape, await outs[i].data());
}

module.exports = { makeFail, readNpy, writeNpy, loadTf, readModelFiles, readInputs, writeOutputs };
