import { setMaxListeners } from 'node:events';

/**
 * An AbortController for a server's close(): every request it is waiting on listens on its signal, and a
 * burst has thousands waiting at once, far past EventTarget's leak warning at 10 listeners.
 */
export function abortableByAll(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
