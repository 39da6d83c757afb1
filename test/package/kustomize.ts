/**
 * A small offline renderer for the kustomize subset deploy/kubernetes uses, so the manifests
 * can be validated without kubectl or a cluster: resources (files and kustomization dirs),
 * namespace, labels (metadata only, includeSelectors: false), images, and patches given by
 * `path` as strategic-merge patches (maps merge; containers/env/volumes/volumeMounts merge
 * by `name`, as their Kubernetes patchMergeKey; other lists are replaced). Any other
 * kustomization field is an error, so the renderer can never silently skip what
 * `kubectl kustomize` would apply.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  labels?: Array<{ pairs: Record<string, string>; includeSelectors?: boolean }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
  patches?: Array<{ path: string }>;
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'labels', 'images', 'patches']);
const MERGE_BY_NAME = new Set(['containers', 'initContainers', 'env', 'volumes', 'volumeMounts']);
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function readYamlDocs(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((d): d is K8sObject => d !== null);
}

function mergeByName(base: unknown[], patch: unknown[]): unknown[] {
  const out = [...base];
  for (const p of patch) {
    const i = isObj(p) ? out.findIndex((b) => isObj(b) && b.name === p.name) : -1;
    if (i >= 0) out[i] = strategicMerge(out[i], p);
    else out.push(p);
  }
  return out;
}

export function strategicMerge(base: unknown, patch: unknown, key = ''): unknown {
  if (Array.isArray(base) && Array.isArray(patch) && MERGE_BY_NAME.has(key)) return mergeByName(base, patch);
  if (!isObj(base) || !isObj(patch)) return patch;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = k in base ? strategicMerge(base[k], v, k) : v;
  }
  return out;
}

const sameTarget = (a: K8sObject, b: K8sObject) => a.kind === b.kind && a.metadata.name === b.metadata.name;

function applyImages(obj: unknown, images: NonNullable<Kustomization['images']>): void {
  if (Array.isArray(obj)) for (const v of obj) applyImages(v, images);
  if (!isObj(obj)) return;
  for (const [k, v] of Object.entries(obj)) {
    if ((k === 'containers' || k === 'initContainers') && Array.isArray(v)) {
      for (const c of v) {
        if (!isObj(c) || typeof c.image !== 'string') continue;
        const name = c.image.replace(/[:@].*$/, '');
        const rule = images.find((r) => r.name === name);
        if (rule) c.image = `${rule.newName ?? name}:${rule.newTag ?? 'latest'}`;
      }
    } else applyImages(v, images);
  }
}

/** The objects `kubectl kustomize dir` would print, for the subset described above. */
export function renderKustomization(dir: string): K8sObject[] {
  const file = join(dir, 'kustomization.yaml');
  const k = parseYaml(readFileSync(file, 'utf8')) as Kustomization;
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key)) throw new Error(`${file}: field ${key} is not supported by this renderer`);
  }
  let objects: K8sObject[] = [];
  for (const res of k.resources ?? []) {
    const path = join(dir, res);
    objects.push(...(statSync(path).isDirectory() ? renderKustomization(path) : readYamlDocs(path)));
  }
  for (const { path } of k.patches ?? []) {
    for (const patch of readYamlDocs(join(dir, path))) {
      const i = objects.findIndex((o) => sameTarget(o, patch));
      if (i < 0) throw new Error(`${join(dir, path)}: no ${patch.kind} ${patch.metadata.name} to patch`);
      objects[i] = strategicMerge(objects[i], patch) as K8sObject;
    }
  }
  objects = objects.map((o) => structuredClone(o));
  for (const o of objects) {
    if (k.namespace && !CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
    for (const l of k.labels ?? []) {
      if (l.includeSelectors) throw new Error(`${file}: labels.includeSelectors is not supported`);
      o.metadata.labels = { ...o.metadata.labels, ...l.pairs };
    }
    if (k.images) applyImages(o, k.images);
  }
  return objects;
}
