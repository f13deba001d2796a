// Types of bin/cli-build.js for the tests that import it.
export declare const ROOT: string;
export declare const BUILD_DIR: string;
export declare const MANIFEST: string;
export declare const ENTRIES: Readonly<
  Record<'etl' | 'simulator-thread', { source: string; compiled: string }>
>;
export declare const RUNTIME_MODULES: { readonly pattern: RegExp; readonly folder: string };
export declare function compiledName(source: string): string;
export declare function compiledModule(source: string): string | undefined;
export declare function freshBuild(
  root?: string,
  buildDir?: string,
): { folder: string; modules: Readonly<Record<string, string>> } | string;
export declare function importEntry(name: 'etl' | 'simulator-thread'): Promise<unknown>;
