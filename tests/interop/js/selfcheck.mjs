#!/usr/bin/env node
/**
 * Check the harness itself against the published vectors before trusting
 * it to judge microcred: `npm test --prefix tests/interop/js`.
 * Exits 1 and names every failed check.
 */
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

import {
  createDocumentLoader, didKeyDocument, keyPairFromSeed, seedFromHex, sign,
  verify
} from './lib.mjs';

const VECTORS = join(
  dirname(fileURLToPath(import.meta.url)), '..', '..', 'vectors');
const read = path => JSON.parse(readFileSync(join(VECTORS, path), 'utf8'));
const CREATED = '2025-01-15T09:00:00Z';

const keyInfo = read('ob3-eddsa-rdfc-2022/keyPair.json');
const keyPair = await keyPairFromSeed(seedFromHex(keyInfo.seedHex));

function tamperAchievementName(credential) {
  const copy = structuredClone(credential);
  const {achievement} = copy.credentialSubject;
  achievement.name = achievement.name.replace(/s$/, 'z');
  return copy;
}

const checks = {
  async 'key from the vector seed has the vector id'() {
    assert.equal(keyPair.id, keyInfo.verificationMethod);
    assert.equal(keyPair.publicKeyMultibase, keyInfo.publicKeyMultibase);
  },
  async 'did:key document equals did-method-key output'() {
    assert.deepEqual(
      didKeyDocument(keyInfo.did), read('ob3-eddsa-rdfc-2022/didDocument.json'));
  },
  async 'loader refuses URLs it does not bundle'() {
    const load = createDocumentLoader();
    await assert.rejects(load('https://example.org/context.json'), /refuses/);
  },
  async 'credential with an unbundled context does not verify'() {
    const signed = read('ob3-eddsa-rdfc-2022/signed.json');
    signed['@context'] = [...signed['@context'], 'https://example.org/ctx'];
    const {verified, error} = await verify(signed);
    assert.equal(verified, false);
    assert.match(error, /refuses to load URL/);
  }
};

for(const suite of ['eddsa-rdfc-2022', 'eddsa-jcs-2022']) {
  const dir = `ob3-${suite}`;
  Object.assign(checks, {
    async [`${suite}: OB3 vector verifies`]() {
      assert.deepEqual(
        await verify(read(`${dir}/signed.json`)), {verified: true, error: null});
    },
    async [`${suite}: OB3 vector with one changed letter fails`]() {
      const {verified} = await verify(
        tamperAchievementName(read(`${dir}/signed.json`)));
      assert.equal(verified, false);
    },
    async [`${suite}: signing the OB3 vector reproduces it byte for byte`]() {
      const signed = await sign(
        read(`${dir}/unsigned.json`), {suite, keyPair, created: CREATED});
      assert.equal(
        JSON.stringify(signed, null, 2) + '\n',
        readFileSync(join(VECTORS, dir, 'signed.json'), 'utf8'));
    }
  });
}

Object.assign(checks, {
  async 'W3C eddsa-rdfc-2022 vector: signature verifies, issuer binding fails'() {
    const signed = read('eddsa-rdfc-2022/signedDataInt.json');
    assert.deepEqual(
      await verify(signed, {purpose: 'assertion'}),
      {verified: true, error: null});
    const issuance = await verify(signed);
    assert.equal(issuance.verified, false);
    assert.match(issuance.error, /issuer must match/);
  },
  async 'W3C eddsa-jcs-2022 vector: signature verifies'() {
    assert.deepEqual(
      await verify(read('eddsa-jcs-2022/signedJCS.json'), {purpose: 'assertion'}),
      {verified: true, error: null});
  },
  async 'Ed25519Signature2020: signs, verifies, and catches tampering'() {
    const signed = await sign(
      read('ob3-eddsa-rdfc-2022/unsigned.json'),
      {suite: 'Ed25519Signature2020', keyPair, created: CREATED});
    assert.equal(signed.proof.type, 'Ed25519Signature2020');
    assert.deepEqual(await verify(signed), {verified: true, error: null});
    assert.equal((await verify(tamperAchievementName(signed))).verified, false);
  },
  async 'non-ASCII text signs and verifies in every suite'() {
    for(const suite of
      ['eddsa-rdfc-2022', 'eddsa-jcs-2022', 'Ed25519Signature2020']) {
      const unsigned = read('ob3-eddsa-rdfc-2022/unsigned.json');
      unsigned.credentialSubject.achievement.name = 'Zoë Ångström – 日本';
      const signed = await sign(unsigned, {suite, keyPair, created: CREATED});
      assert.deepEqual(await verify(signed), {verified: true, error: null});
      signed.credentialSubject.achievement.name = 'Zoë Ångström – 日木';
      assert.equal((await verify(signed)).verified, false, suite);
    }
  },
  async 'an expired credential does not verify'() {
    const unsigned = read('ob3-eddsa-rdfc-2022/unsigned.json');
    unsigned.validUntil = '2025-02-01T00:00:00Z';
    const signed = await sign(
      unsigned, {suite: 'eddsa-rdfc-2022', keyPair, created: CREATED});
    assert.equal((await verify(signed, {now: '2025-01-20T00:00:00Z'})).verified,
      true);
    assert.equal((await verify(signed, {now: '2026-01-01T00:00:00Z'})).verified,
      false);
  }
});

let failed = 0;
for(const [name, check] of Object.entries(checks)) {
  try {
    await check();
    console.log(`ok   ${name}`);
  } catch(error) {
    failed++;
    console.log(`FAIL ${name}\n     ${error.message.split('\n').join('\n     ')}`);
  }
}
console.log(`${Object.keys(checks).length - failed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
