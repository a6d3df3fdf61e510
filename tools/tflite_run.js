#!/usr/bin/env node
// tflite_run.js — runs a .tflite model on the real TFLite runtime (TFLite's
// own kernels compiled to WebAssembly, npm @tensorflow/tfjs-tflite
// 0.0.1-alpha.10, which always uses XNNPACK for the ops it covers). A test
// oracle for convfix; convfix itself never needs it.
//
//   node tools/tflite_run.js MODEL.tflite [INPUT.npy ...] OUT_DIR
//       Feeds input i from the i-th .npy file (its dtype and shape must match
//       the model's input exactly: float32, int8, uint8, int32, ...), runs
//       the model once and writes each output as
//       OUT_DIR/output_<i>_<name>.npy plus OUT_DIR/outputs.json (names,
//       shapes, dtypes, in output order).
//   node tools/tflite_run.js --info MODEL.tflite
//       Prints the model's inputs and outputs as JSON.
//
// Exit codes: 0 ok, 2 bad arguments or a model the runtime refuses
// (message on stderr).
'use strict';

const fs = require('fs');
const path = require('path');
const {installShim} = require('./tflite_shim.js');

const ROOT = path.resolve(__dirname, '..');

function fail(msg) {
  process.stderr.write(`tflite_run: ${msg}\n`);
  process.exit(2);
}


// ---- .npy (version 1-3, little-endian, C order)
const NPY_DTYPES = {
  float32: {descr: '<f4', array: Float32Array},
  float64: {descr: '<f8', array: Float64Array},
  int8: {descr: '|i1', array: Int8Array},
  uint8: {descr: '|u1', array: Uint8Array},
  int16: {descr: '<i2', array: Int16Array},
  uint16: {descr: '<u2', array: Uint16Array},
  int32: {descr: '<i4', array: Int32Array},
  uint32: {descr: '<u4', array: Uint32Array},
  int64: {descr: '<i8', array: BigInt64Array},
  uint64: {descr: '<u8', array: BigUint64Array},
  bool: {descr: '|b1', array: Uint8Array},
  float16: {descr: '<f2', array: Uint16Array},
};
const DESCR_ALIASES = {'<i1': '|i1', '<u1': '|u1', '<b1': '|b1', '|f2': '<f2'};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descrM = header.match(/'descr':\s*'([^']+)'/);
  const fortranM = header.match(/'fortran_order':\s*(True|False)/);
  const shapeM = header.match(/'shape':\s*\(([^)]*)\)/);
  if (!descrM || !fortranM || !shapeM) fail(`${file}: unreadable .npy header`);
  if (fortranM[1] === 'True') fail(`${file}: Fortran-order arrays are not supported`);
  const descr = DESCR_ALIASES[descrM[1]] || descrM[1];
  const shape = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const data = buf.subarray(hstart + hlen);
  return {descr, shape, data};
}

function writeNpy(file, descr, shape, bytes) {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), bytes]));
}

function shapeOf(info) {
  return String(info.shape).split(',').filter((s) => s.length).map(Number);
}

function bytesOf(typed) {
  return Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
}

async function load(modelPath) {
  installShim();
  const tflite = require('@tensorflow/tfjs-tflite');
  let bytes;
  try {
    bytes = fs.readFileSync(modelPath);
  } catch (e) {
    fail(`${modelPath}: ${e.message}`);
  }
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  try {
    const model = await tflite.loadTFLiteModel(ab, {numThreads: 1});
    return model.modelRunner;
  } catch (e) {
    fail(`${modelPath}: the TFLite runtime refused the model: ${e && e.message ? e.message : e}`);
  }
  return null;
}

function describe(infos) {
  return infos.map((t, i) => ({index: i, name: t.name, shape: shapeOf(t), dtype: t.dataType}));
}

function safeName(s) {
  return String(s).replace(/[^A-Za-z0-9_.-]/g, '_');
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--info') {
    if (args.length !== 2) fail('usage: tflite_run.js --info MODEL.tflite');
    const runner = await load(args[1]);
    process.stdout.write(JSON.stringify({inputs: describe(runner.getInputs()), outputs: describe(runner.getOutputs())}, null, 1) + '\n');
    return;
  }
  if (args.length < 2) fail('usage: tflite_run.js MODEL.tflite [INPUT.npy ...] OUT_DIR  |  tflite_run.js --info MODEL.tflite');
  const modelPath = args[0];
  const outDir = args[args.length - 1];
  const inputFiles = args.slice(1, -1);
  const runner = await load(modelPath);
  const inputs = runner.getInputs();
  if (inputs.length !== inputFiles.length) fail(`${modelPath}: the model has ${inputs.length} inputs, ${inputFiles.length} .npy files given`);
  inputs.forEach((info, i) => {
    const want = NPY_DTYPES[info.dataType];
    if (!want) fail(`input ${i} '${info.name}': dtype ${info.dataType} is not supported`);
    const npy = readNpy(inputFiles[i]);
    if (npy.descr !== want.descr) fail(`${inputFiles[i]}: dtype ${npy.descr}, input ${i} '${info.name}' needs ${want.descr} (${info.dataType})`);
    const shape = shapeOf(info);
    const same = npy.shape.length === shape.length && npy.shape.every((d, k) => d === shape[k]);
    if (!same) fail(`${inputFiles[i]}: shape [${npy.shape}], input ${i} '${info.name}' has shape [${shape}]`);
    const dst = info.data();
    if (dst.byteLength !== npy.data.length) fail(`${inputFiles[i]}: ${npy.data.length} data bytes, input ${i} needs ${dst.byteLength}`);
    bytesOf(dst).set(npy.data);
  });
  if (!runner.infer()) fail(`${modelPath}: inference failed`);
  fs.mkdirSync(outDir, {recursive: true});
  const outputs = runner.getOutputs();
  const listing = describe(outputs);
  outputs.forEach((info, i) => {
    const want = NPY_DTYPES[info.dataType];
    if (!want) fail(`output ${i} '${info.name}': dtype ${info.dataType} is not supported`);
    const file = path.join(outDir, `output_${i}_${safeName(info.name)}.npy`);
    writeNpy(file, want.descr, shapeOf(info), Buffer.from(bytesOf(info.data())));
    listing[i].file = path.basename(file);
  });
  fs.writeFileSync(path.join(outDir, 'outputs.json'), JSON.stringify(listing, null, 1) + '\n');
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
