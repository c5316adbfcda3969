export { consoleAssetsDir } from './assets-dir.js';
