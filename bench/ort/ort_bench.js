#!/usr/bin/env node
// onnxruntime baseline for bench/run.sh (see docs/bench.md).
//
// usage: node ort_bench.js MODEL.onnx --inputs DIR [--bench N] [--threads T] [--warmup W]
//                           [--write-outputs DIR] [--profile]
//
// Loads MODEL.onnx into an onnxruntime-node CPU session (intraOpNumThreads=T, interOpNumThreads=1,
// graphOptimizationLevel 'all', sequential execution), feeds DIR/input_K.pb (ONNX TensorProto
// files, matched to the model inputs by their name field, else by position), runs W warm-up runs,
// then N timed runs, and prints the same line as `sparq-run --bench N`:
//   latency: min X ms, median Y ms, max Z ms (N runs)
// --write-outputs DIR writes the outputs of one run as DIR/output_K.pb (reference data for
// `sparq-run --expect DIR`, in the model's output order).
// --profile turns on onnxruntime's own profiler for the timed runs and prints, after the latency
// line, each node's median kernel time per run (the counterpart of `sparq-run --profile`'s
// table, to compare the two engines op by op). The timed runs are slower with it: compare its
// per-node figures with each other, not its latency line with an unprofiled one.
// Errors are one line, `ort_bench: error: ...`, exit code 1.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

function fail(message) {
  process.stderr.write(`ort_bench: error: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { model: null, inputs: null, bench: 10, threads: 1, warmup: 3, write: null,
                    profile: false };
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) fail(`${arg} needs a value`);
      return argv[++i];
    };
    const count = (v) => {
      if (!/^[0-9]+$/.test(v)) fail(`${arg} needs a non-negative integer, got '${v}'`);
      return parseInt(v, 10);
    };
    if (arg === '--inputs') options.inputs = next();
    else if (arg === '--bench') options.bench = count(next());
    else if (arg === '--threads') options.threads = count(next());
    else if (arg === '--warmup') options.warmup = count(next());
    else if (arg === '--write-outputs') options.write = next();
    else if (arg === '--profile') options.profile = true;
    else if (arg.startsWith('-')) fail(`unknown option '${arg}'`);
    else if (options.model === null) options.model = arg;
    else fail(`unexpected argument '${arg}'`);
  }
  if (!options.model || !options.inputs)
    fail('usage: ort_bench.js MODEL.onnx --inputs DIR [--bench N] [--threads T] [--warmup W] ' +
         '[--write-outputs DIR] [--profile]');
  return options;
}

// --- Minimal protobuf reader for onnx.TensorProto -----------------------------------------------
// Fields used: 1 dims (repeated int64), 2 data_type (int32), 4 float_data (packed float),
// 7 int64_data (packed int64), 8 name (string), 9 raw_data (bytes). Everything else is skipped.

class Reader {
  constructor(buf) { this.buf = buf; this.pos = 0; }
  done() { return this.pos >= this.buf.length; }
  varint() {
    let result = 0n, shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  }
  bytes() {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

const DTYPES = {  // onnx.TensorProto.DataType -> [ort type name, typed array]
  1: ['float32', Float32Array], 2: ['uint8', Uint8Array], 3: ['int8', Int8Array],
  4: ['uint16', Uint16Array], 5: ['int16', Int16Array], 6: ['int32', Int32Array],
  7: ['int64', BigInt64Array], 9: ['bool', Uint8Array], 11: ['float64', Float64Array],
  12: ['uint32', Uint32Array], 13: ['uint64', BigUint64Array],
};

function readTensorProto(file) {
  const r = new Reader(fs.readFileSync(file));
  const t = { dims: [], dataType: 1, name: '', raw: null, floats: [], int64s: [] };
  while (!r.done()) {
    const key = Number(r.varint());
    const field = key >>> 3, wire = key & 7;
    if (field === 1 && wire === 0) t.dims.push(Number(r.varint()));
    else if (field === 1 && wire === 2) {
      const p = new Reader(r.bytes());
      while (!p.done()) t.dims.push(Number(p.varint()));
    } else if (field === 2 && wire === 0) t.dataType = Number(r.varint());
    else if (field === 4 && wire === 2) {
      const b = r.bytes();
      for (let i = 0; i + 4 <= b.length; i += 4) t.floats.push(b.readFloatLE(i));
    } else if (field === 4 && wire === 5) {
      t.floats.push(r.buf.readFloatLE(r.pos)); r.pos += 4;
    } else if (field === 7 && wire === 2) {
      const p = new Reader(r.bytes());
      while (!p.done()) t.int64s.push(BigInt.asIntN(64, p.varint()));
    } else if (field === 7 && wire === 0) t.int64s.push(BigInt.asIntN(64, r.varint()));
    else if (field === 8 && wire === 2) t.name = r.bytes().toString('utf8');
    else if (field === 9 && wire === 2) t.raw = r.bytes();
    else r.skip(wire);
  }
  const dtype = DTYPES[t.dataType];
  if (!dtype) throw new Error(`unsupported TensorProto data_type ${t.dataType}`);
  const [typeName, Ctor] = dtype;
  const count = t.dims.reduce((a, b) => a * b, 1);
  let data;
  if (t.raw) {
    const copy = Buffer.from(t.raw);  // aligned private copy
    data = new Ctor(copy.buffer, copy.byteOffset, copy.byteLength / Ctor.BYTES_PER_ELEMENT);
  } else if (t.dataType === 1) {
    data = Float32Array.from(t.floats);
  } else if (t.dataType === 7) {
    data = BigInt64Array.from(t.int64s);
  } else {
    throw new Error(`data_type ${t.dataType} without raw_data is not supported`);
  }
  if (data.length !== count)
    throw new Error(`${data.length} elements for dims [${t.dims}] (${count})`);
  return { name: t.name, type: typeName, dims: t.dims, data };
}

/// An onnx.TensorProto with dims (1), data_type (2), name (8) and raw_data (9).
function writeTensorProto(file, name, tensor) {
  const parts = [];
  const varint = (v) => {
    const out = [];
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      out.push(b);
    } while (x);
    return Buffer.from(out);
  };
  const code = Object.keys(DTYPES).find((k) => DTYPES[k][0] === tensor.type);
  if (!code) throw new Error(`output type ${tensor.type} cannot be written`);
  for (const d of tensor.dims) parts.push(varint(1 << 3), varint(d));
  parts.push(varint(2 << 3), varint(Number(code)));
  const nameBytes = Buffer.from(name, 'utf8');
  parts.push(varint((8 << 3) | 2), varint(nameBytes.length), nameBytes);
  const data = tensor.data;
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  parts.push(varint((9 << 3) | 2), varint(raw.length), raw);
  fs.writeFileSync(file, Buffer.concat(parts));
}

// -------------------------------------------------------------------------------------------------

// Prints the median kernel time of each node over the profiled runs, in execution order, from
// the profile file in `dir` (then removes it). A node whose kernel ran fewer times than `runs`
// (a branch of control flow) gets its median over the runs it had.
function printProfile(dir, runs) {
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
  if (!file) fail('onnxruntime wrote no profile');
  const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  fs.rmSync(dir, { recursive: true, force: true });
  const nodes = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    if (!nodes.has(name)) nodes.set(name, { op: (e.args && e.args.op_name) || '?', us: [] });
    nodes.get(name).us.push(e.dur);
  }
  const median = (v) => {
    const s = [...v].sort((a, b) => a - b), n = s.length;
    return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  };
  const width = Math.max(4, ...[...nodes.keys()].map((k) => k.length));
  console.log(`profile: median kernel time per run over ${runs} runs (onnxruntime's profiler), us`);
  console.log(`  ${'node'.padEnd(width)}  ${'op'.padEnd(20)} ${'us'.padStart(10)}`);
  let total = 0;
  for (const [name, n] of nodes) {
    const us = median(n.us);
    total += us;
    console.log(`  ${name.padEnd(width)}  ${n.op.padEnd(20)} ${us.toFixed(1).padStart(10)}`);
  }
  console.log(`  ${'total'.padEnd(width)}  ${''.padEnd(20)} ${total.toFixed(1).padStart(10)}`);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    fail('onnxruntime-node is not installed (cd bench/ort && npm install --ignore-scripts)');
  }

  const files = fs.existsSync(options.inputs) ? fs.readdirSync(options.inputs) : null;
  if (!files) fail(`--inputs '${options.inputs}' is not a directory`);
  const inputFiles = files.filter((f) => /^input_[0-9]+\.pb$/.test(f))
    .sort((a, b) => parseInt(a.slice(6), 10) - parseInt(b.slice(6), 10));

  // onnxruntime writes its profile as PREFIX_<date>.json when profiling ends.
  const profileDir = options.profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'ort-profile-')) : null;
  const profilePrefix = profileDir ? path.join(profileDir, 'ort') : null;
  let session;
  try {
    session = await ort.InferenceSession.create(options.model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      ...(options.profile ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
    });
  } catch (e) {
    fail(`${options.model}: ${String(e.message || e).split('\n')[0]}`);
  }

  const names = session.inputNames;
  if (inputFiles.length !== names.length)
    fail(`${options.inputs}: ${inputFiles.length} input_K.pb files, ` +
         `model has ${names.length} inputs`);
  const feeds = {};
  inputFiles.forEach((f, k) => {
    let t;
    try {
      t = readTensorProto(path.join(options.inputs, f));
    } catch (e) {
      fail(`${path.join(options.inputs, f)}: ${e.message}`);
    }
    const name = names.includes(t.name) ? t.name : names[k];
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  });

  try {
    for (let i = 0; i < Math.max(1, options.warmup); ++i) await session.run(feeds);
    if (options.write) {
      const results = await session.run(feeds);
      fs.mkdirSync(options.write, { recursive: true });
      session.outputNames.forEach((n, k) =>
        writeTensorProto(path.join(options.write, `output_${k}.pb`), n, results[n]));
    }
    const times = [];
    for (let i = 0; i < options.bench; ++i) {
      const start = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    if (options.bench > 0) {
      times.sort((a, b) => a - b);
      const n = times.length;
      const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
      console.log(`latency: min ${times[0].toFixed(3)} ms, median ${median.toFixed(3)} ms, ` +
                  `max ${times[n - 1].toFixed(3)} ms (${n} runs)`);
    }
  } catch (e) {
    fail(`running '${options.model}': ${String(e.message || e).split('\n')[0]}`);
  }
  if (options.profile) {
    session.endProfiling();
    printProfile(profileDir, Math.max(1, options.warmup) + options.bench + (options.write ? 1 : 0));
  }
  await session.release();
}

main();
