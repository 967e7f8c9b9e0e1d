import { useState } from 'react';
import type { RegionRequest, RegionView } from '../../../../shared/dashboard/contract.ts';
import { errorMessage } from '../../api/client.ts';
import { sendRegionAction } from '../../api/endpoints.ts';
import { useToken } from '../../api/token-context.ts';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';

type Action = RegionRequest['action'];

const WHAT_IT_DOES: Record<Action, string> = {
  stop: 'shuts the region process down cleanly: its functions, emulators and broker stop; its data stays on disk.',
  kill: 'SIGKILLs the region process, as an unplanned outage would: whatever it had not yet replicated stays behind until it returns. Run disaster recovery in the other region from Runbooks.',
  start: 'starts the region process again on its data; the replication links catch up with what it missed.',
};

/** Outages on demand, for drills by hand: stop, SIGKILL or start one region, each after a confirmation. */
export function RegionActions({ region, onOutcome }: { readonly region: RegionView; readonly onOutcome: (tone: 'ok' | 'bad', text: string) => void }) {
  const token = useToken();
  const [asking, setAsking] = useState<Action | null>(null);
  const [busy, setBusy] = useState(false);
  const down = region.state === 'down';

  const confirm = async () => {
    if (!asking) return;
    setBusy(true);
    try {
      const result = await sendRegionAction(token, region.region, asking);
      onOutcome('ok', `${result.region}: ${result.action} done; the process is ${result.state}.`);
    } catch (error) {
      onOutcome('bad', `Could not ${asking} ${region.region}: ${errorMessage(error)}`);
    } finally {
      setBusy(false);
      setAsking(null);
    }
  };

  return (
    <>
      {down ? (
        <button type="button" onClick={() => setAsking('start')}>Start</button>
      ) : (
        <>
          <button type="button" onClick={() => setAsking('stop')} disabled={region.state !== 'up'}>Stop</button>{' '}
          <button type="button" className="danger" onClick={() => setAsking('kill')} disabled={region.state !== 'up'}>Kill</button>
        </>
      )}
      {asking && (
        <ConfirmDialog title={`${asking[0]!.toUpperCase()}${asking.slice(1)} ${region.region}?`} confirmLabel={`${asking} ${region.region}`} busy={busy} onConfirm={() => void confirm()} onCancel={() => setAsking(null)}>
          <p>This {WHAT_IT_DOES[asking]}</p>
          {region.activeFor.length > 0 && asking !== 'start' && <p><strong>Active here:</strong> {region.activeFor.join(', ')}.</p>}
        </ConfirmDialog>
      )}
    </>
  );
}
