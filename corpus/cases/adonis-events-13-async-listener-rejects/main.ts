// adonisjs/events#13 "Unhandled promise rejection on events": a listener that is an async
// function throws; the emitter calls it and drops the promise it returns, so the rejection is
// unhandled. Before Node 15 a warning, since then the process crashes. The maintainer shows the
// same with Node's own EventEmitter, used here.
import { EventEmitter } from "node:events";

class BoomListener {
  public async handleBoom(payload: { orderId: number }) {
    if (payload.orderId < 0) throw new Error("boom");
    console.log("handled", payload.orderId);
  }
}

const emitter = new EventEmitter();
const listener = new BoomListener();
emitter.on("i-boom-ur-app", (p) => listener.handleBoom(p));

function placeOrder(orderId: number) {
  emitter.emit("i-boom-ur-app", { orderId });
  return { ok: true };
}

console.log(placeOrder(1));
console.log(placeOrder(-1));
setTimeout(() => console.log("server still up"), 50);
