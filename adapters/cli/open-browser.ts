/**
 * Opens a URL in the user's browser for `token login --browser`, when there is one to open: a
 * terminal (stderr is a TTY) in a desktop session (macOS, Windows, or an X11/Wayland display).
 * Otherwise, and whatever happens to the opener, the URL is also printed: the user can copy it.
 */
import { spawn } from 'node:child_process';

export function canOpenBrowser(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, tty = process.stderr.isTTY === true): boolean {
  if (!tty || env.BROWSER === 'none') return false;
  return platform === 'darwin' || platform === 'win32' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** Starts the platform's opener, detached; failures are ignored (the URL is printed anyway). */
export function openBrowser(url: string, platform: NodeJS.Platform = process.platform): void {
  // The URL is one argument, never a shell string: no quoting issues, no injection.
  const [command, args] =
    platform === 'darwin' ? ['open', [url]] : platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No opener: the printed URL is the fallback.
  }
}
