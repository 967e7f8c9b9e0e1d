export { AuroraGlobalDatabase, type AuroraGlobalDatabaseOptions } from '#local/global/aurora/global-database.ts';
export { enableReplication, type Change, type ChangeOperation } from '#local/global/aurora/change-capture.ts';
export type { ReplicationStatus } from '#local/global/aurora/replica-shipper.ts';
export type { UnreplicatedTail } from '#local/global/aurora/role-state.ts';
export * from '#local/global/aurora/errors.ts';
export { AuroraGlobalCoordinator, type AuroraGlobalCoordinatorOptions } from '#local/global/aurora/coordinator.ts';
export { ReplicaDatabase } from '#local/global/aurora/replica-database.ts';
export { HttpReplicaEndpoint } from '#local/global/aurora/replica-client.ts';
export type * from '#local/global/aurora/replica-endpoint.ts';
