import { InsecureEndpointError, InvalidConfigError } from '../../machines/lifecycle/errors.js';

/**
 * Loopback hosts, where plain http is allowed (as for native-app redirects, RFC 8252 §8.3):
 * 127.0.0.0/8, ::1 and `localhost`. The WHATWG URL parser has already normalised the host
 * (lower case, `127.1` → `127.0.0.1`, IPv6 in brackets).
 */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Parses an endpoint URL and refuses anything but https, or http to a loopback host (DESIGN R13;
 * RFC 6749 §3.2 requires TLS at the token endpoint). `what` names the option in messages.
 */
export function requireSecureUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidConfigError(`${what} is not an absolute URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return url;
    throw new InsecureEndpointError(url.origin);
  }
  throw new InvalidConfigError(`${what} must be an https:// URL, got ${url.protocol}`);
}
