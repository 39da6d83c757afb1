/**
 * deploy/kubernetes: both overlays render offline (test/package/kustomize.ts) and every object
 * validates against the Kubernetes API schemas shipped in the kubernetes-models npm package
 * (ServiceMonitor: @kubernetes-models/prometheus-operator) — nothing is downloaded. Then the
 * design card's promises are checked across objects (names the schemas cannot relate), and
 * the rendered environment is fed to the agent's own config loader.
 */
import { join } from 'node:path';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/agent/env.ts';
import { PACKAGE_ROOT } from '../../src/package-root.ts';
import { type K8sObject, renderKustomization, strategicMerge } from './kustomize.ts';

const KUSTOMIZE_DIR = join(PACKAGE_ROOT, 'deploy/kubernetes');
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
};

function validateAgainstSchema(o: K8sObject): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!Model) throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
  new Model(o as never).validate();
}

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are navigated loosely in assertions
type Any = any;
const find = (objs: K8sObject[], kind: string, name: string): Any => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`rendered output has no ${kind} ${name}`);
  return o;
};

/** The container's environment as the kubelet would build it (envFrom, then env). */
function containerEnv(objs: K8sObject[], container: Any): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? [])
    Object.assign(env, find(objs, 'ConfigMap', from.configMapRef.name).data);
  for (const e of container.env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else {
      const ref = e.valueFrom.secretKeyRef;
      const value = find(objs, 'Secret', ref.name).stringData?.[ref.key];
      if (value === undefined) throw new Error(`env ${e.name}: secret ${ref.name} has no key ${ref.key}`);
      env[e.name] = value;
    }
  }
  return env;
}

describe.each([
  ['region1', 'region2', 'primary'],
  ['region2', 'region1', 'standby'],
])('overlay %s', (region, peer, initialRole) => {
  const objs = renderKustomization(join(KUSTOMIZE_DIR, 'overlays', region));

  it('every object validates against the Kubernetes schemas', () => {
    expect(objs.map((o) => o.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'Namespace', 'NetworkPolicy', 'Secret', 'Service', 'ServiceMonitor'].sort(),
    );
    for (const o of objs)
      expect(() => validateAgainstSchema(o), `${o.kind} ${o.metadata.name}`).not.toThrow();
  });

  it('matches the design card: failover-controller in platform-services, one replica, region env', () => {
    const d = find(objs, 'Deployment', 'failover-controller');
    expect(d.metadata.namespace).toBe('platform-services');
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy.type).toBe('Recreate');
    const [c] = d.spec.template.spec.containers;
    const cardEnv = Object.fromEntries(c.env.map((e: Any) => [e.name, e.value ?? e.valueFrom]));
    expect(cardEnv.REGION).toBe(region);
    expect(cardEnv.PEER_REGION).toBe(peer);
    expect(cardEnv.CLOUDFLARE_WORKER_URL).toEqual({
      secretKeyRef: { name: 'failover-config', key: 'worker-url' },
    });
    expect(cardEnv.LEASE_SECRET).toEqual({ secretKeyRef: { name: 'failover-config', key: 'lease-secret' } });
    expect(cardEnv.DNS_WITNESSES).toBe('8.8.8.8,1.1.1.1,9.9.9.9');
    expect(cardEnv.QUORUM).toBe('2');
    for (const o of objs.filter((x) => x.kind !== 'Namespace'))
      expect(o.metadata.namespace).toBe('platform-services');
    expect(d.metadata.labels['failover-lab/region']).toBe(region);
  });

  it('probes, Service, ServiceMonitor and annotations all point at the admin port the agent binds', () => {
    const d = find(objs, 'Deployment', 'failover-controller');
    const pod = d.spec.template;
    const [c] = pod.spec.containers;
    const admin = c.ports.find((p: Any) => p.name === 'admin');
    const env = containerEnv(objs, c);
    expect(env.ADMIN_ADDR).toBe(`0.0.0.0:${admin.containerPort}`);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'admin' });
    expect(pod.metadata.annotations['prometheus.io/port']).toBe(String(admin.containerPort));
    expect(pod.metadata.annotations['prometheus.io/path']).toBe('/metrics');
    const svc = find(objs, 'Service', 'failover-controller');
    for (const [k, v] of Object.entries(svc.spec.selector)) expect(pod.metadata.labels[k]).toBe(v);
    for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) expect(pod.metadata.labels[k]).toBe(v);
    const sm = find(objs, 'ServiceMonitor', 'failover-controller');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'admin', path: '/metrics' });
    expect(svc.spec.ports.map((p: Any) => p.name)).toContain('admin');
    expect(c.image).toMatch(/^ghcr\.io\/failover-lab\/failover-controller:\d+\.\d+\.\d+$/);
  });

  it('the rendered environment is a valid configuration for the agent itself', () => {
    const [c] = find(objs, 'Deployment', 'failover-controller').spec.template.spec.containers;
    const config = loadAgentConfig(containerEnv(objs, c));
    expect(config.controller.region).toBe(region);
    expect(config.controller.peerRegion).toBe(peer);
    expect(config.controller.witnessQuorum).toBe(2);
    expect(config.initialRole).toBe(initialRole);
    expect(config.admin).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(config.witnesses.endpoints.map((w) => w.id)).toEqual(['8.8.8.8:53', '1.1.1.1:53', '9.9.9.9:53']);
  });
});

describe('the validation itself', () => {
  const objs = renderKustomization(join(KUSTOMIZE_DIR, 'overlays/region1'));
  const deployment = find(objs, 'Deployment', 'failover-controller');

  it('rejects a Deployment the API server would reject', () => {
    expect(() =>
      validateAgainstSchema(strategicMerge(deployment, { spec: { replicas: 'one' } }) as K8sObject),
    ).toThrow(/replicas/);
    const noSelector = structuredClone(deployment);
    delete noSelector.spec.selector;
    expect(() => validateAgainstSchema(noSelector)).toThrow(/selector/);
  });

  it('the renderer refuses kustomization fields it does not implement', () => {
    expect(() =>
      renderKustomization(join(PACKAGE_ROOT, 'test/package/fixtures/unsupported-kustomization')),
    ).toThrow(/field replicas is not supported/);
  });

  it('strategic merge: containers and env merge by name, other lists are replaced', () => {
    const merged = strategicMerge(
      {
        containers: [
          {
            name: 'a',
            env: [
              { name: 'X', value: '1' },
              { name: 'Y', value: '2' },
            ],
          },
        ],
        args: ['p'],
      },
      { containers: [{ name: 'a', env: [{ name: 'Y', value: '3' }] }], args: ['q'] },
    );
    expect(merged).toEqual({
      containers: [
        {
          name: 'a',
          env: [
            { name: 'X', value: '1' },
            { name: 'Y', value: '3' },
          ],
        },
      ],
      args: ['q'],
    });
  });
});
