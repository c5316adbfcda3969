export type { BotApiCall, BotApiFault, BotMessage, FakeBotApiOptions } from './fake-bot-api.js';
export { FakeBotApi } from './fake-bot-api.js';
