#!/usr/bin/env node
/**
 * CLI over lib.mjs so microcred's Python tests can sign and verify with
 * Digital Bazaar's libraries: JSON in on stdin, JSON out on stdout.
 *
 *   node dbvc.mjs sign --suite eddsa-rdfc-2022|eddsa-jcs-2022|Ed25519Signature2020
 *                      --seed <64 hex> [--created 2025-01-15T09:00:00Z]
 *                      [--proof-id <id>] [--previous-proof <id>]...
 *   node dbvc.mjs sign-presentation --suite eddsa-rdfc-2022|eddsa-jcs-2022
 *                      --seed <64 hex> --challenge <text> [--domain <text>]
 *                      [--created 2025-01-15T09:00:00Z]
 *   node dbvc.mjs verify [--purpose issuance|assertion] [--now <date>]
 *                        [--did-documents <file: {did: DID document}>]
 *   node dbvc.mjs status --allow-origin <origin, e.g. http://localhost:8123>
 *                        [--did-documents <file: {did: DID document}>]
 *
 * sign signs a VC 1.1 or VC 2.0 credential (the input's first @context
 * decides) with the did:key of the seed; an input that is already signed
 * gets one more proof (a proof set), or with --previous-proof a proof that
 * chains to the named proofs (a proof chain); sign-presentation signs a
 * presentation (authentication proof, with the challenge and domain).
 * verify always exits 0 with {"verified": bool, "error": string|null}; it
 * never checks status and fetches nothing.
 * status verifies as verify does, then runs vc-bitstring-status-list's
 * checkStatus once per statusPurpose, fetching status lists over HTTP from
 * the --allow-origin origin only (any other URL is refused). It exits 0 with
 * {"verified": bool, "error": string|null,
 *  "status": {"revocation": bool|null, "suspension": bool|null, ...},
 *  "statusErrors": {purpose: string}}: true means the bit is set (revoked,
 * suspended), null that the purpose has no entry or could not be checked,
 * and statusErrors says why for each null.
 * Exit 2 means unusable input (bad arguments or JSON), exit 1 a failure
 * to sign or to run.
 */
import {parseArgs} from 'node:util';
import {text} from 'node:stream/consumers';
import {readFile} from 'node:fs/promises';

import {
  SUITES, keyPairFromSeed, parseOrigin, seedFromHex, sign, signPresentation,
  verify, verifyWithStatus
} from './lib.mjs';

class UsageError extends Error {}

const OPTIONS = {
  sign: {
    suite: {type: 'string'},
    seed: {type: 'string'},
    created: {type: 'string'},
    'proof-id': {type: 'string'},
    'previous-proof': {type: 'string', multiple: true}
  },
  'sign-presentation': {
    suite: {type: 'string'},
    seed: {type: 'string'},
    challenge: {type: 'string'},
    domain: {type: 'string'},
    created: {type: 'string'}
  },
  verify: {
    purpose: {type: 'string', default: 'issuance'},
    now: {type: 'string'},
    'did-documents': {type: 'string'}
  },
  status: {
    'allow-origin': {type: 'string'},
    'did-documents': {type: 'string'}
  }
};

function parse(argv) {
  const [command, ...rest] = argv;
  if(!Object.hasOwn(OPTIONS, command)) {
    throw new UsageError(
      'usage: dbvc.mjs sign|sign-presentation|verify|status [options] ' +
      '< input.json');
  }
  try {
    const {values} = parseArgs({args: rest, options: OPTIONS[command]});
    return {command, values};
  } catch(e) {
    throw new UsageError(e.message);
  }
}

async function readCredential() {
  let credential;
  try {
    credential = JSON.parse(await text(process.stdin));
  } catch(e) {
    throw new UsageError(`stdin is not JSON: ${e.message}`);
  }
  if(credential === null || typeof credential !== 'object' ||
    Array.isArray(credential)) {
    throw new UsageError('stdin must hold one JSON object.');
  }
  return credential;
}

async function readDidDocuments(file) {
  if(file === undefined) {
    return {};
  }
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch(e) {
    throw new UsageError(`--did-documents: ${e.message}`);
  }
}

function signingKey(values, suites) {
  if(!suites.includes(values.suite)) {
    throw new UsageError(`--suite must be one of ${suites.join(', ')}.`);
  }
  let seed;
  try {
    seed = seedFromHex(values.seed);
  } catch(e) {
    throw new UsageError(`--seed: ${e.message}`);
  }
  if(values.created !== undefined && isNaN(new Date(values.created))) {
    throw new UsageError(`--created is not a date: "${values.created}".`);
  }
  return keyPairFromSeed(seed);
}

async function main() {
  const {command, values} = parse(process.argv.slice(2));
  if(command === 'sign') {
    const keyPair = await signingKey(values, SUITES);
    const credential = await readCredential();
    const previous = values['previous-proof'];
    const signed = await sign(credential, {
      suite: values.suite, keyPair, created: values.created,
      proofId: values['proof-id'],
      previousProof: previous?.length === 1 ? previous[0] : previous
    });
    process.stdout.write(JSON.stringify(signed, null, 2) + '\n');
    return 0;
  }
  if(command === 'sign-presentation') {
    const keyPair = await signingKey(
      values, ['eddsa-rdfc-2022', 'eddsa-jcs-2022']);
    if(values.challenge === undefined) {
      throw new UsageError('--challenge is required: the verifier\'s challenge.');
    }
    const presentation = await readCredential();
    const signed = await signPresentation(presentation, {
      suite: values.suite, keyPair, challenge: values.challenge,
      domain: values.domain, created: values.created
    });
    process.stdout.write(JSON.stringify(signed, null, 2) + '\n');
    return 0;
  }
  if(command === 'status') {
    if(values['allow-origin'] === undefined) {
      throw new UsageError(
        '--allow-origin is required: the one origin status lists may be ' +
        'fetched from, e.g. http://localhost:8123.');
    }
    let allowOrigin;
    try {
      allowOrigin = parseOrigin(values['allow-origin']);
    } catch(e) {
      throw new UsageError(`--allow-origin: ${e.message}`);
    }
    const didDocuments = await readDidDocuments(values['did-documents']);
    const credential = await readCredential();
    const result = await verifyWithStatus(
      credential, {didDocuments, allowOrigin});
    process.stdout.write(JSON.stringify(result) + '\n');
    return 0;
  }
  if(!['issuance', 'assertion'].includes(values.purpose)) {
    throw new UsageError('--purpose must be issuance or assertion.');
  }
  if(values.now !== undefined && isNaN(new Date(values.now))) {
    throw new UsageError(`--now is not a date: "${values.now}".`);
  }
  const didDocuments = await readDidDocuments(values['did-documents']);
  const credential = await readCredential();
  const result = await verify(
    credential, {purpose: values.purpose, now: values.now, didDocuments});
  process.stdout.write(JSON.stringify(result) + '\n');
  return 0;
}

main().then(code => {
  process.exitCode = code;
}, error => {
  process.stderr.write(`dbvc: ${error.message}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
