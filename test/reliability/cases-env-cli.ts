/**
 * Bad controller environments and bad CLI flags. An env case is a set of overrides on a valid
 * environment and the variable the one-line error must name; a CLI case is argv and what the
 * line must say.
 */
export const VALID_ENV: Record<string, string> = {
  REGION: 'b',
  PEER_REGION: 'a',
  CLOUDFLARE_WORKER_URL: 'http://127.0.10.1:8787',
  LEASE_SECRET: 'secret-b-456-0123456789',
  DNS_WITNESSES: '127.0.10.2:5353,127.0.10.3,127.0.10.4:53',
  PEER_HEALTH_URL: 'http://127.0.10.5:8080/health',
  PEER_APP_ADDR: '127.0.1.10',
  TOMBSTONE_ADDR: '127.0.9.9',
};

export interface EnvCase {
  name: string;
  env: Record<string, string | undefined>;
  variable: string;
  what: RegExp;
}

const e = (name: string, env: EnvCase['env'], variable: string, what: RegExp): EnvCase => ({
  name,
  env,
  variable,
  what,
});

export const ENV_CASES: EnvCase[] = [
  e(
    'PEER_APP_ADDR equal to TOMBSTONE_ADDR',
    { PEER_APP_ADDR: '127.0.9.9' },
    'PEER_APP_ADDR',
    /TOMBSTONE_ADDR/,
  ),
  e('APP_ADDR equal to PEER_APP_ADDR', { APP_ADDR: '127.0.1.10' }, 'APP_ADDR', /PEER_APP_ADDR/),
  e('APP_ADDR equal to TOMBSTONE_ADDR', { APP_ADDR: '127.0.9.9' }, 'APP_ADDR', /TOMBSTONE_ADDR/),
  e('PEER_APP_ADDR 999.1.1.1', { PEER_APP_ADDR: '999.1.1.1' }, 'PEER_APP_ADDR', /IPv4/),
  e('PEER_APP_ADDR with three octets', { PEER_APP_ADDR: '10.0.1' }, 'PEER_APP_ADDR', /IPv4/),
  e('PEER_APP_ADDR a host name', { PEER_APP_ADDR: 'app.example' }, 'PEER_APP_ADDR', /IPv4/),
  e('TOMBSTONE_ADDR with a leading zero', { TOMBSTONE_ADDR: '127.0.09.9' }, 'TOMBSTONE_ADDR', /IPv4/),
  e('APP_ADDR 256.0.0.1', { APP_ADDR: '256.0.0.1' }, 'APP_ADDR', /IPv4/),
  e(
    'a witness on port 0',
    { DNS_WITNESSES: '127.0.10.2:0,127.0.10.3,127.0.10.4' },
    'DNS_WITNESSES',
    /port from 1 to 65535/,
  ),
  e(
    'a witness on port 70000',
    { DNS_WITNESSES: '127.0.10.2:70000,127.0.10.3' },
    'DNS_WITNESSES',
    /host:port/,
  ),
  e('a witness at 999.1.1.1', { DNS_WITNESSES: '999.1.1.1:53,127.0.10.3' }, 'DNS_WITNESSES', /host:port/),
  e(
    'a witness listed twice',
    { DNS_WITNESSES: '127.0.10.2:53,127.0.10.2,127.0.10.4' },
    'DNS_WITNESSES',
    /listed twice/,
  ),
  e('a witness with a path', { DNS_WITNESSES: '127.0.10.2:53/x' }, 'DNS_WITNESSES', /host:port/),
  e('no witnesses', { DNS_WITNESSES: ' , ' }, 'DNS_WITNESSES', /host:port/),
  e('quorum above the witnesses', { QUORUM: '4' }, 'QUORUM', /witnessQuorum|quorum/i),
  e('quorum 0', { QUORUM: '0' }, 'QUORUM', /from 1 to 1000/),
  e('quorum 5000', { QUORUM: '5000' }, 'QUORUM', /from 1 to 1000/),
  e('LEASE_TTL_MS 3e10', { LEASE_TTL_MS: '30000000000' }, 'LEASE_TTL_MS', /from 1 to 86400000/),
  e(
    'LEASE_TTL_MS in exponent notation',
    { LEASE_TTL_MS: '3e10' },
    'LEASE_TTL_MS',
    /integer number of milliseconds/,
  ),
  e(
    'PROMOTION_HOLD_DOWN_MS 1e25',
    { PROMOTION_HOLD_DOWN_MS: '10000000000000000000000000' },
    'PROMOTION_HOLD_DOWN_MS',
    /0 to 86400000/,
  ),
  e('HEARTBEAT_MS 0', { HEARTBEAT_MS: '0' }, 'HEARTBEAT_MS', /from 1/),
  e('HEARTBEAT_MS negative', { HEARTBEAT_MS: '-5' }, 'HEARTBEAT_MS', /milliseconds/),
  e('MAX_PAUSE_MS over a day', { MAX_PAUSE_MS: '86400001' }, 'MAX_PAUSE_MS', /0 to 86400000/),
  e('MAX_DELAY_MS fraction', { MAX_DELAY_MS: '1.5' }, 'MAX_DELAY_MS', /integer/),
  e(
    'PEER_CHECK_INTERVAL_MS over a day',
    { PEER_CHECK_INTERVAL_MS: '99999999999' },
    'PEER_CHECK_INTERVAL_MS',
    /86400000/,
  ),
  e('PEER_FAILURE_THRESHOLD 100000', { PEER_FAILURE_THRESHOLD: '100000' }, 'PEER_FAILURE_THRESHOLD', /1000/),
  e(
    'CANDIDATE_TIMEOUT_MS huge',
    { CANDIDATE_TIMEOUT_MS: '9007199254740993' },
    'CANDIDATE_TIMEOUT_MS',
    /86400000/,
  ),
  e('HOOK_TIMEOUT_MS huge', { HOOK_TIMEOUT_MS: '2147483648000' }, 'HOOK_TIMEOUT_MS', /86400000/),
  e('DNS_QUERY_TIMEOUT_MS words', { DNS_QUERY_TIMEOUT_MS: 'soon' }, 'DNS_QUERY_TIMEOUT_MS', /milliseconds/),
  e('SVC_TTL_SECONDS a year', { SVC_TTL_SECONDS: '31536000' }, 'SVC_TTL_SECONDS', /86400/),
  e('MAX_CLOCK_DRIFT_RATE 0.7', { MAX_CLOCK_DRIFT_RATE: '0.7' }, 'MAX_CLOCK_DRIFT_RATE', /0\.5/),
  e(
    'a one-character secret (its value is not echoed)',
    { LEASE_SECRET: 'x' },
    'LEASE_SECRET',
    /at least 16 characters \(got a value of length 1\)$/,
  ),
  e('a 15-character secret', { LEASE_SECRET: '0123456789abcde' }, 'LEASE_SECRET', /at least 16/),
  e('no secret', { LEASE_SECRET: undefined }, 'LEASE_SECRET', /required/),
  e(
    'worker URL without a scheme',
    { CLOUDFLARE_WORKER_URL: '127.0.0.1:8787' },
    'CLOUDFLARE_WORKER_URL',
    /URL/,
  ),
  e('worker URL ftp', { CLOUDFLARE_WORKER_URL: 'ftp://127.0.0.1/' }, 'CLOUDFLARE_WORKER_URL', /http/),
  e('ADMIN_ADDR port 70000', { ADMIN_ADDR: '127.0.0.1:70000' }, 'ADMIN_ADDR', /host:port/),
  e('ADMIN_ADDR with a space', { ADMIN_ADDR: '127.0.0.1 :9090' }, 'ADMIN_ADDR', /host:port/),
  e('REGION with a slash', { REGION: 'a/b' }, 'REGION', /region/),
  e('unknown MODE', { MODE: 'yolo' }, 'MODE', /automatic/),
  e('unknown LOG_LEVEL', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /info/),
  e(
    'PDNS_API_URLS without APP_ADDR',
    { PDNS_API_URLS: 'http://127.0.0.1:8081', PDNS_API_KEY: 'k' },
    'APP_ADDR',
    /required/,
  ),
];

export interface CliCase {
  name: string;
  argv: string[];
  what: RegExp;
}

const c = (name: string, argv: string[], what: RegExp): CliCase => ({ name, argv, what });

export const CLI_CASES: CliCase[] = [
  c('an unknown command', ['nope'], /unknown command 'nope'/),
  c('an unknown option of run', ['run', '--bogus', 'x.yaml'], /unknown option '--bogus'/),
  c('run without a file', ['run'], /missing required argument 'file'/),
  c('run of a missing file', ['run', '/nonexistent/x.yaml'], /x\.yaml/),
  c(
    'run with time scale 0',
    ['run', 'scenarios/primary-region-crash.yaml', '--time-scale', '0'],
    /--time-scale/,
  ),
  c(
    'run with time scale abc',
    ['run', 'scenarios/primary-region-crash.yaml', '--time-scale', 'abc'],
    /--time-scale/,
  ),
  c('sim --duration 99999h', ['sim', '--duration', '99999h'], /--duration: must be at most 24h/),
  c('sim --duration 1e308', ['sim', '--duration', '1e308'], /--duration/),
  c('sim --duration 0s', ['sim', '--duration', '0s'], /--duration/),
  c('sim --runs 0', ['sim', '--runs', '0'], /--runs/),
  c('sim --runs 1e9', ['sim', '--runs', '1000000000'], /--runs/),
  c('sim --runs abc', ['sim', '--runs', 'abc'], /--runs/),
  c('sim --seed beyond 32 bits', ['sim', '--seed', '99999999999'], /--seed/),
  c('sim --path without --seed', ['sim', '--path', '1:2'], /--path/),
  c('sim --lease-backend etcd', ['sim', '--lease-backend', 'etcd'], /--lease-backend/),
  c('sim --property speed', ['sim', '--property', 'speed'], /--property/),
  c('sim --runs without a value', ['sim', '--runs'], /argument missing/),
  c(
    'toxiproxy --host 0.0.0.0',
    ['toxiproxy', '--host', '0.0.0.0'],
    /--host: "0\.0\.0\.0" is not a loopback address/,
  ),
  c('toxiproxy --host 192.0.2.1', ['toxiproxy', '--host', '192.0.2.1'], /not a loopback address/),
  c('toxiproxy --host ::', ['toxiproxy', '--host', '::'], /not a loopback address/),
  c('toxiproxy --port 70000', ['toxiproxy', '--port', '70000'], /--port/),
  c('toxiproxy --port -1', ['toxiproxy', '--port', '-1'], /--port|option/),
  c('toxiproxy --port abc', ['toxiproxy', '--port', 'abc'], /--port/),
  c('toxiproxy --config missing', ['toxiproxy', '--config', '/nonexistent/p.json'], /p\.json/),
  c('gameday without a plan', ['gameday'], /missing required argument/),
  c('gameday of a missing plan', ['gameday', '/nonexistent/plan.yaml'], /plan\.yaml/),
  c('gameday --bogus', ['gameday', 'x.yaml', '--bogus'], /unknown option '--bogus'/),
  c('export without --to', ['export', 'gamedays/primary-isolation.yaml'], /--to/),
  c('export --to nomad', ['export', 'gamedays/primary-isolation.yaml', '--to', 'nomad'], /nomad|--to/),
  c('report without a dir', ['report'], /run directory/),
  c('demo --only of an unknown scenario', ['demo', '--only', 'no-such-scenario'], /no-such-scenario/),
  c('up --time-scale 7', ['up', '--time-scale', '7'], /--time-scale/),
];
