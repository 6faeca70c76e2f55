// The folders under src/ form layers: no folder may import, directly or through others, a
// folder that imports it back. This test reads the import statements (no module is loaded) and
// names the first cycle it finds, so a new cross-folder import that closes a loop fails here.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Every .ts file under a directory, recursively. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The relative module specifiers a source file imports or re-exports (static and dynamic). */
function relativeImports(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const match of source.matchAll(pattern)) specifiers.push(match[1]!);
  return specifiers;
}

/** The top-level folder of src/ a path lies in ('' for a file directly in src/). */
function folderOf(path: string): string {
  const parts = relative(srcDir, path).split(sep);
  return parts.length > 1 ? parts[0]! : '';
}

/** Folder -> the folders its files import (itself excluded). */
export function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of tsFiles(srcDir)) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const specifier of relativeImports(readFileSync(file, 'utf8'))) {
      const to = folderOf(resolve(dirname(file), specifier));
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** One cycle in the graph as a path a -> b -> ... -> a, or undefined when there is none. */
export function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.get(node) === undefined) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return undefined;
}

describe('folder import graph of src/', () => {
  it('finds a cycle when there is one (the check itself works)', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ]);
    expect(findCycle(graph)).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', new Set(['b'])], ['b', new Set<string>()]]))).toBeUndefined();
  });

  it('has no cycle between folders', () => {
    const graph = folderGraph();
    expect(graph.size).toBeGreaterThan(5);
    const cycle = findCycle(graph);
    expect(cycle === undefined ? 'no cycle' : `cycle: ${cycle.join(' -> ')}`).toBe('no cycle');
  });

  it('keeps the agent, enforcement and telemetry folders apart (src/endpoint composes them)', () => {
    const graph = folderGraph();
    const parts = ['agent', 'tc', 'telemetry'];
    const crossing = parts.flatMap((from) => parts.filter((to) => graph.get(from)?.has(to)).map((to) => `${from} -> ${to}`));
    expect(crossing).toEqual([]);
  });
});
