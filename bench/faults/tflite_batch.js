#!/usr/bin/env node
// Fault-benchmark oracle for .tflite targets: runs a float .tflite model on
// the TFLite runtime (npm @tensorflow/tfjs-tflite, TFLite's kernels in
// WebAssembly; the same loader shim as tools/tflite_run.js) once per image of
// a float32 .npy batch [N, ...input shape without its batch of 1] and writes
// the first output of every run stacked as float32 .npy [N, ...].
//
//   node bench/faults/tflite_batch.js MODEL.tflite X.npy OUT.npy
// Exit 0 ok, 2 when the runtime refuses the model or a run fails (one line on
// stderr).
'use strict';
const fs = require('fs');
const path = require('path');
const {installShim, WASM_DIR} = require('../../tools/tflite_shim.js');
const {readNpy, writeNpy} = require('./npy');


function fail(msg) {
  process.stderr.write(`tflite_batch: ${String(msg).split('\n')[0]}\n`);
  process.exit(2);
}


async function main() {
  const [modelPath, xPath, outPath] = process.argv.slice(2);
  if (!outPath) fail('usage: tflite_batch.js MODEL.tflite X.npy OUT.npy');
  if (!fs.existsSync(WASM_DIR)) fail('@tensorflow/tfjs-tflite is not installed');
  installShim();
  const tflite = require('@tensorflow/tfjs-tflite');
  const bytes = fs.readFileSync(modelPath);
  let runner;
  try {
    const model = await tflite.loadTFLiteModel(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      {numThreads: 1});
    runner = model.modelRunner;
  } catch (e) {
    fail(`${modelPath}: the TFLite runtime refused the model: ${e && e.message ? e.message : e}`);
  }
  const x = readNpy(xPath);
  const inp = runner.getInputs()[0];
  const per = x.data.length / x.shape[0];
  const chunks = [];
  let outShape = null;
  for (let i = 0; i < x.shape[0]; i++) {
    const dst = inp.data();
    if (dst.length !== per) fail(`${modelPath}: input holds ${dst.length} values, an image has ${per}`);
    dst.set(x.data.subarray(i * per, (i + 1) * per));
    if (!runner.infer()) fail(`${modelPath}: inference failed`);
    const o = runner.getOutputs()[0];
    outShape = String(o.shape).split(',').filter((s) => s.length).map(Number);
    chunks.push(Float32Array.from(o.data()));
  }
  const all = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
  let k = 0;
  for (const c of chunks) { all.set(c, k); k += c.length; }
  writeNpy(outPath, '<f4', [x.shape[0], ...outShape.slice(1)], all);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
