import type { ReactNode } from 'react';

export type Tone = 'ok' | 'warn' | 'bad' | 'idle' | 'info';

/** A coloured label; the colour only repeats what the text already says. */
export function Status({ tone, children, title }: { readonly tone: Tone; readonly children: ReactNode; readonly title?: string }) {
  return (
    <span className={`status status-${tone}`} title={title}>
      {children}
    </span>
  );
}

/** The tone for the state words the twin uses (region processes, mappings, links, executions, generator). */
export function toneOf(state: string | null | undefined): Tone {
  const word = (state ?? '').toLowerCase();
  if (['up', 'on', 'enabled', 'running', 'succeeded'].includes(word)) return 'ok';
  if (['down', 'failed', 'timed_out', 'aborted', 'unavailable', 'partitioned', 'peer-unavailable', 'origin-down'].includes(word)) return 'bad';
  if (['starting', 'stopping', 'created', 'waiting', 'paused'].includes(word)) return 'warn';
  return 'idle';
}
