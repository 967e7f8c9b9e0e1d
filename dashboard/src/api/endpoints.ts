import type {
  ChaosRequest,
  ChaosRunView,
  ChaosView,
  DashboardSnapshot,
  ExecutionView,
  GeneratorRequest,
  GeneratorView,
  RegionActionView,
  RegionRequest,
  RoutingControlView,
  StartExecutionRequest,
  StateMachineView,
} from '../../../shared/dashboard/contract.ts';
import { apiFetch, getJson, postJson } from './client.ts';

/** The contract's endpoints, one function each. */

export const fetchSnapshot = (token: string) => getJson<DashboardSnapshot>(token, '/api/snapshot');

export const fetchStateMachines = (token: string) => getJson<StateMachineView[]>(token, '/api/state-machines');

export const fetchExecution = (token: string, name: string) => getJson<ExecutionView>(token, `/api/executions/${encodeURIComponent(name)}`);

export const setRoutingControl = (token: string, name: string, state: 'On' | 'Off') =>
  postJson<RoutingControlView>(token, `/api/routing-controls/${encodeURIComponent(name)}`, { state });

export const sendGenerator = (token: string, request: GeneratorRequest) => postJson<GeneratorView>(token, '/api/generator', request);

export const sendRegionAction = (token: string, region: string, action: RegionRequest['action']) =>
  postJson<RegionActionView>(token, `/api/regions/${encodeURIComponent(region)}`, { action });

export const fetchChaos = (token: string) => getJson<ChaosView>(token, '/api/chaos');

export const sendChaos = (token: string, experiment: string, request: ChaosRequest) => postJson<ChaosRunView[]>(token, `/api/chaos/${encodeURIComponent(experiment)}`, request);

export const startExecution = (token: string, request: StartExecutionRequest) => postJson<{ executionName: string }>(token, '/api/executions', request);

export type ReportFormat = 'json' | 'csv';

/** The last missing-transaction report as a file: the body plus the name the server suggests, if any. */
export async function fetchLatestReport(token: string, format: ReportFormat): Promise<{ blob: Blob; filename: string }> {
  const response = await apiFetch(token, format === 'csv' ? '/api/reports/latest?format=csv' : '/api/reports/latest');
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const suggested = /filename="?([^";]+)"?/i.exec(disposition)?.[1];
  return { blob: await response.blob(), filename: suggested ?? `missing-transactions-latest.${format}` };
}

export const eventsUrl = (token: string) => `/api/events?token=${encodeURIComponent(token)}`;
