/**
 * Request bodies that `authFetch` can send twice (R10: one retry after a 401). A body that is a value
 * (string, form, bytes, Blob, FormData) is snapshotted before the first send, so the retry sends the
 * same bytes even if the caller mutates its object meanwhile (fetch copies at call time too). A
 * one-shot stream (ReadableStream, async iterable) cannot be replayed without buffering an upload of
 * unknown size in memory: such a request is not retried (see docs/http.md).
 */

export type BodySnapshot = { replayable: true; body: RequestInit['body'] } | { replayable: false };

export function snapshotBody(body: RequestInit['body']): BodySnapshot {
  if (body === undefined || body === null || typeof body === 'string' || body instanceof Blob) {
    return { replayable: true, body };
  }
  if (body instanceof URLSearchParams) return { replayable: true, body: new URLSearchParams(body) };
  if (body instanceof FormData) {
    const copy = new FormData();
    // Entries are strings or Files (immutable): copying the list is enough.
    body.forEach((value, name) => copy.append(name, value));
    return { replayable: true, body: copy };
  }
  if (body instanceof ArrayBuffer) return { replayable: true, body: body.slice(0) };
  if (ArrayBuffer.isView(body)) {
    const bytes = new Uint8Array(body.byteLength);
    bytes.set(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    return { replayable: true, body: bytes };
  }
  return { replayable: false };
}
