#!/usr/bin/env node
// Fault-benchmark oracle: runs an ONNX model on ONNX Runtime (npm
// onnxruntime-node, CPU) over one float32 .npy batch and writes the first
// output as float32 .npy. Graph optimizations are OFF by default: ORT's
// optimizer rewrites some patterns the benchmark injects on purpose (it fuses
// a zero Pad into a following MaxPool, which hides fault class 4), and the
// oracle must execute the graph as written.
//
//   node bench/faults/ort_batch.js MODEL.onnx X.npy OUT.npy [--threads N] [--optimize]
// Exit 0 ok, 2 when the runtime refuses the model or fails to run it (message
// on stderr, one line).
'use strict';
const path = require('path');
const {readNpy, writeNpy} = require('./npy');

function fail(msg) {
  process.stderr.write(`ort_batch: ${String(msg).split('\n')[0]}\n`);
  process.exit(2);
}

async function main() {
  const args = process.argv.slice(2);
  let threads = 1;
  let optimize = false;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--threads') threads = Number(args[++i]);
    else if (args[i] === '--optimize') optimize = true;
    else pos.push(args[i]);
  }
  if (pos.length !== 3) fail('usage: ort_batch.js MODEL X.npy OUT.npy [--threads N] [--optimize]');
  let ort;
  try {
    ort = require(path.join(__dirname, '..', '..', 'node_modules', 'onnxruntime-node'));
  } catch (e) {
    fail('onnxruntime-node is not installed');
  }
  const x = readNpy(pos[1]);
  let session;
  try {
    session = await ort.InferenceSession.create(pos[0], {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
      graphOptimizationLevel: optimize ? 'all' : 'disabled',
    });
  } catch (e) {
    fail(`${pos[0]}: load: ${e.message}`);
  }
  const feeds = {};
  feeds[session.inputNames[0]] = new ort.Tensor('float32', x.data, x.shape);
  let out;
  try {
    out = await session.run(feeds);
  } catch (e) {
    fail(`${pos[0]}: run: ${e.message}`);
  }
  const t = out[session.outputNames[0]];
  writeNpy(pos[2], '<f4', t.dims.map(Number), Float32Array.from(t.data));
}

main().catch((e) => fail(e.stack || e));
