// Closing a worker thread: ask it to close what it holds (a database
// connection), wait for its "closed" answer, but never long: then end it.
export const CLOSE_WAIT_MS = 2000;

/**
 * Posts `message` (the thread's own close request) and resolves once
 * `onClosed` is called by the caller's message handler, or after `waitMs`;
 * the thread is terminated either way.
 */
export async function closeThread(worker: Worker, message: unknown, onClosed: (done: () => void) => void, waitMs = CLOSE_WAIT_MS): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await new Promise<void>((resolve) => {
    onClosed(resolve);
    timer = setTimeout(resolve, waitMs);
    worker.postMessage(message);
  });
  clearTimeout(timer);
  worker.terminate();
}
