// npm run api:types: builds the gateway app (no server, no upstream), writes its OpenAPI document to
// docs/openapi.json and the web UI's API types to web-ui/src/api/openapi.gen.ts. Run it after
// changing any route or schema of the gateway; services/gateway/test/openapi.test.ts fails until then.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildOpenApiDocument } from '../services/gateway/src/openapi-snapshot.js';
import { API_DOCUMENT_FILE, API_TYPES_FILE, renderApiDocument, renderApiTypes } from './api-types.js';

const document = await buildOpenApiDocument();
writeFileSync(API_DOCUMENT_FILE, renderApiDocument(document));
writeFileSync(API_TYPES_FILE, await renderApiTypes(document));
for (const file of [API_DOCUMENT_FILE, API_TYPES_FILE]) console.log(`wrote ${path.relative(process.cwd(), file)}`);
