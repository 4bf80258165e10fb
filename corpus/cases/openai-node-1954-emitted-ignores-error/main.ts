// openai-node#1954 "Reject emitted promises on error": emitted(event) was documented to reject
// when 'error' is emitted, but only listened for the requested event, so code awaiting an
// event that never comes after an error hangs. The emitter below has the same emitted().
import { EventEmitter } from "node:events";

class StreamEmitter extends EventEmitter {
  emitted(event: string): Promise<unknown> {
    return new Promise((resolve) => {
      this.once(event, resolve);
    });
  }
}

function startStream(): StreamEmitter {
  const stream = new StreamEmitter();
  setTimeout(() => stream.emit("error", new Error("connection reset")), 20);
  return stream;
}

async function main() {
  const stream = startStream();
  stream.on("error", (err) => console.error("stream error:", err.message));
  const final = await stream.emitted("finalContent");
  console.log("final:", final);
}

main();
