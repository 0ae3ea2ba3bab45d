#!/usr/bin/env node
/**
 * dbvc.mjs's sign and verify as a long-lived process: one JSON request per
 * line on stdin, one JSON answer per line on stdout, in order. For tests
 * that make hundreds of credentials (the property tests), where starting
 * Node for each would take most of the time.
 *
 *   {"command": "sign", "suite": "eddsa-rdfc-2022", "seed": "<64 hex>",
 *    "created": "2025-01-15T09:00:00Z", "document": {...}}
 *     -> {"ok": true, "result": <signed credential>}
 *   {"command": "verify", "document": {...}}
 *     -> {"ok": true, "result": {"verified": bool, "error": string|null}}
 *
 * A request that fails answers {"ok": false, "error": "<message>"}; the
 * process carries on. It ends when stdin closes.
 */
import {createInterface} from 'node:readline';

import {SUITES, keyPairFromSeed, seedFromHex, sign, verify} from './lib.mjs';

const keyPairs = new Map();

async function keyPair(hex) {
  if(!keyPairs.has(hex)) {
    keyPairs.set(hex, await keyPairFromSeed(seedFromHex(hex)));
  }
  return keyPairs.get(hex);
}

async function answer(request) {
  const {command, document} = request;
  if(command === 'sign') {
    if(!SUITES.includes(request.suite)) {
      throw new Error(`suite must be one of ${SUITES.join(', ')}.`);
    }
    return sign(document, {
      suite: request.suite, keyPair: await keyPair(request.seed),
      created: request.created
    });
  }
  if(command === 'verify') {
    return verify(document, {purpose: request.purpose ?? 'issuance'});
  }
  throw new Error(`unknown command "${command}".`);
}

const lines = createInterface({input: process.stdin, crlfDelay: Infinity});
for await (const line of lines) {
  if(!line.trim()) {
    continue;
  }
  let reply;
  try {
    reply = {ok: true, result: await answer(JSON.parse(line))};
  } catch(e) {
    reply = {ok: false, error: String(e?.message ?? e)};
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
