/**
 * Runs one region of the twin as its own process:
 *   node --import tsx local/region/main.ts --region us-east-1 --data-dir .rotor/us-east-1 [options]
 * (options: REGION_USAGE in region-options.ts). Prints one JSON line (region, endpoints, start-up time per
 * component, RSS) on stdout once every mapping runs; logs go to stderr. SIGTERM / SIGINT stop it cleanly and exit
 * 0; a second signal exits at once.
 */
import { startRegion, type RegionOptions } from '#local/region/region.ts';
import { parseRegionArguments, REGION_USAGE } from '#local/region/region-options.ts';
import { regionLogger } from '#local/region/region-log.ts';
import { profileCpuIfAsked } from '#local/support/cpu-profile.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let options: RegionOptions;
try {
  options = parseRegionArguments(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${REGION_USAGE}\n`);
  process.exit(2);
}

const log = regionLogger(options.region);
const writeCpuProfile = await profileCpuIfAsked(`region-${options.region}`);
// On AWS a stray rejection in a handler's background work ends that function's sandbox, not the region; the twin
// runs every function in this process, so it logs it and carries on.
process.on('unhandledRejection', (reason) => {
  log.error('unhandled rejection', { error: reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason) });
});
let region: Awaited<ReturnType<typeof startRegion>>;
try {
  region = await startRegion(options);
} catch (error) {
  log.error('cannot start the region', { error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
// `process`: from the process's start, module loading included, to ready.
process.stdout.write(`${JSON.stringify({ ...region.report, startupMs: { ...region.report.startupMs, process: Math.round(performance.now()) } })}\n`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info('stopping', { signal });
    region.stop().then(writeCpuProfile).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('stopping failed', { error: String(error) });
        process.exit(1);
      },
    );
  });
}
