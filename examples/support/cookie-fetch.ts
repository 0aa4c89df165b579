/**
 * `fetch` as a browser walks a login server's pages: redirects are not followed (the caller follows
 * them, and sees each one), and the cookies each answer sets are sent with every later request (a
 * tiny cookie jar: name=value, deleted when set empty or expired in 1970). Used by the browserless
 * login (login.ts) and the tests' person at the browser (test/support/login-user.ts).
 */
export type CookieFetch = (url: URL, init?: RequestInit) => Promise<Response>;

/** `send` is the `fetch` underneath (default the global one; tests give one that trusts their CA). */
export function cookieFetch(send: (url: URL, init: RequestInit) => Promise<Response> = fetch): CookieFetch {
  const jar = new Map<string, string>();
  return async (url, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await send(url, { ...init, headers, redirect: 'manual' });
    storeCookies(jar, response);
    return response;
  };
}

function storeCookies(jar: Map<string, string>, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
}
