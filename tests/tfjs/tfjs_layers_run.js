#!/usr/bin/env node
// tfjs_layers_run.js — runs a TF.js layers-model on the real TF.js runtime
// (@tensorflow/tfjs 4.9.0, CPU backend) through a custom IO handler that
// reads model.json and its weight shards from files. Test oracle only.
//
//   node tests/tfjs/tfjs_layers_run.js MODEL.json INPUT.npy[,INPUT2.npy...] OUT_DIR
// Writes OUT_DIR/output_<i>.npy (float32), one per model output in order.
'use strict';
const common = require('./tfjs_common.js');

const fail = common.makeFail('tfjs_layers_run');

async function main() {
  const [modelJson, inputs, outDir] = process.argv.slice(2);
  if (!outDir) fail('usage: tfjs_layers_run.js MODEL.json INPUT.npy[,...] OUT_DIR');
  const tf = await common.loadTf();
  const { json: j, specs, weightData } = common.readModelFiles(modelJson);
  // A model without weights: no weight fields (tfjs-layers 4.9 fails on an empty weight map).
  const art = specs.length ? { modelTopology: j.modelTopology, weightSpecs: specs, weightData, format: j.format }
                           : { modelTopology: j.modelTopology, format: j.format };
  const model = await tf.loadLayersModel({ load: async () => art });
  const xs = common.readInputs(tf, inputs, fail);
  let outs = model.predict(xs.length === 1 ? xs[0] : xs);
  if (!Array.isArray(outs)) outs = [outs];
  await common.writeOutputs(outDir, outs);
}
main().catch((e) => fail(e.stack || String(e)));
