export { AuroraGlobalDatabase, type AuroraGlobalDatabaseOptions } from '#local/global/aurora/global-database.ts';
export { enableReplication, type Change, type ChangeOperation } from '#local/global/aurora/change-capture.ts';
export type { ReplicationStatus } from '#local/global/aurora/log-shipper.ts';
export type { UnreplicatedTail } from '#local/global/aurora/role-state.ts';
export * from '#local/global/aurora/errors.ts';
