// Minimal .npy (v1-3, little-endian, C order) reader/writer for the fault
// benchmark's runtime drivers: float32, int8, uint8, int32, int64 arrays.
'use strict';
const fs = require('fs');

const DESCR = {
  '<f4': Float32Array, '|i1': Int8Array, '<i1': Int8Array, '|u1': Uint8Array, '<u1': Uint8Array,
  '<i4': Int32Array, '<i8': BigInt64Array,
};

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const hlen = buf[6] === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const off = buf[6] === 1 ? 10 : 12;
  const header = buf.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${file}: Fortran order`);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const Arr = DESCR[descr];
  if (!Arr) throw new Error(`${file}: dtype ${descr} not supported`);
  const n = shape.reduce((a, b) => a * b, 1);
  const ab = new ArrayBuffer(n * Arr.BYTES_PER_ELEMENT);
  new Uint8Array(ab).set(buf.subarray(off + hlen, off + hlen + ab.byteLength));
  return {descr, shape, data: new Arr(ab)};
}

function writeNpy(file, descr, shape, typed) {
  const s = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${s}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'),
    Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength)]));
}

module.exports = {readNpy, writeNpy};
