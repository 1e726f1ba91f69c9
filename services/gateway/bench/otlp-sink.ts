// A local OTLP/HTTP traces receiver for the streaming benchmark: accepts every export (200, empty
// ExportTraceServiceResponse) and counts requests, bytes and spans, so the exporter does its real
// work (serialize, POST) and the page can say how many spans were shipped.
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface OtlpSink {
  readonly url: string;
  readonly counts: { requests: number; bytes: number; spans: number };
  close(): Promise<void>;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  const counts = { requests: 0, bytes: 0, spans: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body = Buffer.concat(chunks);
      counts.requests++;
      counts.bytes += body.length;
      try {
        if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        counts.spans += countSpans(body);
      } catch {
        // Counted as bytes only.
      }
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    counts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Spans in an ExportTraceServiceRequest: resource_spans (1) → scope_spans (2) → spans (2). */
function countSpans(buffer: Buffer): number {
  let spans = 0;
  for (const resource of fields(buffer, 1)) for (const scope of fields(resource, 2)) spans += fields(scope, 2).length;
  return spans;
}

/** The length-delimited values of field `wanted` in one protobuf message (other fields skipped). */
function fields(buffer: Buffer, wanted: number): Buffer[] {
  const found: Buffer[] = [];
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = buffer[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
      shift += 7;
    }
  };
  while (at < buffer.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0:
        varint();
        break;
      case 1:
        at += 8;
        break;
      case 5:
        at += 4;
        break;
      case 2: {
        const length = varint();
        if (field === wanted) found.push(buffer.subarray(at, at + length));
        at += length;
        break;
      }
      default:
        throw new Error(`wire type ${tag & 7}`);
    }
  }
  return found;
}
