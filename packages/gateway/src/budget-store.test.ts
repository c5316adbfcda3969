import { budgetStoreContract } from './budget-store.contract.js';
import { InMemoryBudgetStore } from './budget-store.js';

budgetStoreContract('InMemoryBudgetStore', () => new InMemoryBudgetStore());
