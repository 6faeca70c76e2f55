import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { silentLogger, type Logger } from '../util/log.ts';
import { loadConfig, type LoadedConfig } from './load.ts';

/** What made a reload happen. */
export type ReloadTrigger = 'sighup' | 'file-change' | 'manual';

/** How a reload ended: a new config in force, nothing to do, or refused (the old one stays). */
export type ReloadOutcome =
  | { readonly status: 'applied'; readonly config: LoadedConfig }
  | { readonly status: 'unchanged' }
  | { readonly status: 'rejected'; readonly error: Error };

/** Options of a ConfigWatcher. */
export interface ConfigWatcherOptions {
  readonly path: string;
  /** Loads and validates the file; loadConfig by default (tests may pass capacity deps through it). */
  readonly load?: (path: string) => Promise<LoadedConfig>;
  /** Quiet time after the last file event before reloading; editors write in several steps. */
  readonly debounceMs?: number;
  /** Watch the file's directory for changes (default true); SIGHUP reloads work either way. */
  readonly watchFile?: boolean;
  /** A new valid configuration is in force. */
  readonly onReload?: (next: LoadedConfig, previous: LoadedConfig, trigger: ReloadTrigger) => void;
  /** A new file was refused; `error` lists its problems (ConfigError) and the previous config stays. */
  readonly onReject?: (error: Error, trigger: ReloadTrigger) => void;
  readonly logger?: Logger;
}

/**
 * Keeps the configuration in force and reloads it on SIGHUP (the daemon calls reload()) or when
 * the file changes. A bad file never replaces a good one: it is refused with its errors.
 *
 * The directory is watched, not the file: editors and config managers replace files by
 * renaming a new one over them, which ends a watch on the old inode. Reloads compare the
 * text, so the many events of one save deliver the new config once.
 */
export class ConfigWatcher {
  private currentConfig: LoadedConfig;
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private lastRejectedMessage: string | null = null;
  private closed = false;
  private readonly path: string;
  private readonly load: (path: string) => Promise<LoadedConfig>;
  private readonly log: Logger;

  private constructor(initial: LoadedConfig, private readonly opts: ConfigWatcherOptions) {
    this.currentConfig = initial;
    this.path = resolve(opts.path);
    this.load = opts.load ?? ((p) => loadConfig(p));
    this.log = (opts.logger ?? silentLogger).child({ op: 'config', path: this.path });
  }

  /** Loads the file (a bad one throws its ConfigError: nothing to fall back on) and starts watching. */
  static async open(opts: ConfigWatcherOptions): Promise<ConfigWatcher> {
    const initial = await (opts.load ?? ((p: string) => loadConfig(p)))(resolve(opts.path));
    const w = new ConfigWatcher(initial, opts);
    if (opts.watchFile !== false) w.startWatching();
    return w;
  }

  /** The configuration in force. */
  get current(): LoadedConfig {
    return this.currentConfig;
  }

  /** Re-reads the file now; reloads run one at a time, in order. */
  reload(trigger: ReloadTrigger = 'sighup'): Promise<ReloadOutcome> {
    const run = this.queue.then(() => this.reloadNow(trigger));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stops watching; pending debounced reloads are dropped. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watcher?.close();
    this.watcher = null;
  }

  private async reloadNow(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    if (this.closed) return { status: 'unchanged' };
    let next: LoadedConfig;
    try {
      next = await this.load(this.path);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      // One bad save raises several file events; report it once, but always answer a SIGHUP.
      if (trigger !== 'file-change' || this.lastRejectedMessage !== error.message) {
        this.lastRejectedMessage = error.message;
        this.log.warn({ trigger, code: (error as { code?: string }).code, err: error.message }, 'new configuration refused; the previous one stays in force');
        this.opts.onReject?.(error, trigger);
      }
      return { status: 'rejected', error };
    }
    this.lastRejectedMessage = null;
    const previous = this.currentConfig;
    if (next.text === previous.text && next.capacity.capacityBps === previous.capacity.capacityBps) return { status: 'unchanged' };
    this.currentConfig = next;
    // The daemon logs what the reload changed; here only that the file was taken.
    this.log.debug({ trigger }, 'new configuration file accepted');
    this.opts.onReload?.(next, previous, trigger);
    return { status: 'applied', config: next };
  }

  private startWatching(): void {
    const dir = dirname(this.path);
    const name = basename(this.path);
    this.watcher = watch(dir, { persistent: false }, (_event, filename) => {
      // filename can be null on some platforms; symlink swaps (..data in Kubernetes) name other
      // entries: reload anyway, the text comparison drops events that changed nothing.
      if (filename !== null && filename !== name && !String(filename).startsWith('..')) return;
      this.schedule();
    });
    this.watcher.on('error', (e) => this.log.warn({ err: e.message }, 'cannot watch the configuration directory; reload with SIGHUP'));
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reload('file-change');
    }, this.opts.debounceMs ?? 250);
    this.timer.unref();
  }
}
