/**
 * The person at the browser, for login tests: `fetch` with manual redirects and a cookie jar walks
 * oidc-provider's pages as a browser would. It enters the device user code (RFC 8628), confirms (or
 * aborts), logs in through devInteractions (any login, any password), gives consent (or cancels),
 * and, for a loopback login, follows the final redirect to the CLI's own listener. Cookies and
 * manual redirects: the examples' cookieFetch (examples/support/cookie-fetch.ts).
 */
import { cookieFetch } from '../../examples/support/cookie-fetch.js';

export interface UserOptions {
  /** The account (default `alice`). */
  login?: string;
  /** Refuse instead: abort the device confirmation, or cancel the login. */
  deny?: boolean;
  /** The user code to type in, when starting at the bare verification URI. */
  userCode?: string;
  /** The browser's `fetch` (default the global one): e.g. one that trusts a test CA. */
  fetch?: (url: URL, init: RequestInit) => Promise<Response>;
}

export interface UserOutcome {
  /** The page the walk ended on (the device success page, or the loopback listener's page). */
  readonly status: number;
  readonly text: string;
  readonly url: string;
  /** Every URL visited, for the note. */
  readonly visited: string[];
}

interface Step {
  url: URL;
  method: 'GET' | 'POST';
  body?: URLSearchParams;
}

function hiddenInputs(html: string): URLSearchParams {
  const params = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\s*\/?>/g)) {
    params.set(match[1] as string, decodeEntities(match[2] as string));
  }
  return params;
}

function decodeEntities(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

function formAction(html: string, base: URL): URL {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form on the page at ${base.pathname}`);
  return new URL(decodeEntities(action), base);
}

/** Walks from `start` until the device success page, an error page, or a page outside the issuer. */
export async function actAsUser(start: string, issuer: string, options: UserOptions = {}): Promise<UserOutcome> {
  const request = cookieFetch(options.fetch);
  const visited: string[] = [];
  const issuerOrigin = new URL(issuer).origin;
  let step: Step = { url: new URL(start), method: 'GET' };

  for (let n = 0; n < 20; n += 1) {
    visited.push(`${step.method} ${step.url.origin}${step.url.pathname}`);
    const response = await request(step.url, { method: step.method, ...(step.body ? { body: step.body } : {}) });
    const location = response.headers.get('location');
    if (location) {
      await response.body?.cancel();
      step = { url: new URL(location, step.url), method: 'GET' };
      continue;
    }
    const text = await response.text();
    // Outside the issuer: the app's own redirect target (the loopback listener). The walk ends there.
    if (step.url.origin !== issuerOrigin) return { status: response.status, text, url: step.url.href, visited };
    const next = nextStep(text, step.url, options);
    if (!next) return { status: response.status, text, url: step.url.href, visited };
    step = next;
  }
  throw new Error(`the login did not finish; visited ${visited.join(' → ')}`);
}

/** What a person does on this page, or undefined when there is nothing more to do. */
function nextStep(html: string, url: URL, options: UserOptions): Step | undefined {
  if (html.includes('id="op.deviceInputForm"')) {
    // Re-rendered with an error (aborted, wrong code): a person stops here.
    if (html.includes('<p class="red">')) return undefined;
    if (!options.userCode) throw new Error('the device page asks for a user code, and none was given');
    const body = hiddenInputs(html);
    body.set('user_code', options.userCode);
    return { url: formAction(html, url), method: 'POST', body };
  }
  if (html.includes('id="op.deviceConfirmForm"')) {
    const body = hiddenInputs(html);
    if (options.deny) {
      body.delete('confirm');
      body.set('abort', 'yes');
    }
    return { url: formAction(html, url), method: 'POST', body };
  }
  // The auto-submitting form of verification_uri_complete (form_post): a browser's script submits it.
  if (html.includes('<title>Submitting Callback</title>')) {
    return { url: formAction(html, url), method: 'POST', body: hiddenInputs(html) };
  }
  const prompt = /name="prompt" value="(login|consent)"/.exec(html)?.[1];
  if (prompt === 'login') {
    // devInteractions' cancel link: /interaction/:uid/abort ends the request with access_denied.
    if (options.deny) return { url: new URL(`${url.pathname.replace(/\/$/, '')}/abort`, url), method: 'GET' };
    return { url, method: 'POST', body: new URLSearchParams({ prompt, login: options.login ?? 'alice', password: 'x' }) };
  }
  if (prompt === 'consent') return { url, method: 'POST', body: new URLSearchParams({ prompt }) };
  return undefined;
}
