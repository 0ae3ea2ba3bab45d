/**
 * Sign and verify credentials with Digital Bazaar's libraries, and check
 * their Bitstring Status List entries.
 *
 * This is the independent implementation microcred's interop tests compare
 * against, so it uses the libraries as their own docs show and adds nothing
 * but a closed document loader and a seed-to-key helper. The loader fetches
 * nothing, except that a status check may open it to one origin the caller
 * names (the service under test, on loopback).
 * Shared by dbvc.mjs (the CLI the Python tests call) and bench/js/bench.mjs.
 */
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {
  createSignCryptosuite as createJcsSignCryptosuite,
  createVerifyCryptosuite as createJcsVerifyCryptosuite
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {checkStatus as checkBitstringStatus} from
  '@digitalbazaar/vc-bitstring-status-list';
import jsigs from 'jsonld-signatures';

const {purposes: {AssertionProofPurpose}} = jsigs;

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..', '..');
const CONTEXTS_DIR = join(REPO, 'src', 'microcred', 'credentials', 'contexts');

const DID_V1 = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';
const ED25519_2020_V1 = 'https://w3id.org/security/suites/ed25519-2020/v1';

export const SUITES = ['eddsa-rdfc-2022', 'eddsa-jcs-2022',
  'Ed25519Signature2020'];

/** The status purposes `checkStatuses` always reports, present or not. */
export const STATUS_PURPOSES = ['revocation', 'suspension'];

// a status list of 131,072 one-bit entries is ~16 KB gzipped; 1 MiB is ample
const MAX_FETCH_BYTES = 1024 * 1024;
const FETCH_TIMEOUT_MS = 10000;
const FETCH_ACCEPT =
  'application/vc+ld+json, application/ld+json, application/json;q=0.9';

const MANIFEST = JSON.parse(
  readFileSync(join(CONTEXTS_DIR, 'manifest.json'), 'utf8'));
const contextCache = new Map();

/**
 * One of microcred's bundled contexts, refused if its file does not match
 * the manifest's sha256, so both sides provably canonicalize with the same
 * context documents. Checked on first use, as microcred's loader does.
 *
 * @param {string} url - Context URL.
 *
 * @returns {object|undefined} The parsed context, or undefined if the URL
 *   is not bundled.
 */
function bundledContext(url) {
  if(contextCache.has(url)) {
    return contextCache.get(url);
  }
  let bytes;
  if(Object.hasOwn(MANIFEST, url)) {
    const {file, sha256} = MANIFEST[url];
    bytes = readFileSync(join(CONTEXTS_DIR, file));
    const digest = createHash('sha256').update(bytes).digest('hex');
    if(digest !== sha256) {
      throw new Error(
        `Context file "${file}" for "${url}" does not match its sha256 ` +
        'in manifest.json.');
    }
  } else {
    return undefined;
  }
  const context = JSON.parse(bytes.toString('utf8'));
  contextCache.set(url, context);
  return context;
}

/**
 * Build the did:key document for an Ed25519 did:key, without a resolver
 * library: the method is a pure function of the key.
 *
 * @param {string} did - A `did:key:z6Mk...` identifier.
 * @param {object} [options] - Options.
 * @param {'Multikey'|'Ed25519VerificationKey2020'} [options.keyForm] - How
 *   to express the verification method; Multikey for Data Integrity,
 *   Ed25519VerificationKey2020 for the legacy Ed25519Signature2020 suite.
 *
 * @returns {object} The DID document.
 */
export function didKeyDocument(did, {keyForm = 'Multikey'} = {}) {
  const fingerprint = did.slice('did:key:'.length);
  if(!did.startsWith('did:key:z6Mk') || fingerprint.includes(':')) {
    throw new Error(`Not an Ed25519 did:key: "${did}".`);
  }
  const keyContext = keyForm === 'Multikey' ? MULTIKEY_V1 : ED25519_2020_V1;
  const vmId = `${did}#${fingerprint}`;
  return {
    '@context': [DID_V1, keyContext],
    id: did,
    verificationMethod: [{
      id: vmId,
      type: keyForm,
      controller: did,
      publicKeyMultibase: fingerprint
    }],
    authentication: [vmId],
    assertionMethod: [vmId],
    capabilityDelegation: [vmId],
    capabilityInvocation: [vmId]
  };
}

/**
 * Refuse a did:key whose fingerprint is not a 32-byte Ed25519 public key,
 * rather than hand the verifier a document built around garbage.
 *
 * @param {object} verificationMethod - From didKeyDocument.
 */
async function assertEd25519Fingerprint(verificationMethod) {
  let publicKey;
  try {
    const key = await Ed25519Multikey.from(
      {...verificationMethod, type: 'Multikey'});
    ({publicKey} = await key.export({publicKey: true, raw: true}));
  } catch{
    publicKey = undefined;
  }
  if(!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new Error(
      `did:key "${verificationMethod.controller}" does not encode an ` +
      'Ed25519 public key.');
  }
}

/**
 * Parse an origin such as `http://localhost:8123`, so a loader can compare
 * it with each URL's origin exactly.
 *
 * @param {string} origin - An http(s) origin: scheme, host and optional
 *   port, nothing else (a trailing slash is tolerated).
 *
 * @returns {string} The origin as `URL.origin` spells it.
 */
export function parseOrigin(origin) {
  let url;
  try {
    url = new URL(origin);
  } catch{
    throw new TypeError(`"${origin}" is not a URL.`);
  }
  if(!['http:', 'https:'].includes(url.protocol) ||
    url.username || url.password || url.search || url.hash ||
    url.pathname !== '/') {
    throw new TypeError(
      `"${origin}" is not an http(s) origin such as http://localhost:8123.`);
  }
  return url.origin;
}

/**
 * GET a JSON document from the one origin a status check may reach.
 * Redirects are refused (they could lead anywhere), as are bodies over
 * MAX_FETCH_BYTES (announced, or found once read) and fetches slower than
 * FETCH_TIMEOUT_MS.
 *
 * @param {string} url - Already checked to be on the allowed origin.
 *
 * @returns {Promise<object>} The parsed document.
 */
async function fetchJson(url) {
  const response = await fetch(url, {
    headers: {accept: FETCH_ACCEPT},
    redirect: 'error',
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS)
  });
  if(!response.ok) {
    throw new Error(`GET ${url} answered HTTP ${response.status}.`);
  }
  if(Number(response.headers.get('content-length')) > MAX_FETCH_BYTES) {
    throw new Error(`GET ${url} announced more than ${MAX_FETCH_BYTES} bytes.`);
  }
  const body = await response.text();
  if(Buffer.byteLength(body, 'utf8') > MAX_FETCH_BYTES) {
    throw new Error(`GET ${url} sent more than ${MAX_FETCH_BYTES} bytes.`);
  }
  try {
    return JSON.parse(body);
  } catch(e) {
    throw new Error(`GET ${url} did not answer JSON: ${e.message}`);
  }
}

/**
 * A document loader that serves only microcred's bundled contexts, the DID
 * documents it is given and did:key documents. Every other URL throws, so
 * nothing is fetched, unless `allowOrigin` is set: then http(s) URLs on
 * exactly that origin are fetched (status lists of the service under test).
 *
 * @param {object} [options] - Options.
 * @param {string} [options.keyForm] - Passed to didKeyDocument.
 * @param {object} [options.didDocuments] - `{did: DID document}`, served
 *   as given (did:web is never resolved).
 * @param {string} [options.allowOrigin] - The one origin that may be
 *   fetched (see parseOrigin); by default none.
 *
 * @returns {Function} An async `documentLoader(url)`.
 */
export function createDocumentLoader({
  keyForm = 'Multikey', didDocuments = {}, allowOrigin
} = {}) {
  const origin = allowOrigin === undefined ?
    undefined : parseOrigin(allowOrigin);
  return async function documentLoader(url) {
    const context = bundledContext(url);
    if(context !== undefined) {
      return {contextUrl: null, documentUrl: url, document: context};
    }
    const [base, hash] = url.split('#');
    if(Object.hasOwn(didDocuments, base)) {
      // a did:web document handed over by the caller (no resolution, no fetch)
      const didDocument = didDocuments[base];
      if(hash === undefined) {
        return {contextUrl: null, documentUrl: url, document: didDocument};
      }
      const vm = (didDocument.verificationMethod || []).find(m => m.id === url);
      if(!vm) {
        throw new Error(`${base} has no verification method "${url}".`);
      }
      return {
        contextUrl: null, documentUrl: url,
        document: {'@context': didDocument['@context'], ...vm}
      };
    }
    if(url.startsWith('did:key:')) {
      const [did, fragment] = url.split('#');
      const didDocument = didKeyDocument(did, {keyForm});
      await assertEd25519Fingerprint(didDocument.verificationMethod[0]);
      let document = didDocument;
      if(fragment !== undefined) {
        document = didDocument.verificationMethod.find(vm => vm.id === url);
        if(!document) {
          throw new Error(`did:key has no verification method "${url}".`);
        }
        document = {'@context': didDocument['@context'][1], ...document};
      }
      return {contextUrl: null, documentUrl: url, document};
    }
    if(origin !== undefined && /^https?:/i.test(url)) {
      if(URL.canParse(url) && new URL(url).origin === origin) {
        const document = await fetchJson(url);
        return {contextUrl: null, documentUrl: url, document};
      }
      throw new Error(
        `Document loader refuses to fetch "${url}": only ${origin} may be ` +
        'fetched.');
    }
    throw new Error(`Document loader refuses to load URL "${url}".`);
  };
}

/**
 * Turn a 32-byte Ed25519 seed into a Multikey key pair whose id is
 * `did:key:<fp>#<fp>`.
 *
 * @param {Uint8Array} seed - 32-byte seed.
 *
 * @returns {Promise<object>} An ed25519-multikey key pair with a signer.
 */
export async function keyPairFromSeed(seed) {
  if(!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new TypeError('An Ed25519 seed must be 32 bytes.');
  }
  const derived = await Ed25519Multikey.generate({seed});
  const {publicKeyMultibase, secretKeyMultibase} = await derived.export(
    {publicKey: true, secretKey: true, includeContext: false});
  const controller = `did:key:${publicKeyMultibase}`;
  return Ed25519Multikey.from({
    type: 'Multikey',
    publicKeyMultibase,
    secretKeyMultibase,
    controller,
    id: `${controller}#${publicKeyMultibase}`
  });
}

/**
 * Parse a hex seed, so CLI callers pass exactly what keyPair.json holds.
 *
 * @param {string} hex - 64 hex characters.
 *
 * @returns {Uint8Array} The 32-byte seed.
 */
export function seedFromHex(hex) {
  if(typeof hex !== 'string' || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new TypeError('The seed must be 64 hex characters.');
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function createSuite({suite, signer, date}) {
  switch(suite) {
    case 'eddsa-rdfc-2022':
      return new DataIntegrityProof({signer, date, cryptosuite: eddsaRdfc2022});
    case 'eddsa-jcs-2022':
      return new DataIntegrityProof(
        {signer, date, cryptosuite: createJcsSignCryptosuite()});
    case 'Ed25519Signature2020':
      return new Ed25519Signature2020({signer, date});
    default:
      throw new TypeError(
        `Unknown suite "${suite}"; expected one of ${SUITES.join(', ')}.`);
  }
}

/**
 * Sign a credential with `vc.issue`. The caller sets `issuer`; a
 * Ed25519Signature2020 proof gets its suite context appended by jsigs.
 *
 * @param {object} credential - The unsigned credential (not modified).
 * @param {object} options - Options.
 * @param {string} options.suite - One of SUITES.
 * @param {object} options.keyPair - From keyPairFromSeed.
 * @param {string} [options.created] - Proof `created`; defaults to now.
 * @param {Function} [options.documentLoader] - Defaults to ours.
 * @param {string} [options.proofId] - The new proof's `id`.
 * @param {string|Array<string>} [options.previousProof] - Chain the new
 *   proof to these proof ids (a proof chain); without it, a credential
 *   that already has proofs gets one more (a proof set).
 *
 * @returns {Promise<object>} The signed credential.
 */
export async function sign(credential, {
  suite, keyPair, created, documentLoader, proofId, previousProof
}) {
  const keyForm = suite === 'Ed25519Signature2020' ?
    'Ed25519VerificationKey2020' : 'Multikey';
  const signingSuite = createSuite(
    {suite, signer: keyPair.signer(), date: created});
  if(proofId !== undefined) {
    // DataIntegrityProof starts each new proof from a copy of `suite.proof`
    signingSuite.proof = {id: proofId};
  }
  documentLoader = documentLoader ?? createDocumentLoader({keyForm});
  if(previousProof !== undefined) {
    return addChainedProof(credential, {
      suite: signingSuite, previousProof, documentLoader});
  }
  // a credential that already has a proof gets one more: a proof set
  return vc.issue({
    credential: structuredClone(credential), suite: signingSuite,
    documentLoader
  });
}

/**
 * Add a proof that chains to earlier ones (Data Integrity 1.0 §4.3 "Add
 * Proof Set/Chain"): the new proof names them in `previousProof` and signs
 * the document carrying them. jsonld-signatures 11 makes proof sets only,
 * so the chain step is done here; the proof itself is the suite's own
 * `createProof`.
 *
 * @param {object} credential - A signed credential (not modified).
 * @param {object} options - Options.
 * @param {object} options.suite - A DataIntegrityProof suite with a signer.
 * @param {string|Array<string>} options.previousProof - Proof id(s).
 * @param {Function} options.documentLoader - The loader.
 *
 * @returns {Promise<object>} The credential with the proof appended.
 */
async function addChainedProof(credential, {
  suite, previousProof, documentLoader
}) {
  const allProofs = [].concat(credential.proof ?? []);
  const ids = [].concat(previousProof);
  const matching = allProofs.filter(p => ids.includes(p.id));
  if(matching.length !== ids.length) {
    throw new TypeError(`previousProof ${ids} names no proof of the input.`);
  }
  suite.proof = {...suite.proof, previousProof};
  const input = structuredClone(credential);
  input.proof = matching;
  const proof = await suite.createProof({
    document: input,
    purpose: new vc.CredentialIssuancePurpose(),
    proofSet: allProofs,
    documentLoader
  });
  return {...structuredClone(credential), proof: [...allProofs, proof]};
}

/**
 * Sign a presentation with `vc.signPresentation`: an `authentication`
 * proof answering the verifier's challenge (and naming its domain). The
 * caller builds the presentation (its `holder`, its credentials); a VC 1.1
 * presentation gets the Data Integrity context added, as for credentials.
 *
 * @param {object} presentation - The unsigned presentation (not modified).
 * @param {object} options - Options.
 * @param {string} options.suite - 'eddsa-rdfc-2022' or 'eddsa-jcs-2022'.
 * @param {object} options.keyPair - From keyPairFromSeed.
 * @param {string} options.challenge - The verifier's challenge.
 * @param {string} [options.domain] - The verifier's domain.
 * @param {string} [options.created] - Proof `created`; defaults to now.
 *
 * @returns {Promise<object>} The signed presentation.
 */
export async function signPresentation(presentation, {
  suite, keyPair, challenge, domain, created
}) {
  if(!['eddsa-rdfc-2022', 'eddsa-jcs-2022'].includes(suite)) {
    throw new TypeError(
      `Presentations are signed with eddsa-rdfc-2022 or eddsa-jcs-2022, ` +
      `not "${suite}".`);
  }
  return vc.signPresentation({
    presentation: structuredClone(presentation),
    suite: createSuite({suite, signer: keyPair.signer(), date: created}),
    challenge,
    domain,
    documentLoader: createDocumentLoader()
  });
}

/**
 * Collect the messages of an error and the errors it wraps, since jsigs
 * reports failures as nested aggregates.
 *
 * @param {Error|undefined} error - The error.
 *
 * @returns {string|null} One line, or null when there is no error.
 */
function describeError(error) {
  if(!error) {
    return null;
  }
  const messages = [];
  const visit = e => {
    if(!e) {
      return;
    }
    if(Array.isArray(e.errors) && e.errors.length > 0) {
      e.errors.forEach(visit);
    } else {
      const message = e.message || String(e);
      messages.push(message);
      // jsonld wraps loader failures; the cause says which URL was refused
      // (status-list errors already quote their cause's message)
      const cause = e.details?.cause ?? e.cause;
      if(!(cause?.message && message.includes(cause.message))) {
        visit(cause);
      }
    }
  };
  visit(error);
  return [...new Set(messages)].join(' <- ');
}

/**
 * Every suite this harness verifies, for vc.verifyCredential and for the
 * status list credentials checkStatus verifies.
 *
 * @returns {Array<object>} Fresh suite instances.
 */
function verificationSuites() {
  return [
    new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
    new DataIntegrityProof({cryptosuite: createJcsVerifyCryptosuite()}),
    new Ed25519Signature2020()
  ];
}

function proofTypes(credential) {
  const proofs = [].concat(credential.proof ?? []);
  return proofs.map(p => p?.type);
}

/**
 * Verify a credential with `vc.verifyCredential`; status is not checked
 * here (checkStatuses does that).
 *
 * @param {object} credential - The signed credential.
 * @param {object} [options] - Options.
 * @param {'issuance'|'assertion'} [options.purpose] - 'issuance' (vc's
 *   default CredentialIssuancePurpose: assertionMethod plus issuer must be
 *   the key's controller) or 'assertion' (plain AssertionProofPurpose).
 * @param {string} [options.now] - Date to check validity against.
 * @param {object} [options.didDocuments] - `{did: DID document}`.
 *
 * @returns {Promise<{verified: boolean, error: string|null}>} The outcome.
 */
export async function verify(
  credential, {purpose = 'issuance', now, didDocuments = {}} = {}) {
  const legacy = proofTypes(credential).includes('Ed25519Signature2020');
  const documentLoader = createDocumentLoader({
    keyForm: legacy ? 'Ed25519VerificationKey2020' : 'Multikey', didDocuments
  });
  const options = {credential, suite: verificationSuites(), documentLoader};
  if(purpose === 'assertion') {
    options.purpose = new AssertionProofPurpose();
  } else if(purpose !== 'issuance') {
    throw new TypeError(`Unknown purpose "${purpose}".`);
  }
  if(now !== undefined) {
    options.now = now;
  }
  if(credential && credential.credentialStatus) {
    // vc insists on a status checker when credentialStatus is present;
    // status is microcred's own concern, so this harness accepts it as is
    options.checkStatus = async () => ({verified: true});
  }
  const result = await vc.verifyCredential(options);
  return {
    verified: result.verified === true,
    error: result.verified ? null : describeError(result.error) ??
      describeError(result.results?.find(r => !r.verified)?.error) ??
      'not verified'
  };
}

/**
 * Check a credential's Bitstring Status List entries with
 * vc-bitstring-status-list's `checkStatus`, once per status purpose, so a
 * list that cannot be read for one purpose does not hide the other. The
 * library fetches each list through our loader, verifies its proof (the
 * issuer's key from `didDocuments`) and that its issuer and purpose match.
 *
 * @param {object} credential - The credential (its proof is not checked
 *   here; see `verify`).
 * @param {object} options - Options.
 * @param {object} [options.didDocuments] - `{did: DID document}`.
 * @param {string} options.allowOrigin - The one origin status lists may be
 *   fetched from; any other URL is refused.
 *
 * @returns {Promise<{status: object, statusErrors: object}>} `status` maps
 *   each purpose (revocation and suspension always, others when present)
 *   to true (bit set), false (bit clear) or null (no entry, or the check
 *   failed: `statusErrors` says why).
 */
export async function checkStatuses(
  credential, {didDocuments = {}, allowOrigin} = {}) {
  if(allowOrigin === undefined) {
    throw new TypeError('"allowOrigin" is required to check status.');
  }
  const documentLoader = createDocumentLoader({didDocuments, allowOrigin});
  const entries = [].concat(credential?.credentialStatus ?? []).filter(
    entry => entry && typeof entry === 'object' &&
      typeof entry.statusPurpose === 'string');
  const purposes = [...new Set(
    [...STATUS_PURPOSES, ...entries.map(entry => entry.statusPurpose)])];
  const status = {};
  const statusErrors = {};
  for(const purpose of purposes) {
    const group = entries.filter(entry => entry.statusPurpose === purpose);
    if(group.length === 0) {
      status[purpose] = null;
      statusErrors[purpose] =
        `no credentialStatus entry has statusPurpose "${purpose}"`;
      continue;
    }
    const result = await checkBitstringStatus({
      credential: {
        ...credential,
        credentialStatus: group.length === 1 ? group[0] : group
      },
      documentLoader,
      suite: verificationSuites()
    });
    if(result.verified) {
      status[purpose] = result.results.some(r => r.status === true);
    } else {
      status[purpose] = null;
      statusErrors[purpose] = describeError(result.error) ??
        'status not checked';
    }
  }
  return {status, statusErrors};
}

/**
 * Verify a credential as `verify` does, then check its status entries as
 * `checkStatuses` does. Status is checked even when the proof fails, so a
 * caller sees both answers; only a verified credential's status means
 * anything.
 *
 * @param {object} credential - The signed credential.
 * @param {object} options - Options.
 * @param {object} [options.didDocuments] - `{did: DID document}`.
 * @param {string} options.allowOrigin - See checkStatuses.
 *
 * @returns {Promise<{verified: boolean, error: string|null, status: object,
 *   statusErrors: object}>} The outcome.
 */
export async function verifyWithStatus(
  credential, {didDocuments = {}, allowOrigin} = {}) {
  const {verified, error} = await verify(credential, {didDocuments});
  const {status, statusErrors} = await checkStatuses(
    credential, {didDocuments, allowOrigin});
  return {verified, error, status, statusErrors};
}
