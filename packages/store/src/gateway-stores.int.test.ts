import { randomUUID } from 'node:crypto';
import { AgentrixError } from '@agentrix/core';
import { createGateway } from '@agentrix/gateway';
import { budgetStoreContract } from '@agentrix/gateway/testing';
import { MockLLM } from '@agentrix/testing';
import { describe, expect, it, vi } from 'vitest';
import { gatewayStoresContract } from './gateway-stores.contract.js';
import { SqlBudgetStore } from './sql-budget-store.js';
import { SqlLedger } from './sql-ledger.js';
import { storeMigrations } from './store-migrations.js';
import { useTestPostgres } from './testing/suite-databases.js';

const url = process.env.DATABASE_URL;

const MODELS = {
  'test-small': { inputPerMillion: 1, outputPerMillion: 2, contextWindow: 8_000, maxOutputTokens: 1_000 },
};

describe.skipIf(!url)('Postgres', () => {
  const postgres = useTestPostgres(url!, { migrations: storeMigrations });

  budgetStoreContract('SqlBudgetStore on PostgreSQL', () => new SqlBudgetStore({ database: postgres().database }));
  gatewayStoresContract('PostgreSQL server', () => postgres().database);

  describe('gateways in two processes share one Postgres budget', () => {
    it('100 concurrent calls through two gateways stay under one cap, with zero overshoot', async () => {
      // Each "process" has its own pool on the same schema. Worst case per call: 9 prompt tokens
      // (with the margin) + 50 output = $0.000109 reserved, and the provider answers exactly that.
      const databases = [postgres().database, await postgres().openAnother()];
      const budget = `team-${randomUUID()}`;
      const gateways = databases.map((database) =>
        createGateway({
          provider: new MockLLM({ fallback: { text: 'ok', usage: { inputTokens: 9, outputTokens: 50 } } }),
          models: MODELS,
          tiers: { small: 'test-small' },
          budgets: [{ id: budget, scope: 'global', period: 'day', usd: 0.001 }],
          budgetStore: new SqlBudgetStore({ database }),
          ledger: new SqlLedger({ database }),
          degradation: { planOnly: false },
        }),
      );
      // Watch the shared counter while the calls run: spent + reserved must never pass the cap.
      let overshoot = 0;
      for (const gateway of gateways) {
        gateway.events.on('budget.reserved', () => {
          void gateway.budgetStatus().then((status) => {
            for (const line of status) overshoot = Math.max(overshoot, line.spent + line.reserved - line.limit);
          });
        });
      }
      const results = await Promise.allSettled(
        Array.from({ length: 100 }, (_, index) =>
          gateways[index % 2]!.generate({
            messages: [{ role: 'user', content: 'tight' }],
            maxTokens: 50,
            scope: { workflowId: budget },
          }),
        ),
      );
      const ok = results.filter((result) => result.status === 'fulfilled').length;
      const refused = results.filter(
        (result) =>
          result.status === 'rejected' &&
          AgentrixError.isInstance(result.reason) &&
          result.reason.code === 'BUDGET_EXCEEDED',
      ).length;
      expect(ok + refused).toBe(100);
      expect(ok).toBe(9);
      const [status] = await gateways[1]!.budgetStatus();
      expect(status!.reserved).toBe(0);
      expect(status!.spent).toBeLessThanOrEqual(status!.limit);
      expect(status!.spent).toBeCloseTo(9 * 0.000109, 9);
      expect(overshoot).toBeLessThanOrEqual(1e-12);
      // Both gateways write to the one ledger (in the background, after each call): every call is
      // there once, successes and refusals.
      await vi.waitFor(async () => {
        const report = await gateways[0]!.report();
        expect(report.byWorkflow[budget]).toMatchObject({ calls: 100, errors: 91 });
        expect(report.byWorkflow[budget]!.costUsd).toBeLessThanOrEqual(0.001);
      });
      await Promise.all(gateways.map((gateway) => gateway.close()));
    });
  });
});
