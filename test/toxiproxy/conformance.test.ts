/**
 * Conformance suite for a Toxiproxy v2.12.0-compatible server (spec §11, A and B cases).
 *
 * Target: the server at TOXIPROXY_URL if set (proxies and test upstreams then bind
 * TOXIPROXY_TEST_HOST, default 127.0.0.1), else a fresh built-in server on 127.0.30.1,
 * port 0. One file on purpose: the cases need the server to themselves (GET /proxies is
 * compared to {}, /reset touches every proxy), and vitest runs the tests of one file in
 * sequence, so two suites can never clean up each other's proxies.
 */
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { controlPlaneCases } from './conformance/control-plane.ts';
import { dataPlaneCases } from './conformance/data-plane.ts';
import { deleteAllProxies, startTarget, type Target, type Upstream } from './helpers.ts';

let target: Target | undefined;
const sharedUpstreams: Upstream[] = [];
const getTarget = (): Target => {
  if (!target) throw new Error('conformance target not started');
  return target;
};

beforeAll(async () => {
  target = await startTarget('127.0.30.1');
  await deleteAllProxies(target);
});

afterEach(async () => {
  if (target) await deleteAllProxies(target);
});

afterAll(async () => {
  for (const upstream of sharedUpstreams.splice(0)) await upstream.close();
  await target?.close();
});

describe('toxiproxy conformance', () => {
  controlPlaneCases(getTarget, (u) => sharedUpstreams.push(u));
  dataPlaneCases(getTarget);
});
