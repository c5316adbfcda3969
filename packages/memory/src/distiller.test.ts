import { openTestPglite } from '@agentrix/store/testing';
import { distillerContract } from './distiller.contract.js';

distillerContract('PGlite', openTestPglite);
