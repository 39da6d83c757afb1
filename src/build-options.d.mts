import type { BuildOptions, Plugin } from 'esbuild';

export declare const PROGRAM_ENTRIES: { app: string; controller: string };
export declare const WORKER_ENTRIES: { durable: string; 'legacy-kv': string };
export declare function programFile(name: keyof typeof PROGRAM_ENTRIES): string;
export declare function workerFile(variant: keyof typeof WORKER_ENTRIES): string;
export declare const zodEnglishOnly: Plugin;
export declare const PROGRAM_BUILD_OPTIONS: BuildOptions;
export declare const WORKER_BUILD_OPTIONS: BuildOptions;
