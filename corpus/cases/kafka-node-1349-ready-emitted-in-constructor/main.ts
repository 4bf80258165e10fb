// kafka-node#1349 "Fix ready event emitting for producers": the producer emitted 'ready'
// synchronously in its constructor when the client was already ready, before any caller could
// listen; code waiting for 'ready' never started.
import { EventEmitter } from "node:events";

class KafkaClient extends EventEmitter {
  ready = true;
}

class Producer extends EventEmitter {
  constructor(client: KafkaClient) {
    super();
    if (client.ready) this.emit("ready");
    else client.once("ready", () => this.emit("ready"));
  }
  send(topic: string, message: string) {
    console.log("sent", topic, message);
  }
}

const producer = new Producer(new KafkaClient());
const ready = new Promise<void>((resolve) => producer.once("ready", resolve));

async function publish() {
  await ready;
  producer.send("events", "started");
}

publish();
