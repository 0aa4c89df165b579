/**
 * A private Secret Service for tests (Linux): `dbus-run-session` starts a session bus of its own,
 * `gnome-keyring-daemon --unlock` (fed a password on stdin) creates and unlocks a login keyring in a
 * private data directory, and the session lives until `stop()` closes the shell's stdin. The test
 * process reaches it by its address (DBUS_SESSION_BUS_ADDRESS; set it before @napi-rs/keyring first
 * connects), child processes by `env`, and `secretTool()` looks at it from outside as a user would.
 * Needs the Debian packages gnome-keyring, dbus-x11 (dbus-run-session) and libsecret-tools
 * (secret-tool); .ci/run installs them. Nothing is left behind: no daemon, no keyring file.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SecretServiceSession {
  /** The session bus address, for DBUS_SESSION_BUS_ADDRESS. */
  readonly address: string;
  /** The environment a child needs to reach this session's Secret Service. */
  readonly env: Record<string, string>;
  /** Runs `secret-tool` against the session (no shell); stdout is the secret for `lookup`. */
  secretTool(args: readonly string[]): { code: number | null; stdout: string; stderr: string };
  stop(): Promise<void>;
}

/** Without Secret Service: a session bus only (no keyring daemon on it). */
export interface BareBusSession {
  readonly address: string;
  stop(): Promise<void>;
}

const TOOLS = ['dbus-run-session', 'gnome-keyring-daemon', 'secret-tool'] as const;

/** The tools that are missing on this machine (empty when a private Secret Service can be started). */
export function missingSecretServiceTools(): string[] {
  return TOOLS.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0);
}

/** Starts `sh -c script` under dbus-run-session and waits for it to print `BUS=<address>`. */
async function startBus(script: string, env: NodeJS.ProcessEnv): Promise<{ address: string; child: ChildProcessWithoutNullStreams }> {
  const child = spawn('dbus-run-session', ['--', 'sh', '-c', `${script}; echo "BUS=$DBUS_SESSION_BUS_ADDRESS"; exec cat >/dev/null`], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no D-Bus session within 10 s; stderr: ${stderr}`)), 10_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /BUS=(\S+)\n/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`dbus-run-session exited (${code}); stderr: ${stderr}`)));
  });
  return { address, child };
}

function ended(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 5_000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin.end(); // `cat` ends, the shell ends, dbus-run-session ends its bus (and the keyring daemon with it)
  });
}

export async function startSecretService(): Promise<SecretServiceSession> {
  const home = await mkdtemp(join(tmpdir(), 'tl-secret-service-'));
  // A private HOME and data directory: a login keyring left by anyone else (another password) stays out.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: home };
  const unlock = 'printf %s test-keyring-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1';
  const { address, child } = await startBus(unlock, env);
  const sessionEnv = { ...env, DBUS_SESSION_BUS_ADDRESS: address };
  return {
    address,
    env: sessionEnv,
    secretTool(args) {
      const result = spawnSync('secret-tool', [...args], { env: sessionEnv, encoding: 'utf8', timeout: 10_000 });
      return { code: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
    },
    async stop() {
      await ended(child);
      await rm(home, { recursive: true, force: true });
    },
  };
}

export async function startBareBus(): Promise<BareBusSession> {
  const home = await mkdtemp(join(tmpdir(), 'tl-bare-bus-'));
  const { address, child } = await startBus('true', { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: home });
  return {
    address,
    async stop() {
      await ended(child);
      await rm(home, { recursive: true, force: true });
    },
  };
}
