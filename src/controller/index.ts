/** Public surface of the controller core: types + pure functions. Importers: src/agent, simulator/, src/topology. */
export * from './core.ts';
export type * from './types.ts';
