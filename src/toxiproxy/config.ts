/**
 * The `--config` file: a JSON array of proxies in /populate format (spec §1), e.g.
 * `[{"name":"db","listen":"127.0.0.1:25432","upstream":"127.0.0.1:5432"}]`.
 * Decoded with the API's rules (case-insensitive keys, unknown keys ignored), but checked
 * strictly up front: Go only logs config errors, we refuse to start with one clear line.
 */
import { readFile } from 'node:fs/promises';
import { BadInputError } from '../errors.ts';
import { splitHostPort } from './address.ts';
import { decodeProxyFields, type ProxyConfig } from './collection.ts';
import { decodeDocument, GoJsonError, lineColumn } from './gojson.ts';

/** What is wrong with one proxy entry, or undefined. `seen` collects names across entries. */
function problemWith(config: Partial<ProxyConfig> | undefined, seen: Set<string>): string | undefined {
  if (typeof config?.name !== 'string' || config.name === '') return 'missing required field: name';
  if (typeof config.upstream !== 'string' || config.upstream === '')
    return 'missing required field: upstream';
  if (seen.has(config.name)) return `duplicate proxy name "${config.name}"`;
  seen.add(config.name);
  if (config.listen !== undefined && typeof config.listen !== 'string') return 'listen must be a string';
  if (config.enabled !== undefined && typeof config.enabled !== 'boolean')
    return 'enabled must be true or false';
  if (config.protocol !== undefined && config.protocol !== 'tcp' && config.protocol !== 'udp')
    return 'protocol must be "tcp" or "udp"';
  if (config.enabled !== false) {
    const split = splitHostPort(config.listen ?? '');
    if ('error' in split) return `bad listen "${config.listen ?? ''}": ${split.error}`;
  }
  return undefined;
}

function normalize(config: ProxyConfig): ProxyConfig {
  return {
    name: config.name,
    listen: config.listen ?? '',
    upstream: config.upstream,
    enabled: config.enabled ?? true,
    protocol: config.protocol ?? 'tcp',
  };
}

/** Check a typed list (the programmatic `config` option); throws BadInputError naming the entry. */
export function validateProxyConfigs(configs: readonly ProxyConfig[]): ProxyConfig[] {
  const seen = new Set<string>();
  configs.forEach((config, i) => {
    const problem = problemWith(config, seen);
    if (problem !== undefined) throw new BadInputError(problem, `config proxy ${i + 1}`);
  });
  return configs.map(normalize);
}

export async function loadProxyConfigFile(file: string): Promise<ProxyConfig[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new BadInputError(`cannot read config file (${reason})`, file);
  }
  const where = (offset: number | undefined): string => {
    if (offset === undefined) return file;
    const { line, column } = lineColumn(text, offset);
    return `${file}:${line}:${column}`;
  };
  let doc: ReturnType<typeof decodeDocument>;
  try {
    doc = decodeDocument(text);
  } catch (err) {
    if (err instanceof GoJsonError)
      throw new BadInputError(`invalid JSON: ${err.message}`, where(err.offset));
    throw err;
  }
  if (doc.kind !== 'array') {
    throw new BadInputError('expected a JSON array of proxies (/populate format)', where(doc.at));
  }
  const seen = new Set<string>();
  return doc.items.map((item, i) => {
    let fields: Partial<ProxyConfig>;
    try {
      fields = decodeProxyFields(item);
    } catch (err) {
      if (err instanceof GoJsonError)
        throw new BadInputError(`proxy ${i + 1}: ${err.message}`, where(item.at));
      throw err;
    }
    const problem = problemWith(fields, seen);
    if (problem !== undefined) throw new BadInputError(`proxy ${i + 1}: ${problem}`, where(item.at));
    return normalize(fields as ProxyConfig);
  });
}
