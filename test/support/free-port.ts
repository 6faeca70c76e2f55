/** A free TCP port on 127.0.0.1, for a child process that must be told where to listen. */
import { createServer } from 'node:net';

/** Asks the kernel for a free port and releases it (another process may take it meanwhile: use at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
