// launchdarkly js-client-sdk#66 "Refactored waitUntilReady() to always resolve even after ready
// event was already emitted": waitUntilReady() only listened for the next 'ready', so a caller
// that asked after the client had become ready waited for ever.
import { EventEmitter, once } from "node:events";

class FlagClient extends EventEmitter {
  private flags: Record<string, boolean> = {};
  constructor() {
    super();
    setImmediate(() => {
      this.flags = { newCheckout: true };
      this.emit("ready");
    });
  }
  async waitUntilReady() {
    await once(this, "ready");
  }
  variation(key: string) {
    return this.flags[key] ?? false;
  }
}

async function loadConfig() {
  await new Promise((r) => setTimeout(r, 20));
  return { theme: "dark" };
}

async function main() {
  const client = new FlagClient();
  const config = await loadConfig();
  await client.waitUntilReady();
  console.log(config.theme, client.variation("newCheckout"));
}

main();
