import { Session } from 'node:inspector/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Samples this process's CPU when `ROTOR_CPU_PROFILE_DIR` is set (Node refuses `--cpu-prof` in NODE_OPTIONS, and
 * the twin's processes are started for you), so a slow twin can be profiled as it really runs. The returned
 * function writes `<dir>/<name>-<pid>.cpuprofile` (open it in Chrome DevTools or speedscope); without the variable
 * it does nothing.
 */
export async function profileCpuIfAsked(name: string): Promise<() => Promise<string | undefined>> {
  const directory = process.env.ROTOR_CPU_PROFILE_DIR;
  if (!directory) return async () => undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await mkdir(directory, { recursive: true });
    const file = path.join(directory, `${name}-${process.pid}.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    return file;
  };
}
