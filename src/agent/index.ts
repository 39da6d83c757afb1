/** Production shell of the failover controller. Importers: src/cli/commands/controller.ts, src/topology, tests. */
export { probePeer, publishActive, runHooks, svcExtupPatchBody, svcPatchBody } from './adapters.ts';
export { startAdminServer } from './admin.ts';
export { askWitness, classify, queryWitness } from './dns-witness.ts';
export { type AgentConfig, loadAgentConfig, parseHostPort } from './env.ts';
export { LeaseClient, type LeaseReply } from './lease-client.ts';
export { orderedExtupLua, orderedUrlupLua } from './lua.ts';
export { AgentMetrics } from './metrics.ts';
export { Agent, type AgentOptions } from './runtime.ts';
