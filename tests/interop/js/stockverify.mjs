#!/usr/bin/env node
/**
 * Verify one credential the way a stock verifier does: with only the
 * contexts its loader ships, and no context handed to it by us.
 *
 *   node stockverify.mjs --origin http://localhost:8123 < credential.json
 *
 * Two verifiers run on the credential from stdin:
 *
 * - "verifierCore": @digitalcredentials/verifier-core's verifyCredential, as
 *   VerifierPlus and the Learner Credential Wallet call it (its own loader,
 *   which may fetch unknown contexts over the network), with no issuer
 *   registries (so it looks nothing up).
 * - "digitalBazaar": @digitalbazaar/vc's verifyCredential with Digital
 *   Bazaar's eddsa-rdfc-2022 suite and the stock loader of
 *   @digitalcredentials/security-document-loader (`securityLoader().build()`:
 *   VC 1.1/2.0, Data Integrity, Bitstring Status List, OB 3.0.x, DID, Ed25519
 *   2020 contexts; no remote contexts). Digital Bazaar's own `vc` default
 *   loader ships only the VC contexts, so it cannot read any OB 3.0
 *   credential; that loader is what wallets put beside it. Status is not
 *   checked on this side (verifierCore checks it).
 *
 * The network is the service under test and nothing else: Node's fetch is
 * replaced before any verifier is loaded. did:web resolves over https, so a
 * request to https://<origin host> goes to --origin (plain http on loopback);
 * requests to --origin itself go there too; every other URL fails as an
 * unreachable host would, and is listed in "refused".
 *
 * Exits 0 with {"verifierCore": {...}, "digitalBazaar": {...},
 * "refused": [url, ...]}; exit 2 on unusable input.
 */
import {parseArgs} from 'node:util';
import {text} from 'node:stream/consumers';

const {values} = parseArgs({options: {origin: {type: 'string'}}});
if(!values.origin || !/^http:\/\/(localhost|127\.0\.0\.1):\d+$/.test(values.origin)) {
  console.error('usage: stockverify.mjs --origin http://localhost:<port> < credential.json');
  process.exit(2);
}
const origin = new URL(values.origin);
const refused = [];
const realFetch = globalThis.fetch;

/** Route a request to the service under test, or refuse it. */
function route(input) {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  if(url.host === origin.host && (url.protocol === 'https:' || url.protocol === 'http:')) {
    return new URL(url.pathname + url.search, origin).href;
  }
  return null;
}

globalThis.fetch = async function offlineFetch(input, init) {
  const target = route(input);
  if(target === null) {
    const url = typeof input === 'string' ? input : (input.href ?? input.url);
    refused.push(url);
    throw new TypeError(`fetch failed: ${url} is off the test network`);
  }
  const headers = input instanceof Request ? input.headers : init?.headers;
  const method = input instanceof Request ? input.method : init?.method;
  return realFetch(target, {method, headers, signal: init?.signal ?? input?.signal});
};

let credential;
try {
  credential = JSON.parse(await text(process.stdin));
} catch(e) {
  console.error(`stdin is not JSON: ${e.message}`);
  process.exit(2);
}

const {verifyCredential: verifierCoreVerify} = await import('@digitalcredentials/verifier-core');
const vc = await import('@digitalbazaar/vc');
const {DataIntegrityProof} = await import('@digitalbazaar/data-integrity');
const {cryptosuite: eddsaRdfc2022} = await import('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
const {securityLoader} = await import('@digitalcredentials/security-document-loader');

// verifier-core logs schema-fetch failures with console.*; keep stdout JSON
const logged = [];
for(const level of ['log', 'error', 'warn']) {
  console[level] = (...args) => logged.push(args.map(String).join(' '));
}

async function verifierCore() {
  const result = await verifierCoreVerify({credential, knownDIDRegistries: []});
  const errors = (result.errors ?? []).map(e => ({name: e.name, message: e.message}));
  const log = (result.log ?? []).map(step => ({
    id: step.id, valid: step.valid ?? null,
    ...(step.error ? {error: step.error.message ?? String(step.error)} : {})
  }));
  const signature = log.find(s => s.id === 'valid_signature');
  return {verified: errors.length === 0 && signature?.valid === true, errors, log};
}

async function digitalBazaar() {
  const options = {
    credential,
    suite: new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
    documentLoader: securityLoader().build()
  };
  if(credential.credentialStatus) {
    options.checkStatus = async () => ({verified: true});
  }
  const result = await vc.verifyCredential(options);
  const failure = result.error ?? result.results?.find(r => !r.verified)?.error;
  const messages = failure?.errors ? failure.errors.map(e => e.message) : failure ? [failure.message] : [];
  return {verified: result.verified === true, errors: messages};
}

const out = {
  verifierCore: await verifierCore(),
  digitalBazaar: await digitalBazaar(),
  refused,
  logged
};
process.stdout.write(JSON.stringify(out) + '\n');
