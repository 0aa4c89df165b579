/**
 * A gate in front of oidc-provider (the `middleware` option of startAuthServer): holds the next N
 * requests to a path until released. A held request whose client goes away (a closed tab) is
 * dropped before the provider sees it: the server never processes it, so nothing is rotated.
 */
import type { Middleware } from 'oidc-provider';

export interface RequestGate {
  readonly middleware: Middleware;
  /** Holds the next `count` requests to `path`. */
  hold(path: string, count?: number): void;
  /** Requests held right now. */
  readonly held: number;
  /** Requests received per path (held, dropped and passed alike). */
  readonly received: Readonly<Record<string, number>>;
  /** Requests dropped because their client went away while held. */
  readonly dropped: number;
  /** Lets every held request through to the provider. */
  release(): void;
}

export function requestGate(): RequestGate {
  const toHold = new Map<string, number>();
  const waiting = new Set<() => void>();
  const received: Record<string, number> = {};
  let dropped = 0;

  const middleware: Middleware = async (ctx, next) => {
    received[ctx.path] = (received[ctx.path] ?? 0) + 1;
    const holds = toHold.get(ctx.path) ?? 0;
    if (holds === 0) return next();
    toHold.set(ctx.path, holds - 1);
    const socket = ctx.req.socket;
    const gone = await new Promise<boolean>((resolve) => {
      const onClose = (): void => {
        waiting.delete(pass);
        resolve(true);
      };
      const pass = (): void => {
        socket.off('close', onClose);
        resolve(false);
      };
      waiting.add(pass);
      socket.once('close', onClose);
    });
    if (gone) {
      dropped++;
      ctx.respond = false;
      return;
    }
    await next();
  };

  return {
    middleware,
    hold(path, count = 1) {
      toHold.set(path, (toHold.get(path) ?? 0) + count);
    },
    get held() {
      return waiting.size;
    },
    received,
    get dropped() {
      return dropped;
    },
    release() {
      for (const pass of [...waiting]) {
        waiting.delete(pass);
        pass();
      }
    },
  };
}
