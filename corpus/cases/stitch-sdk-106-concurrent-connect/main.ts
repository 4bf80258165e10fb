// stitch-sdk#106 "prevent concurrent connect() calls via promise-based lock": concurrent
// callTool() calls before the client is connected each see isConnected === false and each call
// connect(), creating duplicate transports and connecting the client twice.
class Transport {
  static opened = 0;
  async start() {
    Transport.opened++;
    await new Promise((r) => setTimeout(r, 20));
  }
}

class StitchClient {
  private isConnected = false;
  private transport: Transport | undefined;

  private async connect() {
    this.transport = new Transport();
    await this.transport.start();
    this.isConnected = true;
  }

  async callTool(name: string) {
    if (!this.isConnected) {
      await this.connect();
    }
    return `${name}: ok`;
  }
}

async function main() {
  const client = new StitchClient();
  const results = await Promise.all([client.callTool("list_projects"), client.callTool("get_screen")]);
  console.log(results, "transports opened:", Transport.opened);
}

main();
