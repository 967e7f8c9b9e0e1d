import { demoTopology } from '#shared/topology/demo.ts';
import { auroraTopology } from '#local/region/aurora-agent-topology.ts';
import { rotorTopology } from '#shared/topology/rotor.ts';
import type { Topology } from '#shared/topology/schema.ts';
import { validateTopology } from '#shared/topology/validate.ts';
import { RegionConfigurationError } from '#local/region/errors.ts';

/** The manifests a region can be started with by name; a region also accepts any manifest object. */
export const NAMED_TOPOLOGIES = { rotor: rotorTopology, demo: demoTopology, aurora: auroraTopology } as const satisfies Record<string, Topology>;

export type TopologyName = keyof typeof NAMED_TOPOLOGIES;
export type TopologyChoice = TopologyName | Topology;

export function isTopologyName(name: string): name is TopologyName {
  return Object.hasOwn(NAMED_TOPOLOGIES, name);
}

export function resolveTopology(choice: TopologyChoice): Topology {
  if (typeof choice !== 'string') return validateTopology(choice);
  if (!isTopologyName(choice)) {
    throw new RegionConfigurationError(`unknown topology '${String(choice)}'; expected one of ${Object.keys(NAMED_TOPOLOGIES).join(', ')}`);
  }
  return validateTopology(NAMED_TOPOLOGIES[choice]);
}
