// The example alerting rules and the Grafana dashboard in charts/freechat/: the rules pass
// `promtool check rules` and their unit tests (`promtool test rules`, Debian's prometheus package),
// and every freechat_* metric they or the dashboard's panels use is one a service defines.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALERT_RULES_DIR, promtoolPath } from '../scripts/infra/prometheus.js';
import { REPO_ROOT } from '../scripts/infra/paths.js';
import { infraEndpoints } from './infra/endpoints.js';

const DASHBOARDS_DIR = path.join(REPO_ROOT, 'charts', 'freechat', 'dashboards');
const ruleFiles = readdirSync(ALERT_RULES_DIR).filter((f) => f.endsWith('.rules.yaml'));

function promtool(...args: string[]): string {
  return execFileSync(promtoolPath(), args, { cwd: ALERT_RULES_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every metric name a service registers (`name: 'freechat_...'` in its sources). */
function definedMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'dist' && entry.name !== 'test') walk(full);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        for (const match of readFileSync(full, 'utf8').matchAll(/name:\s*'(freechat_[a-z0-9_]+)'/g)) names.add(match[1]!);
      }
    }
  };
  walk(path.join(REPO_ROOT, 'services'));
  return names;
}

/** freechat_* series names used in PromQL text, without the histogram suffixes. */
function usedMetrics(text: string): Set<string> {
  return new Set([...text.matchAll(/\bfreechat_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')));
}

describe('alerting rules', () => {
  it('are valid Prometheus rules', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    expect(promtool('check', 'rules', ...ruleFiles)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fire (and stay quiet) as their unit tests expect', () => {
    const tests = readdirSync(path.join(ALERT_RULES_DIR, 'tests')).map((f) => path.join('tests', f));
    expect(promtool('test', 'rules', ...tests)).toContain('SUCCESS');
  });

  it('use only metrics the services define', () => {
    const defined = definedMetrics();
    const used = usedMetrics(ruleFiles.map((f) => readFileSync(path.join(ALERT_RULES_DIR, f), 'utf8')).join('\n'));
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((name) => !defined.has(name))).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  const files = readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json'));

  it('is dashboard JSON whose panels query only metrics the services define', () => {
    expect(files.length).toBeGreaterThan(0);
    const defined = definedMetrics();
    for (const file of files) {
      const dashboard = JSON.parse(readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8')) as {
        uid: string;
        title: string;
        panels: { title: string; type: string; targets?: { expr: string }[] }[];
      };
      expect(dashboard.uid).toBeTruthy();
      const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
      expect(exprs.length).toBeGreaterThan(0);
      const used = usedMetrics(exprs.join('\n'));
      expect([...used].filter((name) => !defined.has(name))).toEqual([]);
    }
  });

  it('has panels whose PromQL a real Prometheus accepts', async () => {
    for (const file of files) {
      const dashboard = JSON.parse(readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
      for (const panel of dashboard.panels) {
        for (const { expr } of panel.targets ?? []) {
          // Grafana's variables, as Grafana would fill them in.
          const query = expr.replaceAll('$__rate_interval', '1m').replaceAll('$hop', '.+');
          const response = await fetch(`${infraEndpoints().prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
          const body = (await response.json()) as { status: string; error?: string };
          expect({ panel: panel.title, status: body.status, error: body.error }).toEqual({ panel: panel.title, status: 'success', error: undefined });
        }
      }
    }
  });
});
