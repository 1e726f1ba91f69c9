// A real Prometheus (Debian's package) on a free loopback port. What it scrapes comes from file
// service discovery: every JSON file in `targetsDir` is a list of targets, and Prometheus picks up
// new, changed and removed files by itself within a second or two, so each test file (or
// `make run-infra`) adds its own services' metrics addresses without touching the others'.
// The lifecycle API is on (`POST /-/reload` re-reads the configuration and the rule files).
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '@freechat/shared';
import { startProcess, waitFor, type ManagedProcess } from './managed-process.js';
import { INFRA_SCRIPTS, REPO_ROOT } from './paths.js';

/** The example alerting rules, loaded by `make infra-up`'s Prometheus. */
export const ALERT_RULES_DIR = path.join(REPO_ROOT, 'charts', 'freechat', 'alerts');

export interface ScrapeTarget {
  /** `host:port` of a `/metrics` endpoint. */
  readonly address: string;
  /** The service it belongs to (`auth`, `chat`, `inference`, `gateway`): becomes the `job` label. */
  readonly service: string;
  /** More target labels (e.g. `instance_name`). */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface PrometheusServer {
  /** `http://127.0.0.1:PORT`: the UI and the HTTP API (`/api/v1/query`). */
  readonly url: string;
  /** Where file service discovery looks for `*.json` target files. */
  readonly targetsDir: string;
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /** Configuration, TSDB, target files and the log. */
  readonly dataDir: string;
  /** How often every target is scraped (and rules evaluated); default 1 s for tests, `make infra-up` uses 5 s. */
  readonly scrapeInterval?: string;
  readonly keepAlive?: boolean;
}

/** Installs Prometheus from apt if needed and returns the binary's path. */
export function ensurePrometheus(): string {
  return execFileSync(path.join(INFRA_SCRIPTS, 'ensure-prometheus.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** promtool (shipped with the prometheus package), next to the prometheus binary. */
export function promtoolPath(): string {
  return path.join(path.dirname(ensurePrometheus()), 'promtool');
}

/** The configuration Prometheus runs with: one job per target file, the repo's alerting rules. */
export function prometheusConfig(options: { targetsDir: string; scrapeInterval: string; ruleFiles: readonly string[] }): string {
  // JSON is YAML: no YAML writer needed.
  return `${JSON.stringify(
    {
      global: { scrape_interval: options.scrapeInterval, evaluation_interval: options.scrapeInterval, scrape_timeout: options.scrapeInterval },
      rule_files: options.ruleFiles,
      scrape_configs: [
        {
          job_name: 'freechat',
          file_sd_configs: [{ files: [path.join(options.targetsDir, '*.json')], refresh_interval: '1s' }],
        },
      ],
    },
    null,
    2,
  )}\n`;
}

/**
 * Writes (atomically) a file_sd target file `<targetsDir>/<name>.json`; Prometheus scrapes the
 * targets from its next discovery refresh on (about a second). Returns a function removing them.
 */
export function writeScrapeTargets(targetsDir: string, name: string, targets: readonly ScrapeTarget[]): () => void {
  mkdirSync(targetsDir, { recursive: true });
  const file = path.join(targetsDir, `${name}.json`);
  const groups = targets.map((target) => ({ targets: [target.address], labels: { job: target.service, ...target.labels } }));
  writeFileSync(`${file}.tmp`, `${JSON.stringify(groups, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return () => rmSync(file, { force: true });
}

export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusServer> {
  const binary = ensurePrometheus();
  const port = await freePort();
  const targetsDir = path.join(options.dataDir, 'targets');
  mkdirSync(targetsDir, { recursive: true });
  const configFile = path.join(options.dataDir, 'prometheus.yml');
  writeFileSync(
    configFile,
    prometheusConfig({
      targetsDir,
      scrapeInterval: options.scrapeInterval ?? '1s',
      // A person's Prometheus shows the example alerts; the tests' runs without them, since a rule
      // file that does not load stops Prometheus (the rules have their own promtool test).
      ruleFiles: options.keepAlive ? [path.join(ALERT_RULES_DIR, '*.rules.yaml')] : [],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const proc = startProcess({
    name: 'prometheus',
    command: binary,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(options.dataDir, 'tsdb')}`,
      '--storage.tsdb.retention.time=2d',
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--log.level=warn',
    ],
    cwd: options.dataDir,
    logFile: path.join(options.dataDir, 'prometheus.log'),
    ...(options.keepAlive !== undefined && { keepAlive: options.keepAlive }),
  });
  try {
    await waitFor(`prometheus at ${url}`, async () => (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) })).ok, {
      timeoutMs: 30_000,
      process: proc,
    });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { url, targetsDir, process: proc, stop: () => proc.stop() };
}
