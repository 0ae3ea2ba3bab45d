import jsonld from 'jsonld';
import {createDocumentLoader} from './lib.mjs';
import {text} from 'node:stream/consumers';
const docs = JSON.parse(await text(process.stdin));
const documentLoader = createDocumentLoader();
const out = {};
for (const [name, doc] of Object.entries(docs)) {
  try {
    out[name] = await jsonld.canonize(doc, {algorithm: 'RDFC-1.0', format: 'application/n-quads', documentLoader, safe: true});
  } catch (e) { out[name] = 'ERR ' + (e.name||'') + ' ' + e.message.slice(0,100); }
}
console.log(JSON.stringify(out));
