import type { AppName, RoutingControlView } from '../../../shared/dashboard/contract.ts';
import { APPS, APP_LABEL } from './pipeline.ts';

/**
 * Routing controls are named `<app>-<kind>-<region>`, the generator `<app>-generator` (shared/topology/routing.ts).
 * kind: dns (clients reach the region's brokers), queue (gateways consume), app (stages process), generator (load).
 */

export const CONTROL_KINDS = ['dns', 'queue', 'app', 'generator'] as const;
export type ControlKind = (typeof CONTROL_KINDS)[number];

export interface ParsedControl {
  readonly name: string;
  readonly state: 'On' | 'Off';
  readonly app: AppName | null;
  readonly kind: ControlKind | null;
  readonly region: string | null;
}

export function parseControl(control: RoutingControlView): ParsedControl {
  const app = APPS.find((candidate) => control.name.startsWith(`${candidate}-`)) ?? null;
  const rest = app ? control.name.slice(app.length + 1) : control.name;
  const kind = CONTROL_KINDS.find((candidate) => rest === candidate || rest.startsWith(`${candidate}-`)) ?? null;
  const region = kind && rest.length > kind.length ? rest.slice(kind.length + 1) : null;
  return { name: control.name, state: control.state, app, kind, region };
}

export const KIND_LABEL: Record<ControlKind, string> = {
  dns: 'DNS (clients)',
  queue: 'Queues (inbound gateways)',
  app: 'App (pipeline stages)',
  generator: 'Generator (load)',
};

/** What turning the control to `target` does, in the words an operator would use. */
export function describeChange(control: ParsedControl, target: 'On' | 'Off'): string {
  const who = control.app ? APP_LABEL[control.app].toLowerCase() : 'this app';
  const where = control.region ?? 'its region';
  const on = target === 'On';
  switch (control.kind) {
    case 'dns':
      return on ? `clients of ${who} start reaching ${where}'s brokers` : `clients of ${who} stop reaching ${where}`;
    case 'queue':
      return on
        ? `${who}'s inbound gateways in ${where} start consuming from their queues`
        : `${who}'s inbound gateways in ${where} stop consuming; messages wait on ${where}'s queues`;
    case 'app':
      return on ? `${who}'s pipeline stages in ${where} start processing` : `${who}'s pipeline stages in ${where} stop processing`;
    case 'generator':
      return on ? 'the load generator may send trade legs' : 'the load generator stops sending trade legs';
    default:
      return `${control.name} is set ${target}`;
  }
}

/** Rotor's safety rules (shared/topology/routing.ts): exactly one region's dns and app control On per app. */
export function safetyNote(control: ParsedControl): string | null {
  if (control.kind !== 'dns' && control.kind !== 'app') return null;
  return `Safety rules keep exactly one region's ${control.kind} control On for each app, so the cluster refuses a single change that leaves none or two On. To move an app between regions, run its Rotate runbook.`;
}
