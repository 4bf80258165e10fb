// node-health-check#36 "Unreference the setInterval to allow the process to exit": the health
// check starts a ref'd setInterval in its constructor, so any program that uses it, a script or
// a test run, never exits.
class HealthCheck {
  private ok = true;
  private readonly interval: NodeJS.Timeout;
  constructor(private readonly check: () => Promise<boolean>, intervalMs = 1000) {
    this.interval = setInterval(() => {
      this.check().then((ok) => (this.ok = ok));
    }, intervalMs);
  }
  get healthy() {
    return this.ok;
  }
  stop() {
    clearInterval(this.interval);
  }
}

async function main() {
  const health = new HealthCheck(async () => true, 200);
  await new Promise((r) => setTimeout(r, 50));
  console.log("healthy:", health.healthy);
  console.log("script done");
}

main();
