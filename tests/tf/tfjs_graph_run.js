#!/usr/bin/env node
// tfjs_graph_run.js — runs a TF.js graph-model on the real TF.js runtime
// (@tensorflow/tfjs 4.9.0, CPU backend) through a custom IO handler that
// reads model.json and its weight shards from files. Test oracle only.
//
//   node tests/tf/tfjs_graph_run.js MODEL.json INPUT.npy[,INPUT2.npy...] OUT_DIR
// Writes OUT_DIR/output_<i>.npy (float32) for each output, in the order of
// the model's `outputs`, plus OUT_DIR/outputs.json (names).
'use strict';
const fs = require('fs');
const path = require('path');
const common = require('../tfjs/tfjs_common.js');

const fail = common.makeFail('tfjs_graph_run');

async function main() {
  const [modelJson, inputs, outDir] = process.argv.slice(2);
  if (!outDir) fail('usage: tfjs_graph_run.js MODEL.json INPUT.npy[,...] OUT_DIR');
  const tf = await common.loadTf();
  const { json: j, specs, weightData } = common.readModelFiles(modelJson);
  const handler = { load: async () => ({ modelTopology: j.modelTopology, weightSpecs: specs, weightData,
                                         format: j.format, signature: j.signature, userDefinedMetadata: j.userDefinedMetadata }) };
  const model = await tf.loadGraphModel(handler);
  const xs = common.readInputs(tf, inputs, fail);
  const feed = {};
  model.inputs.forEach((inp, i) => { feed[inp.name] = xs[i]; });
  const names = model.outputs.map((o) => o.name);
  let outs = await model.executeAsync(feed, names);
  if (!Array.isArray(outs)) outs = [outs];
  await common.writeOutputs(outDir, outs);
  fs.writeFileSync(path.join(outDir, 'outputs.json'), JSON.stringify(names));
}
main().catch((e) => fail(e.stack || String(e)));
