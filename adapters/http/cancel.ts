/** Releases a body we will not read (frees the connection, or a tee branch's buffer). */
export function discardBody(holder: { readonly body: ReadableStream<Uint8Array> | null } | undefined): void {
  const body = holder?.body;
  // A locked or already-consumed stream refuses cancel(); that is fine here.
  if (body && !body.locked) void body.cancel().catch(() => undefined);
}
