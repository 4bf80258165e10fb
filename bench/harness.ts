/**
 * Side-by-side measurement: ours and a peer in the same run, interleaved, reported as a ratio.
 * Absolute times on a shared machine mean little; the ratio is the figure.
 */
import { Bench } from "tinybench";

/** One comparison. */
export interface Comparison {
  readonly label: string;
  /** asyncdoctor's variant. */
  readonly ours: () => unknown;
  /** The peer it is measured against. */
  readonly peer: () => unknown;
  readonly peerName: string;
  /** The ratio (ours / peer) the issue sets as a target, if any. */
  readonly target?: number;
}

/** Measures each comparison (several interleaved rounds), prints one line each, returns the ratios. */
export async function compare(
  comparisons: readonly Comparison[],
  opts: { time?: number; rounds?: number; /** minimum runs per side and round (tinybench's default 64); lower for slow operations */ iterations?: number } = {},
): Promise<number[]> {
  const ratios: number[] = [];
  for (const c of comparisons) {
    const samples: number[] = [];
    let oursMean = 0;
    let peerMean = 0;
    for (let round = 0; round < (opts.rounds ?? 3); round++) {
      const bench = new Bench({
        time: opts.time ?? 300,
        warmupTime: 50,
        ...(opts.iterations !== undefined ? { iterations: opts.iterations, warmupIterations: 1 } : {}),
      });
      // alternate which goes first, so neither always runs on a warmer machine
      if (round % 2 === 0) bench.add("ours", c.ours).add("peer", c.peer);
      else bench.add("peer", c.peer).add("ours", c.ours);
      await bench.run();
      const o = bench.getTask("ours")?.result;
      const p = bench.getTask("peer")?.result;
      const om = o && "latency" in o ? o.latency.mean : NaN;
      const pm = p && "latency" in p ? p.latency.mean : NaN;
      samples.push(om / pm);
      oursMean += om;
      peerMean += pm;
    }
    samples.sort((a, b) => a - b);
    const ratio = samples[Math.floor(samples.length / 2)] ?? NaN;
    ratios.push(ratio);
    const target = c.target === undefined ? "" : ` (target <= ${c.target}x: ${ratio <= c.target ? "met" : "NOT met"})`;
    const rounds = opts.rounds ?? 3;
    console.log(
      `${c.label}: ${ratio.toFixed(2)}x ${c.peerName}${target}  [ours ${fmt(oursMean / rounds)}, ${c.peerName} ${fmt(peerMean / rounds)} per op, median of ${rounds} rounds]`,
    );
  }
  return ratios;
}

function fmt(ms: number): string {
  return ms < 0.001 ? `${(ms * 1e6).toFixed(0)} ns` : ms < 1 ? `${(ms * 1e3).toFixed(2)} µs` : `${ms.toFixed(2)} ms`;
}

/** Prints a reported (not compared) figure. */
export function figure(label: string, value: string): void {
  console.log(`${label}: ${value}`);
}
