import { isMainThread, threadId } from 'node:worker_threads';

/**
 * Test-only preload (`node --require …/crash-hook.cjs`: a CommonJS file, because Node 20 runs `--require`
 * preloads in worker threads too, and `--import` ones only in the main thread): it ships in no build the CLI runs, so there is no
 * backdoor in production. In each worker thread it wraps uWS's handler registration so that a request
 * for CRASH_PATH throws an uncaught error on that worker, the way a bug in a stage would: the thread
 * dies with its connections, and the supervisor must replace it while the other workers keep serving.
 * uWS stays native (sluice refuses the pure-JS fallback); only the handler registration is wrapped.
 */
const CRASH_PATH = '/__test/crash';

type Handler = (res: { getWriteOffset(): number }, req: { getUrl(): string }) => void;

if (!isMainThread) {
  const uws = require('uWebSockets.js') as { App: (...args: unknown[]) => { any(pattern: string, h: Handler): unknown } };
  // Each App() has its own prototype object: wrap App (a Proxy still reads as native code) and patch
  // the `any` of every App it makes.
  uws.App = new Proxy(uws.App, {
    apply(target, self, args) {
      const app = Reflect.apply(target, self, args);
      const any = app.any;
      app.any = function (this: unknown, pattern: string, handler: Handler) {
        return any.call(this, pattern, (res, req) => {
          if (req.getUrl() === CRASH_PATH) {
            // After the handler returned, like a stage's bug in a promise callback: uncaught, the thread ends.
            setImmediate(() => {
              throw new Error(`crash hook: thread ${threadId} ends on purpose`);
            });
          }
          handler(res, req);
        });
      };
      return app;
    },
  });
}
