import { afterEach, describe, expect, it, vi } from 'vitest';
import { newInstanceId } from '../../../machines/manager/instance-id.js';

describe('newInstanceId (Web Crypto only, R16)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('is a random UUID where Web Crypto has randomUUID', () => {
    const ids = new Set(Array.from({ length: 50 }, () => newInstanceId()));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('falls back to getRandomValues where randomUUID is missing (a browser page outside a secure context)', () => {
    const real = globalThis.crypto;
    vi.stubGlobal('crypto', { getRandomValues: <T extends ArrayBufferView>(array: T) => real.getRandomValues(array) });
    const ids = new Set(Array.from({ length: 50 }, () => newInstanceId()));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });
});
