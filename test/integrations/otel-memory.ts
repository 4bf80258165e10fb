// A minimal in-memory TracerProvider, registered through the API's global registration: it
// records every span with its parent, attributes, events, status and whether it ended.
import { trace } from "@opentelemetry/api";
import type { Attributes, Context, Exception, Span, SpanContext, SpanOptions, SpanStatus, Tracer, TracerProvider } from "@opentelemetry/api";

export class RecordedSpan {
  readonly attributes: Record<string, unknown> = {};
  readonly events: Array<{ name: string; attributes: Attributes | undefined }> = [];
  readonly exceptions: Exception[] = [];
  status: SpanStatus | undefined;
  ended = false;
  readonly #ctx: SpanContext;

  constructor(
    public name: string,
    readonly tracerName: string,
    readonly parent: RecordedSpan | undefined,
    attributes: Attributes | undefined,
    id: number,
  ) {
    Object.assign(this.attributes, attributes);
    const spanId = id.toString(16).padStart(16, "0");
    this.#ctx = { traceId: parent?.spanContext().traceId ?? spanId.padStart(32, "0"), spanId, traceFlags: 1 };
  }
  spanContext(): SpanContext {
    return this.#ctx;
  }
  setAttribute(key: string, value: unknown): this {
    this.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.attributes, attributes);
    return this;
  }
  addEvent(name: string, attributes?: Attributes): this {
    this.events.push({ name, attributes });
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }
  updateName(name: string): this {
    this.name = name;
    return this;
  }
  end(): void {
    if (this.ended) throw new Error(`span "${this.name}" ended twice`);
    this.ended = true;
  }
  isRecording(): boolean {
    return !this.ended;
  }
  recordException(exception: Exception): void {
    this.exceptions.push(exception);
  }
}

export class MemoryTracerProvider implements TracerProvider {
  readonly spans: RecordedSpan[] = [];
  #nextId = 1;

  getTracer(name: string): Tracer {
    const startSpan = (spanName: string, options?: SpanOptions, context?: Context): Span => {
      const parent = context ? (trace.getSpan(context) as RecordedSpan | undefined) : undefined;
      const span = new RecordedSpan(spanName, name, parent, options?.attributes, this.#nextId++);
      this.spans.push(span);
      return span;
    };
    const startActiveSpan = () => {
      throw new Error("not used by asyncdoctor");
    };
    return { startSpan, startActiveSpan };
  }

  reset(): void {
    this.spans.length = 0;
  }
}

/** Registers one provider for the whole test process (the global can be set once). */
export const provider = new MemoryTracerProvider();
trace.setGlobalTracerProvider(provider);
