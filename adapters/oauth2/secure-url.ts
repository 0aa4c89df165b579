import { DiscoveryFailedError, InsecureEndpointError, InvalidConfigError } from '../../machines/lifecycle/errors.js';
import { isSecretKey } from '../../machines/lifecycle/secret-keys.js';

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
 * Credentials do not belong in an endpoint URL: `user:password@` (fetch refuses it, quoting the whole
 * URL) or a secret-named query parameter (`?client_secret=`, `?access_token=`) would end up in logs,
 * errors and proxies. Refused at construction, naming the option, never echoing the URL (R13).
 */
function refuseCredentials(url: URL, what: string): void {
  if (url.username !== '' || url.password !== '') {
    throw new InvalidConfigError(`${what} must not carry credentials (user:password@): pass clientId and clientSecret instead`);
  }
  for (const name of url.searchParams.keys()) {
    if (isSecretKey(name) || name.toLowerCase() === 'code') {
      throw new InvalidConfigError(`${what} must not carry a secret in its query (a parameter named like a secret): pass it as an option instead`);
    }
  }
}

/**
 * Parses an endpoint URL and refuses anything but https, or http to a loopback host (DESIGN R13;
 * RFC 6749 §3.2 requires TLS at the token endpoint) and URLs carrying credentials. `what` names
 * the option in messages; the URL itself is never quoted.
 */
export function requireSecureUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidConfigError(`${what} is not an absolute URL`);
  }
  refuseCredentials(url, what);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return url;
    throw new InsecureEndpointError(url.origin);
  }
  throw new InvalidConfigError(`${what} must be an https:// URL, got ${url.protocol}`);
}

/**
 * A URL from the server's metadata passes the same https check as a configured one
 * (`insecure_endpoint`); one that is not a URL at all is the metadata's fault (`discovery_failed`).
 */
export function discoveredUrl(value: string, field: string): URL {
  try {
    return requireSecureUrl(value, field);
  } catch (error) {
    if (error instanceof InvalidConfigError) throw new DiscoveryFailedError(`${field} is not a usable https URL`);
    throw error;
  }
}
