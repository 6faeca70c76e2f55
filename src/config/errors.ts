/** One thing wrong with a configuration: where, what was found, and the rule it breaks. */
export interface ConfigIssue {
  /** Key path as an operator reads it: `vms.web1.guarantee`, `inventory.static[0].socket`. */
  readonly path: string;
  /** The offending value as written in the file; undefined when the key is missing. */
  readonly value: unknown;
  /** The rule and how to fix it: `is not a rate: unknown unit "gbitt" (...)`. */
  readonly rule: string;
}

/** Stable codes for every way a configuration can be refused. */
export type ConfigErrorCode =
  | 'E_CONFIG_READ'
  | 'E_CONFIG_YAML'
  | 'E_CONFIG_INVALID'
  | 'E_CONFIG_ADMISSION'
  | 'E_CAPACITY_UNKNOWN';

/** Renders one issue as a single line: `path: value rule`. */
export function formatIssue(issue: ConfigIssue): string {
  const shown = issue.value === undefined ? '' : ` ${renderValue(issue.value)}`;
  return `${issue.path || '(top level)'}:${shown} ${issue.rule}`;
}

// Objects are shown truncated: the path already says where they are, a dump would drown the rule.
function renderValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A configuration that was refused; `issues` lists everything wrong at once. */
export class ConfigError extends Error {
  constructor(
    readonly code: ConfigErrorCode,
    /** The file (or "<text>") the configuration came from. */
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    const n = issues.length;
    super(`${source}: configuration refused (${n} problem${n === 1 ? '' : 's'}):\n${issues.map((i) => `  - ${formatIssue(i)}`).join('\n')}`, options);
    this.name = 'ConfigError';
  }
}
