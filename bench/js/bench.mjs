#!/usr/bin/env node
/**
 * Baseline for microcred's signing benchmark: Digital Bazaar's libraries
 * signing and verifying the OB 3.0 vector with eddsa-rdfc-2022 on one core
 * (Node runs JavaScript on one thread; no workers are started).
 *
 *   node bench/js/bench.mjs [--n 300] [--warmup 10] [--suite eddsa-rdfc-2022]
 *                           [--input unsigned.json]
 *     -> {"sign_per_s": ..., "verify_per_s": ..., "n": ..., ...}
 *     (--input: another unsigned credential, issued by the vector key's did:key)
 *   node bench/js/bench.mjs proof-value [--suite ...] [--created ...]
 *     -> {"proofValue": "z...", ...} for the vector with a fixed `created`,
 *        so the Python bench can confirm both sides sign byte for byte alike.
 *
 * It reuses the interop harness (tests/interop/js/lib.mjs) and therefore
 * its pinned install: one lockfile, one `npm ci --prefix tests/interop/js`,
 * and the bench measures exactly the code the interop tests trust.
 */
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {parseArgs} from 'node:util';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HARNESS = join(REPO, 'tests', 'interop', 'js');
const VECTOR = join(REPO, 'tests', 'vectors', 'ob3-eddsa-rdfc-2022');
const DEFAULT_CREATED = '2025-01-15T09:00:00Z';

let harness;
try {
  harness = await import(pathToFileURL(join(HARNESS, 'lib.mjs')).href);
} catch(error) {
  if(error.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write(
      'bench: the JavaScript harness is not installed; run ' +
      '`npm ci --prefix tests/interop/js`\n');
    process.exit(2);
  }
  throw error;
}
const {keyPairFromSeed, seedFromHex, sign, verify, SUITES} = harness;

const {positionals, values} = parseArgs({
  allowPositionals: true,
  options: {
    n: {type: 'string', default: '300'},
    warmup: {type: 'string', default: '10'},
    suite: {type: 'string', default: 'eddsa-rdfc-2022'},
    created: {type: 'string', default: DEFAULT_CREATED},
    input: {type: 'string'}
  }
});
const mode = positionals[0] ?? 'bench';
if(!['bench', 'proof-value'].includes(mode) || !SUITES.includes(values.suite)) {
  process.stderr.write(
    'usage: bench.mjs [proof-value] [--n N] [--warmup N] ' +
    `[--suite ${SUITES.join('|')}] [--created DATE] [--input FILE]\n`);
  process.exit(2);
}

const unsigned = JSON.parse(
  readFileSync(values.input ?? join(VECTOR, 'unsigned.json'), 'utf8'));
const {seedHex} = JSON.parse(readFileSync(join(VECTOR, 'keyPair.json'), 'utf8'));
const keyPair = await keyPairFromSeed(seedFromHex(seedHex));
const {suite, created} = values;

if(mode === 'proof-value') {
  const signed = await sign(unsigned, {suite, keyPair, created});
  process.stdout.write(JSON.stringify(
    {proofValue: signed.proof.proofValue, suite, created}) + '\n');
  process.exit(0);
}

const n = Number.parseInt(values.n, 10);
const warmup = Number.parseInt(values.warmup, 10);
if(!(n > 0) || !(warmup >= 0)) {
  process.stderr.write('bench: --n must be > 0 and --warmup >= 0\n');
  process.exit(2);
}

/** A fresh credential id per signature, so no layer can reuse a result. */
function credential(i) {
  const serial = i.toString(16).padStart(12, '0');
  return {...unsigned, id: `urn:uuid:6f1c2b9e-3a4d-4f5e-8a7b-${serial}`};
}

async function timed(count, fn) {
  const start = process.hrtime.bigint();
  for(let i = 0; i < count; i++) {
    await fn(i);
  }
  return Number(process.hrtime.bigint() - start) / 1e9;
}

// warm the JIT and jsonld's context cache; these are not measured
for(let i = 0; i < warmup; i++) {
  await verify(await sign(credential(n + i), {suite, keyPair, created}));
}

const signed = new Array(n);
const signSeconds = await timed(n, async i => {
  signed[i] = await sign(credential(i), {suite, keyPair, created});
});
let failures = 0;
const verifySeconds = await timed(n, async i => {
  const {verified} = await verify(signed[i]);
  failures += verified ? 0 : 1;
});
if(failures > 0) {
  process.stderr.write(`bench: ${failures} of ${n} credentials did not verify\n`);
  process.exit(1);
}
const round = x => Math.round(x * 10) / 10;
process.stdout.write(JSON.stringify({
  sign_per_s: round(n / signSeconds),
  verify_per_s: round(n / verifySeconds),
  n,
  suite,
  node: process.version
}) + '\n');
