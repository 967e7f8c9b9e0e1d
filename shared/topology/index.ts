import { rotorTopology } from './rotor.ts';
import { validateTopology } from './validate.ts';

export * from './schema.ts';
export { InvalidTopologyError, topologyProblems, validateTopology } from './validate.ts';

/** The manifest both the twin and the AWS stacks are built from, checked once on load. */
export const topology = validateTopology(rotorTopology);
