#!/usr/bin/env node
// Runs an ONNX model on ONNX Runtime (npm onnxruntime-node, CPU) with .npy
// inputs: the oracle for convfix's tests and the baseline of its benchmark.
//
//   node tools/ort_run.js MODEL --input [NAME=]FILE.npy ... [--out DIR]
//        [--threads N] [--time RUNS] [--warmup N] [--json]
//
// - Inputs bind to the model's inputs by NAME, or in order when NAME= is
//   left out.
// - --out DIR writes every output as DIR/<name>.npy (name sanitised like
//   convfix does: characters outside [A-Za-z0-9_.-] become '_').
// - --threads N sets intraOpNumThreads (default 1; interOp is always 1,
//   sequential execution).
// - --time RUNS: after --warmup runs (default 3), times at least RUNS runs
//   (and keeps going until --min-time SECONDS have passed, default 0) and
//   prints one JSON line: {model, threads, batch, runs, mean_ms, median_ms,
//   min_ms, images_per_s} (images/s from the median and the first input's
//   first dimension).
// - --serve: after loading the model and inputs prints "ready", then reads
//   commands from stdin, one a line: "run" runs once and prints the run's
//   time in ms on its own line; "quit" or end of input exits. Lets a
//   benchmark interleave ORT runs with its own, so both see the same load.
// - --info prints the model's input and output names as JSON and exits.
// Exit code 0 on success, 2 on bad arguments or a runtime error.
'use strict';

const fs = require('fs');
const path = require('path');

function loadOrt() {
  const candidates = [
    path.join(__dirname, '..', 'node_modules', 'onnxruntime-node'),
    'onnxruntime-node',
  ];
  for (const c of candidates) {
    try {
      return require(c);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  fail('onnxruntime-node is not installed (run `npm install --ignore-scripts` in the repository root)');
}

function fail(msg) {
  process.stderr.write(`ort_run: ${msg}\n`);
  process.exit(2);
}

// ---- .npy ------------------------------------------------------------------
const DESCR = {
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<f2': ['float16', Uint16Array],
  '|i1': ['int8', Int8Array], '|u1': ['uint8', Uint8Array],
  '<i2': ['int16', Int16Array], '<u2': ['uint16', Uint16Array],
  '<i4': ['int32', Int32Array], '<u4': ['uint32', Uint32Array],
  '<i8': ['int64', BigInt64Array], '<u8': ['uint64', BigUint64Array],
  '|b1': ['bool', Uint8Array],
};
const TYPE_TO_DESCR = {};
for (const [d, [t]] of Object.entries(DESCR)) TYPE_TO_DESCR[t] = d;

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${file}: not a .npy file`);
  const major = buf[6];
  let hlen, off;
  if (major === 1) { hlen = buf.readUInt16LE(8); off = 10; }
  else { hlen = buf.readUInt32LE(8); off = 12; }
  const header = buf.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) fail(`${file}: malformed .npy header`);
  if (fortran[1] === 'True') fail(`${file}: Fortran-order arrays are not supported`);
  let d = descr[1];
  if (d === '<b1') d = '|b1';
  if (d === '<i1') d = '|i1';
  if (d === '<u1') d = '|u1';
  const entry = DESCR[d];
  if (!entry) fail(`${file}: dtype ${descr[1]} is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const [type, Arr] = entry;
  const start = off + hlen;
  const bytes = n * Arr.BYTES_PER_ELEMENT;
  if (buf.length < start + bytes) fail(`${file}: truncated (${buf.length - start} of ${bytes} data bytes)`);
  // Copy into an aligned buffer.
  const ab = new ArrayBuffer(bytes);
  new Uint8Array(ab).set(buf.subarray(start, start + bytes));
  let data = new Arr(ab);
  if (type === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  return { type, dims, data };
}

function writeNpy(file, type, dims, data) {
  const descr = TYPE_TO_DESCR[type];
  if (!descr) fail(`output type ${type} cannot be written as .npy`);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  let body;
  if (type === 'bool') body = Buffer.from(Uint8Array.from(data, (v) => (v ? 1 : 0)));
  else body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
  fs.renameSync(tmp, file);
}

function sanitize(name) {
  let r = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (r === '' || r === '.' || r === '..') r = '_' + r;
  return r;
}

// ---- main ------------------------------------------------------------------
function parseArgs(argv) {
  const a = { inputs: [], threads: 1, time: 0, minTime: 0, warmup: 3, out: '', info: false, serve: false, model: '' };
  for (let i = 0; i < argv.length; ++i) {
    const k = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) fail(`${k} needs a value`);
      return argv[++i];
    };
    if (k === '--input') a.inputs.push(next());
    else if (k === '--out') a.out = next();
    else if (k === '--threads') a.threads = parseInt(next(), 10);
    else if (k === '--time') a.time = parseInt(next(), 10);
    else if (k === '--warmup') a.warmup = parseInt(next(), 10);
    else if (k === '--min-time') a.minTime = parseFloat(next());
    else if (k === '--info') a.info = true;
    else if (k === '--serve') a.serve = true;
    else if (k === '--help' || k === '-h') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1).filter((l, i, all) => all.slice(0, i + 1).every((x) => x.startsWith('//'))).join('\n') + '\n');
      process.exit(0);
    } else if (k.startsWith('--')) fail(`unknown option ${k}`);
    else if (!a.model) a.model = k;
    else fail(`unexpected argument ${k}`);
  }
  if (!a.model) fail('give a model file');
  if (!(a.threads >= 1)) fail('--threads must be >= 1');
  return a;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  let session;
  try {
    session = await ort.InferenceSession.create(a.model, {
      intraOpNumThreads: a.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    fail(`${a.model}: ONNX Runtime cannot load the model: ${e.message}`);
  }
  if (a.info) {
    process.stdout.write(JSON.stringify({ inputs: session.inputNames, outputs: session.outputNames }) + '\n');
    return;
  }
  const feeds = {};
  let positional = 0;
  let batch = 1;
  for (const spec of a.inputs) {
    let name, file;
    const eq = spec.indexOf('=');
    if (eq > 0 && !fs.existsSync(spec)) { name = spec.slice(0, eq); file = spec.slice(eq + 1); }
    else {
      if (positional >= session.inputNames.length) fail(`${spec}: more inputs than the model has`);
      name = session.inputNames[positional++]; file = spec;
    }
    const t = readNpy(file);
    if (Object.keys(feeds).length === 0 && t.dims.length) batch = t.dims[0];
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  }
  const run = async () => {
    try {
      return await session.run(feeds);
    } catch (e) {
      fail(`${a.model}: run failed: ${e.message}`);
    }
  };
  if (a.serve) {
    const readline = require('readline');
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    process.stdout.write('ready\n');
    for await (const line of rl) {
      const cmd = line.trim();
      if (cmd === 'quit') break;
      if (cmd !== 'run') fail(`--serve: unknown command '${cmd}'`);
      const t0 = process.hrtime.bigint();
      await run();
      process.stdout.write(`${Number(process.hrtime.bigint() - t0) / 1e6}\n`);
    }
    rl.close();
    return;
  }
  if (a.time > 0) {
    for (let i = 0; i < a.warmup; ++i) await run();
    const ms = [];
    const start = process.hrtime.bigint();
    while (ms.length < a.time || Number(process.hrtime.bigint() - start) / 1e9 < a.minTime) {
      const t0 = process.hrtime.bigint();
      await run();
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const sorted = [...ms].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)];
    const mean = ms.reduce((x, y) => x + y, 0) / ms.length;
    process.stdout.write(JSON.stringify({
      model: a.model, threads: a.threads, batch, runs: ms.length,
      mean_ms: mean, median_ms: median, min_ms: sorted[0],
      images_per_s: (1000 * batch) / median,
    }) + '\n');
    return;
  }
  const out = await run();
  if (a.out) fs.mkdirSync(a.out, { recursive: true });
  for (const name of session.outputNames) {
    const t = out[name];
    if (a.out) writeNpy(path.join(a.out, sanitize(name) + '.npy'), t.type, t.dims, t.data);
    else process.stdout.write(`${name}: ${t.type} [${t.dims.join(', ')}]\n`);
  }
}

main().catch((e) => fail(e.stack || String(e)));
