/**
 * The guest agent through libvirt, for domains whose standard agent channel libvirt owns:
 * `virsh qemu-agent-command`. libvirt turns agent errors into its own error text and drops
 * the agent's class; mapVirshError reads that text back into the same AgentError codes the
 * socket client uses, so callers cannot tell the transports apart. Each call spawns virsh
 * (~10-30 ms), so a dedicated channel with QgaClient is the fast path for many VMs.
 */
import { runCommand, CommandError } from '../util/exec.ts';
import type { Logger } from '../util/log.ts';
import { guestText } from '../util/guest-text.ts';
import { AgentError, agentErrorFromReply } from './errors.ts';
import { parseJsonBig, stringifyJsonBig, type JsonValue } from '../util/json.ts';
import { DEFAULT_MAX_JSON_DEPTH, DEFAULT_MAX_REPLY_BYTES, type ExecuteOptions, type GuestAgent } from './types.ts';

/** Construction options of LibvirtAgent. */
export interface LibvirtAgentOptions {
  /** libvirt domain name or UUID. */
  readonly domain: string;
  /** Connection URI (virsh -c), e.g. "qemu:///system"; default: virsh's own default. */
  readonly uri?: string;
  /** virsh executable (default "virsh" on PATH). */
  readonly virshPath?: string;
  /** Default bound on one call (default 900 ms; virsh itself waits whole seconds, at least 1). */
  readonly defaultTimeoutMs?: number;
  /** Where a disabled command is reported (once per command). */
  readonly logger?: Logger;
}

const EXEC_PREFIX = /unable to execute QEMU agent command '([^']+)'(?::\s*([\s\S]*))?/;

/**
 * Maps virsh's stderr for a failed qemu-agent-command to an AgentError with the code the socket
 * client would give. The stderr carries the agent's own description (the guest's words), so
 * only cleaned text (src/util/guest-text.ts) goes into the error.
 */
export function mapVirshError(stderr: string, vm: string, operation: string): AgentError {
  const raw = stderr.replace(/^error:\s*/gim, '').trim();
  const text = guestText(raw);
  const ctx = { vm, operation, agentClass: null, agentDesc: text || null };
  const exec = EXEC_PREFIX.exec(raw);
  if (exec) {
    const desc = (exec[2] ?? '').trim() || null;
    // libvirt drops the class; these descriptions only come with CommandNotFound.
    const cls = desc && /has been disabled|has not been found|command not found/i.test(desc) ? 'CommandNotFound' : null;
    return agentErrorFromReply(vm, operation, cls, desc);
  }
  if (/not available for now|agent command timed out|guest agent timeout|timed out during operation/i.test(text)) {
    return new AgentError('E_AGENT_TIMEOUT', `libvirt: ${text}`, ctx);
  }
  if (/agent is not configured/i.test(text)) {
    return new AgentError('E_AGENT_UNAVAILABLE', `libvirt: ${text}: add a <channel type='unix'> with target name 'org.qemu.guest_agent.0' to the domain`, ctx);
  }
  if (/agent is not connected|agent is not responding|agent disappeared|agent unresponsive|agent is not available/i.test(text)) {
    return new AgentError('E_AGENT_UNAVAILABLE', `libvirt: ${text}`, ctx);
  }
  if (/domain not found|failed to get domain|no domain with matching/i.test(text)) {
    return new AgentError('E_AGENT_VM_NOT_FOUND', `libvirt: ${text}`, ctx);
  }
  if (/domain is not running/i.test(text)) {
    return new AgentError('E_AGENT_UNAVAILABLE', `libvirt: ${text}`, ctx);
  }
  if (/failed to connect to the hypervisor|cannot connect|permission denied|authentication/i.test(text)) {
    return new AgentError('E_AGENT_UNAVAILABLE', `libvirt: ${text} (is libvirtd running, and may this user use it?)`, ctx);
  }
  return new AgentError('E_AGENT_COMMAND', `libvirt: ${text || '(no message)'}`, ctx);
}

/** Reads virsh's stdout (the agent's whole reply) into its return value; nesting is bounded as on the socket. */
export function parseVirshReply(stdout: string, vm: string, operation: string): JsonValue {
  let reply: JsonValue;
  try {
    reply = parseJsonBig(stdout.trim(), { maxDepth: DEFAULT_MAX_JSON_DEPTH });
  } catch (e) {
    throw new AgentError('E_AGENT_PROTOCOL', `virsh printed no usable JSON reply: ${guestText(stdout)}`, { vm, operation, cause: e });
  }
  if (reply && typeof reply === 'object' && !Array.isArray(reply) && 'return' in reply) return reply.return ?? null;
  throw new AgentError('E_AGENT_PROTOCOL', `reply has no "return": ${guestText(stdout)}`, { vm, operation });
}

/** GuestAgent through `virsh qemu-agent-command`. */
export class LibvirtAgent implements GuestAgent {
  readonly vm: string;
  private closed = false;
  // Disabled commands fail fast after the first refusal, as with the socket client.
  private readonly disabled = new Set<string>();

  constructor(private readonly opts: LibvirtAgentOptions) {
    this.vm = opts.domain;
  }

  /** Runs one command through virsh; see GuestAgent.execute. */
  async execute<T = JsonValue>(command: string, args?: Readonly<Record<string, unknown>>, opts: ExecuteOptions = {}): Promise<T> {
    const ctx = { vm: this.vm, operation: command };
    if (this.closed) throw new AgentError('E_AGENT_CLOSED', 'agent closed', ctx);
    if (opts.signal?.aborted) throw new AgentError('E_AGENT_ABORTED', 'aborted before it was sent', ctx);
    if (this.disabled.has(command)) throw agentErrorFromReply(this.vm, command, 'CommandNotFound', `Command ${command} has been disabled`);
    const timeoutMs = opts.timeoutMs ?? this.opts.defaultTimeoutMs ?? 900;
    const request = stringifyJsonBig(args === undefined ? { execute: command } : { execute: command, arguments: args });
    // Every value after its option (--domain NAME, --cmd JSON): a domain named "--x=y" is a name, not an option.
    const argv = [this.opts.virshPath ?? 'virsh', ...(this.opts.uri ? ['-c', this.opts.uri] : []), 'qemu-agent-command', '--domain', this.opts.domain, '--timeout', String(Math.max(1, Math.ceil(timeoutMs / 1000))), '--cmd', request];
    const maxReplyBytes = opts.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    let result;
    try {
      // LC_ALL=C: the error mapping reads libvirt's English messages.
      result = await runCommand(argv, { timeoutMs, env: { ...process.env, LC_ALL: 'C' }, maxOutputBytes: maxReplyBytes + 64 * 1024 });
    } catch (e) {
      if (e instanceof CommandError && e.kind === 'output-limit') throw new AgentError('E_AGENT_PROTOCOL', `reply exceeds the bound of ${maxReplyBytes} bytes for ${command}`, { ...ctx, cause: e });
      if (e instanceof CommandError && e.kind === 'timeout') throw new AgentError('E_AGENT_TIMEOUT', `virsh did not finish within ${timeoutMs} ms`, { ...ctx, cause: e });
      throw new AgentError('E_AGENT_UNAVAILABLE', `cannot run virsh: ${(e as Error).message}`, { ...ctx, cause: e });
    }
    if (result.code !== 0) {
      const e = mapVirshError(result.stderr, this.vm, command);
      if (e.code === 'E_AGENT_DISABLED') {
        this.disabled.add(command);
        this.opts.logger?.warn({ vm: this.vm, op: command, code: e.code }, `configuration problem: ${e.message}`);
      }
      throw e;
    }
    return parseVirshReply(result.stdout, this.vm, command) as T;
  }

  /** Nothing to release (each call is its own virsh process); later calls reject. */
  async close(): Promise<void> {
    this.closed = true;
  }
}
