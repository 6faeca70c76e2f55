/** A minimal server-sent events reader for tests, on node:http so it can be cut off at will. */
import { get, type ClientRequest } from 'node:http';

/** One message of the stream. */
export interface SseMessage {
  readonly event: string;
  readonly id: string | null;
  readonly data: string;
}

/** An open stream collecting its messages. */
export interface SseReader {
  readonly messages: SseMessage[];
  readonly status: Promise<number>;
  /** Resolves with the first message (among those already read or to come) that matches. */
  waitFor(match: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  close(): void;
}

/** Opens `url` and collects its SSE messages. */
export function openSse(url: string): SseReader {
  const messages: SseMessage[] = [];
  const waiters: { match: (m: SseMessage) => boolean; resolve: (m: SseMessage) => void }[] = [];
  let statusResolve: (code: number) => void = () => {};
  const status = new Promise<number>((r) => (statusResolve = r));
  let buffer = '';
  const req: ClientRequest = get(url, (res) => {
    statusResolve(res.statusCode ?? 0);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        let id: string | null = null;
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length === 0) continue;
        const m = { event, id, data: data.join('\n') };
        messages.push(m);
        for (const w of [...waiters]) {
          if (w.match(m)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    });
  });
  req.on('error', () => {});
  return {
    messages,
    status,
    waitFor(match, timeoutMs = 10_000) {
      const hit = messages.find(match);
      if (hit) return Promise.resolve(hit);
      return new Promise<SseMessage>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching SSE message within ${timeoutMs} ms; got ${messages.length}: ${messages.map((m) => m.event).join(',')}`)), timeoutMs);
        waiters.push({ match, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      });
    },
    close() {
      req.destroy();
    },
  };
}
