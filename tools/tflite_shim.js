// tflite_shim.js — lets @tensorflow/tfjs-tflite (WASM TFLite) run in Node 20:
// with no `window` it takes its web-worker path, so give it a worker-like
// global and feed it the non-threaded SIMD build with the .wasm bytes, so
// nothing is fetched (../shared/ORACLES.md). Used by tools/tflite_run.js and
// bench/faults/tflite_batch.js; test and benchmark code only.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');

const WASM_DIR = path.join(__dirname, '..', 'node_modules', '@tensorflow', 'tfjs-tflite', 'wasm');

function installShim() {
  globalThis.self = globalThis;
  globalThis.self.location = {href: `file://${WASM_DIR}/`, origin: 'file://', protocol: 'file:'};
  if (typeof globalThis.navigator === 'undefined' || !globalThis.navigator.hardwareConcurrency) {
    Object.defineProperty(globalThis, 'navigator', {value: {hardwareConcurrency: 1}, configurable: true, writable: true});
  }
  globalThis.importScripts = () => {
    const glue = path.join(WASM_DIR, 'tflite_web_api_cc_simd.js');
    vm.runInThisContext(fs.readFileSync(glue, 'utf8'), {filename: glue});
    const factory = globalThis.tflite_web_api_ModuleFactory;
    const wasmBinary = fs.readFileSync(path.join(WASM_DIR, 'tflite_web_api_cc_simd.wasm'));
    globalThis.tflite_web_api_ModuleFactory = (opts) => factory(Object.assign({}, opts, {wasmBinary}));
  };
}

module.exports = {installShim, WASM_DIR};
