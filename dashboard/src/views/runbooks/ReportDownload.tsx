import { useState } from 'react';
import { ApiError, errorMessage } from '../../api/client.ts';
import { fetchLatestReport, type ReportFormat } from '../../api/endpoints.ts';
import { useToken } from '../../api/token-context.ts';

/** The last missing-transaction report, fetched with the token and saved through a Blob URL. */
export function ReportDownload() {
  const token = useToken();
  const [busy, setBusy] = useState<ReportFormat | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const download = async (format: ReportFormat) => {
    setBusy(format);
    setMessage(null);
    try {
      const { blob, filename } = await fetchLatestReport(token, format);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = filename;
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (error) {
      // A 404 is the server saying there is no report yet (and what writes one): its own words are the best answer.
      setMessage(error instanceof ApiError && error.status === 404 ? error.message : `Could not download the report: ${errorMessage(error)}`);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="panel" aria-labelledby="report-heading">
      <h2 id="report-heading">Missing-transaction report</h2>
      <p className="muted">The report the last reconciliation pass wrote: what was missing between adjacent stores and what was replayed.</p>
      <div className="button-row">
        <button type="button" onClick={() => void download('json')} disabled={busy !== null}>{busy === 'json' ? 'Downloading…' : 'Download JSON'}</button>
        <button type="button" onClick={() => void download('csv')} disabled={busy !== null}>{busy === 'csv' ? 'Downloading…' : 'Download CSV'}</button>
      </div>
      {message && <p role="status" className="notice notice-warn">{message}</p>}
    </section>
  );
}
