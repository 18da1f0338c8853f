import { run } from './main.js';

await run();
// Pollers and keep-alive sockets of the SDK can hold the event loop open after the work is done.
process.exit();
